// AVX2 + FMA kernels: f32 and int8 GEMMs and the generic simd_ops.h kernels
// for 8 lanes. Same scheme as linear_avx512.cc with 16-column panels and a
// 6 x 16 micro-kernel (12 ymm accumulators, 2 for B, 1 broadcast: 15 of 16
// registers).
#include <immintrin.h>

#include <array>
#include <utility>

#include "kernels/internal.h"
#include "kernels/simd_avx2.h"
#include "kernels/simd_ops.h"

namespace keel::kernels::detail {
namespace {

using V = avx2::Vec;
constexpr size_t kNr = kPanelAvx2;  // 16
constexpr size_t kMr = 6;
constexpr size_t kKc = 256;
constexpr size_t kI8Nc = 256;  // columns of W per block in the int8 tile

// y = epilogue(y + bias) on rows x cols of C (cols <= kNr), in place.
// Whole vectors with plain loads and stores: vmaskmovps stores are
// microcoded on AMD cores (the masked form everywhere cost 9% of a MiniLM
// forward on Zen 3, as much as its GELUs).
void finish_rows(float* c, size_t ldc, int rows, size_t cols, const float* bias, Epilogue ep) {
  for (int i = 0; i < rows; ++i) {
    float* ci = c + i * ldc;
    size_t j = 0;
    for (; j + 8 <= cols; j += 8) {
      __m256 v = _mm256_loadu_ps(ci + j);
      if (bias) v = _mm256_add_ps(v, _mm256_loadu_ps(bias + j));
      if (ep == Epilogue::Gelu) v = simd::gelu<V>(v);
      _mm256_storeu_ps(ci + j, v);
    }
    if (j < cols) {
      const size_t n = cols - j;
      __m256 v = V::load_n(ci + j, n);
      if (bias) v = _mm256_add_ps(v, V::load_n(bias + j, n));
      if (ep == Epilogue::Gelu) v = simd::gelu<V>(v);
      V::store_n(ci + j, v, n);
    }
  }
}

template <int M>
void kernel_f32(const float* a, size_t lda, const float* b, size_t kc, float* c, size_t ldc,
                size_t cols, bool first, bool last, const float* bias, Epilogue ep) {
  __m256 acc[M][2];
  const bool full = cols == kNr;
  const __m256i m0 = V::mask(cols), m1 = V::mask(cols > 8 ? cols - 8 : 0);
  if (first) {
    for (int i = 0; i < M; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
  } else {
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i) {
      acc[i][0] = full ? _mm256_loadu_ps(c + i * ldc) : _mm256_maskload_ps(c + i * ldc, m0);
      acc[i][1] = full ? _mm256_loadu_ps(c + i * ldc + 8) : _mm256_maskload_ps(c + i * ldc + 8, m1);
    }
  }
  for (size_t p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_load_ps(b + p * kNr);
    const __m256 b1 = _mm256_load_ps(b + p * kNr + 8);
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i) {
      const __m256 av = _mm256_broadcast_ss(a + i * lda + p);
      acc[i][0] = _mm256_fmadd_ps(av, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(av, b1, acc[i][1]);
    }
  }
  // The epilogue runs on C after the accumulators are stored: with it on the
  // registers (unrolled or not), GCC 12 kept accumulators on the stack and
  // stored them on every k step (31% of the FMA peak on Zen 3).
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i) {
    if (full) {
      _mm256_storeu_ps(c + i * ldc, acc[i][0]);
      _mm256_storeu_ps(c + i * ldc + 8, acc[i][1]);
    } else {
      _mm256_maskstore_ps(c + i * ldc, m0, acc[i][0]);
      _mm256_maskstore_ps(c + i * ldc + 8, m1, acc[i][1]);
    }
  }
  if (last && (bias || ep == Epilogue::Gelu)) finish_rows(c, ldc, M, cols, bias, ep);
}

using F32Kernel = void (*)(const float*, size_t, const float*, size_t, float*, size_t, size_t,
                           bool, bool, const float*, Epilogue);
template <size_t... I>
constexpr auto f32_table(std::index_sequence<I...>) {
  return std::array<F32Kernel, sizeof...(I)>{&kernel_f32<static_cast<int>(I) + 1>...};
}
constexpr auto kF32Kernels = f32_table(std::make_index_sequence<kMr>());

// The int8 micro-kernel. AVX2 has no u8 x s8 dot into int32 that cannot
// saturate (vpmaddubsw sums two products in int16), so both operands are
// widened to int16 and vpmaddwd sums pairs into int32: the exact integer sums
// of the VNNI kernel. 16 multiply-adds per vpmaddwd + vpaddd against 8 per
// FMA, but on Zen 3 the pair issues at 0.65x the FMA rate: ~1.3x the f32
// kernel (a vpmaddubsw kernel is faster but saturates, see gemm_test).
// a: the M rows' u8 activation pairs as int16 pairs, interleaved, a[p * M + i]
// = pair p of row i; b: s8 weight pairs [kpairs][16 columns][2], widened on
// load (vpmovsxbw). With zero points z_i:
// y = (acc - z_i colsum) * xscale_i * wscale + bias, over the whole k.
// 6 rows: 12 accumulators, 2 for B, a broadcast and a product, all 16 ymm.

// acc += madd(a, b), in asm: with the intrinsics GCC 12 stores every
// accumulator to the stack on each step (as with vpdpbusd in linear_avx512.cc).
inline __m256i madd_add(__m256i acc, __m256i a, __m256i b) {
  __m256i t;
  __asm__("vpmaddwd %3, %2, %1\n\tvpaddd %1, %0, %0" : "+x"(acc), "=&x"(t) : "x"(a), "x"(b));
  return acc;
}

template <int M>
void kernel_i8(const int32_t* a, const int8_t* b, size_t kpairs, float* c, size_t ldc,
               size_t cols, const float* xscale, const int32_t* xzero, const int32_t* colsum,
               const float* wscale, const float* bias, Epilogue ep) {
  __m256i acc0[M], acc1[M];
  for (int i = 0; i < M; ++i) acc0[i] = acc1[i] = _mm256_setzero_si256();
  for (size_t p = 0; p < kpairs; ++p) {
    const __m256i b0 = _mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(b + p * 2 * kNr)));
    const __m256i b1 = _mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(b + p * 2 * kNr + 16)));
    const int32_t* ap = a + p * M;
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i) {
      const __m256i av = _mm256_set1_epi32(ap[i]);
      acc0[i] = madd_add(acc0[i], av, b0);
      acc1[i] = madd_add(acc1[i], av, b1);
    }
  }
  const bool full = cols == kNr;
  const __m256i m0 = V::mask(cols), m1 = V::mask(cols > 8 ? cols - 8 : 0);
  const __m256i cs0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(colsum));
  const __m256i cs1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(colsum + 8));
  const __m256 ws0 = _mm256_loadu_ps(wscale), ws1 = _mm256_loadu_ps(wscale + 8);
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i) {
    const __m256 xs = _mm256_set1_ps(xscale[i]);
    const __m256i z = _mm256_set1_epi32(xzero[i]);
    const __m256i s0 = _mm256_sub_epi32(acc0[i], _mm256_mullo_epi32(z, cs0));
    const __m256i s1 = _mm256_sub_epi32(acc1[i], _mm256_mullo_epi32(z, cs1));
    const __m256 c0 = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(s0), xs), ws0);
    const __m256 c1 = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(s1), xs), ws1);
    if (full) {
      _mm256_storeu_ps(c + i * ldc, c0);
      _mm256_storeu_ps(c + i * ldc + 8, c1);
    } else {
      _mm256_maskstore_ps(c + i * ldc, m0, c0);
      _mm256_maskstore_ps(c + i * ldc + 8, m1, c1);
    }
  }
  if (bias || ep == Epilogue::Gelu) finish_rows(c, ldc, M, cols, bias, ep);
}

