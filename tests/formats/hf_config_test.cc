// parse_hf_config: the shared real configs, inline Qwen2 / Qwen3 / Mistral /
// Llama-3 configs written from their public HF definitions, transformers'
// defaults, and every error path (the message must name the field).
#include "formats/hf_config.h"

#include <string>

#include <gtest/gtest.h>

#include "models/weight_table.h"

namespace keel {
namespace {

const std::string kModels = KEEL_SHARED_MODELS;

ModelConfig parse_ok(std::string_view text) {
  auto r = parse_hf_config(text);
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? *r : ModelConfig{};
}

// The error message, which must exist.
std::string parse_error(std::string_view text) {
  auto r = parse_hf_config(text);
  EXPECT_FALSE(r.ok()) << "accepted: " << text;
  return r.ok() ? "" : r.error();
}

// --- the shared real configs -------------------------------------------------

TEST(HfConfig, MiniLm) {
  auto r = load_hf_config(kModels + "/all-MiniLM-L6-v2");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->arch, Architecture::Bert);
  EXPECT_EQ(r->model_type, "bert");
  ASSERT_EQ(r->architectures.size(), 1u);
  EXPECT_EQ(r->architectures[0], "BertModel");
  const BertConfig* c = r->bert();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->vocab_size, 30522);
  EXPECT_EQ(c->hidden_size, 384);
  EXPECT_EQ(c->num_hidden_layers, 6);
  EXPECT_EQ(c->num_attention_heads, 12);
  EXPECT_EQ(c->head_dim(), 32);
  EXPECT_EQ(c->intermediate_size, 1536);
  EXPECT_EQ(c->hidden_act, "gelu");
  EXPECT_EQ(c->max_position_embeddings, 512);
  EXPECT_EQ(c->type_vocab_size, 2);
  EXPECT_DOUBLE_EQ(c->layer_norm_eps, 1e-12);
  EXPECT_EQ(c->pad_token_id, 0);
  EXPECT_EQ(r->num_layers(), 6);
  EXPECT_EQ(r->hidden_size(), 384);
  EXPECT_EQ(r->vocab_size(), 30522);
  EXPECT_EQ(r->torch_dtype, "");
}

TEST(HfConfig, Gpt2) {
  auto r = load_hf_config(kModels + "/gpt2/config.json");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->arch, Architecture::Gpt2);
  const Gpt2Config* c = r->gpt2();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->vocab_size, 50257);
  EXPECT_EQ(c->n_positions, 1024);
  EXPECT_EQ(c->n_embd, 768);
  EXPECT_EQ(c->n_layer, 12);
  EXPECT_EQ(c->n_head, 12);
  EXPECT_EQ(c->n_inner, 0);
  EXPECT_EQ(c->inner(), 3072);
  EXPECT_EQ(c->activation_function, "gelu_new");
  EXPECT_DOUBLE_EQ(c->layer_norm_epsilon, 1e-5);
  EXPECT_TRUE(c->scale_attn_weights);
  EXPECT_EQ(c->bos_token_id, 50256);
  EXPECT_EQ(c->eos_token_id, 50256);
}

TEST(HfConfig, TinyLlama) {
  auto r = load_hf_config(kModels + "/TinyLlama-1.1B-Chat-v1.0");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->arch, Architecture::Llama);
  EXPECT_EQ(r->torch_dtype, "bfloat16");
  const LlamaConfig* c = r->llama();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->variant, LlamaVariant::Llama);
  EXPECT_EQ(c->vocab_size, 32000);
  EXPECT_EQ(c->hidden_size, 2048);
  EXPECT_EQ(c->intermediate_size, 5632);
  EXPECT_EQ(c->num_hidden_layers, 22);
  EXPECT_EQ(c->num_attention_heads, 32);
  EXPECT_EQ(c->num_key_value_heads, 4);
  EXPECT_EQ(c->head_dim, 64);
  EXPECT_EQ(c->max_position_embeddings, 2048);
  EXPECT_DOUBLE_EQ(c->rms_norm_eps, 1e-5);
  EXPECT_DOUBLE_EQ(c->rope_theta, 10000.0);
  EXPECT_TRUE(c->rope_scaling.type.empty());
  EXPECT_FALSE(c->tie_word_embeddings);
  EXPECT_FALSE(c->attention_bias || c->qkv_bias || c->o_bias || c->mlp_bias || c->qk_norm);
  EXPECT_FALSE(c->sliding_window.has_value());
  EXPECT_EQ(c->bos_token_id, 1);
  EXPECT_EQ(c->eos_token_ids, std::vector<int64_t>{2});
}

