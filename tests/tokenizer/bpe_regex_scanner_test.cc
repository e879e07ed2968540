// The hand-written GPT-2 / Llama-3 / Qwen2 scanners against the same regexes run
// by PCRE2, on random text over a pool of characters on which PCRE2's Unicode
// tables agree with HF's (PCRE2 here is Unicode 14; HF's classes are newer).
// Exact HF parity on every code point is checked by test_pre_tokenizers_hf.py.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "tokenizer/pattern.h"
#include "tokenizer/pre_tokenizers/bpe_regex_scanner.h"
#include "tokenizer/pre_tokenizers/unicode_tables.h"
#include "tokenizer/unicode_util.h"

namespace keel::tok {
namespace {

std::string utf8(char32_t c) {
  std::string s;
  append_utf8(s, c);
  return s;
}

bool pcre_matches(const Regex& re, char32_t c) {
  std::vector<std::pair<size_t, size_t>> m;
  std::string s = utf8(c);
  EXPECT_TRUE(re.find_all(s, m).ok());
  return m.size() == 1 && m[0].first == 0 && m[0].second == s.size();
}

// Characters whose \p{L} / \p{N} / \s membership is the same in PCRE2 and in
// HF's tables, weighted towards the ones the patterns treat specially.
std::vector<char32_t> make_pool() {
  auto L = Regex::compile(R"(\p{L})"), N = Regex::compile(R"(\p{N})"), S = Regex::compile(R"(\s)");
  EXPECT_TRUE(L.ok() && N.ok() && S.ok());
  const UnicodeTables& t = UnicodeTables::get();
  auto agrees = [&](char32_t c) {
    uint8_t b = t.classes(c);
    return pcre_matches(*L, c) == bool(b & kLetter) && pcre_matches(*N, c) == bool(b & kNumber) &&
           pcre_matches(*S, c) == bool(b & kSpace);
  };
  std::vector<char32_t> pool;
  auto add = [&](char32_t c, int weight) {
    if (agrees(c))
      for (int i = 0; i < weight; ++i) pool.push_back(c);
  };
  for (char32_t c = 0; c < 128; ++c) add(c, 1);
  for (char32_t c : std::u32string(U" \n\r\t'sStTmMdDrReEvVlL")) add(c, 12);
  add(0x17F, 4);  // LONG S folds to s under (?i)
  for (char32_t c = 0x80; c < 0x250; c += 3) add(c, 1);
  for (char32_t c : std::u32string(
           U"\u0085\u00a0\u1680\u2000\u2005\u200a\u2028\u2029\u202f\u205f\u3000\u200b\ufeff"
           U"\u0301\u0308\u0663\uff11\u00b2\u00bd\u2167\u3007\u4e2d\u6587\u3042\u30ab\u30fc"
           U"\uac00\u0416\u03b1\u05d0\u0627\u0e01\u2019\u201c\u00ab\u2014\u20ac\U0001F600"
           U"\U0001F44D\U0001F3FD\u200d\U00020000\U0001D400\U0001D7CE"))
    add(c, 3);
  std::mt19937 rng(7);
  for (int i = 0; i < 400; ++i) {
    char32_t c = rng() % 0x30000;
    if (c >= 0xd800 && c <= 0xdfff) continue;
    add(c, 1);
  }
  return pool;
}

void check_pattern(BpeRegex which, const char* pattern) {
  auto re = Regex::compile(pattern);
  ASSERT_TRUE(re.ok()) << re.error();
  static const std::vector<char32_t> pool = make_pool();
  std::mt19937 rng(1234);
  std::vector<std::pair<size_t, size_t>> expected;
  std::vector<Range> got;
  for (int iter = 0; iter < 30000; ++iter) {
    std::string text;
    const int len = rng() % 24;
    for (int i = 0; i < len; ++i) text += utf8(pool[rng() % pool.size()]);
    expected.clear();
    got.clear();
    ASSERT_TRUE(re->find_all(text, expected).ok());
    scan_bpe_regex(which, text, got);
    ASSERT_EQ(got.size(), expected.size()) << "text: " << text;
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got[i].first, expected[i].first) << "text: " << text << " match " << i;
      ASSERT_EQ(got[i].second, expected[i].second) << "text: " << text << " match " << i;
    }
  }
}

TEST(BpeRegexScanner, RecognisesTheThreePatterns) {
  EXPECT_EQ(find_bpe_regex(kGpt2Regex), BpeRegex::kGpt2);
  EXPECT_EQ(find_bpe_regex(kLlama3Regex), BpeRegex::kLlama3);
  EXPECT_EQ(find_bpe_regex(kQwen2Regex), BpeRegex::kQwen2);
  EXPECT_FALSE(find_bpe_regex(R"(\s+)"));
}

TEST(BpeRegexScanner, Gpt2MatchesPcre2) { check_pattern(BpeRegex::kGpt2, kGpt2Regex); }
TEST(BpeRegexScanner, Llama3MatchesPcre2) { check_pattern(BpeRegex::kLlama3, kLlama3Regex); }
TEST(BpeRegexScanner, Qwen2MatchesPcre2) { check_pattern(BpeRegex::kQwen2, kQwen2Regex); }

TEST(BpeRegexScanner, Examples) {
  std::vector<Range> r;
  std::string text = "Hello world's  end\n\n 123!!";
  scan_bpe_regex(BpeRegex::kGpt2, text, r);
  std::vector<std::string> pieces;
  for (auto [b, e] : r) pieces.push_back(text.substr(b, e - b));
  EXPECT_EQ(pieces, (std::vector<std::string>{"Hello", " world", "'s", " ", " end", "\n\n", " 123", "!!"}));
}

}  // namespace
}  // namespace keel::tok
