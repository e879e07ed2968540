// qlinear's kernels on AVX2: the decode kernels (pmaddubsw + pmaddwd for the
// int8 block products, see qlinear_dot.inc; the K-quants' own, on x in
// super-blocks of 256), the int8 prefill on q4_K / q6_K panels, and the vector
// activation quantizer.
#include <immintrin.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <type_traits>

#include "kernels/qlinear_internal.h"

namespace keel::kernels::detail {
namespace {

inline __m256i dot_u8s8(__m256i u, __m256i s) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

// Software prefetch in the decode kernels (see prefetch_w).
constexpr bool kPrefetchW = true;

#include "kernels/qlinear_dot.inc"

template <int M>
void rows_q4_0_best(const QDotArgs& a, const XRows& x, float* y, size_t r0, size_t r1) {
  rows_q4_0<M>(a, x, y, r0, r1);
}
// The K-quants' decode on x in super-blocks of 256 (decode_x_superblocks):
// one x scale per super-block, so the block products sum in int32 with the
// weights' integer block scales applied by pmaddwd, and one f32 FMA per
// super-block and row.

// int16 j of each 128-bit lane of v, in all 16 positions of that lane.
inline __m256i lane_bcast16(__m256i v, int j) {
  return _mm256_shuffle_epi8(v, _mm256_set1_epi16(static_cast<short>((2 * j) | ((2 * j + 1) << 8))));
}

// q4_K (kFive false) and q5_K: x = d * sc[j] * q - dmin * m[j] over blocks j
// of 32: sum_j d dx sc_j dot(q, xq) - dmin dx m_j s_j.
template <int M, bool kFive>
void rows_k_sb(const QDotArgs& a, const XRows& x, float* y, size_t r0, size_t r1) {
  constexpr size_t kB = kFive ? 176 : 144;
  const size_t nsb = a.k / kQSuperBlock;
  for (size_t r = r0; r < r1; ++r) {
    const uint8_t* wr = a.w + r * a.row_bytes;
    __m256 acc[M], corr[M];
    for (int i = 0; i < M; ++i) acc[i] = corr[i] = _mm256_setzero_ps();
    for (size_t sb = 0; sb < nsb; ++sb) {
      const uint8_t* blk = wr + sb * kB;
      prefetch_w(blk, kB);
      uint64_t sc, mn;
      unpack_q4_K_scales(blk + 4, &sc, &mn);
      // The 8 six-bit scales as int16, in both 128-bit lanes.
      const __m256i sc16 =
          _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<long long>(sc))));
      const __m256 dm = _mm256_mul_ps(_mm256_set1_ps(half_to_float(blk + 2)), u8x8_to_ps(mn));
      const float d = half_to_float(blk);
      __m256i lo[4], hi[4];
      if constexpr (kFive) q5_K_levels(blk, lo, hi);
      else q4_K_levels(blk, lo, hi);
      const size_t b0 = sb * 8;
      for (int i = 0; i < M; ++i) {
        __m256i sum = _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int c = 0; c < 4; ++c) {
          const __m256i p0 = _mm256_maddubs_epi16(lo[c], load32(x.qb(i, b0 + 2 * c)));
          const __m256i p1 = _mm256_maddubs_epi16(hi[c], load32(x.qb(i, b0 + 2 * c + 1)));
          sum = _mm256_add_epi32(sum, _mm256_add_epi32(_mm256_madd_epi16(p0, lane_bcast16(sc16, 2 * c)),
                                                       _mm256_madd_epi16(p1, lane_bcast16(sc16, 2 * c + 1))));
        }
        const float dx = x.db(i, sb);
        acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum), _mm256_set1_ps(d * dx), acc[i]);
        const __m256i sx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.s + i * x.nb + b0));
        corr[i] = _mm256_fmadd_ps(_mm256_mul_ps(dm, _mm256_set1_ps(dx)), _mm256_cvtepi32_ps(sx), corr[i]);
      }
    }
    for (int i = 0; i < M; ++i) y[i * a.ldy + r] = hsum(acc[i]) - hsum(corr[i]);
  }
}

// q6_K's signed levels q - 32 (-32..31) of one 128-element half of a
// super-block (ql: its 64 bytes of low bits, qh: its 32 bytes of high bits):
// w[g] = elements 32 g .. 32 g + 31.
inline void q6_K_levels(const uint8_t* ql, const uint8_t* qh, __m256i (&w)[4]) {
  const __m256i m4 = _mm256_set1_epi8(0x0f), m30 = _mm256_set1_epi8(0x30), off = _mm256_set1_epi8(32);
  const __m256i l0 = load32(ql), l1 = load32(ql + 32), hb = load32(qh);
  w[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(hb, 4), m30));
  w[1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(hb, 2), m30));
  w[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(hb, m30));
  w[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                         _mm256_and_si256(_mm256_srli_epi16(hb, 2), m30));
  for (int g = 0; g < 4; ++g) w[g] = _mm256_sub_epi8(w[g], off);
}

