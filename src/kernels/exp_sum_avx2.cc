// AVX2 + FMA form of exp_shifted_sum (exp_sum.h); called only when
// kernel_isa() says the CPU runs AVX2. Same blocking as the scalar twin:
// 16 float partial sums per lane, folded into a double every 4096 elements.
#include <immintrin.h>

#include <cmath>

#include "kernels/exp_sum.h"
#include "kernels/simd_avx2.h"
#include "kernels/simd_ops.h"

namespace keel::kernels::detail {
namespace {

// e^t where t >= -87, else 0 (also for NaN: the compare is ordered).
inline __m256 exp_or_zero(__m256 t) {
  const __m256 e = simd::exp<avx2::Vec>(t);
  return _mm256_and_ps(e, _mm256_cmp_ps(t, _mm256_set1_ps(-87.0f), _CMP_GE_OQ));
}

inline double hsum_double(__m256 v) {
  alignas(32) float f[8];
  _mm256_store_ps(f, v);
  double s = 0.0;
  for (float x : f) s += x;
  return s;
}

}  // namespace

double exp_shifted_sum_avx2(const float* x, float* y, size_t n, float shift, float scale) {
  const __m256 vs = _mm256_set1_ps(scale), vshift = _mm256_set1_ps(shift);
  double total = 0.0;
  size_t i = 0;
  while (i + 16 <= n) {
    const size_t block_end = i + ((n - i) / 16 > 256 ? 256 * 16 : ((n - i) / 16) * 16);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    for (; i < block_end; i += 16) {
      const __m256 e0 = exp_or_zero(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vshift), vs));
      const __m256 e1 = exp_or_zero(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), vshift), vs));
      acc0 = _mm256_add_ps(acc0, e0);
      acc1 = _mm256_add_ps(acc1, e1);
      if (y) {
        _mm256_storeu_ps(y + i, e0);
        _mm256_storeu_ps(y + i + 8, e1);
      }
    }
    total += hsum_double(acc0) + hsum_double(acc1);
  }
  for (; i < n; ++i) {
    const float t = (x[i] - shift) * scale;
    const float e = t >= -87.0f ? std::exp(t) : 0.0f;
    if (y) y[i] = e;
    total += e;
  }
  return total;
}

}  // namespace keel::kernels::detail
