// The encode / decode pipeline: HF tokenizers' TokenizerImpl (tokenizer/mod.rs)
// with truncate_encodings (utils/truncation.rs) and pad_encodings
// (utils/padding.rs). Loading lives in tokenizer_json.cc.
#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <atomic>
#include <limits>

#include "core/utf8.h"
#include "tokenizer/added_vocabulary.h"
#include "tokenizer/components.h"

namespace keel::tok {

Tokenizer::Tokenizer() : added_vocabulary_(std::make_unique<AddedVocabulary>()) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

namespace {

// Byte offsets -> code-point offsets into `text`, as HF's
// BytesToCharOffsetConverter: a byte inside a char maps to that char; an end at
// the end of the text maps past the last char; a start outside the text leaves
// the offsets as they are (in bytes).
class CharOffsets {
 public:
  explicit CharOffsets(std::string_view text) : len_(text.size()) {
    ascii_ = true;
    for (unsigned char c : text)
      if (c >= 0x80) {
        ascii_ = false;
        break;
      }
    if (ascii_) return;
    map_.resize(text.size());
    uint32_t ci = 0;
    for (size_t i = 0; i < text.size(); ++i) {
      if (i > 0 && (static_cast<unsigned char>(text[i]) & 0xc0) != 0x80) ++ci;
      map_[i] = ci;
    }
  }
  std::pair<size_t, size_t> convert(std::pair<size_t, size_t> o) const {
    if (o.first >= len_) return o;
    if (ascii_) {
      if (o.second < len_) return o;
      // End past the text: HF uses the char before it (or start + 1).
      size_t last = o.second - 1 < len_ ? o.second - 1 : o.first + 1;
      return {o.first, last + 1};
    }
    size_t start = map_[o.first];
    size_t end;
    if (o.second < len_) end = map_[o.second];
    else end = (o.second - 1 < len_ ? map_[o.second - 1] : start + 1) + 1;
    return {start, end};
  }