// q6_K: x = d * sc[j] * (q - 32) over sub-blocks j of 16; q = 4 bits of ql |
// 2 bits of qh. Per 128 elements: ql[0..63], qh[0..31], 8 scales. Each
// 32-element group g is the signed product |w| * sign(x, w) (w = q - 32), its
// low 128-bit lane scaled by sc[2g] and the high one by sc[2g + 1].
template <int M>
void rows_q6_K_sb(const QDotArgs& a, const XRows& x, float* y, size_t r0, size_t r1) {
  constexpr size_t kB = 210;
  const size_t nsb = a.k / kQSuperBlock;
  // pshufb masks: int16 2g of the scales in the low lane, 2g + 1 in the high.
  __m256i pick[4];
  for (int g = 0; g < 4; ++g) {
    pick[g] = _mm256_setr_m128i(_mm_set1_epi16(static_cast<short>((4 * g) | ((4 * g + 1) << 8))),
                                _mm_set1_epi16(static_cast<short>((4 * g + 2) | ((4 * g + 3) << 8))));
  }
  for (size_t r = r0; r < r1; ++r) {
    const uint8_t* wr = a.w + r * a.row_bytes;
    __m256 acc[M];
    for (int i = 0; i < M; ++i) acc[i] = _mm256_setzero_ps();
    for (size_t sb = 0; sb < nsb; ++sb) {
      const uint8_t* blk = wr + sb * kB;
      prefetch_w(blk, kB);
      const uint8_t* ql = blk;
      const uint8_t* qh = blk + 128;
      const int8_t* sc = reinterpret_cast<const int8_t*>(blk + 192);
      __m256i sum[M];
      for (int i = 0; i < M; ++i) sum[i] = _mm256_setzero_si256();
      for (int h = 0; h < 2; ++h, ql += 64, qh += 32, sc += 8) {
        const __m256i sc16 = _mm256_broadcastsi128_si256(
            _mm_cvtepi8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc))));
        __m256i wg[4];
        q6_K_levels(ql, qh, wg);
#pragma GCC unroll 4
        for (int g = 0; g < 4; ++g) {
          const __m256i w = wg[g];
          const __m256i aw = _mm256_sign_epi8(w, w);
          const __m256i scv = _mm256_shuffle_epi8(sc16, pick[g]);
          const size_t b = sb * 8 + h * 4 + g;
          for (int i = 0; i < M; ++i) {
            const __m256i p = _mm256_maddubs_epi16(aw, _mm256_sign_epi8(load32(x.qb(i, b)), w));
            sum[i] = _mm256_add_epi32(sum[i], _mm256_madd_epi16(p, scv));
          }
        }
      }
      const float d = half_to_float(blk + 208);
      for (int i = 0; i < M; ++i)
        acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum[i]), _mm256_set1_ps(d * x.db(i, sb)), acc[i]);
    }
    for (int i = 0; i < M; ++i) y[i * a.ldy + r] = hsum(acc[i]);
  }
}

template <int M>
void rows_q4_K_best(const QDotArgs& a, const XRows& x, float* y, size_t r0, size_t r1) {
  rows_k_sb<M, false>(a, x, y, r0, r1);
}
template <int M>
void rows_q5_K_best(const QDotArgs& a, const XRows& x, float* y, size_t r0, size_t r1) {
  rows_k_sb<M, true>(a, x, y, r0, r1);
}
template <int M>
void rows_q6_K_best(const QDotArgs& a, const XRows& x, float* y, size_t r0, size_t r1) {
  rows_q6_K_sb<M>(a, x, y, r0, r1);
}

#include "kernels/qlinear_dot_dispatch.inc"

// acc += maddubs(u, s) in int16, in asm: with the intrinsics GCC 12 computes
// all the products of the unrolled sub-block first and spills them.
inline __m256i maddubs_add(__m256i acc, __m256i u, __m256i s) {
  __m256i t;
  __asm__("vpmaddubsw %3, %2, %1\n\tvpaddw %1, %0, %0" : "+x"(acc), "=&x"(t) : "x"(u), "x"(s));
  return acc;
}

