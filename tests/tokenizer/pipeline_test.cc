// The encode/decode pipeline on small tokenizer.json files; every expected value
// was produced by HF tokenizers 0.23.2 (Node binding) on the same input.
#include "tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace keel::tok {
namespace {

using Offsets = std::vector<std::pair<size_t, size_t>>;

// WordLevel over single chars (Split "." Isolated), two added tokens: XX
// (special, not normalized) and YY (normalized). Their JSON ids are ignored by
// HF: they get ids after the model's vocab, in order.
std::string char_tokenizer(const std::string& extra_added, const std::string& normalizer,
                           const std::string& padding = "null") {
  return R"({"version":"1.0","truncation":null,"padding":)" + padding + R"(,
 "added_tokens":[{"id":7,"content":"XX","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
                 {"id":3,"content":"YY","single_word":false,"lstrip":false,"rstrip":false,"normalized":true,"special":false})" +
         extra_added + R"(],
 "normalizer":)" + normalizer + R"(,"pre_tokenizer":{"type":"Split","pattern":{"Regex":"."},"behavior":"Isolated","invert":false},
 "post_processor":null,"decoder":null,
 "model":{"type":"WordLevel","vocab":{"a":0,"b":1,"[UNK]":2},"unk_token":"[UNK]"}})";
}

TEST(Pipeline, AddedTokensGetIdsAfterTheVocab) {
  auto t = Tokenizer::from_json(char_tokenizer("", "null"));
  ASSERT_TRUE(t.ok()) << t.error();
  auto e = t->encode("aXXbYYa");
  ASSERT_TRUE(e.ok()) << e.error();
  EXPECT_EQ(e->ids, (std::vector<uint32_t>{0, 3, 1, 4, 0}));
  EXPECT_EQ(e->tokens, (std::vector<std::string>{"a", "XX", "b", "YY", "a"}));
  EXPECT_EQ(e->offsets, (Offsets{{0, 1}, {1, 3}, {3, 4}, {4, 6}, {6, 7}}));
  // Added tokens found in the input are not "special" in the mask.
  EXPECT_EQ(e->special_tokens_mask, (std::vector<uint8_t>{0, 0, 0, 0, 0}));
  EXPECT_EQ(t->token_to_id("YY"), 4u);
  EXPECT_EQ(t->id_to_token(3), "XX");
}

TEST(Pipeline, StripAndSingleWordAddedTokens) {
  const std::string mask =
      R"(,{"id":9,"content":"<mask>","single_word":true,"lstrip":true,"rstrip":true,"normalized":false,"special":true})";
  auto t = Tokenizer::from_json(char_tokenizer(mask, R"({"type":"Lowercase"})"));
  ASSERT_TRUE(t.ok()) << t.error();
  auto e = t->encode("Hi <mask> there\t<mask>\t<mask>\u2000");
  ASSERT_TRUE(e.ok()) << e.error();
  // The stripped whitespace joins the token, in its string and its offsets.
  EXPECT_EQ(e->tokens, (std::vector<std::string>{"[UNK]", "[UNK]", " <mask> ", "[UNK]", "[UNK]", "[UNK]",
                                                 "[UNK]", "[UNK]", "\t<mask>\t", "<mask>\u2000"}));
  EXPECT_EQ(e->offsets, (Offsets{{0, 1}, {1, 2}, {2, 10}, {10, 11}, {11, 12}, {12, 13}, {13, 14},
                                 {14, 15}, {15, 23}, {23, 30}}));
  // single_word: "a<mask>" and "<mask>b" are not the token; YY matches "yy"
  // after lowercasing (normalized).
  auto f = t->encode("aYYbyy a<mask> <mask>b");
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_EQ(f->tokens[1], "yy");
  EXPECT_EQ(f->tokens[3], "yy");
  for (const auto& tok : f->tokens) EXPECT_NE(tok, "<mask>");
}

TEST(Pipeline, OffsetsAreCodePoints) {
  const char* path = KEEL_SHARED_MODELS "/gpt2/tokenizer.json";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no " << path;
  auto t = Tokenizer::from_file(path);
  ASSERT_TRUE(t.ok()) << t.error();
  auto e = t->encode("Hello world 😁 東京");
  ASSERT_TRUE(e.ok()) << e.error();
  EXPECT_EQ(e->ids, (std::vector<uint32_t>{15496, 995, 30325, 223, 10545, 251, 109, 12859, 105}));
  // Byte-level pieces of one char report that char.
  EXPECT_EQ(e->offsets, (Offsets{{0, 5}, {5, 11}, {11, 13}, {12, 13}, {13, 15}, {14, 15}, {14, 15},
                                 {15, 16}, {15, 16}}));
  EXPECT_EQ(e->word_ids[3], 2u);
  std::vector<uint32_t> ids = {15496, 995};
  EXPECT_EQ(t->decode(ids, false).value(), "Hello world");
}

