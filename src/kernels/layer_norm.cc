#include "kernels/layer_norm.h"

#include <cmath>

#include "core/cpu_features.h"
#include "kernels/internal.h"
#include "kernels/linear.h"

namespace keel::kernels {
namespace {

void add_layer_norm_rows(const float* x, const float* residual, const float* gamma,
                         const float* beta, float eps, float* y, size_t m0, size_t m1, size_t n) {
  for (size_t i = m0; i < m1; ++i) {
    const float* xi = x + i * n;
    const float* ri = residual ? residual + i * n : nullptr;
    float* yi = y + i * n;
    double sum = 0.0;
    for (size_t j = 0; j < n; ++j) {
      const float t = ri ? xi[j] + ri[j] : xi[j];
      yi[j] = t;
      sum += t;
    }
    const double mean = sum / static_cast<double>(n);
    double var = 0.0;
    for (size_t j = 0; j < n; ++j) var += (yi[j] - mean) * (yi[j] - mean);
    var /= static_cast<double>(n);
    const double inv = 1.0 / std::sqrt(var + eps);
    for (size_t j = 0; j < n; ++j) {
      yi[j] = static_cast<float>((yi[j] - mean) * inv * gamma[j] + beta[j]);
    }
  }
}

}  // namespace

void add_layer_norm_scalar(const float* x, const float* residual, const float* gamma,
                           const float* beta, float eps, float* y, size_t m, size_t n) {
  add_layer_norm_rows(x, residual, gamma, beta, eps, y, 0, m, n);
}

void add_layer_norm(const float* x, const float* residual, const float* gamma, const float* beta,
                    float eps, float* y, size_t m, size_t n, ThreadPool* pool) {
  if (m == 0 || n == 0) return;
  auto* fn = &add_layer_norm_rows;
  switch (kernel_isa()) {
    case Isa::Avx512: fn = &detail::add_layer_norm_rows_avx512; break;
    case Isa::Avx2: fn = &detail::add_layer_norm_rows_avx2; break;
    case Isa::Scalar: break;
  }
  auto rows = [&](int64_t b, int64_t e) {
    fn(x, residual, gamma, beta, eps, y, b, e, n);
  };
  if (pool) pool->parallel_for(static_cast<int64_t>(m), rows, 16);
  else rows(0, static_cast<int64_t>(m));
}

}  // namespace keel::kernels
