#include "models/bert/sentence_transformers.h"

#include <filesystem>
#include <optional>

#include <nlohmann/json.hpp>

#include "core/mmap_file.h"

namespace keel::bert {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

Result<json> read_json(const fs::path& path) {
  auto text = read_text_file(path.string());
  if (!text.ok()) return text.status();
  json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error(path.string(), ": not valid JSON");
  return j;
}

// An optional boolean field; wrong types are errors naming the file and field.
Result<bool> bool_field(const json& j, const char* key, const fs::path& path) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return false;
  if (!it->is_boolean()) return Error(path.string(), ": ", key, ": expected true or false, got ", it->dump());
  return it->get<bool>();
}

Status read_pooling(const fs::path& path, PoolingModes& modes) {
  auto j = read_json(path);
  if (!j.ok()) return j.status();
  if (!j->is_object()) return Error(path.string(), ": expected a JSON object");
  struct Field { const char* key; bool* flag; };
  const Field fields[] = {{"pooling_mode_cls_token", &modes.cls},
                          {"pooling_mode_max_tokens", &modes.max},
                          {"pooling_mode_mean_tokens", &modes.mean},
                          {"pooling_mode_mean_sqrt_len_tokens", &modes.mean_sqrt_len},
                          {"pooling_mode_weightedmean_tokens", &modes.weighted_mean},
                          {"pooling_mode_lasttoken", &modes.last_token}};
  for (const auto& f : fields) {
    auto v = bool_field(*j, f.key, path);
    if (!v.ok()) return v.status();
    *f.flag = *v;
  }
  if (modes.count() == 0) return Error(path.string(), ": no pooling mode is on");
  return Status::Ok();
}

}  // namespace

Result<SentenceTransformersConfig> load_sentence_transformers_config(const std::string& dir) {
  SentenceTransformersConfig st;
  st.transformer_dir = dir;
  const fs::path root(dir);
  const fs::path modules_path = root / "modules.json";
  std::error_code ec;
  if (!fs::exists(modules_path, ec)) {
    st.pooling.mean = true;
    return st;
  }
  st.has_modules_json = true;
  auto modules = read_json(modules_path);
  if (!modules.ok()) return modules.status();
  if (!modules->is_array()) return Error(modules_path.string(), ": expected a JSON array of modules");
  bool have_transformer = false, have_pooling = false;
  for (size_t i = 0; i < modules->size(); ++i) {
    const json& m = (*modules)[i];
    const std::string where = str_cat(modules_path.string(), ": [", i, "]");
    if (!m.is_object() || !m.contains("type") || !m["type"].is_string())
      return Error(where, ": expected an object with a string \"type\"");
    std::string path;
    if (m.contains("path")) {
      if (!m["path"].is_string()) return Error(where, ".path: expected a string");
      path = m["path"].get<std::string>();
      if (path.find("..") != std::string::npos || (!path.empty() && path[0] == '/'))
        return Error(where, ".path: '", path, "' leaves the model directory");
    }
    const std::string type = m["type"].get<std::string>();
    const std::string kind = type.substr(type.rfind('.') == std::string::npos ? 0 : type.rfind('.') + 1);
    if (kind == "Transformer") {
      if (have_transformer || have_pooling) return Error(where, ": a second Transformer, or one after Pooling");
      have_transformer = true;
      st.transformer_dir = path.empty() ? dir : (root / path).string();
    } else if (kind == "Pooling") {
      if (!have_transformer || have_pooling) return Error(where, ": Pooling must follow one Transformer");
      have_pooling = true;
      KEEL_RETURN_IF_ERROR(read_pooling(root / path / "config.json", st.pooling));
    } else if (kind == "Normalize") {
      if (!have_pooling) return Error(where, ": Normalize before Pooling is not supported");
      st.normalize = true;
    } else {
      return Error(where, ": module type '", type, "' is not supported (keel runs Transformer, Pooling, Normalize)");
    }
  }
  if (!have_transformer) return Error(modules_path.string(), ": no Transformer module");
  if (!have_pooling) return Error(modules_path.string(), ": no Pooling module (keel needs one to make sentence embeddings)");
  return st;
}

Status resolve_max_seq_length(SentenceTransformersConfig& st, const BertConfig& config) {
  const fs::path tdir(st.transformer_dir);
  const size_t max_positions = static_cast<size_t>(config.max_position_embeddings);
  std::optional<int64_t> configured;
  std::error_code ec;
  const fs::path sbert = tdir / "sentence_bert_config.json";
  if (fs::exists(sbert, ec)) {
    auto j = read_json(sbert);
    if (!j.ok()) return j.status();
    if (!j->is_object()) return Error(sbert.string(), ": expected a JSON object");
    if (auto it = j->find("max_seq_length"); it != j->end() && !it->is_null()) {
      if (!it->is_number_integer() || it->get<int64_t>() <= 0)
        return Error(sbert.string(), ": max_seq_length: expected a positive integer, got ", it->dump());
      configured = it->get<int64_t>();
    }
    if (auto it = j->find("do_lower_case"); it != j->end() && it->is_boolean() && it->get<bool>())
      return Error(sbert.string(), ": do_lower_case: true is not supported yet");
  }
  if (!configured) {
    const fs::path tc = tdir / "tokenizer_config.json";
    if (fs::exists(tc, ec)) {
      auto j = read_json(tc);
      if (j.ok() && j->is_object())
        if (auto it = j->find("model_max_length"); it != j->end() && it->is_number_integer() && it->get<int64_t>() > 0)
          configured = it->get<int64_t>();  // often 1e30 ("no limit"), hence the min below
    }
  }
  st.max_seq_length = configured ? std::min(static_cast<size_t>(*configured), max_positions) : max_positions;
  return Status::Ok();
}

}  // namespace keel::bert
