// Choosing the next token from a decoder's logits, and holding back text that
// may be the start of a stop string.
//
// The order of operations follows llama.cpp's and HF's samplers: penalties on
// the raw logits (repetition, then frequency/presence), temperature, then the
// truncations (top-k, top-p, min-p), then a draw from the renormalized
// distribution. temperature == 0 is greedy (argmax; ties to the lowest id).
// A Sampler draws from its own seeded generator, so the same seed and inputs
// give the same tokens on every run and platform.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace keel {

struct SamplingParams {
  float temperature = 1.0f;         // 0: greedy
  int32_t top_k = 0;                // 0: off
  float top_p = 1.0f;               // 1: off
  float min_p = 0.0f;               // 0: off
  float repetition_penalty = 1.0f;  // 1: off (HF/CTRL style: logit / p if > 0, * p if < 0)
  float frequency_penalty = 0.0f;   // OpenAI style: logit -= count * f
  float presence_penalty = 0.0f;    // logit -= (count > 0) * p
  int32_t penalty_last_n = 0;       // penalties look at the last n tokens of the history; 0: all
  uint64_t seed = 0;
  int32_t top_logprobs = 0;         // alternatives to report with each token (0..20)
};

// Checks ranges (temperature >= 0, 0 < top_p <= 1, 0 <= min_p <= 1, top_k >= 0, ...).
Status validate(const SamplingParams& p);

struct TokenLogprob {
  int32_t id = -1;
  float logprob = 0.0f;  // log-softmax of the raw logits (before penalties / temperature), as OpenAI reports
};

struct SampledToken {
  int32_t id = -1;
  float logprob = 0.0f;              // of `id`, as in TokenLogprob
  std::vector<TokenLogprob> top;     // top_logprobs alternatives, most likely first
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);

  // logits: `vocab` floats for the next position (may be overwritten).
  // history: the sequence's tokens so far (prompt and generated), for penalties.
  SampledToken sample(float* logits, size_t vocab, std::span<const int32_t> history);

  const SamplingParams& params() const { return params_; }

 private:
  SamplingParams params_;
  uint64_t rng_state_;
  std::vector<std::pair<float, int32_t>> scratch_;
};

// Streams generated text while watching for stop strings. Text that could
// still become a stop string is held back until it cannot.
class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops);

  // Appends newly decoded text; returns what can be emitted now. Once a stop
  // string appears, returns the text before it and stopped() turns true;
  // later pushes return "".
  std::string push(std::string_view text);
  // At the end of generation: the held-back text (empty after a stop).
  std::string flush();
  bool stopped() const { return stopped_; }

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
};

}  // namespace keel