template <int R>
void store_rows(const KQuantGemmArgs& a, size_t i0, const __m256 (&acc)[R][2]) {
  for (int r = 0; r < R; ++r) {
    float* y = a.y + (i0 + r) * a.ldy;
    if (a.cols == kKPanel) {
      _mm256_storeu_ps(y, acc[r][0]);
      _mm256_storeu_ps(y + 8, acc[r][1]);
    } else {
      alignas(32) float t[kKPanel];
      _mm256_store_ps(t, acc[r][0]);
      _mm256_store_ps(t + 8, acc[r][1]);
      std::memcpy(y, t, a.cols * sizeof(float));
    }
  }
}

// R rows of x (from i0) times the 16 columns of a q4_K panel. Per 32-element
// sub-block: 8 steps of 4 elements, each one pmaddubsw per (row, 8 columns)
// summed in int16, then one pmaddwd to int32 and the f32 scaling.
template <int R>
void q4_K_rows(const KQuantGemmArgs& a, size_t i0) {
  const size_t k = a.k, nb = k / kQBlock;
  const float* dsc = reinterpret_cast<const float*>(a.panel + k * kKPanel);
  const float* dm = dsc + nb * kKPanel;
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[R][2];
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (size_t b = 0; b < nb; ++b) {
    __m256i s16[R][2];
    for (int r = 0; r < R; ++r) s16[r][0] = s16[r][1] = _mm256_setzero_si256();
    const uint8_t* qb = a.panel + b * kQBlock * kKPanel;
#pragma GCC unroll 8
    for (int st = 0; st < 8; ++st) {
      const __m256i w0 = load32(qb + 64 * st), w1 = load32(qb + 64 * st + 32);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        int32_t v;
        std::memcpy(&v, a.x.q + (i0 + r) * k + b * kQBlock + 4 * st, 4);
        const __m256i xv = _mm256_set1_epi32(v);
        s16[r][0] = maddubs_add(s16[r][0], w0, xv);
        s16[r][1] = maddubs_add(s16[r][1], w1, xv);
      }
    }
    const __m256 sc[2] = {_mm256_loadu_ps(dsc + b * kKPanel), _mm256_loadu_ps(dsc + b * kKPanel + 8)};
    const __m256 mn[2] = {_mm256_loadu_ps(dm + b * kKPanel), _mm256_loadu_ps(dm + b * kKPanel + 8)};
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m256 dx = _mm256_set1_ps(a.x.d[(i0 + r) * nb + b]);
      const __m256 sx = _mm256_set1_ps(static_cast<float>(a.x.s[(i0 + r) * nb + b]));
      for (int c = 0; c < 2; ++c) {
        __m256 t = _mm256_mul_ps(sc[c], _mm256_cvtepi32_ps(_mm256_madd_epi16(s16[r][c], ones)));
        t = _mm256_fnmadd_ps(mn[c], sx, t);
        acc[r][c] = _mm256_fmadd_ps(dx, t, acc[r][c]);
      }
    }
  }
  store_rows<R>(a, i0, acc);
}

// acc += pmaddwd(maddubs(bcast(*u0), s0) + maddubs(bcast(*u1), s1), sc): two
// 4-element steps of 8 columns, summed in int16, then scaled in int32. The
// broadcasts are inside the asm too: GCC would otherwise keep them across the
// two column halves and spill the accumulators.
inline __m256i maddubs2_madd_add(__m256i acc, const int32_t* u0, __m256i s0, const int32_t* u1, __m256i s1,
                                 __m256i sc) {
  __m256i t0, t1;
  __asm__("vpbroadcastd %3, %1\n\tvpmaddubsw %4, %1, %1\n\t"
          "vpbroadcastd %5, %2\n\tvpmaddubsw %6, %2, %2\n\t"
          "vpaddw %2, %1, %1\n\tvpmaddwd %7, %1, %1\n\tvpaddd %1, %0, %0"
          : "+x"(acc), "=&x"(t0), "=&x"(t1)
          : "m"(*u0), "x"(s0), "m"(*u1), "x"(s1), "x"(sc));
  return acc;
}

