// AVX-512 kernels: f32 GEMM (vfmadd231ps), bf16 GEMM (vdpbf16ps), and the
// generic simd_ops.h kernels instantiated for 16 lanes.
//
// GEMM micro-kernel: C[kMr x 32] += A[kMr x kc] . B[kc x 32]. B is a packed
// panel (32 consecutive output columns, one 128-byte row per k), A is read in
// place (x rows, broadcast one element at a time), the 2*kMr accumulators stay
// in zmm registers for the whole kc block. Per k step: 2 vector loads, kMr
// broadcasts, 2*kMr FMAs.
//
// Blocking inside a tile (rows [m0, m1) x columns [n0, n1)): k in blocks of
// kKc so that one micro-row block of A (kMr x kKc floats, 18 KiB) stays in L1
// while the kernel walks the tile's B panels (kKc x (n1-n0), from L2).
#include <immintrin.h>

#include <array>
#include <utility>

#include "kernels/internal.h"
#include "kernels/simd_avx512.h"
#include "kernels/simd_ops.h"

namespace keel::kernels::detail {
namespace {

using V = avx512::Vec;
constexpr size_t kNr = kPanelAvx512;  // 32
constexpr size_t kMr = 12;
constexpr size_t kKc = 384;

struct Edge {
  __mmask16 m0, m1;
};
Edge edge_masks(size_t cols) {
  return {V::mask(cols), cols > 16 ? V::mask(cols - 16) : __mmask16(0)};
}

// Adds bias and applies the epilogue to the two accumulators of one row.
inline void finish(__m512& c0, __m512& c1, const float* bias, Edge e, Epilogue ep) {
  if (bias) {
    c0 = _mm512_add_ps(c0, _mm512_maskz_loadu_ps(e.m0, bias));
    c1 = _mm512_add_ps(c1, _mm512_maskz_loadu_ps(e.m1, bias + 16));
  }
  if (ep == Epilogue::Gelu) {
    c0 = simd::gelu<V>(c0);
    c1 = simd::gelu<V>(c1);
  }
}

// M rows of A (lda apart) x one 32-column panel over kc steps.
// first: C starts at 0 (else accumulate onto y); last: bias + epilogue.
template <int M>
void kernel_f32(const float* a, size_t lda, const float* b, size_t kc, float* c, size_t ldc,
                Edge e, bool first, bool last, const float* bias, Epilogue ep) {
  __m512 acc[M][2];
  if (first) {
    for (int i = 0; i < M; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  } else {
    for (int i = 0; i < M; ++i) {
      acc[i][0] = _mm512_maskz_loadu_ps(e.m0, c + i * ldc);
      acc[i][1] = _mm512_maskz_loadu_ps(e.m1, c + i * ldc + 16);
    }
  }
  for (size_t p = 0; p < kc; ++p) {
    const __m512 b0 = _mm512_load_ps(b + p * kNr);
    const __m512 b1 = _mm512_load_ps(b + p * kNr + 16);
    for (int i = 0; i < M; ++i) {
      const __m512 av = _mm512_set1_ps(a[i * lda + p]);
      acc[i][0] = _mm512_fmadd_ps(av, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(av, b1, acc[i][1]);
    }
  }
  for (int i = 0; i < M; ++i) {
    if (last) finish(acc[i][0], acc[i][1], bias, e, ep);
    _mm512_mask_storeu_ps(c + i * ldc, e.m0, acc[i][0]);
    _mm512_mask_storeu_ps(c + i * ldc + 16, e.m1, acc[i][1]);
  }
}

// acc += a . b over bf16 pairs. clang 16 crashes (segfault at -O2) on
// _mm512_dpbf16_ps when its operands are cast from integer vectors, so clang
// gets the instruction in asm; GCC keeps the intrinsic (better register use).
inline __m512 dpbf16(__m512 acc, __m512i a, __m512i b) {
#if defined(__clang__)
  __asm__("vdpbf16ps %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
  return acc;
#else
  return _mm512_dpbf16_ps(acc, (__m512bh)a, (__m512bh)b);
#endif
}

// The bf16 twin: a and b hold bf16 pairs (k, k+1); kc2 = number of pairs.
template <int M>
void kernel_bf16(const uint16_t* a, size_t lda, const uint16_t* b, size_t kc2, float* c,
                 size_t ldc, Edge e, bool first, bool last, const float* bias, Epilogue ep) {
  __m512 acc[M][2];
  if (first) {
    for (int i = 0; i < M; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
  } else {
    for (int i = 0; i < M; ++i) {
      acc[i][0] = _mm512_maskz_loadu_ps(e.m0, c + i * ldc);
      acc[i][1] = _mm512_maskz_loadu_ps(e.m1, c + i * ldc + 16);
    }
  }
  const uint32_t* a32 = reinterpret_cast<const uint32_t*>(a);
  const size_t lda32 = lda / 2;
  for (size_t p = 0; p < kc2; ++p) {
    const __m512i b0 = _mm512_load_si512(b + p * 2 * kNr);
    const __m512i b1 = _mm512_load_si512(b + p * 2 * kNr + 32);
    for (int i = 0; i < M; ++i) {
      const __m512i av = _mm512_set1_epi32(static_cast<int>(a32[i * lda32 + p]));
      acc[i][0] = dpbf16(acc[i][0], av, b0);
      acc[i][1] = dpbf16(acc[i][1], av, b1);
    }
  }
  for (int i = 0; i < M; ++i) {
    if (last) finish(acc[i][0], acc[i][1], bias, e, ep);
    _mm512_mask_storeu_ps(c + i * ldc, e.m0, acc[i][0]);
    _mm512_mask_storeu_ps(c + i * ldc + 16, e.m1, acc[i][1]);
  }
}

using F32Kernel = void (*)(const float*, size_t, const float*, size_t, float*, size_t, Edge, bool,
                           bool, const float*, Epilogue);
using Bf16Kernel = void (*)(const uint16_t*, size_t, const uint16_t*, size_t, float*, size_t, Edge,
                            bool, bool, const float*, Epilogue);

// acc += u8(a) . s8(b) in groups of 4 (vpdpbusd). In asm: with the intrinsic,
// GCC 12 copies every accumulator through another register and the stack on
// each step (the kernel ran at half its speed); the "+v" constraint keeps each
// accumulator in place.
inline __m512i dpbusd(__m512i acc, __m512i a, __m512i b) {
  __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
  return acc;
}

// The int8 twin. a: the M rows' u8 activation quads interleaved, a[p * M + i]
// = quad p of row i, so each step broadcasts straight from one pointer; b: s8
// weight quads; kq = number of quads. With zero points z_i:
// y = (acc - z_i colsum) * xscale_i * wscale + bias, over the whole k.
template <int M>
void kernel_i8(const int32_t* a, const int8_t* b, size_t kq, float* c, size_t ldc, Edge e,
               const float* xscale, const int32_t* xzero, const int32_t* colsum,
               const float* wscale, const float* bias, Epilogue ep) {
  __m512i acc0[M], acc1[M];
  for (int i = 0; i < M; ++i) acc0[i] = acc1[i] = _mm512_setzero_si512();
  for (size_t p = 0; p < kq; ++p) {
    const __m512i b0 = _mm512_load_si512(b + p * 4 * kNr);
    const __m512i b1 = _mm512_load_si512(b + p * 4 * kNr + 64);
    const int32_t* ap = a + p * M;
    for (int i = 0; i < M; ++i) {
      const __m512i av = _mm512_set1_epi32(ap[i]);
      acc0[i] = dpbusd(acc0[i], av, b0);
      acc1[i] = dpbusd(acc1[i], av, b1);
    }
  }
  const __m512i cs0 = _mm512_loadu_si512(colsum), cs1 = _mm512_loadu_si512(colsum + 16);
  const __m512 ws0 = _mm512_loadu_ps(wscale), ws1 = _mm512_loadu_ps(wscale + 16);
  for (int i = 0; i < M; ++i) {
    const __m512 xs = _mm512_set1_ps(xscale[i]);
    const __m512i z = _mm512_set1_epi32(xzero[i]);
    const __m512i s0 = _mm512_sub_epi32(acc0[i], _mm512_mullo_epi32(z, cs0));
    const __m512i s1 = _mm512_sub_epi32(acc1[i], _mm512_mullo_epi32(z, cs1));
    __m512 c0 = _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(s0), xs), ws0);
    __m512 c1 = _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(s1), xs), ws1);
    finish(c0, c1, bias, e, ep);
    _mm512_mask_storeu_ps(c + i * ldc, e.m0, c0);
    _mm512_mask_storeu_ps(c + i * ldc + 16, e.m1, c1);
  }
}

using I8Kernel = void (*)(const int32_t*, const int8_t*, size_t, float*, size_t, Edge,
                          const float*, const int32_t*, const int32_t*, const float*, const float*,
                          Epilogue);
template <size_t... I>
constexpr auto i8_table(std::index_sequence<I...>) {
  return std::array<I8Kernel, sizeof...(I)>{&kernel_i8<static_cast<int>(I) + 1>...};
}

template <size_t... I>
constexpr auto f32_table(std::index_sequence<I...>) {
  return std::array<F32Kernel, sizeof...(I)>{&kernel_f32<static_cast<int>(I) + 1>...};
}
template <size_t... I>
constexpr auto bf16_table(std::index_sequence<I...>) {
  return std::array<Bf16Kernel, sizeof...(I)>{&kernel_bf16<static_cast<int>(I) + 1>...};
}
constexpr auto kF32Kernels = f32_table(std::make_index_sequence<kMr>());
constexpr auto kBf16Kernels = bf16_table(std::make_index_sequence<kMr>());
constexpr auto kI8Kernels = i8_table(std::make_index_sequence<kMr>());

}  // namespace

void gemm_f32_avx512_tile(const GemmArgs& g, size_t m0, size_t m1, size_t n0, size_t n1, void*) {
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
             edge_masks(cols), first, last, g.bias ? g.bias + j : nullptr, g.ep);
      }
    }
  }
}

