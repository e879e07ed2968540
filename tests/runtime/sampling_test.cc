// Sampler and StopMatcher against references computed here, directly from
// the definitions (HF's logits processors, OpenAI's penalty formula): each
// truncation, the penalties, greedy ties, logprobs, seed reproducibility and
// the empirical distribution of many draws (chi-square).
#include "runtime/sampling.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <set>

namespace keel {
namespace {

std::vector<float> random_logits(size_t n, uint32_t seed, float scale = 3.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> x(n);
  for (auto& v : x) v = d(rng);
  return x;
}

// softmax(x / t) in double.
std::vector<double> softmax(const std::vector<float>& x, double t = 1.0) {
  double mx = *std::max_element(x.begin(), x.end());
  std::vector<double> p(x.size());
  double z = 0;
  for (size_t i = 0; i < x.size(); ++i) z += p[i] = std::exp((x[i] - mx) / t);
  for (auto& v : p) v /= z;
  return p;
}

// The reference pipeline on a kept mask: top-k (ties at the k-th value kept),
// top-p (smallest prefix of the probabilities sorted descending, ties by id,
// reaching p), min-p (>= min_p * max). Returns id -> renormalized prob.
// `margin` gets the distance of the top-p cumulative sum from p at the cut,
// so callers can avoid cases decided by float rounding.
std::map<int, double> reference(const std::vector<float>& logits, double t, int top_k, double top_p, double min_p,
                                double* margin = nullptr) {
  const size_t n = logits.size();
  std::vector<bool> keep(n, true);
  if (top_k > 0 && size_t(top_k) < n) {
    std::vector<float> s = logits;
    std::sort(s.begin(), s.end(), std::greater<float>());
    float kth = s[size_t(top_k) - 1];
    for (size_t i = 0; i < n; ++i) keep[i] = logits[i] >= kth;
  }
  auto renorm = [&]() {
    double mx = -1e300;
    for (size_t i = 0; i < n; ++i) if (keep[i]) mx = std::max<double>(mx, logits[i]);
    std::vector<double> p(n, 0.0);
    double z = 0;
    for (size_t i = 0; i < n; ++i) if (keep[i]) z += p[i] = std::exp((logits[i] - mx) / t);
    for (auto& v : p) v /= z;
    return p;
  };
  std::vector<double> p = renorm();
  if (margin) *margin = 1.0;
  if (top_p < 1.0) {
    std::vector<int> order;
    for (size_t i = 0; i < n; ++i) if (keep[i]) order.push_back(int(i));
    std::sort(order.begin(), order.end(), [&](int a, int b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
    double cum = 0;
    size_t cut = order.size();
    for (size_t k = 0; k < order.size(); ++k) {
      cum += p[order[k]];
      if (margin) *margin = std::min(*margin, std::fabs(cum - top_p));
      if (cum >= top_p) { cut = k + 1; break; }
    }
    for (size_t k = cut; k < order.size(); ++k) keep[order[k]] = false;
    p = renorm();
  }
  if (min_p > 0.0) {
    double top = *std::max_element(p.begin(), p.end());
    for (size_t i = 0; i < n; ++i) if (keep[i] && p[i] < min_p * top) keep[i] = false;
    p = renorm();
  }
  std::map<int, double> out;
  for (size_t i = 0; i < n; ++i) if (keep[i]) out[int(i)] = p[i];
  return out;
}

void expect_distribution(const std::vector<TokenProb>& got, const std::map<int, double>& want, const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double sum = 0;
  for (size_t k = 0; k < got.size(); ++k) {
    ASSERT_TRUE(want.count(got[k].id)) << what << ": token " << got[k].id << " should have been removed";
    EXPECT_NEAR(got[k].prob, want.at(got[k].id), 1e-5 + 1e-4 * want.at(got[k].id)) << what << " token " << got[k].id;
    if (k) {
      EXPECT_TRUE(got[k - 1].prob > got[k].prob || (got[k - 1].prob == got[k].prob && got[k - 1].id < got[k].id))
          << what << ": not sorted at " << k;
    }
    sum += got[k].prob;
  }
  EXPECT_NEAR(sum, 1.0, 1e-5) << what;
}

std::vector<TokenProb> dist(SamplingParams p, std::vector<float> logits, std::vector<int32_t> history = {}) {
  Sampler s(p);
  return s.distribution(logits.data(), logits.size(), history);
}

TEST(Sampling, GreedyIsArgmaxAndTiesGoToTheLowestId) {
  std::vector<float> x = {0.5f, 2.0f, -1.0f, 2.0f, 1.9f};
  Sampler s({.temperature = 0.0f});
  for (int i = 0; i < 5; ++i) {
    auto y = x;
    EXPECT_EQ(s.sample(y.data(), y.size(), {}).id, 1);
  }
  auto big = random_logits(151936, 7);
  size_t want = std::max_element(big.begin(), big.end()) - big.begin();  // first maximum
  EXPECT_EQ(s.sample(big.data(), big.size(), {}).id, int32_t(want));
}

TEST(Sampling, TopKMatchesReferenceIncludingTiesAtTheBoundary) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    auto x = random_logits(1000, seed);
    int k = int(1 + seed * 37 % 200);
    float t = 0.3f + 0.1f * float(seed % 10);
    expect_distribution(dist({.temperature = t, .top_k = k}, x), reference(x, t, k, 1.0, 0.0), "top_k");
  }
  // Ties: the 2nd and 3rd largest are equal; top_k = 2 keeps both (HF semantics).
  std::vector<float> x = {1.0f, 3.0f, 2.0f, 2.0f, 0.0f};
  auto d = dist({.temperature = 1.0f, .top_k = 2}, x);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].id, 1);
  EXPECT_EQ(d[1].id, 2);
  EXPECT_EQ(d[2].id, 3);
  expect_distribution(d, reference(x, 1.0, 2, 1.0, 0.0), "top_k ties");
  // top_k >= vocab is no truncation.
  expect_distribution(dist({.temperature = 1.0f, .top_k = 5}, x), reference(x, 1.0, 0, 1.0, 0.0), "top_k = vocab");
}

