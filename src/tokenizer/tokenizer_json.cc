// Loading a tokenizer.json: the top-level keys (HF tokenizers' serialization.rs)
// and the truncation / padding / added_tokens objects. The five components are
// built by their factories (components.h). Every error names the JSON path.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/mmap_file.h"
#include "tokenizer/added_vocabulary.h"
#include "tokenizer/components.h"
#include "tokenizer/fast_json.h"
#include "tokenizer/models/json_fields.h"
#include "tokenizer/tokenizer.h"

namespace keel::tok {

namespace jf = json_fields;
using nlohmann::json;

namespace {

Result<std::optional<TruncationParams>> parse_truncation(const json& j) {
  const std::string path = "truncation";
  if (j.is_null()) return std::optional<TruncationParams>();
  KEEL_RETURN_IF_ERROR(jf::expect_object(j, path));
  TruncationParams p;
  auto max_length = jf::uint_or(j, "max_length", path, 512);
  if (!max_length.ok()) return max_length.status();
  p.max_length = *max_length;
  auto stride = jf::uint_or(j, "stride", path, 0);
  if (!stride.ok()) return stride.status();
  p.stride = *stride;
  auto strategy = jf::string_or(j, "strategy", path, "LongestFirst");
  if (!strategy.ok()) return strategy.status();
  if (*strategy == "LongestFirst") p.strategy = TruncationStrategy::LongestFirst;
  else if (*strategy == "OnlyFirst") p.strategy = TruncationStrategy::OnlyFirst;
  else if (*strategy == "OnlySecond") p.strategy = TruncationStrategy::OnlySecond;
  else
    return Error(path, ".strategy: unknown truncation strategy '", *strategy,
                 "' (expected LongestFirst, OnlyFirst or OnlySecond)");
  auto direction = jf::string_or(j, "direction", path, "Right");
  if (!direction.ok()) return direction.status();
  if (*direction == "Right") p.direction = TruncationDirection::Right;
  else if (*direction == "Left") p.direction = TruncationDirection::Left;
  else return Error(path, ".direction: unknown direction '", *direction, "' (expected Left or Right)");
  return std::optional<TruncationParams>(p);
}

Result<std::optional<PaddingParams>> parse_padding(const json& j) {
  const std::string path = "padding";
  if (j.is_null()) return std::optional<PaddingParams>();
  KEEL_RETURN_IF_ERROR(jf::expect_object(j, path));
  PaddingParams p;
  if (const json* s = jf::find(j, "strategy")) {
    if (s->is_string() && s->get<std::string>() == "BatchLongest") {
      p.fixed_length.reset();
    } else if (s->is_object() && s->size() == 1 && s->contains("Fixed")) {
      auto n = jf::as_uint((*s)["Fixed"], path + ".strategy.Fixed");
      if (!n.ok()) return n.status();
      p.fixed_length = *n;
    } else {
      return Error(path, ".strategy: expected \"BatchLongest\" or {\"Fixed\": n}, got ", s->dump());
    }
  }
  auto direction = jf::string_or(j, "direction", path, "Right");
  if (!direction.ok()) return direction.status();
  if (*direction == "Right") p.direction = PaddingDirection::Right;
  else if (*direction == "Left") p.direction = PaddingDirection::Left;
  else return Error(path, ".direction: unknown direction '", *direction, "' (expected Left or Right)");
  auto multiple = jf::opt_uint(j, "pad_to_multiple_of", path);
  if (!multiple.ok()) return multiple.status();
  if (*multiple) p.pad_to_multiple_of = **multiple;
  auto pad_id = jf::uint_or(j, "pad_id", path, 0, UINT32_MAX);
  if (!pad_id.ok()) return pad_id.status();
  p.pad_id = static_cast<uint32_t>(*pad_id);
  auto pad_type_id = jf::uint_or(j, "pad_type_id", path, 0, UINT32_MAX);
  if (!pad_type_id.ok()) return pad_type_id.status();
  p.pad_type_id = static_cast<uint32_t>(*pad_type_id);
  auto pad_token = jf::string_or(j, "pad_token", path, "[PAD]");
  if (!pad_token.ok()) return pad_token.status();
  p.pad_token = *pad_token;
  return std::optional<PaddingParams>(p);
}

Result<std::vector<AddedToken>> parse_added_tokens(const json& j) {
  std::vector<AddedToken> out;
  if (j.is_null()) return out;
  if (!j.is_array()) return Error("added_tokens: expected an array, got ", jf::type_name(j));
  out.reserve(j.size());
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string path = str_cat("added_tokens[", i, "]");
    const json& t = j[i];
    KEEL_RETURN_IF_ERROR(jf::expect_object(t, path));
    AddedToken a;
    auto content = jf::req_string(t, "content", path);
    if (!content.ok()) return content.status();
    a.content = *content;
    auto id = jf::uint_or(t, "id", path, 0, UINT32_MAX);
    if (!id.ok()) return id.status();
    a.id = static_cast<uint32_t>(*id);
    auto special = jf::bool_or(t, "special", path, false);
    if (!special.ok()) return special.status();
    a.special = *special;
    for (auto [key, field, def] : {std::tuple<const char*, bool*, bool>{"single_word", &a.single_word, false},
                                   {"lstrip", &a.lstrip, false},
                                   {"rstrip", &a.rstrip, false},
                                   {"normalized", &a.normalized, !a.special}}) {
      auto v = jf::bool_or(t, key, path, def);
      if (!v.ok()) return v.status();
      *field = *v;
    }
    out.push_back(std::move(a));
  }
  return out;
}

// The file's bytes, with at least `padding` spare bytes allocated past the end
// (the string's capacity), read in one go when the size is known.
Result<std::string> read_text_file(const std::string& path, size_t padding = 0) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error("cannot open '", path, "'");
  std::string out;
  const std::streamoff size = in.seekg(0, std::ios::end).tellg();
  if (size >= 0 && in.seekg(0).good()) {
    out.reserve(static_cast<size_t>(size) + padding);
    out.resize(static_cast<size_t>(size));
    if (!in.read(out.data(), size) || in.gcount() != size) return Error("error reading '", path, "'");
    return out;
  }
  // Not seekable (a pipe): read it as a stream.
  in.clear();
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Error("error reading '", path, "'");
  out = ss.str();
  out.reserve(out.size() + padding);
  return out;
}

