// Precompiled (HF normalizers/precompiled.rs over spm_precompiled 0.1.4):
// SentencePiece's normalization rules, applied per extended grapheme cluster.
// A grapheme shorter than 6 bytes is first looked up whole; otherwise (or when
// no rule matches it) each of its chars is looked up alone. A lookup takes the
// rule of the shortest matching prefix and replaces the whole looked-up text
// with it, which HF calls weird but required for SentencePiece parity.
#include <utf8proc.h>

#include "tokenizer/normalizers/normalizers.h"
#include "tokenizer/unicode_util.h"

namespace keel::tok {

namespace {

// Appends the replacement of `old_chars` chars by `norm` as HF does: every new
// char replaces (change 0), except that a longer result marks its last
// (new - old) chars as insertions (+1) and a shorter one makes the last change
// pushed so far, possibly from an earlier char when `norm` is empty, absorb the
// difference.
void push_replacement(std::string_view norm, size_t old_chars, std::vector<CharChange>& out) {
  int new_chars = 0;
  size_t i = 0;
  while (i < norm.size()) {
    out.push_back({decode_utf8(norm, i), 0});
    ++new_chars;
  }
  const int diff = new_chars - static_cast<int>(old_chars);
  if (diff > 0) {
    for (int k = 0; k < diff; ++k) out[out.size() - 1 - k].change = 1;
  } else if (diff < 0 && !out.empty()) {
    out.back().change += diff;
  }
}

}  // namespace

Status PrecompiledNormalizer::normalize(NormalizedString& s) const {
  const std::string& text = s.normalized();
  thread_local std::vector<CharChange> changes;
  changes.clear();
  changes.reserve(text.size());
  bool modified = false;
  utf8proc_int32_t gb_state = 0;
  size_t g_start = 0;
  size_t i = 0;
  while (g_start < text.size()) {
    // Find the end of the grapheme starting at g_start. ASCII followed by ASCII
    // always breaks (except CR LF), which skips utf8proc for most text.
    i = g_start;
    char32_t c = decode_utf8(text, i);
    size_t g_end = i;
    size_t g_chars = 1;
    gb_state = 0;
    while (g_end < text.size()) {
      const auto next_byte = static_cast<unsigned char>(text[g_end]);
      if (c < 0x80 && next_byte < 0x80 && !(c == '\r' && next_byte == '\n')) break;
      size_t j = g_end;
      char32_t n = decode_utf8(text, j);
      if (utf8proc_grapheme_break_stateful(static_cast<utf8proc_int32_t>(c), static_cast<utf8proc_int32_t>(n),
                                           &gb_state))
        break;
      c = n;
      g_end = j;
      ++g_chars;
    }
    std::string_view g(text.data() + g_start, g_end - g_start);
    g_start = g_end;

    if (g.size() == 1 && !map_.ascii_may_match(static_cast<unsigned char>(g[0]))) {
      changes.push_back({static_cast<char32_t>(g[0]), 0});
      continue;
    }
    if (g.size() < 6) {
      if (auto norm = map_.transform(g)) {
        modified = true;
        push_replacement(*norm, g_chars, changes);
        continue;
      }
    }
    size_t k = 0;
    while (k < g.size()) {
      size_t start = k;
      char32_t ch = decode_utf8(g, k);
      if (auto norm = map_.transform(g.substr(start, k - start))) {
        modified = true;
        push_replacement(*norm, 1, changes);
      } else {
        changes.push_back({ch, 0});
      }
    }
  }
  if (modified) s.transform(changes, 0);
  return Status::Ok();
}

}  // namespace keel::tok
