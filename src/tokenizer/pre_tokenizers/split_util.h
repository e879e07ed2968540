// Cutting a NormalizedString into pieces from a match list, shared by the
// pre-tokenizers that find their delimiters without a Pattern (hand-written
// scanners, Unicode class tables, inverted patterns).
#pragma once

#include <utility>
#include <vector>

#include "core/status.h"
#include "tokenizer/normalized_string.h"
#include "tokenizer/pre_tokenized_string.h"

namespace keel::tok {

// HF's find_matches output: ranges tiling the normalized text, flagged true
// where they are delimiters.
using MatchList = std::vector<std::pair<Range, bool>>;

// HF NormalizedString::split after find_matches: applies the delimiter
// behavior, then slices each kept range.
Result<std::vector<NormalizedString>> split_by_matches(const NormalizedString& s, MatchList& matches,
                                                       SplitBehavior behavior);

// One piece per range (normalized byte ranges, in order); empty ranges skipped.
Result<std::vector<NormalizedString>> slice_pieces(const NormalizedString& s,
                                                   const std::vector<Range>& ranges);

// Delimiter matches for every char with pred(char) true, as HF's char-predicate
// Pattern: each such char is its own match. `pred` gets the code point.
template <typename Pred>
void char_matches(std::string_view text, Pred pred, MatchList& out);

// Splits every split of `s` on the chars with pred(char) true, with `behavior`.
template <typename Pred>
Status split_on_chars(PreTokenizedString& s, Pred pred, SplitBehavior behavior);

}  // namespace keel::tok

#include "tokenizer/unicode_util.h"

namespace keel::tok {

template <typename Pred>
void char_matches(std::string_view text, Pred pred, MatchList& out) {
  out.clear();
  if (text.empty()) {
    out.push_back({{0, 0}, false});
    return;
  }
  size_t last = 0, i = 0;
  while (i < text.size()) {
    const size_t b = i;
    const char32_t c = decode_utf8(text, i);
    if (pred(c)) {
      if (last < b) out.push_back({{last, b}, false});
      out.push_back({{b, i}, true});
      last = i;
    }
  }
  if (last < text.size()) out.push_back({{last, text.size()}, false});
}

}  // namespace keel::tok

namespace keel::tok {

template <typename Pred>
Status split_on_chars(PreTokenizedString& s, Pred pred, SplitBehavior behavior) {
  return s.split([&](size_t, NormalizedString&& n) -> Result<std::vector<NormalizedString>> {
    thread_local MatchList matches;
    char_matches(n.normalized(), pred, matches);
    return split_by_matches(n, matches, behavior);
  });
}

}  // namespace keel::tok
