// qlinear's decode kernels on AVX2: pmaddubsw + pmaddwd for the int8 block
// products (see qlinear_dot.inc), and the vector activation quantizer.
#include <immintrin.h>

#include <bit>
#include <cstring>

#include "kernels/qlinear_internal.h"

namespace keel::kernels::detail {
namespace {

inline __m256i dot_u8s8(__m256i u, __m256i s) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

#include "kernels/qlinear_dot.inc"

template <int M>
void rows_q4_K_best(const QDotArgs& a, const XRows& x, float* y, size_t r0, size_t r1) {
  rows_q4_K<M>(a, x, y, r0, r1);
}
template <int M>
void rows_q6_K_best(const QDotArgs& a, const XRows& x, float* y, size_t r0, size_t r1) {
  rows_q6_K<M>(a, x, y, r0, r1);
}

#include "kernels/qlinear_dot_dispatch.inc"

}  // namespace

void qdot_rows_avx2(const QDotArgs& a, size_t r0, size_t r1) { qdot_rows_impl(a, r0, r1); }

// Same operations as quantize_x_blocks_scalar: amax over the block, d =
// amax / 127, id = 1 / d (0 when d == 0), q = round_half_even(x * id).
void quantize_x_blocks_avx2(const float* x, size_t k, int8_t* q, float* d, int32_t* s) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (size_t b = 0; b < k / kQBlock; ++b) {
    const float* xb = x + b * kQBlock;
    __m256 v[4];
    __m256 amax = _mm256_setzero_ps();
    for (int j = 0; j < 4; ++j) {
      v[j] = _mm256_loadu_ps(xb + 8 * j);
      amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v[j]));
    }
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    const float db = _mm_cvtss_f32(m) / 127.0f;
    const float id = db > 0.0f ? 1.0f / db : 0.0f;
    const __m256 vid = _mm256_set1_ps(id);
    __m256i i32[4];
    for (int j = 0; j < 4; ++j) i32[j] = _mm256_cvtps_epi32(_mm256_mul_ps(v[j], vid));
    // Sum of q in int32, then pack to int8 in element order.
    __m256i sum = _mm256_add_epi32(_mm256_add_epi32(i32[0], i32[1]), _mm256_add_epi32(i32[2], i32[3]));
    __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4e));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xb1));
    const __m256i p16a = _mm256_packs_epi32(i32[0], i32[1]);  // lanes: 0-3 4-7 | 8-11 12-15 interleaved
    const __m256i p16b = _mm256_packs_epi32(i32[2], i32[3]);
    __m256i p8 = _mm256_packs_epi16(p16a, p16b);
    p8 = _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + b * kQBlock), p8);
    d[b] = db;
    s[b] = _mm_cvtsi128_si32(s4);
  }
}

}  // namespace keel::kernels::detail