void gemm_bf16_avx512_tile(const GemmArgs& g, size_t m0, size_t m1, size_t n0, size_t n1,
                           void* scratch) {
  const uint16_t* wp = static_cast<const uint16_t*>(g.w);
  const size_t k = g.k, kp = (k + 1) / 2 * 2, k2 = kp / 2;
  // Convert this tile's rows of x to bf16 (round to nearest even), padded to kp.
  uint16_t* xa = static_cast<uint16_t*>(scratch);
  for (size_t i = m0; i < m1; ++i) {
    const float* xi = g.x + i * g.ldx;
    uint16_t* xo = xa + (i - m0) * kp;
    size_t p = 0;
    for (; p + 32 <= k; p += 32) {
      const __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(xi + p + 16), _mm512_loadu_ps(xi + p));
      _mm512_storeu_si512(xo + p, (__m512i)v);
    }
    if (p < kp) {
      const size_t r = k - p;
      const __m512 lo = _mm512_maskz_loadu_ps(V::mask(r), xi + p);
      const __m512 hi = _mm512_maskz_loadu_ps(r > 16 ? V::mask(r - 16) : __mmask16(0), xi + p + 16);
      const __m512bh v = _mm512_cvtne2ps_pbh(hi, lo);
      const size_t rp = kp - p;  // even, <= 32
      _mm512_mask_storeu_epi16(xo + p, rp >= 32 ? ~__mmask32(0) : (__mmask32(1) << rp) - 1,
                               (__m512i)v);
    }
  }
  constexpr size_t kKc2 = kKc;  // pairs per k block: 512 k values
  const size_t nkc = (k2 + kKc2 - 1) / kKc2;
  const size_t kc_step = (k2 + nkc - 1) / nkc;
  for (size_t k0 = 0; k0 < k2; k0 += kc_step) {
    const size_t kc = k2 - k0 < kc_step ? k2 - k0 : kc_step;
    const bool first = k0 == 0, last = k0 + kc == k2;
    for (size_t i = m0; i < m1; i += kMr) {
      const size_t mr = m1 - i < kMr ? m1 - i : kMr;
      const Bf16Kernel kern = kBf16Kernels[mr - 1];
      for (size_t j = n0; j < n1; j += kNr) {
        const size_t cols = n1 - j < kNr ? n1 - j : kNr;
        kern(xa + (i - m0) * kp + 2 * k0, kp, wp + j * kp + k0 * 2 * kNr, kc,
             g.y + i * g.ldy + j, g.ldy, edge_masks(cols), first, last,
             g.bias ? g.bias + j : nullptr, g.ep);
      }
    }
  }
}