template <int R>
void q6_K_rows(const KQuantGemmArgs& a, size_t i0) {
  const size_t k = a.k, nb = k / kQBlock;
  const int16_t* sc = reinterpret_cast<const int16_t*>(a.panel + k * kKPanel);
  const int32_t* corr = reinterpret_cast<const int32_t*>(sc + (k / 16) * kKPanel * 2);
  const float* dd = reinterpret_cast<const float*>(corr + nb * kKPanel);
  __m256 acc[R][2];
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (size_t b = 0; b < nb; ++b) {
    __m256i s32[R][2];
    for (int r = 0; r < R; ++r) s32[r][0] = s32[r][1] = _mm256_setzero_si256();
    const uint8_t* qb = a.panel + b * kQBlock * kKPanel;
#pragma GCC unroll 4
    for (int g = 0; g < 4; ++g) {  // 8 elements; sub-block 2 b + g / 2
#pragma GCC unroll 2
      for (int c = 0; c < 2; ++c) {
        const __m256i w0 = load32(qb + 128 * g + 32 * c), w1 = load32(qb + 128 * g + 64 + 32 * c);
        const __m256i scv = load32(sc + ((2 * b + g / 2) * kKPanel + 8 * c) * 2);
#pragma GCC unroll 4
        for (int r = 0; r < R; ++r) {
          const auto* xv = reinterpret_cast<const int32_t*>(a.x.q + (i0 + r) * k + b * kQBlock + 8 * g);
          s32[r][c] = maddubs2_madd_add(s32[r][c], xv, w0, xv + 1, w1, scv);
        }
      }
    }
    const __m256i cr[2] = {load32(corr + b * kKPanel), load32(corr + b * kKPanel + 8)};
    const __m256 dv[2] = {_mm256_loadu_ps(dd + (b / 8) * kKPanel), _mm256_loadu_ps(dd + (b / 8) * kKPanel + 8)};
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m256 dx = _mm256_set1_ps(a.x.d[(i0 + r) * nb + b]);
      for (int c = 0; c < 2; ++c) {
        const __m256 t = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(s32[r][c], cr[c])), dx);
        acc[r][c] = _mm256_fmadd_ps(t, dv[c], acc[r][c]);
      }
    }
  }
  store_rows<R>(a, i0, acc);
}

// acc0 / acc1 += pmaddwd(pmaddubsw(|w|, sign(bcast(*x), w)), 1) for the two
// 8-column halves of a 4-element step: the signed x signed product, exact.
// In asm, the broadcast shared by both halves (GCC would otherwise keep
// products live and spill the accumulators).
alignas(32) constexpr int16_t kOnes16[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
inline void sdot2_add(__m256i& acc0, __m256i& acc1, const int32_t* x, __m256i aw0, __m256i w0, __m256i aw1,
                      __m256i w1) {
  __m256i xb, t0, t1;
  __asm__("vpbroadcastd %5, %2\n\t"
          "vpsignb %7, %2, %3\n\tvpmaddubsw %3, %6, %3\n\tvpmaddwd %10, %3, %3\n\tvpaddd %3, %0, %0\n\t"
          "vpsignb %9, %2, %4\n\tvpmaddubsw %4, %8, %4\n\tvpmaddwd %10, %4, %4\n\tvpaddd %4, %1, %1"
          : "+x"(acc0), "+x"(acc1), "=&x"(xb), "=&x"(t0), "=&x"(t1)
          : "m"(*x), "x"(aw0), "x"(w0), "x"(aw1), "x"(w1), "m"(*reinterpret_cast<const __m256i*>(kOnes16)));
}

// R rows of x (from i0) times the 16 columns of a q8_0 panel: per 32-block,
// 8 steps of 4 elements into int32, then scaled by d[b, c] dx[i, b] into f32
// sums kept in memory (the int32 ones take the registers).
template <int R>
void q8_0_rows(const KQuantGemmArgs& a, size_t i0) {
  const size_t k = a.k, nb = k / kQBlock;
  const float* dw = reinterpret_cast<const float*>(a.panel + k * kKPanel);
  alignas(32) float acc[R][kKPanel] = {};
  for (size_t b = 0; b < nb; ++b) {
    __m256i s32[R][2];
    for (int r = 0; r < R; ++r) s32[r][0] = s32[r][1] = _mm256_setzero_si256();
    const uint8_t* qb = a.panel + b * kQBlock * kKPanel;
#pragma GCC unroll 8
    for (int st = 0; st < 8; ++st) {
      const __m256i w0 = load32(qb + 64 * st), w1 = load32(qb + 64 * st + 32);
      const __m256i aw0 = _mm256_sign_epi8(w0, w0), aw1 = _mm256_sign_epi8(w1, w1);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        const auto* xv = reinterpret_cast<const int32_t*>(a.x.q + (i0 + r) * k + b * kQBlock + 4 * st);
        sdot2_add(s32[r][0], s32[r][1], xv, aw0, w0, aw1, w1);
      }
    }
    const __m256 d0 = _mm256_loadu_ps(dw + b * kKPanel), d1 = _mm256_loadu_ps(dw + b * kKPanel + 8);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m256 dx = _mm256_set1_ps(a.x.d[(i0 + r) * nb + b]);
      _mm256_store_ps(acc[r], _mm256_fmadd_ps(_mm256_cvtepi32_ps(s32[r][0]), _mm256_mul_ps(d0, dx),
                                              _mm256_load_ps(acc[r])));
      _mm256_store_ps(acc[r] + 8, _mm256_fmadd_ps(_mm256_cvtepi32_ps(s32[r][1]), _mm256_mul_ps(d1, dx),
                                                  _mm256_load_ps(acc[r] + 8)));
    }
  }
  __m256 out[R][2];
  for (int r = 0; r < R; ++r) {
    out[r][0] = _mm256_load_ps(acc[r]);
    out[r][1] = _mm256_load_ps(acc[r] + 8);
  }
  store_rows<R>(a, i0, out);
}

