// WordPiece (HF tokenizers models/wordpiece): greedy longest-match-first over
// the vocab, continuation pieces carrying a prefix ("##"); a word with any
// unmatched part, or longer than max_input_chars_per_word, is one unk token.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "tokenizer/components.h"
#include "tokenizer/models/vocab.h"

namespace keel::tok {

struct WordPieceConfig {
  std::string unk_token = "[UNK]";
  std::string continuing_subword_prefix = "##";
  size_t max_input_chars_per_word = 100;
};

template <typename T>
class WordCache;

class WordPieceModel final : public Model {
 public:
  // All of vocab, unk_token, continuing_subword_prefix and
  // max_input_chars_per_word are required, as in HF's serde definition.
  static Result<std::unique_ptr<WordPieceModel>> from_json(const nlohmann::json& j, const std::string& path,
                                                      const ModelBulk* bulk = nullptr);
  static std::unique_ptr<WordPieceModel> create(Vocab vocab, WordPieceConfig config);
  ~WordPieceModel() override;

  Status tokenize(std::string_view sequence, std::vector<Token>& out) const override;
  std::optional<uint32_t> token_to_id(std::string_view token) const override { return vocab_.token_to_id(token); }
  std::optional<std::string> id_to_token(uint32_t id) const override;
  size_t vocab_size() const override { return vocab_.size(); }

 private:
  WordPieceModel() = default;
  // A word's pieces as byte ranges with their ids; `unk` marks the whole-word
  // unknown result. Cached per word (the lookups dominate otherwise).
  struct Piece {
    uint32_t id;
    uint32_t start, end;
    bool unk;
  };
  Status split(std::string_view sequence, std::vector<Piece>& pieces) const;
  Status unk_piece(std::string_view sequence, std::vector<Piece>& pieces) const;
  Vocab vocab_;
  WordPieceConfig config_;
  size_t max_token_bytes_ = 0;  // longest vocab entry: no longer candidate can match
  std::unique_ptr<WordCache<Piece>> cache_;
};

}  // namespace keel::tok
