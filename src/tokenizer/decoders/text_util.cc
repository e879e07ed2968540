// String helpers with Rust's exact semantics, which the decoders inherit from HF.
#include "tokenizer/decoders/decoders.h"

namespace keel::tok {

static inline size_t lead_len(unsigned char c) {
  if (c < 0xC0) return 1;
  if (c < 0xE0) return 2;
  if (c < 0xF0) return 3;
  return 4;
}

std::string rust_replace(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  if (from.empty()) {
    out.reserve(s.size() + to.size() * (s.size() + 1));
    for (size_t i = 0; i < s.size();) {
      size_t n = std::min(lead_len(static_cast<unsigned char>(s[i])), s.size() - i);
      out += to;
      out.append(s.substr(i, n));
      i += n;
    }
    out += to;
    return out;
  }
  out.reserve(s.size());
  size_t prev = 0;
  for (size_t pos = s.find(from); pos != std::string_view::npos; pos = s.find(from, prev)) {
    out.append(s.substr(prev, pos - prev));
    out += to;
    prev = pos + from.size();
  }
  out.append(s.substr(prev));
  return out;
}

std::string wordpiece_cleanup(std::string_view s) {
  static constexpr std::pair<std::string_view, std::string_view> kRules[] = {
      {" .", "."},    {" ?", "?"},     {" !", "!"},           {" ,", ","},     {" ' ", "'"},    {" n't", "n't"},
      {" 'm", "'m"},  {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
  };
  std::string out(s);
  for (const auto& [from, to] : kRules)
    if (out.find(from) != std::string::npos) out = rust_replace(out, from, to);
  return out;
}

std::string utf8_lossy(std::string_view b) {
  std::string out;
  out.reserve(b.size());
  const size_t n = b.size();
  auto at = [&](size_t i) { return static_cast<unsigned char>(b[i]); };
  for (size_t i = 0; i < n;) {
    unsigned char c = at(i);
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    }
    if (len == 0) {  // not a lead byte
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    // Count the bytes that still form a valid prefix; an incomplete or broken
    // sequence is replaced as a whole (its maximal valid prefix) by one U+FFFD.
    size_t k = 1;
    while (k < len && i + k < n) {
      unsigned char d = at(i + k);
      bool ok = k == 1 ? (d >= lo && d <= hi) : (d >= 0x80 && d <= 0xBF);
      if (!ok) break;
      ++k;
    }
    if (k == len) {
      out.append(b.substr(i, len));
    } else {
      out += "\xEF\xBF\xBD";
    }
    i += k;
  }
  return out;
}

}  // namespace keel::tok
