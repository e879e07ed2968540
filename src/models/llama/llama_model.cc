#include "models/llama/llama_model.h"

#include <cmath>
#include <cstring>
#include <numbers>

#include "kernels/decoder_ops.h"
#include "models/gguf_meta.h"

namespace keel::llama {
namespace {

using decoder::grow;

// HF's names, or llama.cpp's GGUF names for the same tensor.
struct Names {
  bool gguf;
  std::string embed() const { return gguf ? "token_embd.weight" : "model.embed_tokens.weight"; }
  std::string final_norm() const { return gguf ? "output_norm.weight" : "model.norm.weight"; }
  std::string lm_head() const { return gguf ? "output.weight" : "lm_head.weight"; }
  std::string layer(int64_t i, std::string_view hf, std::string_view gg) const {
    return gguf ? str_cat("blk.", i, ".", gg) : str_cat("model.layers.", i, ".", hf);
  }
};

}  // namespace

Result<std::unique_ptr<LlamaModel>> LlamaModel::from_hf(const std::string& dir,
                                                        const DecoderLoadOptions& options) {
  auto mc = load_hf_config(dir);
  if (!mc.ok()) return mc.status();
  if (!mc->llama()) return Error(dir, ": config.json is a ", mc->model_type, " model, not a Llama-family one");
  auto ckpt = SafetensorsCheckpoint::open(dir);
  if (!ckpt.ok()) return ckpt.status();
  auto shared = std::make_shared<SafetensorsCheckpoint>(std::move(ckpt).value());

  auto parsed_dtype = decoder::parse_convert_dtype(options.dtype);
  if (!parsed_dtype.ok()) return parsed_dtype.status();
  const std::optional<DType> convert = *parsed_dtype;

  auto model = std::make_unique<LlamaModel>();
  model->config_ = *mc->llama();
  model->arch_ = std::string(llama_variant_name(model->config_.variant));
  model->neox_rope_ = true;
  for (int64_t id : model->config_.eos_token_ids) model->eos_.push_back(static_cast<int32_t>(id));
  model->bos_ = model->config_.bos_token_id ? static_cast<int32_t>(*model->config_.bos_token_id) : -1;
  decoder::WeightLoader w(
      [shared](std::string_view name) -> std::optional<ConstTensorView> {
        const auto* e = shared->find(name);
        if (!e) return std::nullopt;
        return shared->view(*e);
      },
      dir, convert);
  KEEL_RETURN_IF_ERROR(model->load(w, /*gguf_names=*/false));
  model->file_ = shared;
  return model;
}

Result<std::unique_ptr<LlamaModel>> LlamaModel::from_gguf(std::shared_ptr<const GgufFile> file) {
  const GgufFile& f = *file;
  const GgufValue* arch_v = f.find("general.architecture");
  const std::string* arch = arch_v ? arch_v->as_string() : nullptr;
  if (!arch) return Error(f.source(), ": missing general.architecture");
  auto model = std::make_unique<LlamaModel>();
  LlamaConfig& c = model->config_;
  if (*arch == "llama") c.variant = LlamaVariant::Llama;
  else if (*arch == "qwen2") c.variant = LlamaVariant::Qwen2;
  else if (*arch == "qwen3") c.variant = LlamaVariant::Qwen3;
  else return Error(f.source(), ": architecture '", *arch, "' is not a Llama-family one");
  model->arch_ = *arch;
  // llama.cpp's converter permutes llama's q/k rows for adjacent-pair RoPE;
  // qwen2/qwen3 keep HF's layout and use NEOX RoPE.
  model->neox_rope_ = *arch != "llama";

  const decoder::GgufMeta m(f, *arch);
  KEEL_RETURN_IF_ERROR(m.read("embedding_length", &c.hidden_size));
  KEEL_RETURN_IF_ERROR(m.read("block_count", &c.num_hidden_layers));
  KEEL_RETURN_IF_ERROR(m.read("feed_forward_length", &c.intermediate_size));
  KEEL_RETURN_IF_ERROR(m.read("attention.head_count", &c.num_attention_heads));
  KEEL_RETURN_IF_ERROR(m.read("attention.head_count_kv", &c.num_key_value_heads, c.num_attention_heads));
  KEEL_RETURN_IF_ERROR(m.read("context_length", &c.max_position_embeddings));
  if (c.hidden_size % c.num_attention_heads != 0 && !m.find("attention.key_length"))
    return Error(f.source(), ": embedding_length is not a multiple of head_count");
  KEEL_RETURN_IF_ERROR(m.read("attention.key_length", &c.head_dim, c.hidden_size / c.num_attention_heads));
  auto eps = m.real("attention.layer_norm_rms_epsilon", 1e-5);
  if (!eps.ok()) return eps.status();
  c.rms_norm_eps = *eps;
  auto theta = m.real("rope.freq_base", 10000.0);
  if (!theta.ok()) return theta.status();
  c.rope_theta = *theta;
  if (const GgufValue* st = m.find("rope.scaling.type"); st && st->as_string() && *st->as_string() != "none") {
    if (*st->as_string() != "linear")
      return Error(f.source(), ": rope scaling '", *st->as_string(), "' is not supported (linear; llama3 via rope_freqs)");
    auto factor = m.real("rope.scaling.factor", 1.0);
    if (!factor.ok()) return factor.status();
    if (!(*factor > 0)) return Error(f.source(), ": rope.scaling.factor must be positive");
    c.rope_scaling.type = "linear";
    c.rope_scaling.factor = *factor;
  }
  const GgufTensorInfo* embd = f.find_tensor("token_embd.weight");
  if (!embd || embd->shape.rank() != 2) return Error(f.source(), ": missing tensor 'token_embd.weight'");
  c.vocab_size = embd->shape[0];
  c.tie_word_embeddings = f.find_tensor("output.weight") == nullptr;
  c.qkv_bias = f.find_tensor("blk.0.attn_q.bias") != nullptr;
  c.qk_norm = f.find_tensor("blk.0.attn_q_norm.weight") != nullptr;
  if (c.num_attention_heads % c.num_key_value_heads != 0)
    return Error(f.source(), ": head_count is not a multiple of head_count_kv");
  decoder::gguf_special_ids(f, &model->eos_, &model->bos_);

  decoder::WeightLoader w(decoder::gguf_tensors(file), f.source());
  KEEL_RETURN_IF_ERROR(model->load(w, /*gguf_names=*/true));
  // Llama 3.1-style RoPE scaling comes as per-frequency divisors (llama.cpp's
  // converter writes rope_freqs.weight; theta_i = pos * base^(-2i/d) / f_i).
  if (f.find_tensor("rope_freqs.weight")) {
    std::vector<float> div = w.vector("rope_freqs.weight", model->inv_freq_.size());
    KEEL_RETURN_IF_ERROR(w.status());
    for (size_t i = 0; i < div.size(); ++i) {
      if (!(div[i] > 0.0f)) return Error(f.source(), ": rope_freqs.weight[", i, "] is not positive");
      model->inv_freq_[i] /= div[i];
    }
  }
  if (w.copied()) f.drop_resident();  // the pages the repacking read
  model->file_ = file;
  return model;
}

Status LlamaModel::load(decoder::WeightLoader& w, bool gguf_names) {
  const LlamaConfig& c = config_;
  if (c.head_dim % 2 != 0 || c.head_dim > 512)
    return Error("head_dim ", c.head_dim, " is not supported (even, at most 512)");
  if (c.hidden_act != "silu") return Error("hidden_act '", c.hidden_act, "' is not supported (silu)");
  const Names n{gguf_names};
  const size_t H = static_cast<size_t>(c.hidden_size), I = static_cast<size_t>(c.intermediate_size);
  const size_t hd = static_cast<size_t>(c.head_dim);
  const size_t qw = static_cast<size_t>(c.num_attention_heads) * hd, kvw = kv_width();
  const size_t V = static_cast<size_t>(c.vocab_size);

  if (auto t = w.table(n.embed(), V, H)) embed_ = *t;
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    LayerWeights L;
    L.attn_norm = w.vector(n.layer(i, "input_layernorm.weight", "attn_norm.weight"), H);
    L.q = w.linear(n.layer(i, "self_attn.q_proj.weight", "attn_q.weight"), qw, H);
    L.k = w.linear(n.layer(i, "self_attn.k_proj.weight", "attn_k.weight"), kvw, H);
    L.v = w.linear(n.layer(i, "self_attn.v_proj.weight", "attn_v.weight"), kvw, H);
    L.o = w.linear(n.layer(i, "self_attn.o_proj.weight", "attn_output.weight"), H, qw);
    if (c.qkv_bias) {
      L.q.b = w.vector(n.layer(i, "self_attn.q_proj.bias", "attn_q.bias"), qw);
      L.k.b = w.vector(n.layer(i, "self_attn.k_proj.bias", "attn_k.bias"), kvw);
      L.v.b = w.vector(n.layer(i, "self_attn.v_proj.bias", "attn_v.bias"), kvw);
    }
    if (c.o_bias) L.o.b = w.vector(n.layer(i, "self_attn.o_proj.bias", "attn_output.bias"), H);
    if (c.qk_norm) {
      L.q_norm = w.vector(n.layer(i, "self_attn.q_norm.weight", "attn_q_norm.weight"), hd);
      L.k_norm = w.vector(n.layer(i, "self_attn.k_norm.weight", "attn_k_norm.weight"), hd);
    }
    L.ffn_norm = w.vector(n.layer(i, "post_attention_layernorm.weight", "ffn_norm.weight"), H);
    L.gate = w.linear(n.layer(i, "mlp.gate_proj.weight", "ffn_gate.weight"), I, H);
    L.up = w.linear(n.layer(i, "mlp.up_proj.weight", "ffn_up.weight"), I, H);
    L.down = w.linear(n.layer(i, "mlp.down_proj.weight", "ffn_down.weight"), H, I);
    if (c.mlp_bias) {
      L.gate.b = w.vector(n.layer(i, "mlp.gate_proj.bias", "ffn_gate.bias"), I);
      L.up.b = w.vector(n.layer(i, "mlp.up_proj.bias", "ffn_up.bias"), I);
      L.down.b = w.vector(n.layer(i, "mlp.down_proj.bias", "ffn_down.bias"), H);
    }
    layers_.push_back(std::move(L));
  }
  final_norm_ = w.vector(n.final_norm(), H);
  if (c.tie_word_embeddings || (gguf_names && !w.has(n.lm_head()))) {
    if (embed_.data) {
      auto m = kernels::QuantMatrix::view(embed_.dtype, embed_.data, V, H);
      if (!m.ok()) return m.status().with_context("tied lm_head");
      lm_head_.w = std::move(m).value();
    }
  } else {
    lm_head_ = w.linear(n.lm_head(), V, H);
  }
  KEEL_RETURN_IF_ERROR(w.status());
  weight_bytes_ = w.bytes() + (c.tie_word_embeddings ? lm_head_.w.bytes() : 0);
  init_rope();
  return Status::Ok();
}

