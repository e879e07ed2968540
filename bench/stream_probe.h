// A STREAM-like read-bandwidth probe: `threads` threads each sum their share
// of a buffer far larger than the last-level cache (256 MiB by default) with
// 256-bit loads, 4 independent accumulators; the best of `reps` passes is
// reported in GB/s (1e9 bytes/s). Reading is what decode does to weights, so
// this is the roofline for qlinear's decode path. The buffer asks for
// transparent huge pages (2 MiB aligned, MADV_HUGEPAGE): with 4 KiB pages the
// TLB misses cost ~10-25% here and the probe read below what decode reaches.
#pragma once

#include <immintrin.h>
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace keel::bench {

__attribute__((target("avx2"))) inline double stream_sum_avx2(const float* p, size_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  for (size_t i = 0; i + 32 <= n; i += 32) {
    a0 = _mm256_add_ps(a0, _mm256_load_ps(p + i));
    a1 = _mm256_add_ps(a1, _mm256_load_ps(p + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_load_ps(p + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_load_ps(p + i + 24));
  }
  alignas(32) float t[8];
  _mm256_store_ps(t, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  double s = 0;
  for (float v : t) s += v;
  return s;
}

class StreamProbe {
 public:
  explicit StreamProbe(size_t bytes = size_t{256} << 20) : n_(bytes / sizeof(float)) {
    constexpr size_t kHuge = size_t{2} << 20;
    n_ = (n_ * sizeof(float) + kHuge - 1) / kHuge * kHuge / sizeof(float);
    buf_ = static_cast<float*>(std::aligned_alloc(kHuge, n_ * sizeof(float)));
    madvise(buf_, n_ * sizeof(float), MADV_HUGEPAGE);
    for (size_t i = 0; i < n_; ++i) buf_[i] = static_cast<float>(i & 7) * 0.125f;
  }
  ~StreamProbe() { std::free(buf_); }
  StreamProbe(const StreamProbe&) = delete;
  StreamProbe& operator=(const StreamProbe&) = delete;

  // GB/s reading the whole buffer once per pass with `threads` threads.
  double read_gbs(int threads, int reps = 5) {
    double best = 0;
    for (int r = 0; r < reps; ++r) {
      std::vector<std::thread> ts;
      std::vector<double> sink(threads);
      const size_t per = n_ / threads / 32 * 32;
      const auto t0 = std::chrono::steady_clock::now();
      for (int t = 0; t < threads; ++t) {
        ts.emplace_back([&, t] { sink[t] = stream_sum_avx2(buf_ + t * per, per); });
      }
      for (auto& t : ts) t.join();
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      sink_ += sink[0];
      best = std::max(best, static_cast<double>(per * threads * sizeof(float)) / s / 1e9);
    }
    return best;
  }
  double sink() const { return sink_; }

 private:
  size_t n_;
  float* buf_;
  double sink_ = 0;
};

}  // namespace keel::bench
