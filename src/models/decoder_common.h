// Pieces the decoder architectures (llama_model.cc, gpt2_model.cc) share:
// linear layers over stored weights, weight lookup with shape checks, batch
// validation, the per-batch scratch buffers, and causal attention over the KV
// caches of a batch. Internal to models/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/huge_page_allocator.h"
#include "core/status.h"
#include "core/tensor.h"
#include "core/thread_pool.h"
#include "kernels/qlinear.h"
#include "models/decoder_model.h"

namespace keel::decoder {

// Looks a tensor up by its name in the file (HF or GGUF naming).
using TensorLookup = std::function<std::optional<ConstTensorView>(std::string_view name)>;

// y = x W^T (+ b).
struct Linear {
  kernels::QuantMatrix w;  // [out, in]
  std::vector<float> b;    // [out] or empty
  size_t out() const { return w.n(); }
  size_t in() const { return w.k(); }
};

// Loads weights by name, collecting every problem instead of stopping at the
// first, so a bad checkpoint is reported in one message.
class WeightLoader {
 public:
  // convert_to: F32/F16/BF16 to convert float weights to at load, or nullopt
  // to keep the stored type (a zero-copy view of the file).
  WeightLoader(TensorLookup lookup, std::string source, std::optional<DType> convert_to = std::nullopt)
      : lookup_(std::move(lookup)), source_(std::move(source)), convert_to_(convert_to) {}

  // A [out, in] matrix (outermost first). transposed: the file stores [in, out]
  // (GPT-2's Conv1D), copied into [out, in].
  Linear linear(const std::string& weight, size_t out, size_t in, bool transposed = false);
  // Adds the bias `name` [out] to `lin` (required unless optional).
  void bias(Linear& lin, const std::string& name, bool optional = false);
  // A vector of n values, as f32.
  std::vector<float> vector(const std::string& name, size_t n);
  // A [rows, cols] tensor kept as stored (embeddings: rows dequantized on use).
  std::optional<ConstTensorView> table(const std::string& name, size_t rows, size_t cols);
  bool has(const std::string& name) const { return lookup_(name).has_value(); }

  Status status() const;  // every problem, one per line
  size_t bytes() const { return bytes_; }  // bytes of the matrices the forward pass reads
  // Whether any matrix was copied out of the file (repacked for the kernels).
  bool copied() const { return copied_; }

 private:
  std::optional<ConstTensorView> get(const std::string& name, std::initializer_list<int64_t> shape);
  TensorLookup lookup_;
  std::string source_;
  std::optional<DType> convert_to_;
  std::vector<std::string> errors_;
  size_t bytes_ = 0;
  bool copied_ = false;
};

// y[m, out] = x[m, in] W^T + b.
void linear(const float* x, size_t m, const Linear& lin, float* y, ThreadPool* pool);

// DecoderLoadOptions::dtype for safetensors: "" keeps the stored type;
// "f32", "f16" or "bf16" converts at load.
Result<std::optional<DType>> parse_convert_dtype(std::string_view dtype);

// Dequantizes row `id` of an embedding table [vocab, n] into out[n].
void embedding_row(const ConstTensorView& table, int32_t id, size_t n, float* out);

// Checks a batch before anything changes (see DecoderModel::forward).
Status check_batch(std::span<const DecoderInput> batch, size_t vocab, size_t max_context,
                   size_t layers, size_t kv_width, size_t kv_heads);

// For token t of the batch (inputs in order, tokens in order): its input and position.
struct TokenSlot {
  uint32_t input;
  uint32_t pos;
};
void token_slots(std::span<const DecoderInput> batch, std::vector<TokenSlot>& out);

// Causal attention of every new token over its sequence's cache (which must
// already hold this layer's K and V for the new tokens). q: [tokens, ldq] with
// n_heads x head_dim used; out: [tokens, n_heads * head_dim]. Grouped-query:
// query head h reads KV head h / (n_heads / n_kv_heads).
void cached_attention(std::span<const DecoderInput> batch, std::span<const TokenSlot> slots,
                      size_t layer, const float* q, size_t ldq, size_t n_heads, size_t n_kv_heads,
                      size_t head_dim, float scale, float* out, ThreadPool* pool);

// A buffer that only grows: decode steps of the same shape allocate nothing.
// Prefill-sized ones sit on huge pages (core/huge_page_allocator.h).
using Scratch = HugeVector<float>;
inline float* grow(Scratch& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

}  // namespace keel::decoder
