// The bulk of a model's JSON -- "vocab" and "merges", nearly all of a large
// tokenizer.json -- handed to the model factories as views, so a 150k-token
// vocabulary is built without first becoming an nlohmann DOM of 300k strings.
// The fast loader (fast_json.h) fills a field only when its whole section is
// well formed; otherwise the section stays in the nlohmann DOM and the model's
// own parser reports what is wrong, so errors read the same either way.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace keel::tok {

struct ModelBulk {
  // model.vocab, an object {token: id} whose ids are all integers in
  // [0, UINT32_MAX]: its entries in file order, repeated tokens included (the
  // last one wins, as with a serde HashMap). The DOM holds {} in its place.
  std::optional<std::vector<std::pair<std::string_view, uint32_t>>> vocab;
  // model.merges, all "a b" strings or all ["a", "b"] pairs: each merge's two
  // tokens in rank order ("#version" lines dropped). The DOM holds [] instead.
  std::optional<std::vector<std::pair<std::string_view, std::string_view>>> merges;
};

}  // namespace keel::tok
