// SafetensorsCheckpoint: one safetensors file, or a sharded checkpoint (an
// index.json whose weight_map names a shard for every tensor), seen as one set
// of named tensors. The single-file reader lives in safetensors.cc.
#include "formats/safetensors.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "core/utf8.h"

namespace keel {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string q(std::string_view s) { return str_cat("'", printable(s, 200), "'"); }

// transformers writes indexes of a few hundred KB; this only keeps a wrong path
// from being read into memory.
constexpr uint64_t kMaxIndexBytes = 100'000'000;

// Deepest nesting of {} / [] outside strings. The index is parsed into a DOM,
// which costs memory per level, so absurd nesting is refused before parsing.
int json_depth(std::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return deepest;
}

// A shard must be a plain file name next to the index: nothing that could
// reach outside its directory.
bool is_plain_file_name(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos &&
         name.find('\\') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

}  // namespace

Result<SafetensorsCheckpoint> SafetensorsCheckpoint::open(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    const fs::path index = fs::path(path) / "model.safetensors.index.json";
    if (fs::exists(index, ec)) return open_index(index.string());
    const fs::path single = fs::path(path) / "model.safetensors";
    if (fs::exists(single, ec)) return open(single.string());
    return Error(path, ": directory has neither model.safetensors.index.json nor model.safetensors");
  }
  if (path.ends_with(".json")) return open_index(path);

  auto file = SafetensorsFile::open(path);
  if (!file.ok()) return file.status();
  SafetensorsCheckpoint ckpt;
  ckpt.files_.push_back(std::make_unique<SafetensorsFile>(std::move(*file)));
  const SafetensorsFile* f = ckpt.files_.back().get();
  ckpt.metadata_ = f->metadata();
  for (const auto& t : f->tensors()) ckpt.entries_.push_back({f, &t});
  ckpt.sort_entries();
  return ckpt;
}

