// Encoding operations, as HF tokenizers' encoding.rs defines them.
#include "tokenizer/encoding.h"

#include <algorithm>

namespace keel::tok {

namespace {

// Tokens [start, stop) of `e` as a new Encoding (no overflowing).
Encoding slice(const Encoding& e, size_t start, size_t stop) {
  Encoding out;
  auto copy = [&](const auto& src, auto& dst) {
    if (src.size() >= stop) dst.assign(src.begin() + start, src.begin() + stop);
  };
  copy(e.ids, out.ids);
  copy(e.type_ids, out.type_ids);
  copy(e.tokens, out.tokens);
  copy(e.offsets, out.offsets);
  copy(e.special_tokens_mask, out.special_tokens_mask);
  copy(e.attention_mask, out.attention_mask);
  copy(e.word_ids, out.word_ids);
  // HF drops the sequence ranges when truncating: every token then reads as
  // sequence 0.
  out.sequence_ids.assign(stop - start, 0u);
  return out;
}

template <typename T>
void append_vec(std::vector<T>& dst, std::vector<T>&& src) {
  if (dst.empty() && dst.capacity() < src.size()) {  // else keep dst's reserved room
    dst = std::move(src);
    return;
  }
  dst.insert(dst.end(), std::make_move_iterator(src.begin()), std::make_move_iterator(src.end()));
}

template <typename T>
void pad_vec(std::vector<T>& v, size_t n, const T& value, PaddingDirection dir) {
  if (dir == PaddingDirection::Right) v.insert(v.end(), n, value);
  else v.insert(v.begin(), n, value);
}

}  // namespace

void Encoding::reserve(size_t n) {
  ids.reserve(n);
  type_ids.reserve(n);
  tokens.reserve(n);
  offsets.reserve(n);
  special_tokens_mask.reserve(n);
  attention_mask.reserve(n);
  word_ids.reserve(n);
  sequence_ids.reserve(n);
}

void Encoding::append(Encoding other) {
  // HF merge_with: overflowing parts combine as (each of ours + the pair),
  // (each of ours + each of the pair's), then (us + each of the pair's).
  std::vector<Encoding> overflowings;
  if (!overflowing.empty() || !other.overflowing.empty()) {
    for (const Encoding& mine : overflowing) {
      Encoding n = mine;
      n.append(other);
      overflowings.push_back(std::move(n));
      for (const Encoding& theirs : other.overflowing) {
        Encoding m = mine;
        m.append(theirs);
        overflowings.push_back(std::move(m));
      }
    }
    for (const Encoding& theirs : other.overflowing) {
      Encoding n = *this;  // with our own overflowing, as HF's clone has
      n.append(theirs);
      overflowings.push_back(std::move(n));
    }
  }
  append_vec(ids, std::move(other.ids));
  append_vec(type_ids, std::move(other.type_ids));
  append_vec(tokens, std::move(other.tokens));
  append_vec(offsets, std::move(other.offsets));
  append_vec(special_tokens_mask, std::move(other.special_tokens_mask));
  append_vec(attention_mask, std::move(other.attention_mask));
  append_vec(word_ids, std::move(other.word_ids));
  append_vec(sequence_ids, std::move(other.sequence_ids));
  overflowing = std::move(overflowings);
}

void Encoding::truncate(size_t max_len, size_t stride, TruncationDirection direction) {
  const size_t len = ids.size();
  if (max_len >= len) return;
  if (max_len == 0) {
    Encoding whole = std::move(*this);
    *this = Encoding();
    overflowing.push_back(std::move(whole));
    return;
  }
  // HF asserts stride < max_len; callers check it and report an error first.
  if (stride >= max_len) stride = max_len - 1;
  const size_t step = max_len - stride;
  std::vector<std::pair<size_t, size_t>> parts;
  if (direction == TruncationDirection::Right) {
    for (size_t start = 0; start < len; start += step) {
      size_t stop = std::min(start + max_len, len);
      parts.emplace_back(start, stop);
      if (stop == len) break;
    }
  } else {
    // Windows end at len, len - step, ...; the first reaching 0 is the last.
    for (size_t i = 0; i < len; i += step) {
      size_t stop = len - i;
      size_t start = stop < max_len ? 0 : stop - max_len;
      parts.emplace_back(start, stop);
      if (start == 0) break;
    }
  }
  Encoding head = slice(*this, parts[0].first, parts[0].second);
  for (size_t i = 1; i < parts.size(); ++i)
    head.overflowing.push_back(slice(*this, parts[i].first, parts[i].second));
  *this = std::move(head);
}

void Encoding::pad(size_t target_len, uint32_t pad_id, uint32_t pad_type_id,
                   const std::string& pad_token, PaddingDirection direction) {
  for (Encoding& o : overflowing) o.pad(target_len, pad_id, pad_type_id, pad_token, direction);
  if (ids.size() >= target_len) return;
  const size_t n = target_len - ids.size();
  pad_vec(ids, n, pad_id, direction);
  pad_vec(type_ids, n, pad_type_id, direction);
  pad_vec(tokens, n, pad_token, direction);
  pad_vec(word_ids, n, std::optional<uint32_t>(), direction);
  pad_vec(attention_mask, n, uint8_t{0}, direction);
  pad_vec(special_tokens_mask, n, uint8_t{1}, direction);
  pad_vec(offsets, n, std::pair<size_t, size_t>(0, 0), direction);
  pad_vec(sequence_ids, n, std::optional<uint32_t>(), direction);
}

void Encoding::set_sequence_id(uint32_t id) { sequence_ids.assign(ids.size(), id); }

}  // namespace keel::tok
