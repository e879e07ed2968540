// Pre-tokenizers on HF tokenizers' own unit-test cases (pre_tokenizers/*.rs),
// with byte offsets into the original, plus the factory's errors. The full
// parity sweep against HF runs in test_pre_tokenizers_hf.py.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tokenizer/byte_level.h"
#include "tokenizer/components.h"
#include "tokenizer/pre_tokenizers/pre_tokenizers.h"
#include "tokenizer/pre_tokenizers/unicode_tables.h"

namespace keel::tok {
namespace {

using Pieces = std::vector<std::pair<std::string, Range>>;

Pieces splits_of(const PreTokenizedString& s) {
  Pieces out;
  for (const auto& sp : s.splits()) {
    const auto& n = sp.normalized;
    out.push_back({n.normalized(), {n.original_shift(), n.original_shift() + n.original().size()}});
  }
  return out;
}

Pieces run(const std::string& json, const std::string& text) {
  auto pt = make_pre_tokenizer(nlohmann::json::parse(json), "pre_tokenizer");
  EXPECT_TRUE(pt.ok()) << pt.error();
  if (!pt.ok()) return {};
  PreTokenizedString s(text);
  auto st = (*pt)->pre_tokenize(s);
  EXPECT_TRUE(st.ok()) << st.message();
  return splits_of(s);
}

std::string error_of(const std::string& json) {
  auto pt = make_pre_tokenizer(nlohmann::json::parse(json), "pre_tokenizer");
  return pt.ok() ? "" : pt.error();
}

const char* kByteLevelNoPrefix = R"({"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true})";

TEST(ByteLevelTable, RoundTripsEveryByte) {
  for (int b = 0; b < 256; ++b) EXPECT_EQ(unicode_to_byte(byte_to_unicode(uint8_t(b))), uint8_t(b));
}

TEST(ByteLevelPreTokenizer, SplitsLikeGpt2) {
  EXPECT_EQ(run(kByteLevelNoPrefix, "Hello my friend, how is your day going?"),
            (Pieces{{"Hello", {0, 5}}, {"Ġmy", {5, 8}}, {"Ġfriend", {8, 15}}, {",", {15, 16}},
                    {"Ġhow", {16, 20}}, {"Ġis", {20, 23}}, {"Ġyour", {23, 28}}, {"Ġday", {28, 32}},
                    {"Ġgoing", {32, 38}}, {"?", {38, 39}}}));
  EXPECT_EQ(run(kByteLevelNoPrefix, "Hello there\nHello there"),
            (Pieces{{"Hello", {0, 5}}, {"Ġthere", {5, 11}}, {"Ċ", {11, 12}}, {"Hello", {12, 17}},
                    {"Ġthere", {17, 23}}}));
  EXPECT_EQ(run(kByteLevelNoPrefix, "Hello there       dear"),
            (Pieces{{"Hello", {0, 5}}, {"Ġthere", {5, 11}}, {"ĠĠĠĠĠĠ", {11, 17}}, {"Ġdear", {17, 22}}}));
  // A 3-byte char becomes 3 chars that all point at the whole original char.
  EXPECT_EQ(run(kByteLevelNoPrefix, "i⭢j"), (Pieces{{"i", {0, 1}}, {"âŃ¢", {1, 4}}, {"j", {4, 5}}}));
}

TEST(ByteLevelPreTokenizer, PrefixSpaceAndNoRegex) {
  const char* with_prefix = R"({"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true})";
  EXPECT_EQ(run(with_prefix, "Hello my")[0].first, "ĠHello");
  EXPECT_EQ(run(with_prefix, " Hello my")[0].first, "ĠHello");
  EXPECT_TRUE(run(with_prefix, "").empty());
  EXPECT_EQ(run(R"({"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":false})",
                "Hello my friend,"),
            (Pieces{{"ĠHelloĠmyĠfriend,", {0, 16}}}));
}

TEST(MetaspacePreTokenizer, ReplacesAndSplits) {
  const char* m = R"({"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true})";
  EXPECT_EQ(run(m, "Hey friend!"), (Pieces{{"▁Hey", {0, 3}}, {"▁friend!", {3, 11}}}));
  EXPECT_EQ(run(m, "Hey   friend!"),
            (Pieces{{"▁Hey", {0, 3}}, {"▁", {3, 4}}, {"▁", {4, 5}}, {"▁friend!", {5, 13}}}));
}

TEST(MetaspacePreTokenizer, FirstOnlyPrependsAtTheStartOfTheInput) {
  auto split_on_s = make_pre_tokenizer(
      nlohmann::json::parse(R"({"type":"Split","pattern":{"String":"<s>"},"behavior":"Isolated","invert":false})"), "p");
  auto first = make_pre_tokenizer(
      nlohmann::json::parse(R"({"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":false})"), "p");
  ASSERT_TRUE(split_on_s.ok() && first.ok());
  PreTokenizedString s(std::string("Hey my friend <s>how▁are you"));
  ASSERT_TRUE((*split_on_s)->pre_tokenize(s).ok());
  ASSERT_TRUE((*first)->pre_tokenize(s).ok());
  std::vector<std::string> got;
  for (auto& sp : s.splits()) got.push_back(sp.normalized.normalized());
  EXPECT_EQ(got, (std::vector<std::string>{"▁Hey▁my▁friend▁", "<s>", "how▁are▁you"}));
}

TEST(BertPreTokenizer, WhitespaceAndPunctuation) {
  EXPECT_EQ(run(R"({"type":"BertPreTokenizer"})", "Hey friend!     How are you?!?"),
            (Pieces{{"Hey", {0, 3}}, {"friend", {4, 10}}, {"!", {10, 11}}, {"How", {16, 19}},
                    {"are", {20, 23}}, {"you", {24, 27}}, {"?", {27, 28}}, {"!", {28, 29}}, {"?", {29, 30}}}));
}

