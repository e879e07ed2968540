// Small UTF-8 and Unicode helpers shared by the tokenizer: decoding/encoding
// without allocation, and the Rust `char` predicates HF tokenizers relies on
// (char::is_whitespace, to_lowercase, to_uppercase), which differ in details
// from C's and from other Unicode libraries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace keel::tok {

// Byte length of the UTF-8 sequence starting with `lead` (1 for stray bytes).
inline size_t utf8_char_len(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xe0) == 0xc0) return 2;
  if ((lead & 0xf0) == 0xe0) return 3;
  if ((lead & 0xf8) == 0xf0) return 4;
  return 1;
}

inline size_t utf8_len_of(char32_t c) {
  return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
}

// Decodes the char at s[i] and advances i. `s` must be valid UTF-8 (inputs are
// validated once at the API boundary); a truncated tail decodes as U+FFFD.
inline char32_t decode_utf8(std::string_view s, size_t& i) {
  auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    ++i;
    return c;
  }
  size_t n = utf8_char_len(c);
  if (n == 1 || i + n > s.size()) {
    ++i;
    return 0xfffd;
  }
  char32_t cp = c & (0x7f >> n);
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
  i += n;
  return cp;
}

// Writes c as UTF-8 into out (4 bytes room); returns the length.
inline size_t encode_utf8(char32_t c, char* out) {
  if (c < 0x80) {
    out[0] = static_cast<char>(c);
    return 1;
  }
  if (c < 0x800) {
    out[0] = static_cast<char>(0xc0 | (c >> 6));
    out[1] = static_cast<char>(0x80 | (c & 0x3f));
    return 2;
  }
  if (c < 0x10000) {
    out[0] = static_cast<char>(0xe0 | (c >> 12));
    out[1] = static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    out[2] = static_cast<char>(0x80 | (c & 0x3f));
    return 3;
  }
  out[0] = static_cast<char>(0xf0 | (c >> 18));
  out[1] = static_cast<char>(0x80 | ((c >> 12) & 0x3f));
  out[2] = static_cast<char>(0x80 | ((c >> 6) & 0x3f));
  out[3] = static_cast<char>(0x80 | (c & 0x3f));
  return 4;
}

inline void append_utf8(std::string& s, char32_t c) {
  char buf[4];
  s.append(buf, encode_utf8(c, buf));
}

// Number of chars (code points) in valid UTF-8.
inline size_t utf8_count(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}

// Rust char::is_whitespace (the Unicode White_Space property).
inline bool rust_is_whitespace(char32_t c) {
  if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0d);
  return c == 0x85 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 ||
         c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

// Rust regex's \w: Alphabetic, marks, decimal digits, connector punctuation
// and joiners (used by added tokens' single_word rule).
bool rust_is_word_char(char32_t c);

// Rust char::to_lowercase / to_uppercase: writes 1..3 chars to out, returns how many.
size_t rust_to_lowercase(char32_t c, char32_t out[3]);
size_t rust_to_uppercase(char32_t c, char32_t out[3]);

}  // namespace keel::tok
