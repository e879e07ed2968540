// AVX2 + FMA forms of the decoder primitives; called only when kernel_isa()
// says the CPU runs AVX2 (decoder_ops.cc).
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/decoder_ops.h"
#include "kernels/exp_sum.h"
#include "kernels/simd_avx2.h"
#include "kernels/simd_ops.h"

namespace keel::kernels::detail {
namespace {

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline float hmax(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

}  // namespace

float dot_avx2(const float* a, const float* b, size_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  float s = hsum(_mm256_add_ps(s0, s1));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

void axpy_avx2(float a, const float* x, float* y, size_t n) {
  const __m256 va = _mm256_set1_ps(a);
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += a * x[i];
}

float sum_squares_avx2(const float* x, size_t n) { return dot_avx2(x, x, n); }

void silu_mul_avx2(float* gate, const float* up, size_t n) {
  using V = avx2::Vec;
  size_t i = 0;
  const __m256 one = _mm256_set1_ps(1.0f);
  for (; i + 8 <= n; i += 8) {
    const __m256 g = _mm256_loadu_ps(gate + i);
    const __m256 e = simd::exp<V>(_mm256_sub_ps(_mm256_setzero_ps(), g));  // e^-g
    const __m256 s = _mm256_div_ps(g, _mm256_add_ps(one, e));
    _mm256_storeu_ps(gate + i, _mm256_mul_ps(s, _mm256_loadu_ps(up + i)));
  }
  for (; i < n; ++i) gate[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

namespace {

// 8 cache values as f32: f32 or f16 (F16C) storage.
inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
inline __m256 load8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

template <class T>
float dot_q(const float* q, const T* k, size_t n) {  // n a multiple of 8
  __m256 acc = _mm256_setzero_ps();
  for (size_t d = 0; d < n; d += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), load8(k + d), acc);
  return hsum(acc);
}

// The 8 horizontal sums of a[0..7], in order, in one vector.
inline __m256 hsum8(const __m256* a) {
  const __m256 t0 = _mm256_hadd_ps(a[0], a[1]), t1 = _mm256_hadd_ps(a[2], a[3]);
  const __m256 t2 = _mm256_hadd_ps(a[4], a[5]), t3 = _mm256_hadd_ps(a[6], a[7]);
  const __m256 u0 = _mm256_hadd_ps(t0, t1), u1 = _mm256_hadd_ps(t2, t3);
  return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

// scores[g * n_ctx + j] = q_g . k_j for 8 rows j0..j0+7 and every head g: the
// 8 rows (8 x head_dim floats) stay in L1 while the heads go over them.
template <class T>
inline void scores_8_rows(const float* q, size_t group, const T* k, size_t ld_kv, size_t j0,
                          size_t n_ctx, size_t head_dim, float* scores) {
  const T* kj = k + j0 * ld_kv;
  constexpr size_t kLine = 64 / sizeof(T);  // values per cache line
  // The next block's rows: in decode they come from DRAM (or L3). With the
  // cache head by head, asking a block ahead measured within noise of the
  // hardware prefetchers alone; kept for callers with strided rows.
  if (j0 + 16 <= n_ctx)
    for (int r = 0; r < 8; ++r)
      for (size_t d = 0; d < head_dim; d += kLine)
        _mm_prefetch(reinterpret_cast<const char*>(kj + (8 + r) * ld_kv + d), _MM_HINT_T0);
  for (size_t g = 0; g < group; ++g) {
    const float* qg = q + g * head_dim;
    __m256 acc[8];
    for (int r = 0; r < 8; ++r) acc[r] = _mm256_setzero_ps();
    for (size_t d = 0; d < head_dim; d += 8) {
      const __m256 qv = _mm256_loadu_ps(qg + d);
      for (int r = 0; r < 8; ++r) acc[r] = _mm256_fmadd_ps(qv, load8(kj + r * ld_kv + d), acc[r]);
    }
    _mm256_storeu_ps(scores + g * n_ctx + j0, hsum8(acc));
  }
}

// out_g[dc .. dc + 8 NV) += sum_{j in [j0, j1)} p_g[j] v_j[dc ..]: a block of V
// rows read from L1 once per head, the head's outputs in registers.
template <int NV, class T>
void accumulate_v(const float* p, size_t group, const T* v, size_t ld_kv, size_t j0, size_t j1,
                  size_t n_ctx, size_t head_dim, size_t dc, float* out) {
  for (size_t g = 0; g < group; ++g) {
    // The first head pulls the block's rows in; ask for each row 8 ahead.
    const bool fetch = g == 0;
    const float* pg = p + g * n_ctx;
    float* og = out + g * head_dim + dc;
    __m256 acc[NV];
    for (int i = 0; i < NV; ++i) acc[i] = _mm256_loadu_ps(og + 8 * i);
    for (size_t j = j0; j < j1; ++j) {
      const __m256 pj = _mm256_broadcast_ss(pg + j);
      const T* vj = v + j * ld_kv + dc;
      if (fetch && j + 8 < n_ctx)
        for (int i = 0; i < NV; i += 64 / (8 * static_cast<int>(sizeof(T))))
          _mm_prefetch(reinterpret_cast<const char*>(vj + 8 * ld_kv + 8 * i), _MM_HINT_T0);
      for (int i = 0; i < NV; ++i) acc[i] = _mm256_fmadd_ps(pj, load8(vj + 8 * i), acc[i]);
    }
    for (int i = 0; i < NV; ++i) _mm256_storeu_ps(og + 8 * i, acc[i]);
  }
}

template <class T>
void attend_group_impl(const float* q, size_t group, const T* k, const T* v, size_t ld_kv,
                       size_t n_ctx, size_t head_dim, float scale, float* scores, float* out,
                       size_t tokens = 1) {
  // `group` rows from here on: the heads of `tokens` consecutive positions;
  // row r sees keys [0, n_ctx - tokens + 1 + r / heads) (causal).
  const size_t heads = group;
  group *= tokens;
  // Raw dot products; the scale goes into the exponent (scale > 0).
  size_t j = 0;
  for (; j + 8 <= n_ctx; j += 8) scores_8_rows(q, group, k, ld_kv, j, n_ctx, head_dim, scores);
  for (; j < n_ctx; ++j)
    for (size_t g = 0; g < group; ++g) scores[g * n_ctx + j] = dot_q(q + g * head_dim, k + j * ld_kv, head_dim);
  // Softmax numerators in place (zeros past a row's window), and each row's 1 / sum.
  float inv[64];
  float* inv_sum = group <= 64 ? inv : nullptr;
  std::vector<float> inv_big;
  if (!inv_sum) inv_big.resize(group), inv_sum = inv_big.data();
  for (size_t g = 0; g < group; ++g) {
    float* sg = scores + g * n_ctx;
    const size_t n = n_ctx - (tokens - 1 - g / heads);
    __m256 m = _mm256_set1_ps(-INFINITY);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) m = _mm256_max_ps(m, _mm256_loadu_ps(sg + i));
    float mx = hmax(m);
    for (; i < n; ++i) mx = std::max(mx, sg[i]);
    inv_sum[g] = static_cast<float>(1.0 / exp_shifted_sum(sg, sg, n, mx, scale));
    for (i = n; i < n_ctx; ++i) sg[i] = 0.0f;
  }
  for (size_t i = 0; i < group * head_dim; ++i) out[i] = 0.0f;
  // P V over blocks of 64 rows (64 x 64 floats = 16 KiB of V per block).
  constexpr size_t kRows = 64;
  for (size_t dc = 0; dc < head_dim; dc += 64) {
    const size_t nv = std::min<size_t>(8, (head_dim - dc) / 8);
    for (size_t j0 = 0; j0 < n_ctx; j0 += kRows) {
      const size_t j1 = std::min(n_ctx, j0 + kRows);
      switch (nv) {
        case 8: accumulate_v<8, T>(scores, group, v, ld_kv, j0, j1, n_ctx, head_dim, dc, out); break;
        case 7: accumulate_v<7, T>(scores, group, v, ld_kv, j0, j1, n_ctx, head_dim, dc, out); break;
        case 6: accumulate_v<6, T>(scores, group, v, ld_kv, j0, j1, n_ctx, head_dim, dc, out); break;
        case 5: accumulate_v<5, T>(scores, group, v, ld_kv, j0, j1, n_ctx, head_dim, dc, out); break;
        case 4: accumulate_v<4, T>(scores, group, v, ld_kv, j0, j1, n_ctx, head_dim, dc, out); break;
        case 3: accumulate_v<3, T>(scores, group, v, ld_kv, j0, j1, n_ctx, head_dim, dc, out); break;
        case 2: accumulate_v<2, T>(scores, group, v, ld_kv, j0, j1, n_ctx, head_dim, dc, out); break;
        default: accumulate_v<1, T>(scores, group, v, ld_kv, j0, j1, n_ctx, head_dim, dc, out); break;
      }
    }
  }
  for (size_t g = 0; g < group; ++g) {
    const __m256 s = _mm256_set1_ps(inv_sum[g]);
    float* og = out + g * head_dim;
    for (size_t d = 0; d < head_dim; d += 8) _mm256_storeu_ps(og + d, _mm256_mul_ps(s, _mm256_loadu_ps(og + d)));
  }
}

}  // namespace

void attend_group_avx2(const float* q, size_t group, const float* k, const float* v, size_t ld_kv,
                       size_t n_ctx, size_t head_dim, float scale, float* scores, float* out) {
  attend_group_impl(q, group, k, v, ld_kv, n_ctx, head_dim, scale, scores, out);
}

void attend_group_f16kv_avx2(const float* q, size_t group, const uint16_t* k, const uint16_t* v, size_t ld_kv,
                             size_t n_ctx, size_t head_dim, float scale, float* scores, float* out) {
  attend_group_impl(q, group, k, v, ld_kv, n_ctx, head_dim, scale, scores, out);
}

void attend_group_causal_avx2(const float* q, size_t tokens, size_t group, const float* k, const float* v,
                              size_t ld_kv, size_t n_ctx, size_t head_dim, float scale, float* scores, float* out) {
  attend_group_impl(q, group, k, v, ld_kv, n_ctx, head_dim, scale, scores, out, tokens);
}

void attend_group_causal_f16kv_avx2(const float* q, size_t tokens, size_t group, const uint16_t* k,
                                    const uint16_t* v, size_t ld_kv, size_t n_ctx, size_t head_dim, float scale,
                                    float* scores, float* out) {
  attend_group_impl(q, group, k, v, ld_kv, n_ctx, head_dim, scale, scores, out, tokens);
}

}  // namespace keel::kernels::detail