TEST(UnicodeScriptsPreTokenizer, SplitsOnScriptChanges) {
  EXPECT_EQ(run(R"({"type":"UnicodeScripts"})", "どこで生れ。Yes"),
            (Pieces{{"どこで生れ", {0, 15}}, {"。", {15, 18}}, {"Yes", {18, 21}}}));
  EXPECT_EQ(run(R"({"type":"UnicodeScripts"})", "Apples are りんご 林檎"),
            (Pieces{{"Apples are ", {0, 11}}, {"りんご 林檎", {11, 27}}}));
}

TEST(SplitPreTokenizer, EveryBehaviorInverted) {
  auto pieces = [](const char* behavior) {
    std::string j = std::string(R"({"type":"Split","pattern":{"Regex":"\\w+|[^\\w\\s]+"},"behavior":")") +
                    behavior + R"(","invert":true})";
    std::vector<std::string> out;
    for (auto& [p, r] : run(j, "How are you doing?")) out.push_back(p);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(pieces("Removed"), (V{"How", "are", "you", "doing", "?"}));
  EXPECT_EQ(pieces("Isolated"), (V{"How", " ", "are", " ", "you", " ", "doing", "?"}));
  EXPECT_EQ(pieces("MergedWithPrevious"), (V{"How ", "are ", "you ", "doing", "?"}));
  EXPECT_EQ(pieces("MergedWithNext"), (V{"How", " are", " you", " doing", "?"}));
  EXPECT_EQ(pieces("Contiguous"), (V{"How", " ", "are", " ", "you", " ", "doing?"}));
}

TEST(DigitsAndPunctuation, HfExamples) {
  EXPECT_EQ(run(R"({"type":"Digits","individual_digits":false})", "Hey 123 friend!"),
            (Pieces{{"Hey ", {0, 4}}, {"123", {4, 7}}, {" friend!", {7, 15}}}));
  EXPECT_EQ(run(R"({"type":"Digits","individual_digits":true})", "Hey 123 friend!").size(), 5u);
  EXPECT_EQ(run(R"({"type":"Punctuation"})", "Hey friend!     How are you?!?"),
            (Pieces{{"Hey friend", {0, 10}}, {"!", {10, 11}}, {"     How are you", {11, 27}},
                    {"?", {27, 28}}, {"!", {28, 29}}, {"?", {29, 30}}}));
  EXPECT_EQ(run(R"({"type":"WhitespaceSplit"})", "Hey, man, Good?"),
            (Pieces{{"Hey,", {0, 4}}, {"man,", {5, 9}}, {"Good?", {10, 15}}}));
  EXPECT_EQ(run(R"({"type":"Whitespace"})", "Hey man!"),
            (Pieces{{"Hey", {0, 3}}, {"man", {4, 7}}, {"!", {7, 8}}}));
  EXPECT_EQ(run(R"({"type":"CharDelimiterSplit","delimiter":"-"})", "a-b--c"),
            (Pieces{{"a", {0, 1}}, {"b", {2, 3}}, {"c", {5, 6}}}));
}

TEST(UnicodeTables, KnownClasses) {
  const auto& t = UnicodeTables::get();
  EXPECT_TRUE(t.classes('a') & kLetter);
  EXPECT_TRUE(t.classes(0x4E2D) & kLetter);
  EXPECT_TRUE(t.classes('7') & kNumber);
  EXPECT_TRUE(t.classes(0xB2) & kNumeric);  // superscript two
  EXPECT_TRUE(t.classes(0x3000) & kSpace);
  EXPECT_TRUE(t.classes(0x85) & kSpace);
  EXPECT_TRUE(t.classes('$') & kPunct);  // ASCII punctuation although Sc
  EXPECT_TRUE(t.classes('_') & kWord);
  EXPECT_EQ(t.classes(0x110000), 0);
  EXPECT_EQ(t.script(' '), 0);
  EXPECT_EQ(t.script(0x3042), t.script(0x4E2D));  // Hiragana counts as Han
  EXPECT_NE(t.script('a'), t.script(0x3B1));
}

TEST(PreTokenizerFactory, ErrorsNameThePath) {
  EXPECT_NE(error_of(R"({"type":"ByteLevel"})").find("pre_tokenizer.add_prefix_space"), std::string::npos);
  EXPECT_NE(error_of(R"({"type":"Sequence","pretokenizers":[{"type":"WhitespaceSplit"},{"type":"Nope"}]})")
                .find("pre_tokenizer.pretokenizers[1].type: unknown pre-tokenizer type \"Nope\""),
            std::string::npos);
  EXPECT_NE(error_of(R"({"type":"Split","pattern":{"Regex":"("},"behavior":"Removed","invert":false})")
                .find("pre_tokenizer.pattern"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"type":"Metaspace","replacement":"ab"})").find("single character"), std::string::npos);
  EXPECT_NE(error_of(R"({"type":"Metaspace","replacement":"_","add_prefix_space":false})").find("prepend_scheme"),
            std::string::npos);
  EXPECT_NE(error_of(R"([1,2])").find("expected a pre-tokenizer object"), std::string::npos);
  EXPECT_NE(error_of(R"({"type":"Punctuation","behavior":"isolated"})").find("pre_tokenizer.behavior"),
            std::string::npos);
  EXPECT_EQ(error_of(R"({"type":"Metaspace","replacement":"_","add_prefix_space":false,"prepend_scheme":"never"})"), "");
  EXPECT_EQ(error_of(R"({"type":"BertPreTokenizer","extra":1})"), "");
}

}  // namespace
}  // namespace keel::tok
