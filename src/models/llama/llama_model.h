// LlamaForCausalLM and its close variants (Mistral, Qwen2/2.5 with q/k/v
// biases, Qwen3 with per-head q/k RMSNorm), pre-norm:
//   x = embed(tokens)
//   per layer: h = x + o_proj(attention(rope(q), rope(k), v) of rms_norm(x))
//              x = h + down(silu(gate(rms_norm(h))) * up(rms_norm(h)))
//   logits = lm_head(rms_norm(x))   (lm_head = embed_tokens when tied)
// Weights stay in their stored type (safetensors f32/f16/bf16; GGUF f32, f16,
// bf16, q8_0, q4_0, q5_0, q5_1, q4_K, q5_K, q6_K) and are read through kernels::qlinear.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "formats/hf_config.h"
#include "formats/safetensors.h"
#include "models/decoder_common.h"
#include "models/decoder_model.h"

namespace keel::llama {

struct LayerWeights {
  std::vector<float> attn_norm, ffn_norm;  // [hidden]
  std::vector<float> q_norm, k_norm;       // [head_dim] (Qwen3), else empty
  decoder::Linear q, k, v, o;              // q [nh*hd, H], k/v [nkv*hd, H], o [H, nh*hd]
  decoder::Linear gate, up, down;          // [I, H], [I, H], [H, I]
};

class LlamaModel final : public DecoderModel {
 public:
  // `dir` holds config.json and model.safetensors (or a sharded index).
  static Result<std::unique_ptr<LlamaModel>> from_hf(const std::string& dir, const DecoderLoadOptions& options);
  // A llama / qwen2 / qwen3 GGUF (llama.cpp's tensor names and metadata keys).
  static Result<std::unique_ptr<LlamaModel>> from_gguf(std::shared_ptr<const GgufFile> file);

  std::string_view architecture() const override { return arch_; }
  size_t vocab_size() const override { return static_cast<size_t>(config_.vocab_size); }
  size_t num_layers() const override { return layers_.size(); }
  size_t max_context() const override { return static_cast<size_t>(config_.max_position_embeddings); }
  size_t kv_width() const override { return static_cast<size_t>(config_.num_key_value_heads * config_.head_dim); }
  size_t kv_heads() const override { return static_cast<size_t>(config_.num_key_value_heads); }
  const std::vector<int32_t>& eos_ids() const override { return eos_; }
  int32_t bos_id() const override { return bos_; }
  size_t weight_bytes() const override { return weight_bytes_; }
  const LlamaConfig& config() const { return config_; }

  Status forward(std::span<const DecoderInput> batch, float* logits, ThreadPool* pool,
                 const DecoderTraceFn& trace) override;

 private:
  Status load(decoder::WeightLoader& w, bool gguf_names);
  void init_rope();

  LlamaConfig config_;
  std::string arch_;
  bool neox_rope_ = true;  // HF rotate-half; GGUF llama: adjacent pairs
  std::vector<float> inv_freq_;  // [head_dim / 2]
  std::vector<int32_t> eos_;
  int32_t bos_ = -1;
  size_t weight_bytes_ = 0;

  ConstTensorView embed_;  // [vocab, H]
  std::vector<LayerWeights> layers_;
  std::vector<float> final_norm_;
  decoder::Linear lm_head_;

  std::shared_ptr<const void> file_;  // keeps the mapped weights alive

  // Scratch, grown to the largest batch seen.
  std::vector<decoder::TokenSlot> slots_;
  decoder::Scratch x_, xn_, q_, k_, v_, attn_, tmp_, gate_, up_, last_;
};

}  // namespace keel::llama
