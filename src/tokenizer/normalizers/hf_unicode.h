// The Unicode character tables HF tokenizers 0.23.2 actually uses, which are
// not one Unicode version: BertNormalizer's control / non-spacing-mark tests
// come from the old unicode_categories crate, StripAccents and the NFx forms
// from unicode-normalization-alignments (Unicode 9.0), lowercase from Rust std
// (Unicode 16). utf8proc is Unicode 15, so where they differ keel asks these.
// The tables are measured on HF itself, code point by code point
// (gen_hf_unicode_tables.py -> hf_unicode_tables.inc).
#pragma once

#include <cstddef>

namespace keel::tok {

// BertNormalizer clean_text: removed chars (NUL, U+FFFD, Cc/Cf/Co/Cs but not \t \n \r).
bool hf_bert_clean_removes(char32_t c);
// BertNormalizer clean_text: chars replaced by ' ' (\t \n \r and Rust's White_Space).
bool hf_bert_clean_is_space(char32_t c);
// BertNormalizer strip_accents: non-spacing marks (filtered after NFD).
bool hf_bert_is_nonspacing_mark(char32_t c);
// StripAccents: combining marks (unicode-normalization-alignments' is_combining_mark).
bool hf_is_combining_mark(char32_t c);
// BertNormalizer handle_chinese_chars: the CJK ideograph blocks of HF's bert.rs.
inline bool hf_bert_is_chinese_char(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// Whether c was assigned in Unicode 9.0. HF's NFD/NFC/NFKD/NFKC treat every
// other code point as an inert starter: combining class 0, no decomposition,
// never part of a composition (utf8proc knows them and would differ).
bool hf_unicode9_assigned(char32_t c);
// HF's (Unicode 9.0) canonical combining class: utf8proc's, 0 for later chars.
int hf_ccc(char32_t c);
// HF's full canonical decomposition of one char (Hangul included) into out
// (room for 4, the longest); returns the count (1 and c itself when none).
size_t hf_canonical_decompose(char32_t c, char32_t out[4]);

// Rust's char::to_lowercase for the chars where it differs from
// utf8proc_tolower (Unicode 16 additions); 0 for every other char.
char32_t hf_lowercase_extra(char32_t c);

}  // namespace keel::tok
