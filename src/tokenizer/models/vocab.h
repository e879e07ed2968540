// A model vocabulary: token string <-> id. Both directions are needed on the
// hot path (string -> id for every symbol, id -> string for every output token).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/status.h"
#include "tokenizer/models/flat_maps.h"

namespace keel::tok {

class Vocab {
 public:
  // {"token": id, ...} as BPE / WordPiece / WordLevel serialize it.
  static Result<Vocab> from_json_object(const nlohmann::json& j, const std::string& path);
  // The same from (token, id) entries; a repeated token takes its last id.
  static Vocab from_entries(const std::vector<std::pair<std::string_view, uint32_t>>& entries);

  // Later adds of the same token overwrite its id (serde HashMap semantics).
  void add(std::string_view token, uint32_t id) { map_.insert(token, id); }
  // Builds the id -> token direction; call after the last add().
  void finish();

  bool find(std::string_view token, uint32_t& id) const { return map_.find(token, id); }
  std::optional<uint32_t> token_to_id(std::string_view token) const {
    uint32_t id;
    if (map_.find(token, id)) return id;
    return std::nullopt;
  }
  // nullopt if no token has this id. When several tokens share an id (a broken
  // vocab), the greatest of them in byte order (HF's reversed HashMap picks one
  // at random; this choice does not depend on the order of the file). The view
  // lives as long as the vocab.
  std::optional<std::string_view> id_to_token(uint32_t id) const {
    uint32_t e = 0;
    if (id < dense_.size()) {
      e = dense_[id];
    } else if (auto it = sparse_.find(id); it != sparse_.end()) {
      e = it->second;
    }
    if (e == 0) return std::nullopt;
    return map_.key_at(e - 1);
  }
  // Number of distinct tokens (HF's vocab.len()).
  size_t size() const { return map_.size(); }
  const StringIdMap& map() const { return map_; }

 private:
  StringIdMap map_;
  std::vector<uint32_t> dense_;  // id -> map entry + 1; 0 = none
  std::unordered_map<uint32_t, uint32_t> sparse_;  // ids beyond dense_
};

}  // namespace keel::tok
