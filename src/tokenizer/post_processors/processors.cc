// process() and the fixed-shape processors: Bert, Roberta, ByteLevel, Sequence.
#include "tokenizer/post_processors/post_processors.h"

#include <algorithm>

namespace keel::tok {

Result<Encoding> EncodingsProcessor::process(Encoding encoding, std::optional<Encoding> pair,
                                             bool add_special_tokens) const {
  std::vector<Encoding> encodings;
  encodings.reserve(pair ? 2 : 1);
  encodings.push_back(std::move(encoding));
  if (pair) encodings.push_back(std::move(*pair));
  for (size_t i = 0; i < encodings.size(); ++i) encodings[i].set_sequence_id(static_cast<uint32_t>(i));
  KEEL_RETURN_IF_ERROR(process_encodings(encodings, add_special_tokens));
  // HF Encoding::merge: start empty, merge_with each in turn.
  Encoding merged;
  for (Encoding& e : encodings) merged.append(std::move(e));
  return merged;
}

namespace {

struct Added {
  const SpecialTokenRef* token;
  uint32_t type_id;
};

// `before` + body + `after`, as Bert/Roberta build their encodings: the body's
// special-tokens mask becomes 0, its type ids are kept (or all set to
// body_type), the attention mask is all 1.
Encoding surround(const Encoding& body, std::initializer_list<Added> before, std::initializer_list<Added> after,
                  std::optional<uint32_t> body_type) {
  Encoding e;
  const size_t n = body.size() + before.size() + after.size();
  e.ids.reserve(n);
  e.type_ids.reserve(n);
  e.tokens.reserve(n);
  e.offsets.reserve(n);
  e.special_tokens_mask.reserve(n);
  e.word_ids.reserve(n);
  e.sequence_ids.reserve(n);
  auto add_special = [&](const Added& a) {
    e.ids.push_back(a.token->id);
    e.type_ids.push_back(a.type_id);
    e.tokens.push_back(a.token->token);
    e.offsets.emplace_back(0, 0);
    e.special_tokens_mask.push_back(1);
    e.word_ids.push_back(std::nullopt);
    e.sequence_ids.push_back(std::nullopt);
  };
  for (const Added& a : before) add_special(a);
  for (size_t i = 0; i < body.size(); ++i) {
    e.ids.push_back(body.ids[i]);
    e.type_ids.push_back(body_type ? *body_type : (i < body.type_ids.size() ? body.type_ids[i] : 0));
    e.tokens.push_back(i < body.tokens.size() ? body.tokens[i] : std::string());
    e.offsets.push_back(i < body.offsets.size() ? body.offsets[i] : std::pair<size_t, size_t>(0, 0));
    e.special_tokens_mask.push_back(0);
    e.word_ids.push_back(i < body.word_ids.size() ? body.word_ids[i] : std::nullopt);
    e.sequence_ids.push_back(i < body.sequence_ids.size() ? body.sequence_ids[i] : std::nullopt);
  }
  for (const Added& a : after) add_special(a);
  e.attention_mask.assign(e.ids.size(), 1);
  return e;
}

// Rust's char::is_whitespace (Unicode White_Space).
bool is_unicode_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Decodes the code point starting at s[i] (length n).
char32_t decode(std::string_view s, size_t i, size_t n) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  if (n == 1) return b(0);
  if (n == 2) return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
  if (n == 3) return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
  return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
}

size_t lead_len(unsigned char c) { return c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4; }

bool is_space_char(char32_t c) { return c == 0x120 || is_unicode_space(c); }

}  // namespace

