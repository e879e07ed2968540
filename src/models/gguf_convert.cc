#include "models/gguf_convert.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/mmap_file.h"
#include "formats/gguf.h"
#include "formats/hf_config.h"
#include "formats/safetensors.h"
#include "kernels/quantize.h"

namespace keel {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// llama.cpp's token types (gguf-py TokenType).
enum : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

struct Vocab {
  std::string model, pre;
  std::vector<std::string> tokens;
  std::vector<float> scores;  // "llama" only
  std::vector<int32_t> types;
  std::vector<std::string> merges;  // "gpt2" only
};

// --- tokenizer.model (SentencePiece ModelProto) ------------------------------
// Only what the converter needs: ModelProto.pieces (field 1), each a
// SentencePiece {piece = 1 (string), score = 2 (float), type = 3 (enum)}.
class ProtoReader {
 public:
  ProtoReader(const uint8_t* p, size_t n) : p_(p), end_(p + n) {}
  bool done() const { return p_ >= end_; }
  bool varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64 && p_ < end_; shift += 7) {
      const uint8_t b = *p_++;
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  }
  // Reads a field key; *bytes/*len are set for length-delimited fields.
  bool field(uint32_t* num, uint32_t* wire, const uint8_t** bytes, size_t* len, uint64_t* value) {
    uint64_t key;
    if (!varint(&key)) return false;
    *num = static_cast<uint32_t>(key >> 3);
    *wire = static_cast<uint32_t>(key & 7);
    switch (*wire) {
      case 0: return varint(value);
      case 1: if (end_ - p_ < 8) return false; std::memcpy(value, p_, 8); p_ += 8; return true;
      case 5: {
        if (end_ - p_ < 4) return false;
        uint32_t v;
        std::memcpy(&v, p_, 4);
        *value = v;
        p_ += 4;
        return true;
      }
      case 2: {
        uint64_t n;
        if (!varint(&n) || n > static_cast<uint64_t>(end_ - p_)) return false;
        *bytes = p_, *len = static_cast<size_t>(n);
        p_ += n;
        return true;
      }
      default: return false;
    }
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

Status read_sentencepiece(const std::string& path, Vocab* v) {
  auto file = MappedFile::open(path);
  if (!file.ok()) return file.status();
  const auto bytes = file->bytes();
  ProtoReader top(bytes.data(), bytes.size());
  while (!top.done()) {
    uint32_t num, wire;
    const uint8_t* b = nullptr;
    size_t len = 0;
    uint64_t val = 0;
    if (!top.field(&num, &wire, &b, &len, &val)) return Error(path, ": malformed SentencePiece model");
    if (num != 1 || wire != 2) continue;
    ProtoReader piece(b, len);
    std::string text;
    float score = 0.0f;
    int32_t type = kNormal;  // SentencePiece's Type enum uses llama.cpp's numbers
    while (!piece.done()) {
      uint32_t pn, pw;
      const uint8_t* pb = nullptr;
      size_t pl = 0;
      uint64_t pv = 0;
      if (!piece.field(&pn, &pw, &pb, &pl, &pv)) return Error(path, ": malformed SentencePiece piece");
      if (pn == 1 && pw == 2) text.assign(reinterpret_cast<const char*>(pb), pl);
      else if (pn == 2 && pw == 5) { uint32_t u = static_cast<uint32_t>(pv); std::memcpy(&score, &u, 4); }
      else if (pn == 3 && pw == 0) type = static_cast<int32_t>(pv);
    }
    v->tokens.push_back(std::move(text));
    v->scores.push_back(score);
    v->types.push_back(type);
  }
  if (v->tokens.empty()) return Error(path, ": no pieces");
  return Status::Ok();
}

Result<Json> read_json(const fs::path& p) {
  auto text = read_text_file(p.string());
  if (!text.ok()) return text.status();
  try {
    return Json::parse(*text);
  } catch (const std::exception& e) {
    return Error(p.string(), ": ", e.what());
  }
}

// convert_hf_to_gguf.py's does_token_look_special.
bool looks_special(const std::string& t) {
  if (t == "<pad>" || t == "<mask>" || t == "<2mass>" || t == "[@BOS@]") return true;
  if (t.size() >= 2 && t.front() == '<' && t.back() == '>') return true;
  if (t.size() >= 2 && t.front() == '[' && t.back() == ']') return false;
  if (t.size() >= 4 && t.compare(0, 2, "<|") == 0 && t.compare(t.size() - 2, 2, "|>") == 0) return true;
  if (t.size() >= 4 && t.compare(0, 2, "<｜") == 0) return true;
  return false;
}

// _create_vocab_sentencepiece: the pieces, padded to vocab_size with [PADi]
// (UNUSED, score -10000), then added_tokens.json and tokenizer_config.json's
// added_tokens_decoder over them (score -1000, CONTROL or USER_DEFINED).
Status sentencepiece_vocab(const fs::path& dir, int64_t vocab_size, Vocab* v) {
  Vocab sp;
  KEEL_RETURN_IF_ERROR(read_sentencepiece((dir / "tokenizer.model").string(), &sp));
  v->model = "llama";
  v->pre = "default";
  const size_t n = static_cast<size_t>(vocab_size);
  v->tokens.resize(n);
  v->scores.assign(n, -10000.0f);
  v->types.assign(n, kUnused);
  for (size_t i = 0; i < n; ++i) v->tokens[i] = "[PAD" + std::to_string(i) + "]";
  for (size_t i = 0; i < sp.tokens.size() && i < n; ++i) {
    v->tokens[i] = sp.tokens[i];
    v->scores[i] = sp.scores[i];
    v->types[i] = sp.types[i];
  }
  std::error_code ec;
  if (fs::is_regular_file(dir / "added_tokens.json", ec)) {
    auto j = read_json(dir / "added_tokens.json");
    if (!j.ok()) return j.status();
    for (auto& [key, id] : j->items()) {
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= vocab_size) continue;
      const size_t i = id.get<size_t>();
      v->tokens[i] = key;
      v->scores[i] = -1000.0f;
      v->types[i] = kUserDefined;
    }
  }
  if (fs::is_regular_file(dir / "tokenizer_config.json", ec)) {
    auto j = read_json(dir / "tokenizer_config.json");
    if (!j.ok()) return j.status();
    if (j->contains("added_tokens_decoder") && (*j)["added_tokens_decoder"].is_object()) {
      for (auto& [key, data] : (*j)["added_tokens_decoder"].items()) {
        const int64_t id = std::stoll(key);
        if (id < 0 || id >= vocab_size || !data.is_object() || !data.contains("content")) continue;
        std::string token = data["content"].get<std::string>();
        const bool special = data.value("special", false) || looks_special(token);
        if (!special) {
          for (size_t p; (p = token.find("\xe2\x96\x81")) != std::string::npos;) token.replace(p, 3, " ");
        }
        v->types[static_cast<size_t>(id)] = special ? kControl : kUserDefined;
        v->scores[static_cast<size_t>(id)] = -1000.0f;
        v->tokens[static_cast<size_t>(id)] = token;
      }
    }
  }
  return Status::Ok();
}

// get_vocab_base for byte-level BPE tokenizer.json files.
Status bpe_vocab(const fs::path& dir, int64_t vocab_size, const std::string& pre, Vocab* v) {
  auto tj = read_json(dir / "tokenizer.json");
  if (!tj.ok()) return tj.status();
  const Json& model = (*tj)["model"];
  // Older files (gpt2's) name no type; a vocab plus merges is BPE, as HF tokenizers reads it.
  const bool bpe = model.is_object() && model["vocab"].is_object() &&
                   (model.value("type", "") == "BPE" || (!model.contains("type") && model["merges"].is_array()));
  if (!bpe)
    return Error((dir / "tokenizer.json").string(), ": not a BPE tokenizer; keel convert supports "
                 "tokenizer.model (SentencePiece) or byte-level BPE tokenizer.json");
  v->model = "gpt2";
  v->pre = pre;
  const size_t n = static_cast<size_t>(vocab_size);
  std::vector<std::optional<std::string>> by_id(n);
  for (auto& [tok, id] : model["vocab"].items())
    if (id.is_number_integer() && id.get<int64_t>() >= 0 && id.get<int64_t>() < vocab_size)
      by_id[id.get<size_t>()] = tok;
  std::map<size_t, bool> added_special;
  if ((*tj)["added_tokens"].is_array()) {
    for (const Json& a : (*tj)["added_tokens"]) {
      const int64_t id = a.value("id", int64_t{-1});
      if (id < 0 || id >= vocab_size) continue;
      by_id[static_cast<size_t>(id)] = a.value("content", "");
      added_special[static_cast<size_t>(id)] = a.value("special", false);
    }
  }
  v->tokens.resize(n);
  v->types.resize(n);
  for (size_t i = 0; i < n; ++i) {
    if (!by_id[i]) {
      v->tokens[i] = "[PAD" + std::to_string(i) + "]";
      v->types[i] = kUnused;
      continue;
    }
    std::string token = *by_id[i];
    auto it = added_special.find(i);
    if (it == added_special.end()) {
      v->types[i] = kNormal;
    } else if (it->second || looks_special(token)) {
      v->types[i] = kControl;
    } else {
      for (size_t p; (p = token.find("\xe2\x96\x81")) != std::string::npos;) token.replace(p, 3, " ");
      v->types[i] = kUserDefined;
    }
    v->tokens[i] = std::move(token);
  }
  for (const Json& m : model["merges"]) {
    if (m.is_string()) v->merges.push_back(m.get<std::string>());
    else if (m.is_array() && m.size() == 2) v->merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
  }
  return Status::Ok();
}

// SpecialVocab: special token ids (tokenizer_config "<typ>_token" looked up in
// tokenizer.json's added tokens, else config.json "<typ>_token_id"),
// add_<typ>_token flags, chat_template.
Status special_vocab(const fs::path& dir, const Json& config, size_t n_vocab, GgufWriter& w) {
  std::error_code ec;
  Json tc = Json::object(), tj = Json::object();
  if (fs::is_regular_file(dir / "tokenizer_config.json", ec)) {
    auto j = read_json(dir / "tokenizer_config.json");
    if (!j.ok()) return j.status();
    tc = std::move(*j);
  }
  if (fs::is_regular_file(dir / "tokenizer.json", ec)) {
    auto j = read_json(dir / "tokenizer.json");
    if (!j.ok()) return j.status();
    tj = std::move(*j);
  }
  static const std::pair<const char*, const char*> kTypes[] = {
      {"bos", "bos_token_id"}, {"eos", "eos_token_id"}, {"unk", "unknown_token_id"},
      {"sep", "seperator_token_id"}, {"pad", "padding_token_id"}, {"cls", "cls_token_id"},
      {"mask", "mask_token_id"}};
  for (auto [typ, key] : kTypes) {
    std::optional<int64_t> id;
    const Json& entry = tc.contains(std::string(typ) + "_token") ? tc[std::string(typ) + "_token"] : Json();
    std::string content;
    if (entry.is_string()) content = entry.get<std::string>();
    else if (entry.is_object() && entry.contains("content") && entry["content"].is_string())
      content = entry["content"].get<std::string>();
    if (!content.empty() && tj.contains("added_tokens") && tj["added_tokens"].is_array())
      for (const Json& a : tj["added_tokens"])
        if (a.value("content", "") == content) { id = a.value("id", int64_t{-1}); break; }
    if (!id) {
      const Json& c = config.contains(std::string(typ) + "_token_id") ? config[std::string(typ) + "_token_id"] : Json();
      if (c.is_number_integer()) id = c.get<int64_t>();
      else if (c.is_array() && !c.empty() && c[0].is_number_integer()) id = c[0].get<int64_t>();
    }
    if (id && *id >= 0 && static_cast<size_t>(*id) < n_vocab)
      w.set(str_cat("tokenizer.ggml.", key), GgufValue::u32(static_cast<uint32_t>(*id)));
  }
  // A simple TemplateProcessing post-processor says whether bos / eos / sep
  // are added (SpecialVocab._try_load_from_tokenizer_json); tokenizer_config's
  // add_*_token flags, read next, win.
  std::map<std::string, bool> add;
  auto content_of = [&](const char* key) -> std::string {
    const Json& e = tc.contains(key) ? tc[key] : Json();
    if (e.is_string()) return e.get<std::string>();
    if (e.is_object() && e.contains("content") && e["content"].is_string()) return e["content"].get<std::string>();
    return "";
  };
  const std::string bos = content_of("bos_token"), eos = content_of("eos_token"), sep = content_of("sep_token"),
                    cls = content_of("cls_token");
  if (tj.contains("post_processor") && tj["post_processor"].is_object()) {
    const Json& pp = tj["post_processor"];
    Json procs = pp.contains("processors") && pp["processors"].is_array() ? pp["processors"] : Json::array({pp});
    for (const Json& proc : procs) {
      if (!proc.is_object()) continue;
      if (proc.value("type", "") == "RobertaProcessing") {
        add["bos"] = add["eos"] = add["sep"] = true;
        continue;
      }
      if (proc.value("type", "") != "TemplateProcessing") continue;
      auto special_id = [](const Json& item) -> std::string {
        if (item.is_object() && item.contains("SpecialToken") && item["SpecialToken"].is_object())
          return item["SpecialToken"].value("id", "");
        return "";
      };
      const Json single = proc.value("single", Json::array()), pair = proc.value("pair", Json::array());
      std::string first, last;
      if (single.is_array() && single.size() > 1) {
        first = special_id(single.front());
        if (!first.empty()) add["bos"] = first == bos || first == cls;
        last = special_id(single.back());
        if (!last.empty()) add["eos"] = last == eos;
      }
      if (pair.is_array() && !pair.empty()) {
        size_t a = !first.empty() && special_id(pair.front()) == first ? 1 : 0;
        size_t b = !last.empty() && special_id(pair.back()) == last ? pair.size() - 1 : pair.size();
        if (b > a + 2) {  // A [middle...] B
          const std::string mid = special_id(pair[a + 1]);
          add["sep"] = !mid.empty() && (mid == sep || mid == eos) && last.empty();
        }
      }
    }
  }
  for (const char* typ : {"bos", "eos", "sep"}) {
    const std::string k = str_cat("add_", typ, "_token");
    if (tc.contains(k) && tc[k].is_boolean()) add[typ] = tc[k].get<bool>();
  }
  for (const char* typ : {"bos", "eos", "sep"}) {
    const std::string k = str_cat("add_", typ, "_token");
    if (add.count(typ)) w.set("tokenizer.ggml." + k, GgufValue::boolean(add[typ]));
  }
  if (tc.contains("chat_template") && tc["chat_template"].is_string())
    w.set("tokenizer.chat_template", GgufValue::str(tc["chat_template"].get<std::string>()));
  return Status::Ok();
}

uint32_t file_type(DType t) {  // llama_ftype
  switch (t) {
    case DType::F32: return 0;
    case DType::F16: return 1;
    case DType::Q8_0: return 7;
    case DType::BF16: return 32;
    case DType::Q4_K: return 14;  // MOSTLY_Q4_K_S: every matrix q4_K
    default: return 0;
  }
}

struct OutTensor {
  std::string src;       // HF name
  std::string name;      // GGUF name
  DType type;
  int64_t rows, cols;    // cols = 0: 1-D of `rows`
  int permute_heads = 0; // llama q/k: reorder rows for adjacent-pair RoPE
  bool transpose = false; // GPT-2 Conv1D: the checkpoint holds [cols, rows]
};

// convert_hf_to_gguf.py LlamaModel.permute: rows grouped per head as
// [head][2][hd/2] become [head][hd/2][2].
void permute_rows(const float* src, float* dst, int64_t rows, int64_t cols, int heads) {
  const int64_t hd = rows / heads, half = hd / 2;
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t two = 0; two < 2; ++two)
      for (int64_t j = 0; j < half; ++j) {
        const int64_t from = h * hd + two * half + j, to = h * hd + j * 2 + two;
        std::memcpy(dst + to * cols, src + from * cols, static_cast<size_t>(cols) * sizeof(float));
      }
}