TEST(HfConfig, T5IsRejectedByName) {
  auto r = load_hf_config(kModels + "/t5-small");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("model_type"), std::string::npos) << r.error();
  EXPECT_NE(r.error().find("\"t5\""), std::string::npos) << r.error();
  EXPECT_NE(r.error().find("t5-small/config.json"), std::string::npos) << r.error();
}

TEST(HfConfig, MissingFile) {
  auto r = load_hf_config("/nonexistent/dir/config.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("/nonexistent/dir/config.json"), std::string::npos) << r.error();
}

// --- variants, from the public HF configs ----------------------------------

// Qwen2.5-0.5B-Instruct's config.json.
constexpr const char* kQwen2 = R"({
  "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
  "eos_token_id": 151645, "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02,
  "intermediate_size": 4864, "max_position_embeddings": 32768, "max_window_layers": 21,
  "model_type": "qwen2", "num_attention_heads": 14, "num_hidden_layers": 24,
  "num_key_value_heads": 2, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
  "sliding_window": 32768, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
  "transformers_version": "4.43.1", "use_cache": true, "use_sliding_window": false,
  "vocab_size": 151936})";

TEST(HfConfig, Qwen2) {
  ModelConfig m = parse_ok(kQwen2);
  const LlamaConfig* c = m.llama();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(m.model_type, "qwen2");
  EXPECT_EQ(c->variant, LlamaVariant::Qwen2);
  EXPECT_EQ(c->hidden_size, 896);
  EXPECT_EQ(c->num_attention_heads, 14);
  EXPECT_EQ(c->num_key_value_heads, 2);
  EXPECT_EQ(c->head_dim, 64);
  EXPECT_DOUBLE_EQ(c->rope_theta, 1e6);
  EXPECT_TRUE(c->tie_word_embeddings);
  EXPECT_TRUE(c->qkv_bias);  // Qwen2 always has q/k/v biases
  EXPECT_FALSE(c->o_bias);
  EXPECT_FALSE(c->mlp_bias);
  EXPECT_FALSE(c->qk_norm);
  EXPECT_FALSE(c->sliding_window.has_value());  // use_sliding_window: false
  EXPECT_EQ(c->bos_token_id, 151643);
  EXPECT_EQ(c->eos_token_ids, std::vector<int64_t>{151645});
}

// Qwen3-0.6B's config.json: head_dim 128 is not hidden / heads (1024 / 16 = 64).
constexpr const char* kQwen3 = R"({
  "architectures": ["Qwen3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
  "bos_token_id": 151643, "eos_token_id": 151645, "head_dim": 128, "hidden_act": "silu",
  "hidden_size": 1024, "initializer_range": 0.02, "intermediate_size": 3072,
  "max_position_embeddings": 40960, "max_window_layers": 28, "model_type": "qwen3",
  "num_attention_heads": 16, "num_hidden_layers": 28, "num_key_value_heads": 8,
  "rms_norm_eps": 1e-06, "rope_scaling": null, "rope_theta": 1000000,
  "sliding_window": null, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
  "transformers_version": "4.51.0", "use_cache": true, "use_sliding_window": false,
  "vocab_size": 151936})";

