// Streaming decoded token text as UTF-8: a token's bytes can end in the
// middle of a character (byte-level BPE splits multi-byte characters), so
// the incomplete trailing bytes are held until the next piece completes them.
#pragma once

#include <string>
#include <string_view>

namespace keel {

class Utf8Streamer {
 public:
  // Appends bytes; returns the longest prefix of the pending bytes that does
  // not end inside a multi-byte character. Invalid bytes are passed through
  // unchanged (they can never become valid), so nothing is held forever.
  std::string push(std::string_view bytes);
  // At the end of the stream: whatever is still held (possibly incomplete).
  std::string flush();
  size_t held() const { return pending_.size(); }

 private:
  std::string pending_;
};

}  // namespace keel
