// SentencePiece's BPE merged by piece score, as llama.cpp's SPM tokenizer runs
// a GGUF "llama" vocabulary (llm_tokenizer_spm in src/llama-vocab.cpp), which
// stores pieces with scores but no merge list:
//   - the sequence is split into UTF-8 characters;
//   - repeatedly, of all adjacent pairs whose concatenation is a mergeable piece,
//     the one with the highest score is merged (ties: the leftmost pair);
//   - each final symbol is its piece; a character that is no piece becomes its
//     <0xAB> byte tokens (byte fallback), or unk when a byte token is missing
//     (adjacent unks fused into one, as HF's BPE with fuse_unk).
// Only mergeable pieces (GGUF token type NORMAL) are ever produced by merging or
// looked up as characters; control, user-defined and byte pieces only name ids.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer/components.h"
#include "tokenizer/models/vocab.h"

namespace keel::tok {

struct SentencePiece {
  std::string text;
  float score = 0;
  bool mergeable = true;
};

class SentencePieceBpeModel final : public Model {
 public:
  // `pieces[i]` is token id i. An empty text, a score that is not finite (it
  // would make the merge order meaningless) or an unk_id past the pieces is an
  // error naming the id. A repeated text names its last id (llama.cpp's map).
  // Without unk_id, a character with neither a piece nor byte tokens is an
  // error at tokenize time.
  static Result<std::unique_ptr<SentencePieceBpeModel>> create(std::vector<SentencePiece> pieces,
                                                               std::optional<uint32_t> unk_id);

  Status tokenize(std::string_view sequence, std::vector<Token>& out) const override;
  std::optional<uint32_t> token_to_id(std::string_view token) const override { return vocab_.token_to_id(token); }
  std::optional<std::string> id_to_token(uint32_t id) const override;
  size_t vocab_size() const override { return vocab_.size(); }

 private:
  SentencePieceBpeModel() = default;
  // The id of `text` if it is a mergeable piece.
  bool find_mergeable(std::string_view text, uint32_t& id) const {
    return vocab_.find(text, id) && mergeable_[id];
  }

  static constexpr uint32_t kNone = UINT32_MAX;
  Vocab vocab_;
  std::vector<float> scores_;      // by id
  std::vector<uint8_t> mergeable_;  // by id
  size_t max_piece_bytes_ = 0;      // longest mergeable piece: no longer pair can merge
  std::array<uint32_t, 256> byte_ids_{};  // byte -> id of "<0xAB>", kNone if absent
  uint32_t unk_id_ = kNone;
};

}  // namespace keel::tok
