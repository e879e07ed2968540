// TemplateProcessing: "[CLS] $A [SEP]" / "[CLS] $A [SEP] $B:1 [SEP]:1".
#include "tokenizer/post_processors/post_processors.h"

namespace keel::tok {

TemplateProcessing::TemplateProcessing(std::vector<TemplatePiece> single, std::vector<TemplatePiece> pair,
                                       std::map<std::string, TemplateSpecialToken> special_tokens)
    : single_(std::move(single)), pair_(std::move(pair)), special_tokens_(std::move(special_tokens)) {
  auto count = [&](const std::vector<TemplatePiece>& t) {
    size_t n = 0;
    for (const TemplatePiece& p : t) {
      if (p.is_sequence) continue;
      auto it = special_tokens_.find(p.special);
      if (it != special_tokens_.end()) n += it->second.ids.size();
    }
    return n;
  };
  added_single_ = count(single_);
  added_pair_ = count(pair_);
}

Status TemplateProcessing::process_encodings(std::vector<Encoding>& encodings, bool add_special_tokens) const {
  if (encodings.size() != 1 && encodings.size() != 2)
    return Error("TemplateProcessing: expected 1 or 2 encodings, got ", encodings.size(),
                 " (a previous processor in the Sequence already split them)");
  const std::vector<TemplatePiece>& tpl = encodings.size() == 2 ? pair_ : single_;
  std::vector<Encoding> out;
  out.reserve(tpl.size());
  for (size_t k = 0; k < tpl.size(); ++k) {
    const TemplatePiece& p = tpl[k];
    if (p.is_sequence) {
      if (p.sequence >= encodings.size())
        return Error("TemplateProcessing: the single-sequence template uses $B");
      // Only the encoding's own type ids change; its overflowing windows keep
      // theirs (HF does the same).
      Encoding& enc = encodings[p.sequence];
      enc.type_ids.assign(enc.size(), p.type_id);
      enc.set_sequence_id(p.sequence);
      // The last piece naming this sequence takes it; an earlier one (a
      // template may repeat $A) copies it.
      bool used_later = false;
      for (size_t q = k + 1; q < tpl.size(); ++q)
        used_later |= tpl[q].is_sequence && tpl[q].sequence == p.sequence;
      if (used_later) out.push_back(enc);
      else out.push_back(std::move(enc));
    } else if (add_special_tokens) {
      auto it = special_tokens_.find(p.special);
      if (it == special_tokens_.end())
        return Error("TemplateProcessing: special token \"", p.special, "\" is used but not defined");
      const TemplateSpecialToken& st = it->second;
      Encoding e;
      const size_t n = st.ids.size();
      e.ids = st.ids;
      e.tokens = st.tokens;
      e.type_ids.assign(n, p.type_id);
      e.offsets.assign(n, {0, 0});
      e.special_tokens_mask.assign(n, 1);
      e.attention_mask.assign(n, 1);
      e.word_ids.assign(n, std::nullopt);
      e.sequence_ids.assign(n, std::nullopt);
      out.push_back(std::move(e));
    }
  }
  encodings = std::move(out);
  return Status::Ok();
}

}  // namespace keel::tok
