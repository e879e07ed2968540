#include "models/bert/bert_model.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace keel::bert {

using kernels::Epilogue;

Result<BertModel> BertModel::load(const std::string& dir, const BertLoadOptions& options) {
  auto config = load_hf_config(dir);
  if (!config.ok()) return config.status();
  const BertConfig* bert = config->bert();
  if (!bert) return Error(dir, ": model_type '", config->model_type, "' is not a BERT model");
  auto checkpoint = SafetensorsCheckpoint::open(dir);
  if (!checkpoint.ok()) return checkpoint.status();
  // The model keeps the mapping for the word-embedding table, read in place;
  // every other weight is converted or packed into memory keel owns.
  auto source = std::make_shared<const SafetensorsCheckpoint>(std::move(checkpoint).value());
  auto model = build(*source, *bert, options, /*view_word_table=*/true);
  if (!model.ok()) return model.status().with_context(dir);
  // Packing read every linear's pages; only the word table's are read again.
  source->drop_resident();
  model->source_ = std::move(source);
  return model;
}

Result<BertModel> BertModel::from_checkpoint(const SafetensorsCheckpoint& checkpoint,
                                             const BertConfig& config, const BertLoadOptions& options) {
  return build(checkpoint, config, options, /*view_word_table=*/false);
}

Result<BertModel> BertModel::build(const SafetensorsCheckpoint& checkpoint, const BertConfig& config,
                                   const BertLoadOptions& options, bool view_word_table) {
  if (config.position_embedding_type != "absolute")
    return Error("config.json: position_embedding_type '", config.position_embedding_type,
                 "' is not supported (only \"absolute\")");
  if (config.hidden_act != "gelu")
    return Error("config.json: hidden_act '", config.hidden_act,
                 "' is not supported (only \"gelu\", the exact erf form)");
  auto weights = load_bert_weights(checkpoint, config, options.compute, view_word_table, options.pool);
  if (!weights.ok()) return weights.status();
  BertModel m;
  m.config_ = config;
  m.compute_ = options.compute;
  m.weights_ = std::move(weights).value();
  return m;
}

Status BertModel::check_batch(const PackedBatch& b) const {
  const size_t n = b.num_tokens();
  if (b.type_ids.size() != n)
    return Error("batch: ", b.type_ids.size(), " type ids for ", n, " token ids");
  if (b.offsets.empty() || b.offsets.front() != 0 || b.offsets.back() != n)
    return Error("batch: offsets must run from 0 to the token count ", n);
  for (size_t s = 0; s + 1 < b.offsets.size(); ++s) {
    const uint32_t begin = b.offsets[s], end = b.offsets[s + 1];
    if (end <= begin) return Error("batch: sequence ", s, " is empty or its offsets decrease");
    if (end - begin > static_cast<uint64_t>(config_.max_position_embeddings))
      return Error("batch: sequence ", s, " has ", end - begin, " tokens, more than max_position_embeddings ",
                   config_.max_position_embeddings);
    for (uint32_t t = begin; t < end; ++t) {
      if (b.ids[t] >= static_cast<uint64_t>(config_.vocab_size))
        return Error("batch: sequence ", s, " token ", t - begin, ": id ", b.ids[t],
                     " is outside the vocabulary (", config_.vocab_size, ")");
      if (b.type_ids[t] >= static_cast<uint64_t>(config_.type_vocab_size))
        return Error("batch: sequence ", s, " token ", t - begin, ": type id ", b.type_ids[t],
                     " is outside type_vocab_size ", config_.type_vocab_size);
    }
  }
  return Status::Ok();
}

