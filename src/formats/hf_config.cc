// config.json -> ModelConfig. The defaults below are transformers' (BertConfig,
// LlamaConfig, MistralConfig, Qwen2Config, Qwen3Config, GPT2Config), so a config
// that leaves a field out means what it means to transformers.
//
// Parsing never throws past this file and never trusts the JSON: every field's
// type is checked before it is read, every size is bounded, and the parameter
// count the sizes imply must fit in 64 bits, so later code can multiply shapes
// without overflow checks.
#include "formats/hf_config.h"

#include <cmath>
#include <exception>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/mmap_file.h"

namespace keel {
namespace {

using Json = nlohmann::json;

// Largest accepted width, vocabulary, head count, ... Real models are far below;
// the bound keeps products of two sizes inside int64.
constexpr int64_t kMaxSize = std::numeric_limits<int32_t>::max();
// Layers are looped over (weight tables, caches), so they get a tighter bound.
constexpr int64_t kMaxLayers = 4096;
// Parameter count bound: times 8 bytes per element it still fits in int64.
constexpr uint64_t kMaxParams = uint64_t{1} << 59;

// A short rendering of a JSON value for error messages. Containers are named,
// not dumped: their text could be huge.
std::string describe(const Json& v) {
  switch (v.type()) {
    case Json::value_t::object: return "an object";
    case Json::value_t::array: return "an array";
    case Json::value_t::null: return "null";
    default: break;
  }
  std::string s = v.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

// Reads typed fields of one JSON object. Absent fields (and null, where
// transformers treats None as "use the default") leave the output untouched.
// Errors read "<source>: <field>: expected ..., got ...".
class FieldReader {
 public:
  FieldReader(const Json& obj, std::string_view source, std::string prefix = "")
      : obj_(obj), source_(source), prefix_(std::move(prefix)) {}

  bool has(const char* key) const { return find(key) != nullptr; }
  // Present and not null.
  bool given(const char* key) const {
    const Json* v = find(key);
    return v && !v->is_null();
  }
  const Json* find(const char* key) const {
    auto it = obj_.find(key);
    return it == obj_.end() ? nullptr : &*it;
  }

  Status error(const char* key, std::string_view what) const {
    return Error(source_, ": ", prefix_, key, ": ", what);
  }
  Status expected(const char* key, std::string_view what, const Json& got) const {
    return error(key, str_cat("expected ", what, ", got ", describe(got)));
  }

  // An integer in [lo, hi]. null is an error unless `null_ok`.
  Status integer(const char* key, int64_t lo, int64_t hi, std::string_view what, int64_t* out,
                 bool null_ok = false) const {
    const Json* v = find(key);
    if (!v || (null_ok && v->is_null())) return Status::Ok();
    int64_t x;
    if (v->is_number_unsigned()) {
      uint64_t u = v->get<uint64_t>();
      if (u > static_cast<uint64_t>(hi)) return expected(key, what, *v);
      x = static_cast<int64_t>(u);
    } else if (v->is_number_integer()) {
      x = v->get<int64_t>();
    } else {
      return expected(key, what, *v);
    }
    if (x < lo || x > hi) return expected(key, what, *v);
    *out = x;
    return Status::Ok();
  }
  Status size(const char* key, int64_t* out, bool null_ok = false) const {
    return integer(key, 1, kMaxSize, str_cat("a positive integer up to ", kMaxSize), out, null_ok);
  }
  Status layers(const char* key, int64_t* out) const {
    return integer(key, 1, kMaxLayers, str_cat("a positive integer up to ", kMaxLayers), out);
  }
  // A size where null means "none".
  Status optional_size(const char* key, std::optional<int64_t>* out) const {
    if (!given(key)) {
      if (has(key)) out->reset();
      return Status::Ok();
    }
    int64_t x = 0;
    KEEL_RETURN_IF_ERROR(size(key, &x));
    *out = x;
    return Status::Ok();
  }
  // Token ids: any integer (old Llama configs write pad_token_id -1); null = none.
  Status token_id(const char* key, std::optional<int64_t>* out) const {
    if (!given(key)) {
      if (has(key)) out->reset();
      return Status::Ok();
    }
    int64_t x = 0;
    KEEL_RETURN_IF_ERROR(integer(key, std::numeric_limits<int64_t>::min(),
                                 std::numeric_limits<int64_t>::max(), "an integer token id", &x));
    *out = x;
    return Status::Ok();
  }
  // eos_token_id: an int, a list of ints, or null.
  Status token_ids(const char* key, std::vector<int64_t>* out) const {
    const Json* v = find(key);
    if (!v) return Status::Ok();
    out->clear();
    if (v->is_null()) return Status::Ok();
    if (v->is_array()) {
      for (const Json& e : *v) {
        if (!e.is_number_integer()) return expected(key, "an integer or a list of integers", *v);
        if (e.is_number_unsigned() && e.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
          return expected(key, "an integer or a list of integers", *v);
        out->push_back(e.get<int64_t>());
      }
      return Status::Ok();
    }
    std::optional<int64_t> one;
    if (!v->is_number_integer()) return expected(key, "an integer or a list of integers", *v);
    KEEL_RETURN_IF_ERROR(token_id(key, &one));
    if (one) out->push_back(*one);
    return Status::Ok();
  }
  // A finite number > 0 (epsilons, rope theta, scaling factors).
  Status positive_number(const char* key, double* out) const {
    const Json* v = find(key);
    if (!v) return Status::Ok();
    if (!v->is_number()) return expected(key, "a positive number", *v);
    double x = v->get<double>();
    if (!std::isfinite(x) || x <= 0) return expected(key, "a positive number", *v);
    *out = x;
    return Status::Ok();
  }
  Status boolean(const char* key, bool* out) const {
    const Json* v = find(key);
    if (!v) return Status::Ok();
    if (!v->is_boolean()) return expected(key, "true or false", *v);
    *out = v->get<bool>();
    return Status::Ok();
  }
  Status string(const char* key, std::string* out, bool null_ok = false) const {
    const Json* v = find(key);
    if (!v || (null_ok && v->is_null())) return Status::Ok();
    if (!v->is_string()) return expected(key, "a string", *v);
    *out = v->get<std::string>();
    return Status::Ok();
  }

 private:
  const Json& obj_;
  std::string_view source_;
  std::string prefix_;
};

// Sums the element counts of the weights a config implies, failing when a term
// or the sum overflows. Terms are products of named config fields, so the error
// can name them.
class ParamCount {
 public:
  explicit ParamCount(std::string_view source) : source_(source) {}
  Status add(std::initializer_list<std::pair<const char*, int64_t>> factors) {
    uint64_t term = 1;
    bool overflow = false;
    for (const auto& [name, value] : factors)
      overflow |= __builtin_mul_overflow(term, static_cast<uint64_t>(value), &term);
    overflow = overflow || __builtin_add_overflow(total_, term, &total_) || total_ > kMaxParams;
    if (!overflow) return Status::Ok();
    std::string names;
    for (const auto& [name, value] : factors) names += str_cat(names.empty() ? "" : " x ", name);
    return Error(source_, ": ", names, ": sizes too large, the parameter count exceeds 2^59");
  }

 private:
  std::string_view source_;
  uint64_t total_ = 0;
};

Status parse_bert(const FieldReader& r, std::string_view source, BertConfig* c) {
  KEEL_RETURN_IF_ERROR(r.size("vocab_size", &c->vocab_size));
  KEEL_RETURN_IF_ERROR(r.size("hidden_size", &c->hidden_size));
  KEEL_RETURN_IF_ERROR(r.layers("num_hidden_layers", &c->num_hidden_layers));
  KEEL_RETURN_IF_ERROR(r.size("num_attention_heads", &c->num_attention_heads));
  KEEL_RETURN_IF_ERROR(r.size("intermediate_size", &c->intermediate_size));
  KEEL_RETURN_IF_ERROR(r.string("hidden_act", &c->hidden_act));
  KEEL_RETURN_IF_ERROR(r.size("max_position_embeddings", &c->max_position_embeddings));
  KEEL_RETURN_IF_ERROR(r.size("type_vocab_size", &c->type_vocab_size));
  KEEL_RETURN_IF_ERROR(r.positive_number("layer_norm_eps", &c->layer_norm_eps));
  std::optional<int64_t> pad = c->pad_token_id;
  KEEL_RETURN_IF_ERROR(r.token_id("pad_token_id", &pad));
  c->pad_token_id = pad.value_or(0);
  KEEL_RETURN_IF_ERROR(r.string("position_embedding_type", &c->position_embedding_type, true));
  // relative_key / relative_key_query add distance embeddings keel does not have.
  if (c->position_embedding_type != "absolute")
    return r.error("position_embedding_type",
                   str_cat("only \"absolute\" is supported, got \"", c->position_embedding_type, "\""));
  if (c->hidden_size % c->num_attention_heads != 0)
    return r.error("num_attention_heads", str_cat(c->num_attention_heads, " does not divide hidden_size ",
                                                  c->hidden_size));
  ParamCount n(source);
  KEEL_RETURN_IF_ERROR(n.add({{"vocab_size", c->vocab_size}, {"hidden_size", c->hidden_size}}));
  KEEL_RETURN_IF_ERROR(n.add({{"max_position_embeddings", c->max_position_embeddings},
                              {"hidden_size", c->hidden_size}}));
  KEEL_RETURN_IF_ERROR(n.add({{"type_vocab_size", c->type_vocab_size}, {"hidden_size", c->hidden_size}}));
  // Per layer: q, k, v, o [H, H] and two FFN matrices [I, H] (biases are smaller).
  KEEL_RETURN_IF_ERROR(n.add({{"hidden_size", c->hidden_size}, {"hidden_size", c->hidden_size},
                              {"num_hidden_layers", 5 * c->num_hidden_layers}}));
  KEEL_RETURN_IF_ERROR(n.add({{"intermediate_size", c->intermediate_size}, {"hidden_size", c->hidden_size},
                              {"num_hidden_layers", 3 * c->num_hidden_layers}}));
  return Status::Ok();
}

Status parse_rope_scaling(const Json& v, std::string_view source, RopeScaling* out) {
  if (v.is_null()) return Status::Ok();
  if (!v.is_object())
    return Error(source, ": rope_scaling: expected an object or null, got ", describe(v));
  FieldReader r(v, source, "rope_scaling.");
  // transformers renamed "type" to "rope_type" and still reads the legacy key.
  std::string type;
  const char* type_key = r.has("rope_type") ? "rope_type" : "type";
  if (!r.has(type_key)) return Error(source, ": rope_scaling: missing \"rope_type\"");
  KEEL_RETURN_IF_ERROR(r.string(type_key, &type));
  if (type == "default") return Status::Ok();  // no scaling
  out->type = type;
  // The keys transformers requires for each type (modeling_rope_utils).
  std::vector<const char*> required;
  if (type == "llama3")
    required = {"factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"};
  else if (type == "linear" || type == "dynamic" || type == "yarn" || type == "longrope")
    required = {"factor"};
  for (const char* key : required)
    if (!r.given(key)) return r.error(key, str_cat("required for rope_type \"", type, "\""));
  KEEL_RETURN_IF_ERROR(r.positive_number("factor", &out->factor));
  KEEL_RETURN_IF_ERROR(r.positive_number("low_freq_factor", &out->low_freq_factor));
  KEEL_RETURN_IF_ERROR(r.positive_number("high_freq_factor", &out->high_freq_factor));
  KEEL_RETURN_IF_ERROR(
      r.size("original_max_position_embeddings", &out->original_max_position_embeddings, true));
  return Status::Ok();
}

Status parse_llama(const FieldReader& r, std::string_view source, LlamaConfig* c) {
  const LlamaVariant v = c->variant;
  // Per-variant defaults that differ from LlamaConfig's.
  switch (v) {
    case LlamaVariant::Llama:
      c->bos_token_id = 1;
      c->eos_token_ids = {2};
      break;
    case LlamaVariant::Mistral:
      c->intermediate_size = 14336;
      c->num_key_value_heads = 8;
      c->max_position_embeddings = 4096 * 32;
      c->sliding_window = 4096;
      c->bos_token_id = 1;
      c->eos_token_ids = {2};
      break;
    case LlamaVariant::Qwen2:
    case LlamaVariant::Qwen3:
      c->vocab_size = 151936;
      c->intermediate_size = 22016;
      c->max_position_embeddings = 32768;
      break;
  }
  KEEL_RETURN_IF_ERROR(r.size("vocab_size", &c->vocab_size));
  KEEL_RETURN_IF_ERROR(r.size("hidden_size", &c->hidden_size));
  KEEL_RETURN_IF_ERROR(r.size("intermediate_size", &c->intermediate_size));
  KEEL_RETURN_IF_ERROR(r.layers("num_hidden_layers", &c->num_hidden_layers));
  KEEL_RETURN_IF_ERROR(r.size("num_attention_heads", &c->num_attention_heads));
  // num_key_value_heads: absent -> Llama num_attention_heads, Mistral 8, Qwen 32;
  // null -> num_attention_heads.
  c->num_key_value_heads = v == LlamaVariant::Llama     ? c->num_attention_heads
                           : v == LlamaVariant::Mistral ? 8
                                                        : 32;
  if (r.has("num_key_value_heads") && !r.given("num_key_value_heads"))
    c->num_key_value_heads = c->num_attention_heads;
  KEEL_RETURN_IF_ERROR(r.size("num_key_value_heads", &c->num_key_value_heads, true));
  if (c->num_attention_heads % c->num_key_value_heads != 0)
    return r.error("num_key_value_heads", str_cat(c->num_key_value_heads,
                                                  " does not divide num_attention_heads ",
                                                  c->num_attention_heads));
  // head_dim: Qwen3 defaults to 128; the others (and an explicit null) use
  // hidden_size // num_attention_heads, as the attention modules do.
  if (v == LlamaVariant::Qwen3 && !r.has("head_dim")) {
    c->head_dim = 128;
  } else if (r.given("head_dim")) {
    KEEL_RETURN_IF_ERROR(r.size("head_dim", &c->head_dim));
  } else {
    c->head_dim = c->hidden_size / c->num_attention_heads;
    if (c->head_dim == 0)
      return r.error("num_attention_heads", str_cat(c->num_attention_heads, " exceeds hidden_size ",
                                                    c->hidden_size, " (head_dim would be 0)"));
  }
  KEEL_RETURN_IF_ERROR(r.size("max_position_embeddings", &c->max_position_embeddings));
  KEEL_RETURN_IF_ERROR(r.positive_number("rms_norm_eps", &c->rms_norm_eps));
  KEEL_RETURN_IF_ERROR(r.string("hidden_act", &c->hidden_act));
  KEEL_RETURN_IF_ERROR(r.boolean("tie_word_embeddings", &c->tie_word_embeddings));

  // RoPE: rope_theta + rope_scaling, or (transformers 5) one rope_parameters object.
  KEEL_RETURN_IF_ERROR(r.positive_number("rope_theta", &c->rope_theta));
  if (const Json* rs = r.find("rope_scaling"))
    KEEL_RETURN_IF_ERROR(parse_rope_scaling(*rs, source, &c->rope_scaling));
  if (const Json* rp = r.find("rope_parameters"); rp && !r.has("rope_scaling") && !rp->is_null()) {
    KEEL_RETURN_IF_ERROR(parse_rope_scaling(*rp, source, &c->rope_scaling));
    KEEL_RETURN_IF_ERROR(FieldReader(*rp, source, "rope_parameters.").positive_number("rope_theta",
                                                                                      &c->rope_theta));
  }

  // Biases and norms, per variant.
  switch (v) {
    case LlamaVariant::Llama:
      KEEL_RETURN_IF_ERROR(r.boolean("attention_bias", &c->attention_bias));
      KEEL_RETURN_IF_ERROR(r.boolean("mlp_bias", &c->mlp_bias));
      c->qkv_bias = c->o_bias = c->attention_bias;
      break;
    case LlamaVariant::Mistral:  // no biases anywhere
      KEEL_RETURN_IF_ERROR(r.optional_size("sliding_window", &c->sliding_window));
      break;
    case LlamaVariant::Qwen2:  // q/k/v biases always, o_proj and the MLP none
      c->qkv_bias = true;
      break;
    case LlamaVariant::Qwen3:  // attention_bias switches all four; RMSNorm on q and k
      KEEL_RETURN_IF_ERROR(r.boolean("attention_bias", &c->attention_bias));
      c->qkv_bias = c->o_bias = c->attention_bias;
      c->qk_norm = true;
      break;
  }
  if (v == LlamaVariant::Qwen2 || v == LlamaVariant::Qwen3) {
    // Qwen: sliding_window = sliding_window if use_sliding_window else None.
    bool use_sliding_window = false;
    std::optional<int64_t> window = 4096;
    KEEL_RETURN_IF_ERROR(r.boolean("use_sliding_window", &use_sliding_window));
    KEEL_RETURN_IF_ERROR(r.optional_size("sliding_window", &window));
    c->sliding_window = use_sliding_window ? window : std::nullopt;
  }
  KEEL_RETURN_IF_ERROR(r.token_id("bos_token_id", &c->bos_token_id));
  KEEL_RETURN_IF_ERROR(r.token_ids("eos_token_id", &c->eos_token_ids));

  ParamCount n(source);
  const int64_t q_width = c->num_attention_heads * c->head_dim;   // < 2^62: both bounded by 2^31
  const int64_t kv_width = c->num_key_value_heads * c->head_dim;
  KEEL_RETURN_IF_ERROR(n.add({{"vocab_size", c->vocab_size}, {"hidden_size", c->hidden_size},
                              {"tie_word_embeddings", c->tie_word_embeddings ? 1 : 2}}));
  KEEL_RETURN_IF_ERROR(n.add({{"num_attention_heads x head_dim", q_width}, {"hidden_size", c->hidden_size},
                              {"num_hidden_layers", 2 * c->num_hidden_layers}}));
  KEEL_RETURN_IF_ERROR(n.add({{"num_key_value_heads x head_dim", kv_width}, {"hidden_size", c->hidden_size},
                              {"num_hidden_layers", 2 * c->num_hidden_layers}}));
  KEEL_RETURN_IF_ERROR(n.add({{"intermediate_size", c->intermediate_size}, {"hidden_size", c->hidden_size},
                              {"num_hidden_layers", 3 * c->num_hidden_layers}}));
  return Status::Ok();
}

Status parse_gpt2(const FieldReader& r, std::string_view source, Gpt2Config* c) {
  // GPT2Config.attribute_map lets the generic names stand in for GPT-2's; when
  // both are given, transformers ends up with the generic one.
  auto size_aliased = [&](const char* key, const char* alias, int64_t* out) -> Status {
    KEEL_RETURN_IF_ERROR(r.size(key, out));
    return r.size(alias, out);
  };
  KEEL_RETURN_IF_ERROR(r.size("vocab_size", &c->vocab_size));
  KEEL_RETURN_IF_ERROR(size_aliased("n_positions", "max_position_embeddings", &c->n_positions));
  KEEL_RETURN_IF_ERROR(size_aliased("n_embd", "hidden_size", &c->n_embd));
  KEEL_RETURN_IF_ERROR(r.layers("n_layer", &c->n_layer));
  KEEL_RETURN_IF_ERROR(r.layers("num_hidden_layers", &c->n_layer));
  KEEL_RETURN_IF_ERROR(size_aliased("n_head", "num_attention_heads", &c->n_head));
  KEEL_RETURN_IF_ERROR(r.size("n_inner", &c->n_inner, /*null_ok=*/true));
  KEEL_RETURN_IF_ERROR(r.string("activation_function", &c->activation_function));
  KEEL_RETURN_IF_ERROR(r.positive_number("layer_norm_epsilon", &c->layer_norm_epsilon));
  KEEL_RETURN_IF_ERROR(r.boolean("scale_attn_weights", &c->scale_attn_weights));
  c->bos_token_id = c->eos_token_id = 50256;
  KEEL_RETURN_IF_ERROR(r.token_id("bos_token_id", &c->bos_token_id));
  KEEL_RETURN_IF_ERROR(r.token_id("eos_token_id", &c->eos_token_id));
  if (c->n_embd % c->n_head != 0) {
    const char* key = r.has("num_attention_heads") ? "num_attention_heads" : "n_head";
    return r.error(key, str_cat(c->n_head, " does not divide n_embd ", c->n_embd));
  }
  ParamCount n(source);
  KEEL_RETURN_IF_ERROR(n.add({{"vocab_size", c->vocab_size}, {"n_embd", c->n_embd}}));
  KEEL_RETURN_IF_ERROR(n.add({{"n_positions", c->n_positions}, {"n_embd", c->n_embd}}));
  KEEL_RETURN_IF_ERROR(
      n.add({{"n_embd", c->n_embd}, {"n_embd", c->n_embd}, {"n_layer", 4 * c->n_layer}}));
  // inner() = n_inner or 4 x n_embd, either way below 2^34.
  KEEL_RETURN_IF_ERROR(
      n.add({{"n_inner", c->inner()}, {"n_embd", c->n_embd}, {"n_layer", 2 * c->n_layer}}));
  return Status::Ok();
}

Result<ModelConfig> parse_object(const Json& j, std::string_view source) {
  if (!j.is_object())
    return Error(source, ": expected a JSON object at the top level, got ", describe(j));
  FieldReader r(j, source);
  ModelConfig out;
  if (!r.has("model_type")) return Error(source, ": model_type: missing");
  KEEL_RETURN_IF_ERROR(r.string("model_type", &out.model_type));

  if (const Json* a = r.find("architectures"); a && !a->is_null()) {
    if (!a->is_array()) return r.expected("architectures", "a list of strings", *a);
    for (const Json& e : *a) {
      if (!e.is_string()) return r.expected("architectures", "a list of strings", *a);
      out.architectures.push_back(e.get<std::string>());
    }
  }
  // transformers 4.56 renamed torch_dtype to dtype; either may be written.
  KEEL_RETURN_IF_ERROR(r.string("dtype", &out.torch_dtype, true));
  KEEL_RETURN_IF_ERROR(r.string("torch_dtype", &out.torch_dtype, true));

  const std::string& t = out.model_type;
  if (t == "bert") {
    out.arch = Architecture::Bert;
    BertConfig c;
    KEEL_RETURN_IF_ERROR(parse_bert(r, source, &c));
    out.config = std::move(c);
  } else if (t == "llama" || t == "mistral" || t == "qwen2" || t == "qwen3") {
    out.arch = Architecture::Llama;
    LlamaConfig c;
    c.variant = t == "llama"     ? LlamaVariant::Llama
                : t == "mistral" ? LlamaVariant::Mistral
                : t == "qwen2"   ? LlamaVariant::Qwen2
                                 : LlamaVariant::Qwen3;
    KEEL_RETURN_IF_ERROR(parse_llama(r, source, &c));
    out.config = std::move(c);
  } else if (t == "gpt2") {
    out.arch = Architecture::Gpt2;
    Gpt2Config c;
    KEEL_RETURN_IF_ERROR(parse_gpt2(r, source, &c));
    out.config = std::move(c);
  } else {
    std::string shown = t.size() > 60 ? t.substr(0, 57) + "..." : t;
    return Error(source, ": model_type: unsupported model type \"", shown,
                 "\" (keel supports bert, llama, mistral, qwen2, qwen3, gpt2)");
  }
  return out;
}

}  // namespace

std::string_view architecture_name(Architecture a) {
  switch (a) {
    case Architecture::Bert: return "bert";
    case Architecture::Llama: return "llama";
    case Architecture::Gpt2: return "gpt2";
  }
  return "unknown";
}

std::string_view llama_variant_name(LlamaVariant v) {
  switch (v) {
    case LlamaVariant::Llama: return "llama";
    case LlamaVariant::Mistral: return "mistral";
    case LlamaVariant::Qwen2: return "qwen2";
    case LlamaVariant::Qwen3: return "qwen3";
  }
  return "unknown";
}

int64_t ModelConfig::num_layers() const {
  if (auto* c = bert()) return c->num_hidden_layers;
  if (auto* c = llama()) return c->num_hidden_layers;
  if (auto* c = gpt2()) return c->n_layer;
  return 0;
}

int64_t ModelConfig::hidden_size() const {
  if (auto* c = bert()) return c->hidden_size;
  if (auto* c = llama()) return c->hidden_size;
  if (auto* c = gpt2()) return c->n_embd;
  return 0;
}

int64_t ModelConfig::vocab_size() const {
  if (auto* c = bert()) return c->vocab_size;
  if (auto* c = llama()) return c->vocab_size;
  if (auto* c = gpt2()) return c->vocab_size;
  return 0;
}

Result<ModelConfig> parse_hf_config(std::string_view json_text, std::string_view source) {
  try {
    Json j;
    try {
      j = Json::parse(json_text.begin(), json_text.end());
    } catch (const Json::exception& e) {
      return Error(source, ": not valid JSON: ", e.what());
    }
    return parse_object(j, source);
  } catch (const std::exception& e) {
    // Checks above come before every get<>, so this is out of memory or a bug;
    // either way the caller gets an error, not a crash.
    return Error(source, ": ", e.what());
  }
}

Result<ModelConfig> load_hf_config(const std::string& path) {
  std::error_code ec;
  std::string file = std::filesystem::is_directory(path, ec)
                         ? (std::filesystem::path(path) / "config.json").string()
                         : path;
  auto text = read_text_file(file);
  if (!text.ok()) return text.status();
  return parse_hf_config(*text, file);
}

}  // namespace keel
