// The one-step normalizers: Lowercase, Strip, StripAccents, Prepend, ByteLevel,
// Sequence (HF normalizers/{utils,strip,prepend,byte_level}.rs).
#include "tokenizer/byte_level.h"
#include "tokenizer/normalizers/char_edits.h"
#include "tokenizer/normalizers/hf_unicode.h"
#include "tokenizer/normalizers/normalizers.h"

namespace keel::tok {

Status LowercaseNormalizer::normalize(NormalizedString& s) const {
  s.lowercase();
  return Status::Ok();
}

Status StripNormalizer::normalize(NormalizedString& s) const {
  if (left_ && right_) {
    s.strip();
  } else {
    if (left_) s.lstrip();
    if (right_) s.rstrip();
  }
  return Status::Ok();
}

Status StripAccentsNormalizer::normalize(NormalizedString& s) const {
  filter_map(s, hf_is_combining_mark, [](char32_t c) { return c; });
  return Status::Ok();
}

Status PrependNormalizer::normalize(NormalizedString& s) const {
  if (!s.empty()) s.prepend(prepend_);
  return Status::Ok();
}

Status ByteLevelNormalizer::normalize(NormalizedString& s) const {
  if (s.empty()) return Status::Ok();
  // Each byte of a char becomes one alphabet char; the first replaces the char,
  // the others are insertions (HF: change = i > 0).
  const std::string& text = s.normalized();
  thread_local std::vector<CharChange> changes;
  changes.clear();
  changes.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    decode_utf8(text, i);
    for (size_t k = start; k < i; ++k)
      changes.push_back({byte_to_unicode(static_cast<uint8_t>(text[k])), k > start ? 1 : 0});
  }
  s.transform(changes, 0);
  return Status::Ok();
}

Status SequenceNormalizer::normalize(NormalizedString& s) const {
  for (const auto& step : steps_) KEEL_RETURN_IF_ERROR(step->normalize(s));
  return Status::Ok();
}

}  // namespace keel::tok
