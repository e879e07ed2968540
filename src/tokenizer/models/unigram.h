// Unigram (HF tokenizers models/unigram, SentencePiece's unigram model): the
// segmentation of a word that maximises the sum of piece scores (Viterbi over a
// trie of the pieces). Characters no piece covers get unk with score
// min_score - 10, consecutive unks are fused into one token, and with
// byte_fallback an unknown piece becomes its <0xAB> byte tokens.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tokenizer/components.h"
#include "tokenizer/models/flat_maps.h"

namespace keel::tok {

template <typename T>
class WordCache;

class UnigramModel final : public Model {
 public:
  using Piece = std::pair<std::string, double>;
  // {"vocab": [[piece, score], ...], "unk_id": n | null, "byte_fallback": bool}
  static Result<std::unique_ptr<UnigramModel>> from_json(const nlohmann::json& j, const std::string& path);
  static Result<std::unique_ptr<UnigramModel>> create(std::vector<Piece> vocab, std::optional<size_t> unk_id,
                                                      bool byte_fallback);
  ~UnigramModel() override;

  Status tokenize(std::string_view sequence, std::vector<Token>& out) const override;
  std::optional<uint32_t> token_to_id(std::string_view token) const override;
  std::optional<std::string> id_to_token(uint32_t id) const override;
  size_t vocab_size() const override { return vocab_.size(); }

 private:
  UnigramModel() = default;
  // The best segmentation of `s` as byte ranges (HF encode_optimized + unk fusing).
  Status viterbi(std::string_view s, std::vector<std::pair<size_t, size_t>>& pieces) const;

  static constexpr uint32_t kNone = UINT32_MAX;
  std::vector<Piece> vocab_;
  StringIdMap token_to_id_;  // a repeated piece maps to its last id, as in HF
  std::optional<uint32_t> unk_id_;
  bool byte_fallback_ = false;
  double min_score_ = 0;
  std::array<uint32_t, 256> byte_ids_{};
  // Trie over piece bytes: edges (node, byte) -> child node; node_token_[node]
  // is the id of the piece ending at that node (kNone if none).
  PairMap edges_;
  std::vector<uint32_t> node_token_;
  // One output token: its id and byte range; byte >= 0 for a byte-fallback
  // token ("<0xAB>"), else the token string is the range's text.
  struct Out {
    uint32_t id;
    uint32_t start, end;
    int32_t byte;
  };
  Status resolve(std::string_view s, std::vector<Out>& out) const;
  // Results for recent words (HF caches them too).
  std::unique_ptr<WordCache<Out>> cache_;
};

}  // namespace keel::tok
