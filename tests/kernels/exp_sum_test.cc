// exp_shifted_sum against its scalar twin (std::exp in double) over a grid of
// lengths, shifts, scales and special values.
#include "kernels/exp_sum.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace keel::kernels {
namespace {

TEST(ExpShiftedSum, MatchesStdExpOverAGrid) {
  std::mt19937 rng(3);
  for (size_t n : {0, 1, 7, 15, 16, 17, 255, 4096, 4097, 70001}) {
    for (float sd : {0.5f, 4.0f, 30.0f}) {
      for (float scale : {0.25f, 1.0f, 1.7f}) {
        std::normal_distribution<float> d(0.0f, sd);
        std::vector<float> x(n), y(n);
        for (auto& v : x) v = d(rng);
        float shift = n ? *std::max_element(x.begin(), x.end()) : 0.0f;
        double got = exp_shifted_sum(x.data(), y.data(), n, shift, scale);
        double want = 0.0;
        for (size_t i = 0; i < n; ++i) {
          double t = (double(x[i]) - shift) * scale;
          double e = t < -87.0 ? 0.0 : std::exp(double((x[i] - shift) * scale));
          want += e;
          ASSERT_NEAR(y[i], e, 4e-7 * e + 1e-37) << "n " << n << " i " << i << " t " << t;
        }
        EXPECT_NEAR(got, want, 1e-6 * want + 1e-30) << "n " << n;
        EXPECT_EQ(exp_shifted_sum(x.data(), nullptr, n, shift, scale), got);
      }
    }
  }
}

TEST(ExpShiftedSum, SpecialValues) {
  std::vector<float> x = {0.0f, -INFINITY, NAN, -100.0f, -86.0f, 88.0f, 1.0f};
  std::vector<float> y(x.size());
  exp_shifted_sum(x.data(), y.data(), x.size(), 0.0f, 1.0f);
  EXPECT_FLOAT_EQ(y[0], 1.0f);
  EXPECT_EQ(y[1], 0.0f);
  EXPECT_EQ(y[2], 0.0f);
  EXPECT_EQ(y[3], 0.0f);
  EXPECT_NEAR(y[4], std::exp(-86.0), 1e-6 * std::exp(-86.0));
  EXPECT_NEAR(y[5], std::exp(88.0), 1e-6 * std::exp(88.0));
  EXPECT_NEAR(y[6], std::exp(1.0), 1e-6);
  // In place.
  exp_shifted_sum(x.data(), x.data(), x.size(), 0.0f, 1.0f);
  EXPECT_EQ(x, y);
}

}  // namespace
}  // namespace keel::kernels
