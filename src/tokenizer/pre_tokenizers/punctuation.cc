// HF Punctuation: split on ASCII punctuation or Unicode P* chars (the
// unicode_categories crate's tables), with the configured behavior.
#include "tokenizer/pre_tokenizers/pre_tokenizers.h"
#include "tokenizer/pre_tokenizers/split_util.h"
#include "tokenizer/pre_tokenizers/unicode_tables.h"

namespace keel::tok {

Status PunctuationPreTokenizer::pre_tokenize(PreTokenizedString& s) const {
  const UnicodeTables& t = UnicodeTables::get();
  return split_on_chars(s, [&](char32_t c) { return (t.classes(c) & kPunct) != 0; }, behavior_);
}

}  // namespace keel::tok
