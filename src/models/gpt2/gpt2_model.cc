#include "models/gpt2/gpt2_model.h"

#include <cmath>
#include <cstring>

#include "formats/safetensors.h"
#include "kernels/decoder_ops.h"
#include "kernels/layer_norm.h"
#include "models/gguf_meta.h"

namespace keel::gpt2 {

using decoder::grow;

Result<std::unique_ptr<Gpt2Model>> Gpt2Model::from_hf(const std::string& dir, const DecoderLoadOptions& options) {
  auto mc = load_hf_config(dir);
  if (!mc.ok()) return mc.status();
  if (!mc->gpt2()) return Error(dir, ": config.json is a ", mc->model_type, " model, not GPT-2");
  auto ckpt = SafetensorsCheckpoint::open(dir);
  if (!ckpt.ok()) return ckpt.status();
  auto shared = std::make_shared<SafetensorsCheckpoint>(std::move(ckpt).value());
  auto parsed_dtype = decoder::parse_convert_dtype(options.dtype);
  if (!parsed_dtype.ok()) return parsed_dtype.status();
  const std::optional<DType> convert = *parsed_dtype;

  auto model = std::make_unique<Gpt2Model>();
  Gpt2Config& c = model->config_;
  c = *mc->gpt2();
  if (c.activation_function != "gelu_new")
    return Error(dir, ": activation_function '", c.activation_function, "' is not supported (gelu_new)");
  if (c.n_embd % c.n_head != 0) return Error(dir, ": n_embd is not a multiple of n_head");
  if (c.eos_token_id) model->eos_.push_back(static_cast<int32_t>(*c.eos_token_id));
  if (c.bos_token_id) model->bos_ = static_cast<int32_t>(*c.bos_token_id);
  // The hub's gpt2 has no "transformer." prefix; GPT2LMHeadModel saves do.
  const std::string prefix = shared->find("wte.weight") ? "" : "transformer.";
  decoder::WeightLoader w(
      [shared, prefix](std::string_view name) -> std::optional<ConstTensorView> {
        const auto* e = shared->find(prefix + std::string(name));
        if (!e) return std::nullopt;
        return shared->view(*e);
      },
      dir, convert);
  KEEL_RETURN_IF_ERROR(model->load(w, /*gguf_names=*/false));
  model->file_ = shared;
  return model;
}

Result<std::unique_ptr<Gpt2Model>> Gpt2Model::from_gguf(std::shared_ptr<const GgufFile> file) {
  const GgufFile& f = *file;
  const GgufValue* arch_v = f.find("general.architecture");
  if (!arch_v || !arch_v->as_string() || *arch_v->as_string() != "gpt2")
    return Error(f.source(), ": general.architecture is not 'gpt2'");
  auto model = std::make_unique<Gpt2Model>();
  Gpt2Config& c = model->config_;
  const decoder::GgufMeta m(f, "gpt2");
  KEEL_RETURN_IF_ERROR(m.read("embedding_length", &c.n_embd));
  KEEL_RETURN_IF_ERROR(m.read("block_count", &c.n_layer));
  KEEL_RETURN_IF_ERROR(m.read("attention.head_count", &c.n_head));
  KEEL_RETURN_IF_ERROR(m.read("context_length", &c.n_positions));
  KEEL_RETURN_IF_ERROR(m.read("feed_forward_length", &c.n_inner, 4 * c.n_embd));
  auto eps = m.real("attention.layer_norm_epsilon", 1e-5);
  if (!eps.ok()) return eps.status();
  c.layer_norm_epsilon = *eps;
  if (c.n_embd % c.n_head != 0) return Error(f.source(), ": gpt2.embedding_length is not a multiple of head_count");
  const GgufTensorInfo* embd = f.find_tensor("token_embd.weight");
  if (!embd || embd->shape.rank() != 2) return Error(f.source(), ": missing tensor 'token_embd.weight'");
  c.vocab_size = embd->shape[0];
  decoder::gguf_special_ids(f, &model->eos_, &model->bos_);
  decoder::WeightLoader w(decoder::gguf_tensors(file), f.source());
  KEEL_RETURN_IF_ERROR(model->load(w, /*gguf_names=*/true));
  if (w.copied()) f.drop_resident();  // the pages the repacking read
  model->file_ = file;
  return model;
}

Status Gpt2Model::load(decoder::WeightLoader& w, bool gguf) {
  const Gpt2Config& c = config_;
  const size_t H = static_cast<size_t>(c.n_embd), inner = static_cast<size_t>(c.inner());
  const size_t V = static_cast<size_t>(c.vocab_size);
  // HF's name, or llama.cpp's for the same tensor.
  auto name = [gguf](std::string_view hf, std::string_view gg) { return std::string(gguf ? gg : hf); };
  auto layer = [gguf](int64_t i, std::string_view hf, std::string_view gg) {
    return gguf ? str_cat("blk.", i, ".", gg) : str_cat("h.", i, ".", hf);
  };
  // Conv1D ([in, out]) in HF files; GGUF stores [out, in].
  const bool conv1d = !gguf;
  if (auto t = w.table(name("wte.weight", "token_embd.weight"), V, H)) wte_ = *t;
  if (auto t = w.table(name("wpe.weight", "position_embd.weight"), static_cast<size_t>(c.n_positions), H)) wpe_ = *t;
  for (int64_t i = 0; i < c.n_layer; ++i) {
    LayerWeights L;
    L.ln1_g = w.vector(layer(i, "ln_1.weight", "attn_norm.weight"), H);
    L.ln1_b = w.vector(layer(i, "ln_1.bias", "attn_norm.bias"), H);
    L.qkv = w.linear(layer(i, "attn.c_attn.weight", "attn_qkv.weight"), 3 * H, H, conv1d);
    L.qkv.b = w.vector(layer(i, "attn.c_attn.bias", "attn_qkv.bias"), 3 * H);
    L.attn_proj = w.linear(layer(i, "attn.c_proj.weight", "attn_output.weight"), H, H, conv1d);
    L.attn_proj.b = w.vector(layer(i, "attn.c_proj.bias", "attn_output.bias"), H);
    L.ln2_g = w.vector(layer(i, "ln_2.weight", "ffn_norm.weight"), H);
    L.ln2_b = w.vector(layer(i, "ln_2.bias", "ffn_norm.bias"), H);
    L.fc = w.linear(layer(i, "mlp.c_fc.weight", "ffn_up.weight"), inner, H, conv1d);
    L.fc.b = w.vector(layer(i, "mlp.c_fc.bias", "ffn_up.bias"), inner);
    L.proj = w.linear(layer(i, "mlp.c_proj.weight", "ffn_down.weight"), H, inner, conv1d);
    L.proj.b = w.vector(layer(i, "mlp.c_proj.bias", "ffn_down.bias"), H);
    layers_.push_back(std::move(L));
  }
  lnf_g_ = w.vector(name("ln_f.weight", "output_norm.weight"), H);
  lnf_b_ = w.vector(name("ln_f.bias", "output_norm.bias"), H);
  // The head is tied to wte; a GGUF may carry its own copy as output.weight
  // (llama.cpp's converter writes one, possibly in another type).
  const bool own_head = gguf && w.has("output.weight");
  if (own_head) lm_head_ = w.linear("output.weight", V, H);
  KEEL_RETURN_IF_ERROR(w.status());
  if (!own_head) {
    auto head = kernels::QuantMatrix::view(wte_.dtype, wte_.data, V, H);
    if (!head.ok()) return head.status().with_context("lm_head (wte)");
    lm_head_.w = std::move(head).value();
  }
  weight_bytes_ = w.bytes() + (own_head ? 0 : lm_head_.w.bytes());
  return Status::Ok();
}

Status Gpt2Model::forward(std::span<const DecoderInput> batch, float* logits, ThreadPool* pool,
                          const DecoderTraceFn& trace) {
  const Gpt2Config& c = config_;
  KEEL_RETURN_IF_ERROR(decoder::check_batch(batch, vocab_size(), max_context(), num_layers(), kv_width(), kv_heads()));
  decoder::token_slots(batch, slots_);
  const size_t T = slots_.size(), B = batch.size();
  const size_t H = static_cast<size_t>(c.n_embd), inner = static_cast<size_t>(c.inner());
  const size_t nh = static_cast<size_t>(c.n_head), hd = H / nh;
  const float eps = static_cast<float>(c.layer_norm_epsilon);
  auto tr = [&](std::string_view name, int layer, const float* x, size_t rows, size_t cols) {
    if (trace) trace(name, layer, x, rows, cols);
  };
  float* x = grow(x_, T * H);
  float* xn = grow(xn_, T * H);
  float* qkv = grow(qkv_, T * 3 * H);
  float* attn = grow(attn_, T * H);
  float* tmp = grow(tmp_, T * H);
  float* hid = grow(inner_, T * inner);
  float* pos_row = grow(pos_row_, H);

  for (size_t t = 0; t < T; ++t) {
    const decoder::TokenSlot s = slots_[t];
    size_t idx = t;  // token index within its input
    for (uint32_t b = 0; b < s.input; ++b) idx -= batch[b].tokens.size();
    decoder::embedding_row(wte_, batch[s.input].tokens[idx], H, x + t * H);
    decoder::embedding_row(wpe_, static_cast<int32_t>(s.pos), H, pos_row);
    for (size_t i = 0; i < H; ++i) x[t * H + i] += pos_row[i];
  }
  tr("embeddings", -1, x, T, H);

  const float scale = c.scale_attn_weights ? 1.0f / std::sqrt(static_cast<float>(hd)) : 1.0f;
  for (size_t l = 0; l < layers_.size(); ++l) {
    const LayerWeights& L = layers_[l];
    const int li = static_cast<int>(l);
    kernels::add_layer_norm(x, nullptr, L.ln1_g.data(), L.ln1_b.data(), eps, xn, T, H, pool);
    tr("attn_norm", li, xn, T, H);
    decoder::linear(xn, T, L.qkv, qkv, pool);  // [T, 3H]
    for (size_t t = 0; t < T; ++t) {
      const decoder::TokenSlot s = slots_[t];
      KvCache& cache = *batch[s.input].cache;
      cache.write(l, s.pos, qkv + t * 3 * H + H, qkv + t * 3 * H + 2 * H);
    }
    decoder::cached_attention(batch, slots_, l, qkv, 3 * H, nh, nh, hd, scale, attn, pool);
    tr("attn_out", li, attn, T, H);
    decoder::linear(attn, T, L.attn_proj, tmp, pool);
    for (size_t i = 0; i < T * H; ++i) x[i] += tmp[i];
    tr("attn_residual", li, x, T, H);
    kernels::add_layer_norm(x, nullptr, L.ln2_g.data(), L.ln2_b.data(), eps, xn, T, H, pool);
    decoder::linear(xn, T, L.fc, hid, pool);
    kernels::gelu_tanh(hid, T * inner);
    decoder::linear(hid, T, L.proj, tmp, pool);
    tr("ffn_out", li, tmp, T, H);
    for (size_t i = 0; i < T * H; ++i) x[i] += tmp[i];
    tr("layer_out", li, x, T, H);
  }
  float* last = grow(last_, B * H);
  {
    size_t t = 0;
    for (size_t b = 0; b < B; ++b) {
      t += batch[b].tokens.size();
      std::memcpy(last + b * H, x + (t - 1) * H, H * sizeof(float));
    }
  }
  kernels::add_layer_norm(last, nullptr, lnf_g_.data(), lnf_b_.data(), eps, last, B, H, pool);
  tr("final_norm", -1, last, B, H);
  decoder::linear(last, B, lm_head_, logits, pool);
  for (const DecoderInput& in : batch) in.cache->advance(in.tokens.size());
  return Status::Ok();
}

}  // namespace keel::gpt2
