#include "tokenizer/pre_tokenizers/split_util.h"

namespace keel::tok {

Result<std::vector<NormalizedString>> split_by_matches(const NormalizedString& s, MatchList& matches,
                                                       SplitBehavior behavior) {
  return s.split_matches(matches, behavior);
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