// general.*: what every converted file carries.
void write_general(GgufWriter& w, const std::string& arch, const fs::path& dir, DType out_type) {
  w.set("general.architecture", GgufValue::str(arch));
  w.set("general.type", GgufValue::str("model"));
  w.set("general.name", GgufValue::str(fs::absolute(dir).filename().string()));
  w.set("general.file_type", GgufValue::u32(file_type(out_type)));
  w.set("general.quantization_version", GgufValue::u32(2));
}

// The tokenizer as tokenizer.ggml.* (SentencePiece when the directory has a
// tokenizer.model, else byte-level BPE with pre-tokenizer `bpe_pre`).
Status write_vocab(const fs::path& dir, const Json& config_json, int64_t vocab_size, const std::string& bpe_pre,
                   GgufWriter& w) {
  Vocab vocab;
  std::error_code ec;
  if (fs::is_regular_file(dir / "tokenizer.model", ec)) {
    KEEL_RETURN_IF_ERROR(sentencepiece_vocab(dir, vocab_size, &vocab));
  } else {
    KEEL_RETURN_IF_ERROR(bpe_vocab(dir, vocab_size, bpe_pre, &vocab));
  }
  w.set("tokenizer.ggml.model", GgufValue::str(vocab.model));
  w.set("tokenizer.ggml.pre", GgufValue::str(vocab.pre));
  {
    std::vector<GgufValue> items;
    items.reserve(vocab.tokens.size());
    for (auto& t : vocab.tokens) items.push_back(GgufValue::str(t));
    w.set("tokenizer.ggml.tokens", GgufValue::array(GgufValueType::String, std::move(items)));
  }
  if (!vocab.scores.empty()) {
    std::vector<GgufValue> items;
    for (float s : vocab.scores) items.push_back(GgufValue::f32(s));
    w.set("tokenizer.ggml.scores", GgufValue::array(GgufValueType::F32, std::move(items)));
  }
  {
    std::vector<GgufValue> items;
    for (int32_t t : vocab.types) items.push_back(GgufValue::i32(t));
    w.set("tokenizer.ggml.token_type", GgufValue::array(GgufValueType::I32, std::move(items)));
  }
  if (!vocab.merges.empty()) {
    std::vector<GgufValue> items;
    for (auto& m : vocab.merges) items.push_back(GgufValue::str(m));
    w.set("tokenizer.ggml.merges", GgufValue::array(GgufValueType::String, std::move(items)));
  }
  KEEL_RETURN_IF_ERROR(special_vocab(dir, config_json, vocab.tokens.size(), w));
  return Status::Ok();
}

