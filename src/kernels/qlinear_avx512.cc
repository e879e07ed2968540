// qlinear's decode kernels with AVX512-VNNI: vpdpbusd on 256-bit vectors (the
// 32-element blocks of the GGML layouts are 32 bytes of int8). See
// qlinear_dot.inc for the kernels themselves.
#include <immintrin.h>

#include <bit>
#include <cstring>
#include <type_traits>

#include "core/half.h"
#include "core/quant_blocks.h"
#include "kernels/qlinear_internal.h"

namespace keel::kernels::detail {
namespace {

inline __m256i dot_u8s8(__m256i u, __m256i s) {
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
}

// No software prefetch in the decode kernels (see prefetch_w): it was measured
// on an AVX2-only machine; the AVX-512 ones have not been measured with it.
constexpr bool kPrefetchW = false;

#include "kernels/qlinear_dot.inc"

// 512-bit kernels for the K-quants: two 32-element blocks per vpdpbusd, the
// per-block scales built as vectors (vpermps from 8 or 16 scales per
// super-block) instead of a broadcast per block.

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
      __m256 dsc, dm;
      k_scales(blk, &dsc, &dm);
      __m512i wz[4];
      for (int c = 0; c < 4; ++c) {
        const __m512i raw = _mm512_broadcast_i64x4(load32(blk + 16 + 32 * c));
        wz[c] = _mm512_and_si512(_mm512_srlv_epi16(raw, shift), m4);
      }
      const size_t b0 = sb * 8;
      for (int i = 0; i < M; ++i) {
        const __m256 dx = _mm256_loadu_ps(x.d + i * x.nd + b0);
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
        const __m512 dx = _mm512_castps256_ps512(_mm256_loadu_ps(x.d + i * x.nd + b0));
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

// q4_0, two 18-byte blocks per step: [A.qs | A.qs | B.qs | B.qs] in 128-bit
// lanes, shifted right by 0 / 4 / 0 / 4 bits -> elements 0-15, 16-31 of A,
// then of B; the stored nibble is q + 8: subtract 8 * (sum of x) per lane.
template <int M>
void rows_q4_0_wide(const QDotArgs& a, const XRows& x, float* y, size_t r0, size_t r1) {
  constexpr size_t kB = 18;
  const __m512i m4 = _mm512_set1_epi8(0x0f), c8 = _mm512_set1_epi8(8);
  const __m512i shift = _mm512_setr_epi64(0, 0, 0x0004000400040004LL, 0x0004000400040004LL, 0, 0,
                                          0x0004000400040004LL, 0x0004000400040004LL);
  const size_t pairs = x.nb / 2;
  for (size_t r = r0; r < r1; ++r) {
    const uint8_t* wr = a.w + r * a.row_bytes;
    __m512 acc[M];
    __m256 tail[M];
    for (int i = 0; i < M; ++i) {
      acc[i] = _mm512_setzero_ps();
      tail[i] = _mm256_setzero_ps();
    }
    for (size_t pb = 0; pb < pairs; ++pb) {
      const uint8_t* blk = wr + 2 * pb * kB;
      const __m128i qa = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 2));
      const __m128i qb = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + kB + 2));
      const __m512i raw = _mm512_mask_broadcast_i32x4(_mm512_broadcast_i32x4(qa), 0xff00, qb);
      const __m512i w = _mm512_and_si512(_mm512_srlv_epi16(raw, shift), m4);
      const float da = half_to_float(blk), db = half_to_float(blk + kB);
      for (int i = 0; i < M; ++i) {
        const size_t b = 2 * pb;
        const __m512i xv = _mm512_loadu_si512(x.qb(i, b));
        const __m512i dot = _mm512_sub_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), w, xv),
                                             _mm512_dpbusd_epi32(_mm512_setzero_si512(), c8, xv));
        const __m512 s = _mm512_insertf32x8(_mm512_set1_ps(da * x.db(i, b)), _mm256_set1_ps(db * x.db(i, b + 1)), 1);
        acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), s, acc[i]);
      }
    }
    if (x.nb % 2) {  // the last, unpaired block: the 256-bit kernel's step
      const size_t b = x.nb - 1;
      const uint8_t* blk = wr + b * kB;
      const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 2));
      const __m128i m4x = _mm_set1_epi8(0x0f);
      const __m256i w = _mm256_sub_epi8(
          _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(raw, 4), m4x), _mm_and_si128(raw, m4x)), _mm256_set1_epi8(8));
      const float dw = half_to_float(blk);
      for (int i = 0; i < M; ++i) {
        const __m256i p = dot_s8s8(w, load32(x.qb(i, b)));
        tail[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dw * x.db(i, b)), tail[i]);
      }
    }
    for (int i = 0; i < M; ++i) y[i * a.ldy + r] = _mm512_reduce_add_ps(acc[i]) + hsum(tail[i]);
  }
}

