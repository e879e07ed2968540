#include "kernels/decoder_ops.h"

#include <algorithm>
#include <cmath>

#include "core/half.h"
#include "kernels/linear.h"

namespace keel::kernels {
namespace {

bool use_avx2() { return kernel_isa() != Isa::Scalar; }  // AVX-512 CPUs run the AVX2 forms

float dot_scalar(const float* a, const float* b, size_t n) {
  float s = 0.0f;
  for (size_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

}  // namespace

void rms_norm_scalar(const float* x, const float* w, float eps, float* y, size_t m, size_t n) {
  for (size_t r = 0; r < m; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    double ss = 0.0;
    for (size_t i = 0; i < n; ++i) ss += static_cast<double>(xr[i]) * xr[i];
    const float inv = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(n) + eps));
    for (size_t i = 0; i < n; ++i) yr[i] = xr[i] * inv * w[i];
  }
}

void rms_norm(const float* x, const float* w, float eps, float* y, size_t m, size_t n) {
  if (!use_avx2()) return rms_norm_scalar(x, w, eps, y, m, n);
  for (size_t r = 0; r < m; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    const float ss = detail::sum_squares_avx2(xr, n);
    const float inv = 1.0f / std::sqrt(ss / static_cast<float>(n) + eps);
    for (size_t i = 0; i < n; ++i) yr[i] = xr[i] * inv * w[i];
  }
}

void rope(float* x, size_t n_heads, size_t head_dim, const float* inv_freq, int64_t pos, bool neox) {
  const size_t half = head_dim / 2;
  // cos/sin once per frequency, shared by the heads. head_dim <= 512 (checked at load).
  float c[256], s[256];
  for (size_t i = 0; i < half; ++i) {
    const float angle = static_cast<float>(pos) * inv_freq[i];
    c[i] = static_cast<float>(std::cos(static_cast<double>(angle)));
    s[i] = static_cast<float>(std::sin(static_cast<double>(angle)));
  }
  for (size_t h = 0; h < n_heads; ++h) {
    float* xh = x + h * head_dim;
    if (neox) {
      for (size_t i = 0; i < half; ++i) {
        const float a = xh[i], b = xh[i + half];
        xh[i] = a * c[i] - b * s[i];
        xh[i + half] = b * c[i] + a * s[i];
      }
    } else {
      for (size_t i = 0; i < half; ++i) {
        const float a = xh[2 * i], b = xh[2 * i + 1];
        xh[2 * i] = a * c[i] - b * s[i];
        xh[2 * i + 1] = b * c[i] + a * s[i];
      }
    }
  }
}

void silu_mul_scalar(float* gate, const float* up, size_t n) {
  for (size_t i = 0; i < n; ++i) gate[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void silu_mul(float* gate, const float* up, size_t n) {
  if (!use_avx2()) return silu_mul_scalar(gate, up, n);
  detail::silu_mul_avx2(gate, up, n);
}

void gelu_tanh_scalar(float* x, size_t n) {
  constexpr float kC = 0.7978845608028654f;  // sqrt(2 / pi)
  for (size_t i = 0; i < n; ++i) {
    const float v = x[i];
    x[i] = 0.5f * v * (1.0f + std::tanh(kC * (v + 0.044715f * v * v * v)));
  }
}

// One pass per call, a few thousand values per token: libm's tanh is not the
// bottleneck next to the matrix products.
void gelu_tanh(float* x, size_t n) { gelu_tanh_scalar(x, n); }

void attend_head_scalar(const float* q, const float* k, const float* v, size_t ld_kv, size_t n_ctx,
                        size_t head_dim, float scale, float* scores, float* out) {
  float mx = -INFINITY;
  for (size_t j = 0; j < n_ctx; ++j) {
    scores[j] = dot_scalar(q, k + j * ld_kv, head_dim) * scale;
    mx = std::max(mx, scores[j]);
  }
  float sum = 0.0f;
  for (size_t j = 0; j < n_ctx; ++j) sum += (scores[j] = std::exp(scores[j] - mx));
  for (size_t d = 0; d < head_dim; ++d) out[d] = 0.0f;
  for (size_t j = 0; j < n_ctx; ++j) {
    const float p = scores[j] / sum;
    const float* vj = v + j * ld_kv;
    for (size_t d = 0; d < head_dim; ++d) out[d] += p * vj[d];
  }
}

void attend_head(const float* q, const float* k, const float* v, size_t ld_kv, size_t n_ctx,
                 size_t head_dim, float scale, float* scores, float* out) {
  if (!use_avx2()) return attend_head_scalar(q, k, v, ld_kv, n_ctx, head_dim, scale, scores, out);
  float mx = -INFINITY;
  for (size_t j = 0; j < n_ctx; ++j) {
    scores[j] = detail::dot_avx2(q, k + j * ld_kv, head_dim) * scale;
    mx = std::max(mx, scores[j]);
  }
  float sum = 0.0f;
  for (size_t j = 0; j < n_ctx; ++j) sum += (scores[j] = std::exp(scores[j] - mx));
  const float inv = 1.0f / sum;
  std::fill(out, out + head_dim, 0.0f);
  for (size_t j = 0; j < n_ctx; ++j) detail::axpy_avx2(scores[j] * inv, v + j * ld_kv, out, head_dim);
}

void attend_group_scalar(const float* q, size_t group, const float* k, const float* v, size_t ld_kv,
                         size_t n_ctx, size_t head_dim, float scale, float* scores, float* out) {
  for (size_t g = 0; g < group; ++g)
    attend_head_scalar(q + g * head_dim, k, v, ld_kv, n_ctx, head_dim, scale, scores, out + g * head_dim);
}

void attend_group(const float* q, size_t group, const float* k, const float* v, size_t ld_kv,
                  size_t n_ctx, size_t head_dim, float scale, float* scores, float* out) {
  if (use_avx2() && head_dim % 8 == 0)
    return detail::attend_group_avx2(q, group, k, v, ld_kv, n_ctx, head_dim, scale, scores, out);
  for (size_t g = 0; g < group; ++g)
    attend_head(q + g * head_dim, k, v, ld_kv, n_ctx, head_dim, scale, scores, out + g * head_dim);
}

void attend_group_f16kv_scalar(const float* q, size_t group, const uint16_t* k, const uint16_t* v,
                               size_t ld_kv, size_t n_ctx, size_t head_dim, float scale, float* scores,
                               float* out) {
  for (size_t g = 0; g < group; ++g) {
    const float* qg = q + g * head_dim;
    float* og = out + g * head_dim;
    float mx = -INFINITY;
    for (size_t j = 0; j < n_ctx; ++j) {
      float s = 0.0f;
      for (size_t d = 0; d < head_dim; ++d) s += qg[d] * f16_to_f32(k[j * ld_kv + d]);
      scores[j] = s * scale;
      mx = std::max(mx, scores[j]);
    }
    float sum = 0.0f;
    for (size_t j = 0; j < n_ctx; ++j) sum += (scores[j] = std::exp(scores[j] - mx));
    for (size_t d = 0; d < head_dim; ++d) og[d] = 0.0f;
    for (size_t j = 0; j < n_ctx; ++j) {
      const float p = scores[j] / sum;
      for (size_t d = 0; d < head_dim; ++d) og[d] += p * f16_to_f32(v[j * ld_kv + d]);
    }
  }
}

void attend_group_f16kv(const float* q, size_t group, const uint16_t* k, const uint16_t* v, size_t ld_kv,
                        size_t n_ctx, size_t head_dim, float scale, float* scores, float* out) {
  if (use_avx2() && head_dim % 8 == 0)
    return detail::attend_group_f16kv_avx2(q, group, k, v, ld_kv, n_ctx, head_dim, scale, scores, out);
  attend_group_f16kv_scalar(q, group, k, v, ld_kv, n_ctx, head_dim, scale, scores, out);
}

void attend_group_causal_scalar(const float* q, size_t tokens, size_t group, const float* k, const float* v,
                                size_t ld_kv, size_t n_ctx, size_t head_dim, float scale, float* scores,
                                float* out) {
  for (size_t t = 0; t < tokens; ++t)
    attend_group_scalar(q + t * group * head_dim, group, k, v, ld_kv, n_ctx - tokens + 1 + t, head_dim, scale,
                        scores, out + t * group * head_dim);
}

void attend_group_causal(const float* q, size_t tokens, size_t group, const float* k, const float* v,
                         size_t ld_kv, size_t n_ctx, size_t head_dim, float scale, float* scores, float* out) {
  if (use_avx2() && head_dim % 8 == 0)
    return detail::attend_group_causal_avx2(q, tokens, group, k, v, ld_kv, n_ctx, head_dim, scale, scores, out);
  for (size_t t = 0; t < tokens; ++t)
    attend_group(q + t * group * head_dim, group, k, v, ld_kv, n_ctx - tokens + 1 + t, head_dim, scale, scores,
                 out + t * group * head_dim);
}

void attend_group_causal_f16kv_scalar(const float* q, size_t tokens, size_t group, const uint16_t* k,
                                      const uint16_t* v, size_t ld_kv, size_t n_ctx, size_t head_dim, float scale,
                                      float* scores, float* out) {
  for (size_t t = 0; t < tokens; ++t)
    attend_group_f16kv_scalar(q + t * group * head_dim, group, k, v, ld_kv, n_ctx - tokens + 1 + t, head_dim,
                              scale, scores, out + t * group * head_dim);
}

void attend_group_causal_f16kv(const float* q, size_t tokens, size_t group, const uint16_t* k, const uint16_t* v,
                               size_t ld_kv, size_t n_ctx, size_t head_dim, float scale, float* scores,
                               float* out) {
  if (use_avx2() && head_dim % 8 == 0)
    return detail::attend_group_causal_f16kv_avx2(q, tokens, group, k, v, ld_kv, n_ctx, head_dim, scale, scores,
                                                  out);
  attend_group_causal_f16kv_scalar(q, tokens, group, k, v, ld_kv, n_ctx, head_dim, scale, scores, out);
}

}  // namespace keel::kernels