// Adds `out` to the writer (checking each source tensor's shape) and writes
// the file, converting each tensor as it goes.
Status write_tensors(const ConvertOptions& o, const SafetensorsCheckpoint& ckpt, std::vector<OutTensor>& out,
                     const std::vector<float>& computed, GgufWriter& w) {
  std::vector<std::string> problems;
  for (auto& t : out) {
    if (t.src.empty()) {  // computed here (rope_freqs)
      if (Status st = w.add_tensor(t.name, t.type, Shape{t.rows}); !st.ok()) problems.push_back(st.message());
      continue;
    }
    const auto* e = ckpt.find(t.src);
    if (!e) { problems.push_back(str_cat("missing tensor '", t.src, "'")); continue; }
    const Shape& s = e->tensor->shape;
    const int64_t r = t.transpose ? t.cols : t.rows, cl = t.transpose ? t.rows : t.cols;
    const bool ok = t.cols ? (s.rank() == 2 && s[0] == r && s[1] == cl) : (s.rank() == 1 && s[0] == t.rows);
    if (!ok) problems.push_back(str_cat("tensor '", t.src, "' does not have the config's shape"));
    // Rows that are not whole blocks stay f16 (llama.cpp's quantizer falls back too).
    if (t.cols && t.cols % dtype_info(t.type).block_elems != 0) t.type = DType::F16;
    const Status st = t.cols ? w.add_tensor(t.name, t.type, Shape{t.rows, t.cols}) : w.add_tensor(t.name, t.type, Shape{t.rows});
    if (!st.ok()) problems.push_back(st.message());
  }
  if (!problems.empty()) {
    std::string msg = str_cat("convert: ", o.model_dir, ": the weights do not fit the config:");
    for (auto& p : problems) msg += "\n  " + p;
    return Status::Error(msg);
  }
  return w.write(o.out_path, [&](size_t i, std::span<uint8_t> dst) -> Status {
    const OutTensor& t = out[i];
    if (t.src.empty()) return quantize_row(t.type, computed.data(), dst.data(), t.rows);
    const auto view = ckpt.view(*ckpt.find(t.src));
    const int64_t n = view.numel();
    std::vector<float> f(static_cast<size_t>(n));
    KEEL_RETURN_IF_ERROR(dequantize_row(view.dtype, view.data, f.data(), n).with_context(t.src));
    if (t.permute_heads) {
      std::vector<float> p(f.size());
      permute_rows(f.data(), p.data(), t.rows, t.cols ? t.cols : 1, t.permute_heads);
      f.swap(p);
    }
    if (t.transpose) {
      std::vector<float> p(f.size());
      for (int64_t i = 0; i < t.cols; ++i)
        for (int64_t j = 0; j < t.rows; ++j) p[static_cast<size_t>(j * t.cols + i)] = f[static_cast<size_t>(i * t.rows + j)];
      f.swap(p);
    }
    return quantize_row(t.type, f.data(), dst.data(), n).with_context(t.name);
  });
}