// Asymmetric u8, the same operations as quantize_row_u8 in linear.cc: the
// range [min(x, 0), max(x, 0)] in 255 steps, zero point round(-lo / s).
// Elements [k, kp) are quantized zeros (the zero point).
void quantize_row_u8_avx512(const float* x, size_t k, size_t kp, uint8_t* q, float* scale, int32_t* zero) {
  __m512 vlo = _mm512_setzero_ps(), vhi = _mm512_setzero_ps();
  for (size_t p = 0; p < k; p += 16) {
    const __m512 v = V::load_n(x + p, k - p);  // zeros past k: the range includes 0 anyway
    vlo = _mm512_min_ps(vlo, v);
    vhi = _mm512_max_ps(vhi, v);
  }
  // (Lane by lane: GCC 12 warns inside _mm512_reduce_min_ps.)
  alignas(64) float tlo[16], thi[16];
  _mm512_store_ps(tlo, vlo);
  _mm512_store_ps(thi, vhi);
  float lo = 0.0f, hi = 0.0f;
  for (int l = 0; l < 16; ++l) {
    lo = tlo[l] < lo ? tlo[l] : lo;
    hi = thi[l] > hi ? thi[l] : hi;
  }
  const float s = (hi - lo) / 255.0f;
  const float inv_s = s > 0.0f ? 1.0f / s : 0.0f;
  float z = __builtin_nearbyintf(-lo * inv_s);
  z = z < 0.0f ? 0.0f : z > 255.0f ? 255.0f : z;
  *scale = s;
  *zero = static_cast<int32_t>(z);
  const __m512 inv = _mm512_set1_ps(inv_s);
  const __m512i vz = _mm512_set1_epi32(static_cast<int32_t>(z));
  const __m512i qlo = _mm512_setzero_si512(), qhi = _mm512_set1_epi32(255);
  for (size_t p = 0; p < kp; p += 16) {
    const size_t r = kp - p < 16 ? kp - p : 16;
    __m512i v = _mm512_cvt_roundps_epi32(_mm512_mul_ps(V::load_n(x + p, p < k ? k - p : 0), inv),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    v = _mm512_min_epi32(_mm512_max_epi32(_mm512_add_epi32(v, vz), qlo), qhi);
    _mm_mask_storeu_epi8(q + p, V::mask(r), _mm512_cvtepi32_epi8(v));
  }
}

void gemm_i8_avx512_tile(const GemmArgs& g, size_t m0, size_t m1, size_t n0, size_t n1,
                         void* scratch) {
  const size_t k = g.k, kp = (k + 3) / 4 * 4, kq = kp / 4, np = (g.n + kNr - 1) / kNr * kNr;
  const size_t rows = m1 - m0;
  const int8_t* wp = static_cast<const int8_t*>(g.w);
  const int32_t* colsum = reinterpret_cast<const int32_t*>(wp + np * kp);
  const float* wscale = reinterpret_cast<const float*>(colsum + np);
  // Scratch: per-row scales and zero points, one quantized row, then the tile's
  // rows quantized and interleaved by micro-row block (see kernel_i8).
  uint8_t* s8 = static_cast<uint8_t*>(scratch);
  float* xscale = reinterpret_cast<float*>(s8);
  int32_t* xzero = reinterpret_cast<int32_t*>(s8 + (rows * 4 + 63) / 64 * 64);
  uint8_t* row = s8 + 2 * ((rows * 4 + 63) / 64 * 64);
  int32_t* xa = reinterpret_cast<int32_t*>(row + (kp + 63) / 64 * 64);
  for (size_t i = m0; i < m1; ++i) {
    quantize_row_u8_avx512(g.x + i * g.ldx, k, kp, row, &xscale[i - m0], &xzero[i - m0]);
    // Interleave: block b = (i - m0) / kMr holds [kq][mr] quads.
    const size_t bi = (i - m0) / kMr * kMr, mr = rows - bi < kMr ? rows - bi : kMr;
    int32_t* dst = xa + bi * kq + (i - m0 - bi);
    const int32_t* src = reinterpret_cast<const int32_t*>(row);
    for (size_t p = 0; p < kq; ++p) dst[p * mr] = src[p];
  }
  for (size_t i = m0; i < m1; i += kMr) {
    const size_t mr = m1 - i < kMr ? m1 - i : kMr;
    const I8Kernel kern = kI8Kernels[mr - 1];
    for (size_t j = n0; j < n1; j += kNr) {
      const size_t cols = n1 - j < kNr ? n1 - j : kNr;
      kern(xa + (i - m0) * kq, wp + j * kp, kq, g.y + i * g.ldy + j, g.ldy, edge_masks(cols),
           xscale + (i - m0), xzero + (i - m0), colsum + j, wscale + j,
           g.bias ? g.bias + j : nullptr, g.ep);
    }
  }
}

void gelu_avx512(float* y, size_t n) { simd::gelu_inplace<V>(y, n); }

void add_layer_norm_rows_avx512(const float* x, const float* residual, const float* gamma,
                                const float* beta, float eps, float* y, size_t m0, size_t m1,
                                size_t n) {
  simd::add_layer_norm_rows<V>(x, residual, gamma, beta, eps, y, m0, m1, n);
}

void attention_head_avx512(const AttentionArgs& a, size_t r0, size_t len, size_t h,
                           float* scratch) {
  simd::attention_head<V>(a, r0, len, h, scratch);
}

}  // namespace keel::kernels::detail