TEST(Sampling, TopPKeepsTheSmallestPrefixReachingP) {
  int checked = 0;
  for (uint32_t seed = 1; checked < 30 && seed < 200; ++seed) {
    // Flat and peaked distributions, small and 32k vocabularies (the latter
    // needs several growing partial sorts).
    size_t n = seed % 3 == 0 ? 32000 : 500;
    auto x = random_logits(n, seed, seed % 2 ? 1.0f : 4.0f);
    double p = 0.05 + 0.9 * double(seed % 17) / 16.0;
    float t = 0.5f + 0.25f * float(seed % 5);
    double margin;
    auto want = reference(x, t, 0, p, 0.0, &margin);
    if (margin < 1e-5) continue;  // decided by rounding: not a meaningful case
    expect_distribution(dist({.temperature = t, .top_p = float(p)}, x), want, "top_p");
    ++checked;
  }
  EXPECT_EQ(checked, 30);
  // Hand case: probabilities 0.5, 0.25, 0.125, 0.125 (log2 logits).
  std::vector<float> x = {std::log(0.125f), std::log(0.5f), std::log(0.125f), std::log(0.25f)};
  auto d = dist({.temperature = 1.0f, .top_p = 0.7f}, x);
  ASSERT_EQ(d.size(), 2u);  // 0.5 + 0.25 >= 0.7
  EXPECT_EQ(d[0].id, 1);
  EXPECT_EQ(d[1].id, 3);
  EXPECT_NEAR(d[0].prob, 2.0 / 3.0, 1e-6);
  d = dist({.temperature = 1.0f, .top_p = 0.8f}, x);  // needs a third: the tie goes to the lower id
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[2].id, 0);
  d = dist({.temperature = 1.0f, .top_p = 0.01f}, x);  // always at least one
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].id, 1);
}