template <int M>
void rows_q4_0_best(const QDotArgs& a, const XRows& x, float* y, size_t r0, size_t r1) {
  rows_q4_0_wide<M>(a, x, y, r0, r1);
}

template <int M>
void rows_q4_K_best(const QDotArgs& a, const XRows& x, float* y, size_t r0, size_t r1) {
  rows_q4_K_wide<M>(a, x, y, r0, r1);
}
template <int M>
void rows_q5_K_best(const QDotArgs& a, const XRows& x, float* y, size_t r0, size_t r1) {
  rows_q5_K<M>(a, x, y, r0, r1);
}
template <int M>
void rows_q6_K_best(const QDotArgs& a, const XRows& x, float* y, size_t r0, size_t r1) {
  rows_q6_K_wide<M>(a, x, y, r0, r1);
}

#include "kernels/qlinear_dot_dispatch.inc"

}  // namespace

void qdot_rows_avx512(const QDotArgs& a, size_t r0, size_t r1) { qdot_rows_impl(a, r0, r1); }

}  // namespace keel::kernels::detail

namespace keel::kernels::detail {
namespace {

// Round-to-nearest-even f32 -> bf16 as core/half.h's f32_to_bf16 (quiet NaNs
// included), in the upper 16 bits of each lane. vcvtne2ps2bf16 would flush
// denormals, which the scalar twin does not.
inline __m512i bf16_hi(__m512 v) {
  const __m512i u = _mm512_castps_si512(v);
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  const __m512i rounded = _mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff)));
  const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff)),
                                                _mm512_set1_epi32(0x7f800000));
  return _mm512_mask_or_epi32(rounded, nan, u, _mm512_set1_epi32(0x00400000));
}

// 16x16 transpose of 32-bit lanes: r[i] lane j -> r[j] lane i.
inline void transpose16(__m512i r[16]) {
  __m512i t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
    r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
    r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
    r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
  }
  // r[4q + s] now holds, in each 128-bit lane L, row block q's column 4L + s order
  // transposed within 4x4 tiles; gather the 128-bit lanes across blocks.
  for (int i = 0; i < 4; ++i) {
    t[i] = _mm512_shuffle_i32x4(r[i], r[i + 4], 0x88);
    t[i + 4] = _mm512_shuffle_i32x4(r[i], r[i + 4], 0xdd);
    t[i + 8] = _mm512_shuffle_i32x4(r[i + 8], r[i + 12], 0x88);
    t[i + 12] = _mm512_shuffle_i32x4(r[i + 8], r[i + 12], 0xdd);
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_shuffle_i32x4(t[i], t[i + 8], 0xdd);
    r[i + 4] = _mm512_shuffle_i32x4(t[i + 4], t[i + 12], 0x88);
    r[i + 12] = _mm512_shuffle_i32x4(t[i + 4], t[i + 12], 0xdd);
  }
}

}  // namespace

