#include "tokenizer/models/vocab.h"

#include <nlohmann/json.hpp>

#include "core/utf8.h"
#include "tokenizer/models/json_fields.h"

namespace keel::tok {

Result<Vocab> Vocab::from_json_object(const nlohmann::json& j, const std::string& path) {
  if (!j.is_object()) return Error(path, ": expected an object {token: id}, got ", j.type_name());
  Vocab v;
  v.map_.reserve(j.size());
  for (auto it = j.begin(); it != j.end(); ++it) {
    auto id = json_fields::as_uint(it.value(), str_cat(path, "[\"", printable(it.key(), 40), "\"]"),
                                   UINT32_MAX);
    if (!id.ok()) return id.status();
    v.add(it.key(), static_cast<uint32_t>(*id));
  }
  v.finish();
  return v;
}

void Vocab::finish() {
  strings_.clear();
  dense_.clear();
  sparse_.clear();
  strings_.reserve(map_.size());
  uint32_t max_id = 0;
  map_.for_each([&](std::string_view, uint32_t id) { max_id = std::max(max_id, id); });
  // Dense reverse table unless the ids are wildly sparse (a fuzzed file with id
  // 4e9 must not allocate 16 GB).
  size_t dense_size = map_.size() == 0 ? 0 : size_t(max_id) + 1;
  if (dense_size > map_.size() * 4 + 1024) dense_size = map_.size() * 4 + 1024;
  dense_.assign(dense_size, 0);
  map_.for_each([&](std::string_view token, uint32_t id) {
    strings_.emplace_back(token);
    uint32_t idx = static_cast<uint32_t>(strings_.size());
    if (id < dense_.size()) {
      dense_[id] = idx;
    } else {
      sparse_[id] = idx;
    }
  });
}

}  // namespace keel::tok
