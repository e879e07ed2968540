// Microseconds per Sampler::sample call at vocabulary sizes 32000 (Llama 2)
// and 151936 (Qwen2/3), for several parameter sets, next to a naive
// full-sort top-p sampler on the same logits (the cost a partial sort avoids).
//
//   bench_sampling [--iters N] [--only <params name>]
//
// Logits: N(0, sd) per token, sd 3 ("spread") and sd 6 ("peaked"; a trained
// model's next-token distribution is usually peaked). Each figure is the
// median of N calls after a warm-up, on one thread. The copy of the logits
// each call needs (sample() may overwrite them) is included in both.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "runtime/sampling.h"

namespace {

using Clock = std::chrono::steady_clock;

template <typename F>
double median_us(int iters, F&& f) {
  for (int i = 0; i < 5; ++i) f();
  std::vector<double> t(static_cast<size_t>(iters));
  for (int i = 0; i < iters; ++i) {
    auto a = Clock::now();
    f();
    t[size_t(i)] = std::chrono::duration<double, std::micro>(Clock::now() - a).count();
  }
  std::nth_element(t.begin(), t.begin() + iters / 2, t.end());
  return t[size_t(iters / 2)];
}

// Softmax, full descending sort, top-p prefix, draw: what a straightforward
// sampler does.
int naive_top_p(const std::vector<float>& logits, float temp, float p, std::vector<std::pair<float, int>>& c,
                std::mt19937_64& rng) {
  c.resize(logits.size());
  float mx = *std::max_element(logits.begin(), logits.end());
  double z = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    c[i] = {std::exp((logits[i] - mx) / temp), int(i)};
    z += c[i].first;
  }
  std::sort(c.begin(), c.end(), [](auto& a, auto& b) { return a.first > b.first; });
  double cum = 0;
  size_t keep = c.size();
  for (size_t i = 0; i < c.size(); ++i) {
    cum += c[i].first / z;
    if (cum >= p) { keep = i + 1; break; }
  }
  double u = std::uniform_real_distribution<double>(0, cum)(rng);
  for (size_t i = 0; i < keep; ++i) {
    u -= c[i].first / z;
    if (u <= 0) return c[i].second;
  }
  return c[keep - 1].second;
}

}  // namespace

int main(int argc, char** argv) {
  int iters = 200;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--iters") && i + 1 < argc) iters = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
  }
  struct Config {
    const char* name;
    keel::SamplingParams p;
  };
  const Config configs[] = {
      {"greedy", {.temperature = 0.0f}},
      {"temperature 0.8", {.temperature = 0.8f}},
      {"top_k 40", {.temperature = 0.8f, .top_k = 40}},
      {"top_p 0.95", {.temperature = 0.8f, .top_p = 0.95f}},
      {"min_p 0.05", {.temperature = 0.8f, .min_p = 0.05f}},
      {"top_k 40 + top_p 0.95 + min_p 0.05", {.temperature = 0.8f, .top_k = 40, .top_p = 0.95f, .min_p = 0.05f}},
      {"rep 1.1 + freq/pres (512 hist) + top_p 0.9",
       {.temperature = 0.8f, .top_p = 0.9f, .repetition_penalty = 1.1f, .frequency_penalty = 0.2f,
        .presence_penalty = 0.2f}},
      {"top_p 0.95 + top_logprobs 5", {.temperature = 0.8f, .top_p = 0.95f, .top_logprobs = 5}},
  };
  std::printf("%-44s %8s %8s %14s %14s\n", "params", "vocab", "logits", "keel us/sample", "naive full sort");
  for (size_t vocab : {size_t(32000), size_t(151936)}) {
    for (float sd : {3.0f, 6.0f}) {
      std::mt19937 rng(1);
      std::normal_distribution<float> d(0.0f, sd);
      std::vector<float> logits(vocab), work(vocab);
      for (auto& x : logits) x = d(rng);
      std::vector<int32_t> history(512);
      for (auto& h : history) h = int32_t(rng() % vocab);
      for (const Config& c : configs) {
        if (!only.empty() && only != c.name) continue;
        keel::Sampler s(c.p);
        double us = median_us(iters, [&] {
          std::memcpy(work.data(), logits.data(), vocab * sizeof(float));
          volatile int id = s.sample(work.data(), vocab, history).id;
          (void)id;
        });
        char naive[32] = "";
        if (c.p.top_p < 1.0f && c.p.top_k == 0 && c.p.repetition_penalty == 1.0f) {
          std::vector<std::pair<float, int>> cand;
          std::mt19937_64 r2(1);
          double nus = median_us(std::max(20, iters / 10), [&] {
            std::memcpy(work.data(), logits.data(), vocab * sizeof(float));
            volatile int id = naive_top_p(work, c.p.temperature, c.p.top_p, cand, r2);
            (void)id;
          });
          std::snprintf(naive, sizeof naive, "%.0f", nus);
        }
        std::printf("%-44s %8zu %8s %14.0f %14s\n", c.name, vocab, sd == 3.0f ? "spread" : "peaked", us, naive);
      }
    }
  }
  return 0;
}
