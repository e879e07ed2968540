// NFC / NFD / NFKC / NFKD and Nmt (HF normalizers/unicode.rs). The forms
// themselves live in NormalizedString, which reproduces HF's alignment rules
// and its Unicode 9.0 tables.
#include "tokenizer/normalizers/char_edits.h"
#include "tokenizer/normalizers/normalizers.h"

namespace keel::tok {

Status UnicodeNormalizer::normalize(NormalizedString& s) const {
  switch (form_) {
    case UnicodeForm::NFC: s.nfc(); break;
    case UnicodeForm::NFD: s.nfd(); break;
    case UnicodeForm::NFKC: s.nfkc(); break;
    case UnicodeForm::NFKD: s.nfkd(); break;
  }
  return Status::Ok();
}

Status NmtNormalizer::normalize(NormalizedString& s) const {
  // SentencePiece's NMT rules: drop ASCII/C1 controls (keeping \t \n \f \r),
  // then map the remaining odd spaces and separators to ' '.
  filter_map(
      s,
      [](char32_t c) {
        return (c >= 0x01 && c <= 0x08) || c == 0x0b || (c >= 0x0e && c <= 0x1f) || c == 0x7f ||
               c == 0x8f || c == 0x9f;
      },
      [](char32_t c) -> char32_t {
        switch (c) {
          case 0x09: case 0x0a: case 0x0c: case 0x0d: case 0x1680: case 0x200b: case 0x200c:
          case 0x200d: case 0x200e: case 0x200f: case 0x2028: case 0x2029: case 0x2581:
          case 0xfeff: case 0xfffd:
            return U' ';
          default:
            return c;
        }
      });
  return Status::Ok();
}

}  // namespace keel::tok
