// HF CharDelimiterSplit: splits on one char, removing it.
#include "tokenizer/pre_tokenizers/pre_tokenizers.h"
#include "tokenizer/pre_tokenizers/split_util.h"

namespace keel::tok {

Status CharDelimiterSplitPreTokenizer::pre_tokenize(PreTokenizedString& s) const {
  const char32_t d = delimiter_;
  return split_on_chars(s, [d](char32_t c) { return c == d; }, SplitBehavior::Removed);
}

}  // namespace keel::tok