// `steps` 4-element steps of levels (bytes), from step `step0` of the
// panel, into panel column c: one 32-bit word per step (see kKPanel).
inline void put_steps(const void* levels, size_t step0, size_t steps, size_t c, uint8_t* panel) {
  uint8_t* q = panel + (step0 * kKPanel + c) * 4;
  for (size_t st = 0; st < steps; ++st) std::memcpy(q + st * kKPanel * 4, static_cast<const uint8_t*>(levels) + 4 * st, 4);
}

}  // namespace

void pack_q4_K_panel_avx2(const uint8_t* w, size_t row_bytes, size_t cols, size_t k, uint8_t* panel) {
  constexpr size_t kB = 144;
  const size_t nb = k / kQBlock;
  float* dsc = reinterpret_cast<float*>(panel + k * kKPanel);
  float* dm = dsc + nb * kKPanel;
  if (cols < kKPanel) std::memset(panel, 0, q4_K_panel_bytes(k));
  alignas(32) uint8_t levels[256];
  alignas(32) float s[2][8];
  for (size_t c = 0; c < cols; ++c) {
    for (size_t sb = 0; sb < k / 256; ++sb) {
      const uint8_t* blk = w + c * row_bytes + sb * kB;
      __m256 vd, vm;
      k_scales(blk, &vd, &vm);
      _mm256_store_ps(s[0], vd);
      _mm256_store_ps(s[1], vm);
      for (size_t j = 0; j < 8; ++j) {
        dsc[(sb * 8 + j) * kKPanel + c] = s[0][j];
        dm[(sb * 8 + j) * kKPanel + c] = s[1][j];
      }
      __m256i lo[4], hi[4];
      q4_K_levels(blk, lo, hi);
      for (int ch = 0; ch < 4; ++ch) {
        _mm256_store_si256(reinterpret_cast<__m256i*>(levels + 64 * ch), lo[ch]);
        _mm256_store_si256(reinterpret_cast<__m256i*>(levels + 64 * ch + 32), hi[ch]);
      }
      put_steps(levels, sb * 64, 64, c, panel);  // a super-block
    }
  }
}

void pack_q4_0_panel_avx2(const uint8_t* w, size_t row_bytes, size_t cols, size_t k, uint8_t* panel) {
  constexpr size_t kB = 18;
  const size_t nb = k / kQBlock;
  float* dsc = reinterpret_cast<float*>(panel + k * kKPanel);
  float* dm = dsc + nb * kKPanel;
  if (cols < kKPanel) std::memset(panel, 0, q4_K_panel_bytes(k));
  const __m128i m4 = _mm_set1_epi8(0x0f);
  alignas(16) uint8_t levels[32];
  for (size_t c = 0; c < cols; ++c) {
    for (size_t b = 0; b < nb; ++b) {
      const uint8_t* blk = w + c * row_bytes + b * kB;
      const float d = half_to_float(blk);
      dsc[b * kKPanel + c] = d;
      dm[b * kKPanel + c] = 8.0f * d;
      // Elements 0-15 are the low nibbles, 16-31 the high ones.
      const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 2));
      _mm_store_si128(reinterpret_cast<__m128i*>(levels), _mm_and_si128(raw, m4));
      _mm_store_si128(reinterpret_cast<__m128i*>(levels + 16), _mm_and_si128(_mm_srli_epi16(raw, 4), m4));
      put_steps(levels, b * 8, 8, c, panel);
    }
  }
}

void pack_q8_0_panel_avx2(const uint8_t* w, size_t row_bytes, size_t cols, size_t k, uint8_t* panel) {
  constexpr size_t kB = 34;
  const size_t nb = k / kQBlock;
  float* d = reinterpret_cast<float*>(panel + k * kKPanel);
  if (cols < kKPanel) std::memset(panel, 0, q8_0_panel_bytes(k));
  for (size_t c = 0; c < cols; ++c) {
    for (size_t b = 0; b < nb; ++b) {
      const uint8_t* blk = w + c * row_bytes + b * kB;
      d[b * kKPanel + c] = half_to_float(blk);
      put_steps(blk + 2, b * 8, 8, c, panel);
    }
  }
}

