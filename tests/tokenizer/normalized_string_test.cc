// NormalizedString and Pattern against alignments HF tokenizers produces (the
// expected values come from HF's normalizer.rs behaviour and from experiments
// with the Node binding, see pipeline_test.cc for end-to-end offsets).
#include "tokenizer/normalized_string.h"

#include <gtest/gtest.h>

#include <memory>

#include "tokenizer/pattern.h"

namespace keel::tok {
namespace {

using Aligns = std::vector<Range>;

std::string orig_of(const NormalizedString& n, Range r) {
  auto o = n.to_original(r);
  if (!o) return "<none>";
  return n.original().substr(o->first, o->second - o->first);
}

bool is_mn(char32_t c) { return c >= 0x300 && c < 0x370; }

TEST(NormalizedString, IdentityAlignments) {
  NormalizedString n("aé");
  EXPECT_EQ(n.alignments(), (Aligns{{0, 1}, {1, 3}, {1, 3}}));
}

TEST(NormalizedString, NfdAddsChars) {
  NormalizedString n("élégant");
  n.nfd();
  EXPECT_EQ(n.alignments(), (Aligns{{0, 2}, {0, 2}, {0, 2}, {2, 3}, {3, 5}, {3, 5}, {3, 5}, {5, 6},
                                    {6, 7}, {7, 8}, {8, 9}}));
}

TEST(NormalizedString, NfdThenFilterMarks) {
  NormalizedString n("élégant");
  n.nfd();
  n.filter([](char32_t c) { return !is_mn(c); });
  EXPECT_EQ(n.normalized(), "elegant");
  EXPECT_EQ(n.alignments(), (Aligns{{0, 2}, {2, 3}, {3, 5}, {5, 6}, {6, 7}, {7, 8}, {8, 9}}));
}

TEST(NormalizedString, FilterRemovesChars) {
  NormalizedString n("élégant");
  n.filter([](char32_t c) { return c != 'n'; });
  EXPECT_EQ(n.normalized(), "élégat");
  EXPECT_EQ(n.alignments(),
            (Aligns{{0, 2}, {0, 2}, {2, 3}, {3, 5}, {3, 5}, {5, 6}, {6, 7}, {8, 9}}));
}

TEST(NormalizedString, MixedAdditionAndRemoval) {
  NormalizedString n("élégant");
  n.nfd();
  n.filter([](char32_t c) { return !is_mn(c) && c != 'n'; });
  EXPECT_EQ(n.normalized(), "elegat");
  EXPECT_EQ(n.alignments(), (Aligns{{0, 2}, {2, 3}, {3, 5}, {5, 6}, {6, 7}, {8, 9}}));
}

TEST(NormalizedString, RangeConversion) {
  NormalizedString n("    __Hello__   ");
  n.filter([](char32_t c) { return c != ' '; });
  n.lowercase();
  EXPECT_EQ(n.to_normalized({6, 11}), (Range{2, 7}));
  EXPECT_EQ(orig_of(n, {2, 7}), "Hello");
  EXPECT_EQ(n.to_normalized({0, 0}), (Range{0, 0}));
  EXPECT_EQ(n.to_normalized({3, 3}), (Range{3, 3}));
  EXPECT_EQ(n.to_normalized({15, 16}), (Range{9, 9}));
  EXPECT_EQ(n.to_normalized({16, 16}), (Range{16, 16}));
  EXPECT_EQ(n.to_original({3, 3}), (Range{3, 3}));
  EXPECT_EQ(n.to_original({9, 9}), (Range{9, 9}));
  EXPECT_FALSE(n.to_original({9, 10}).has_value());
}

TEST(NormalizedString, AddedAroundEdges) {
  NormalizedString n("Hello");
  n.transform({{' ', 1}, {'H', 0}, {'e', 0}, {'l', 0}, {'l', 0}, {'o', 0}, {' ', 1}}, 0);
  EXPECT_EQ(n.normalized(), " Hello ");
  EXPECT_EQ(orig_of(n, {1, 6}), "Hello");
}

TEST(NormalizedString, AddedCharactersAlignment) {
  NormalizedString n("野口 No");
  std::vector<CharChange> ch;
  for (char32_t c : std::u32string(U"野口 No")) {
    if (c > 0x4e00) {
      ch.push_back({' ', 0});
      ch.push_back({c, 1});
      ch.push_back({' ', 1});
    } else {
      ch.push_back({c, 0});
    }
  }
  n.transform(ch, 0);
  EXPECT_EQ(n.normalized(), " 野  口  No");
  EXPECT_EQ(n.alignments(), (Aligns{{0, 3}, {0, 3}, {0, 3}, {0, 3}, {0, 3}, {3, 6}, {3, 6}, {3, 6},
                                    {3, 6}, {3, 6}, {6, 7}, {7, 8}, {8, 9}}));
}

TEST(NormalizedString, RemoveAtEdges) {
  NormalizedString a("     Hello");
  a.filter([](char32_t c) { return c != ' '; });
  EXPECT_EQ(orig_of(a, {1, 5}), "ello");
  EXPECT_EQ(orig_of(a, {0, 5}), "Hello");
  NormalizedString b("Hello    ");
  b.filter([](char32_t c) { return c != ' '; });
  EXPECT_EQ(orig_of(b, {0, 4}), "Hell");
  EXPECT_EQ(orig_of(b, {0, 5}), "Hello");
}

TEST(NormalizedString, Strip) {
  NormalizedString l("  This is an example  ");
  l.lstrip();
  EXPECT_EQ(l.normalized(), "This is an example  ");
  EXPECT_EQ(orig_of(l, {0, l.len()}), "This is an example  ");
  NormalizedString r("  This is an example  ");
  r.rstrip();
  EXPECT_EQ(r.normalized(), "  This is an example");
  NormalizedString s("  This is an example  ");
  s.strip();
  EXPECT_EQ(s.normalized(), "This is an example");
  EXPECT_EQ(orig_of(s, {0, s.len()}), "This is an example");
}

TEST(NormalizedString, PrependAppend) {
  NormalizedString p("there");
  p.prepend("Hey ");
  EXPECT_EQ(p.normalized(), "Hey there");
  EXPECT_EQ(p.alignments(),
            (Aligns{{0, 1}, {0, 1}, {0, 1}, {0, 1}, {0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}}));
  NormalizedString a("Hey");
  a.append(" there");
  EXPECT_EQ(a.normalized(), "Hey there");
  EXPECT_EQ(a.alignments(),
            (Aligns{{0, 1}, {1, 2}, {2, 3}, {2, 3}, {2, 3}, {2, 3}, {2, 3}, {2, 3}, {2, 3}}));
}

TEST(NormalizedString, SliceAfterNfkc) {
  NormalizedString s("𝔾𝕠𝕠𝕕 𝕞𝕠𝕣𝕟𝕚𝕟𝕘");
  s.nfkc();
  EXPECT_EQ(s.normalized(), "Good morning");
  auto sl = s.slice_normalized({0, 4});
  ASSERT_TRUE(sl.has_value());
  EXPECT_EQ(sl->normalized(), "Good");
  EXPECT_EQ(sl->original(), "𝔾𝕠𝕠𝕕");
  EXPECT_EQ(sl->original_shift(), 0u);
  auto sl2 = s.slice_normalized({5, 12});
  ASSERT_TRUE(sl2.has_value());
  EXPECT_EQ(sl2->original_shift(), 17u);
  EXPECT_EQ(sl2->alignments()[0], (Range{0, 4}));
  EXPECT_FALSE(s.slice_normalized({0, 13}).has_value());

  NormalizedString g("   Good Morning!   ");
  g.strip();
  auto k = g.slice_normalized({1, 4});
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->original(), "ood");
  EXPECT_EQ(k->original_shift(), 4u);
}

TEST(NormalizedString, Replace) {
  NormalizedString s(" Hello   friend ");
  ASSERT_TRUE(s.replace(Pattern::literal(" "), "_").ok());
  EXPECT_EQ(s.normalized(), "_Hello___friend_");
  NormalizedString o("aaaab");
  ASSERT_TRUE(o.replace(Pattern::literal("aaa"), "b").ok());
  EXPECT_EQ(o.normalized(), "bab");
  EXPECT_EQ(o.alignments(), (Aligns{{2, 3}, {3, 4}, {4, 5}}));
  auto re = Regex::compile("\\s+");
  ASSERT_TRUE(re.ok());
  NormalizedString r(" Hello   friend ");
  ASSERT_TRUE(r.replace(Pattern::regex(std::make_shared<Regex>(std::move(*re))), "_").ok());
  EXPECT_EQ(r.normalized(), "_Hello_friend_");
  // Inserted chars align with the last byte of the match only.
  EXPECT_EQ(orig_of(r, {6, 7}), " ");
  // Multi-byte replacement, as Llama's Replace(" ", "▁").
  NormalizedString m("a b");
  ASSERT_TRUE(m.replace(Pattern::literal(" "), "▁").ok());
  EXPECT_EQ(m.normalized(), "a▁b");
  EXPECT_EQ(m.alignments(), (Aligns{{0, 1}, {1, 2}, {1, 2}, {1, 2}, {2, 3}}));
}

std::vector<std::string> split_strs(const NormalizedString& s, SplitBehavior b) {
  auto r = s.split(Pattern::literal("-"), b);
  std::vector<std::string> out;
  for (auto& p : r.value()) out.push_back(p.normalized());
  return out;
}

TEST(NormalizedString, SplitBehaviors) {
  NormalizedString s("The-final--countdown");
  using V = std::vector<std::string>;
  EXPECT_EQ(split_strs(s, SplitBehavior::Removed), (V{"The", "final", "countdown"}));
  EXPECT_EQ(split_strs(s, SplitBehavior::Isolated), (V{"The", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(split_strs(s, SplitBehavior::MergedWithPrevious), (V{"The-", "final-", "-", "countdown"}));
  EXPECT_EQ(split_strs(s, SplitBehavior::MergedWithNext), (V{"The", "-final", "-", "-countdown"}));
  EXPECT_EQ(split_strs(s, SplitBehavior::Contiguous), (V{"The", "-", "final", "--", "countdown"}));
}

TEST(NormalizedString, TransformRangeSingleBytes) {
  NormalizedString s("Hello friend");
  NormalizedString a = s;
  a.transform_range({0, 4}, {{'Y', 0}}, 3);
  EXPECT_EQ(a.normalized(), "Yo friend");
  EXPECT_EQ(a.alignments(), (Aligns{{3, 4}, {4, 5}, {5, 6}, {6, 7}, {7, 8}, {8, 9}, {9, 10},
                                    {10, 11}, {11, 12}}));
  NormalizedString b = s;
  b.transform_range({3, 10}, {{'_', 0}, {'F', 0}, {'R', -2}}, 2);
  EXPECT_EQ(b.normalized(), "Hel_FRnd");
  EXPECT_EQ(b.alignments(),
            (Aligns{{0, 1}, {1, 2}, {2, 3}, {5, 6}, {6, 7}, {7, 8}, {10, 11}, {11, 12}}));
}

TEST(NormalizedString, LowercaseMultiChar) {
  NormalizedString s("İa");
  s.lowercase();
  EXPECT_EQ(s.normalized(), "i\xcc\x87" "a");
  EXPECT_EQ(s.alignments(), (Aligns{{0, 2}, {0, 2}, {0, 2}, {2, 3}}));
  NormalizedString t("ÀB");
  t.lowercase();
  EXPECT_EQ(t.normalized(), "àb");
  EXPECT_EQ(t.alignments(), (Aligns{{0, 2}, {0, 2}, {2, 3}}));
}

TEST(NormalizedString, NfcComposes) {
  NormalizedString s("e\xcc\x81x");  // e + combining acute
  s.nfc();
  EXPECT_EQ(s.normalized(), "éx");
  // The composed char replaces the base char; the mark counts as removed.
  EXPECT_EQ(s.alignments(), (Aligns{{0, 1}, {0, 1}, {3, 4}}));
  NormalizedString h("\xe1\x84\x80\xe1\x85\xa1");  // Hangul L + V
  h.nfc();
  EXPECT_EQ(h.normalized(), "가");
}

TEST(Pattern, FindMatches) {
  using M = std::vector<std::pair<Range, bool>>;
  M out;
  ASSERT_TRUE(Pattern::literal("ab").find_matches("aabbab", out).ok());
  EXPECT_EQ(out, (M{{{0, 1}, false}, {{1, 3}, true}, {{3, 4}, false}, {{4, 6}, true}}));
  ASSERT_TRUE(Pattern::literal("").find_matches("aaa", out).ok());
  EXPECT_EQ(out, (M{{{0, 3}, false}}));
  ASSERT_TRUE(Pattern::predicate([](char32_t c) { return c == 'b'; }).find_matches("bbaaa", out).ok());
  EXPECT_EQ(out, (M{{{0, 1}, true}, {{1, 2}, true}, {{2, 5}, false}}));
  ASSERT_TRUE(Pattern::predicate([](char32_t c) { return c == 'b'; }).find_matches("", out).ok());
  EXPECT_EQ(out, (M{{{0, 0}, false}}));
  auto re = std::make_shared<Regex>(std::move(Regex::compile("\\s+").value()));
  ASSERT_TRUE(Pattern::regex(re).find_matches("   a   b   ", out).ok());
  EXPECT_EQ(out, (M{{{0, 3}, true}, {{3, 4}, false}, {{4, 7}, true}, {{7, 8}, false}, {{8, 11}, true}}));
  ASSERT_TRUE(Pattern::regex(re).find_matches("𝔾𝕠𝕠𝕕 𝕞𝕠𝕣𝕟𝕚𝕟𝕘", out).ok());
  EXPECT_EQ(out, (M{{{0, 16}, false}, {{16, 17}, true}, {{17, 45}, false}}));
  // Unicode-aware \s (Oniguruma): U+3000 is a space.
  ASSERT_TRUE(Pattern::regex(re).find_matches("a\xe3\x80\x80" "b", out).ok());
  EXPECT_EQ(out, (M{{{0, 1}, false}, {{1, 4}, true}, {{4, 5}, false}}));
}

TEST(Regex, EmptyMatchesLikeOniguruma) {
  auto re = Regex::compile("a*").value();
  std::vector<Range> m;
  ASSERT_TRUE(re.find_all("baa", m).ok());
  EXPECT_EQ(m, (std::vector<Range>{{0, 0}, {1, 3}}));
}

TEST(Regex, InvalidPatternIsError) {
  auto re = Regex::compile("(a");
  EXPECT_FALSE(re.ok());
}

}  // namespace
}  // namespace keel::tok
