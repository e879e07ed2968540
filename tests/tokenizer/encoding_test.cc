// Encoding::truncate / pad / append against HF's encoding.rs semantics.
#include "tokenizer/encoding.h"

#include <gtest/gtest.h>

namespace keel::tok {
namespace {

Encoding make(std::vector<uint32_t> ids) {
  Encoding e;
  for (size_t i = 0; i < ids.size(); ++i) {
    e.ids.push_back(ids[i]);
    e.tokens.push_back("t" + std::to_string(ids[i]));
    e.type_ids.push_back(0);
    e.offsets.emplace_back(i, i + 1);
    e.special_tokens_mask.push_back(0);
    e.attention_mask.push_back(1);
    e.word_ids.push_back(static_cast<uint32_t>(i));
    e.sequence_ids.push_back(0u);
  }
  return e;
}

TEST(Encoding, TruncateRightNoStride) {
  Encoding e = make({1, 2, 3});
  e.truncate(2, 0, TruncationDirection::Right);
  EXPECT_EQ(e.ids, (std::vector<uint32_t>{1, 2}));
  ASSERT_EQ(e.overflowing.size(), 1u);
  EXPECT_EQ(e.overflowing[0].ids, (std::vector<uint32_t>{3}));
}

TEST(Encoding, TruncateToZeroMovesAllToOverflow) {
  Encoding e = make({1, 2, 3});
  e.truncate(0, 0, TruncationDirection::Right);
  EXPECT_TRUE(e.ids.empty());
  ASSERT_EQ(e.overflowing.size(), 1u);
  EXPECT_EQ(e.overflowing[0].ids, (std::vector<uint32_t>{1, 2, 3}));
}

TEST(Encoding, TruncateWithStride) {
  Encoding e = make({1, 2, 3, 4, 5});
  e.truncate(4, 2, TruncationDirection::Right);
  EXPECT_EQ(e.ids, (std::vector<uint32_t>{1, 2, 3, 4}));
  ASSERT_EQ(e.overflowing.size(), 1u);
  EXPECT_EQ(e.overflowing[0].ids, (std::vector<uint32_t>{3, 4, 5}));
}

TEST(Encoding, TruncateLeft) {
  Encoding e = make({1, 2, 3});
  e.truncate(2, 0, TruncationDirection::Left);
  EXPECT_EQ(e.ids, (std::vector<uint32_t>{2, 3}));
  ASSERT_EQ(e.overflowing.size(), 1u);
  EXPECT_EQ(e.overflowing[0].ids, (std::vector<uint32_t>{1}));
  Encoding f = make({1, 2, 3, 4, 5});
  f.truncate(2, 1, TruncationDirection::Left);
  EXPECT_EQ(f.ids, (std::vector<uint32_t>{4, 5}));
  ASSERT_EQ(f.overflowing.size(), 3u);
  EXPECT_EQ(f.overflowing[0].ids, (std::vector<uint32_t>{3, 4}));
  EXPECT_EQ(f.overflowing[2].ids, (std::vector<uint32_t>{1, 2}));
}

TEST(Encoding, PadBothDirections) {
  Encoding e = make({1, 2});
  e.pad(4, 0, 7, "[PAD]", PaddingDirection::Right);
  EXPECT_EQ(e.ids, (std::vector<uint32_t>{1, 2, 0, 0}));
  EXPECT_EQ(e.type_ids, (std::vector<uint32_t>{0, 0, 7, 7}));
  EXPECT_EQ(e.attention_mask, (std::vector<uint8_t>{1, 1, 0, 0}));
  EXPECT_EQ(e.special_tokens_mask, (std::vector<uint8_t>{0, 0, 1, 1}));
  EXPECT_EQ(e.tokens[3], "[PAD]");
  EXPECT_FALSE(e.word_ids[3].has_value());
  Encoding l = make({1});
  l.pad(3, 9, 0, "P", PaddingDirection::Left);
  EXPECT_EQ(l.ids, (std::vector<uint32_t>{9, 9, 1}));
  EXPECT_EQ(l.offsets[0], (std::pair<size_t, size_t>(0, 0)));
  Encoding s = make({1, 2, 3});
  s.pad(2, 0, 0, "P", PaddingDirection::Right);  // never shortens
  EXPECT_EQ(s.size(), 3u);
}

TEST(Encoding, AppendCombinesOverflowing) {
  Encoding a = make({1, 2, 3});
  a.truncate(2, 0, TruncationDirection::Right);  // [1 2] + ovf [3]
  Encoding b = make({4, 5});
  b.truncate(1, 0, TruncationDirection::Right);  // [4] + ovf [5]
  a.append(b);
  EXPECT_EQ(a.ids, (std::vector<uint32_t>{1, 2, 4}));
  // HF merge_with: (ours' ovf + pair), (ours' ovf + pair's ovf), (us + pair's ovf).
  ASSERT_EQ(a.overflowing.size(), 3u);
  EXPECT_EQ(a.overflowing[0].ids, (std::vector<uint32_t>{3, 4}));
  EXPECT_EQ(a.overflowing[1].ids, (std::vector<uint32_t>{3, 5}));
  EXPECT_EQ(a.overflowing[2].ids, (std::vector<uint32_t>{1, 2, 5}));
}

}  // namespace
}  // namespace keel::tok
