#include "tokenizer/models/vocab.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/utf8.h"
#include "tokenizer/models/json_fields.h"

namespace keel::tok {

Result<Vocab> Vocab::from_json_object(const nlohmann::json& j, const std::string& path) {
  if (!j.is_object()) return Error(path, ": expected an object {token: id}, got ", j.type_name());
  std::vector<std::pair<std::string_view, uint32_t>> entries;
  entries.reserve(j.size());
  for (auto it = j.begin(); it != j.end(); ++it) {
    const nlohmann::json& val = it.value();
    uint64_t id = 0;
    if (val.is_number_unsigned() && (id = val.get<uint64_t>()) <= UINT32_MAX) {
      entries.emplace_back(it.key(), static_cast<uint32_t>(id));
      continue;
    }
    // The path string is only built for an error.
    auto checked = json_fields::as_uint(val, str_cat(path, "[\"", printable(it.key(), 40), "\"]"), UINT32_MAX);
    if (!checked.ok()) return checked.status();
    entries.emplace_back(it.key(), static_cast<uint32_t>(*checked));
  }
  return from_entries(entries);
}

Vocab Vocab::from_entries(const std::vector<std::pair<std::string_view, uint32_t>>& entries) {
  Vocab v;
  size_t key_bytes = 0;
  for (const auto& e : entries) key_bytes += e.first.size();
  v.map_.reserve(entries.size(), key_bytes);
  // Inserts are random accesses into a large table: hash a few entries ahead
  // and prefetch their slots.
  constexpr size_t kLookahead = 8;
  uint64_t hashes[kLookahead];
  const size_t n = entries.size();
  for (size_t i = 0; i < std::min(kLookahead, n); ++i) hashes[i] = hash_bytes(entries[i].first);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t h = hashes[i % kLookahead];
    if (i + kLookahead < n) {
      const uint64_t ahead = hash_bytes(entries[i + kLookahead].first);
      hashes[i % kLookahead] = ahead;
      v.map_.prefetch(ahead);
    }
    v.map_.insert(entries[i].first, h, entries[i].second);
  }
  v.finish();
  return v;
}

void Vocab::finish() {
  dense_.clear();
  sparse_.clear();
  uint32_t max_id = 0;
  const size_t n = map_.size();
  for (size_t e = 0; e < n; ++e) max_id = std::max(max_id, map_.value_at(e));
  // Dense reverse table unless the ids are wildly sparse (a fuzzed file with id
  // 4e9 must not allocate 16 GB).
  size_t dense_size = n == 0 ? 0 : size_t(max_id) + 1;
  if (dense_size > n * 4 + 1024) dense_size = n * 4 + 1024;
  dense_.assign(dense_size, 0);
  // Tokens sharing an id: the greatest wins, whatever the entry order.
  auto keep = [&](uint32_t& slot, size_t e) {
    if (slot == 0 || map_.key_at(slot - 1) < map_.key_at(e)) slot = static_cast<uint32_t>(e + 1);
  };
  for (size_t e = 0; e < n; ++e) {
    const uint32_t id = map_.value_at(e);
    keep(id < dense_.size() ? dense_[id] : sparse_[id], e);
  }
}

}  // namespace keel::tok
