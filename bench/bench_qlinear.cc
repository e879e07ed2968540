// qlinear throughput per weight type on TinyLlama-1.1B's matrix shapes, or
// with --shapes small those of bench_generate.sh's ~100M model (hidden 768,
// 4 KV heads of 64, ffn 2048).
//
//   bench_qlinear [--threads 1,2] [--types f32,f16,bf16,q8_0,q4_0,q4_K,q6_K] [--decode-only]
//                 [--prefill-only] [--cached] [--cpu-time] [--m 512] [--min-time 0.3]
//                 [--shapes tiny|small]
//
// Decode (m = 1): weight bytes read per second (GB/s), against the read
// bandwidth of stream_probe.h measured in the same run. Each shape is
// replicated into enough copies to span >= 256 MiB and the calls rotate over
// them, so the weights come from DRAM as in a real decode step (a single
// 2048x2048 q4_K matrix would sit in L3).
// Prefill (m = 512): GFLOP/s (2 m n k per call). Timings: calls repeated for
// >= --min-time seconds after a warm-up call; best of 3.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iterator>
#include <memory>
#include <random>
#include <utility>
#include <string>
#include <vector>

#include "core/cpu_features.h"
#include "core/thread_pool.h"
#include "kernels/linear.h"
#include "kernels/qlinear.h"
#include "kernels/quantize.h"
#include "stream_probe.h"

namespace {

using Clock = std::chrono::steady_clock;
using keel::DType;
using keel::kernels::QuantMatrix;

struct Shape {
  size_t n, k;
  const char* name;
};
constexpr Shape kTinyShapes[] = {{2048, 2048, "attn q/o 2048x2048"},
                                 {5632, 2048, "ffn gate/up 5632x2048"},
                                 {2048, 5632, "ffn down 2048x5632"},
                                 {32000, 2048, "output 32000x2048"}};
constexpr Shape kSmallShapes[] = {{768, 768, "attn q/o 768x768"},
                                  {256, 768, "attn k/v 256x768"},
                                  {2048, 768, "ffn gate/up 2048x768"},
                                  {768, 2048, "ffn down 768x2048"},
                                  {32000, 768, "output 32000x768"}};

std::vector<uint8_t> make_weights(DType t, size_t n, size_t k) {
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 0.05f);
  std::vector<float> row(k);
  const size_t rb = *keel::dtype_row_bytes(t, k);
  std::vector<uint8_t> out(n * rb);
  // Quantizing 65M weights (32000x2048) is slow for the K-quants: quantize
  // 64 distinct rows and repeat them (the kernels' speed does not depend on values).
  std::vector<uint8_t> distinct(64 * rb);
  for (size_t r = 0; r < 64; ++r) {
    for (float& v : row) v = dist(rng);
    (void)keel::quantize_row(t, row.data(), distinct.data() + r * rb, static_cast<int64_t>(k));
  }
  for (size_t r = 0; r < n; ++r) std::memcpy(out.data() + r * rb, distinct.data() + (r % 64) * rb, rb);
  return out;
}

// --cpu-time: process CPU time instead of wall time. On a loaded machine this
// measures the kernels' own cost with 1 thread (time slices lost to other
// processes do not count); with more threads it also counts spinning.
bool g_cpu_time = false;