void trim_space_offsets(Encoding& encoding, bool add_prefix_space) {
  const size_t n = std::min(encoding.tokens.size(), encoding.offsets.size());
  for (size_t i = 0; i < n; ++i) {
    std::string_view t = encoding.tokens[i];
    auto& off = encoding.offsets[i];
    // Leading and trailing spaces, counted in chars like the offsets.
    size_t lead = 0;
    for (size_t p = 0; p < t.size();) {
      size_t len = std::min(lead_len(static_cast<unsigned char>(t[p])), t.size() - p);
      if (!is_space_char(decode(t, p, len))) break;
      ++lead;
      p += len;
    }
    size_t trail = 0;
    for (size_t p = t.size(); p > 0;) {
      size_t start = p - 1;
      while (start > 0 && (static_cast<unsigned char>(t[start]) & 0xC0) == 0x80 && p - start < 4) --start;
      if (!is_space_char(decode(t, start, p - start))) break;
      ++trail;
      p = start;
    }
    if (lead == 0 && trail == 0) continue;
    if (lead > 0) {
      // A single leading space on the first token is the one add_prefix_space
      // added: keep it. (offsets.0 == 0 also counts as first, for
      // pre-tokenized input.)
      const bool is_first = i == 0 || off.first == 0;
      if (!(is_first && add_prefix_space && lead == 1)) off.first = std::min(off.first + lead, off.second);
    }
    if (trail > 0 && off.second >= trail) off.second = std::max(off.second - trail, off.first);
  }
}

Status BertProcessing::process_encodings(std::vector<Encoding>& encodings, bool add_special_tokens) const {
  if (!add_special_tokens) return Status::Ok();
  for (size_t i = 0; i < encodings.size(); ++i) {
    Encoding& enc = encodings[i];
    Encoding out;
    std::vector<Encoding> overflow;
    overflow.reserve(enc.overflowing.size());
    if (i == 0) {
      out = surround(enc, {{&cls_, 0}}, {{&sep_, 0}}, std::nullopt);
      for (const Encoding& o : enc.overflowing) overflow.push_back(surround(o, {{&cls_, 0}}, {{&sep_, 0}}, std::nullopt));
    } else {
      out = surround(enc, {}, {{&sep_, 1}}, std::nullopt);
      for (const Encoding& o : enc.overflowing) overflow.push_back(surround(o, {}, {{&sep_, 1}}, std::nullopt));
    }
    out.overflowing = std::move(overflow);
    enc = std::move(out);
  }
  return Status::Ok();
}

Status RobertaProcessing::process_encodings(std::vector<Encoding>& encodings, bool add_special_tokens) const {
  if (trim_offsets_) {
    for (Encoding& enc : encodings) {
      trim_space_offsets(enc, add_prefix_space_);
      for (Encoding& o : enc.overflowing) trim_space_offsets(o, add_prefix_space_);
    }
  }
  // Roberta uses type id 0 everywhere (the overflowing windows keep theirs
  // unless special tokens are added, as in HF).
  for (Encoding& enc : encodings) enc.type_ids.assign(enc.size(), 0);
  if (!add_special_tokens) return Status::Ok();
  for (size_t i = 0; i < encodings.size(); ++i) {
    Encoding& enc = encodings[i];
    const SpecialTokenRef& first = i == 0 ? cls_ : sep_;
    Encoding out = surround(enc, {{&first, 0}}, {{&sep_, 0}}, 0);
    for (const Encoding& o : enc.overflowing) out.overflowing.push_back(surround(o, {{&first, 0}}, {{&sep_, 0}}, 0));
    enc = std::move(out);
  }
  return Status::Ok();
}

Status ByteLevelProcessing::process_encodings(std::vector<Encoding>& encodings, bool) const {
  if (trim_offsets_) {
    for (Encoding& enc : encodings) {
      trim_space_offsets(enc, add_prefix_space_);
      for (Encoding& o : enc.overflowing) trim_space_offsets(o, add_prefix_space_);
    }
  }
  for (size_t i = 0; i < encodings.size(); ++i) encodings[i].set_sequence_id(static_cast<uint32_t>(i));
  return Status::Ok();
}

size_t SequenceProcessing::added_tokens(bool is_pair) const {
  size_t n = 0;
  for (const auto& p : processors_) n += p->added_tokens(is_pair);
  return n;
}

Status SequenceProcessing::process_encodings(std::vector<Encoding>& encodings, bool add_special_tokens) const {
  for (const auto& p : processors_) KEEL_RETURN_IF_ERROR(p->process_encodings(encodings, add_special_tokens));
  return Status::Ok();
}

}  // namespace keel::tok
