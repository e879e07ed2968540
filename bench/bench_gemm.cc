// GEMM throughput of keel::kernels::linear on BERT shapes, against this
// machine's measured FMA peak.
//
//   bench_gemm [--threads 1,2] [--m 1,16,128,2048] [--compute f32,bf16,i8] [--quick] [--no-others]
//              [--peak-only]
//
// Then (unless --no-others) attention and add_layer_norm on BERT shapes.
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
#include "kernels/attention.h"
#include "kernels/layer_norm.h"
#include "kernels/linear.h"

namespace {

using Clock = std::chrono::steady_clock;
using keel::kernels::Compute;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

constexpr long kProbeIters = 20'000'000;

// 12 independent FMA chains in registers, written in asm so that the compiler
// can neither spill nor fold them. Registers are zeroed first (no denormals).
#define KEEL_FMA12(R)                                                              \
  "vfmadd231ps %%" R "0, %%" R "1, %%" R "2\n\t"                                  \
  "vfmadd231ps %%" R "0, %%" R "1, %%" R "3\n\t"                                  \
  "vfmadd231ps %%" R "0, %%" R "1, %%" R "4\n\t"                                  \
  "vfmadd231ps %%" R "0, %%" R "1, %%" R "5\n\t"                                  \
  "vfmadd231ps %%" R "0, %%" R "1, %%" R "6\n\t"                                  \
  "vfmadd231ps %%" R "0, %%" R "1, %%" R "7\n\t"                                  \
  "vfmadd231ps %%" R "0, %%" R "1, %%" R "8\n\t"                                  \
  "vfmadd231ps %%" R "0, %%" R "1, %%" R "9\n\t"                                  \
  "vfmadd231ps %%" R "0, %%" R "1, %%" R "10\n\t"                                 \
  "vfmadd231ps %%" R "0, %%" R "1, %%" R "11\n\t"                                 \
  "vfmadd231ps %%" R "0, %%" R "1, %%" R "12\n\t"                                 \
  "vfmadd231ps %%" R "0, %%" R "1, %%" R "13\n\t"

double fma_probe(bool avx512) {
  long n = kProbeIters;
  if (avx512) {
    __asm__ volatile(
        "vpxord %%zmm0, %%zmm0, %%zmm0\n\tvmovaps %%zmm0, %%zmm1\n\t"
        "vmovaps %%zmm0, %%zmm2\n\tvmovaps %%zmm0, %%zmm3\n\tvmovaps %%zmm0, %%zmm4\n\t"
        "vmovaps %%zmm0, %%zmm5\n\tvmovaps %%zmm0, %%zmm6\n\tvmovaps %%zmm0, %%zmm7\n\t"
        "vmovaps %%zmm0, %%zmm8\n\tvmovaps %%zmm0, %%zmm9\n\tvmovaps %%zmm0, %%zmm10\n\t"
        "vmovaps %%zmm0, %%zmm11\n\tvmovaps %%zmm0, %%zmm12\n\tvmovaps %%zmm0, %%zmm13\n\t"
        "1:\n\t" KEEL_FMA12("zmm") "dec %0\n\tjnz 1b\n\tvzeroupper"
        : "+r"(n)
        :
        : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
          "xmm10", "xmm11", "xmm12", "xmm13", "cc");
  } else {
    __asm__ volatile(
        "vxorps %%ymm0, %%ymm0, %%ymm0\n\tvmovaps %%ymm0, %%ymm1\n\t"
        "vmovaps %%ymm0, %%ymm2\n\tvmovaps %%ymm0, %%ymm3\n\tvmovaps %%ymm0, %%ymm4\n\t"
        "vmovaps %%ymm0, %%ymm5\n\tvmovaps %%ymm0, %%ymm6\n\tvmovaps %%ymm0, %%ymm7\n\t"
        "vmovaps %%ymm0, %%ymm8\n\tvmovaps %%ymm0, %%ymm9\n\tvmovaps %%ymm0, %%ymm10\n\t"
        "vmovaps %%ymm0, %%ymm11\n\tvmovaps %%ymm0, %%ymm12\n\tvmovaps %%ymm0, %%ymm13\n\t"
        "1:\n\t" KEEL_FMA12("ymm") "dec %0\n\tjnz 1b\n\tvzeroupper"
        : "+r"(n)
        :
        : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
          "xmm10", "xmm11", "xmm12", "xmm13", "cc");
  }
  return static_cast<double>(n);
}

// GFLOP/s of `threads` threads each running the probe.
double probe_gflops(bool avx512, int threads) {
  double best = 0.0;
  for (int rep = 0; rep < 3; ++rep) {
    std::vector<std::thread> ts;
    std::vector<double> sink(threads);
    const auto t0 = Clock::now();
    for (int t = 0; t < threads; ++t) {
      ts.emplace_back([&, t] { sink[t] = fma_probe(avx512); });
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
  bool quick = false, others = true, peak_only = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads_list = parse_list(argv[++i]);
    else if (!std::strcmp(argv[i], "--m") && i + 1 < argc) m_list = parse_list(argv[++i]);
    else if (!std::strcmp(argv[i], "--quick")) quick = true;
    else if (!std::strcmp(argv[i], "--no-others")) others = false;
    else if (!std::strcmp(argv[i], "--peak-only")) peak_only = true;  // the FMA probe only
    else if (!std::strcmp(argv[i], "--compute") && i + 1 < argc) {
      computes.clear();
      std::string s = argv[++i];
      if (s.find("f32") != std::string::npos) computes.push_back(Compute::F32);
      if (s.find("bf16") != std::string::npos) computes.push_back(Compute::BF16);
      if (s.find("i8") != std::string::npos) computes.push_back(Compute::I8);
    } else {
      std::fprintf(stderr, "usage: %s [--threads 1,2] [--m 1,16,128,2048] [--compute f32,bf16,i8] [--quick] [--no-others] [--peak-only]\n", argv[0]);
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
  if (peak_only) return 0;

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
  if (!others) return 0;

  // Best seconds per call over 3 runs of >= 0.25 s (0.05 s with --quick).
  auto time_call = [&](const auto& call) {
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
    return best;
  };
  struct Att {
    const char* what;
    size_t seqs, len, heads, head_dim;
  };
  const Att atts[] = {{"minilm 8x128", 8, 128, 12, 32}, {"bert 8x128", 8, 128, 12, 64},
                      {"bert 1x512", 1, 512, 12, 64}, {"bert 32x16", 32, 16, 12, 64}};
  std::printf("\n%-16s %4s %9s %9s\n", "attention", "thr", "ms/call", "GFLOP/s");
  for (const Att& a : atts) {
    const size_t rows = a.seqs * a.len, hidden = a.heads * a.head_dim;
    std::vector<float> qkv(rows * 3 * hidden, 0.01f), out(rows * hidden);
    for (size_t i = 0; i < qkv.size(); ++i) qkv[i] = 0.01f * static_cast<float>(i % 97);
    std::vector<uint32_t> offsets(a.seqs + 1);
    for (size_t s = 0; s <= a.seqs; ++s) offsets[s] = static_cast<uint32_t>(s * a.len);
    const double flops = 4.0 * a.seqs * a.len * a.len * hidden;
    for (size_t t : threads_list) {
      keel::ThreadPool pool(static_cast<int>(t));
      const double sec = time_call([&] {
        keel::kernels::attention(qkv.data(), qkv.data() + hidden, qkv.data() + 2 * hidden,
                                 3 * hidden, offsets.data(), a.seqs, a.heads, a.head_dim, 0.125f,
                                 out.data(), hidden, &pool);
      });
      std::printf("%-16s %4zu %9.3f %9.1f\n", a.what, t, sec * 1e3, flops / sec / 1e9);
    }
  }
  std::printf("\n%-16s %4s %9s %9s\n", "add_layer_norm", "thr", "ms/call", "GB/s");
  for (size_t n : {384, 768}) {
    const size_t m = 1024;
    std::vector<float> x(m * n, 0.5f), r(m * n, 0.25f), g(n, 1.0f), b(n, 0.0f), y(m * n);
    for (size_t t : threads_list) {
      keel::ThreadPool pool(static_cast<int>(t));
      const double sec = time_call([&] {
        keel::kernels::add_layer_norm(x.data(), r.data(), g.data(), b.data(), 1e-12f, y.data(), m,
                                      n, &pool);
      });
      std::printf("m=%zu n=%-9zu %4zu %9.3f %9.1f\n", m, n, t, sec * 1e3,
                  3.0 * m * n * sizeof(float) / sec / 1e9);
    }
  }
  return 0;
}
