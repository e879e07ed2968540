// One weight table per architecture, with the names and shapes of the Hugging
// Face checkpoints (PyTorch layout: nn.Linear weights are [out, in]; GPT-2's
// Conv1D weights are [in, out]).
#include "models/weight_table.h"

namespace keel {
namespace {

class TableBuilder {
 public:
  explicit TableBuilder(std::vector<WeightSpec>* out) : out_(out) {}
  void normal(std::string name, Shape shape) { add(std::move(name), shape, WeightInit::Normal); }
  void norm(std::string name, int64_t dim) { add(std::move(name), {dim}, WeightInit::Ones); }
  void bias(std::string name, int64_t dim) { add(std::move(name), {dim}, WeightInit::Zeros); }
  // A LayerNorm: weight (ones) and bias (zeros).
  void layer_norm(const std::string& prefix, int64_t dim) {
    norm(prefix + ".weight", dim);
    bias(prefix + ".bias", dim);
  }
  // nn.Linear(in, out): weight [out, in], bias [out].
  void linear(const std::string& prefix, int64_t in, int64_t out, bool has_bias = true,
              bool required = true) {
    add(prefix + ".weight", {out, in}, WeightInit::Normal, required);
    if (has_bias) add(prefix + ".bias", {out}, WeightInit::Zeros, required);
  }
  // transformers' Conv1D(nf=out, nx=in): weight [in, out], bias [out].
  void conv1d(const std::string& prefix, int64_t in, int64_t out) {
    normal(prefix + ".weight", {in, out});
    bias(prefix + ".bias", out);
  }

 private:
  void add(std::string name, Shape shape, WeightInit init, bool required = true) {
    out_->push_back({std::move(name), shape, init, required});
  }
  std::vector<WeightSpec>* out_;
};

// sentence-transformers' BertModel, saved without the "bert." prefix.
void bert_table(const BertConfig& c, TableBuilder& t) {
  const int64_t h = c.hidden_size, inter = c.intermediate_size;
  t.normal("embeddings.word_embeddings.weight", {c.vocab_size, h});
  t.normal("embeddings.position_embeddings.weight", {c.max_position_embeddings, h});
  t.normal("embeddings.token_type_embeddings.weight", {c.type_vocab_size, h});
  t.layer_norm("embeddings.LayerNorm", h);
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = str_cat("encoder.layer.", i, ".");
    t.linear(p + "attention.self.query", h, h);
    t.linear(p + "attention.self.key", h, h);
    t.linear(p + "attention.self.value", h, h);
    t.linear(p + "attention.output.dense", h, h);
    t.layer_norm(p + "attention.output.LayerNorm", h);
    t.linear(p + "intermediate.dense", h, inter);
    t.linear(p + "output.dense", inter, h);
    t.layer_norm(p + "output.LayerNorm", h);
  }
  // BertModel(add_pooling_layer=True) has it; embedding-only exports may not.
  t.linear("pooler.dense", h, h, /*has_bias=*/true, /*required=*/false);
}

void llama_table(const LlamaConfig& c, TableBuilder& t) {
  const int64_t h = c.hidden_size, inter = c.intermediate_size, hd = c.head_dim;
  const int64_t q_width = c.num_attention_heads * hd;    // q_proj: [nh * hd, H]
  const int64_t kv_width = c.num_key_value_heads * hd;  // k/v_proj: [nkv * hd, H]
  t.normal("model.embed_tokens.weight", {c.vocab_size, h});
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = str_cat("model.layers.", i, ".");
    t.norm(p + "input_layernorm.weight", h);
    t.linear(p + "self_attn.q_proj", h, q_width, c.qkv_bias);
    t.linear(p + "self_attn.k_proj", h, kv_width, c.qkv_bias);
    t.linear(p + "self_attn.v_proj", h, kv_width, c.qkv_bias);
    t.linear(p + "self_attn.o_proj", q_width, h, c.o_bias);
    if (c.qk_norm) {  // Qwen3: RMSNorm over each head's [hd] before RoPE
      t.norm(p + "self_attn.q_norm.weight", hd);
      t.norm(p + "self_attn.k_norm.weight", hd);
    }
    t.norm(p + "post_attention_layernorm.weight", h);
    t.linear(p + "mlp.gate_proj", h, inter, c.mlp_bias);
    t.linear(p + "mlp.up_proj", h, inter, c.mlp_bias);
    t.linear(p + "mlp.down_proj", inter, h, c.mlp_bias);
  }
  t.norm("model.norm.weight", h);
  if (!c.tie_word_embeddings) t.linear("lm_head", h, c.vocab_size, /*has_bias=*/false);
}

// GPT2Model as the hub stores it: no "transformer." prefix, lm_head tied to wte.
void gpt2_table(const Gpt2Config& c, TableBuilder& t) {
  const int64_t h = c.n_embd, inner = c.inner();
  t.normal("wte.weight", {c.vocab_size, h});
  t.normal("wpe.weight", {c.n_positions, h});
  for (int64_t i = 0; i < c.n_layer; ++i) {
    const std::string p = str_cat("h.", i, ".");
    t.layer_norm(p + "ln_1", h);
    t.conv1d(p + "attn.c_attn", h, 3 * h);  // q, k, v side by side
    t.conv1d(p + "attn.c_proj", h, h);
    t.layer_norm(p + "ln_2", h);
    t.conv1d(p + "mlp.c_fc", h, inner);
    t.conv1d(p + "mlp.c_proj", inner, h);
  }
  t.layer_norm("ln_f", h);
}

}  // namespace

std::vector<WeightSpec> weight_table(const ModelConfig& config) {
  std::vector<WeightSpec> out;
  TableBuilder t(&out);
  if (const auto* c = config.bert()) bert_table(*c, t);
  if (const auto* c = config.llama()) llama_table(*c, t);
  if (const auto* c = config.gpt2()) gpt2_table(*c, t);
  return out;
}

}  // namespace keel
