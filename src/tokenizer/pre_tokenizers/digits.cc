// HF Digits: isolates char::is_numeric chars (any N* category, not only 0-9),
// one by one (individual_digits) or as contiguous runs.
#include "tokenizer/pre_tokenizers/pre_tokenizers.h"
#include "tokenizer/pre_tokenizers/split_util.h"
#include "tokenizer/pre_tokenizers/unicode_tables.h"

namespace keel::tok {

Status DigitsPreTokenizer::pre_tokenize(PreTokenizedString& s) const {
  const UnicodeTables& t = UnicodeTables::get();
  return split_on_chars(s, [&](char32_t c) { return (t.classes(c) & kNumeric) != 0; },
                        individual_digits_ ? SplitBehavior::Isolated : SplitBehavior::Contiguous);
}

}  // namespace keel::tok