TEST(HfConfig, Qwen3) {
  ModelConfig m = parse_ok(kQwen3);
  const LlamaConfig* c = m.llama();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->variant, LlamaVariant::Qwen3);
  EXPECT_EQ(c->head_dim, 128);
  EXPECT_EQ(c->num_key_value_heads, 8);
  EXPECT_EQ(c->max_position_embeddings, 40960);
  EXPECT_DOUBLE_EQ(c->rope_theta, 1e6);  // an integer in the JSON
  EXPECT_TRUE(c->qk_norm);
  EXPECT_FALSE(c->qkv_bias);
  EXPECT_FALSE(c->o_bias);
  EXPECT_TRUE(c->tie_word_embeddings);
  EXPECT_FALSE(c->sliding_window.has_value());
}

TEST(HfConfig, Qwen3Defaults) {
  // Qwen3Config: head_dim defaults to 128, num_key_value_heads to 32, attention_bias to false.
  ModelConfig m = parse_ok(R"({"model_type": "qwen3", "hidden_size": 256, "num_attention_heads": 32,
                              "attention_bias": true})");
  const LlamaConfig* c = m.llama();
  EXPECT_EQ(c->head_dim, 128);
  EXPECT_EQ(c->num_key_value_heads, 32);
  EXPECT_TRUE(c->qkv_bias);
  EXPECT_TRUE(c->o_bias);
  EXPECT_EQ(c->vocab_size, 151936);
  EXPECT_EQ(c->intermediate_size, 22016);
  EXPECT_EQ(c->num_hidden_layers, 32);
  EXPECT_FALSE(c->tie_word_embeddings);
  EXPECT_FALSE(c->bos_token_id.has_value());
  EXPECT_TRUE(c->eos_token_ids.empty());
}

// Mistral-7B-v0.1's config.json.
constexpr const char* kMistral = R"({
  "architectures": ["MistralForCausalLM"], "bos_token_id": 1, "eos_token_id": 2,
  "hidden_act": "silu", "hidden_size": 4096, "initializer_range": 0.02,
  "intermediate_size": 14336, "max_position_embeddings": 32768, "model_type": "mistral",
  "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
  "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "sliding_window": 4096,
  "tie_word_embeddings": false, "torch_dtype": "bfloat16", "transformers_version": "4.34.0.dev0",
  "use_cache": true, "vocab_size": 32000})";

TEST(HfConfig, Mistral) {
  ModelConfig m = parse_ok(kMistral);
  const LlamaConfig* c = m.llama();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->variant, LlamaVariant::Mistral);
  EXPECT_EQ(c->sliding_window, 4096);
  EXPECT_EQ(c->num_key_value_heads, 8);
  EXPECT_EQ(c->head_dim, 128);
  EXPECT_FALSE(c->qkv_bias || c->o_bias || c->mlp_bias || c->qk_norm);
}

TEST(HfConfig, MistralDefaults) {
  ModelConfig m = parse_ok(R"({"model_type": "mistral", "sliding_window": null})");
  const LlamaConfig* c = m.llama();
  EXPECT_EQ(c->num_key_value_heads, 8);
  EXPECT_EQ(c->intermediate_size, 14336);
  EXPECT_EQ(c->max_position_embeddings, 131072);
  EXPECT_FALSE(c->sliding_window.has_value());
  EXPECT_EQ(parse_ok(R"({"model_type": "mistral"})").llama()->sliding_window, 4096);
  // Explicit null kv heads means "as many as the query heads".
  EXPECT_EQ(parse_ok(R"({"model_type": "mistral", "num_key_value_heads": null})").llama()->num_key_value_heads,
            32);
}

// Llama-3.2-1B's config.json: rope_scaling llama3, eos a list (the Instruct model's).
constexpr const char* kLlama3 = R"({
  "architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
  "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "head_dim": 64,
  "hidden_act": "silu", "hidden_size": 2048, "initializer_range": 0.02,
  "intermediate_size": 8192, "max_position_embeddings": 131072, "mlp_bias": false,
  "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 16,
  "num_key_value_heads": 8, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
  "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                   "original_max_position_embeddings": 8192, "rope_type": "llama3"},
  "rope_theta": 500000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
  "transformers_version": "4.45.0.dev0", "use_cache": true, "vocab_size": 128256})";