Result<SafetensorsCheckpoint> SafetensorsCheckpoint::open_index(const std::string& path) {
  std::error_code ec;
  const uint64_t size = fs::file_size(path, ec);
  if (ec) return Error(path, ": cannot read: ", ec.message());
  if (size > kMaxIndexBytes) return Error(path, ": ", size, " bytes is too large for an index");
  auto text = read_text_file(path);
  if (!text.ok()) return Error(path, ": ", text.error());
  if (json_depth(*text) > 32) return Error(path, ": JSON nested more than 32 levels deep");
  // nlohmann stops at a NUL byte as if the input ended there.
  if (text->find('\0') != std::string::npos) return Error(path, ": not valid JSON: contains a NUL byte");

  std::vector<std::string> problems;
  // Duplicate keys at the top two levels (a DOM would keep only the last):
  // keys[d] holds the keys seen in the current object at depth d.
  std::array<std::set<std::string>, 3> keys;
  std::string parent;
  auto on_event = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start && depth < 2) keys[depth + 1].clear();
    if (event == json::parse_event_t::key && depth >= 1 && depth <= 2) {
      const auto& k = parsed.get_ref<const std::string&>();
      if (depth == 1) parent = k;
      if (!keys[depth].insert(k).second) {
        if (depth == 2 && parent == "weight_map")
          problems.push_back(str_cat("weight_map lists tensor ", q(k), " more than once"));
        else
          problems.push_back(str_cat("duplicate key ", q(depth == 1 ? k : parent + "." + k)));
      }
    }
    return true;
  };
  json index;
  try {
    index = json::parse(*text, on_event);
  } catch (const json::exception& e) {
    return Error(path, ": not valid JSON: ", printable(e.what(), 300));
  }
  if (!index.is_object()) return Error(path, ": index is not a JSON object");
  auto wm = index.find("weight_map");
  if (wm == index.end() || !wm->is_object()) return Error(path, ": 'weight_map' is missing or not an object");

  SafetensorsCheckpoint ckpt;
  if (auto md = index.find("metadata"); md != index.end()) {
    if (!md->is_object()) return Error(path, ": 'metadata' is not an object");
    // total_size is a number in transformers' indexes; non-strings keep their JSON text.
    for (const auto& [k, v] : md->items()) ckpt.metadata_[k] = v.is_string() ? v.get<std::string>() : v.dump();
  }

  // tensor -> shard as listed, and each shard opened once.
  std::map<std::string, std::string> listed;
  std::map<std::string, const SafetensorsFile*> shards;  // null: failed to open
  const fs::path dir = fs::path(path).parent_path();
  for (const auto& [name, shard] : wm->items()) {
    if (!shard.is_string()) {
      problems.push_back(str_cat("weight_map: tensor ", q(name), ": shard must be a string, not ",
                                 shard.type_name()));
      continue;
    }
    const auto& file = shard.get_ref<const std::string&>();
    if (!is_plain_file_name(file)) {
      problems.push_back(str_cat("weight_map: tensor ", q(name), ": shard ", q(file),
                                 " must be a file name in the index's directory"));
      continue;
    }
    listed[name] = file;
    if (shards.count(file)) continue;
    auto opened = SafetensorsFile::open((dir / file).string());
    if (!opened.ok()) {
      problems.push_back(opened.error());
      shards[file] = nullptr;
      continue;
    }
    ckpt.files_.push_back(std::make_unique<SafetensorsFile>(std::move(*opened)));
    shards[file] = ckpt.files_.back().get();
  }

  // Check the weight_map against the shards both ways.
  std::map<std::string_view, std::pair<std::string_view, Entry>> found;  // name -> (shard, entry)
  for (const auto& [file, f] : shards) {
    if (f == nullptr) continue;
    for (const auto& t : f->tensors()) {
      auto [it, inserted] = found.try_emplace(t.name, file, Entry{f, &t});
      if (!inserted)
        problems.push_back(str_cat("tensor ", q(t.name), " is in both ", q(it->second.first), " and ",
                                   q(file)));
    }
  }
  for (const auto& [name, file] : listed) {
    if (shards[file] == nullptr) continue;  // its open error is reported
    auto it = found.find(name);
    if (it == found.end())
      problems.push_back(str_cat("weight_map lists tensor ", q(name), " in ", q(file),
                                 ", which does not contain it"));
    else if (it->second.first != file)
      problems.push_back(str_cat("weight_map lists tensor ", q(name), " in ", q(file),
                                 " but it is in ", q(it->second.first)));
  }
  for (const auto& [name, where] : found)
    if (!listed.count(std::string(name)))
      problems.push_back(str_cat("tensor ", q(name), " in ", q(where.first),
                                 " is not listed in weight_map"));

  if (!problems.empty()) {
    std::string msg;
    for (const auto& p : problems) {
      if (!msg.empty()) msg += '\n';
      // Shard errors already start with the shard's path.
      msg += p.starts_with((dir / "").string()) && !dir.empty() ? p : path + ": " + p;
    }
    return Status::Error(msg);
  }
  for (const auto& [name, where] : found) ckpt.entries_.push_back(where.second);
  ckpt.sort_entries();
  return ckpt;
}

void SafetensorsCheckpoint::sort_entries() {
  std::sort(entries_.begin(), entries_.end(),
            [](const Entry& a, const Entry& b) { return a.tensor->name < b.tensor->name; });
}

const SafetensorsCheckpoint::Entry* SafetensorsCheckpoint::find(std::string_view name) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), name,
                             [](const Entry& e, std::string_view n) { return e.tensor->name < n; });
  return it != entries_.end() && it->tensor->name == name ? &*it : nullptr;
}

uint64_t SafetensorsCheckpoint::total_tensor_bytes() const {
  uint64_t total = 0;
  for (const auto& e : entries_) total += e.tensor->nbytes();
  return total;
}

}  // namespace keel
