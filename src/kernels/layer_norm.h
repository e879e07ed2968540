// LayerNorm fused with the residual add that precedes it in BERT blocks.
#pragma once

#include <cstddef>

#include "core/thread_pool.h"

namespace keel::kernels {

// Per row of n: t = x + residual (residual may be null),
// y = (t - mean(t)) / sqrt(var(t) + eps) * gamma + beta (biased variance, as
// torch.nn.LayerNorm). Rows are contiguous (n apart). y may alias x (or residual).
void add_layer_norm(const float* x, const float* residual, const float* gamma, const float* beta,
                    float eps, float* y, size_t m, size_t n, ThreadPool* pool = nullptr);

void add_layer_norm_scalar(const float* x, const float* residual, const float* gamma,
                           const float* beta, float eps, float* y, size_t m, size_t n);

}  // namespace keel::kernels