bool starts_with_gguf_magic(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, sizeof magic) && std::string_view(magic, sizeof magic) == "GGUF";
}

}  // namespace

Result<Tokenizer> Tokenizer::from_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path file = path;
  if (fs::is_directory(file, ec)) file /= "tokenizer.json";
  if (file.extension() == ".gguf" || starts_with_gguf_magic(file.string())) return from_gguf(file.string());
  // Mapped, the text is not copied, and the rest of its last page is readable
  // padding for the fast parser. Files that cannot be mapped (pipes) are read.
  Result<Tokenizer> tok = Error("unread");
  if (auto mapped = MappedFile::open(file.string()); mapped.ok() && mapped->size() > 0) {
    const size_t size = static_cast<size_t>(mapped->size());
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t past_end = (size + page - 1) / page * page - size;
    tok = from_json_text({reinterpret_cast<const char*>(mapped->data()), size}, past_end, file.string());
  } else {
    auto text = read_text_file(file.string(), FastJson::kPadding);
    if (!text.ok()) return text.status();
    tok = from_json_text(*text, text->capacity() - text->size(), file.string());
  }
  if (!tok.ok()) return tok.status();
  fs::path config = file.parent_path() / "tokenizer_config.json";
  if (fs::is_regular_file(config, ec)) {
    auto cfg = read_text_file(config.string());
    if (cfg.ok()) tok->tokenizer_config_ = std::move(*cfg);
  }
  return tok;
}

Result<Tokenizer> Tokenizer::from_json(std::string_view json_text, std::string source) {
  return from_json_text(json_text, 0, std::move(source));
}

Result<Tokenizer> Tokenizer::from_json_text(std::string_view json_text, size_t readable_past_end,
                                            std::string source) {
  // simdjson first (fast_json.h); nlohmann for what it rejects, which words
  // the error or accepts the few forms simdjson does not.
  FastJson fast;
  json slow_root;
  const ModelBulk* bulk = nullptr;
  try {
    if (fast.parse(json_text, readable_past_end)) {
      bulk = &fast.bulk;
    } else {
      slow_root = json::parse(json_text.begin(), json_text.end());
    }
  } catch (const json::exception& e) {
    return Error(source, ": invalid JSON: ", e.what());
  } catch (const std::exception& e) {
    return Error(source, ": cannot read JSON: ", e.what());
  }
  const json& root = bulk ? fast.root : slow_root;
  auto ctx = [&](const Status& s) { return s.with_context(source); };
  if (!root.is_object()) return ctx(Error("expected a JSON object at the top level, got ", jf::type_name(root)));

  Tokenizer t;
  try {
    if (const json* v = jf::find(root, "version")) {
      if (!v->is_string()) return ctx(Error("version: expected a string, got ", jf::type_name(*v)));
      if (v->get<std::string>() != "1.0")
        return ctx(Error("version: unknown tokenizer version '", v->get<std::string>(), "'"));
    }
    const json null_json;
    auto field = [&](const char* key) -> const json& {
      const json* f = jf::find(root, key);
      return f ? *f : null_json;
    };
    auto trunc = parse_truncation(field("truncation"));
    if (!trunc.ok()) return ctx(trunc.status());
    t.truncation_ = *trunc;
    auto pad = parse_padding(field("padding"));
    if (!pad.ok()) return ctx(pad.status());
    t.padding_ = *pad;
    auto added = parse_added_tokens(field("added_tokens"));
    if (!added.ok()) return ctx(added.status());

    if (const json* n = jf::find(root, "normalizer")) {
      auto r = make_normalizer(*n, "normalizer");
      if (!r.ok()) return ctx(r.status());
      t.normalizer_ = std::move(*r);
    }
    if (const json* n = jf::find(root, "pre_tokenizer")) {
      auto r = make_pre_tokenizer(*n, "pre_tokenizer");
      if (!r.ok()) return ctx(r.status());
      t.pre_tokenizer_ = std::move(*r);
    }
    const json* m = jf::find(root, "model");
    if (!m) return ctx(Error("model: missing (every tokenizer.json needs a model)"));
    auto model = make_model(*m, "model", bulk);
    if (!model.ok()) return ctx(model.status());
    t.model_ = std::move(*model);
    if (const json* n = jf::find(root, "post_processor")) {
      auto r = make_post_processor(*n, "post_processor");
      if (!r.ok()) return ctx(r.status());
      t.post_processor_ = std::move(*r);
    }
    if (const json* n = jf::find(root, "decoder")) {
      auto r = make_decoder(*n, "decoder");
      if (!r.ok()) return ctx(r.status());
      t.decoder_ = std::move(*r);
    }
    Status st = t.added_vocabulary_->add_tokens(*added, *t.model_, t.normalizer_.get());
    if (!st.ok()) return ctx(st.with_context("added_tokens"));
  } catch (const std::exception& e) {
    // Factories report their own errors; this catches anything that slipped out.
    return ctx(Error("unexpected error: ", e.what()));
  }
  return t;
}

}  // namespace keel::tok
