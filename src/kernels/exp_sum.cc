#include "kernels/exp_sum.h"

#include <cstdint>
#include <cstring>

#include "kernels/linear.h"

namespace keel::kernels {
namespace {

constexpr size_t kLanes = 16;  // independent partial sums: vectorizable, and fewer rounding steps

// e^t: t = n ln2 + r with |r| <= ln2/2, e^r by its degree-7 Taylor
// polynomial, 2^n by exponent bits. Valid for t in [-87, 88]; the caller masks
// t < -87 (and NaN) to 0. The clamp sends NaN to -87 too: converting a NaN n
// to int below would be undefined (UBSan caught it once the tests fed NaN
// through the vectorized loop).
inline float exp_poly(float t) {
  t = t >= -87.0f ? (t > 88.0f ? 88.0f : t) : -87.0f;
  // Round t * log2(e) to the nearest integer with the 1.5 * 2^23 trick
  // (exact for |value| < 2^22; no call, so the loop vectorizes).
  const float k = t * 1.44269504088896341f;
  const float n = (k + 12582912.0f) - 12582912.0f;
  float r = t - n * 0.693145751953125f;  // ln2 split in two for accuracy
  r = r - n * 1.428606765330187e-06f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

}  // namespace

double exp_shifted_sum_scalar(const float* x, float* y, size_t n, float shift, float scale) {
  float acc[kLanes] = {};
  double total = 0.0;
  size_t i = 0;
  // Blocks of kLanes; the partial sums are folded into a double every 4096
  // elements so float accumulation error stays ~1e-7 relative.
  while (i + kLanes <= n) {
    const size_t block_end = i + ((n - i) / kLanes > 256 ? 256 * kLanes : ((n - i) / kLanes) * kLanes);
    for (; i < block_end; i += kLanes) {
      float v[kLanes];
      for (size_t l = 0; l < kLanes; ++l) {
        const float t = (x[i + l] - shift) * scale;
        const float e = exp_poly(t);
        v[l] = t >= -87.0f ? e : 0.0f;  // also 0 for NaN and -inf
      }
      for (size_t l = 0; l < kLanes; ++l) acc[l] += v[l];
      if (y)
        for (size_t l = 0; l < kLanes; ++l) y[i + l] = v[l];
    }
    for (size_t l = 0; l < kLanes; ++l) {
      total += acc[l];
      acc[l] = 0.0f;
    }
  }
  for (; i < n; ++i) {
    const float t = (x[i] - shift) * scale;
    const float e = t >= -87.0f ? exp_poly(t) : 0.0f;
    if (y) y[i] = e;
    total += e;
  }
  return total;
}

double exp_shifted_sum(const float* x, float* y, size_t n, float shift, float scale) {
  if (kernel_isa() != Isa::Scalar) return detail::exp_shifted_sum_avx2(x, y, n, shift, scale);
  return exp_shifted_sum_scalar(x, y, n, shift, scale);
}

}  // namespace keel::kernels
