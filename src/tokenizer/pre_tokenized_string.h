// The input after added-token extraction and normalization, cut into splits by
// the pre-tokenizer; each split is then tokenized by the model. HF tokenizers'
// PreTokenizedString (tokenizers/src/tokenizer/pre_tokenizer.rs).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "tokenizer/normalized_string.h"
#include "tokenizer/token.h"

namespace keel::tok {

struct Split {
  NormalizedString normalized;
  std::optional<std::vector<Token>> tokens;  // set once tokenized (e.g. added tokens)
};

class PreTokenizedString {
 public:
  PreTokenizedString() = default;
  explicit PreTokenizedString(std::string text);
  explicit PreTokenizedString(NormalizedString normalized);

  std::vector<Split>& splits() { return splits_; }
  const std::vector<Split>& splits() const { return splits_; }

  // Replaces every split that has no tokens yet by the pieces f(index, split)
  // returns (pieces may be empty strings; they are dropped, as HF does).
  Status split(const std::function<Result<std::vector<NormalizedString>>(size_t, NormalizedString&&)>& f);
  // Normalizes every split that has no tokens yet.
  Status normalize(const std::function<Status(NormalizedString&)>& f);
  // Tokenizes every split that has no tokens yet.
  Status tokenize(const std::function<Result<std::vector<Token>>(const NormalizedString&)>& f);

 private:
  std::vector<Split> splits_;
};

}  // namespace keel::tok