TEST(HfConfig, Llama3RopeScaling) {
  ModelConfig m = parse_ok(kLlama3);
  const LlamaConfig* c = m.llama();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->rope_scaling.type, "llama3");
  EXPECT_DOUBLE_EQ(c->rope_scaling.factor, 32.0);
  EXPECT_DOUBLE_EQ(c->rope_scaling.low_freq_factor, 1.0);
  EXPECT_DOUBLE_EQ(c->rope_scaling.high_freq_factor, 4.0);
  EXPECT_EQ(c->rope_scaling.original_max_position_embeddings, 8192);
  EXPECT_DOUBLE_EQ(c->rope_theta, 500000.0);
  EXPECT_EQ(c->eos_token_ids, (std::vector<int64_t>{128001, 128008, 128009}));
  EXPECT_EQ(c->bos_token_id, 128000);
  EXPECT_TRUE(c->tie_word_embeddings);
}

TEST(HfConfig, RopeScalingLegacyTypeAndDefault) {
  auto linear = parse_ok(R"({"model_type": "llama", "rope_scaling": {"type": "linear", "factor": 2}})");
  EXPECT_EQ(linear.llama()->rope_scaling.type, "linear");
  EXPECT_DOUBLE_EQ(linear.llama()->rope_scaling.factor, 2.0);
  auto none = parse_ok(R"({"model_type": "llama", "rope_scaling": {"rope_type": "default"}})");
  EXPECT_TRUE(none.llama()->rope_scaling.type.empty());
}

TEST(HfConfig, LlamaDefaults) {
  ModelConfig m = parse_ok(R"({"model_type": "llama", "hidden_size": 512, "num_attention_heads": 8,
                              "attention_bias": true, "mlp_bias": true})");
  const LlamaConfig* c = m.llama();
  EXPECT_EQ(c->num_key_value_heads, 8);  // None -> num_attention_heads
  EXPECT_EQ(c->head_dim, 64);            // hidden / heads
  EXPECT_EQ(c->vocab_size, 32000);
  EXPECT_EQ(c->intermediate_size, 11008);
  EXPECT_EQ(c->max_position_embeddings, 2048);
  EXPECT_DOUBLE_EQ(c->rms_norm_eps, 1e-6);
  EXPECT_FALSE(c->tie_word_embeddings);
  EXPECT_TRUE(c->qkv_bias && c->o_bias && c->mlp_bias);
  EXPECT_EQ(c->bos_token_id, 1);
  EXPECT_EQ(c->eos_token_ids, std::vector<int64_t>{2});
  EXPECT_TRUE(parse_ok(R"({"model_type": "llama", "eos_token_id": null})").llama()->eos_token_ids.empty());
}

TEST(HfConfig, BertAndGpt2Defaults) {
  const ModelConfig bert = parse_ok(R"({"model_type": "bert"})");
  const BertConfig* b = bert.bert();
  EXPECT_EQ(b->vocab_size, 30522);
  EXPECT_EQ(b->hidden_size, 768);
  EXPECT_EQ(b->num_hidden_layers, 12);
  EXPECT_EQ(b->intermediate_size, 3072);
  EXPECT_EQ(b->type_vocab_size, 2);
  ModelConfig g = parse_ok(R"({"model_type": "gpt2", "n_inner": null})");
  EXPECT_EQ(g.gpt2()->n_embd, 768);
  EXPECT_EQ(g.gpt2()->inner(), 3072);
  EXPECT_EQ(g.gpt2()->bos_token_id, 50256);
  // GPT2Config.attribute_map: the generic names stand in for GPT-2's.
  ModelConfig a = parse_ok(R"({"model_type": "gpt2", "hidden_size": 64, "num_attention_heads": 4,
                              "num_hidden_layers": 3, "max_position_embeddings": 128, "n_inner": 100})");
  EXPECT_EQ(a.gpt2()->n_embd, 64);
  EXPECT_EQ(a.gpt2()->n_head, 4);
  EXPECT_EQ(a.gpt2()->n_layer, 3);
  EXPECT_EQ(a.gpt2()->n_positions, 128);
  EXPECT_EQ(a.gpt2()->inner(), 100);
}

