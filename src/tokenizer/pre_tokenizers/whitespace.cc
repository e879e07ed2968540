// HF Whitespace (the words of \w+|[^\w\s]+, Rust regex classes: HF splits on the
// inverted regex and removes the gaps) and WhitespaceSplit (split on
// char::is_whitespace, removed). Both keep maximal runs, found with the class table.
#include "tokenizer/pre_tokenizers/pre_tokenizers.h"
#include "tokenizer/pre_tokenizers/split_util.h"
#include "tokenizer/pre_tokenizers/unicode_tables.h"
#include "tokenizer/unicode_util.h"

namespace keel::tok {

namespace {

// Pieces = maximal runs of chars with the same non-zero kind(c); kind 0 chars are dropped.
template <typename Kind>
Status split_runs(PreTokenizedString& s, Kind kind) {
  return s.split([&](size_t, NormalizedString&& n) -> Result<std::vector<NormalizedString>> {
    thread_local std::vector<Range> ranges;
    ranges.clear();
    std::string_view text = n.normalized();
    size_t start = 0, i = 0;
    int current = 0;
    while (i < text.size()) {
      const size_t b = i;
      const int k = kind(decode_utf8(text, i));
      if (k != current) {
        if (current != 0) ranges.emplace_back(start, b);
        start = b;
        current = k;
      }
    }
    if (current != 0) ranges.emplace_back(start, text.size());
    return slice_pieces(n, ranges);
  });
}

}  // namespace

Status WhitespacePreTokenizer::pre_tokenize(PreTokenizedString& s) const {
  const UnicodeTables& t = UnicodeTables::get();
  return split_runs(s, [&](char32_t c) {
    const uint8_t cls = t.classes(c);
    return (cls & kWord) ? 1 : (cls & kSpace) ? 0 : 2;
  });
}

Status WhitespaceSplitPreTokenizer::pre_tokenize(PreTokenizedString& s) const {
  const UnicodeTables& t = UnicodeTables::get();
  return split_runs(s, [&](char32_t c) { return (t.classes(c) & kSpace) ? 0 : 1; });
}

}  // namespace keel::tok
