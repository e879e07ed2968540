// Unit tests for the tokenizer models. Expected values come from HF tokenizers
// 0.23.2 (the Node binding, tokenizer.json with only the model set); the full
// comparison over thousands of inputs is tests/tokenizer/test_models_hf.py.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tokenizer/components.h"

namespace keel::tok {
namespace {

using nlohmann::json;

struct Tok {
  uint32_t id;
  std::string value;
  size_t a, b;
  bool operator==(const Tok& o) const { return id == o.id && value == o.value && a == o.a && b == o.b; }
};

std::ostream& operator<<(std::ostream& os, const Tok& t) {
  return os << "{" << t.id << ", \"" << t.value << "\", " << t.a << ", " << t.b << "}";
}

std::unique_ptr<Model> model(const std::string& text) {
  auto m = make_model(json::parse(text), "model");
  EXPECT_TRUE(m.ok()) << m.error();
  return m.ok() ? std::move(*m) : nullptr;
}

std::vector<Tok> run(const Model& m, std::string_view s) {
  std::vector<Token> out;
  Status st = m.tokenize(s, out);
  EXPECT_TRUE(st.ok()) << st.message();
  std::vector<Tok> r;
  for (const Token& t : out) r.push_back({t.id, t.value, t.offsets.first, t.offsets.second});
  return r;
}

std::string load_error(const std::string& text) {
  auto m = make_model(json::parse(text), "model");
  return m.ok() ? "" : m.error();
}

TEST(BpeModel, MergesByRank) {
  auto m = model(R"({"type":"BPE","vocab":{"u":0,"n":1,"r":2,"e":3,"l":4,"a":5,"t":6,"d":7,"re":8,"at":9,
    "ed":10,"un":11,"ated":12,"rel":13,"related":14,"unrelated":15},
    "merges":["r e","a t","e d","u n","at ed","re l","rel ated","un related"]})");
  EXPECT_EQ(run(*m, "unrelated"), (std::vector<Tok>{{15, "unrelated", 0, 9}}));
  EXPECT_EQ(run(*m, "reed"), (std::vector<Tok>{{8, "re", 0, 2}, {10, "ed", 2, 4}}));
  EXPECT_TRUE(run(*m, "").empty());
}

TEST(BpeModel, DuplicateMergeTakesLaterRank) {
  // HF: {"a":0,"b":1,"ab":2,"c":3,"bc":4}, merges ["b c","a b","b c"] on "abc" -> ab, c
  auto m = model(R"({"type":"BPE","vocab":{"a":0,"b":1,"ab":2,"c":3,"bc":4},"merges":["b c","a b","b c"]})");
  EXPECT_EQ(run(*m, "abc"), (std::vector<Tok>{{2, "ab", 0, 2}, {3, "c", 2, 3}}));
}

TEST(BpeModel, NewMergesFormatAndVersionLine) {
  auto m = model(R"({"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":[["a","b"]]})");
  EXPECT_EQ(run(*m, "ab"), (std::vector<Tok>{{2, "ab", 0, 2}}));
  auto v = model(R"({"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["#version: 0.2","a b"]})");
  EXPECT_EQ(run(*v, "ab"), (std::vector<Tok>{{2, "ab", 0, 2}}));
}

TEST(BpeModel, UnknownCharacters) {
  // No unk_token: unknown chars vanish, and offsets, summed from the kept
  // symbols' lengths, no longer line up (HF: "abca" -> a (0,1), a (1,2)).
  auto none = model(R"({"type":"BPE","vocab":{"a":0},"merges":[]})");
  EXPECT_EQ(run(*none, "abca"), (std::vector<Tok>{{0, "a", 0, 1}, {0, "a", 1, 2}}));
  // Not fused: one unk per char. Fused: runs become one unk (HF: "xxaxé").
  auto unfused = model(R"({"type":"BPE","vocab":{"<unk>":0,"a":1},"merges":[],"unk_token":"<unk>"})");
  EXPECT_EQ(run(*unfused, "xa"), (std::vector<Tok>{{0, "<unk>", 0, 1}, {1, "a", 1, 2}}));
  auto fused = model(R"({"type":"BPE","vocab":{"<unk>":0,"a":1},"merges":[],"unk_token":"<unk>","fuse_unk":true})");
  EXPECT_EQ(run(*fused, "xxaxé"), (std::vector<Tok>{{0, "<unk>", 0, 2}, {1, "a", 2, 3}, {0, "<unk>", 3, 6}}));
  // unk_token missing from the vocab: an encode-time error, as in HF.
  auto missing = model(R"({"type":"BPE","vocab":{"a":0},"merges":[],"unk_token":"<unk>"})");
  std::vector<Token> out;
  EXPECT_FALSE(missing->tokenize("ab", out).ok());
}