using I8Kernel = void (*)(const int32_t*, const int8_t*, size_t, float*, size_t, size_t,
                          const float*, const int32_t*, const int32_t*, const float*, const float*,
                          Epilogue);
template <size_t... I>
constexpr auto i8_table(std::index_sequence<I...>) {
  return std::array<I8Kernel, sizeof...(I)>{&kernel_i8<static_cast<int>(I) + 1>...};
}
constexpr auto kI8Kernels = i8_table(std::make_index_sequence<kMr>());

// Asymmetric u8, the same operations as quantize_row_u8 in linear.cc (the
// range [min(x, 0), max(x, 0)] in 255 steps, zero point round(-lo / s)), written
// as int16 pairs: out[p] = q[2p] | q[2p + 1] << 16, p < kp / 2; elements
// [k, kp) are the zero point.
void quantize_row_u8_pairs(const float* x, size_t k, size_t kp, int32_t* out, size_t stride,
                           float* scale, int32_t* zero) {
  __m256 vlo = _mm256_setzero_ps(), vhi = _mm256_setzero_ps();
  for (size_t p = 0; p < k; p += 8) {
    const __m256 v = V::load_n(x + p, k - p);  // zeros past k: the range includes 0 anyway
    vlo = _mm256_min_ps(vlo, v);
    vhi = _mm256_max_ps(vhi, v);
  }
  alignas(32) float tlo[8], thi[8];
  _mm256_store_ps(tlo, vlo);
  _mm256_store_ps(thi, vhi);
  float lo = 0.0f, hi = 0.0f;
  for (int l = 0; l < 8; ++l) {
    lo = tlo[l] < lo ? tlo[l] : lo;
    hi = thi[l] > hi ? thi[l] : hi;
  }
  const float s = (hi - lo) / 255.0f;
  const float inv_s = s > 0.0f ? 1.0f / s : 0.0f;
  float z = __builtin_nearbyintf(-lo * inv_s);
  z = z < 0.0f ? 0.0f : z > 255.0f ? 255.0f : z;
  *scale = s;
  *zero = static_cast<int32_t>(z);
  const __m256 inv = _mm256_set1_ps(inv_s);
  const __m256i vz = _mm256_set1_epi32(static_cast<int32_t>(z));
  const __m256i qlo = _mm256_setzero_si256(), qhi = _mm256_set1_epi32(255);
  alignas(32) int32_t q[8];
  for (size_t p = 0; p < kp; p += 8) {
    // Past k the loaded zeros quantize to the zero point.
    __m256i v = _mm256_cvtps_epi32(_mm256_mul_ps(V::load_n(x + p, p < k ? k - p : 0), inv));
    v = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(v, vz), qlo), qhi);
    if (kp - p >= 8) {
      // 8 values (0..255) as 8 uint16 = 4 pairs, stored a row apart.
      const __m128i pk = _mm_packus_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
      int32_t* o = out + (p / 2) * stride;
      o[0] = _mm_cvtsi128_si32(pk);
      o[stride] = _mm_extract_epi32(pk, 1);
      o[2 * stride] = _mm_extract_epi32(pk, 2);
      o[3 * stride] = _mm_extract_epi32(pk, 3);
      continue;
    }
    _mm256_store_si256(reinterpret_cast<__m256i*>(q), v);
    const size_t pairs = (kp - p) / 2;
    for (size_t t = 0; t < pairs; ++t) out[(p / 2 + t) * stride] = q[2 * t] | q[2 * t + 1] << 16;
  }
}

}  // namespace

