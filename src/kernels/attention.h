// Multi-head self-attention for encoders, over sequences packed back to back
// (no padding, so no mask): sequence s owns rows [offsets[s], offsets[s+1]).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/thread_pool.h"

namespace keel::kernels {

// q, k, v: row r, head h starts at q + r*ld_qkv + h*head_dim (same for k, v),
// e.g. the three column blocks of a fused QKV linear output [tokens, 3*hidden].
// out: row r, head h at out + r*ld_out + h*head_dim; out must not overlap q/k/v.
// Per sequence and head: out = softmax(q . k^T * scale) . v.
// offsets has n_seqs + 1 increasing entries; offsets[0] is usually 0.
// The fast path never materializes the [len, len] score matrix: it streams
// key blocks with an online softmax, and runs (sequence, head) pairs in parallel.
void attention(const float* q, const float* k, const float* v, size_t ld_qkv,
               const uint32_t* offsets, size_t n_seqs, size_t n_heads, size_t head_dim,
               float scale, float* out, size_t ld_out, ThreadPool* pool = nullptr);

// Scalar twin: full score rows, two-pass softmax.
void attention_scalar(const float* q, const float* k, const float* v, size_t ld_qkv,
                      const uint32_t* offsets, size_t n_seqs, size_t n_heads, size_t head_dim,
                      float scale, float* out, size_t ld_out);

}  // namespace keel::kernels