TEST(BpeModel, ByteFallback) {
  auto m = model(R"({"type":"BPE","vocab":{"<unk>":0,"a":1,"<0xC3>":2,"<0xA9>":3},"merges":[],
    "unk_token":"<unk>","byte_fallback":true})");
  EXPECT_EQ(run(*m, "aé"), (std::vector<Tok>{{1, "a", 0, 1}, {2, "<0xC3>", 1, 2}, {3, "<0xA9>", 2, 3}}));
  EXPECT_EQ(run(*m, "x"), (std::vector<Tok>{{0, "<unk>", 0, 1}}));
  // With a prefix, the prefix's bytes are looked up too and each byte token
  // counts one byte (HF: offsets run past the word).
  auto p = model(R"({"type":"BPE","vocab":{"a":0,"<0x23>":1,"<0x62>":2},"merges":[],
    "continuing_subword_prefix":"#","byte_fallback":true})");
  EXPECT_EQ(run(*p, "ab"), (std::vector<Tok>{{0, "a", 0, 1}, {1, "<0x23>", 1, 2}, {2, "<0x62>", 2, 3}}));
}

TEST(BpeModel, PrefixSuffixIgnoreMerges) {
  auto pre = model(R"({"type":"BPE","vocab":{"a":0,"##b":1,"ab":2},"merges":["a ##b"],"continuing_subword_prefix":"##"})");
  EXPECT_EQ(run(*pre, "ab"), (std::vector<Tok>{{2, "ab", 0, 2}}));
  // HF: "abab" with end_of_word_suffix </w> -> a, b, ab</w>
  auto suf = model(R"({"type":"BPE","vocab":{"a":0,"b</w>":1,"ab</w>":2,"b":3},"merges":["a b</w>"],
    "end_of_word_suffix":"</w>"})");
  EXPECT_EQ(run(*suf, "abab"), (std::vector<Tok>{{0, "a", 0, 1}, {3, "b", 1, 2}, {2, "ab</w>", 2, 4}}));
  auto ig = model(R"({"type":"BPE","vocab":{"a":0,"b":1,"abab":2},"merges":[],"ignore_merges":true})");
  EXPECT_EQ(run(*ig, "abab"), (std::vector<Tok>{{2, "abab", 0, 4}}));
}

TEST(BpeModel, Dropout) {
  // dropout 1: no merge ever happens (deterministic in HF too).
  auto m = model(R"({"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"],"dropout":1.0})");
  EXPECT_EQ(run(*m, "ab"), (std::vector<Tok>{{0, "a", 0, 1}, {1, "b", 1, 2}}));
  EXPECT_NE(load_error(R"({"type":"BPE","vocab":{"a":1},"merges":[],"dropout":2})"), "");
}

TEST(BpeModel, CacheIsConsistentAcrossCalls) {
  auto m = model(R"({"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]})");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(run(*m, "abab"), (std::vector<Tok>{{2, "ab", 0, 2}, {2, "ab", 2, 4}}));
}

