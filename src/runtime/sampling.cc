// Placeholder implementation (greedy and plain temperature sampling only),
// replaced by the full sampler on its own branch.
#include "runtime/sampling.h"

#include <algorithm>
#include <cmath>

namespace keel {
namespace {
uint64_t splitmix64(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
}  // namespace

Status validate(const SamplingParams& p) {
  if (!(p.temperature >= 0.0f)) return Error("temperature must be >= 0, got ", p.temperature);
  return Status::Ok();
}

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_state_(params.seed) {}

SampledToken Sampler::sample(float* logits, size_t vocab, std::span<const int32_t>) {
  SampledToken out;
  size_t best = 0;
  for (size_t i = 1; i < vocab; ++i)
    if (logits[i] > logits[best]) best = i;
  float mx = logits[best];
  double z = 0.0;
  for (size_t i = 0; i < vocab; ++i) z += std::exp(double(logits[i] - mx));
  out.id = static_cast<int32_t>(best);
  if (params_.temperature > 0.0f) {
    double zt = 0.0;
    for (size_t i = 0; i < vocab; ++i) zt += std::exp(double(logits[i] - mx) / params_.temperature);
    double u = double(splitmix64(rng_state_) >> 11) * 0x1.0p-53 * zt;
    for (size_t i = 0; i < vocab; ++i) {
      u -= std::exp(double(logits[i] - mx) / params_.temperature);
      if (u <= 0.0) { out.id = static_cast<int32_t>(i); break; }
    }
  }
  out.logprob = static_cast<float>(double(logits[out.id] - mx) - std::log(z));
  return out;
}

StopMatcher::StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {}

std::string StopMatcher::push(std::string_view text) {
  if (stopped_) return "";
  std::string out = held_ + std::string(text);
  held_.clear();
  return out;
}

std::string StopMatcher::flush() { return std::exchange(held_, std::string()); }

}  // namespace keel