TEST(HfConfig, NewDtypeKeyAndNames) {
  EXPECT_EQ(parse_ok(R"({"model_type": "bert", "dtype": "float16"})").torch_dtype, "float16");
  EXPECT_EQ(architecture_name(Architecture::Gpt2), "gpt2");
  EXPECT_EQ(llama_variant_name(LlamaVariant::Qwen3), "qwen3");
}

// --- errors -------------------------------------------------------------------

struct ErrorCase {
  const char* json;
  std::vector<const char*> substrings;  // all must appear in the message
};

TEST(HfConfig, Errors) {
  const ErrorCase cases[] = {
      {"", {"config.json", "not valid JSON"}},
      {"{\"model_type\": \"bert\",", {"not valid JSON"}},
      {"not json at all", {"not valid JSON"}},
      {"[1, 2]", {"expected a JSON object", "an array"}},
      {"\"bert\"", {"expected a JSON object"}},
      {"{}", {"model_type", "missing"}},
      {R"({"model_type": 5})", {"model_type", "a string", "5"}},
      {R"({"model_type": "t5"})", {"model_type", "\"t5\"", "unsupported"}},
      {R"({"model_type": "bert", "num_attention_heads": 0})", {"num_attention_heads", "positive integer", "got 0"}},
      {R"({"model_type": "bert", "hidden_size": -768})", {"hidden_size", "got -768"}},
      {R"({"model_type": "bert", "hidden_size": "768"})", {"hidden_size", "got \"768\""}},
      {R"({"model_type": "bert", "hidden_size": 768.5})", {"hidden_size", "768.5"}},
      {R"({"model_type": "bert", "hidden_size": null})", {"hidden_size", "got null"}},
      {R"({"model_type": "bert", "num_hidden_layers": [6]})", {"num_hidden_layers", "an array"}},
      {R"({"model_type": "bert", "num_attention_heads": 7})", {"num_attention_heads", "7 does not divide hidden_size 768"}},
      {R"({"model_type": "bert", "layer_norm_eps": 0})", {"layer_norm_eps", "positive number"}},
      {R"({"model_type": "bert", "layer_norm_eps": "1e-12"})", {"layer_norm_eps"}},
      {R"({"model_type": "bert", "hidden_act": 1})", {"hidden_act", "a string"}},
      {R"({"model_type": "bert", "position_embedding_type": "relative_key"})",
       {"position_embedding_type", "relative_key"}},
      {R"({"model_type": "bert", "architectures": "BertModel"})", {"architectures", "list of strings"}},
      {R"({"model_type": "bert", "architectures": [1]})", {"architectures"}},
      {R"({"model_type": "bert", "torch_dtype": 16})", {"torch_dtype", "a string"}},
      {R"({"model_type": "gpt2", "n_head": 5})", {"n_head", "does not divide n_embd 768"}},
      {R"({"model_type": "gpt2", "num_attention_heads": 5})", {"num_attention_heads", "does not divide"}},
      {R"({"model_type": "gpt2", "n_layer": 0})", {"n_layer"}},
      {R"({"model_type": "gpt2", "scale_attn_weights": 1})", {"scale_attn_weights", "true or false"}},
      {R"({"model_type": "llama", "num_key_value_heads": 5})", {"num_key_value_heads", "5 does not divide num_attention_heads 32"}},
      {R"({"model_type": "llama", "num_attention_heads": 0})", {"num_attention_heads", "got 0"}},
      {R"({"model_type": "llama", "num_attention_heads": 8192, "num_key_value_heads": 8192})",
       {"num_attention_heads", "head_dim would be 0"}},
      {R"({"model_type": "llama", "tie_word_embeddings": "false"})", {"tie_word_embeddings", "true or false"}},
      {R"({"model_type": "llama", "eos_token_id": "2"})", {"eos_token_id", "integer or a list"}},
      {R"({"model_type": "llama", "eos_token_id": [2, "x"]})", {"eos_token_id"}},
      {R"({"model_type": "llama", "bos_token_id": 1.5})", {"bos_token_id"}},
      {R"({"model_type": "llama", "rope_theta": -1})", {"rope_theta", "positive number"}},
      {R"({"model_type": "llama", "rope_scaling": 2})", {"rope_scaling", "an object or null"}},
      {R"({"model_type": "llama", "rope_scaling": {"factor": 2}})", {"rope_scaling", "rope_type"}},
      {R"({"model_type": "llama", "rope_scaling": {"rope_type": 3}})", {"rope_scaling.rope_type", "a string"}},
      {R"({"model_type": "llama", "rope_scaling": {"rope_type": "llama3", "factor": 8}})",
       {"rope_scaling.low_freq_factor", "required", "llama3"}},
      {R"({"model_type": "llama", "rope_scaling": {"type": "linear", "factor": "2"}})", {"rope_scaling.factor"}},
      {R"({"model_type": "qwen3", "head_dim": 0})", {"head_dim", "got 0"}},
      {R"({"model_type": "qwen2", "use_sliding_window": "no"})", {"use_sliding_window"}},
      {R"({"model_type": "mistral", "sliding_window": 0})", {"sliding_window"}},
      // Absurd sizes: over the per-field bound, or a parameter count past 2^59.
      {R"({"model_type": "llama", "vocab_size": 99999999999999999999})", {"vocab_size"}},
      {R"({"model_type": "llama", "vocab_size": 18446744073709551615})", {"vocab_size"}},
      {R"({"model_type": "llama", "num_hidden_layers": 100000})", {"num_hidden_layers", "4096"}},
      {R"({"model_type": "bert", "vocab_size": 2147483647, "hidden_size": 2147483647, "num_attention_heads": 1})",
       {"vocab_size x hidden_size", "too large"}},
      {R"({"model_type": "llama", "intermediate_size": 2147483647, "hidden_size": 2147483647,
           "num_attention_heads": 1})", {"too large"}},
      {R"({"model_type": "gpt2", "n_embd": 1073741824, "n_head": 1})", {"too large"}},
  };
  for (const ErrorCase& c : cases) {
    std::string msg = parse_error(c.json);
    for (const char* s : c.substrings) EXPECT_NE(msg.find(s), std::string::npos) << c.json << "\n  -> " << msg;
  }
}