void pack_q4_K_x8_panel_avx2(const uint8_t* groups, size_t cols, size_t k, uint8_t* panel) {
  const size_t nsb = k / kQSuperBlock, nb = k / kQBlock;
  float* dsc = reinterpret_cast<float*>(panel + k * kKPanel);
  float* dm = dsc + nb * kKPanel;
  if (cols <= 8) std::memset(panel, 0, q4_K_panel_bytes(k));
  const __m256i m4 = _mm256_set1_epi8(0x0f);
  // Row r's min of block 2 p + t is byte 2 r + t of pair p's 16 bytes.
  const __m128i even_odd = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
  for (size_t h = 0; h < (cols > 8 ? 2u : 1u); ++h) {  // rows 8 h .. 8 h + 7: one group
    const uint8_t* wg = groups + h * nsb * kQ4KX8GroupBytes;
    for (size_t sb = 0; sb < nsb; ++sb) {
      const uint8_t* blk = wg + sb * kQ4KX8GroupBytes;
      const __m256 d8 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
      const __m256 dm8 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 16)));
      for (size_t b = 0; b < 8; ++b) {
        const size_t blk_i = sb * 8 + b;
        const __m256 sc = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(
            reinterpret_cast<const __m128i*>(blk + 32 + 8 * b))));
        const __m128i mp = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 96 + 16 * (b / 2))),
                                            even_odd);
        const __m256 mn = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b % 2 ? _mm_srli_si128(mp, 8) : mp));
        _mm256_storeu_ps(dsc + blk_i * kKPanel + 8 * h, _mm256_mul_ps(d8, sc));
        _mm256_storeu_ps(dm + blk_i * kKPanel + 8 * h, _mm256_mul_ps(dm8, mn));
        for (size_t j = 0; j < 4; ++j) {
          const __m256i v = load32(blk + 160 + 128 * b + 32 * j);
          uint8_t* q = panel + (blk_i * 8 + j) * 64 + 32 * h;  // step 8 blk_i + j, its half h
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(q), _mm256_and_si256(v, m4));
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + 4 * 64), _mm256_and_si256(_mm256_srli_epi16(v, 4), m4));
        }
      }
    }
  }
  if (cols % 8 == 0) return;
  // Rows of the last group past `cols` (padding, or rows the caller left out): zeros.
  for (size_t st = 0; st < k / 4; ++st) std::memset(panel + st * 64 + 4 * cols, 0, 4 * (8 - cols % 8));
  for (size_t b = 0; b < nb; ++b) {
    std::memset(dsc + b * kKPanel + cols, 0, (8 - cols % 8) * sizeof(float));
    std::memset(dm + b * kKPanel + cols, 0, (8 - cols % 8) * sizeof(float));
  }
}

void pack_q6_K_panel_avx2(const uint8_t* w, size_t row_bytes, size_t cols, size_t k, uint8_t* panel) {
  constexpr size_t kB = 210;
  int16_t* sc = reinterpret_cast<int16_t*>(panel + k * kKPanel);
  int32_t* corr = reinterpret_cast<int32_t*>(sc + (k / 16) * kKPanel * 2);
  float* dd = reinterpret_cast<float*>(corr + (k / kQBlock) * kKPanel);
  if (cols < kKPanel) std::memset(panel, 0, q6_K_panel_bytes(k));
  alignas(32) int8_t levels[256];
  for (size_t c = 0; c < cols; ++c) {
    for (size_t sb = 0; sb < k / 256; ++sb) {
      const uint8_t* blk = w + c * row_bytes + sb * kB;
      const int8_t* scales = reinterpret_cast<const int8_t*>(blk + 192);
      for (int h = 0; h < 2; ++h) {
        __m256i wg[4];
        q6_K_levels(blk + 64 * h, blk + 128 + 32 * h, wg);
        for (int g = 0; g < 4; ++g) _mm256_store_si256(reinterpret_cast<__m256i*>(levels + 128 * h + 32 * g), wg[g]);
      }
      dd[sb * kKPanel + c] = half_to_float(blk + 208);
      for (size_t j = 0; j < 16; ++j) {
        int32_t lsum = 0;
        for (size_t e = 0; e < 16; ++e) lsum += levels[16 * j + e];
        const size_t sub = sb * 16 + j;
        sc[(sub * kKPanel + c) * 2] = sc[(sub * kKPanel + c) * 2 + 1] = scales[j];
        if (j % 2 == 0) corr[(sub / 2) * kKPanel + c] = 0;
        corr[(sub / 2) * kKPanel + c] += 128 * scales[j] * lsum;
      }
      put_steps(levels, sb * 64, 64, c, panel);  // a super-block
    }
  }
}

