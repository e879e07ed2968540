// Byte-Pair Encoding (HF tokenizers models/bpe): each pre-tokenized word is
// split into characters (or <0xAB> byte tokens, or unk), then adjacent pairs
// are merged in merge-rank order. This is the hot path of GPT-2 / Llama / Qwen,
// so words are cached (bounded, sharded, thread-safe) and single characters are
// looked up in a direct table.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tokenizer/components.h"
#include "tokenizer/models/flat_maps.h"
#include "tokenizer/models/vocab.h"

namespace keel::tok {

struct BpeConfig {
  std::optional<std::string> unk_token;
  std::optional<std::string> continuing_subword_prefix;
  std::optional<std::string> end_of_word_suffix;
  bool fuse_unk = false;
  bool byte_fallback = false;
  // A word found whole in the vocab is one token, merges or not.
  bool ignore_merges = false;
  // Probability of skipping each merge (BPE-dropout); 0 = deterministic. HF
  // draws it at random per merge, so with 0 < dropout < 1 results vary run to
  // run there as here; 1 means no merges at all.
  float dropout = 0;
  // Words cached; 0 disables the cache. HF caches 10,000; a flat entry costs
  // ~60 bytes here, so keel keeps more (about 4 MB at most).
  size_t cache_capacity = 65536;
};

template <typename T>
class WordCache;

class BpeModel final : public Model {
 public:
  // A merge's two tokens (views into the JSON being loaded).
  using Merge = std::pair<std::string_view, std::string_view>;
  // `j`: the "model" object (with or without "type": "BPE").
  static Result<std::unique_ptr<BpeModel>> from_json(const nlohmann::json& j, const std::string& path,
                                                      const ModelBulk* bulk = nullptr);
  // Errors if a merge names a token (or yields one) that is not in `vocab`.
  static Result<std::unique_ptr<BpeModel>> create(Vocab vocab, const std::vector<Merge>& merges,
                                                  BpeConfig config, const std::string& path = "model");
  ~BpeModel() override;

  Status tokenize(std::string_view sequence, std::vector<Token>& out) const override;
  std::optional<uint32_t> token_to_id(std::string_view token) const override { return vocab_.token_to_id(token); }
  std::optional<std::string> id_to_token(uint32_t id) const override;
  size_t vocab_size() const override { return vocab_.size(); }

  // One output symbol of a word: its id and its length in bytes of the word.
  struct Piece {
    uint32_t id;
    uint32_t len;
  };

 private:
  BpeModel() = default;
  Status merge_word(std::string_view word, std::vector<Piece>& out) const;
  void apply_merges(std::vector<Piece>& pieces, float dropout) const;
  void emit(const std::vector<Piece>& pieces, std::vector<Token>& out) const;
  Status unk_id(uint32_t& id) const;

  static constexpr uint32_t kNone = UINT32_MAX;
  static constexpr uint32_t kTableChars = 0x800;  // direct table for code points below this

  Vocab vocab_;
  PairMap merges_;
  BpeConfig config_;
  std::string prefix_;  // "" when absent
  std::string suffix_;
  std::vector<uint32_t> char_ids_;       // code point -> id of the char alone
  std::vector<uint32_t> cont_char_ids_;  // code point -> id of prefix + char
  std::array<uint32_t, 256> byte_ids_{};  // byte -> id of "<0xAB>", kNone if absent
  std::unique_ptr<WordCache<Piece>> cache_;
};

}  // namespace keel::tok