TEST(BpeModel, LoadErrorsNameThePath) {
  EXPECT_NE(load_error(R"({"type":"BPE","vocab":{"a":0}})").find("merges"), std::string::npos);
  EXPECT_NE(load_error(R"({"type":"BPE","vocab":{"a":0},"merges":["a b"]})").find("model.merges[0]"),
            std::string::npos);
  EXPECT_NE(load_error(R"({"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b c"]})"), "");
  EXPECT_NE(load_error(R"({"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b",["a","b"]]})"), "");
  EXPECT_NE(load_error(R"({"type":"BPE","vocab":{"a":-1},"merges":[]})").find("model.vocab[\"a\"]"),
            std::string::npos);
  EXPECT_NE(load_error(R"({"type":"BPE","vocab":{"a":1.0},"merges":[]})"), "");
  EXPECT_NE(load_error(R"({"type":"Nope"})").find("Nope"), std::string::npos);
  EXPECT_NE(load_error(R"([1,2])"), "");
}

TEST(WordPieceModel, GreedyLongestMatch) {
  auto m = model(R"({"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##",
    "max_input_chars_per_word":100,"vocab":{"[UNK]":0,"un":1,"##aff":2,"##able":3,"a":4,"##a":5}})");
  EXPECT_EQ(run(*m, "unaffable"), (std::vector<Tok>{{1, "un", 0, 2}, {2, "##aff", 2, 5}, {3, "##able", 5, 9}}));
  EXPECT_EQ(run(*m, "aa"), (std::vector<Tok>{{4, "a", 0, 1}, {5, "##a", 1, 2}}));
  EXPECT_EQ(run(*m, "unx"), (std::vector<Tok>{{0, "[UNK]", 0, 3}}));  // any miss -> whole word unk
  EXPECT_TRUE(run(*m, "").empty());
}

TEST(WordPieceModel, MaxCharsAndMissingUnk) {
  // HF: max_input_chars_per_word 3: "aaaa" -> [UNK] (0, 4); "aaa" -> a ##a ##a
  auto m = model(R"({"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##",
    "max_input_chars_per_word":3,"vocab":{"a":0,"##a":1,"[UNK]":5}})");
  EXPECT_EQ(run(*m, "aaaa"), (std::vector<Tok>{{5, "[UNK]", 0, 4}}));
  EXPECT_EQ(run(*m, "aaa"), (std::vector<Tok>{{0, "a", 0, 1}, {1, "##a", 1, 2}, {1, "##a", 2, 3}}));
  auto nounk = model(R"({"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##",
    "max_input_chars_per_word":100,"vocab":{"a":0}})");
  std::vector<Token> out;
  EXPECT_FALSE(nounk->tokenize("ab", out).ok());
  // All four fields are required (HF's serde).
  EXPECT_NE(load_error(R"({"type":"WordPiece","vocab":{"a":0},"unk_token":"x","continuing_subword_prefix":"##"})"), "");
}

TEST(WordLevelModel, WholeWords) {
  auto m = model(R"({"type":"WordLevel","vocab":{"a":0,"<unk>":1,"hello":2},"unk_token":"<unk>"})");
  EXPECT_EQ(run(*m, "hello"), (std::vector<Tok>{{2, "hello", 0, 5}}));
  EXPECT_EQ(run(*m, "world"), (std::vector<Tok>{{1, "<unk>", 0, 5}}));
  EXPECT_NE(load_error(R"({"type":"WordLevel","vocab":{"a":0}})"), "");
}

TEST(UnigramModel, ViterbiAndUnkFusing) {
  // HF: vocab [<unk> 0, a -1, b -2], unk_id 0, "abccab" -> a b cc a b (cc is one fused unk, id 0)
  auto m = model(R"({"type":"Unigram","unk_id":0,"vocab":[["<unk>",0],["a",-1],["b",-2]]})");
  EXPECT_EQ(run(*m, "abccab"), (std::vector<Tok>{{1, "a", 0, 1}, {2, "b", 1, 2}, {0, "cc", 2, 4},
                                                 {1, "a", 4, 5}, {2, "b", 5, 6}}));
  // SentencePiece's doc example: best path abcd / a / cd / xx.
  auto sp = model(R"({"type":"Unigram","unk_id":0,"vocab":[["<unk>",0],["a",0],["b",0],["c",0],["d",0],
    ["cd",1],["ab",2],["abc",5],["abcd",10]]})");
  auto r = run(*sp, "abcdacdxx");
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].value, "abcd");
  EXPECT_EQ(r[2].value, "cd");
  EXPECT_EQ(r[3], (Tok{0, "xx", 7, 9}));
}

