// The result of encoding one input (or pair): HF tokenizers' Encoding.
// Offsets are code-point offsets into the original input (as HF's bindings
// report): like HF, the conversion from bytes happens when the model's tokens
// become an Encoding, before truncation and post-processing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace keel::tok {

enum class TruncationDirection { Right, Left };
enum class PaddingDirection { Right, Left };

struct Encoding {
  std::vector<uint32_t> ids;
  std::vector<uint32_t> type_ids;
  std::vector<std::string> tokens;
  std::vector<std::pair<size_t, size_t>> offsets;
  std::vector<uint8_t> special_tokens_mask;
  std::vector<uint8_t> attention_mask;
  std::vector<std::optional<uint32_t>> word_ids;
  // Which input each token came from (0 or 1); nullopt for special tokens.
  std::vector<std::optional<uint32_t>> sequence_ids;
  std::vector<Encoding> overflowing;

  size_t size() const { return ids.size(); }
  // Capacity for n tokens in every per-token array.
  void reserve(size_t n);
  // Appends `other` (HF merge_with, growing_offsets false).
  void append(Encoding other);
  // HF Encoding::truncate: keeps max_len tokens; the rest go to `overflowing`
  // in windows of max_len with `stride` tokens of overlap.
  void truncate(size_t max_len, size_t stride, TruncationDirection direction);
  // HF Encoding::pad (also pads overflowing).
  void pad(size_t target_len, uint32_t pad_id, uint32_t pad_type_id, const std::string& pad_token,
           PaddingDirection direction);
  void set_sequence_id(uint32_t id);
};

}  // namespace keel::tok
