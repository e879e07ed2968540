#include "core/utf8_stream.h"

#include <utility>

namespace keel {
namespace {

// Length of the character a lead byte starts (0: not a lead byte).
size_t sequence_length(unsigned char c) {
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return 2;
  if (c >= 0xe0 && c <= 0xef) return 3;
  if (c >= 0xf0 && c <= 0xf4) return 4;
  return 0;
}

}  // namespace

std::string Utf8Streamer::push(std::string_view bytes) {
  pending_.append(bytes);
  // Look back at most 3 bytes for a lead byte whose sequence is cut off.
  size_t n = pending_.size();
  size_t keep = 0;
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    unsigned char c = static_cast<unsigned char>(pending_[n - back]);
    if ((c & 0xc0) == 0x80) continue;  // continuation byte: keep looking for its lead
    size_t len = sequence_length(c);
    if (len > back) keep = back;  // the character needs more bytes than have arrived
    break;
  }
  std::string out = pending_.substr(0, n - keep);
  pending_.erase(0, n - keep);
  return out;
}

std::string Utf8Streamer::flush() { return std::exchange(pending_, std::string()); }

}  // namespace keel
