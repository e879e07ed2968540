// GEMM throughput of keel::kernels::linear on BERT shapes, against this
// machine's measured FMA peak.
//
//   bench_gemm [--threads 1,2] [--m 1,16,128,2048] [--compute f32,bf16,i8] [--quick]
//
// Peak: independent FMA chains in registers (no memory traffic), AVX-512 and
// AVX2 variants, 1 thread and N threads; the best is "peak". Each GEMM is
// timed over repeated calls for >= 0.25 s after a warm-up; the best of 3 such
// runs is reported (the machine is shared, the best is the least disturbed).
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "core/cpu_features.h"
#include "core/thread_pool.h"
#include "kernels/linear.h"

namespace {

using Clock = std::chrono::steady_clock;
using keel::kernels::Compute;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

constexpr long kProbeIters = 200'000'000 / 16;

__attribute__((target("avx512f,fma"))) double fma_probe_avx512() {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (long it = 0; it < kProbeIters; ++it) {
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    __asm__ volatile("" : "+v"(acc[0]), "+v"(acc[1]), "+v"(acc[2]), "+v"(acc[3]));
  }
  __m512 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"))) double fma_probe_avx2() {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(static_cast<float>(i));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long it = 0; it < kProbeIters; ++it) {
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    __asm__ volatile("" : "+x"(acc[0]), "+x"(acc[1]), "+x"(acc[2]), "+x"(acc[3]));
  }
  __m256 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, acc[i]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0];
}

// GFLOP/s of `threads` threads each running the probe.
double probe_gflops(bool avx512, int threads) {
  double best = 0.0;
  for (int rep = 0; rep < 3; ++rep) {
    std::vector<std::thread> ts;
    std::vector<double> sink(threads);
    const auto t0 = Clock::now();
    for (int t = 0; t < threads; ++t) {
      ts.emplace_back([&, t] { sink[t] = avx512 ? fma_probe_avx512() : fma_probe_avx2(); });
    }
    for (auto& t : ts) t.join();
    const double s = seconds_since(t0);
    const double flops = 2.0 * 12 * (avx512 ? 16 : 8) * double(kProbeIters) * threads;
    best = std::max(best, flops / s / 1e9);
  }
  return best;
}

std::vector<size_t> parse_list(const char* s) {
  std::vector<size_t> out;
  for (const char* p = s; *p;) {
    out.push_back(std::strtoull(p, const_cast<char**>(&p), 10));
    if (*p == ',') ++p;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<size_t> threads_list{1, 2};
  std::vector<size_t> m_list{1, 16, 128, 2048};
  std::vector<Compute> computes{Compute::F32, Compute::BF16};
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads_list = parse_list(argv[++i]);
    else if (!std::strcmp(argv[i], "--m") && i + 1 < argc) m_list = parse_list(argv[++i]);
    else if (!std::strcmp(argv[i], "--quick")) quick = true;
    else if (!std::strcmp(argv[i], "--compute") && i + 1 < argc) {
      computes.clear();
      std::string s = argv[++i];
      if (s.find("f32") != std::string::npos) computes.push_back(Compute::F32);
      if (s.find("bf16") != std::string::npos) computes.push_back(Compute::BF16);
      if (s.find("i8") != std::string::npos) computes.push_back(Compute::I8);
    } else {
      std::fprintf(stderr, "usage: %s [--threads 1,2] [--m 1,16,128,2048] [--compute f32,bf16,i8] [--quick]\n", argv[0]);
      return 2;
    }
  }
  const auto& f = keel::cpu_features();
  std::printf("cpu: %s\nkernel isa: %s\n", f.to_string().c_str(),
              keel::isa_name(keel::kernels::kernel_isa()));

  std::vector<double> peak(threads_list.size());
  for (size_t ti = 0; ti < threads_list.size(); ++ti) {
    const int t = static_cast<int>(threads_list[ti]);
    const double p2 = f.avx2 && f.fma ? probe_gflops(false, t) : 0.0;
    const double p5 = f.avx512f ? probe_gflops(true, t) : 0.0;
    peak[ti] = std::max(p2, p5);
    std::printf("fma peak, %d thread(s): avx2 %.1f GFLOP/s, avx512 %.1f GFLOP/s\n", t, p2, p5);
  }

  struct NK {
    const char* what;
    size_t n, k;
  };
  const NK shapes[] = {{"minilm qkv", 1152, 384}, {"minilm attn-out", 384, 384},
                       {"minilm ffn-up", 1536, 384}, {"minilm ffn-down", 384, 1536},
                       {"bert qkv", 2304, 768},   {"bert attn-out", 768, 768},
                       {"bert ffn-up", 3072, 768}, {"bert ffn-down", 768, 3072}};
  std::printf("\n%-16s %5s %4s %6s %5s %5s %9s %9s %7s\n", "shape", "comp", "thr", "m", "n", "k",
              "ms/call", "GFLOP/s", "%peak");
  for (Compute c : computes) {
    for (const NK& s : shapes) {
      const auto w = std::vector<float>(s.n * s.k, 0.01f);
      auto packed = keel::kernels::PackedMatrix::pack(w.data(), s.n, s.k, c);
      if (!packed) {
        std::fprintf(stderr, "pack: %s\n", packed.error().c_str());
        return 1;
      }
      std::vector<float> bias(s.n, 0.1f);
      for (size_t ti = 0; ti < threads_list.size(); ++ti) {
        keel::ThreadPool pool(static_cast<int>(threads_list[ti]));
        for (size_t m : m_list) {
          std::vector<float> x(m * s.k, 0.5f), y(m * s.n);
          const double flops = 2.0 * m * s.n * s.k;
          auto call = [&] {
            keel::kernels::linear(x.data(), m, s.k, *packed, bias.data(),
                                  keel::kernels::Epilogue::None, y.data(), s.n, &pool);
          };
          call();
          double best = 1e30;
          for (int rep = 0; rep < (quick ? 1 : 3); ++rep) {
            long calls = 0;
            const auto t0 = Clock::now();
            double el = 0.0;
            do {
              call();
              ++calls;
              el = seconds_since(t0);
            } while (el < (quick ? 0.05 : 0.25));
            best = std::min(best, el / calls);
          }
          const double gf = flops / best / 1e9;
          std::printf("%-16s %5s %4zu %6zu %5zu %5zu %9.3f %9.1f %6.1f%%\n", s.what,
                      keel::kernels::compute_name(c), threads_list[ti], m, s.n, s.k, best * 1e3, gf,
                      100.0 * gf / peak[ti]);
          std::fflush(stdout);
        }
      }
    }
  }
  return 0;
}