// GPT-2 as convert_hf_to_gguf.py's GPT2Model writes it: architecture "gpt2",
// Conv1D weights transposed to [out, in], c_attn kept fused (attn_qkv), the
// pre-tokenizer "gpt-2". The head is tied to token_embd and not written
// (llama.cpp uses token_embd when output.weight is absent).
Status convert_gpt2(const ConvertOptions& o, const Gpt2Config& c) {
  const fs::path dir(o.model_dir);
  if (c.activation_function != "gelu_new")
    return Error("convert: ", o.model_dir, ": activation_function '", c.activation_function, "' is not supported (gelu_new)");
  auto config_json = read_json(dir / "config.json");
  if (!config_json.ok()) return config_json.status();
  auto ckpt = SafetensorsCheckpoint::open(o.model_dir);
  if (!ckpt.ok()) return ckpt.status();
  GgufWriter w;
  write_general(w, "gpt2", dir, o.out_type);
  const auto u32 = [](int64_t v) { return GgufValue::u32(static_cast<uint32_t>(v)); };
  w.set("gpt2.block_count", u32(c.n_layer));
  w.set("gpt2.context_length", u32(c.n_positions));
  w.set("gpt2.embedding_length", u32(c.n_embd));
  w.set("gpt2.feed_forward_length", u32(c.inner()));
  w.set("gpt2.attention.head_count", u32(c.n_head));
  w.set("gpt2.attention.layer_norm_epsilon", GgufValue::f32(static_cast<float>(c.layer_norm_epsilon)));
  KEEL_RETURN_IF_ERROR(write_vocab(dir, *config_json, c.vocab_size, "gpt-2", w));

  // The hub's gpt2 has no "transformer." prefix; GPT2LMHeadModel saves do.
  const std::string pre = ckpt->find("wte.weight") ? "" : "transformer.";
  const int64_t H = c.n_embd, I = c.inner();
  const DType mat = o.out_type;
  std::vector<OutTensor> out;
  out.push_back({pre + "wte.weight", "token_embd.weight", mat, c.vocab_size, H});
  out.push_back({pre + "wpe.weight", "position_embd.weight", DType::F32, c.n_positions, H});
  for (int64_t i = 0; i < c.n_layer; ++i) {
    const std::string p = str_cat(pre, "h.", i, "."), g = str_cat("blk.", i, ".");
    out.push_back({p + "ln_1.weight", g + "attn_norm.weight", DType::F32, H, 0});
    out.push_back({p + "ln_1.bias", g + "attn_norm.bias", DType::F32, H, 0});
    out.push_back({p + "attn.c_attn.weight", g + "attn_qkv.weight", mat, 3 * H, H, 0, true});
    out.push_back({p + "attn.c_attn.bias", g + "attn_qkv.bias", DType::F32, 3 * H, 0});
    out.push_back({p + "attn.c_proj.weight", g + "attn_output.weight", mat, H, H, 0, true});
    out.push_back({p + "attn.c_proj.bias", g + "attn_output.bias", DType::F32, H, 0});
    out.push_back({p + "ln_2.weight", g + "ffn_norm.weight", DType::F32, H, 0});
    out.push_back({p + "ln_2.bias", g + "ffn_norm.bias", DType::F32, H, 0});
    out.push_back({p + "mlp.c_fc.weight", g + "ffn_up.weight", mat, I, H, 0, true});
    out.push_back({p + "mlp.c_fc.bias", g + "ffn_up.bias", DType::F32, I, 0});
    out.push_back({p + "mlp.c_proj.weight", g + "ffn_down.weight", mat, H, I, 0, true});
    out.push_back({p + "mlp.c_proj.bias", g + "ffn_down.bias", DType::F32, H, 0});
  }
  out.push_back({pre + "ln_f.weight", "output_norm.weight", DType::F32, H, 0});
  out.push_back({pre + "ln_f.bias", "output_norm.bias", DType::F32, H, 0});
  return write_tensors(o, *ckpt, out, {}, w);
}

}  // namespace

