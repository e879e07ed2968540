// 16-lane f32 vector for the generic kernels in simd_ops.h. Include only from
// *_avx512.cc translation units (compiled with -mavx512f ...).
#pragma once

#include <immintrin.h>

#include <cstddef>

namespace keel::kernels::avx512 {

struct Vec {
  using R = __m512;
  static constexpr size_t W = 16;
  static __mmask16 mask(size_t n) { return n >= 16 ? __mmask16(0xffff) : __mmask16((1u << n) - 1); }
  static R zero() { return _mm512_setzero_ps(); }
  static R set1(float v) { return _mm512_set1_ps(v); }
  static R load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, R v) { _mm512_storeu_ps(p, v); }
  static R load_n(const float* p, size_t n) { return _mm512_maskz_loadu_ps(mask(n), p); }
  static void store_n(float* p, R v, size_t n) { _mm512_mask_storeu_ps(p, mask(n), v); }
  static R add(R a, R b) { return _mm512_add_ps(a, b); }
  static R sub(R a, R b) { return _mm512_sub_ps(a, b); }
  static R mul(R a, R b) { return _mm512_mul_ps(a, b); }
  static R fma(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
  static R max(R a, R b) { return _mm512_max_ps(a, b); }
  static R min(R a, R b) { return _mm512_min_ps(a, b); }
  static R abs(R a) { return _mm512_abs_ps(a); }
  static R round(R a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  // le ? a <= b : x otherwise y
  static R select_le(R a, R b, R x, R y) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_LE_OQ), y, x);
  }
  static R copysign(R mag, R sign) {
    const __m512i m = _mm512_set1_epi32(0x80000000);
    return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(_mm512_castps_si512(mag),
                                                         _mm512_castps_si512(sign), m, 0xd8));
  }
  // p * 2^n, n integral.
  static R mul_pow2(R p, R n) { return _mm512_scalef_ps(p, n); }
  static float reduce_add(R a) { return _mm512_reduce_add_ps(a); }
  static float reduce_max(R a) { return _mm512_reduce_max_ps(a); }
  static float sqrt1(float v) { return _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(v))); }
};

}  // namespace keel::kernels::avx512
