// Hugging Face config.json -> typed model configs. Fields HF gives defaults to
// take HF's defaults (transformers' BertConfig / LlamaConfig / Qwen2Config /
// Qwen3Config / MistralConfig / GPT2Config); a field of the wrong JSON type, a
// value out of range (zero layers, heads that do not divide the width, ...) or an
// unknown model_type is an error naming the field: "config.json: num_attention_heads:
// expected a positive integer, got \"x\"".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace keel {

enum class Architecture { Bert, Llama, Gpt2 };
std::string_view architecture_name(Architecture a);

struct BertConfig {
  int64_t vocab_size = 30522;
  int64_t hidden_size = 768;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t intermediate_size = 3072;
  std::string hidden_act = "gelu";  // gelu (exact erf), gelu_new, relu, ...
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;
  double layer_norm_eps = 1e-12;
  int64_t pad_token_id = 0;
  std::string position_embedding_type = "absolute";  // only "absolute" is supported
  int64_t head_dim() const { return hidden_size / num_attention_heads; }
};

// Llama and its close variants, which differ in a few switches.
enum class LlamaVariant { Llama, Mistral, Qwen2, Qwen3 };
std::string_view llama_variant_name(LlamaVariant v);

struct RopeScaling {
  std::string type;  // "llama3", "linear", "dynamic", "yarn", ...; empty = none
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;
};

struct LlamaConfig {
  LlamaVariant variant = LlamaVariant::Llama;
  int64_t vocab_size = 32000;
  int64_t hidden_size = 4096;
  int64_t intermediate_size = 11008;
  int64_t num_hidden_layers = 32;
  int64_t num_attention_heads = 32;
  int64_t num_key_value_heads = 32;  // defaults to num_attention_heads
  int64_t head_dim = 128;            // defaults to hidden_size / num_attention_heads
  int64_t max_position_embeddings = 2048;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // q/k/v/o biases (Qwen2: q/k/v only, always on)
  bool qkv_bias = false;        // q/k/v have biases (Qwen2, or attention_bias)
  bool o_bias = false;          // o_proj has a bias (attention_bias)
  bool mlp_bias = false;
  bool qk_norm = false;         // Qwen3: RMSNorm on q and k per head
  std::optional<int64_t> sliding_window;  // Mistral / Qwen (informational)
  std::string hidden_act = "silu";
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;  // eos_token_id may be an int or a list
};

struct Gpt2Config {
  int64_t vocab_size = 50257;
  int64_t n_positions = 1024;
  int64_t n_embd = 768;
  int64_t n_layer = 12;
  int64_t n_head = 12;
  int64_t n_inner = 0;  // 0 = 4 * n_embd (HF: None)
  std::string activation_function = "gelu_new";
  double layer_norm_epsilon = 1e-5;
  bool scale_attn_weights = true;
  std::optional<int64_t> bos_token_id;
  std::optional<int64_t> eos_token_id;
  int64_t inner() const { return n_inner > 0 ? n_inner : 4 * n_embd; }
};

struct ModelConfig {
  Architecture arch = Architecture::Bert;
  std::string model_type;                 // as written: "bert", "qwen2", ...
  std::vector<std::string> architectures; // "architectures" as written
  std::string torch_dtype;                // as written, may be empty
  std::variant<BertConfig, LlamaConfig, Gpt2Config> config;

  const BertConfig* bert() const { return std::get_if<BertConfig>(&config); }
  const LlamaConfig* llama() const { return std::get_if<LlamaConfig>(&config); }
  const Gpt2Config* gpt2() const { return std::get_if<Gpt2Config>(&config); }
  int64_t num_layers() const;
  int64_t hidden_size() const;
  int64_t vocab_size() const;
};

// `source` names the text in errors (usually the file path).
Result<ModelConfig> parse_hf_config(std::string_view json_text, std::string_view source = "config.json");
// `path` is a config.json or a directory that holds one.
Result<ModelConfig> load_hf_config(const std::string& path);

}  // namespace keel
