#include "kernels/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/cpu_features.h"
#include "kernels/internal.h"
#include "kernels/linear.h"

namespace keel::kernels {

void attention_scalar(const float* q, const float* k, const float* v, size_t ld_qkv,
                      const uint32_t* offsets, size_t n_seqs, size_t n_heads, size_t head_dim,
                      float scale, float* out, size_t ld_out) {
  std::vector<float> s;
  for (size_t seq = 0; seq < n_seqs; ++seq) {
    const size_t r0 = offsets[seq], r1 = offsets[seq + 1];
    if (r1 <= r0) continue;
    s.resize(r1 - r0);
    for (size_t h = 0; h < n_heads; ++h) {
      const size_t col = h * head_dim;
      for (size_t i = r0; i < r1; ++i) {
        const float* qi = q + i * ld_qkv + col;
        float mx = -INFINITY;
        for (size_t j = r0; j < r1; ++j) {
          const float* kj = k + j * ld_qkv + col;
          float dot = 0.0f;
          for (size_t d = 0; d < head_dim; ++d) dot += qi[d] * kj[d];
          s[j - r0] = dot * scale;
          mx = std::max(mx, s[j - r0]);
        }
        float sum = 0.0f;
        for (size_t j = r0; j < r1; ++j) sum += (s[j - r0] = std::exp(s[j - r0] - mx));
        float* oi = out + i * ld_out + col;
        for (size_t d = 0; d < head_dim; ++d) oi[d] = 0.0f;
        for (size_t j = r0; j < r1; ++j) {
          const float p = s[j - r0] / sum;
          const float* vj = v + j * ld_qkv + col;
          for (size_t d = 0; d < head_dim; ++d) oi[d] += p * vj[d];
        }
      }
    }
  }
}

void attention(const float* q, const float* k, const float* v, size_t ld_qkv,
               const uint32_t* offsets, size_t n_seqs, size_t n_heads, size_t head_dim,
               float scale, float* out, size_t ld_out, ThreadPool* pool) {
  if (n_seqs == 0 || n_heads == 0 || head_dim == 0) return;
  using HeadFn = void (*)(const detail::AttentionArgs&, size_t, size_t, size_t, float*);
  HeadFn fn = nullptr;
  switch (kernel_isa()) {
    case Isa::Avx512: fn = &detail::attention_head_avx512; break;
    case Isa::Avx2: fn = &detail::attention_head_avx2; break;
    case Isa::Scalar: break;
  }
  const detail::AttentionArgs args{q, k, v, ld_qkv, head_dim, scale, out, ld_out};
  size_t max_len = 0;
  for (size_t s = 0; s < n_seqs; ++s) {
    if (offsets[s + 1] > offsets[s]) max_len = std::max<size_t>(max_len, offsets[s + 1] - offsets[s]);
  }
  // One task per (sequence, head) pair.
  auto tasks = [&](int64_t b, int64_t e) {
    thread_local std::vector<float> scratch;
    if (fn && scratch.size() < detail::attention_scratch_floats(max_len, head_dim)) {
      scratch.resize(detail::attention_scratch_floats(max_len, head_dim));
    }
    for (int64_t t = b; t < e; ++t) {
      const size_t seq = t / n_heads, h = t % n_heads;
      if (offsets[seq + 1] <= offsets[seq]) continue;
      if (fn) {
        fn(args, offsets[seq], offsets[seq + 1] - offsets[seq], h, scratch.data());
        continue;
      }
      const uint32_t off[2] = {offsets[seq], offsets[seq + 1]};
      attention_scalar(q + h * head_dim, k + h * head_dim, v + h * head_dim, ld_qkv, off, 1, 1,
                       head_dim, scale, out + h * head_dim, ld_out);
    }
  };
  const int64_t n_tasks = static_cast<int64_t>(n_seqs * n_heads);
  if (pool) pool->parallel_for(n_tasks, tasks, 1);
  else tasks(0, n_tasks);
}

}  // namespace keel::kernels
