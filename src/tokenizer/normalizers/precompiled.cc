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
  thread_local std::vector<CharChange> tl_changes;
  std::vector<CharChange>& changes = tl_changes;
  changes.clear();
  bool modified = false;
  // Chars before `pending` are in `changes`; unchanged chars after it are only
  // pushed once some rule fires, so text no rule touches costs one scan.
  size_t pending = 0;
  auto replace = [&](size_t at, size_t end, std::string_view norm, size_t old_chars) {
    changes.reserve(text.size() + 8);
    size_t i = pending;
    while (i < at) changes.push_back({decode_utf8(text, i), 0});
    push_replacement(norm, old_chars, changes);
    pending = end;
    modified = true;
  };
  size_t g_start = 0;
  const size_t n = text.size();
  while (g_start < n) {
    const auto b = static_cast<unsigned char>(text[g_start]);
    // ASCII followed by ASCII is a grapheme of its own (except CR LF), and a
    // one-byte key has at most one rule: a table answers without the trie.
    if (b < 0x80 && (g_start + 1 == n || (static_cast<unsigned char>(text[g_start + 1]) < 0x80 &&
                                          !(b == '\r' && text[g_start + 1] == '\n')))) {
      if (auto norm = map_.ascii_rule(b)) replace(g_start, g_start + 1, *norm, 1);
      ++g_start;
      continue;
    }
    // Find the end of the grapheme starting at g_start.
    size_t i = g_start;
    char32_t c = decode_utf8(text, i);
    size_t g_end = i;
    size_t g_chars = 1;
    utf8proc_int32_t gb_state = 0;
    while (g_end < n) {
      const auto next_byte = static_cast<unsigned char>(text[g_end]);
      if (c < 0x80 && next_byte < 0x80 && !(c == '\r' && next_byte == '\n')) break;
      size_t j = g_end;
      char32_t next = decode_utf8(text, j);
      if (utf8proc_grapheme_break_stateful(static_cast<utf8proc_int32_t>(c),
                                           static_cast<utf8proc_int32_t>(next), &gb_state))
        break;
      c = next;
      g_end = j;
      ++g_chars;
    }
    std::string_view g(text.data() + g_start, g_end - g_start);
    if (g.size() < 6) {
      if (auto norm = map_.transform(g)) {
        replace(g_start, g_end, *norm, g_chars);
        g_start = g_end;
        continue;
      }
    }
    size_t k = 0;
    while (k < g.size()) {
      const size_t start = k;
      decode_utf8(g, k);
      if (auto norm = map_.transform(g.substr(start, k - start)))
        replace(g_start + start, g_start + k, *norm, 1);
    }
    g_start = g_end;
  }
  if (!modified) return Status::Ok();
  size_t i = pending;
  while (i < n) changes.push_back({decode_utf8(text, i), 0});
  s.transform(changes, 0);
  return Status::Ok();
}

}  // namespace keel::tok