bool dequantize_row_avx512(DType type, const uint8_t* src, float* y, size_t n) {
  // The same float operations as quantize.cc's scalar dequantize_row (a
  // multiply, then a subtract; no FMA), so the same bits.
  auto emit = [](__m128i bytes, float scale, float sub, float* out) {
    const __m512 v = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(bytes));
    _mm512_storeu_ps(out, _mm512_sub_ps(_mm512_mul_ps(_mm512_set1_ps(scale), v), _mm512_set1_ps(sub)));
  };
  switch (type) {
    case DType::Q4_K: {
      for (size_t i = 0; i < n / kQKK; ++i, src += sizeof(BlockQ4_K)) {
        BlockQ4_K b;
        std::memcpy(&b, src, sizeof(b));
        const float d = f16_to_f32(b.d), min = f16_to_f32(b.dmin);
        uint64_t sc, mn;
        unpack_q4_K_scales(b.scales, &sc, &mn);
        for (int j = 0; j < 4; ++j, y += 64) {
          const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs + 32 * j));
          const __m256i lo = _mm256_and_si256(raw, _mm256_set1_epi8(0x0f));
          const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(raw, 4), _mm256_set1_epi8(0x0f));
          const float d1 = d * static_cast<float>((sc >> (16 * j)) & 0xff);
          const float m1 = min * static_cast<float>((mn >> (16 * j)) & 0xff);
          const float d2 = d * static_cast<float>((sc >> (16 * j + 8)) & 0xff);
          const float m2 = min * static_cast<float>((mn >> (16 * j + 8)) & 0xff);
          emit(_mm256_castsi256_si128(lo), d1, m1, y);
          emit(_mm256_extracti128_si256(lo, 1), d1, m1, y + 16);
          emit(_mm256_castsi256_si128(hi), d2, m2, y + 32);
          emit(_mm256_extracti128_si256(hi, 1), d2, m2, y + 48);
        }
      }
      return true;
    }
    case DType::Q8_0: {
      for (size_t i = 0; i < n / kQK; ++i, src += sizeof(BlockQ8_0), y += kQK) {
        uint16_t h;
        std::memcpy(&h, src, 2);
        const __m512 d = _mm512_set1_ps(f16_to_f32(h));
        for (int j = 0; j < 2; ++j) {
          const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 + 16 * j));
          _mm512_storeu_ps(y + 16 * j, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q)), d));
        }
      }
      return true;
    }
    case DType::BF16: {
      size_t i = 0;
      for (; i + 16 <= n; i += 16) {
        const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 2 * i));
        _mm512_storeu_ps(y + i, _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)));
      }
      for (; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        y[i] = bf16_to_f32(h);
      }
      return true;
    }
    default:
      return false;
  }
}

void pack_bf16_pairs_avx512(const float* const rows[16], size_t kc, uint16_t* dst, size_t pair_stride) {
  // Word j of the result: the bf16 (upper half) of lane j of a (j < 16) or of b.
  alignas(64) static constexpr uint16_t kIdx[32] = {1,  3,  5,  7,  9,  11, 13, 15, 17, 19, 21,
                                                    23, 25, 27, 29, 31, 33, 35, 37, 39, 41, 43,
                                                    45, 47, 49, 51, 53, 55, 57, 59, 61, 63};
  const __m512i idx = _mm512_load_si512(kIdx);
  for (size_t e = 0; e < kc; e += 32) {
    __m512i r[16];
    for (int c = 0; c < 16; ++c) {
      const __m512i a = bf16_hi(_mm512_loadu_ps(rows[c] + e));
      const __m512i b = bf16_hi(_mm512_loadu_ps(rows[c] + e + 16));
      r[c] = _mm512_permutex2var_epi16(a, idx, b);  // lane p: pair e/2 + p of row c
    }
    transpose16(r);
    uint16_t* out = dst + (e / 2) * pair_stride;
    for (int p = 0; p < 16; ++p) _mm512_storeu_si512(out + p * pair_stride, r[p]);
  }
}

}  // namespace keel::kernels::detail
