// PreTokenizedString: HF tokenizers' pre_tokenizer.rs. Splits that already carry
// tokens (added tokens) are passed through untouched by every step.
#include "tokenizer/pre_tokenized_string.h"

namespace keel::tok {

PreTokenizedString::PreTokenizedString(std::string text)
    : PreTokenizedString(NormalizedString(std::move(text))) {}

PreTokenizedString::PreTokenizedString(NormalizedString normalized) {
  splits_.push_back(Split{std::move(normalized), std::nullopt});
}

Status PreTokenizedString::split(
    const std::function<Result<std::vector<NormalizedString>>(size_t, NormalizedString&&)>& f) {
  std::vector<Split> out;
  out.reserve(splits_.size() * 2);
  for (size_t i = 0; i < splits_.size(); ++i) {
    Split& s = splits_[i];
    if (s.tokens) {
      out.push_back(std::move(s));
      continue;
    }
    auto pieces = f(i, std::move(s.normalized));
    if (!pieces.ok()) return pieces.status();
    out.reserve(out.size() + pieces.value().size() + (splits_.size() - i - 1));
    for (NormalizedString& p : pieces.value()) {
      if (p.empty()) continue;  // HF drops empty pieces
      out.push_back(Split{std::move(p), std::nullopt});
    }
  }
  splits_ = std::move(out);
  return Status::Ok();
}

Status PreTokenizedString::normalize(const std::function<Status(NormalizedString&)>& f) {
  for (Split& s : splits_) {
    if (s.tokens) continue;
    KEEL_RETURN_IF_ERROR(f(s.normalized));
  }
  return Status::Ok();
}

Status PreTokenizedString::tokenize(
    const std::function<Result<std::vector<Token>>(const NormalizedString&)>& f) {
  for (Split& s : splits_) {
    if (s.tokens) continue;
    auto toks = f(s.normalized);
    if (!toks.ok()) return toks.status();
    s.tokens = std::move(toks.value());
  }
  return Status::Ok();
}

}  // namespace keel::tok