TEST(Sampling, MinPAndTheFullPipelineMatchReference) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    auto x = random_logits(2000, 100 + seed);
    double mp = 0.01 * double(seed);
    expect_distribution(dist({.temperature = 1.0f, .min_p = float(mp)}, x), reference(x, 1.0, 0, 1.0, mp), "min_p");
  }
  int checked = 0;
  for (uint32_t seed = 1; checked < 20 && seed < 200; ++seed) {
    auto x = random_logits(5000, 300 + seed, 2.0f);
    int k = 10 + int(seed * 13 % 300);
    double p = 0.5 + 0.45 * double(seed % 7) / 6.0, mp = 0.02 * double(seed % 5);
    float t = 0.6f + 0.2f * float(seed % 4);
    double margin;
    auto want = reference(x, t, k, p, mp, &margin);
    if (margin < 1e-5) continue;
    expect_distribution(dist({.temperature = t, .top_k = k, .top_p = float(p), .min_p = float(mp)}, x), want,
                        "top_k+top_p+min_p");
    ++checked;
  }
  EXPECT_EQ(checked, 20);
}

TEST(Sampling, RepetitionPenaltyFollowsHfSemantics) {
  // HF RepetitionPenaltyLogitsProcessor: positive logits divided, negative
  // multiplied, once per distinct token however often it repeats.
  std::vector<float> x = {2.0f, -1.0f, 0.5f, 3.0f, -2.0f};
  std::vector<int32_t> history = {0, 1, 1, 1, 4, 99, -3};  // 99 and -3 are out of range: ignored
  std::vector<float> want = {2.0f / 1.5f, -1.5f, 0.5f, 3.0f, -3.0f};
  expect_distribution(dist({.temperature = 1.0f, .repetition_penalty = 1.5f}, x, history),
                      reference(want, 1.0, 0, 1.0, 0.0), "repetition");
  // Greedy sees the penalty: token 3 has no penalty, 0 has 2.0 -> 1.33.
  std::vector<float> y = {3.0f, 2.9f};
  Sampler g({.temperature = 0.0f, .repetition_penalty = 2.0f});
  EXPECT_EQ(g.sample(y.data(), y.size(), std::vector<int32_t>{0}).id, 1);
}

TEST(Sampling, FrequencyAndPresencePenaltiesFollowOpenAi) {
  // logit -= count * frequency + (count > 0) * presence
  std::vector<float> x = {1.0f, 1.0f, 1.0f, 1.0f};
  std::vector<int32_t> history = {0, 0, 0, 2};
  std::vector<float> want = {1.0f - 3 * 0.5f - 0.25f, 1.0f, 1.0f - 0.5f - 0.25f, 1.0f};
  expect_distribution(dist({.temperature = 1.0f, .frequency_penalty = 0.5f, .presence_penalty = 0.25f}, x, history),
                      reference(want, 1.0, 0, 1.0, 0.0), "frequency/presence");
  // penalty_last_n = 2 looks only at {0, 2}.
  std::vector<float> want_n = {1.0f - 0.5f - 0.25f, 1.0f, 1.0f - 0.5f - 0.25f, 1.0f};
  expect_distribution(dist({.temperature = 1.0f, .frequency_penalty = 0.5f, .presence_penalty = 0.25f,
                            .penalty_last_n = 2}, x, history),
                      reference(want_n, 1.0, 0, 1.0, 0.0), "penalty_last_n");
  // Repetition first, then frequency/presence (the order matters for negative logits).
  std::vector<float> z = {-1.0f, 0.0f};
  std::vector<float> want_z = {-1.0f * 2.0f - 1.0f - 0.5f, 0.0f};
  expect_distribution(dist({.temperature = 1.0f, .repetition_penalty = 2.0f, .frequency_penalty = 1.0f,
                            .presence_penalty = 0.5f}, z, std::vector<int32_t>{0}),
                      reference(want_z, 1.0, 0, 1.0, 0.0), "order");
}