TEST(HfConfig, SourceNamesTheFile) {
  auto r = parse_hf_config("{}", "/some/model/config.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().rfind("/some/model/config.json: ", 0), 0u) << r.error();
}

TEST(HfConfig, HostileInputsDoNotCrash) {
  // Deep nesting, invalid UTF-8, embedded NULs, huge numbers.
  std::string deep(100000, '[');
  EXPECT_FALSE(parse_hf_config(deep).ok());
  std::string deep_closed = std::string(20000, '[') + std::string(20000, ']');
  EXPECT_FALSE(parse_hf_config(deep_closed).ok());
  EXPECT_FALSE(parse_hf_config("{\"model_type\": \"\xff\xfe\"}").ok());
  EXPECT_FALSE(parse_hf_config(std::string("{\"model_type\"\0: 1}", 18)).ok());
  EXPECT_FALSE(parse_hf_config(R"({"model_type": "bert", "hidden_size": 1e400})").ok());
  EXPECT_FALSE(parse_hf_config(R"({"model_type": "bert", "hidden_size": -1e400})").ok());
  std::string long_type = R"({"model_type": ")" + std::string(10000, 'x') + "\"}";
  std::string msg = parse_error(long_type);
  EXPECT_LT(msg.size(), 400u);
}

// --- the weight tables these configs give -------------------------------------