namespace {
template <void (*F1)(const KQuantGemmArgs&, size_t), void (*F2)(const KQuantGemmArgs&, size_t),
          void (*F3)(const KQuantGemmArgs&, size_t), void (*F4)(const KQuantGemmArgs&, size_t)>
void rows_by_4(const KQuantGemmArgs& a, size_t m0, size_t m1) {
  size_t i = m0;
  for (; i + 4 <= m1; i += 4) F4(a, i);
  switch (m1 - i) {
    case 3: F3(a, i); break;
    case 2: F2(a, i); break;
    case 1: F1(a, i); break;
    default: break;
  }
}
}  // namespace

void gemm_q4_K_avx2(const KQuantGemmArgs& a, size_t m0, size_t m1) {
  rows_by_4<q4_K_rows<1>, q4_K_rows<2>, q4_K_rows<3>, q4_K_rows<4>>(a, m0, m1);
}
void gemm_q6_K_avx2(const KQuantGemmArgs& a, size_t m0, size_t m1) {
  rows_by_4<q6_K_rows<1>, q6_K_rows<2>, q6_K_rows<3>, q6_K_rows<4>>(a, m0, m1);
}
void gemm_q8_0_avx2(const KQuantGemmArgs& a, size_t m0, size_t m1) {
  rows_by_4<q8_0_rows<1>, q8_0_rows<2>, q8_0_rows<3>, q8_0_rows<4>>(a, m0, m1);
}

namespace {

// q4_K in the Q4_K_X8 layout (qlinear_internal.h): rows i0 .. i0 + M - 1 of
// x (in super-blocks of 256) against W rows [r0, r1), r0 a multiple of 8. Per
// 32-block: the 8 rows' levels unpacked once (8 vectors), then per x row 8
// pmaddubsw of 4 elements x 8 rows by broadcast x, summed in int16, and one
// pmaddwd by the 8 rows' scales; the mins against x's block sums once per
// super-block.
template <int M>
void rows_q4_K_x8(const QDotArgs& a, size_t i0, size_t r0, size_t r1) {
  const size_t nsb = a.k / kQSuperBlock, nb = a.k / kQBlock;
  const int8_t* xq = a.xq.q + i0 * a.k;
  const float* xd = a.xq.d + i0 * nsb;
  const int32_t* xs = a.xq.s + i0 * nb;
  const __m256i m4 = _mm256_set1_epi8(0x0f);
  // pshufb masks: scale byte 8 t + r (row r's scale of block 2 p + t, in the
  // 16 bytes of block pair p) into int16 lanes 2 r and 2 r + 1.
  __m256i pick[2];
  for (int t = 0; t < 2; ++t) {
    alignas(32) int8_t m[32];
    for (int half = 0; half < 2; ++half) {
      for (int r = 0; r < 4; ++r) {
        m[16 * half + 4 * r] = m[16 * half + 4 * r + 2] = static_cast<int8_t>(8 * t + 4 * half + r);
        m[16 * half + 4 * r + 1] = m[16 * half + 4 * r + 3] = static_cast<int8_t>(0x80);
      }
    }
    pick[t] = load32(m);
  }
  for (size_t r = r0; r < r1; r += 8) {
    const uint8_t* wg = a.w + (r / 8) * nsb * kQ4KX8GroupBytes;
    __m256 acc[M];
    for (int i = 0; i < M; ++i) acc[i] = _mm256_setzero_ps();
    for (size_t sb = 0; sb < nsb; ++sb) {
      const uint8_t* blk = wg + sb * kQ4KX8GroupBytes;
      prefetch_w(blk, kQ4KX8GroupBytes);
      __m256i isum[M];
      for (int i = 0; i < M; ++i) isum[i] = _mm256_setzero_si256();
#pragma GCC unroll 4
      for (int p = 0; p < 4; ++p) {
        const __m256i scp =
            _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 32 + 16 * p)));
#pragma GCC unroll 2
        for (int t = 0; t < 2; ++t) {
          const size_t b = 2 * p + t;
          __m256i lo[4], hi[4];
          for (int j = 0; j < 4; ++j) {
            const __m256i v = load32(blk + 160 + 128 * b + 32 * j);
            lo[j] = _mm256_and_si256(v, m4);
            hi[j] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
          }
          const __m256i sc = _mm256_shuffle_epi8(scp, pick[t]);
          for (int i = 0; i < M; ++i) {
            const int8_t* xb = xq + i * a.k + (sb * 8 + b) * kQBlock;
            __m256i s16 = _mm256_setzero_si256();
#pragma GCC unroll 4
            for (int j = 0; j < 4; ++j) {
              int32_t x0, x1;
              std::memcpy(&x0, xb + 4 * j, 4);
              std::memcpy(&x1, xb + 16 + 4 * j, 4);
              s16 = _mm256_add_epi16(s16, _mm256_add_epi16(_mm256_maddubs_epi16(lo[j], _mm256_set1_epi32(x0)),
                                                            _mm256_maddubs_epi16(hi[j], _mm256_set1_epi32(x1))));
            }
            isum[i] = _mm256_add_epi32(isum[i], _mm256_madd_epi16(s16, sc));
          }
        }
      }
      const __m256 d8 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
      const __m256 dm8 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 16)));
      for (int i = 0; i < M; ++i) {
        // x's 8 block sums as int16: 32-bit element 0, 1 | 4, 5 hold pairs 0, 1 | 2, 3.
        const __m256i s32 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xs + i * nb + sb * 8));
        const __m256i s16 = _mm256_packs_epi32(s32, s32);
        __m256i msum = _mm256_setzero_si256();
        for (int p = 0; p < 4; ++p) {
          const __m256i sp = _mm256_permutevar8x32_epi32(s16, _mm256_set1_epi32(p < 2 ? p : p + 2));
          const __m256i mn = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 96 + 16 * p)));
          msum = _mm256_add_epi32(msum, _mm256_madd_epi16(mn, sp));
        }
        const __m256 dx = _mm256_set1_ps(xd[i * nsb + sb]);
        acc[i] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[i]), _mm256_mul_ps(d8, dx), acc[i]);
        acc[i] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(msum), _mm256_mul_ps(dm8, dx), acc[i]);
      }
    }
    const size_t live = std::min<size_t>(8, r1 - r);
    for (int i = 0; i < M; ++i) {
      float* y = a.y + (i0 + i) * a.ldy + r;
      if (live == 8) {
        _mm256_storeu_ps(y, acc[i]);
      } else {
        alignas(32) float t[8];
        _mm256_store_ps(t, acc[i]);
        std::memcpy(y, t, live * sizeof(float));
      }
    }
  }
}

}  // namespace

