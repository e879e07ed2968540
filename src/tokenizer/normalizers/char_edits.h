// Builds the (char, change) lists NormalizedString::transform takes for the
// common per-char edits, with the predicates inlined (templates, not
// std::function: these run once per char on the hot path).
#pragma once

#include <string_view>
#include <vector>

#include "tokenizer/normalized_string.h"
#include "tokenizer/unicode_util.h"

namespace keel::tok {

// HF's NormalizedString::filter followed by map, fused: chars with drop(c) are
// removed (a kept char absorbs, as change -n, the n dropped chars after it;
// dropped chars at the start become the initial offset), kept chars become
// map(c) with change 0. Returns false, leaving `s` alone, when nothing would
// change (HF's transform is then the identity).
template <typename Drop, typename Map>
bool filter_map(NormalizedString& s, Drop&& drop, Map&& map) {
  thread_local std::vector<CharChange> changes;
  changes.clear();
  const std::string& text = s.normalized();
  size_t leading = 0;
  bool seen_kept = false, changed = false;
  size_t i = 0;
  while (i < text.size()) {
    char32_t c = decode_utf8(text, i);
    if (drop(c)) {
      changed = true;
      if (!seen_kept) ++leading;
      else --changes.back().change;
      continue;
    }
    seen_kept = true;
    char32_t m = map(c);
    changed |= m != c;
    changes.push_back({m, 0});
  }
  if (!changed) return false;
  s.transform(changes, leading);
  return true;
}

}  // namespace keel::tok
