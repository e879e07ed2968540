// AVX2 + FMA kernels: f32 GEMM and the generic simd_ops.h kernels for 8 lanes.
// Same scheme as linear_avx512.cc with 16-column panels and a 6 x 16 micro-
// kernel (12 ymm accumulators, 2 for B, 1 broadcast: 15 of 16 registers).
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

template <int M>
void kernel_f32(const float* a, size_t lda, const float* b, size_t kc, float* c, size_t ldc,
                size_t cols, bool first, bool last, const float* bias, Epilogue ep) {
  __m256 acc[M][2];
  const bool full = cols == kNr;
  const __m256i m0 = V::mask(cols), m1 = V::mask(cols > 8 ? cols - 8 : 0);
  if (first) {
    for (int i = 0; i < M; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
  } else {
    for (int i = 0; i < M; ++i) {
      acc[i][0] = full ? _mm256_loadu_ps(c + i * ldc) : _mm256_maskload_ps(c + i * ldc, m0);
      acc[i][1] = full ? _mm256_loadu_ps(c + i * ldc + 8) : _mm256_maskload_ps(c + i * ldc + 8, m1);
    }
  }
  for (size_t p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_load_ps(b + p * kNr);
    const __m256 b1 = _mm256_load_ps(b + p * kNr + 8);
    for (int i = 0; i < M; ++i) {
      const __m256 av = _mm256_broadcast_ss(a + i * lda + p);
      acc[i][0] = _mm256_fmadd_ps(av, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(av, b1, acc[i][1]);
    }
  }
  for (int i = 0; i < M; ++i) {
    if (last) {
      if (bias) {
        acc[i][0] = _mm256_add_ps(acc[i][0], _mm256_maskload_ps(bias, m0));
        acc[i][1] = _mm256_add_ps(acc[i][1], _mm256_maskload_ps(bias + 8, m1));
      }
      if (ep == Epilogue::Gelu) {
        acc[i][0] = simd::gelu<V>(acc[i][0]);
        acc[i][1] = simd::gelu<V>(acc[i][1]);
      }
    }
    if (full) {
      _mm256_storeu_ps(c + i * ldc, acc[i][0]);
      _mm256_storeu_ps(c + i * ldc + 8, acc[i][1]);
    } else {
      _mm256_maskstore_ps(c + i * ldc, m0, acc[i][0]);
      _mm256_maskstore_ps(c + i * ldc + 8, m1, acc[i][1]);
    }
  }
}

using F32Kernel = void (*)(const float*, size_t, const float*, size_t, float*, size_t, size_t,
                           bool, bool, const float*, Epilogue);
template <size_t... I>
constexpr auto f32_table(std::index_sequence<I...>) {
  return std::array<F32Kernel, sizeof...(I)>{&kernel_f32<static_cast<int>(I) + 1>...};
}
constexpr auto kF32Kernels = f32_table(std::make_index_sequence<kMr>());

}  // namespace

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