Status BertModel::forward(const PackedBatch& batch, std::vector<float>& hidden, ThreadPool* pool,
                          const TraceFn& trace) const {
  KEEL_RETURN_IF_ERROR(check_batch(batch));
  const size_t T = batch.num_tokens(), H = hidden_size();
  const size_t I = static_cast<size_t>(config_.intermediate_size);
  const size_t n_heads = static_cast<size_t>(config_.num_attention_heads), head_dim = H / n_heads;
  const float eps = static_cast<float>(config_.layer_norm_eps);
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  auto emit = [&](std::string_view name, int layer, const float* x, size_t cols) {
    if (trace) trace(name, layer, x, T, cols);
  };

  std::vector<float> x(T * H);            // x: [T, H], the residual stream
  std::vector<float> tmp(T * H);          // [T, H]
  std::vector<float> next(T * H);         // [T, H]: add & LayerNorm writes here, then swaps with x
  // The attention's [T, 3H] q | k | v and [T, H] context are dead before the
  // feed-forward's [T, I] exists: one buffer holds either (peak activation
  // memory 3TH + max(4H, I) T instead of 7TH + IT floats).
  std::vector<float> work(T * std::max(4 * H, I));
  float* qkv = work.data();                // [T, 3H]
  float* ctx = work.data() + T * 3 * H;    // [T, H]
  float* ffn = work.data();                // [T, I]

  // Embeddings: LayerNorm(word + position + token type); positions restart at
  // 0 in every sequence.
  const auto& w = weights_;
  for (size_t s = 0; s < batch.num_sequences(); ++s) {
    for (uint32_t t = batch.offsets[s]; t < batch.offsets[s + 1]; ++t) {
      // A table kept in f16 / bf16 converts the row into x's row itself.
      const float* word = w.word_embeddings.row(batch.ids[t], &x[t * H]);
      const float* pos = &w.position_embeddings[(t - batch.offsets[s]) * H];
      const float* type = &w.token_type_embeddings[batch.type_ids[t] * H];
      for (size_t j = 0; j < H; ++j) {
        x[t * H + j] = word[j];
        tmp[t * H + j] = pos[j] + type[j];
      }
    }
  }
  kernels::add_layer_norm(x.data(), tmp.data(), w.embed_norm.gamma.data(), w.embed_norm.beta.data(), eps,
                          next.data(), T, H, pool);
  std::swap(x, next);
  emit("embeddings", -1, x.data(), H);

  for (size_t l = 0; l < w.layers.size(); ++l) {
    const BertLayerWeights& L = w.layers[l];
    const int li = static_cast<int>(l);
    // Self-attention: softmax(q k^T / sqrt(d)) v per head, within each sequence.
    kernels::linear(x.data(), T, H, L.qkv.w, L.qkv.b.data(), Epilogue::None, qkv, 3 * H, pool);
    emit("qkv", li, qkv, 3 * H);
    kernels::attention(qkv, qkv + H, qkv + 2 * H, 3 * H, batch.offsets.data(),
                       batch.num_sequences(), n_heads, head_dim, scale, ctx, H, pool);
    emit("context", li, ctx, H);
    kernels::linear(ctx, T, H, L.attn_out.w, L.attn_out.b.data(), Epilogue::None, tmp.data(), H, pool);
    kernels::add_layer_norm(tmp.data(), x.data(), L.attn_norm.gamma.data(), L.attn_norm.beta.data(), eps,
                            next.data(), T, H, pool);
    std::swap(x, next);
    emit("attention", li, x.data(), H);
    // Feed-forward: GELU(x W1 + b1) W2 + b2.
    kernels::linear(x.data(), T, H, L.ffn_in.w, L.ffn_in.b.data(), Epilogue::Gelu, ffn, I, pool);
    emit("intermediate", li, ffn, I);
    kernels::linear(ffn, T, I, L.ffn_out.w, L.ffn_out.b.data(), Epilogue::None, tmp.data(), H, pool);
    kernels::add_layer_norm(tmp.data(), x.data(), L.ffn_norm.gamma.data(), L.ffn_norm.beta.data(), eps,
                            next.data(), T, H, pool);
    std::swap(x, next);
    emit("output", li, x.data(), H);
  }
  hidden = std::move(x);
  return Status::Ok();
}

}  // namespace keel::bert