TEST(Pipeline, BatchPaddingAndDecode) {
  auto t = Tokenizer::from_json(char_tokenizer(
      "", "null",
      R"({"strategy":"BatchLongest","direction":"Left","pad_to_multiple_of":4,"pad_id":2,"pad_type_id":1,"pad_token":"[UNK]"})"));
  ASSERT_TRUE(t.ok()) << t.error();
  std::vector<std::string_view> texts = {"ab", "aXXb"};
  auto b = t->encode_batch(texts);
  ASSERT_TRUE(b.ok()) << b.error();
  EXPECT_EQ((*b)[0].ids, (std::vector<uint32_t>{2, 2, 0, 1}));
  EXPECT_EQ((*b)[0].type_ids, (std::vector<uint32_t>{1, 1, 0, 0}));
  EXPECT_EQ((*b)[0].attention_mask, (std::vector<uint8_t>{0, 0, 1, 1}));
  EXPECT_EQ((*b)[1].ids, (std::vector<uint32_t>{2, 0, 3, 1}));
  // No decoder: tokens joined by spaces; unknown ids skipped; only special
  // added tokens are dropped by skip_special_tokens.
  std::vector<uint32_t> ids = {0, 3, 1, 4, 99};
  EXPECT_EQ(t->decode(ids, true).value(), "a b YY");
  EXPECT_EQ(t->decode(ids, false).value(), "a XX b YY");
}

std::string bert_with_truncation(const std::string& strategy, const std::string& direction, int max_length) {
  const char* path = KEEL_SHARED_MODELS "/all-MiniLM-L6-v2/tokenizer.json";
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Replace the file's truncation/padding with ours (HF reads the last key).
  auto pos = text.rfind('}');
  return text.substr(0, pos) + R"(,"padding":null,"post_processor":null,"truncation":{"direction":")" + direction +
         R"(","max_length":)" + std::to_string(max_length) + R"(,"strategy":")" + strategy +
         R"(","stride":0}})";
}

std::string joined(const Encoding& e) {
  std::string s;
  for (const auto& t : e.tokens) s += (s.empty() ? "" : " ") + t;
  for (const auto& o : e.overflowing) s += " | " + joined(o);
  return s;
}

// HF 0.23 cuts each input to the words that reach max_length before truncating.
TEST(Pipeline, TruncationMatrix) {
  if (!std::filesystem::exists(KEEL_SHARED_MODELS "/all-MiniLM-L6-v2/tokenizer.json")) GTEST_SKIP();
  struct Case { const char* strategy; const char* a; const char* b; const char* expect; };
  const Case cases[] = {
      {"LongestFirst", "a b c d e", nullptr, "a b c"},
      {"LongestFirst", "a b c d e", "z", "a b z | c z"},
      {"LongestFirst", "", "v w x y z", "v w x"},
      {"OnlyFirst", "a b c d e", "y z", "a y z | b y z | c y z"},
      {"OnlyFirst", "a", "v w x y z", "ERROR"},
      {"OnlyFirst", "", "v w x y z", "v w x"},
      {"OnlySecond", "a b c d e", nullptr, "ERROR"},
      {"OnlySecond", "a b", "v w x y z", "a b v | a b w | a b x"},
  };
  for (const Case& c : cases) {
    auto t = Tokenizer::from_json(bert_with_truncation(c.strategy, "Right", 3));
    ASSERT_TRUE(t.ok()) << t.error();
    auto e = c.b ? t->encode_pair(c.a, c.b, false) : t->encode(c.a, false);
    std::string got = e.ok() ? joined(*e) : "ERROR";
    EXPECT_EQ(got, c.expect) << c.strategy << " " << c.a << " / " << (c.b ? c.b : "-");
  }
}

TEST(Pipeline, InvalidUtf8IsAnErrorWithItsOffset) {
  auto t = Tokenizer::from_json(char_tokenizer("", "null"));
  ASSERT_TRUE(t.ok());
  auto e = t->encode(std::string_view("ab\xff", 3));
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().find("byte offset 2"), std::string::npos) << e.error();
}

TEST(Pipeline, BadJsonNamesThePath) {
  auto a = Tokenizer::from_json("{\"model\": 3}");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().find("model"), std::string::npos) << a.error();
  auto b = Tokenizer::from_json(R"({"truncation":{"max_length":"x"},"model":{"type":"WordLevel","vocab":{},"unk_token":"u"}})");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().find("truncation.max_length"), std::string::npos) << b.error();
  EXPECT_FALSE(Tokenizer::from_json("{not json").ok());
  EXPECT_FALSE(Tokenizer::from_json("[]").ok());
}

}  // namespace
}  // namespace keel::tok