void qdot_rows_avx2(const QDotArgs& a, size_t r0, size_t r1) {
  if (a.layout != QLayout::Q4_K_X8) return qdot_rows_impl(a, r0, r1);
  for_x_groups(a.m, [&](auto rows, size_t i0) { rows_q4_K_x8<decltype(rows)::value>(a, i0, r0, r1); });
}

// Same operations as quantize_x_blocks_scalar: amax over the block, d =
// amax / 127, id = 1 / d (0 when d == 0), q = round_half_even(x * id).
void quantize_x_blocks_avx2(const float* x, size_t k, int8_t* q, float* d, int32_t* s, size_t block) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (size_t b = 0; b < k / block; ++b) {
    const float* xb = x + b * block;
    __m256 amax = _mm256_setzero_ps();
    for (size_t j = 0; j < block; j += 8) amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, _mm256_loadu_ps(xb + j)));
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(amax), _mm256_extractf128_ps(amax, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    const float db = _mm_cvtss_f32(m) / 127.0f;
    const float id = db > 0.0f ? 1.0f / db : 0.0f;
    const __m256 vid = _mm256_set1_ps(id);
    d[b] = db;
    for (size_t b32 = 0; b32 < block / kQBlock; ++b32) {
      const float* xs = xb + b32 * kQBlock;
      __m256i i32[4];
      for (int j = 0; j < 4; ++j) i32[j] = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xs + 8 * j), vid));
      // Sum of q in int32, then pack to int8 in element order.
      __m256i sum = _mm256_add_epi32(_mm256_add_epi32(i32[0], i32[1]), _mm256_add_epi32(i32[2], i32[3]));
      __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
      s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4e));
      s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xb1));
      const __m256i p16a = _mm256_packs_epi32(i32[0], i32[1]);  // lanes: 0-3 4-7 | 8-11 12-15 interleaved
      const __m256i p16b = _mm256_packs_epi32(i32[2], i32[3]);
      __m256i p8 = _mm256_packs_epi16(p16a, p16b);
      p8 = _mm256_permutevar8x32_epi32(p8, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
      const size_t e = b * block + b32 * kQBlock;
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + e), p8);
      s[e / kQBlock] = _mm_cvtsi128_si32(s4);
    }
  }
}

}  // namespace keel::kernels::detail
