#include "tokenizer/models/vocab.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/utf8.h"
#include "tokenizer/models/json_fields.h"

namespace keel::tok {

Result<Vocab> Vocab::from_json_object(const nlohmann::json& j, const std::string& path) {
  if (!j.is_object()) return Error(path, ": expected an object {token: id}, got ", j.type_name());
  Vocab v;
  v.map_.reserve(j.size());
  // Inserts are random accesses into a large table: hash a few entries ahead
  // and prefetch their slots.
  struct Item {
    const std::string* key;
    const nlohmann::json* value;
    uint64_t hash;
  };
  std::vector<Item> items;
  items.reserve(j.size());
  for (auto it = j.begin(); it != j.end(); ++it) items.push_back(Item{&it.key(), &it.value(), 0});
  constexpr size_t kLookahead = 8;
  for (size_t i = 0; i < std::min(kLookahead, items.size()); ++i) items[i].hash = hash_bytes(*items[i].key);
  for (size_t i = 0; i < items.size(); ++i) {
    if (i + kLookahead < items.size()) {
      Item& ahead = items[i + kLookahead];
      ahead.hash = hash_bytes(*ahead.key);
      v.map_.prefetch(ahead.hash);
    }
    const Item& item = items[i];
    const nlohmann::json& val = *item.value;
    uint64_t id = 0;
    if (val.is_number_unsigned() && (id = val.get<uint64_t>()) <= UINT32_MAX) {
      v.map_.insert(*item.key, item.hash, static_cast<uint32_t>(id));
      continue;
    }
    // The path string is only built for an error.
    auto checked = json_fields::as_uint(val, str_cat(path, "[\"", printable(*item.key, 40), "\"]"), UINT32_MAX);
    if (!checked.ok()) return checked.status();
    v.map_.insert(*item.key, item.hash, static_cast<uint32_t>(*checked));
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
  for (size_t e = 0; e < n; ++e) {
    const uint32_t id = map_.value_at(e);
    if (id < dense_.size()) {
      dense_[id] = static_cast<uint32_t>(e + 1);
    } else {
      sparse_[id] = static_cast<uint32_t>(e + 1);
    }
  }
}

}  // namespace keel::tok
