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

// All four steps in one pass and one transform. HF's steps are each a
// per-char rewrite whose outputs all take the alignment of the char they came
// from, so their composition is too: every input char becomes a group of
// output chars (first change 0, the rest +1) or is removed (absorbed, change
// -1, by the entry before it). Two things break that and send the caller to the
// step-by-step path (returns false): NFD reordering marks across chars, and a
// removed char right after a group ending in an insertion (nothing there can
// absorb it without moving the insertion's alignment). A string starting with
// inserted chars (a Prepend ran before) goes that way too, since HF's
// transforms then skip those chars.
bool BertNormalizer::normalize_fused(NormalizedString& s) const {
  const auto& align = s.alignments();
  if (!align.empty() && align.front().first == align.front().second) return false;
  const std::string& text = s.normalized();
  thread_local std::vector<CharChange> tl_changes;
  std::vector<CharChange>& changes = tl_changes;  // one thread_local lookup, not one per push
  changes.clear();
  size_t leading = 0;
  bool changed = false;
  int last_ccc = 0;  // of the last decomposed char (canonical ordering check)
  // Removes the input char just read: HF's filter lets the kept char before it
  // absorb it, or skips it as part of the initial offset.
  auto remove = [&]() {
    changed = true;
    if (changes.empty()) {
      ++leading;
      return true;
    }
    if (changes.back().change > 0) return false;
    --changes.back().change;
    return true;
  };
  const bool clean = o_.clean_text, lower = o_.lowercase;
  size_t i = 0;
  while (i < text.size()) {
    const auto b = static_cast<unsigned char>(text[i]);
    if (b < 0x80) {
      // ASCII: no decomposition, no mark, combining class 0, one-char lowercase.
      ++i;
      char32_t a = b;
      if (clean) {
        if ((b < 0x20 && b != '\t' && b != '\n' && b != '\r') || b == 0x7f) {
          if (!remove()) return false;
          continue;
        }
        if (b == '\t' || b == '\n' || b == '\r') a = U' ';
      }
      if (lower && a >= 'A' && a <= 'Z') a += 32;
      changed |= a != b;
      changes.push_back({a, 0});
      last_ccc = 0;
      continue;
    }
    const char32_t c = decode_utf8(text, i);
    // clean_text
    char32_t c1 = c;
    if (clean) {
      if (hf_bert_clean_removes(c)) {
        if (!remove()) return false;
        continue;
      }
      if (hf_bert_clean_is_space(c)) c1 = U' ';
    }
    // handle_chinese_chars: up to three chars, each through NFD, the mark
    // filter and lowercase.
    char32_t stage2[3];
    size_t n2 = 0;
    if (o_.handle_chinese_chars && c1 >= 0x3400 && hf_bert_is_chinese_char(c1)) {
      stage2[n2++] = U' ';
      stage2[n2++] = c1;
      stage2[n2++] = U' ';
    } else {
      stage2[n2++] = c1;
    }
    const size_t group_start = changes.size();
    for (size_t k = 0; k < n2; ++k) {
      char32_t dec[4];
      size_t nd = 1;
      dec[0] = stage2[k];
      if (strip_accents_) nd = hf_canonical_decompose(stage2[k], dec);
      for (size_t d = 0; d < nd; ++d) {
        char32_t x = dec[d];
        if (strip_accents_) {
          const int ccc = hf_ccc(x);
          if (ccc != 0 && ccc < last_ccc) return false;  // NFD would reorder
          last_ccc = ccc;
          if (hf_bert_is_nonspacing_mark(x)) continue;
        }
        if (lower) {
          char32_t low[3];
          const size_t nl = rust_to_lowercase(x, low);
          for (size_t l = 0; l < nl; ++l)
            changes.push_back({low[l], changes.size() == group_start ? 0 : 1});
        } else {
          changes.push_back({x, changes.size() == group_start ? 0 : 1});
        }
      }
    }
    const size_t group_size = changes.size() - group_start;
    if (group_size == 0) {
      if (!remove()) return false;
      continue;
    }
    changed |= group_size != 1 || changes[group_start].ch != c;
  }
  if (changed) s.transform(changes, leading);
  return true;
}

Status BertNormalizer::normalize(NormalizedString& s) const {
  if (is_ascii(s.normalized()) && normalize_ascii(s)) return Status::Ok();
  if (normalize_fused(s)) return Status::Ok();
  normalize_steps(s);
  return Status::Ok();
}

// HF's bert.rs as written, one NormalizedString operation per step.
void BertNormalizer::normalize_steps(NormalizedString& s) const {
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
}

}  // namespace keel::tok
