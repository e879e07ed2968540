// Normalizers: factory errors, fast paths against their step-by-step twins,
// the SentencePiece charsmap reader (including malformed blobs), HF's Unicode
// tables. Parity with HF itself is tests/tokenizer/test_normalizers_hf.py.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/utf8.h"
#include "tokenizer/components.h"
#include "tokenizer/normalizers/hf_unicode.h"
#include "tokenizer/normalizers/normalizers.h"
#include "tokenizer/normalizers/precompiled_charsmap.h"
#include "tokenizer/unicode_util.h"

namespace keel::tok {
namespace {

using nlohmann::json;

Result<std::unique_ptr<Normalizer>> make(std::string_view text) {
  return make_normalizer(json::parse(text), "normalizer");
}

std::string normalize(const Normalizer& n, std::string text) {
  NormalizedString s(std::move(text));
  EXPECT_TRUE(n.normalize(s).ok());
  return s.normalized();
}

// ---- factory ----------------------------------------------------------------------

TEST(NormalizerFactory, BuildsEveryType) {
  const char* ok[] = {
      R"({"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true})",
      R"({"type":"NFC"})", R"({"type":"NFD"})", R"({"type":"NFKC"})", R"({"type":"NFKD"})",
      R"({"type":"Lowercase"})", R"({"type":"Strip","strip_left":true,"strip_right":false})",
      R"({"type":"StripAccents"})", R"({"type":"Replace","pattern":{"String":" "},"content":"_"})",
      R"({"type":"Replace","pattern":{"Regex":"\\s+"},"content":" "})", R"({"type":"Prepend","prepend":"_"})",
      R"({"type":"Nmt"})", R"({"type":"ByteLevel"})", R"({"type":"Sequence","normalizers":[{"type":"NFC"}]})",
      // Untagged, recognised by fields as HF does.
      R"({"clean_text":true,"handle_chinese_chars":true,"lowercase":true})", R"({"prepend":"x"})",
      R"({"type":null,"strip_left":true,"strip_right":true})"};
  for (const char* j : ok) EXPECT_TRUE(make(j).ok()) << j << ": " << make(j).error();
}

TEST(NormalizerFactory, ErrorsNameTheJsonPath) {
  struct Case {
    const char* json;
    const char* expect;  // substring of the error
  };
  const Case cases[] = {
      {R"({"type":"Foo"})", "normalizer.type: unknown normalizer type \"Foo\""},
      {R"({"type":"Sequence","normalizers":[{"type":"NFC"},{"type":"Bar"}]})",
       "normalizer.normalizers[1].type: unknown normalizer type \"Bar\""},
      {R"({"type":"BertNormalizer","clean_text":1,"handle_chinese_chars":true,"lowercase":true})",
       "normalizer.clean_text: expected a boolean, got number"},
      {R"({"type":"BertNormalizer"})", "normalizer.clean_text: missing"},
      {R"({"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"lowercase":true,"strip_accents":"x"})",
       "normalizer.strip_accents"},
      {R"({"type":"Strip","strip_left":true})", "normalizer.strip_right: missing"},
      {R"({"type":"Strip","strip_left":true,"strip_right":null})", "normalizer.strip_right: expected a boolean, got null"},
      {R"({"type":"Replace","pattern":"x","content":"y"})", "normalizer.pattern"},
      {R"({"type":"Replace","pattern":{"Regex":"("},"content":"y"})", "normalizer.pattern"},
      {R"({"type":"Replace","pattern":{"String":"a"}})", "normalizer.content: missing"},
      {R"({"type":"Prepend","prepend":3})", "normalizer.prepend: expected a string"},
      {R"({"type":"Sequence","normalizers":{}})", "normalizer.normalizers: expected an array"},
      {R"({"type":"Sequence","normalizers":[null]})", "normalizer.normalizers[0]: expected a normalizer object"},
      {R"({"type":"Precompiled"})", "normalizer.precompiled_charsmap: missing"},
      {R"({"type":"Precompiled","precompiled_charsmap":"!!!!"})", "normalizer.precompiled_charsmap: invalid base64"},
      {R"({"type":"Precompiled","precompiled_charsmap":"AAA="})", "normalizer.precompiled_charsmap"},
      {R"({"type":7})", "normalizer.type: expected a string"},
      {R"({})", "normalizer: no \"type\""},
      {R"([1])", "normalizer: expected a normalizer object"},
  };
  for (const auto& c : cases) {
    auto r = make(c.json);
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_NE(r.error().find(c.expect), std::string::npos) << c.json << " -> " << r.error();
  }
}

