#include "tokenizer/unicode_util.h"

#include <utf8proc.h>

#include "tokenizer/normalizers/hf_unicode.h"

namespace keel::tok {

bool rust_is_word_char(char32_t c) {
  if (c < 0x80)
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  if (c == 0x200c || c == 0x200d) return true;  // Join_Control
  switch (utf8proc_category(static_cast<int32_t>(c))) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_PC:
      return true;
    case UTF8PROC_CATEGORY_SO:
      // Other_Alphabetic symbols: circled and squared Latin letters.
      return (c >= 0x24b6 && c <= 0x24e9) || (c >= 0x1f130 && c <= 0x1f149) ||
             (c >= 0x1f150 && c <= 0x1f169) || (c >= 0x1f170 && c <= 0x1f189);
    default:
      return false;
  }
}

size_t rust_to_lowercase(char32_t c, char32_t out[3]) {
  if (c < 0x80) {
    out[0] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
    return 1;
  }
  // The only unconditional multi-char lowercase mapping (SpecialCasing.txt).
  if (c == 0x130) {
    out[0] = 'i';
    out[1] = 0x307;
    return 2;
  }
  // Rust's tables are newer than utf8proc's.
  if (char32_t extra = hf_lowercase_extra(c)) {
    out[0] = extra;
    return 1;
  }
  out[0] = static_cast<char32_t>(utf8proc_tolower(static_cast<int32_t>(c)));
  return 1;
}

size_t rust_to_uppercase(char32_t c, char32_t out[3]) {
  if (c < 0x80) {
    out[0] = (c >= 'a' && c <= 'z') ? c - 32 : c;
    return 1;
  }
  // The common unconditional multi-char uppercase mappings (SpecialCasing.txt).
  switch (c) {
    case 0xdf: out[0] = 'S'; out[1] = 'S'; return 2;
    case 0x149: out[0] = 0x2bc; out[1] = 'N'; return 2;
    case 0x1f0: out[0] = 'J'; out[1] = 0x30c; return 2;
    case 0x587: out[0] = 0x535; out[1] = 0x552; return 2;
    case 0xfb00: out[0] = 'F'; out[1] = 'F'; return 2;
    case 0xfb01: out[0] = 'F'; out[1] = 'I'; return 2;
    case 0xfb02: out[0] = 'F'; out[1] = 'L'; return 2;
    case 0xfb03: out[0] = 'F'; out[1] = 'F'; out[2] = 'I'; return 3;
    case 0xfb04: out[0] = 'F'; out[1] = 'F'; out[2] = 'L'; return 3;
    case 0xfb05: case 0xfb06: out[0] = 'S'; out[1] = 'T'; return 2;
    default: break;
  }
  out[0] = static_cast<char32_t>(utf8proc_toupper(static_cast<int32_t>(c)));
  return 1;
}

}  // namespace keel::tok
