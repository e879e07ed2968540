// Kernels written once over a vector type V (simd_avx512.h, simd_avx2.h) and
// instantiated in each ISA's translation unit: exp, erf/GELU, LayerNorm rows,
// one attention head. Include only from *_avx2.cc / *_avx512.cc.
#pragma once

#include <immintrin.h>

#include <cmath>
#include <cstddef>

#include "kernels/internal.h"

namespace keel::kernels::simd {

// e^x, relative error ~2e-7: x = n ln2 + r, |r| <= ln2/2, e^r by its degree-7
// Taylor polynomial (truncation < 1e-8), 2^n by exponent arithmetic.
// Inputs below -87 give ~e^-87 instead of 0 (harmless in softmax).
template <class V>
inline typename V::R exp(typename V::R x) {
  x = V::max(x, V::set1(-87.0f));
  x = V::min(x, V::set1(88.0f));
  const typename V::R n = V::round(V::mul(x, V::set1(1.44269504088896341f)));
  typename V::R r = V::fma(n, V::set1(-0.693145751953125f), x);
  r = V::fma(n, V::set1(-1.428606765330187e-06f), r);
  typename V::R p = V::set1(1.0f / 5040.0f);
  p = V::fma(p, r, V::set1(1.0f / 720.0f));
  p = V::fma(p, r, V::set1(1.0f / 120.0f));
  p = V::fma(p, r, V::set1(1.0f / 24.0f));
  p = V::fma(p, r, V::set1(1.0f / 6.0f));
  p = V::fma(p, r, V::set1(0.5f));
  p = V::fma(p, r, V::set1(1.0f));
  p = V::fma(p, r, V::set1(1.0f));
  return V::mul_pow2(p, n);
}

// erf(x) from the piecewise polynomials in internal.h (|error| < 2e-7).
template <class V>
inline typename V::R erf(typename V::R x) {
  using R = typename V::R;
  const R a = V::min(V::abs(x), V::set1(4.0f));
  const R u1 = V::fma(V::set1(2.0f), V::mul(a, a), V::set1(-1.0f));
  R p1 = V::set1(detail::kErfP1[detail::kErfP1Degree]);
  for (int i = detail::kErfP1Degree - 1; i >= 0; --i) p1 = V::fma(p1, u1, V::set1(detail::kErfP1[i]));
  const R u2 = V::fma(a, V::set1(2.0f / 3.0f), V::set1(-5.0f / 3.0f));
  R p2 = V::set1(detail::kErfP2[detail::kErfP2Degree]);
  for (int i = detail::kErfP2Degree - 1; i >= 0; --i) p2 = V::fma(p2, u2, V::set1(detail::kErfP2[i]));
  // |x| >= 4 is exactly +-1 in float; the clamped polynomial is 1 - 4e-8.
  const R big = V::select_le(V::set1(4.0f), a, V::set1(1.0f), V::min(p2, V::set1(1.0f)));
  const R r = V::select_le(a, V::set1(1.0f), V::mul(a, p1), big);
  return V::copysign(r, x);
}

template <class V>
inline typename V::R gelu(typename V::R x) {
  const typename V::R e = erf<V>(V::mul(x, V::set1(0.70710678118654752f)));
  return V::mul(V::mul(V::set1(0.5f), x), V::add(V::set1(1.0f), e));
}

template <class V>
void gelu_inplace(float* y, size_t n) {
  size_t i = 0;
  for (; i + V::W <= n; i += V::W) V::store(y + i, gelu<V>(V::load(y + i)));
  if (i < n) V::store_n(y + i, gelu<V>(V::load_n(y + i, n - i)), n - i);
}

template <class V>
void add_layer_norm_rows(const float* x, const float* residual, const float* gamma,
                         const float* beta, float eps, float* y, size_t m0, size_t m1, size_t n) {
  using R = typename V::R;
  constexpr size_t W = V::W;
  const size_t nv = n / W * W, tail = n - nv;
  for (size_t i = m0; i < m1; ++i) {
    const float* xi = x + i * n;
    const float* ri = residual ? residual + i * n : nullptr;
    float* yi = y + i * n;
    R s0 = V::zero(), s1 = V::zero();
    size_t j = 0;
    for (; j < nv; j += W) {
      R t = V::load(xi + j);
      if (ri) t = V::add(t, V::load(ri + j));
      V::store(yi + j, t);
      s0 = V::add(s0, t);
    }
    if (tail) {
      R t = V::load_n(xi + j, tail);
      if (ri) t = V::add(t, V::load_n(ri + j, tail));
      V::store_n(yi + j, t, tail);
      s1 = t;
    }
    const float mean = V::reduce_add(V::add(s0, s1)) / static_cast<float>(n);
    const R vm = V::set1(mean);
    R q0 = V::zero();
    for (j = 0; j < nv; j += W) {
      const R d = V::sub(V::load(yi + j), vm);
      q0 = V::fma(d, d, q0);
    }
    float var = V::reduce_add(q0);
    for (size_t t = nv; t < n; ++t) var += (yi[t] - mean) * (yi[t] - mean);
    var /= static_cast<float>(n);
    const R inv = V::set1(1.0f / V::sqrt1(var + eps));
    for (j = 0; j < nv; j += W) {
      const R d = V::mul(V::sub(V::load(yi + j), vm), inv);
      V::store(yi + j, V::fma(d, V::load(gamma + j), V::load(beta + j)));
    }
    if (tail) {
      const R d = V::mul(V::sub(V::load_n(yi + j, tail), vm), inv);
      V::store_n(yi + j, V::fma(d, V::load_n(gamma + j, tail), V::load_n(beta + j, tail)), tail);
    }
  }
}

// kt[t * ldt + j] = k[j * ldk + t] for j < len, t < d: K^T of one head, so
// that the scores loop reads 8 or 16 keys per vector. 8 x 8 blocks go through
// ymm registers (both ISA units have AVX2); element by element, the strided
// stores cost a quarter of a MiniLM attention head.
inline void transpose_keys(const float* k, size_t ldk, size_t len, size_t d, float* kt,
                           size_t ldt) {
  size_t j = 0;
  for (; j + 8 <= len; j += 8) {
    const float* kj = k + j * ldk;
    size_t t = 0;
    for (; t + 8 <= d; t += 8) {
      __m256 r[8], u[8];
      for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(kj + i * ldk + t);
      for (int i = 0; i < 8; i += 2) {
        u[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);      // a0 b0 a1 b1 | a4 b4 a5 b5
        u[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);  // a2 b2 a3 b3 | a6 b6 a7 b7
      }
      for (int i = 0; i < 8; i += 4) {
        r[i] = _mm256_shuffle_ps(u[i], u[i + 2], 0x44);      // a0 b0 c0 d0 | a4 ..
        r[i + 1] = _mm256_shuffle_ps(u[i], u[i + 2], 0xEE);  // a1 b1 c1 d1 | a5 ..
        r[i + 2] = _mm256_shuffle_ps(u[i + 1], u[i + 3], 0x44);
        r[i + 3] = _mm256_shuffle_ps(u[i + 1], u[i + 3], 0xEE);
      }
      for (int i = 0; i < 4; ++i) {
        _mm256_storeu_ps(kt + (t + i) * ldt + j, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
        _mm256_storeu_ps(kt + (t + i + 4) * ldt + j, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
      }
    }
    for (; t < d; ++t) {
      for (size_t i = 0; i < 8; ++i) kt[t * ldt + j + i] = kj[i * ldk + t];
    }
  }
  for (; j < len; ++j) {
    for (size_t t = 0; t < d; ++t) kt[t * ldt + j] = k[j * ldk + t];
  }
}

// One (sequence, head) of attention, flash style: K^T of the head is packed
// into scratch once; then for each block of kQ query rows, key blocks of kK
// keys are scored (kQ x kK in L1), folded into a running max / sum (online
// softmax) and accumulated into the output rows. The len x len score matrix
// is never formed. Short sequences only touch the vectors their keys fill.
template <class V>
void attention_head(const detail::AttentionArgs& a, size_t r0, size_t len, size_t h,
                    float* scratch) {
  using R = typename V::R;
  constexpr size_t W = V::W;
  constexpr size_t kK = detail::kAttentionKeyBlock, kQ = detail::kAttentionQueryBlock;
  const size_t d = a.head_dim, col = h * d;
  const size_t lp = (len + kK - 1) / kK * kK;
  float* kt = scratch;              // [d][lp]
  float* pb = kt + d * lp;          // [kQ][kK] scores, then probabilities
  float* ob = pb + kQ * kK;         // [kQ][d] unnormalized outputs

  transpose_keys(a.k + r0 * a.ld_qkv + col, a.ld_qkv, len, d, kt, lp);
  for (size_t t = 0; t < d; ++t) {
    for (size_t j = len; j < lp; ++j) kt[t * lp + j] = 0.0f;
  }

  for (size_t i0 = 0; i0 < len; i0 += kQ) {
    const size_t qb = len - i0 < kQ ? len - i0 : kQ;
    const float* qrow[kQ];
    for (size_t qi = 0; qi < kQ; ++qi) {
      // Rows past the sequence repeat its last row; their results are dropped.
      qrow[qi] = a.q + (r0 + i0 + (qi < qb ? qi : qb - 1)) * a.ld_qkv + col;
    }
    float mrow[kQ], lrow[kQ];
    for (size_t qi = 0; qi < kQ; ++qi) {
      mrow[qi] = -INFINITY;
      lrow[qi] = 0.0f;
      for (size_t t = 0; t < d; ++t) ob[qi * d + t] = 0.0f;
    }
    for (size_t j0 = 0; j0 < len; j0 += kK) {
      const size_t nvalid = len - j0 < kK ? len - j0 : kK;
      const size_t nvec = (nvalid + W - 1) / W;
      // Scores: pb[qi][jj] = q_qi . k_(j0+jj), one key vector at a time.
      for (size_t v = 0; v < nvec; ++v) {
        R acc[kQ];
        for (size_t qi = 0; qi < kQ; ++qi) acc[qi] = V::zero();
        const float* kp = kt + j0 + v * W;
        for (size_t t = 0; t < d; ++t) {
          const R kv = V::load(kp + t * lp);
          for (size_t qi = 0; qi < kQ; ++qi) acc[qi] = V::fma(V::set1(qrow[qi][t]), kv, acc[qi]);
        }
        for (size_t qi = 0; qi < kQ; ++qi) V::store(pb + qi * kK + v * W, acc[qi]);
      }
      // Online softmax over this block.
      const R sc = V::set1(a.scale);
      for (size_t qi = 0; qi < kQ; ++qi) {
        float* row = pb + qi * kK;
        for (size_t v = 0; v < nvec; ++v) V::store(row + v * W, V::mul(V::load(row + v * W), sc));
        for (size_t jj = nvalid; jj < nvec * W; ++jj) row[jj] = -INFINITY;
        R mx = V::load(row);
        for (size_t v = 1; v < nvec; ++v) mx = V::max(mx, V::load(row + v * W));
        const float bmax = V::reduce_max(mx);
        const float mnew = bmax > mrow[qi] ? bmax : mrow[qi];
        const R vm = V::set1(mnew);
        R sum = V::zero();
        for (size_t v = 0; v < nvec; ++v) {
          const R sv = V::load(row + v * W);
          const R p = V::select_le(sv, V::set1(-INFINITY), V::zero(), exp<V>(V::sub(sv, vm)));
          V::store(row + v * W, p);
          sum = V::add(sum, p);
        }
        // mrow == -inf only before the first block: nothing accumulated yet.
        const float corr = mrow[qi] == -INFINITY
                               ? 0.0f
                               : V::reduce_max(exp<V>(V::set1(mrow[qi] - mnew)));
        lrow[qi] = lrow[qi] * corr + V::reduce_add(sum);
        mrow[qi] = mnew;
        if (corr != 1.0f) {
          const R vc = V::set1(corr);
          size_t t = 0;
          for (; t + W <= d; t += W) V::store(ob + qi * d + t, V::mul(V::load(ob + qi * d + t), vc));
          for (; t < d; ++t) ob[qi * d + t] *= corr;
        }
      }
      // ob[qi] += sum_jj p[qi][jj] * v_(j0+jj)
      const float* vbase = a.v + (r0 + j0) * a.ld_qkv + col;
      for (size_t t = 0; t < d; t += W) {
        const size_t nw = d - t < W ? d - t : W;
        R acc[kQ];
        // Masked forms only for a partial vector: AVX2's masked stores are
        // microcoded on AMD cores.
        if (nw == W) {
          for (size_t qi = 0; qi < kQ; ++qi) acc[qi] = V::load(ob + qi * d + t);
          for (size_t jj = 0; jj < nvalid; ++jj) {
            const R vv = V::load(vbase + jj * a.ld_qkv + t);
            for (size_t qi = 0; qi < kQ; ++qi) acc[qi] = V::fma(V::set1(pb[qi * kK + jj]), vv, acc[qi]);
          }
          for (size_t qi = 0; qi < kQ; ++qi) V::store(ob + qi * d + t, acc[qi]);
        } else {
          for (size_t qi = 0; qi < kQ; ++qi) acc[qi] = V::load_n(ob + qi * d + t, nw);
          for (size_t jj = 0; jj < nvalid; ++jj) {
            const R vv = V::load_n(vbase + jj * a.ld_qkv + t, nw);
            for (size_t qi = 0; qi < kQ; ++qi) acc[qi] = V::fma(V::set1(pb[qi * kK + jj]), vv, acc[qi]);
          }
          for (size_t qi = 0; qi < kQ; ++qi) V::store_n(ob + qi * d + t, acc[qi], nw);
        }
      }
    }
    for (size_t qi = 0; qi < qb; ++qi) {
      float* o = a.out + (r0 + i0 + qi) * a.ld_out + col;
      const R inv = V::set1(1.0f / lrow[qi]);
      size_t t = 0;
      for (; t + W <= d; t += W) V::store(o + t, V::mul(V::load(ob + qi * d + t), inv));
      if (t < d) V::store_n(o + t, V::mul(V::load_n(ob + qi * d + t, d - t), inv), d - t);
    }
  }
}

}  // namespace keel::kernels::simd