 private:
  size_t len_;
  bool ascii_;
  std::vector<uint32_t> map_;
};

Status validate_utf8(std::string_view text, const char* which) {
  size_t bad = find_invalid_utf8(text);
  if (bad != std::string_view::npos)
    return Error(which, " is not valid UTF-8: invalid byte 0x", std::hex,
                 static_cast<int>(static_cast<unsigned char>(text[bad])), std::dec, " at byte offset ",
                 bad);
  return Status::Ok();
}

// HF truncate_encodings.
Status truncate_encodings(Encoding& encoding, std::optional<Encoding>& pair,
                          const TruncationParams& params) {
  auto truncate = [&](Encoding& e, size_t max_len) -> Status {
    if (max_len != 0 && max_len < e.size() && params.stride >= max_len)
      return Error("truncation: stride (", params.stride, ") must be smaller than the length kept (",
                   max_len, ")");
    e.truncate(max_len, params.stride, params.direction);
    return Status::Ok();
  };
  if (params.max_length == 0) {
    KEEL_RETURN_IF_ERROR(truncate(encoding, 0));
    if (pair) KEEL_RETURN_IF_ERROR(truncate(*pair, 0));
    return Status::Ok();
  }
  const size_t total = encoding.size() + (pair ? pair->size() : 0);
  if (total <= params.max_length) return Status::Ok();
  const size_t to_remove = total - params.max_length;
  switch (params.strategy) {
    case TruncationStrategy::LongestFirst: {
      if (!pair) return truncate(encoding, total - to_remove);
      size_t n1 = encoding.size(), n2 = pair->size();
      bool swap = false;
      if (n1 > n2) {
        swap = true;
        std::swap(n1, n2);
      }
      if (n1 > params.max_length) n2 = n1;
      else n2 = std::max(n1, params.max_length - n1);
      if (n1 + n2 > params.max_length) {
        n1 = params.max_length / 2;
        n2 = n1 + params.max_length % 2;
      }
      if (swap) std::swap(n1, n2);
      KEEL_RETURN_IF_ERROR(truncate(encoding, n1));
      return truncate(*pair, n2);
    }
    case TruncationStrategy::OnlyFirst:
    case TruncationStrategy::OnlySecond: {
      Encoding* target = &encoding;

      if (params.strategy == TruncationStrategy::OnlySecond) {
        if (!pair) return Error("Truncation error: Second sequence not provided");
        target = &*pair;
      }
      const size_t target_len = target->size();
      if (target_len <= to_remove)
        return Error("Truncation error: Sequence to truncate too short to respect the provided max_length");
      return truncate(*target, target_len - to_remove);
    }
  }
  return Status::Ok();
}

// HF pad_encodings.
void pad_encodings(std::span<Encoding> encodings, const PaddingParams& params) {
  if (encodings.empty()) return;
  size_t len = 0;
  if (params.fixed_length) {
    len = *params.fixed_length;
  } else {
    for (const Encoding& e : encodings) len = std::max(len, e.size());
  }
  if (params.pad_to_multiple_of && *params.pad_to_multiple_of > 0 &&
      len % *params.pad_to_multiple_of > 0)
    len += *params.pad_to_multiple_of - len % *params.pad_to_multiple_of;
  for (Encoding& e : encodings)
    e.pad(len, params.pad_id, params.pad_type_id, params.pad_token, params.direction);
}

}  // namespace

Result<Encoding> Tokenizer::encode_single(std::string_view text, uint32_t type_id) const {
  thread_local PreTokenizedString pts;
  KEEL_RETURN_IF_ERROR(added_vocabulary_->extract_and_normalize(normalizer_.get(), text, pts));
  if (pre_tokenizer_) KEEL_RETURN_IF_ERROR(pre_tokenizer_->pre_tokenize(pts));
  auto& splits = pts.splits();

  // Tokenize the splits. With truncation on, HF (0.23) keeps only the words
  // needed to reach max_length tokens: from the start, or from the end when
  // truncating on the left (at least one word, even for max_length 0); the
  // other words are dropped and word ids count from the first word kept.
  // Oddly, HF does not do this for the first input under OnlySecond.
  thread_local std::vector<std::vector<Token>> split_tokens;
  if (split_tokens.size() < splits.size()) split_tokens.resize(splits.size());
  const bool limited =
      truncation_.has_value() &&
      !(truncation_->strategy == TruncationStrategy::OnlySecond && type_id == 0);
  const bool from_end = limited && truncation_->direction == TruncationDirection::Left;
  const size_t limit = limited ? truncation_->max_length : 0;
  size_t first = 0, last = splits.size();  // kept words: [first, last)
  size_t count = 0;
  for (size_t k = 0; k < splits.size(); ++k) {
    const size_t idx = from_end ? splits.size() - 1 - k : k;
    Split& split = splits[idx];
    std::vector<Token>& tv = split_tokens[idx];
    tv.clear();
    const bool from_model = !split.tokens;
    if (from_model) {
      KEEL_RETURN_IF_ERROR(model_->tokenize(split.normalized.normalized(), tv));
    } else {
      tv.swap(*split.tokens);
    }
    count += tv.size();
    // Added tokens count, but HF only checks the limit after a split the model
    // tokenized.
    if (limited && from_model && count >= limit) {
      if (from_end) first = idx;
      else last = idx + 1;
      break;
    }
  }

  const CharOffsets chars(text);
  Encoding enc;
  // Room for the special tokens the post-processor adds to a single input, so
  // that merging them in does not reallocate every array.
  enc.reserve(count + (post_processor_ ? post_processor_->added_tokens(false) : 0));
  for (size_t idx = first; idx < last; ++idx) {
    const NormalizedString& ns = splits[idx].normalized;
    const size_t shift = ns.original_shift();
    for (Token& t : split_tokens[idx]) {
      std::pair<size_t, size_t> off = t.offsets;
      if (auto o = ns.to_original(t.offsets)) off = {shift + o->first, shift + o->second};
      enc.ids.push_back(t.id);
      enc.tokens.push_back(std::move(t.value));
      enc.offsets.push_back(chars.convert(off));
      enc.word_ids.push_back(static_cast<uint32_t>(idx - first));
    }
  }
  const size_t n = enc.ids.size();
  enc.type_ids.assign(n, type_id);
  enc.special_tokens_mask.assign(n, 0);
  enc.attention_mask.assign(n, 1);
  enc.sequence_ids.assign(n, 0u);
  return enc;
}

Result<Encoding> Tokenizer::post_process(Encoding encoding, std::optional<Encoding> pair,
                                         bool add_special_tokens) const {
  if (truncation_) {
    TruncationParams params = *truncation_;
    const size_t n_added = post_processor_ ? post_processor_->added_tokens(pair.has_value()) : 0;
    if (add_special_tokens && n_added > 0) {
      // HF subtracts in usize; when the room is negative the length wraps around
      // and nothing is truncated.
      params.max_length = params.max_length >= n_added ? params.max_length - n_added
                                                        : std::numeric_limits<size_t>::max();
    }
    KEEL_RETURN_IF_ERROR(truncate_encodings(encoding, pair, params));
  }
  Encoding out;
  if (post_processor_) {
    auto r = post_processor_->process(std::move(encoding), std::move(pair), add_special_tokens);
    if (!r.ok()) return r.status();
    out = std::move(*r);
  } else {
    out = std::move(encoding);
    if (pair) {
      out.set_sequence_id(0);
      pair->set_sequence_id(1);
      out.append(std::move(*pair));
    }
  }
  if (padding_) pad_encodings(std::span<Encoding>(&out, 1), *padding_);
  return out;
}

Result<Encoding> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  KEEL_RETURN_IF_ERROR(validate_utf8(text, "input"));
  auto enc = encode_single(text, 0);
  if (!enc.ok()) return enc.status();
  return post_process(std::move(*enc), std::nullopt, add_special_tokens);
}

