#include "models/bert/pooling.h"

#include <algorithm>
#include <cmath>

namespace keel::bert {

std::string PoolingModes::to_string() const {
  std::string s;
  auto add = [&](bool on, const char* name) {
    if (on) s += (s.empty() ? "" : "+") + std::string(name);
  };
  add(cls, "cls");
  add(max, "max");
  add(mean, "mean");
  add(mean_sqrt_len, "mean_sqrt_len");
  add(weighted_mean, "weightedmean");
  add(last_token, "lasttoken");
  return s.empty() ? "none" : s;
}

void pool_tokens(const float* hidden, size_t dim, std::span<const uint32_t> offsets, const PoolingModes& modes,
          float* out) {
  const size_t width = static_cast<size_t>(modes.count()) * dim;
  for (size_t s = 0; s + 1 < offsets.size(); ++s) {
    const size_t begin = offsets[s], end = offsets[s + 1], len = end - begin;
    const float* tokens = hidden + begin * dim;  // [len, dim]
    float* o = out + s * width;
    if (modes.cls) {
      std::copy(tokens, tokens + dim, o);
      o += dim;
    }
    if (modes.max) {
      std::copy(tokens, tokens + dim, o);
      for (size_t t = 1; t < len; ++t)
        for (size_t j = 0; j < dim; ++j) o[j] = std::max(o[j], tokens[t * dim + j]);
      o += dim;
    }
    // The sums run in double: a 512-token mean then matches an f32 reference
    // to well under the parity tolerance whatever order it adds in.
    auto weighted_sum = [&](bool by_position, double divisor) {
      for (size_t j = 0; j < dim; ++j) {
        double acc = 0;
        for (size_t t = 0; t < len; ++t) acc += (by_position ? double(t + 1) : 1.0) * tokens[t * dim + j];
        o[j] = static_cast<float>(acc / divisor);
      }
      o += dim;
    };
    if (modes.mean) weighted_sum(false, double(len));
    if (modes.mean_sqrt_len) weighted_sum(false, std::sqrt(double(len)));
    if (modes.weighted_mean) weighted_sum(true, double(len) * double(len + 1) / 2);
    if (modes.last_token) {
      std::copy(tokens + (len - 1) * dim, tokens + len * dim, o);
      o += dim;
    }
  }
}

void l2_normalize(float* x, size_t rows, size_t dim) {
  for (size_t r = 0; r < rows; ++r) {
    float* v = x + r * dim;
    double ss = 0;
    for (size_t j = 0; j < dim; ++j) ss += double(v[j]) * v[j];
    const double inv = 1.0 / std::max(std::sqrt(ss), 1e-12);
    for (size_t j = 0; j < dim; ++j) v[j] = static_cast<float>(v[j] * inv);
  }
}

}  // namespace keel::bert
