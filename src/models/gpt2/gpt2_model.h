// GPT2LMHeadModel (Radford et al. 2019), pre-norm with learned positions:
//   x = wte[tokens] + wpe[positions]
//   per layer: h = x + c_proj(attention(split(c_attn(ln_1(x)))))
//              x = h + mlp.c_proj(gelu_new(c_fc(ln_2(h))))
//   logits = ln_f(x) wte^T
// HF stores the linear layers as Conv1D, weights [in, out]; they are
// transposed to [out, in] at load (so safetensors GPT-2 weights are copied).
// GGUF files (llama.cpp's "gpt2" architecture) store them [out, in] already
// and are read in place, in any of keel's block types.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "formats/hf_config.h"
#include "models/decoder_common.h"
#include "models/decoder_model.h"

namespace keel::gpt2 {

struct LayerWeights {
  std::vector<float> ln1_g, ln1_b, ln2_g, ln2_b;  // [H]
  decoder::Linear qkv;       // [3H, H]: q rows, k rows, v rows
  decoder::Linear attn_proj; // [H, H]
  decoder::Linear fc;        // [inner, H]
  decoder::Linear proj;      // [H, inner]
};

class Gpt2Model final : public DecoderModel {
 public:
  static Result<std::unique_ptr<Gpt2Model>> from_hf(const std::string& dir, const DecoderLoadOptions& options);
  static Result<std::unique_ptr<Gpt2Model>> from_gguf(std::shared_ptr<const GgufFile> file);

  std::string_view architecture() const override { return "gpt2"; }
  size_t vocab_size() const override { return static_cast<size_t>(config_.vocab_size); }
  size_t num_layers() const override { return layers_.size(); }
  size_t max_context() const override { return static_cast<size_t>(config_.n_positions); }
  size_t kv_width() const override { return static_cast<size_t>(config_.n_embd); }
  size_t kv_heads() const override { return static_cast<size_t>(config_.n_head); }
  const std::vector<int32_t>& eos_ids() const override { return eos_; }
  int32_t bos_id() const override { return bos_; }
  size_t weight_bytes() const override { return weight_bytes_; }

  Status forward(std::span<const DecoderInput> batch, float* logits, ThreadPool* pool,
                 const DecoderTraceFn& trace) override;

 private:
  // Reads every tensor through `w` by HF names (Conv1D, transposed) or GGUF names.
  Status load(decoder::WeightLoader& w, bool gguf_names);

  Gpt2Config config_;
  std::vector<int32_t> eos_;
  int32_t bos_ = -1;
  size_t weight_bytes_ = 0;
  ConstTensorView wte_, wpe_;
  std::vector<LayerWeights> layers_;
  std::vector<float> lnf_g_, lnf_b_;
  decoder::Linear lm_head_;  // wte viewed as [vocab, H]
  std::shared_ptr<const void> file_;

  std::vector<decoder::TokenSlot> slots_;
  decoder::Scratch x_, xn_, qkv_, attn_, tmp_, inner_, last_, pos_row_;
};

}  // namespace keel::gpt2
