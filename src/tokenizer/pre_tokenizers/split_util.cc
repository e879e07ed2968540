#include "tokenizer/pre_tokenizers/split_util.h"

#include <algorithm>

namespace keel::tok {

Result<std::vector<NormalizedString>> split_by_matches(const NormalizedString& s, MatchList& matches,
                                                       SplitBehavior behavior) {
  // (range, remove) once the behavior is applied, as HF's split().
  MatchList cut;
  cut.reserve(matches.size());
  switch (behavior) {
    case SplitBehavior::Isolated:
      for (auto& [r, m] : matches) cut.push_back({r, false});
      break;
    case SplitBehavior::Removed:
      cut = matches;
      break;
    case SplitBehavior::Contiguous: {
      bool prev = false;
      for (auto& [r, m] : matches) {
        if (m == prev && !cut.empty()) cut.back().first.second = r.second;
        else cut.push_back({r, false});
        prev = m;
      }
      break;
    }
    case SplitBehavior::MergedWithPrevious: {
      bool prev = false;
      for (auto& [r, m] : matches) {
        if (m && !prev && !cut.empty()) cut.back().first.second = r.second;
        else cut.push_back({r, false});
        prev = m;
      }
      break;
    }
    case SplitBehavior::MergedWithNext: {
      bool prev = false;
      for (auto it = matches.rbegin(); it != matches.rend(); ++it) {
        auto& [r, m] = *it;
        if (m && !prev && !cut.empty()) cut.back().first.first = r.first;
        else cut.push_back({r, false});
        prev = m;
      }
      std::reverse(cut.begin(), cut.end());
      break;
    }
  }
  std::vector<NormalizedString> out;
  out.reserve(cut.size());
  for (auto& [r, remove] : cut) {
    if (remove) continue;
    auto piece = s.slice_normalized(r);
    if (!piece)
      return Error("split at bytes [", r.first, ", ", r.second, ") is not on character boundaries");
    out.push_back(std::move(*piece));
  }
  return out;
}

Result<std::vector<NormalizedString>> slice_pieces(const NormalizedString& s,
                                                   const std::vector<Range>& ranges) {
  std::vector<NormalizedString> out;
  out.reserve(ranges.size());
  for (const Range& r : ranges) {
    if (r.first == r.second) continue;
    auto piece = s.slice_normalized(r);
    if (!piece)
      return Error("split at bytes [", r.first, ", ", r.second, ") is not on character boundaries");
    out.push_back(std::move(*piece));
  }
  return out;
}

}  // namespace keel::tok