void LlamaModel::init_rope() {
  const RopeScaling& rs = config_.rope_scaling;
  const size_t half = static_cast<size_t>(config_.head_dim) / 2;
  inv_freq_.resize(half);
  for (size_t i = 0; i < half; ++i) {
    // HF: 1 / base ** (arange(0, dim, 2).float() / dim), in float32.
    const float expo = static_cast<float>(2 * i) / static_cast<float>(config_.head_dim);
    double f = 1.0 / std::pow(config_.rope_theta, static_cast<double>(expo));
    if (rs.type == "linear") {
      f /= rs.factor;
    } else if (rs.type == "llama3") {
      // transformers' _compute_llama3_parameters.
      const double low_wavelen = rs.original_max_position_embeddings / rs.low_freq_factor;
      const double high_wavelen = rs.original_max_position_embeddings / rs.high_freq_factor;
      const double wavelen = 2 * std::numbers::pi / f;
      if (wavelen > low_wavelen) {
        f /= rs.factor;
      } else if (wavelen >= high_wavelen) {
        const double smooth = (rs.original_max_position_embeddings / wavelen - rs.low_freq_factor) /
                              (rs.high_freq_factor - rs.low_freq_factor);
        f = (1 - smooth) * f / rs.factor + smooth * f;
      }
    }
    inv_freq_[i] = static_cast<float>(f);
  }
}

