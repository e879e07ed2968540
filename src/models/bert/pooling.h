// sentence-transformers' Pooling module over a packed batch: one vector per
// sequence from its token vectors. Several modes may be on at once; their
// results are concatenated in sentence-transformers' order (cls, max, mean,
// mean_sqrt_len, weightedmean, lasttoken).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace keel::bert {

struct PoolingModes {
  bool cls = false;            // the first token ([CLS])
  bool max = false;            // elementwise max over the tokens
  bool mean = false;           // mean over the tokens
  bool mean_sqrt_len = false;  // sum / sqrt(length)
  bool weighted_mean = false;  // tokens weighted 1, 2, ..., length (position + 1)
  bool last_token = false;     // the last token
  int count() const { return cls + max + mean + mean_sqrt_len + weighted_mean + last_token; }
  std::string to_string() const;  // "mean", "cls+max", ...
};

// hidden: [tokens, dim]; offsets: [sequences + 1]. out: [sequences, count() * dim].
void pool_tokens(const float* hidden, size_t dim, std::span<const uint32_t> offsets, const PoolingModes& modes,
          float* out);

// Scales each row of x [rows, dim] to unit L2 norm (sentence-transformers'
// Normalize: torch.nn.functional.normalize, which divides by max(norm, 1e-12)).
void l2_normalize(float* x, size_t rows, size_t dim);

}  // namespace keel::bert
