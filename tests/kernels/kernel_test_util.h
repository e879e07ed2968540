// Helpers shared by the kernel tests: random data and the ISAs to sweep.
#pragma once

#include <random>
#include <vector>

#include "core/cpu_features.h"

namespace keel::kernels::testing {

inline std::vector<float> random_vector(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Every kernel tier this CPU can run; tests force each with ScopedKernelIsa.
inline std::vector<Isa> available_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    if (static_cast<int>(isa) <= static_cast<int>(active_isa())) out.push_back(isa);
  }
  return out;
}

}  // namespace keel::kernels::testing