Status LlamaModel::forward(std::span<const DecoderInput> batch, float* logits, ThreadPool* pool,
                           const DecoderTraceFn& trace) {
  const LlamaConfig& c = config_;
  KEEL_RETURN_IF_ERROR(decoder::check_batch(batch, vocab_size(), max_context(), num_layers(), kv_width(), kv_heads()));
  if (!c.rope_scaling.type.empty() && c.rope_scaling.type != "linear" && c.rope_scaling.type != "llama3")
    return Error("rope_scaling type '", c.rope_scaling.type, "' is not supported (llama3, linear)");
  decoder::token_slots(batch, slots_);
  const size_t T = slots_.size(), B = batch.size();
  const size_t H = static_cast<size_t>(c.hidden_size), I = static_cast<size_t>(c.intermediate_size);
  const size_t nh = static_cast<size_t>(c.num_attention_heads), nkv = static_cast<size_t>(c.num_key_value_heads);
  const size_t hd = static_cast<size_t>(c.head_dim), qw = nh * hd, kvw = nkv * hd;
  const float eps = static_cast<float>(c.rms_norm_eps);
  auto tr = [&](std::string_view name, int layer, const float* x, size_t rows, size_t cols) {
    if (trace) trace(name, layer, x, rows, cols);
  };

  float* x = grow(x_, T * H);      // residual stream [T, H]
  float* xn = grow(xn_, T * H);    // normed [T, H]
  float* q = grow(q_, T * qw);     // [T, nh * hd]
  float* k = grow(k_, T * kvw);    // [T, nkv * hd]
  float* v = grow(v_, T * kvw);
  float* attn = grow(attn_, T * qw);
  float* tmp = grow(tmp_, T * H);
  float* gate = grow(gate_, T * I);
  float* up = grow(up_, T * I);

  {
    size_t t = 0;
    for (const DecoderInput& in : batch)
      for (int32_t id : in.tokens) decoder::embedding_row(embed_, id, H, x + (t++) * H);
  }
  tr("embeddings", -1, x, T, H);

  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  for (size_t l = 0; l < layers_.size(); ++l) {
    const LayerWeights& L = layers_[l];
    const int li = static_cast<int>(l);
    kernels::rms_norm(x, L.attn_norm.data(), eps, xn, T, H);
    tr("attn_norm", li, xn, T, H);
    decoder::linear(xn, T, L.q, q, pool);
    decoder::linear(xn, T, L.k, k, pool);
    decoder::linear(xn, T, L.v, v, pool);
    if (c.qk_norm) {
      kernels::rms_norm(q, L.q_norm.data(), eps, q, T * nh, hd);
      kernels::rms_norm(k, L.k_norm.data(), eps, k, T * nkv, hd);
    }
    for (size_t t = 0; t < T; ++t) {
      const decoder::TokenSlot s = slots_[t];
      kernels::rope(q + t * qw, nh, hd, inv_freq_.data(), s.pos, neox_rope_);
      kernels::rope(k + t * kvw, nkv, hd, inv_freq_.data(), s.pos, neox_rope_);
      KvCache& cache = *batch[s.input].cache;
      cache.write(l, s.pos, k + t * kvw, v + t * kvw);
    }
    tr("q", li, q, T, qw);
    tr("k", li, k, T, kvw);
    tr("v", li, v, T, kvw);
    decoder::cached_attention(batch, slots_, l, q, qw, nh, nkv, hd, scale, attn, pool);
    tr("attn_out", li, attn, T, qw);
    decoder::linear(attn, T, L.o, tmp, pool);
    for (size_t i = 0; i < T * H; ++i) x[i] += tmp[i];
    tr("attn_residual", li, x, T, H);

    kernels::rms_norm(x, L.ffn_norm.data(), eps, xn, T, H);
    decoder::linear(xn, T, L.gate, gate, pool);
    decoder::linear(xn, T, L.up, up, pool);
    kernels::silu_mul(gate, up, T * I);
    decoder::linear(gate, T, L.down, tmp, pool);
    tr("ffn_out", li, tmp, T, H);
    for (size_t i = 0; i < T * H; ++i) x[i] += tmp[i];
    tr("layer_out", li, x, T, H);
  }

  // Only each input's last token needs logits.
  float* last = grow(last_, B * H);
  {
    size_t t = 0;
    for (size_t b = 0; b < B; ++b) {
      t += batch[b].tokens.size();
      std::memcpy(last + b * H, x + (t - 1) * H, H * sizeof(float));
    }
  }
  kernels::rms_norm(last, final_norm_.data(), eps, last, B, H);
  tr("final_norm", -1, last, B, H);
  decoder::linear(last, B, lm_head_, logits, pool);
  for (const DecoderInput& in : batch) in.cache->advance(in.tokens.size());
  return Status::Ok();
}

}  // namespace keel::llama
