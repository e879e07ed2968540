// keel inspect <model dir | file.gguf | file.safetensors | model.safetensors.index.json> [--json]
// Shows the architecture, parameter count, every tensor (dtype, shape, bytes) and
// the metadata. For a broken model every problem found is printed and the exit
// code is 1.
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "formats/gguf.h"
#include "formats/hf_config.h"
#include "formats/safetensors.h"
#include "models/weight_check.h"
#include "models/weight_table.h"

namespace keel::cli {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

struct TensorRow {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t bytes;
  uint64_t offset;   // absolute byte offset in its file
  std::string file;  // shard file name (sharded safetensors only)
};

struct Report {
  std::string path;
  std::string format;        // "safetensors", "gguf"
  std::string architecture;  // "bert", "llama (qwen2)", ... or "" if unknown
  std::vector<std::pair<std::string, std::string>> metadata;  // for display
  json metadata_json = json::object();
  std::vector<TensorRow> tensors;
  std::vector<std::string> problems;
  std::vector<std::string> notes;
};

void add_problems(Report& r, const Status& s) {
  // Parsers put one problem per line.
  size_t start = 0;
  const std::string& m = s.message();
  while (start <= m.size()) {
    size_t end = m.find('\n', start);
    if (end == std::string::npos) end = m.size();
    if (end > start) r.problems.push_back(m.substr(start, end - start));
    start = end + 1;
  }
}

std::string describe_architecture(const ModelConfig& c) {
  std::string s(architecture_name(c.arch));
  if (const auto* l = c.llama(); l && l->variant != LlamaVariant::Llama)
    s += str_cat(" (", llama_variant_name(l->variant), ")");
  return s;
}

json gguf_value_json(const GgufValue& v) {
  if (const auto* s = v.as_string()) return *s;
  if (const auto* a = v.as_array()) {
    json arr = json::array();
    for (const auto& item : a->items) arr.push_back(gguf_value_json(item));
    return arr;
  }
  if (v.type == GgufValueType::Bool) return std::get<bool>(v.value);
  if (v.type == GgufValueType::F32 || v.type == GgufValueType::F64) return *v.as_double();
  if (auto i = v.as_int()) return *i;
  if (auto u = v.as_uint()) return *u;
  return nullptr;
}

void inspect_gguf(const std::string& path, Report& r) {
  r.format = "gguf";
  auto file = GgufFile::open(path);
  if (!file.ok()) {
    add_problems(r, file.status());
    return;
  }
  r.format = str_cat("gguf v", file->version());
  if (const auto* arch = file->find("general.architecture"); arch && arch->as_string())
    r.architecture = *arch->as_string();
  for (const auto& [key, value] : file->metadata()) {
    r.metadata.emplace_back(key, value.to_display_string());
    r.metadata_json[key] = {{"type", std::string(gguf_value_type_name(value.type))},
                            {"value", gguf_value_json(value)}};
    if (const auto* a = value.as_array())
      r.metadata_json[key]["elem_type"] = std::string(gguf_value_type_name(a->elem_type));
  }
  for (const auto& t : file->tensors())
    r.tensors.push_back({t.name, t.dtype, t.shape, t.nbytes, file->data_offset() + t.offset, ""});
}

// A model directory must have its config.json; a bare weights file may not.
void inspect_safetensors(const std::string& path, const fs::path& config_dir, bool config_required,
                         Report& r) {
  r.format = "safetensors";
  std::optional<ModelConfig> config;
  fs::path config_path = config_dir / "config.json";
  if (fs::exists(config_path)) {
    auto c = load_hf_config(config_path.string());
    if (c.ok()) {
      config = *c;
      r.architecture = describe_architecture(*c);
    } else {
      add_problems(r, c.status());
    }
  } else if (config_required) {
    r.problems.push_back(str_cat(config_path.string(), ": missing"));
  } else {
    r.notes.push_back("no config.json beside the weights: architecture unknown");
  }
  auto ckpt = SafetensorsCheckpoint::open(path);
  if (!ckpt.ok()) {
    add_problems(r, ckpt.status());
    return;
  }
  if (ckpt->files().size() > 1) r.format = str_cat("safetensors (", ckpt->files().size(), " shards)");
  for (const auto& [k, v] : ckpt->metadata()) {
    r.metadata.emplace_back(k, v);
    r.metadata_json[k] = v;
  }
  std::vector<std::string> names;
  for (const auto& e : ckpt->entries()) {
    names.push_back(e.tensor->name);
    std::string shard = ckpt->files().size() > 1 ? fs::path(e.file->source()).filename().string() : "";
    r.tensors.push_back({e.tensor->name, e.tensor->dtype, e.tensor->shape, e.tensor->nbytes(),
                         e.file->data_offset() + e.tensor->begin, shard});
  }
  if (config) {
    WeightCheck check = check_weights(
        weight_table(*config),
        [&](std::string_view name) -> std::optional<Shape> {
          const auto* e = ckpt->find(name);
          if (!e) return std::nullopt;
          return e->tensor->shape;
        },
        names);
    for (auto& e : check.errors) r.problems.push_back(std::move(e));
    for (auto& n : check.notes) r.notes.push_back(std::move(n));
  }
}

std::string human_count(uint64_t n) {
  char buf[32];
  if (n >= 1'000'000'000) std::snprintf(buf, sizeof buf, "%.2f B", n / 1e9);
  else if (n >= 1'000'000) std::snprintf(buf, sizeof buf, "%.2f M", n / 1e6);
  else if (n >= 1'000) std::snprintf(buf, sizeof buf, "%.2f K", n / 1e3);
  else std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(n));
  return buf;
}

std::string human_bytes(uint64_t n) {
  char buf[32];
  if (n >= (1ull << 30)) std::snprintf(buf, sizeof buf, "%.2f GiB", n / double(1ull << 30));
  else if (n >= (1ull << 20)) std::snprintf(buf, sizeof buf, "%.2f MiB", n / double(1ull << 20));
  else if (n >= (1ull << 10)) std::snprintf(buf, sizeof buf, "%.2f KiB", n / double(1ull << 10));
  else std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
  return buf;
}

void print_text(const Report& r, uint64_t params, uint64_t bytes) {
  std::printf("path:         %s\n", r.path.c_str());
  std::printf("format:       %s\n", r.format.c_str());
  std::printf("architecture: %s\n", r.architecture.empty() ? "unknown" : r.architecture.c_str());
  std::printf("parameters:   %llu (%s)\n", static_cast<unsigned long long>(params), human_count(params).c_str());
  std::printf("tensor data:  %s\n", human_bytes(bytes).c_str());
  if (!r.metadata.empty()) {
    std::printf("\nmetadata (%zu):\n", r.metadata.size());
    for (const auto& [k, v] : r.metadata) std::printf("  %s = %s\n", k.c_str(), v.c_str());
  }
  if (!r.tensors.empty()) {
    size_t w = 4;
    for (const auto& t : r.tensors) w = std::max(w, t.name.size());
    std::printf("\ntensors (%zu):\n", r.tensors.size());
    for (const auto& t : r.tensors) {
      std::printf("  %-*s  %-5s %-18s %12llu bytes%s%s\n", static_cast<int>(w), t.name.c_str(),
                  std::string(dtype_name(t.dtype)).c_str(), t.shape.to_string().c_str(),
                  static_cast<unsigned long long>(t.bytes), t.file.empty() ? "" : "  ", t.file.c_str());
    }
  }
  for (const auto& n : r.notes) std::printf("note: %s\n", n.c_str());
  if (!r.problems.empty()) {
    std::fprintf(stderr, "\n%zu problem%s found:\n", r.problems.size(), r.problems.size() == 1 ? "" : "s");
    for (const auto& p : r.problems) std::fprintf(stderr, "  %s\n", p.c_str());
  }
}

void print_json(const Report& r, uint64_t params, uint64_t bytes) {
  json out;
  out["path"] = r.path;
  out["format"] = r.format;
  out["architecture"] = r.architecture.empty() ? json(nullptr) : json(r.architecture);
  out["parameters"] = params;
  out["tensor_bytes"] = bytes;
  out["metadata"] = r.metadata_json;
  json tensors = json::array();
  for (const auto& t : r.tensors) {
    json row = {{"name", t.name}, {"dtype", std::string(dtype_name(t.dtype))},
                {"shape", std::vector<int64_t>(t.shape.dims().begin(), t.shape.dims().end())},
                {"bytes", t.bytes}, {"offset", t.offset}};
    if (!t.file.empty()) row["file"] = t.file;
    tensors.push_back(std::move(row));
  }
  out["tensors"] = std::move(tensors);
  out["problems"] = r.problems;
  out["notes"] = r.notes;
  out["ok"] = r.problems.empty();
  std::printf("%s\n", out.dump(1, ' ', false, json::error_handler_t::replace).c_str());
}

constexpr const char* kUsage =
    "usage: keel inspect <model dir | file.gguf | file.safetensors | model.safetensors.index.json> [--json]\n"
    "  Shows architecture, parameter count, every tensor (dtype, shape, bytes) and metadata.\n"
    "  A broken model: every problem found is listed and the exit code is 1.\n"
    "  --json   machine-readable output on stdout\n";

}  // namespace

int cmd_inspect(int argc, char** argv) {
  std::string path;
  bool as_json = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--json") as_json = true;
    else if (a == "--help" || a == "-h") { std::fputs(kUsage, stdout); return 0; }
    else if (!a.empty() && a[0] == '-') { std::fprintf(stderr, "keel inspect: unknown option '%s'\n%s", argv[i], kUsage); return 2; }
    else if (path.empty()) path = a;
    else { std::fprintf(stderr, "keel inspect: more than one path given\n%s", kUsage); return 2; }
  }
  if (path.empty()) { std::fputs(kUsage, stderr); return 2; }

  Report r;
  r.path = path;
  std::error_code ec;
  fs::path p(path);
  if (fs::is_directory(p, ec)) {
    bool has_gguf = false;
    std::string gguf;
    for (const auto& e : fs::directory_iterator(p, ec))
      if (e.path().extension() == ".gguf") { has_gguf = true; gguf = e.path().string(); }
    if (!fs::exists(p / "config.json") && has_gguf) {
      inspect_gguf(gguf, r);
    } else {
      inspect_safetensors(path, p, /*config_required=*/true, r);
    }
  } else if (!fs::exists(p, ec)) {
    r.problems.push_back(str_cat(path, ": no such file or directory"));
  } else if (p.extension() == ".gguf") {
    inspect_gguf(path, r);
  } else {
    inspect_safetensors(path, p.parent_path().empty() ? fs::path(".") : p.parent_path(),
                        /*config_required=*/false, r);
  }

  uint64_t params = 0, bytes = 0;
  for (const auto& t : r.tensors) {
    params += static_cast<uint64_t>(t.shape.numel());
    bytes += t.bytes;
  }
  if (as_json) print_json(r, params, bytes);
  else print_text(r, params, bytes);
  return r.problems.empty() ? 0 : 1;
}

}  // namespace keel::cli
