// Utf8Streamer: pieces that cut multi-byte characters come out whole.
#include "core/utf8_stream.h"

#include <gtest/gtest.h>

#include <random>

#include "core/utf8.h"

namespace keel {
namespace {

TEST(Utf8Streamer, HoldsIncompleteTrailingBytes) {
  Utf8Streamer s;
  const std::string cat = "\xf0\x9f\x90\xb1";  // U+1F431, 4 bytes
  EXPECT_EQ(s.push("a" + cat.substr(0, 1)), "a");
  EXPECT_EQ(s.held(), 1u);
  EXPECT_EQ(s.push(cat.substr(1, 2)), "");
  EXPECT_EQ(s.push(cat.substr(3) + "b"), cat + "b");
  EXPECT_EQ(s.held(), 0u);
  EXPECT_EQ(s.push("\xe6\x97"), "");           // 日 cut after two of three bytes
  EXPECT_EQ(s.flush(), "\xe6\x97");            // the end of the stream releases it as is
}

TEST(Utf8Streamer, InvalidBytesPassThrough) {
  Utf8Streamer s;
  EXPECT_EQ(s.push("x\xff"), "x\xff");   // never valid: not held
  EXPECT_EQ(s.push("\x80y"), "\x80y");   // stray continuation byte
  EXPECT_EQ(s.push("\xe6" "A"), "\xe6" "A");  // lead byte followed by ASCII: cannot complete
}

TEST(Utf8Streamer, RandomSplitsReassembleValidText) {
  const std::string text = "héllo 日本語 🐱👍🏽 שלום e\xcc\x81 end";
  std::mt19937 rng(1);
  for (int trial = 0; trial < 200; ++trial) {
    Utf8Streamer s;
    std::string out;
    for (size_t pos = 0; pos < text.size();) {
      size_t n = 1 + rng() % 5;
      std::string piece = s.push(std::string_view(text).substr(pos, n));
      EXPECT_TRUE(is_valid_utf8(piece)) << trial;
      out += piece;
      pos += n;
    }
    out += s.flush();
    EXPECT_EQ(out, text);
  }
}

}  // namespace
}  // namespace keel
