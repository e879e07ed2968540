// qlinear's decode kernels with AVX512-VNNI: vpdpbusd on 256-bit vectors (the
// 32-element blocks of the GGML layouts are 32 bytes of int8). See
// qlinear_dot.inc for the kernels themselves.
#include <immintrin.h>

#include <bit>
#include <cstring>

#include "kernels/qlinear_internal.h"

namespace keel::kernels::detail {
namespace {

inline __m256i dot_u8s8(__m256i u, __m256i s) {
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
}

#include "kernels/qlinear_dot.inc"

// 512-bit kernels for the K-quants: two 32-element blocks per vpdpbusd, the
// per-block scales built as vectors (vpermps from 8 or 16 scales per
// super-block) instead of a broadcast per block.

// q4_K's 12 packed scale bytes -> 8 six-bit scales (bytes of *sc) and 8 mins.
inline void unpack_q4_K_scales(const uint8_t* p, uint64_t* sc, uint64_t* mn) {
  uint32_t u[3];
  std::memcpy(u, p, 12);
  constexpr uint32_t k6 = 0x3f3f3f3f, k4 = 0x0f0f0f0f, k2 = 0x03030303;
  const uint32_t sc_hi = (u[2] & k4) | (((u[0] >> 6) & k2) << 4);
  const uint32_t m_hi = ((u[2] >> 4) & k4) | (((u[1] >> 6) & k2) << 4);
  *sc = (u[0] & k6) | (uint64_t{sc_hi} << 32);
  *mn = (u[1] & k6) | (uint64_t{m_hi} << 32);
}

inline __m256 u8x8_to_ps(uint64_t v) {
  return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>(v))));
}

// Two 256-bit halves as one 512-bit vector.
inline __m512i join(__m256i lo, __m256i hi) { return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1); }

template <int M>
void rows_q4_K_wide(const QDotArgs& a, const XRows& x, float* y, size_t r0, size_t r1) {
  constexpr size_t kB = 144;
  const size_t nsb = a.k / 256;
  const __m512i m4 = _mm512_set1_epi8(0x0f);
  // Low nibbles (elements 0-31 of a 64-element chunk) in the lower half, high
  // nibbles (32-63) in the upper half: shift the upper copy right by 4.
  const __m512i shift = join(_mm256_setzero_si256(), _mm256_set1_epi16(4));
  __m512i idx[4];
  for (int c = 0; c < 4; ++c) idx[c] = join(_mm256_set1_epi32(2 * c), _mm256_set1_epi32(2 * c + 1));
  for (size_t r = r0; r < r1; ++r) {
    const uint8_t* wr = a.w + r * a.row_bytes;
    __m512 acc[M];
    __m256 corr[M];
    for (int i = 0; i < M; ++i) {
      acc[i] = _mm512_setzero_ps();
      corr[i] = _mm256_setzero_ps();
    }
    for (size_t sb = 0; sb < nsb; ++sb) {
      const uint8_t* blk = wr + sb * kB;
      uint64_t sc, mn;
      unpack_q4_K_scales(blk + 4, &sc, &mn);
      const __m256 dsc = _mm256_mul_ps(_mm256_set1_ps(half_to_float(blk)), u8x8_to_ps(sc));
      const __m256 dm = _mm256_mul_ps(_mm256_set1_ps(half_to_float(blk + 2)), u8x8_to_ps(mn));
      __m512i wz[4];
      for (int c = 0; c < 4; ++c) {
        const __m512i raw = _mm512_broadcast_i64x4(load32(blk + 16 + 32 * c));
        wz[c] = _mm512_and_si512(_mm512_srlv_epi16(raw, shift), m4);
      }
      const size_t b0 = sb * 8;
      for (int i = 0; i < M; ++i) {
        const __m256 dx = _mm256_loadu_ps(x.d + i * x.nb + b0);
        const __m256i sx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.s + i * x.nb + b0));
        corr[i] = _mm256_fmadd_ps(_mm256_mul_ps(dm, dx), _mm256_cvtepi32_ps(sx), corr[i]);
        const __m512 s = _mm512_castps256_ps512(_mm256_mul_ps(dsc, dx));
        for (int c = 0; c < 4; ++c) {
          const __m512i p = _mm512_dpbusd_epi32(_mm512_setzero_si512(), wz[c], _mm512_loadu_si512(x.qb(i, b0 + 2 * c)));
          acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(p), _mm512_permutexvar_ps(idx[c], s), acc[i]);
        }
      }
    }
    for (int i = 0; i < M; ++i) y[i * a.ldy + r] = _mm512_reduce_add_ps(acc[i]) - hsum(corr[i]);
  }
}

