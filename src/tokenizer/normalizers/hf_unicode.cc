// Lookups into the measured HF tables (see hf_unicode.h). Each table is a sorted
// list of inclusive ranges; ASCII answers come from small bitmaps first since
// they dominate real text.
#include "tokenizer/normalizers/hf_unicode.h"

#include <algorithm>
#include <cstdint>
#include <iterator>

#include <utf8proc.h>

namespace keel::tok {

namespace {

struct CpRange {
  char32_t lo, hi;
};
struct CpMap {
  char32_t from, to;
};

#include "tokenizer/normalizers/hf_unicode_tables.inc"

template <size_t N>
bool in_ranges(const CpRange (&table)[N], char32_t c) {
  // First range whose hi >= c.
  const CpRange* it = std::lower_bound(std::begin(table), std::end(table), c,
                                       [](const CpRange& r, char32_t v) { return r.hi < v; });
  return it != std::end(table) && it->lo <= c;
}

}  // namespace

bool hf_bert_clean_removes(char32_t c) {
  if (c < 0x80) return c == 0 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f;
  return in_ranges(kBertCleanRemoved, c);
}

bool hf_bert_clean_is_space(char32_t c) {
  if (c < 0x80) return c == ' ' || c == '\t' || c == '\n' || c == '\r';
  return in_ranges(kBertCleanSpace, c);
}

bool hf_bert_is_nonspacing_mark(char32_t c) { return c >= 0x300 && in_ranges(kBertMn, c); }

bool hf_is_combining_mark(char32_t c) { return c >= 0x300 && in_ranges(kCombiningMark, c); }

bool hf_unicode9_assigned(char32_t c) { return c < 0x378 || in_ranges(kUnicode9Assigned, c); }

int hf_ccc(char32_t c) {
  if (c < 0x300) return 0;
  const int ccc = utf8proc_get_property(static_cast<utf8proc_int32_t>(c))->combining_class;
  return ccc != 0 && hf_unicode9_assigned(c) ? ccc : 0;
}

size_t hf_canonical_decompose(char32_t c, char32_t out[4]) {
  out[0] = c;
  // Nothing below U+00C0 decomposes canonically.
  if (c < 0xC0 || !hf_unicode9_assigned(c)) return 1;
  utf8proc_int32_t buf[8];
  int last_boundclass = 0;
  const utf8proc_ssize_t n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c), buf, 8,
                                                     UTF8PROC_DECOMPOSE, &last_boundclass);
  if (n <= 0 || n > 4) return 1;
  for (utf8proc_ssize_t i = 0; i < n; ++i) out[i] = static_cast<char32_t>(buf[i]);
  return static_cast<size_t>(n);
}

char32_t hf_lowercase_extra(char32_t c) {
  if (c < 0x1C89) return 0;
  const CpMap* it = std::lower_bound(std::begin(kLowercaseExtra), std::end(kLowercaseExtra), c,
                                     [](const CpMap& m, char32_t v) { return m.from < v; });
  return it != std::end(kLowercaseExtra) && it->from == c ? it->to : 0;
}

}  // namespace keel::tok
