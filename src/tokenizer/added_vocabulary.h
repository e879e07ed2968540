// Tokens added on top of the model's vocabulary (tokenizer.json "added_tokens"),
// matched in the input before the model runs. HF tokenizers' AddedVocabulary
// (tokenizers/src/tokenizer/added_vocabulary.rs):
//   - ids: a token whose content the model knows keeps the model's id; others
//     get ids after the model's vocabulary, in order (tokenizer.json's "id" is
//     not trusted, as in HF);
//   - matching: leftmost-longest over all contents; non-normalized tokens are
//     matched in the raw input first, then the remaining pieces are normalized
//     and normalized tokens matched in them (their contents normalized too);
//   - single_word: the match must not touch a word char (Rust regex \w) on
//     either side; lstrip / rstrip: whitespace before / after joins the token.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/status.h"
#include "tokenizer/components.h"
#include "tokenizer/pre_tokenized_string.h"
#include "tokenizer/tokenizer.h"

namespace keel::tok {

class AddedVocabulary {
 public:
  // HF add_tokens over the whole list at once (as tokenizer.json loading does),
  // then the matchers are rebuilt; normalized contents go through `normalizer`.
  Status add_tokens(const std::vector<AddedToken>& tokens, const Model& model,
                    const Normalizer* normalizer);

  // Added tokens first, then the model.
  std::optional<uint32_t> token_to_id(std::string_view content, const Model& model) const;
  // The token string HF reports for an added token's `id` (id_to_token, decode):
  // the content, or for a normalized token its content after the normalizer
  // (HF: "HELLO" under Lowercase reads back as "hello"). nullptr if `id` is not
  // an added token.
  const std::string* token_for_id(uint32_t id) const;
  bool is_special(std::string_view content) const { return special_set_.count(std::string(content)) > 0; }
  // Every added token with its assigned id, in the order given.
  const std::vector<AddedToken>& tokens() const { return all_; }
  // Contents not in the model's vocabulary (they extend vocab_size).
  size_t count_not_in(const Model& model) const;

  // The input split around added tokens (which get their token), the other
  // pieces normalized. Empty input gives no splits.
  Status extract_and_normalize(const Normalizer* normalizer, std::string_view text,
                               PreTokenizedString& out) const;

 private:
  // A byte trie over the contents for leftmost-longest matching.
  struct Trie {
    struct Node {
      int32_t id = -1;  // added token id ending here
      std::vector<std::pair<uint8_t, int32_t>> next;
    };
    std::vector<Node> nodes;
    std::array<int32_t, 256> root{};  // first byte -> node (0 = none)
    bool empty() const { return nodes.size() <= 1; }
    void clear();
    void insert(std::string_view s, uint32_t id);
    // Longest content starting at text[pos]: (length, id), or length 0.
    std::pair<size_t, uint32_t> longest_at(std::string_view text, size_t pos) const;
  };
  struct Match {
    std::optional<uint32_t> id;
    size_t start, stop;
  };

  void find_matches(std::string_view sentence, const Trie& trie, std::vector<Match>& out) const;
  Status split_with(NormalizedString&& ns, const Trie& trie, std::vector<Split>& out) const;
  Status refresh(const Model& model, const Normalizer* normalizer);

  std::unordered_map<std::string, uint32_t> content_to_id_;
  std::unordered_map<uint32_t, AddedToken> id_to_token_;
  std::unordered_map<uint32_t, std::string> id_to_string_;  // what token_for_id returns
  std::vector<AddedToken> special_tokens_;  // HF special_tokens (unique contents)
  std::vector<AddedToken> added_tokens_;    // HF added_tokens (non-special)
  std::unordered_set<std::string> special_set_;
  std::vector<AddedToken> all_;
  Trie raw_trie_, normalized_trie_;
};

}  // namespace keel::tok
