#include "runtime/sampling.h"

#include "kernels/argmax.h"
#include "kernels/exp_sum.h"

#include <algorithm>
#include <bit>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <functional>
#include <queue>
#include <utility>

namespace keel {
namespace {

uint64_t splitmix64(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Uniform in [0, 1) with 53 random bits.
double uniform01(uint64_t& s) { return double(splitmix64(s) >> 11) * 0x1.0p-53; }

// "a before b" in the candidate order: larger value first, then lower id.
// A functor, so the std algorithms inline it.
struct Before {
  bool operator()(const std::pair<float, int32_t>& a, const std::pair<float, int32_t>& b) const {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  }
};
constexpr Before before{};

// Candidate sets larger than this use the histogram top_p cut.
constexpr size_t kHistogramTopP = 8192;

// The k-th largest value of x (1 <= k <= n). Small k: one pass with a
// min-heap of k values (few heap updates for logits in no particular order);
// large k: nth_element on a copy.
float kth_largest(const float* x, size_t n, size_t k, std::vector<float>& tmp) {
  if (k <= 1024) {
    tmp.assign(x, x + k);
    std::make_heap(tmp.begin(), tmp.end(), std::greater<float>());
    for (size_t i = k; i < n; ++i) {
      if (x[i] > tmp.front()) {
        std::pop_heap(tmp.begin(), tmp.end(), std::greater<float>());
        tmp.back() = x[i];
        std::push_heap(tmp.begin(), tmp.end(), std::greater<float>());
      }
    }
    return tmp.front();
  }
  tmp.assign(x, x + n);
  std::nth_element(tmp.begin(), tmp.begin() + long(k - 1), tmp.end(), std::greater<float>());
  return tmp[k - 1];
}

// NaN -> -inf, +inf -> FLT_MAX, so max/exp arithmetic stays defined. On the
// bits: integer selects vectorize at the baseline ISA, float compares branch.
void sanitize(float* x, size_t n) {
  constexpr uint32_t kInf = 0x7f800000u;
  const uint32_t neg_inf = std::bit_cast<uint32_t>(-INFINITY), flt_max = std::bit_cast<uint32_t>(FLT_MAX);
  for (size_t i = 0; i < n; ++i) {
    uint32_t b;
    std::memcpy(&b, x + i, 4);
    b = (b & 0x7fffffffu) > kInf ? neg_inf : (b == kInf ? flt_max : b);
    std::memcpy(x + i, &b, 4);
  }
}

using kernels::argmax;

// top_p cut on probabilities c (summing to 1): sorts only as far as needed,
// in growing chunks (heap selection: one comparison per candidate outside
// the chunk). Leaves c[0, keep) sorted; returns keep.
size_t top_p_by_chunks(std::vector<std::pair<float, int32_t>>& c, double p) {
  size_t sorted = 0;
  size_t chunk = std::min<size_t>(c.size(), 256);
  double cum = 0.0;
  while (true) {
    std::partial_sort(c.begin() + long(sorted), c.begin() + long(chunk), c.end(), before);
    for (size_t i = sorted; i < chunk; ++i) {
      cum += c[i].first;
      if (cum >= p) return i + 1;
    }
    sorted = chunk;
    if (chunk == c.size()) break;
    chunk = std::min(c.size(), chunk * 4);
  }
  return c.size();  // rounding: the sum fell short of p
}

// The same cut in O(n) for large candidate sets, where the kept prefix can
// be tens of thousands of tokens: bucket the probabilities by their float
// exponent and two mantissa bits (a key that grows with the probability),
// find the bucket where the cumulative mass from the top crosses p, and sort
// only that bucket. Moves the kept candidates to c[0, keep) (unsorted except
// the crossing bucket's part); returns keep.
size_t top_p_by_histogram(std::vector<std::pair<float, int32_t>>& c, double p) {
  constexpr int kBuckets = 512;
  auto key = [](float prob) {
    uint32_t bits;
    std::memcpy(&bits, &prob, sizeof bits);
    return int(std::min<uint32_t>(bits >> 21, kBuckets - 1));  // prob in [0, 1]: exponent <= 127
  };
  double mass[kBuckets] = {};
  for (const auto& e : c) mass[key(e.first)] += e.first;
  double cum = 0.0;
  int cross = -1;
  for (int k = kBuckets - 1; k >= 0; --k) {
    if (cum + mass[k] >= p) { cross = k; break; }
    cum += mass[k];
  }
  if (cross < 0) return c.size();  // rounding: the sum fell short of p
  auto hi_end = std::partition(c.begin(), c.end(), [&](const auto& e) { return key(e.first) > cross; });
  auto b_end = std::partition(hi_end, c.end(), [&](const auto& e) { return key(e.first) == cross; });
  std::sort(hi_end, b_end, before);
  for (auto it = hi_end; it != b_end; ++it) {
    cum += it->first;
    if (cum >= p) return size_t(it - c.begin()) + 1;
  }
  return size_t(b_end - c.begin());
}
}  // namespace

Status validate(const SamplingParams& p) {
  if (!(p.temperature >= 0.0f) || !std::isfinite(p.temperature))
    return Error("temperature must be a finite number >= 0, got ", p.temperature);
  if (p.top_k < 0) return Error("top_k must be >= 0 (0: off), got ", p.top_k);
  if (!(p.top_p > 0.0f && p.top_p <= 1.0f)) return Error("top_p must be in (0, 1], got ", p.top_p);
  if (!(p.min_p >= 0.0f && p.min_p <= 1.0f)) return Error("min_p must be in [0, 1], got ", p.min_p);
  if (!(p.repetition_penalty > 0.0f) || !std::isfinite(p.repetition_penalty))
    return Error("repetition_penalty must be a finite number > 0 (1: off), got ", p.repetition_penalty);
  if (!(p.frequency_penalty >= -2.0f && p.frequency_penalty <= 2.0f))
    return Error("frequency_penalty must be in [-2, 2], got ", p.frequency_penalty);
  if (!(p.presence_penalty >= -2.0f && p.presence_penalty <= 2.0f))
    return Error("presence_penalty must be in [-2, 2], got ", p.presence_penalty);
  if (p.penalty_last_n < 0) return Error("penalty_last_n must be >= 0 (0: whole history), got ", p.penalty_last_n);
  if (p.top_logprobs < 0 || p.top_logprobs > 20) return Error("top_logprobs must be in [0, 20], got ", p.top_logprobs);
  return Status::Ok();
}

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_state_(params.seed) {}

void Sampler::apply_penalties(float* logits, size_t vocab, std::span<const int32_t> history) {
  changed_.clear();
  const bool rep = params_.repetition_penalty != 1.0f;
  const bool freq = params_.frequency_penalty != 0.0f || params_.presence_penalty != 0.0f;
  if ((!rep && !freq) || history.empty()) return;
  if (params_.penalty_last_n > 0 && history.size() > size_t(params_.penalty_last_n))
    history = history.last(size_t(params_.penalty_last_n));
  window_.assign(history.begin(), history.end());
  std::sort(window_.begin(), window_.end());
  for (size_t i = 0; i < window_.size();) {
    size_t j = i;
    while (j < window_.size() && window_[j] == window_[i]) ++j;
    const int32_t id = window_[i];
    const float count = float(j - i);
    i = j;
    if (id < 0 || size_t(id) >= vocab) continue;
    float& l = logits[id];
    changed_.emplace_back(id, l);
    if (rep) l = l > 0.0f ? l / params_.repetition_penalty : l * params_.repetition_penalty;
    if (freq) l -= count * params_.frequency_penalty + params_.presence_penalty;
  }
}

void Sampler::truncate(const float* logits, size_t vocab, bool sort_all) {
  const float inv_t = 1.0f / params_.temperature;
  auto& c = scratch_;
  c.clear();
  dense_ = false;
  const float mx = logits[argmax(logits, vocab)];
  const float shift = mx == -INFINITY ? 0.0f : mx;  // every logit -inf: exp gives 0 everywhere (handled below)
  if (params_.top_k > 0 && size_t(params_.top_k) < vocab) {
    // top_k: the k-th largest logit by partial selection, then every token
    // at or above it (HF keeps ties at the boundary).
    const float kth = kth_largest(logits, vocab, size_t(params_.top_k), kth_tmp_);
    for (size_t i = 0; i < vocab; ++i)
      if (logits[i] >= kth) c.push_back({logits[i], int32_t(i)});
    double z = 0.0;
    for (auto& e : c) z += e.first = std::exp((e.first - shift) * inv_t);
    if (!(z > 0.0)) {  // all -inf
      for (auto& e : c) e.first = 1.0f;
      z = double(c.size());
    }
    const float inv_z = float(1.0 / z);
    for (auto& e : c) e.first *= inv_z;
  } else {
    // Probabilities of the whole vocabulary in one vectorized pass.
    probs_.resize(vocab);
    double z = kernels::exp_shifted_sum(logits, probs_.data(), vocab, shift, inv_t);
    if (!(z > 0.0)) {
      std::fill(probs_.begin(), probs_.end(), 1.0f);
      z = double(vocab);
    }
    const float inv_z = float(1.0 / z);
    if (params_.top_p < 1.0f) {
      c.reserve(vocab);
      for (size_t i = 0; i < vocab; ++i)
        if (probs_[i] > 0.0f) c.push_back({probs_[i] * inv_z, int32_t(i)});
    } else if (params_.min_p > 0.0f) {
      // Only the survivors become candidates: p >= min_p * p_max.
      const float thr = params_.min_p * probs_[argmax(probs_.data(), vocab)];
      for (size_t i = 0; i < vocab; ++i)
        if (probs_[i] >= thr && probs_[i] > 0.0f) c.push_back({probs_[i] * inv_z, int32_t(i)});
    } else if (!sort_all) {
      dense_ = true;  // plain temperature: draw from probs_ directly
      dense_z_ = z;
      return;
    } else {
      for (size_t i = 0; i < vocab; ++i)
        if (probs_[i] > 0.0f) c.push_back({probs_[i] * inv_z, int32_t(i)});
    }
  }
  // top_p: the smallest prefix (in candidate order) reaching p.
  size_t sorted = 0;
  if (params_.top_p < 1.0f && c.size() > 1) {
    // Peaked distributions (the usual case) are cut within the first chunk;
    // large flat ones go to the O(n) histogram cut.
    const size_t first = std::min<size_t>(c.size(), 256);
    std::partial_sort(c.begin(), c.begin() + long(first), c.end(), before);
    double cum = 0.0;
    size_t keep = 0;
    for (size_t i = 0; i < first && !keep; ++i)
      if ((cum += c[i].first) >= params_.top_p) keep = i + 1;
    if (keep) {
      sorted = keep;
    } else if (c.size() > kHistogramTopP) {
      keep = top_p_by_histogram(c, params_.top_p);
      sorted = 0;  // the histogram cut leaves its prefix unsorted
    } else {
      keep = top_p_by_chunks(c, params_.top_p);
      sorted = keep;
    }
    c.resize(keep);
  }
  // min_p: relative to the most likely candidate.
  if (params_.min_p > 0.0f && c.size() > 1) {
    float top = 0.0f;
    for (const auto& e : c) top = std::max(top, e.first);
    const float thr = params_.min_p * top;
    size_t n = 0;
    for (size_t i = 0; i < c.size(); ++i)
      if (c[i].first >= thr) c[n++] = c[i];
    c.resize(n);
    sorted = std::min(sorted, n);  // filtering keeps the order of the sorted prefix
  }
  if (sort_all && sorted < c.size()) std::sort(c.begin() + long(sorted), c.end(), before);
  double s = 0.0;
  for (const auto& e : c) s += e.first;
  const float inv_s = float(1.0 / s);
  for (auto& e : c) e.first *= inv_s;
}

std::vector<TokenProb> Sampler::distribution(float* logits, size_t vocab, std::span<const int32_t> history) {
  std::vector<TokenProb> out;
  if (vocab == 0) return out;
  sanitize(logits, vocab);
  apply_penalties(logits, vocab, history);
  if (params_.temperature == 0.0f) {
    out.push_back({int32_t(argmax(logits, vocab)), 1.0f});
    return out;
  }
  truncate(logits, vocab, /*sort_all=*/true);
  out.reserve(scratch_.size());
  for (const auto& [p, id] : scratch_) out.push_back({id, p});
  return out;
}

SampledToken Sampler::sample(float* logits, size_t vocab, std::span<const int32_t> history) {
  SampledToken out;
  if (vocab == 0) return out;
  sanitize(logits, vocab);
  // Raw log-softmax statistics first (logprobs are reported on the raw logits).
  const float mx = logits[argmax(logits, vocab)];
  const double z = mx == -INFINITY ? double(vocab) : kernels::exp_shifted_sum(logits, nullptr, vocab, mx, 1.0f);
  const double log_z = std::log(z);
  auto logprob = [&](float raw) {
    if (mx == -INFINITY) return float(-log_z);
    return float(double(raw - mx) - log_z);
  };
  if (params_.top_logprobs > 0) {
    // The N largest raw logits: a min-heap of size N over one pass.
    const size_t n = std::min<size_t>(size_t(params_.top_logprobs), vocab);
    auto worse = [](const std::pair<float, int32_t>& a, const std::pair<float, int32_t>& b) { return before(a, b); };
    std::priority_queue<std::pair<float, int32_t>, std::vector<std::pair<float, int32_t>>, decltype(worse)> heap(worse);
    for (size_t i = 0; i < vocab; ++i) {
      std::pair<float, int32_t> e{logits[i], int32_t(i)};
      if (heap.size() < n) heap.push(e);
      else if (before(e, heap.top())) { heap.pop(); heap.push(e); }
    }
    out.top.resize(heap.size());
    for (size_t k = heap.size(); k-- > 0;) {
      out.top[k] = {heap.top().second, logprob(heap.top().first)};
      heap.pop();
    }
  }
  apply_penalties(logits, vocab, history);
  if (params_.temperature == 0.0f) {
    out.id = int32_t(argmax(logits, vocab));
  } else {
    // Inverse CDF over the candidates (in candidate order: sorted where a
    // truncation sorted them, else by id; either is deterministic).
    truncate(logits, vocab, /*sort_all=*/false);
    double u = uniform01(rng_state_);
    if (dense_) {
      // u in units of the unnormalized probabilities; the last nonzero token
      // catches rounding at the top end.
      u *= dense_z_;
      out.id = -1;
      double cum = 0.0;
      for (size_t i = 0; i < vocab; ++i) {
        if (probs_[i] == 0.0f) continue;
        out.id = int32_t(i);
        cum += probs_[i];
        if (u < cum) break;
      }
    } else {
      out.id = scratch_.back().second;
      double cum = 0.0;
      for (const auto& [p, id] : scratch_) {
        cum += p;
        if (u < cum) { out.id = id; break; }
      }
    }
  }
  float raw = logits[out.id];
  for (const auto& [id, v] : changed_)
    if (id == out.id) raw = v;
  out.logprob = logprob(raw);
  return out;
}

StopMatcher::StopMatcher(std::vector<std::string> stops) {
  for (auto& s : stops)
    if (!s.empty()) stops_.push_back(std::move(s));
}

std::string StopMatcher::push(std::string_view text) {
  if (stopped_) return "";
  held_.append(text);
  // The earliest complete stop, if any.
  size_t first = std::string::npos;
  for (const auto& s : stops_) first = std::min(first, held_.find(s));
  if (first != std::string::npos) {
    stopped_ = true;
    std::string out = held_.substr(0, first);
    held_.clear();
    return out;
  }
  // Hold back the longest suffix that is a proper prefix of a stop.
  size_t hold = 0;
  for (const auto& s : stops_) {
    for (size_t len = std::min(s.size() - 1, held_.size()); len > hold; --len) {
      if (held_.compare(held_.size() - len, len, s, 0, len) == 0) {
        hold = len;
        break;
      }
    }
  }
  std::string out = held_.substr(0, held_.size() - hold);
  held_.erase(0, held_.size() - hold);
  return out;
}

std::string StopMatcher::flush() { return std::exchange(held_, std::string()); }

}  // namespace keel