template <int M>
void rows_q6_K_wide(const QDotArgs& a, const XRows& x, float* y, size_t r0, size_t r1) {
  constexpr size_t kB = 210;
  const size_t nsb = a.k / 256;
  const __m512i m4 = _mm512_set1_epi8(0x0f), m30 = _mm512_set1_epi8(0x30), c32 = _mm512_set1_epi8(32);
  // Pair 0 of a 128-element half = [q0 | q1] (qh bits 0-1, 2-3 to bits 4-5),
  // pair 1 = [q2 | q3] (qh bits 4-5, 6-7).
  const __m512i sh01 = join(_mm256_set1_epi16(4), _mm256_set1_epi16(2));
  const __m512i sh23 = join(_mm256_setzero_si256(), _mm256_set1_epi16(2));
  // Pair P (0-3 over the super-block) covers 16-element sub-blocks 4P..4P+3
  // (one per 4 int32 lanes) and x blocks 2P, 2P+1 (one per 8 lanes).
  __m512i idx_s[4], idx_x[4];
  for (int p = 0; p < 4; ++p) {
    idx_s[p] = _mm512_add_epi32(_mm512_set1_epi32(4 * p),
                                _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3));
    idx_x[p] = join(_mm256_set1_epi32(2 * p), _mm256_set1_epi32(2 * p + 1));
  }
  for (size_t r = r0; r < r1; ++r) {
    const uint8_t* wr = a.w + r * a.row_bytes;
    __m512 acc[M];
    for (int i = 0; i < M; ++i) acc[i] = _mm512_setzero_ps();
    for (size_t sb = 0; sb < nsb; ++sb) {
      const uint8_t* blk = wr + sb * kB;
      const __m512 dsc = _mm512_mul_ps(
          _mm512_set1_ps(half_to_float(blk + 208)),
          _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 192)))));
      __m512i wz[4];
      __m512 sp[4];
      for (int h = 0; h < 2; ++h) {
        const __m512i l = _mm512_loadu_si512(blk + 64 * h);
        const __m512i hb = _mm512_broadcast_i64x4(load32(blk + 128 + 32 * h));
        wz[2 * h] = _mm512_or_si512(_mm512_and_si512(l, m4), _mm512_and_si512(_mm512_sllv_epi16(hb, sh01), m30));
        wz[2 * h + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4),
                                        _mm512_and_si512(_mm512_srlv_epi16(hb, sh23), m30));
      }
      for (int p = 0; p < 4; ++p) sp[p] = _mm512_permutexvar_ps(idx_s[p], dsc);
      const size_t b0 = sb * 8;
      for (int i = 0; i < M; ++i) {
        const __m512 dx = _mm512_castps256_ps512(_mm256_loadu_ps(x.d + i * x.nb + b0));
        for (int p = 0; p < 4; ++p) {
          const __m512i xv = _mm512_loadu_si512(x.qb(i, b0 + 2 * p));
          // Stored q is 0..63 for q - 32: subtract 32 * (sum of x) per lane.
          const __m512i dot = _mm512_sub_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), wz[p], xv),
                                               _mm512_dpbusd_epi32(_mm512_setzero_si512(), c32, xv));
          acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot),
                                   _mm512_mul_ps(sp[p], _mm512_permutexvar_ps(idx_x[p], dx)), acc[i]);
        }
      }
    }
    for (int i = 0; i < M; ++i) y[i * a.ldy + r] = _mm512_reduce_add_ps(acc[i]);
  }
}

template <int M>
void rows_q4_K_best(const QDotArgs& a, const XRows& x, float* y, size_t r0, size_t r1) {
  rows_q4_K_wide<M>(a, x, y, r0, r1);
}
template <int M>
void rows_q6_K_best(const QDotArgs& a, const XRows& x, float* y, size_t r0, size_t r1) {
  rows_q6_K_wide<M>(a, x, y, r0, r1);
}

#include "kernels/qlinear_dot_dispatch.inc"

}  // namespace

void qdot_rows_avx512(const QDotArgs& a, size_t r0, size_t r1) { qdot_rows_impl(a, r0, r1); }

}  // namespace keel::kernels::detail
