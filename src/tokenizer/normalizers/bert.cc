// BertNormalizer (HF normalizers/bert.rs). BERT tokenizers run it on every
// input, so pure-ASCII text takes a one-pass path; everything else follows
// HF's four steps one by one, with HF's own character tables (hf_unicode.h).
#include <cstring>

#include "tokenizer/normalizers/char_edits.h"
#include "tokenizer/normalizers/hf_unicode.h"
#include "tokenizer/normalizers/normalizers.h"

namespace keel::tok {

namespace {

bool is_ascii(const std::string& s) {
  // 8 bytes at a time: any high bit set means non-ASCII.
  size_t i = 0;
  uint64_t acc = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    acc |= w;
  }
  for (; i < s.size(); ++i) acc |= static_cast<unsigned char>(s[i]);
  return (acc & 0x8080808080808080ull) == 0;
}

}  // namespace

BertNormalizer::BertNormalizer(BertNormalizerOptions o)
    : o_(o), strip_accents_(o.strip_accents.value_or(o.lowercase)) {}

bool BertNormalizer::normalize_ascii(NormalizedString& s) const {
  // On ASCII, handle_chinese_chars, NFD and the mark filter are identities, so
  // the steps fuse into one filter + map: drop controls, whitespace -> ' ',
  // A-Z -> a-z. Dropping is the only step that moves alignments, and HF's
  // filter then map give every kept char its own alignment, as one pass does.
  const bool clean = o_.clean_text, lower = o_.lowercase;
  filter_map(
      s, [clean](char32_t c) { return clean && (c < 0x20 || c == 0x7f) && c != '\t' && c != '\n' && c != '\r'; },
      [clean, lower](char32_t c) -> char32_t {
        if (clean && (c == '\t' || c == '\n' || c == '\r')) return ' ';
        if (lower && c >= 'A' && c <= 'Z') return c + 32;
        return c;
      });
  return true;
}

Status BertNormalizer::normalize(NormalizedString& s) const {
  if (is_ascii(s.normalized()) && normalize_ascii(s)) return Status::Ok();
  if (o_.clean_text) {
    filter_map(s, hf_bert_clean_removes,
               [](char32_t c) { return hf_bert_clean_is_space(c) ? U' ' : c; });
  }
  if (o_.handle_chinese_chars) {
    // HF emits (' ', 0), (c, +1), (' ', +1): the first space takes the
    // ideograph's place and the ideograph itself counts as the insertion.
    const std::string& text = s.normalized();
    thread_local std::vector<CharChange> changes;
    changes.clear();
    bool any = false;
    size_t i = 0;
    while (i < text.size()) {
      char32_t c = decode_utf8(text, i);
      if (c >= 0x3400 && hf_bert_is_chinese_char(c)) {
        any = true;
        changes.push_back({U' ', 0});
        changes.push_back({c, 1});
        changes.push_back({U' ', 1});
      } else {
        changes.push_back({c, 0});
      }
    }
    if (any) s.transform(changes, 0);
  }
  if (strip_accents_) {
    s.nfd();
    filter_map(s, hf_bert_is_nonspacing_mark, [](char32_t c) { return c; });
  }
  if (o_.lowercase) s.lowercase();
  return Status::Ok();
}

}  // namespace keel::tok