TEST(NormalizerFactory, DeepNestingIsAnErrorNotACrash) {
  std::string j = R"({"type":"NFC"})";
  for (int i = 0; i < 200; ++i) j = R"({"type":"Sequence","normalizers":[)" + j + "]}";
  auto r = make(j);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("nested deeper"), std::string::npos) << r.error();
}

TEST(NormalizerFactory, InvalidUtf8InFieldsIsAnError) {
  json j = {{"type", "Prepend"}, {"prepend", std::string("\xff")}};
  EXPECT_FALSE(make_normalizer(j, "normalizer").ok());
}

// ---- BertNormalizer against its step-by-step twin ------------------------------------

// HF's bert.rs, one NormalizedString primitive per step, with no fast path.
void bert_twin(NormalizedString& s, const BertNormalizerOptions& o) {
  if (o.clean_text) {
    s.filter([](char32_t c) { return !hf_bert_clean_removes(c); });
    s.map([](char32_t c) { return hf_bert_clean_is_space(c) ? U' ' : c; });
  }
  if (o.handle_chinese_chars) {
    std::vector<CharChange> changes;
    size_t i = 0;
    while (i < s.normalized().size()) {
      char32_t c = decode_utf8(s.normalized(), i);
      if (hf_bert_is_chinese_char(c)) {
        changes.push_back({U' ', 0});
        changes.push_back({c, 1});
        changes.push_back({U' ', 1});
      } else {
        changes.push_back({c, 0});
      }
    }
    s.transform(changes, 0);
  }
  if (o.strip_accents.value_or(o.lowercase)) {
    s.nfd();
    s.filter([](char32_t c) { return !hf_bert_is_nonspacing_mark(c); });
  }
  if (o.lowercase) s.lowercase();
}

std::string random_text(std::mt19937& rng, const std::vector<std::string>& pool, int max_len) {
  std::string s;
  int n = std::uniform_int_distribution<int>(0, max_len)(rng);
  for (int i = 0; i < n; ++i) s += pool[std::uniform_int_distribution<size_t>(0, pool.size() - 1)(rng)];
  return s;
}

void expect_same(const NormalizedString& a, const NormalizedString& b, const std::string& input) {
  EXPECT_EQ(a.normalized(), b.normalized()) << "input: " << printable(input);
  EXPECT_EQ(a.alignments(), b.alignments()) << "input: " << printable(input);
}

TEST(BertNormalizer, AsciiFastPathMatchesTwin) {
  std::vector<std::string> pool;
  for (int c = 0; c < 128; ++c) pool.push_back(std::string(1, static_cast<char>(c)));
  for (int k = 0; k < 8; ++k) pool.push_back(" ");  // make whitespace runs likely
  std::mt19937 rng(1);
  for (int opts = 0; opts < 24; ++opts) {
    BertNormalizerOptions o{.clean_text = (opts & 1) != 0, .handle_chinese_chars = (opts & 2) != 0,
                            .strip_accents = opts / 8 == 0 ? std::nullopt : std::optional<bool>(opts / 8 == 1),
                            .lowercase = (opts & 4) != 0};
    BertNormalizer bert(o);
    for (int t = 0; t < 200; ++t) {
      std::string text = random_text(rng, pool, 40);
      NormalizedString fast(text), twin(text);
      ASSERT_TRUE(bert.normalize(fast).ok());
      bert_twin(twin, o);
      expect_same(fast, twin, text);
    }
  }
}

TEST(BertNormalizer, GeneralPathMatchesTwin) {
  const std::vector<std::string> pool = {"a", "Z", " ", "\t", "\n", "\x01", "\x7f", "\u00e9", "E\u0301", "\u00c5",
                                         "\u4e2d", "\u56fd", "\U00020000", "\u3000", "\u00a0", "\u00ad", "\u200b",
                                         "\ufffd", "\u0130", "\u0344", "\u1e9b\u0323", "\ufb01", "\ue000", ".",
                                         "\u0315", "\u0316", "\u0323", "\uac00", "\u1100\u1161", "\u1e09", "\u00c0"};
  std::mt19937 rng(2);
  for (int opts = 0; opts < 24; ++opts) {
    BertNormalizerOptions o{.clean_text = (opts & 1) != 0, .handle_chinese_chars = (opts & 2) != 0,
                            .strip_accents = opts / 8 == 0 ? std::nullopt : std::optional<bool>(opts / 8 == 1),
                            .lowercase = (opts & 4) != 0};
    BertNormalizer bert(o);
    for (int t = 0; t < 100; ++t) {
      std::string text = random_text(rng, pool, 12);
      NormalizedString fast(text), twin(text);
      ASSERT_TRUE(bert.normalize(fast).ok());
      bert_twin(twin, o);
      expect_same(fast, twin, text);
    }
  }
}

