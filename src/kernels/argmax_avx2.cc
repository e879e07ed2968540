// AVX2 form of argmax (argmax.h). The scalar loop chains every compare on the
// previous winner's load (~6 cycles per element); here the maximum comes
// first, in 4 independent vectors, then the first position holding it.
#include <immintrin.h>

#include "kernels/argmax.h"

namespace keel::kernels::detail {

size_t argmax_avx2(const float* x, size_t n) {
  if (n < 32) return argmax_scalar(x, n);
  // The running maximum starts as x[0] in every lane, as the scalar loop's.
  // maxps(a, b) is `a > b ? a : b` (b when either is NaN): the scalar rule,
  // with the running maximum as b.
  __m256 m0 = _mm256_set1_ps(x[0]), m1 = m0, m2 = m0, m3 = m0;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    m0 = _mm256_max_ps(_mm256_loadu_ps(x + i), m0);
    m1 = _mm256_max_ps(_mm256_loadu_ps(x + i + 8), m1);
    m2 = _mm256_max_ps(_mm256_loadu_ps(x + i + 16), m2);
    m3 = _mm256_max_ps(_mm256_loadu_ps(x + i + 24), m3);
  }
  alignas(32) float lanes[32];
  _mm256_store_ps(lanes, m0);
  _mm256_store_ps(lanes + 8, m1);
  _mm256_store_ps(lanes + 16, m2);
  _mm256_store_ps(lanes + 24, m3);
  float m = x[0];
  for (float l : lanes) m = l > m ? l : m;
  for (; i < n; ++i) m = x[i] > m ? x[i] : m;
  // m is x[0] (NaN included) or the first strict improvement's value; its
  // first position is the answer (a NaN m matches nothing: x[0] is NaN).
  const __m256 vm = _mm256_set1_ps(m);
  for (i = 0; i + 8 <= n; i += 8) {
    const int hit = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + i), vm, _CMP_EQ_OQ));
    if (hit) return i + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(hit)));
  }
  for (; i < n; ++i)
    if (x[i] == m) return i;
  return 0;
}

}  // namespace keel::kernels::detail