TEST(Sampling, LogprobsAreTheRawLogSoftmax) {
  auto x = random_logits(20, 3);
  auto p = softmax(x);
  Sampler s({.temperature = 0.7f, .top_k = 5, .repetition_penalty = 1.3f, .top_logprobs = 20});
  auto y = x;
  std::vector<int32_t> hist = {1, 2, 3};
  SampledToken t = s.sample(y.data(), y.size(), hist);
  // The chosen token's logprob is on the raw logits, before penalties.
  EXPECT_NEAR(t.logprob, std::log(p[t.id]), 1e-5);
  ASSERT_EQ(t.top.size(), 20u);
  double sum = 0;
  for (size_t k = 0; k < t.top.size(); ++k) {
    EXPECT_NEAR(t.top[k].logprob, std::log(p[t.top[k].id]), 1e-5);
    if (k) { EXPECT_GE(t.top[k - 1].logprob, t.top[k].logprob); }
    sum += std::exp(double(t.top[k].logprob));
  }
  EXPECT_NEAR(sum, 1.0, 1e-5);  // all 20 alternatives of a 20-token vocabulary
  // Top-3 of a large vocabulary are the three largest logits.
  auto big = random_logits(32000, 11);
  std::vector<int> order(big.size());
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + 3, order.end(), [&](int a, int b) { return big[a] > big[b]; });
  Sampler s3({.temperature = 1.0f, .top_logprobs = 3});
  auto b2 = big;
  auto r = s3.sample(b2.data(), b2.size(), {});
  ASSERT_EQ(r.top.size(), 3u);
  for (int k = 0; k < 3; ++k) EXPECT_EQ(r.top[k].id, order[k]);
}

TEST(Sampling, SameSeedSameTokensDifferentSeedDifferentTokens) {
  auto x = random_logits(1000, 5, 1.0f);
  auto run = [&](uint64_t seed) {
    Sampler s({.temperature = 1.0f, .top_p = 0.95f, .seed = seed});
    std::vector<int32_t> out;
    for (int i = 0; i < 500; ++i) {
      auto y = x;
      out.push_back(s.sample(y.data(), y.size(), out).id);
    }
    return out;
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
}

TEST(Sampling, DrawsFollowTheTruncatedDistribution) {
  // 100k draws; chi-square against the reference distribution.
  auto x = random_logits(64, 9, 0.5f);
  const float t = 0.8f;
  const int k = 30;
  const double p = 0.9;
  double margin;
  auto want = reference(x, t, k, p, 0.0, &margin);
  ASSERT_GT(margin, 1e-4);
  Sampler s({.temperature = t, .top_k = k, .top_p = float(p), .seed = 1234});
  std::map<int, int> counts;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    auto y = x;
    counts[s.sample(y.data(), y.size(), {}).id]++;
  }
  double chi2 = 0;
  for (const auto& [id, c] : counts) ASSERT_TRUE(want.count(id)) << "drew removed token " << id;
  for (const auto& [id, q] : want) {
    double e = q * n;
    double o = counts.count(id) ? counts[id] : 0;
    chi2 += (o - e) * (o - e) / e;
  }
  const double df = double(want.size() - 1);
  // Mean df, sd sqrt(2 df): 6 sd is a generous bound (p < 1e-6 for a correct sampler).
  EXPECT_LT(chi2, df + 6 * std::sqrt(2 * df)) << "df " << df;
  EXPECT_GT(want.size(), 5u);
}

TEST(Sampling, NanLogitsAreNeverChosenAndParamsAreValidated) {
  std::vector<float> x = {NAN, 1.0f, NAN, 0.5f};
  Sampler s({.temperature = 1.0f, .seed = 3});
  for (int i = 0; i < 200; ++i) {
    auto y = x;
    int id = s.sample(y.data(), y.size(), {}).id;
    EXPECT_TRUE(id == 1 || id == 3);
  }
  EXPECT_TRUE(validate({}).ok());
  EXPECT_FALSE(validate({.temperature = -1.0f}).ok());
  EXPECT_FALSE(validate({.top_k = -1}).ok());
  EXPECT_FALSE(validate({.top_p = 0.0f}).ok());
  EXPECT_FALSE(validate({.top_p = 1.5f}).ok());
  EXPECT_FALSE(validate({.min_p = 2.0f}).ok());
  EXPECT_FALSE(validate({.repetition_penalty = 0.0f}).ok());
  EXPECT_FALSE(validate({.frequency_penalty = 3.0f}).ok());
  EXPECT_FALSE(validate({.top_logprobs = 21}).ok());
  EXPECT_FALSE(validate({.temperature = NAN}).ok());
}