TEST(UnigramModel, ByteFallbackAndErrors) {
  // HF: "acéx" -> a, then the fused unknown "céx"... with <0x63>,<0xC3>,<0xA9> but no 'x' byte: unk
  auto m = model(R"({"type":"Unigram","unk_id":0,"byte_fallback":true,"vocab":[["<unk>",0],["a",-1],
    ["<0x63>",-2],["<0xC3>",-2],["<0xA9>",-2]]})");
  EXPECT_EQ(run(*m, "acéx"), (std::vector<Tok>{{1, "a", 0, 1}, {0, "céx", 1, 5}}));
  EXPECT_EQ(run(*m, "aé"), (std::vector<Tok>{{1, "a", 0, 1}, {3, "<0xC3>", 1, 3}, {4, "<0xA9>", 1, 3}}));
  // No unk_id: unknown chars are an encode-time error.
  auto nounk = model(R"({"type":"Unigram","vocab":[["a",0]]})");
  std::vector<Token> out;
  EXPECT_FALSE(nounk->tokenize("ab", out).ok());
  EXPECT_NE(load_error(R"({"type":"Unigram","unk_id":1,"vocab":[["a",0]]})"), "");
  EXPECT_NE(load_error(R"({"type":"Unigram","unk_id":0,"vocab":[["a","x"]]})").find("model.vocab[0]"),
            std::string::npos);
}

TEST(UnigramModel, DuplicatePiecesUseTheLastId) {
  auto m = model(R"({"type":"Unigram","unk_id":0,"vocab":[["<unk>",0],["a",-1],["a",-5],["b",-1]]})");
  EXPECT_EQ(run(*m, "ab"), (std::vector<Tok>{{2, "a", 0, 1}, {3, "b", 1, 2}}));
  EXPECT_EQ(m->vocab_size(), 4u);
  EXPECT_EQ(m->id_to_token(1), "a");
  EXPECT_EQ(m->token_to_id("a"), 2u);
}

TEST(ModelFactory, OldSerializationsWithoutType) {
  // merges -> BPE; all WordPiece fields -> WordPiece; vocab + unk_token ->
  // WordLevel (also when a BPE reading fails); vocab as pairs -> Unigram.
  auto bpe = model(R"({"vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]})");
  EXPECT_EQ(run(*bpe, "ab"), (std::vector<Tok>{{2, "ab", 0, 2}}));
  auto wp = model(R"({"vocab":{"a":0,"##b":1},"unk_token":"[UNK]","continuing_subword_prefix":"##",
    "max_input_chars_per_word":100})");
  EXPECT_EQ(run(*wp, "ab"), (std::vector<Tok>{{0, "a", 0, 1}, {1, "##b", 1, 2}}));
  auto wl = model(R"({"vocab":{"a":0,"##b":1,"[UNK]":2},"unk_token":"[UNK]","continuing_subword_prefix":"##"})");
  EXPECT_EQ(run(*wl, "ab"), (std::vector<Tok>{{2, "[UNK]", 0, 2}}));
  auto wl2 = model(R"({"vocab":{"a":0,"x":1},"merges":["a b"],"unk_token":"x"})");
  EXPECT_EQ(run(*wl2, "ab"), (std::vector<Tok>{{1, "x", 0, 2}}));
  auto uni = model(R"({"vocab":[["a",0],["b",0]],"unk_id":null})");
  EXPECT_EQ(run(*uni, "ab"), (std::vector<Tok>{{0, "a", 0, 1}, {1, "b", 1, 2}}));
  EXPECT_NE(load_error(R"({"vocab":{"a":0}})"), "");
}

}  // namespace
}  // namespace keel::tok
