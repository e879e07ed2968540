// The small per-token operations of decoder-only transformers (Llama, GPT-2):
// RMSNorm, rotary position embeddings, SiLU-gated products, GPT-2's tanh GELU,
// and causal attention of new tokens over a KV cache with grouped-query heads.
// Each has a scalar twin (*_scalar) that the tests compare against; the fast
// forms use AVX2 when the CPU has it (decoder_ops_avx2.cc).
#pragma once

#include <cstddef>
#include <cstdint>

namespace keel::kernels {

// y[i, :] = x[i, :] / sqrt(mean(x[i, :]^2) + eps) * w, for m rows of n. y may alias x.
void rms_norm(const float* x, const float* w, float eps, float* y, size_t m, size_t n);
void rms_norm_scalar(const float* x, const float* w, float eps, float* y, size_t m, size_t n);

// Rotary embedding of one token's heads in place: x is [n_heads, head_dim]
// (heads contiguous). inv_freq: head_dim / 2 frequencies. The angle of pair i
// is pos * inv_freq[i] (in float, as HF computes it).
//   neox (HF rotate-half; GGUF qwen2/qwen3): pairs (x[i], x[i + head_dim/2]).
//   !neox (GGUF llama, whose q/k rows the converter permuted): pairs (x[2i], x[2i+1]).
void rope(float* x, size_t n_heads, size_t head_dim, const float* inv_freq, int64_t pos, bool neox);

// gate[i] = silu(gate[i]) * up[i] (Llama's MLP), n values.
void silu_mul(float* gate, const float* up, size_t n);
void silu_mul_scalar(float* gate, const float* up, size_t n);

// GPT-2's "gelu_new": 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), in place.
void gelu_tanh(float* x, size_t n);
void gelu_tanh_scalar(float* x, size_t n);

// One query head over a causal window of the cache:
//   out[d] = sum_j softmax_j(scale * q . k_j) v_j[d],  j in [0, n_ctx)
// q: [head_dim]; k_j = k + j * ld_kv, v_j = v + j * ld_kv (the caller offsets k
// and v to the head's KV group). scores: n_ctx floats of scratch.
void attend_head(const float* q, const float* k, const float* v, size_t ld_kv, size_t n_ctx,
                 size_t head_dim, float scale, float* scores, float* out);
void attend_head_scalar(const float* q, const float* k, const float* v, size_t ld_kv, size_t n_ctx,
                        size_t head_dim, float scale, float* scores, float* out);

// The `group` query heads that share one KV head, over the same window:
// attend_head for each, with each K and V row read once for all of them
// (grouped-query attention: Llama 2 70B / 3, Mistral and Qwen share a KV
// head among 2-8 query heads). q, out: [group x head_dim], heads contiguous;
// scores: group * n_ctx floats of scratch.
void attend_group(const float* q, size_t group, const float* k, const float* v, size_t ld_kv,
                  size_t n_ctx, size_t head_dim, float scale, float* scores, float* out);
void attend_group_scalar(const float* q, size_t group, const float* k, const float* v, size_t ld_kv,
                         size_t n_ctx, size_t head_dim, float scale, float* scores, float* out);

// attend_group over an f16 cache (KvType::F16): k and v hold IEEE half values.
void attend_group_f16kv(const float* q, size_t group, const uint16_t* k, const uint16_t* v, size_t ld_kv,
                        size_t n_ctx, size_t head_dim, float scale, float* scores, float* out);
void attend_group_f16kv_scalar(const float* q, size_t group, const uint16_t* k, const uint16_t* v,
                               size_t ld_kv, size_t n_ctx, size_t head_dim, float scale, float* scores,
                               float* out);

// Prefill: the query heads of `tokens` consecutive positions that share one
// KV head, at once (each K and V row read once for all of them). q, out:
// [tokens x group x head_dim]; the keys of the last token are [0, n_ctx), of
// token t [0, n_ctx - tokens + 1 + t). scores: tokens * group * n_ctx floats.
// The same as attend_group per token.
void attend_group_causal(const float* q, size_t tokens, size_t group, const float* k, const float* v,
                         size_t ld_kv, size_t n_ctx, size_t head_dim, float scale, float* scores, float* out);
void attend_group_causal_scalar(const float* q, size_t tokens, size_t group, const float* k, const float* v,
                                size_t ld_kv, size_t n_ctx, size_t head_dim, float scale, float* scores,
                                float* out);
void attend_group_causal_f16kv(const float* q, size_t tokens, size_t group, const uint16_t* k, const uint16_t* v,
                               size_t ld_kv, size_t n_ctx, size_t head_dim, float scale, float* scores,
                               float* out);
void attend_group_causal_f16kv_scalar(const float* q, size_t tokens, size_t group, const uint16_t* k,
                                      const uint16_t* v, size_t ld_kv, size_t n_ctx, size_t head_dim, float scale,
                                      float* scores, float* out);

namespace detail {
// Per-ISA primitives (decoder_ops_avx2.cc).
// attend_group with head_dim a multiple of 8.
void attend_group_avx2(const float* q, size_t group, const float* k, const float* v, size_t ld_kv,
                       size_t n_ctx, size_t head_dim, float scale, float* scores, float* out);
void attend_group_f16kv_avx2(const float* q, size_t group, const uint16_t* k, const uint16_t* v, size_t ld_kv,
                             size_t n_ctx, size_t head_dim, float scale, float* scores, float* out);
void attend_group_causal_avx2(const float* q, size_t tokens, size_t group, const float* k, const float* v,
                              size_t ld_kv, size_t n_ctx, size_t head_dim, float scale, float* scores, float* out);
void attend_group_causal_f16kv_avx2(const float* q, size_t tokens, size_t group, const uint16_t* k,
                                    const uint16_t* v, size_t ld_kv, size_t n_ctx, size_t head_dim, float scale,
                                    float* scores, float* out);
float dot_avx2(const float* a, const float* b, size_t n);
void axpy_avx2(float a, const float* x, float* y, size_t n);  // y += a x
float sum_squares_avx2(const float* x, size_t n);
void silu_mul_avx2(float* gate, const float* up, size_t n);
}  // namespace detail

}  // namespace keel::kernels