// StopMatcher ---------------------------------------------------------------

std::string feed(StopMatcher& m, const std::vector<std::string>& pieces, std::vector<std::string>* outs = nullptr) {
  std::string all;
  for (const auto& p : pieces) {
    std::string o = m.push(p);
    if (outs) outs->push_back(o);
    all += o;
  }
  return all;
}

TEST(StopMatcher, StopInsideOnePush) {
  StopMatcher m({"</s>"});
  EXPECT_EQ(m.push("hello</s>world"), "hello");
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.push("more"), "");
  EXPECT_EQ(m.flush(), "");
}

TEST(StopMatcher, HoldsBackAPossibleStartAcrossPushes) {
  StopMatcher m({"\n\nUser:"});
  std::vector<std::string> outs;
  std::string all = feed(m, {"Hi", " there\n", "\nUs", "er", ": next"}, &outs);
  EXPECT_EQ(all, "Hi there");
  EXPECT_EQ(outs[1], " there");  // "\n" held back
  EXPECT_EQ(outs[2], "");
  EXPECT_TRUE(m.stopped());
}

TEST(StopMatcher, ReleasesHeldTextWhenTheMatchFails) {
  StopMatcher m({"STOP"});
  EXPECT_EQ(m.push("ab ST"), "ab ");
  EXPECT_EQ(m.push("O"), "");
  EXPECT_EQ(m.push("P!"), "");
  EXPECT_TRUE(m.stopped());
  StopMatcher n({"STOP"});
  EXPECT_EQ(n.push("ab STO"), "ab ");
  EXPECT_EQ(n.push("RM"), "STORM");
  EXPECT_EQ(n.push("ST"), "");
  EXPECT_EQ(n.flush(), "ST");  // end of generation: the held text is released
  EXPECT_FALSE(n.stopped());
}

TEST(StopMatcher, SeveralStopsTheEarliestWins) {
  StopMatcher m({"world", "lo w", "xyz"});
  EXPECT_EQ(m.push("hello world"), "hel");
  StopMatcher n({"abcd", "bc"});
  EXPECT_EQ(n.push("xa"), "x");  // "a" may start "abcd"
  EXPECT_EQ(n.push("b"), "");   // "ab": both possible
  EXPECT_EQ(n.push("cz"), "a");  // "bc" completes first
  EXPECT_TRUE(n.stopped());
  StopMatcher e({"", "end"});  // empty stops are ignored
  EXPECT_EQ(e.push("text"), "text");
}

TEST(StopMatcher, RandomChunkingGivesTheTextBeforeTheFirstStop) {
  std::mt19937 rng(5);
  const std::vector<std::string> stops = {"<|im_end|>", "\n\n###", "ab"};
  for (int trial = 0; trial < 300; ++trial) {
    std::string text;
    const char* alphabet[] = {"a", "b", "<|im_", "end|>", "\n", "#", "x", " ", "é", "<"};
    int len = int(rng() % 40);
    for (int i = 0; i < len; ++i) text += alphabet[rng() % 10];
    size_t first = std::string::npos;
    for (const auto& s : stops) first = std::min(first, text.find(s));
    StopMatcher m(stops);
    std::string out;
    for (size_t pos = 0; pos < text.size();) {
      size_t n = 1 + rng() % 6;
      std::string piece = m.push(std::string_view(text).substr(pos, n));
      for (const auto& s : stops) EXPECT_EQ(piece.find(s), std::string::npos);
      out += piece;
      pos += n;
    }
    out += m.flush();
    EXPECT_EQ(out, first == std::string::npos ? text : text.substr(0, first)) << text;
    EXPECT_EQ(m.stopped(), first != std::string::npos);
  }
}

}  // namespace
}  // namespace keel
