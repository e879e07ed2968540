#include "tokenizer/pre_tokenizers/pre_tokenizers.h"

namespace keel::tok {

Status SequencePreTokenizer::pre_tokenize(PreTokenizedString& s) const {
  for (const auto& p : items_) KEEL_RETURN_IF_ERROR(p->pre_tokenize(s));
  return Status::Ok();
}

}  // namespace keel::tok