TEST(BertNormalizer, KnownOutputs) {
  BertNormalizer bert({});
  EXPECT_EQ(normalize(bert, "Héllo\tWORLD\x01!"), "hello world!");
  EXPECT_EQ(normalize(bert, "中国"), " 中  国 ");
  BertNormalizer keep_accents({.strip_accents = false});
  EXPECT_EQ(normalize(keep_accents, "Héllo"), "héllo");
}

// ---- the other normalizers -----------------------------------------------------------

TEST(StripAccents, RemovesCombiningMarksWithHfAlignments) {
  // HF strip.rs test_strip_accents_multiple.
  NormalizedString s("e\u0304\u0304\u0304o");
  ASSERT_TRUE(StripAccentsNormalizer().normalize(s).ok());
  EXPECT_EQ(s.normalized(), "eo");
  EXPECT_EQ(s.alignments(), (std::vector<Range>{{0, 1}, {7, 8}}));
}

TEST(Nmt, DropsControlsAndMapsSpaces) {
  EXPECT_EQ(normalize(NmtNormalizer(), "a\x01\tb\u200bc\ufeffd\x7f"), "a b c d");
}

TEST(ByteLevelNormalizer, MapsEveryByte) {
  EXPECT_EQ(normalize(ByteLevelNormalizer(), "Hello 我"), "Hello\u0120\u00e6\u012a\u0133");
  EXPECT_EQ(normalize(ByteLevelNormalizer(), ""), "");
}

TEST(Replace, LiteralRegexAndEmptyPattern) {
  auto lit = ReplaceNormalizer::create("''", false, "\"");
  ASSERT_TRUE(lit.ok());
  EXPECT_EQ(normalize(**lit, "This is a ''test''"), "This is a \"test\"");
  auto re = ReplaceNormalizer::create("\\s+", true, " ");
  ASSERT_TRUE(re.ok());
  EXPECT_EQ(normalize(**re, "This     is   a  test"), "This is a test");
  // HF 0.23 takes content verbatim: no $1 expansion.
  auto grp = ReplaceNormalizer::create("(l)(e)", true, "$1 $2");
  ASSERT_TRUE(grp.ok());
  EXPECT_EQ(normalize(**grp, "le"), "$1 $2");
  // An empty String pattern matches between every char, as HF's escaped regex does.
  auto empty = ReplaceNormalizer::create("", false, "-");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(normalize(**empty, "ab"), "-a-b-");
}

TEST(Prepend, OnlyNonEmpty) {
  PrependNormalizer p("\u2581");
  EXPECT_EQ(normalize(p, ""), "");
  NormalizedString s("Hi");
  ASSERT_TRUE(p.normalize(s).ok());
  EXPECT_EQ(s.normalized(), "\u2581Hi");
  EXPECT_EQ(s.to_original({3, 4}), (std::optional<Range>{{0, 1}}));
}

TEST(Sequence, StopsAtTheFirstError) {
  auto seq = make(R"({"type":"Sequence","normalizers":[{"type":"Lowercase"},{"type":"Strip","strip_left":true,"strip_right":true}]})");
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ(normalize(**seq, "  HeLLo  "), "hello");
}

// ---- Precompiled ---------------------------------------------------------------------

std::string t5_charsmap_json() {
  std::ifstream f(std::string(KEEL_SHARED_MODELS) + "/t5-small/tokenizer.json");
  if (!f) return "";
  std::stringstream ss;
  ss << f.rdbuf();
  return json::parse(ss.str())["normalizer"].dump();
}

TEST(Precompiled, T5Charsmap) {
  std::string j = t5_charsmap_json();
  if (j.empty()) GTEST_SKIP() << "t5-small tokenizer.json not available";
  auto n = make(j);
  ASSERT_TRUE(n.ok()) << n.error();
  // Expected values from HF tokenizers 0.23.2 (node).
  EXPECT_EQ(normalize(**n, "a\u00bdb \uff76\uff9e x  y \ufb01"), "a1\u20442b \u30ab\u3099 x  y fi");
  EXPECT_EQ(normalize(**n, "\tTabs\nand"), " Tabs and");
  NormalizedString s("\u00bd");
  ASSERT_TRUE((*n)->normalize(s).ok());
  EXPECT_EQ(s.normalized(), "1\u20442");
  // "1" replaces the char, the two others are insertions on its alignment.
  EXPECT_EQ(s.to_original({0, 1}), (std::optional<Range>{{0, 2}}));
  EXPECT_EQ(s.to_original({4, 5}), (std::optional<Range>{{0, 2}}));
}

