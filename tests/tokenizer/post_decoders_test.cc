// Unit tests for the decoders and post-processors. Expected values come from HF
// tokenizers 0.23.2 (Node binding); tests/tokenizer/test_models_hf.py compares
// them over many random inputs.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tokenizer/components.h"

namespace keel::tok {
namespace {

using nlohmann::json;

std::string decode(const std::string& decoder, std::vector<std::string> tokens) {
  auto d = make_decoder(json::parse(decoder), "decoder");
  if (!d.ok()) return "LOAD ERROR: " + d.error();
  Status s = (*d)->decode_chain(tokens);
  if (!s.ok()) return "ERROR: " + s.message();
  std::string out;
  for (const auto& t : tokens) out += t;
  return out;
}

TEST(Decoders, ByteLevel) {
  const char* d = R"({"type":"ByteLevel","add_prefix_space":false,"trim_offsets":false})";
  EXPECT_EQ(decode(d, {"Ġhello", "Ġw", "orld", "Ċ", "âĢ", "ľ", "é"}), " hello world\n\u201c\uFFFD");
  EXPECT_EQ(decode(d, {"âĢ", "Ġx", "ã"}), "\uFFFD x\uFFFD");
  // A token with a char outside the alphabet keeps its own bytes.
  EXPECT_EQ(decode(d, {"Ã", "Ġ", "\u00ff", "x", "a\u4e00"}), "\uFFFD \uFFFDxa\u4e00");
  EXPECT_EQ(decode(R"({"type":"ByteLevel"})", {"a"}).rfind("LOAD ERROR", 0), 0u);
}

TEST(Decoders, ByteFallback) {
  EXPECT_EQ(decode(R"({"type":"ByteFallback"})", {"<0xE5>", "<0x8F>", "<0xAB>", "a", "<0xE5>", "<0x8F>", "b",
                                                  "<0x61>", "<0xZZ>", "<0x6>", "<0x61>"}),
            "叫a\uFFFD\uFFFDba<0xZZ><0x6>a");
  EXPECT_EQ(decode(R"({"type":"ByteFallback"})", {"<0x+F>", "<0x-1>", "<0x0a>", "<0x41>"}), "\x0f<0x-1>\nA");
}

TEST(Decoders, WordPieceAndCtc) {
  EXPECT_EQ(decode(R"({"type":"WordPiece","prefix":"##","cleanup":true})",
                   {"##a", "b", "##c", "do", "not", ".", "'", "s"}),
            "##a bc do not. ' s");
  EXPECT_EQ(decode(R"({"type":"CTC","pad_token":"<pad>","word_delimiter_token":"|","cleanup":true})",
                   {"<pad>", "h", "h", "e", "|", "|", "l", "<pad>", "l", "o", "<pad>"}),
            "he llo");
  // Empty patterns behave like Rust's str::replace (insert everywhere).
  EXPECT_EQ(decode(R"({"type":"CTC","pad_token":"","word_delimiter_token":"","cleanup":true})", {"ab", "c"}),
            " a b  c ");
}

TEST(Decoders, Metaspace) {
  auto ms = [](const char* scheme) {
    return std::string(R"({"type":"Metaspace","replacement":"▁","split":true,"prepend_scheme":")") + scheme + "\"}";
  };
  // Every replacement char of the first token is dropped unless scheme is never.
  EXPECT_EQ(decode(ms("always"), {"▁a▁b", "▁c", "d▁"}), "ab cd ");
  EXPECT_EQ(decode(ms("first"), {"a▁b", "▁c"}), "ab c");
  EXPECT_EQ(decode(ms("never"), {"▁a▁b", "▁c", "d▁"}), " a b cd ");
  EXPECT_EQ(decode(R"({"type":"Metaspace","replacement":"▁","add_prefix_space":true,"str_rep":"▁"})", {"▁a", "▁c"}),
            "a c");
  // add_prefix_space false contradicts the default scheme (always).
  EXPECT_EQ(decode(R"({"type":"Metaspace","replacement":"▁","add_prefix_space":false})", {"a"}).rfind("LOAD", 0), 0u);
}

TEST(Decoders, SmallOnes) {
  EXPECT_EQ(decode(R"({"type":"BPEDecoder","suffix":"</w>"})", {"a</w>", "b", "c</w>", "d</w>"}), "a bc d");
  EXPECT_EQ(decode(R"({"type":"Fuse"})", {"a", "b"}), "ab");
  EXPECT_EQ(decode(R"({"type":"Strip","content":" ","start":2,"stop":1})", {"  a ", "   b  ", "xx ", "x", " a"}),
            "a b xxxa");
  EXPECT_EQ(decode(R"({"type":"Replace","pattern":{"String":"▁"},"content":" "})", {"▁a", "b▁▁"}), " ab  ");
  EXPECT_EQ(decode(R"({"type":"Replace","pattern":{"Regex":"a+"},"content":"X"})", {"aab", "baaa"}), "XbbX");
  EXPECT_EQ(decode(R"({"type":"Replace","pattern":{"String":""},"content":"-"})", {"ab", "c"}), "-a-b--c-");
  EXPECT_EQ(decode(R"({"type":"Replace","pattern":{"Regex":"x*"},"content":"-"})", {"ab", "c"}), "-a-b--c-");
}

TEST(Decoders, LlamaSequence) {
  EXPECT_EQ(decode(R"({"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},
      {"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]})",
                   {"▁Hello", "<0xE5>", "▁world"}),
            "Hello\uFFFD world");
}

TEST(Decoders, UntaggedFallbackAndErrors) {
  EXPECT_EQ(decode(R"({"suffix":"#"})", {"##a", "#b#", "c"}), "  a b c");
  EXPECT_EQ(decode(R"({"prefix":"##","cleanup":true})", {"##a", "#b#", "c"}), "##a #b# c");
  EXPECT_EQ(decode(R"({"pad_token":"a","word_delimiter_token":"b","cleanup":true})", {"##a", "#b#", "c"}), "### #c");
  EXPECT_EQ(decode(R"({"content":"#","start":1,"stop":0})", {"##a", "#b#", "c"}), "#ab#c");
  for (const char* bad : {R"({})", R"({"type":"Nope"})", R"({"type":"Sequence"})",
                          R"({"type":"Strip","content":"ab","start":1,"stop":0})",
                          R"({"type":"Replace","pattern":{"String":"a","Regex":"b"},"content":"x"})",
                          R"({"type":"Sequence","decoders":[{"type":"Fuse"},{"type":"Nope"}]})"})
    EXPECT_EQ(decode(bad, {"a"}).rfind("LOAD ERROR", 0), 0u) << bad;
  EXPECT_NE(decode(R"({"type":"Sequence","decoders":[{"type":"Fuse"},{"type":"Nope"}]})", {"a"})
                .find("decoder.decoders[1].type"),
            std::string::npos);
}

// --- post-processors ---------------------------------------------------------

Encoding words(std::vector<std::pair<std::string, uint32_t>> toks, uint32_t type_id) {
  Encoding e;
  size_t pos = 0;
  uint32_t w = 0;
  for (auto& [t, id] : toks) {
    e.ids.push_back(id);
    e.tokens.push_back(t);
    e.offsets.emplace_back(pos, pos + t.size());
    pos += t.size() + 1;
    e.type_ids.push_back(type_id);
    e.special_tokens_mask.push_back(0);
    e.attention_mask.push_back(1);
    e.word_ids.push_back(w++);
    e.sequence_ids.push_back(std::nullopt);
  }
  return e;
}

Encoding process(const std::string& pp, bool pair, bool add_special) {
  auto p = make_post_processor(json::parse(pp), "post_processor");
  EXPECT_TRUE(p.ok()) << p.error();
  std::optional<Encoding> b;
  if (pair) b = words({{"a", 2}, {"b", 3}}, 1);
  auto r = (*p)->process(words({{"hello", 0}, {"world", 1}}, 0), std::move(b), add_special);
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? std::move(*r) : Encoding{};
}

using Ids = std::vector<uint32_t>;
using Mask = std::vector<uint8_t>;

const char* kBertTemplate = R"({"type":"TemplateProcessing",
  "single":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[SEP]","type_id":0}}],
  "pair":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[SEP]","type_id":0}},
          {"Sequence":{"id":"B","type_id":1}},{"SpecialToken":{"id":"[SEP]","type_id":1}}],
  "special_tokens":{"[CLS]":{"id":"[CLS]","ids":[9],"tokens":["[CLS]"]},"[SEP]":{"id":"[SEP]","ids":[10],"tokens":["[SEP]"]}}})";

TEST(PostProcessors, TemplateAndBertAgree) {
  // HF: [9,0,1,10,2,3,10], type ids [0,0,0,0,1,1,1], special mask [1,0,0,1,0,0,1]
  for (const char* pp : {kBertTemplate, R"({"type":"BertProcessing","sep":["[SEP]",10],"cls":["[CLS]",9]})"}) {
    Encoding e = process(pp, true, true);
    EXPECT_EQ(e.ids, (Ids{9, 0, 1, 10, 2, 3, 10})) << pp;
    EXPECT_EQ(e.type_ids, (Ids{0, 0, 0, 0, 1, 1, 1})) << pp;
    EXPECT_EQ(e.special_tokens_mask, (Mask{1, 0, 0, 1, 0, 0, 1})) << pp;
    EXPECT_EQ(e.attention_mask, (Mask(7, 1))) << pp;
    EXPECT_EQ(e.offsets[4], (std::pair<size_t, size_t>(0, 1))) << pp;
    EXPECT_FALSE(e.word_ids[0].has_value());
    EXPECT_EQ(e.word_ids[5], 1u);
    EXPECT_EQ(e.sequence_ids[1], 0u);
    EXPECT_EQ(e.sequence_ids[4], 1u);
    EXPECT_FALSE(e.sequence_ids[3].has_value());
    Encoding plain = process(pp, true, false);
    EXPECT_EQ(plain.ids, (Ids{0, 1, 2, 3})) << pp;
    EXPECT_EQ(plain.type_ids, (Ids{0, 0, 1, 1})) << pp;
  }
  auto p = make_post_processor(json::parse(kBertTemplate), "pp");
  EXPECT_EQ((*p)->added_tokens(false), 2u);
  EXPECT_EQ((*p)->added_tokens(true), 3u);
}

TEST(PostProcessors, TemplateOverflowKeepsItsTypeIds) {
  // HF sets the template's type ids on each input, not on its overflowing
  // windows, then pairs the windows when merging.
  auto p = make_post_processor(json::parse(R"({"type":"TemplateProcessing","single":[{"Sequence":{"id":"A","type_id":3}}],
    "pair":[{"Sequence":{"id":"A","type_id":4}},{"SpecialToken":{"id":"X","type_id":7}},{"Sequence":{"id":"B","type_id":5}}],
    "special_tokens":{"X":{"id":"X","ids":[9],"tokens":["[CLS]"]}}})"), "pp");
  ASSERT_TRUE(p.ok()) << p.error();
  Encoding a = words({{"d", 5}, {"e", 6}}, 0);
  a.overflowing.push_back(words({{"e", 6}, {"f", 7}}, 0));
  auto r = (*p)->process(std::move(a), words({{"hello", 0}}, 1), true);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->ids, (Ids{5, 6, 9, 0}));
  EXPECT_EQ(r->type_ids, (Ids{4, 4, 7, 5}));
  ASSERT_EQ(r->overflowing.size(), 1u);
  EXPECT_EQ(r->overflowing[0].ids, (Ids{6, 7, 9, 0}));
  EXPECT_EQ(r->overflowing[0].type_ids, (Ids{0, 0, 7, 5}));
}

TEST(PostProcessors, Roberta) {
  // HF: [11,0,1,12,12,2,3,12], all type ids 0
  const char* rob = R"({"type":"RobertaProcessing","sep":["</s>",12],"cls":["<s>",11],"trim_offsets":true,
    "add_prefix_space":true})";
  Encoding e = process(rob, true, true);
  EXPECT_EQ(e.ids, (Ids{11, 0, 1, 12, 12, 2, 3, 12}));
  EXPECT_EQ(e.type_ids, (Ids(8, 0)));
  EXPECT_EQ(e.special_tokens_mask, (Mask{1, 0, 0, 1, 1, 0, 0, 1}));
  Encoding plain = process(rob, true, false);
  EXPECT_EQ(plain.type_ids, (Ids(4, 0)));
  // Without trim_offsets/add_prefix_space HF's untagged deserializer falls
  // through to BertProcessing, whatever "type" says: [CLS] A [SEP] B [SEP].
  Encoding as_bert = process(R"({"type":"RobertaProcessing","sep":["</s>",12],"cls":["<s>",11]})", true, true);
  EXPECT_EQ(as_bert.ids, (Ids{11, 0, 1, 12, 2, 3, 12}));
  EXPECT_EQ(as_bert.type_ids, (Ids{0, 0, 0, 0, 1, 1, 1}));
}

TEST(PostProcessors, TrimOffsets) {
  auto p = make_post_processor(json::parse(R"({"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true})"), "pp");
  ASSERT_TRUE(p.ok());
  Encoding e;
  // Tokens "Ġhello" (first: its single space is the added prefix, kept),
  // "Ġworld" -> skip the space, "xĠĠ" -> drop two trailing spaces, and a wide
  // space (one char: offsets are code points here, as in HF).
  for (auto [tok, a, b] : std::vector<std::tuple<std::string, size_t, size_t>>{
           {"Ġhello", 0, 5}, {"Ġworld", 5, 11}, {"xĠĠ", 11, 14}, {"\u3000y", 14, 18}}) {
    e.ids.push_back(0);
    e.tokens.push_back(tok);
    e.offsets.emplace_back(a, b);
    e.type_ids.push_back(0);
    e.special_tokens_mask.push_back(0);
    e.attention_mask.push_back(1);
    e.word_ids.push_back(std::nullopt);
    e.sequence_ids.push_back(std::nullopt);
  }
  auto r = (*p)->process(std::move(e), std::nullopt, true);
  ASSERT_TRUE(r.ok());
  using Off = std::vector<std::pair<size_t, size_t>>;
  EXPECT_EQ(r->offsets, (Off{{0, 5}, {6, 11}, {11, 12}, {15, 18}}));
}

TEST(PostProcessors, UntaggedAndErrors) {
  // Without "type": Roberta needs all four fields, else Bert, else Template.
  Encoding bert = process(R"({"sep":["[SEP]",10],"cls":["[CLS]",9],"trim_offsets":true})", true, true);
  EXPECT_EQ(bert.ids, (Ids{9, 0, 1, 10, 2, 3, 10}));
  Encoding rob = process(R"({"sep":["</s>",12],"cls":["<s>",11],"trim_offsets":true,"add_prefix_space":true})", true, true);
  EXPECT_EQ(rob.ids, (Ids{11, 0, 1, 12, 12, 2, 3, 12}));
  for (const char* bad : {R"({"type":"ByteLevel"})", R"({"type":"RobertaProcessing","sep":["</s>",12]})",
                          R"({"type":"Sequence","sep":["</s>",12]})",
                          R"({"type":"Nope"})", R"({"add_prefix_space":true,"trim_offsets":true})",
                          R"({"type":"TemplateProcessing","single":"[CLS] $A","pair":[],"special_tokens":{}})",
                          R"({"type":"TemplateProcessing","single":[{"Sequence":{"id":"C","type_id":0}}],"pair":[],"special_tokens":{}})",
                          R"({"type":"TemplateProcessing","single":[],"pair":[],"special_tokens":{"X":{"id":"X","ids":[1,2],"tokens":["a"]}}})"})
    EXPECT_FALSE(make_post_processor(json::parse(bad), "pp").ok()) << bad;
  // A template naming an undefined special token fails when it is needed.
  auto p = make_post_processor(json::parse(R"({"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"X","type_id":0}},
    {"Sequence":{"id":"A","type_id":0}}],"pair":[],"special_tokens":{}})"), "pp");
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE((*p)->process(words({{"a", 1}}, 0), std::nullopt, true).ok());
  EXPECT_TRUE((*p)->process(words({{"a", 1}}, 0), std::nullopt, false).ok());
}

}  // namespace
}  // namespace keel::tok
