// WordLevel (HF tokenizers models/wordlevel): each pre-tokenized word is looked
// up whole; unknown words become unk_token.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "tokenizer/components.h"
#include "tokenizer/models/vocab.h"

namespace keel::tok {

class WordLevelModel final : public Model {
 public:
  // vocab and unk_token are required (HF's serde definition).
  static Result<std::unique_ptr<WordLevelModel>> from_json(const nlohmann::json& j, const std::string& path,
                                                      const ModelBulk* bulk = nullptr);
  static std::unique_ptr<WordLevelModel> create(Vocab vocab, std::string unk_token);

  Status tokenize(std::string_view sequence, std::vector<Token>& out) const override;
  std::optional<uint32_t> token_to_id(std::string_view token) const override { return vocab_.token_to_id(token); }
  std::optional<std::string> id_to_token(uint32_t id) const override;
  size_t vocab_size() const override { return vocab_.size(); }

 private:
  WordLevelModel() = default;
  Vocab vocab_;
  std::string unk_token_;
};

}  // namespace keel::tok
