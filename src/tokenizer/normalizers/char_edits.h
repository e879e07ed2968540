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
  thread_local std::vector<CharChange> tl_changes;
  std::vector<CharChange>& changes = tl_changes;
  const std::string& text = s.normalized();
  // Until the first edit nothing is recorded: text that needs no edit costs
  // one scan, and the untouched prefix is pushed when the first edit comes.
  bool editing = false;
  size_t leading = 0;
  size_t i = 0;
  while (i < text.size()) {
    const size_t at = i;
    const char32_t c = decode_utf8(text, i);
    const bool dropped = drop(c);
    const char32_t m = dropped ? c : map(c);
    if (!editing) {
      if (!dropped && m == c) continue;
      editing = true;
      changes.clear();
      changes.reserve(text.size());
      size_t k = 0;
      while (k < at) changes.push_back({decode_utf8(text, k), 0});
    }
    if (dropped) {
      if (changes.empty()) ++leading;
      else --changes.back().change;
      continue;
    }
    changes.push_back({m, 0});
  }
  if (!editing) return false;
  s.transform(changes, leading);
  return true;
}

}  // namespace keel::tok
