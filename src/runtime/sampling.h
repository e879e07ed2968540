// Choosing the next token from a decoder's logits, and holding back text that
// may be the start of a stop string.
//
// The order of operations follows llama.cpp's and HF's samplers: penalties on
// the raw logits (repetition, then frequency/presence), temperature, then the
// truncations (top-k, top-p, min-p), then a draw from the renormalized
// distribution. temperature == 0 is greedy (argmax; ties to the lowest id).
// A Sampler draws from its own seeded generator, so the same seed and inputs
// give the same tokens on every run and platform.
//
// Exact semantics (tests/runtime/sampling_test.cc and the PyTorch reference
// tests/reference/sampling_ref.py check them):
// - repetition_penalty (HF RepetitionPenaltyLogitsProcessor): each distinct
//   token of the history window: logit > 0 ? logit / p : logit * p.
// - frequency/presence (OpenAI): logit -= count * f + (count > 0) * p.
// - temperature: logit / T. T == 0 is greedy on the penalized logits.
// - top_k (HF TopKLogitsWarper): keeps tokens whose logit >= the k-th
//   largest, so ties at the boundary are all kept.
// - top_p: order by probability (descending, ties by lower id); keeps the
//   smallest prefix whose probabilities sum to >= top_p (at least one).
// - min_p: keeps tokens whose probability >= min_p * the top probability.
// - history ids outside [0, vocab) are ignored; NaN logits count as -inf.
// Cost: O(vocab) per sample plus a partial sort of the kept candidates;
// top_p alone sorts only as many candidates as it needs (growing chunks).
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

struct TokenProb {
  int32_t id = -1;
  float prob = 0.0f;
};

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);

  // The distribution sample() draws from after penalties, temperature and
  // truncation: the kept tokens with renormalized probabilities, most likely
  // first (ties: lower id first). Greedy: the argmax with probability 1.
  // logits may be overwritten, as in sample().
  std::vector<TokenProb> distribution(float* logits, size_t vocab, std::span<const int32_t> history);

  // logits: `vocab` floats for the next position (may be overwritten).
  // history: the sequence's tokens so far (prompt and generated), for penalties.
  SampledToken sample(float* logits, size_t vocab, std::span<const int32_t> history);

  const SamplingParams& params() const { return params_; }

 private:
  // Penalties in place; remembers the raw logits it changed in changed_.
  void apply_penalties(float* logits, size_t vocab, std::span<const int32_t> history);
  // Fills scratch_ with the kept (prob, id) pairs summing to 1; most likely
  // first when sort_all (else only as sorted as the truncations needed).
  void truncate(const float* logits, size_t vocab, bool sort_all);

  SamplingParams params_;
  uint64_t rng_state_;
  std::vector<std::pair<float, int32_t>> scratch_;  // candidates: (value, id)
  std::vector<float> probs_;                        // unnormalized probabilities over the vocabulary
  std::vector<float> kth_tmp_;                      // top_k selection
  bool dense_ = false;                              // plain temperature: draw from probs_ / dense_z_
  double dense_z_ = 0.0;
  std::vector<int32_t> window_;                     // sorted copy of the history window
  std::vector<std::pair<int32_t, float>> changed_;  // (id, raw logit) of penalized tokens
};

// Streams generated text while watching for stop strings. Text that could
// still become a stop string is held back until it cannot: the longest
// suffix of the pending text that is a prefix of any stop string. Stop
// strings may span several pushes; with several stops, the earliest match in
// the text wins. Empty stop strings are ignored.
// UTF-8 is the caller's concern: push whole characters (see core/utf8_stream.h
// for a streamer that holds back a token's incomplete trailing bytes); then
// every returned piece is valid UTF-8, since stop strings start on a
// character boundary. A returned string never contains part of a stop.
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