double now_seconds() {
  if (!g_cpu_time) return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

template <typename F>
double best_seconds_per_call(F&& f, double min_time) {
  f(0);
  double best = 1e30;
  for (int rep = 0; rep < 3; ++rep) {
    size_t calls = 0;
    const double t0 = now_seconds();
    double s = 0;
    do {
      f(calls++);
      s = now_seconds() - t0;
    } while (s < min_time);
    best = std::min(best, s / static_cast<double>(calls));
  }
  return best;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t p = 0;
  while (p <= s.size()) {
    size_t q = s.find(',', p);
    if (q == std::string::npos) q = s.size();
    out.push_back(s.substr(p, q - p));
    p = q + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> threads{1, 2};
  std::vector<std::string> types{"f32", "f16", "bf16", "q8_0", "q4_0", "q4_K", "q6_K"};
  bool decode = true, prefill = true, cached = false;
  std::vector<Shape> shapes(std::begin(kTinyShapes), std::end(kTinyShapes));
  size_t pm = 512;
  double min_time = 0.3;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) {
      threads.clear();
      for (auto& s : split(argv[++i])) threads.push_back(std::atoi(s.c_str()));
    } else if (!std::strcmp(argv[i], "--types") && i + 1 < argc) types = split(argv[++i]);
    else if (!std::strcmp(argv[i], "--decode-only")) prefill = false;
    else if (!std::strcmp(argv[i], "--prefill-only")) decode = false;
    else if (!std::strcmp(argv[i], "--cached")) cached = true;  // no rotation: W from L2/L3
    else if (!std::strcmp(argv[i], "--cpu-time")) g_cpu_time = true;
    else if (!std::strcmp(argv[i], "--m") && i + 1 < argc) pm = std::strtoull(argv[++i], nullptr, 10);
    else if (!std::strcmp(argv[i], "--min-time") && i + 1 < argc) min_time = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--shapes") && i + 1 < argc && !std::strcmp(argv[i + 1], "small")) {
      shapes.assign(std::begin(kSmallShapes), std::end(kSmallShapes));
      ++i;
    } else if (!std::strcmp(argv[i], "--shapes") && i + 1 < argc && !std::strcmp(argv[i + 1], "tiny")) {
      ++i;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--threads 1,2] [--types f32,...] [--decode-only] [--prefill-only] [--cached] [--cpu-time] [--m 512] "
                   "[--min-time 0.3] [--shapes tiny|small]\n",
                   argv[0]);
      return 2;
    }
  }
  std::printf("cpu: %s\nkernel isa: %s, vnni %d\n", keel::cpu_features().to_string().c_str(),
              keel::isa_name(keel::kernels::kernel_isa()), keel::kernels::kernel_has_avx512_vnni());
  double stream[3] = {0, 0, 0};
  {
    keel::bench::StreamProbe probe;
    for (int t : threads) {
      if (t >= 1 && t <= 2) stream[t] = probe.read_gbs(t);
      std::printf("stream read bandwidth, %d thread(s): %.1f GB/s\n", t, stream[t]);
    }
  }
  for (const std::string& tn : types) {
    auto t = keel::dtype_from_name(tn);
    if (!t.ok()) {
      std::fprintf(stderr, "%s\n", t.status().message().c_str());
      return 2;
    }
    for (const Shape& s : shapes) {
      const std::vector<uint8_t> one = make_weights(*t, s.n, s.k);
      const size_t copies = decode && !cached ? std::max<size_t>(1, (size_t{256} << 20) / one.size() + 1) : 1;
      std::vector<std::vector<uint8_t>> store(copies, one);
      std::vector<std::unique_ptr<QuantMatrix>> mats;
      // As the models hold them: repacked where the kernels want it (then the
      // copies are the repacked ones; GB/s still counts the stored bytes).
      for (auto& c : store) {
        auto m = QuantMatrix::repacks(*t) ? QuantMatrix::prepare(*t, c.data(), s.n, s.k)
                                          : QuantMatrix::view(*t, c.data(), s.n, s.k);
        mats.push_back(std::make_unique<QuantMatrix>(std::move(m).value()));
      }
      std::vector<float> x(pm * s.k), y(pm * s.n);
      std::mt19937 rng(1);
      std::normal_distribution<float> dist(0.0f, 1.0f);
      for (float& v : x) v = dist(rng);
      for (int th : threads) {
        keel::ThreadPool pool(th);
        if (decode) {
          const double sec = best_seconds_per_call(
              [&](size_t i) { keel::kernels::qlinear(x.data(), 1, s.k, *mats[i % copies], y.data(), s.n, &pool); },
              min_time);
          const double gbs = static_cast<double>(one.size()) / sec / 1e9;
          std::printf("decode  %-5s %-24s threads %d: %8.1f us  %6.1f GB/s  %5.1f%% of stream\n", tn.c_str(),
                      s.name, th, sec * 1e6, gbs, stream[th] > 0 ? 100.0 * gbs / stream[th] : 0.0);
        }
        if (prefill && s.n <= 5632) {  // not the output matrix
          const double sec = best_seconds_per_call(
              [&](size_t) { keel::kernels::qlinear(x.data(), pm, s.k, *mats[0], y.data(), s.n, &pool); },
              min_time);
          std::printf("prefill %-5s %-24s threads %d m %zu: %8.2f ms  %6.1f GFLOP/s\n", tn.c_str(), s.name, th,
                      pm, sec * 1e3, 2.0 * pm * s.n * s.k / sec / 1e9);
        }
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