void gemm_i8_avx2_tile(const GemmArgs& g, size_t m0, size_t m1, size_t n0, size_t n1,
                       void* scratch) {
  const size_t k = g.k, kp = (k + 1) / 2 * 2, kpairs = kp / 2, np = (g.n + kNr - 1) / kNr * kNr;
  const size_t rows = m1 - m0;
  const int8_t* wp = static_cast<const int8_t*>(g.w);
  const int32_t* colsum = reinterpret_cast<const int32_t*>(wp + np * kp);
  const float* wscale = reinterpret_cast<const float*>(colsum + np);
  // Scratch: per-row scales and zero points, then the tile's rows as int16
  // pairs interleaved by micro-row block (see kernel_i8).
  uint8_t* s8 = static_cast<uint8_t*>(scratch);
  float* xscale = reinterpret_cast<float*>(s8);
  int32_t* xzero = reinterpret_cast<int32_t*>(s8 + (rows * 4 + 63) / 64 * 64);
  int32_t* xa = reinterpret_cast<int32_t*>(s8 + 2 * ((rows * 4 + 63) / 64 * 64));
  for (size_t i = m0; i < m1; ++i) {
    // Block bi = (i - m0) / kMr holds [kpairs][mr] pairs.
    const size_t bi = (i - m0) / kMr * kMr, mr = rows - bi < kMr ? rows - bi : kMr;
    quantize_row_u8_pairs(g.x + i * g.ldx, k, kp, xa + bi * kpairs + (i - m0 - bi), mr,
                          &xscale[i - m0], &xzero[i - m0]);
  }
  // The tile may span all of W's columns (run_gemm gives this kernel whole
  // rows of y when there are enough row tiles, so x is quantized once): W in
  // blocks of kI8Nc columns (k x kI8Nc bytes, ~400 KB for k = 1536), each
  // read from L2 by every micro-row block.
  for (size_t jb = n0; jb < n1; jb += kI8Nc) {
    const size_t je = n1 - jb < kI8Nc ? n1 : jb + kI8Nc;
    for (size_t i = m0; i < m1; i += kMr) {
      const size_t mr = m1 - i < kMr ? m1 - i : kMr;
      const I8Kernel kern = kI8Kernels[mr - 1];
      for (size_t j = jb; j < je; j += kNr) {
        const size_t cols = je - j < kNr ? je - j : kNr;
        kern(xa + (i - m0) * kpairs, wp + j * kp, kpairs, g.y + i * g.ldy + j, g.ldy, cols,
             xscale + (i - m0), xzero + (i - m0), colsum + j, wscale + j,
             g.bias ? g.bias + j : nullptr, g.ep);
      }
    }
  }
}