Result<Encoding> Tokenizer::encode_pair(std::string_view first, std::string_view second,
                                        bool add_special_tokens) const {
  KEEL_RETURN_IF_ERROR(validate_utf8(first, "first input"));
  KEEL_RETURN_IF_ERROR(validate_utf8(second, "second input"));
  auto a = encode_single(first, 0);
  if (!a.ok()) return a.status();
  auto b = encode_single(second, 1);
  if (!b.ok()) return b.status();
  return post_process(std::move(*a), std::move(*b), add_special_tokens);
}

Result<std::vector<Encoding>> Tokenizer::encode_batch(std::span<const std::string_view> texts,
                                                      bool add_special_tokens, ThreadPool* pool) const {
  std::vector<Encoding> out(texts.size());
  std::vector<Status> errors(texts.size());
  ThreadPool& p = pool ? *pool : default_thread_pool();
  // One task per thread, each taking kBlock inputs at a time until none are
  // left: inputs vary in cost, and the pool's chunks (an eighth of the batch
  // on 2 threads) left one core idle while the other finished its last chunk.
  constexpr size_t kBlock = 16;
  std::atomic<size_t> next{0};
  p.parallel_for(p.num_threads(), [&](int64_t, int64_t) {
    for (size_t begin; (begin = next.fetch_add(kBlock, std::memory_order_relaxed)) < texts.size();) {
      const size_t end = std::min(begin + kBlock, texts.size());
      for (size_t i = begin; i < end; ++i) {
        auto r = encode(texts[i], add_special_tokens);
        if (r.ok()) out[i] = std::move(*r);
        else errors[i] = r.status();
      }
    }
  });
  for (size_t i = 0; i < errors.size(); ++i)
    if (!errors[i].ok()) return errors[i].with_context(str_cat("batch input ", i));
  if (padding_) pad_encodings(out, *padding_);
  return out;
}

Result<std::string> Tokenizer::decode(std::span<const uint32_t> ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (uint32_t id : ids) {
    std::string tok;
    if (const std::string* a = added_vocabulary_->token_for_id(id)) {
      tok = *a;
    } else if (auto t = model_->id_to_token(id)) {
      tok = std::move(*t);
    } else {
      continue;  // unknown ids are skipped, as HF does
    }
    if (skip_special_tokens && added_vocabulary_->is_special(tok)) continue;
    tokens.push_back(std::move(tok));
  }
  std::string out;
  if (decoder_) {
    KEEL_RETURN_IF_ERROR(decoder_->decode_chain(tokens));
    size_t total = 0;
    for (const auto& t : tokens) total += t.size();
    out.reserve(total);
    for (const auto& t : tokens) out += t;
  } else {
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i) out += ' ';
      out += tokens[i];
    }
  }
  return out;
}

std::optional<uint32_t> Tokenizer::token_to_id(std::string_view token) const {
  return added_vocabulary_->token_to_id(token, *model_);
}

std::optional<std::string> Tokenizer::id_to_token(uint32_t id) const {
  if (const std::string* a = added_vocabulary_->token_for_id(id)) return *a;
  return model_->id_to_token(id);
}

size_t Tokenizer::vocab_size(bool with_added_tokens) const {
  size_t n = model_->vocab_size();
  if (with_added_tokens) n += added_vocabulary_->count_not_in(*model_);
  return n;
}

const std::vector<AddedToken>& Tokenizer::added_tokens() const { return added_vocabulary_->tokens(); }

}  // namespace keel::tok
