// The interface every decoder-only language model (models/llama, models/gpt2)
// offers the runtime: a forward pass over a batch of sequences, each bringing
// new tokens to append to its own KV cache, returning the next-token logits of
// each sequence's last new token.
//
//   auto model = load_decoder("model_dir_or.gguf", {});
//   KvCache cache = (*model)->new_cache(2048);
//   std::vector<float> logits((*model)->vocab_size());
//   DecoderInput in{&cache, prompt_ids};
//   Status s = (*model)->forward({&in, 1}, logits.data(), pool);
//
// One forward may mix a long prefill of one sequence with single-token decode
// steps of others; the result equals running each sequence alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/huge_page_allocator.h"
#include "core/status.h"
#include "core/thread_pool.h"

namespace keel {

// The element type of a KV cache: f32, or f16 (half the memory and half the
// bytes decode attention reads per position, as llama.cpp's default cache;
// keys and values are rounded to f16 once, when written).
enum class KvType { F32, F16 };

// One sequence's keys and values, preallocated for `capacity` positions, head
// by head: per layer and KV head, K and V are [capacity, head_dim] (kv_width =
// kv_heads x head_dim). Decode attention reads one KV head's positions per
// task: contiguous, they stream from memory at the prefetchers' rate, where
// position-major rows left it a head_dim slice of every kv_width row.
class KvCache {
 public:
  KvCache() = default;
  KvCache(size_t layers, size_t capacity, size_t kv_width, KvType type = KvType::F32, size_t kv_heads = 1)
      : layers_(layers), capacity_(capacity), kv_heads_(kv_heads ? kv_heads : 1),
        head_dim_(kv_width / kv_heads_), type_(type) {
    const size_t n = layers * capacity * this->kv_width();
    if (type == KvType::F32) k_.resize(n), v_.resize(n);
    else k16_.resize(n), v16_.resize(n);
  }

  size_t length() const { return length_; }      // positions filled
  size_t capacity() const { return capacity_; }
  size_t kv_width() const { return kv_heads_ * head_dim_; }
  size_t kv_heads() const { return kv_heads_; }
  size_t head_dim() const { return head_dim_; }  // also the stride between positions of one head
  size_t layers() const { return layers_; }
  KvType type() const { return type_; }
  // Forgets positions from `n` on (n <= length), e.g. to reuse a cache.
  void truncate(size_t n) { length_ = n < length_ ? n : length_; }
  void clear() { length_ = 0; }
  // Room for `capacity` positions (no-op if there is), keeping what is filled.
  void grow(size_t capacity);
  size_t bytes() const { return (k_.size() + v_.size()) * sizeof(float) + (k16_.size() + v16_.size()) * 2; }

  // Writes position `pos` of `layer`: kv_width keys and values (head after head).
  void write(size_t layer, size_t pos, const float* k, const float* v);

  // KV head `head`'s rows of position `pos` on, head_dim() apart: f32 caches
  // only (k16 / v16 for f16 ones).
  const float* k(size_t layer, size_t head, size_t pos) const { return k_.data() + offset(layer, head, pos); }
  const float* v(size_t layer, size_t head, size_t pos) const { return v_.data() + offset(layer, head, pos); }
  const uint16_t* k16(size_t layer, size_t head, size_t pos) const { return k16_.data() + offset(layer, head, pos); }
  const uint16_t* v16(size_t layer, size_t head, size_t pos) const { return v16_.data() + offset(layer, head, pos); }

  void advance(size_t n) { length_ += n; }  // the model calls this after a forward

 private:
  size_t offset(size_t layer, size_t head, size_t pos) const {
    return ((layer * kv_heads_ + head) * capacity_ + pos) * head_dim_;
  }
  size_t layers_ = 0, capacity_ = 0, kv_heads_ = 1, head_dim_ = 0, length_ = 0;
  KvType type_ = KvType::F32;
  HugeVector<float> k_, v_;
  HugeVector<uint16_t> k16_, v16_;
};

struct DecoderInput {
  KvCache* cache = nullptr;          // positions [cache->length(), + tokens.size()) are computed
  std::span<const int32_t> tokens;   // at least one
};

// Called with named intermediates, x [rows, cols] row-major over the batch's
// new tokens in order; layer -1 outside the layers. Names: "embeddings",
// per layer "attn_norm", "q", "k", "v" (after bias / q-k norm / RoPE),
// "attn_out" (before the output projection), "attn_residual", "ffn_out",
// "layer_out"; then "final_norm".
using DecoderTraceFn = std::function<void(std::string_view name, int layer, const float* x,
                                          size_t rows, size_t cols)>;

class DecoderModel {
 public:
  virtual ~DecoderModel() = default;

  virtual std::string_view architecture() const = 0;  // "llama", "qwen2", "gpt2", ...
  virtual size_t vocab_size() const = 0;
  virtual size_t num_layers() const = 0;
  virtual size_t max_context() const = 0;  // position limit (config / GGUF context_length)
  virtual size_t kv_width() const = 0;
  virtual size_t kv_heads() const = 0;  // kv_width() / head_dim
  // Token ids that end generation (config / generation_config / GGUF eos).
  virtual const std::vector<int32_t>& eos_ids() const = 0;
  virtual int32_t bos_id() const = 0;  // -1: none
  // Bytes of weights the forward pass reads per token (for reports).
  virtual size_t weight_bytes() const = 0;

  KvCache new_cache(size_t capacity, KvType type = KvType::F32) const {
    return KvCache(num_layers(), capacity, kv_width(), type, kv_heads());
  }

  // logits: [batch.size(), vocab] — the next-token logits after each input's
  // last token. Each input's cache advances by its token count. Fails (naming
  // the input and token) on an id outside the vocabulary, an empty input, a
  // null cache or one too small, the same cache twice, or a position past
  // max_context(); on failure no cache changes.
  virtual Status forward(std::span<const DecoderInput> batch, float* logits, ThreadPool* pool = nullptr,
                         const DecoderTraceFn& trace = nullptr) = 0;
};

struct DecoderLoadOptions {
  // Safetensors weights stay in their stored type (f32 / f16 / bf16) unless
  // this names another of those (converted at load). Ignored for GGUF.
  std::string dtype;  // "", "f32", "f16", "bf16"
};

// `path`: a Hugging Face model directory (config.json + safetensors) of a
// Llama-family or GPT-2 model, or a GGUF file (llama, qwen2, qwen3, gpt2
// architectures). Errors name the file and the tensor or key.
Result<std::unique_ptr<DecoderModel>> load_decoder(const std::string& path,
                                                   const DecoderLoadOptions& options = {});

}  // namespace keel