TEST(PrecompiledCharsmap, MalformedBlobsAreErrors) {
  EXPECT_FALSE(PrecompiledCharsmap::parse("").ok());
  EXPECT_FALSE(PrecompiledCharsmap::parse(std::string("\x01\x00\x00", 3)).ok());
  EXPECT_FALSE(PrecompiledCharsmap::parse(std::string("\x08\x00\x00\x00\x00\x00\x00\x00", 8)).ok());
  // Valid header, one unit, replacement strings not UTF-8.
  EXPECT_FALSE(PrecompiledCharsmap::parse(std::string("\x04\x00\x00\x00\x00\x00\x00\x00\xff", 9)).ok());
  EXPECT_TRUE(PrecompiledCharsmap::parse(std::string("\x00\x00\x00\x00", 4)).ok());
}

TEST(PrecompiledCharsmap, RandomTriesNeverReadOutOfBounds) {
  // Under ASan this checks every lookup stays inside the blob, whatever it
  // holds. Units get small offsets (bits 10+) so walks go several levels deep.
  std::mt19937 rng(3);
  for (int t = 0; t < 3000; ++t) {
    const uint32_t units = std::uniform_int_distribution<uint32_t>(0, 64)(rng);
    std::string blob(4 + 4 * units, '\0');
    const uint32_t size = units * 4;
    std::memcpy(blob.data(), &size, 4);
    for (uint32_t i = 0; i < units; ++i) {
      uint32_t u = (rng() & 0x3ff) | ((rng() % 64) << 10);
      if (rng() % 4 == 0) u |= 0x80000000u | static_cast<uint32_t>(rng() % 16);  // a value unit
      std::memcpy(blob.data() + 4 + 4 * i, &u, 4);
    }
    blob += std::string("ab\0c\0\xc3\xa9", 7);
    auto m = PrecompiledCharsmap::parse(blob);
    ASSERT_TRUE(m.ok()) << m.error();
    for (int k = 0; k < 16; ++k) {
      std::string key;
      for (int b = 0; b < 4; ++b) key.push_back(static_cast<char>(rng() % 64));
      if (auto r = m->transform(key)) EXPECT_TRUE(is_valid_utf8(*r));
    }
    PrecompiledNormalizer n(std::move(*m));
    NormalizedString s("\x01\x02 a?\u00e9\u00bd");
    EXPECT_TRUE(n.normalize(s).ok());
  }
}

// ---- HF's Unicode tables -------------------------------------------------------------

TEST(HfUnicode, MeasuredQuirks) {
  EXPECT_TRUE(hf_bert_clean_removes(0x00AD));   // Cf
  EXPECT_TRUE(hf_bert_clean_removes(0xE000));   // Co
  EXPECT_TRUE(hf_bert_clean_removes(0));
  EXPECT_FALSE(hf_bert_clean_removes('\t'));
  EXPECT_FALSE(hf_bert_clean_removes(0x0890));  // Cf since Unicode 14, unknown to HF's table
  EXPECT_FALSE(hf_bert_clean_removes(0x0378));  // unassigned (Cn) is kept
  EXPECT_TRUE(hf_bert_clean_is_space(0x3000));
  EXPECT_FALSE(hf_bert_clean_is_space(0x0085));  // removed as a control first
  EXPECT_TRUE(hf_is_combining_mark(0x0488));     // Me counts as a combining mark
  EXPECT_FALSE(hf_bert_is_nonspacing_mark(0x07FD));
  EXPECT_TRUE(hf_bert_is_nonspacing_mark(0x0301));
  EXPECT_TRUE(hf_unicode9_assigned(0x0301));
  EXPECT_FALSE(hf_unicode9_assigned(0x1DF6));   // Unicode 10
  EXPECT_FALSE(hf_unicode9_assigned(0x32FF));   // Unicode 12.1
  EXPECT_EQ(hf_lowercase_extra(0x1C89), 0x1C8Au);
  EXPECT_EQ(hf_lowercase_extra('A'), 0u);
  EXPECT_TRUE(hf_bert_is_chinese_char(0x4E2D));
  EXPECT_FALSE(hf_bert_is_chinese_char(0x3042));  // hiragana
}

}  // namespace
}  // namespace keel::tok