TEST(WeightTable, MiniLm) {
  auto m = load_hf_config(kModels + "/all-MiniLM-L6-v2");
  ASSERT_TRUE(m.ok());
  auto t = weight_table(*m);
  ASSERT_EQ(t.size(), 5u + 6 * 16 + 2);
  EXPECT_EQ(t[0].name, "embeddings.word_embeddings.weight");
  EXPECT_EQ(t[0].shape, (Shape{30522, 384}));
  EXPECT_EQ(t[5].name, "encoder.layer.0.attention.self.query.weight");
  EXPECT_EQ(t[5].shape, (Shape{384, 384}));
  EXPECT_EQ(t.back().name, "pooler.dense.bias");
  EXPECT_FALSE(t.back().required);
  for (const auto& w : t) {
    const bool is_norm = w.name.find("LayerNorm.weight") != std::string::npos;
    const bool is_bias = w.name.ends_with(".bias");
    EXPECT_EQ(w.init, is_norm ? WeightInit::Ones : is_bias ? WeightInit::Zeros : WeightInit::Normal) << w.name;
  }
}

TEST(WeightTable, Gpt2ConvShapes) {
  auto m = load_hf_config(kModels + "/gpt2");
  ASSERT_TRUE(m.ok());
  auto t = weight_table(*m);
  ASSERT_EQ(t.size(), 2u + 12 * 12 + 2);
  auto find = [&](std::string_view name) -> const WeightSpec* {
    for (const auto& w : t)
      if (w.name == name) return &w;
    return nullptr;
  };
  ASSERT_NE(find("h.3.attn.c_attn.weight"), nullptr);
  EXPECT_EQ(find("h.3.attn.c_attn.weight")->shape, (Shape{768, 2304}));
  EXPECT_EQ(find("h.3.mlp.c_fc.weight")->shape, (Shape{768, 3072}));
  EXPECT_EQ(find("h.3.mlp.c_proj.weight")->shape, (Shape{3072, 768}));
  EXPECT_EQ(find("ln_f.bias")->init, WeightInit::Zeros);
  EXPECT_EQ(find("lm_head.weight"), nullptr);
}

TEST(WeightTable, LlamaVariants) {
  auto tiny = load_hf_config(kModels + "/TinyLlama-1.1B-Chat-v1.0");
  ASSERT_TRUE(tiny.ok());
  auto t = weight_table(*tiny);
  ASSERT_EQ(t.size(), 1u + 22 * 9 + 2);
  EXPECT_EQ(t[3].name, "model.layers.0.self_attn.k_proj.weight");
  EXPECT_EQ(t[3].shape, (Shape{256, 2048}));
  EXPECT_EQ(t.back().name, "lm_head.weight");
  int64_t params = 0;
  for (const auto& w : t) params += w.shape.numel();
  EXPECT_EQ(params, 1100048384);  // TinyLlama's published parameter count

  auto qwen2 = weight_table(parse_ok(kQwen2));
  EXPECT_EQ(qwen2.size(), 1u + 24 * 12 + 1);  // q/k/v biases, tied head
  EXPECT_EQ(qwen2[3].name, "model.layers.0.self_attn.q_proj.bias");
  EXPECT_EQ(qwen2[3].shape, (Shape{896}));

  auto qwen3 = weight_table(parse_ok(kQwen3));
  EXPECT_EQ(qwen3.size(), 1u + 28 * 11 + 1);
  EXPECT_EQ(qwen3[2].shape, (Shape{2048, 1024}));  // q_proj: 16 heads x 128
  EXPECT_EQ(qwen3[5].name, "model.layers.0.self_attn.o_proj.weight");
  EXPECT_EQ(qwen3[5].shape, (Shape{1024, 2048}));
  EXPECT_EQ(qwen3[6].name, "model.layers.0.self_attn.q_norm.weight");
  EXPECT_EQ(qwen3[6].shape, (Shape{128}));
  EXPECT_EQ(qwen3[6].init, WeightInit::Ones);
}

}  // namespace
}  // namespace keel