void gemm_f32_avx2_tile(const GemmArgs& g, size_t m0, size_t m1, size_t n0, size_t n1, void*) {
  const float* wp = static_cast<const float*>(g.w);
  const size_t k = g.k;
  const size_t nkc = (k + kKc - 1) / kKc;
  const size_t kc_step = (k + nkc - 1) / nkc;
  for (size_t k0 = 0; k0 < k; k0 += kc_step) {
    const size_t kc = k - k0 < kc_step ? k - k0 : kc_step;
    const bool first = k0 == 0, last = k0 + kc == k;
    for (size_t i = m0; i < m1; i += kMr) {
      const size_t mr = m1 - i < kMr ? m1 - i : kMr;
      const F32Kernel kern = kF32Kernels[mr - 1];
      for (size_t j = n0; j < n1; j += kNr) {
        const size_t cols = n1 - j < kNr ? n1 - j : kNr;
        kern(g.x + i * g.ldx + k0, g.ldx, wp + j * k + k0 * kNr, kc, g.y + i * g.ldy + j, g.ldy,
             cols, first, last, g.bias ? g.bias + j : nullptr, g.ep);
      }
    }
  }
}

void gelu_avx2(float* y, size_t n) { simd::gelu_inplace<V>(y, n); }

void add_layer_norm_rows_avx2(const float* x, const float* residual, const float* gamma,
                              const float* beta, float eps, float* y, size_t m0, size_t m1,
                              size_t n) {
  simd::add_layer_norm_rows<V>(x, residual, gamma, beta, eps, y, m0, m1, n);
}

void attention_head_avx2(const AttentionArgs& a, size_t r0, size_t len, size_t h,
                         float* scratch) {
  simd::attention_head<V>(a, r0, len, h, scratch);
}

}  // namespace keel::kernels::detail