Status convert_hf_to_gguf(const ConvertOptions& o) {
  if (o.out_type != DType::F32 && o.out_type != DType::F16 && o.out_type != DType::BF16 &&
      o.out_type != DType::Q8_0 && o.out_type != DType::Q4_K)
    return Error("convert: output type must be f32, f16, bf16, q8_0 or q4_K, got ", dtype_name(o.out_type));
  const fs::path dir(o.model_dir);
  auto mc = load_hf_config(o.model_dir);
  if (!mc.ok()) return mc.status();
  if (mc->gpt2()) return convert_gpt2(o, *mc->gpt2());
  const LlamaConfig* c = mc->llama();
  if (!c)
    return Error("convert: ", o.model_dir, ": ", mc->model_type, " models are not supported (llama, mistral, qwen2, qwen3, gpt2)");
  if (!c->rope_scaling.type.empty() && c->rope_scaling.type != "llama3" && c->rope_scaling.type != "linear" &&
      c->rope_scaling.type != "default")
    return Error("convert: ", o.model_dir, ": rope_scaling '", c->rope_scaling.type, "' is not supported by keel convert yet");
  auto config_json = read_json(dir / "config.json");
  if (!config_json.ok()) return config_json.status();
  auto ckpt = SafetensorsCheckpoint::open(o.model_dir);
  if (!ckpt.ok()) return ckpt.status();

  const std::string arch = c->variant == LlamaVariant::Qwen2 ? "qwen2"
                         : c->variant == LlamaVariant::Qwen3 ? "qwen3" : "llama";
  GgufWriter w;
  write_general(w, arch, dir, o.out_type);
  const auto u32 = [](int64_t v) { return GgufValue::u32(static_cast<uint32_t>(v)); };
  w.set(arch + ".block_count", u32(c->num_hidden_layers));
  w.set(arch + ".context_length", u32(c->max_position_embeddings));
  w.set(arch + ".embedding_length", u32(c->hidden_size));
  w.set(arch + ".feed_forward_length", u32(c->intermediate_size));
  w.set(arch + ".attention.head_count", u32(c->num_attention_heads));
  w.set(arch + ".attention.head_count_kv", u32(c->num_key_value_heads));
  w.set(arch + ".rope.freq_base", GgufValue::f32(static_cast<float>(c->rope_theta)));
  w.set(arch + ".attention.layer_norm_rms_epsilon", GgufValue::f32(static_cast<float>(c->rms_norm_eps)));
  if (config_json->contains("head_dim") && (*config_json)["head_dim"].is_number_integer()) {
    w.set(arch + ".attention.key_length", u32(c->head_dim));
    w.set(arch + ".attention.value_length", u32(c->head_dim));
  }
  if (c->rope_scaling.type == "linear") {
    w.set(arch + ".rope.scaling.type", GgufValue::str("linear"));
    w.set(arch + ".rope.scaling.factor", GgufValue::f32(static_cast<float>(c->rope_scaling.factor)));
  }
  w.set(arch + ".vocab_size", u32(c->vocab_size));
  w.set(arch + ".rope.dimension_count", u32(c->head_dim));

  KEEL_RETURN_IF_ERROR(write_vocab(dir, *config_json, c->vocab_size, arch == "llama" ? "llama-bpe" : "qwen2", w));

  // Tensors, in the converter's order (the checkpoint's, by name).
  const int64_t H = c->hidden_size, I = c->intermediate_size, hd = c->head_dim;
  const int64_t qw = c->num_attention_heads * hd, kvw = c->num_key_value_heads * hd;
  const DType mat = o.out_type;
  std::vector<OutTensor> out;
  // Llama 3 RoPE scaling: per-frequency divisors in rope_freqs.weight, first
  // (LlamaModel.generate_extra_tensors).
  std::vector<float> rope_factors;
  if (c->rope_scaling.type == "llama3") {
    const RopeScaling& rs = c->rope_scaling;
    const double low_wl = rs.original_max_position_embeddings / rs.low_freq_factor;
    const double high_wl = rs.original_max_position_embeddings / rs.high_freq_factor;
    for (int64_t i = 0; i < hd / 2; ++i) {
      const float freq = 1.0f / std::pow(static_cast<float>(c->rope_theta), static_cast<float>(2 * i) / static_cast<float>(hd));
      const double wavelen = 2 * 3.14159265358979323846 / freq;
      if (wavelen < high_wl) rope_factors.push_back(1.0f);
      else if (wavelen > low_wl) rope_factors.push_back(static_cast<float>(rs.factor));
      else {
        const double smooth = (rs.original_max_position_embeddings / wavelen - rs.low_freq_factor) /
                              (rs.high_freq_factor - rs.low_freq_factor);
        rope_factors.push_back(static_cast<float>(1.0 / ((1 - smooth) / rs.factor + smooth)));
      }
    }
    out.push_back({"", "rope_freqs.weight", DType::F32, hd / 2, 0});
  }
  out.push_back({"model.embed_tokens.weight", "token_embd.weight", mat, c->vocab_size, H});
  for (int64_t i = 0; i < c->num_hidden_layers; ++i) {
    const std::string p = str_cat("model.layers.", i, "."), g = str_cat("blk.", i, ".");
    const int qh = arch == "llama" ? static_cast<int>(c->num_attention_heads) : 0;
    const int kh = arch == "llama" ? static_cast<int>(c->num_key_value_heads) : 0;
    out.push_back({p + "input_layernorm.weight", g + "attn_norm.weight", DType::F32, H, 0});
    out.push_back({p + "self_attn.q_proj.weight", g + "attn_q.weight", mat, qw, H, qh});
    out.push_back({p + "self_attn.k_proj.weight", g + "attn_k.weight", mat, kvw, H, kh});
    out.push_back({p + "self_attn.v_proj.weight", g + "attn_v.weight", mat, kvw, H});
    if (c->qkv_bias) {
      out.push_back({p + "self_attn.q_proj.bias", g + "attn_q.bias", DType::F32, qw, 0, qh});
      out.push_back({p + "self_attn.k_proj.bias", g + "attn_k.bias", DType::F32, kvw, 0, kh});
      out.push_back({p + "self_attn.v_proj.bias", g + "attn_v.bias", DType::F32, kvw, 0});
    }
    out.push_back({p + "self_attn.o_proj.weight", g + "attn_output.weight", mat, H, qw});
    if (c->o_bias) out.push_back({p + "self_attn.o_proj.bias", g + "attn_output.bias", DType::F32, H, 0});
    if (c->qk_norm) {
      out.push_back({p + "self_attn.q_norm.weight", g + "attn_q_norm.weight", DType::F32, hd, 0});
      out.push_back({p + "self_attn.k_norm.weight", g + "attn_k_norm.weight", DType::F32, hd, 0});
    }
    out.push_back({p + "post_attention_layernorm.weight", g + "ffn_norm.weight", DType::F32, H, 0});
    out.push_back({p + "mlp.gate_proj.weight", g + "ffn_gate.weight", mat, I, H});
    out.push_back({p + "mlp.up_proj.weight", g + "ffn_up.weight", mat, I, H});
    out.push_back({p + "mlp.down_proj.weight", g + "ffn_down.weight", mat, H, I});
  }
  out.push_back({"model.norm.weight", "output_norm.weight", DType::F32, H, 0});
  if (!c->tie_word_embeddings || ckpt->find("lm_head.weight"))
    out.push_back({"lm_head.weight", "output.weight", mat, c->vocab_size, H});

  return write_tensors(o, *ckpt, out, rope_factors, w);
}

}  // namespace keel
