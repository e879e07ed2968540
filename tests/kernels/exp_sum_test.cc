// exp_shifted_sum on every ISA tier this CPU runs (the scalar twin is the
// Scalar tier) against std::exp in double over a grid of lengths, shifts,
// scales and special values.
#include "kernels/exp_sum.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/linear.h"

namespace keel::kernels {
namespace {

using testing::available_isas;

TEST(ExpShiftedSum, MatchesStdExpOverAGrid) {
  for (Isa isa : available_isas()) {
    ScopedKernelIsa scoped(isa);
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
            ASSERT_NEAR(y[i], e, 4e-7 * e + 1e-37) << "isa " << int(isa) << " n " << n << " i " << i << " t " << t;
          }
          EXPECT_NEAR(got, want, 1e-6 * want + 1e-30) << "isa " << int(isa) << " n " << n;
          EXPECT_EQ(exp_shifted_sum(x.data(), nullptr, n, shift, scale), got);
        }
      }
    }
  }
}

TEST(ExpShiftedSum, SpecialValues) {
  for (Isa isa : available_isas()) {
    ScopedKernelIsa scoped(isa);
    // The specials at positions 0-6 and 16-22: in the vector loop and in the tail.
    const std::vector<float> specials = {0.0f, -INFINITY, NAN, -100.0f, -86.0f, 88.0f, 1.0f};
    std::vector<float> x(23, 0.0f);
    for (size_t i = 0; i < specials.size(); ++i) x[i] = x[16 + i] = specials[i];
    std::vector<float> y(x.size());
    exp_shifted_sum(x.data(), y.data(), x.size(), 0.0f, 1.0f);
    for (size_t at : {size_t{0}, size_t{16}}) {
      EXPECT_FLOAT_EQ(y[at + 0], 1.0f) << at;
      EXPECT_EQ(y[at + 1], 0.0f) << at;
      EXPECT_EQ(y[at + 2], 0.0f) << at;
      EXPECT_EQ(y[at + 3], 0.0f) << at;
      EXPECT_NEAR(y[at + 4], std::exp(-86.0), 1e-6 * std::exp(-86.0)) << at;
      EXPECT_NEAR(y[at + 5], std::exp(88.0), 1e-6 * std::exp(88.0)) << at;
      EXPECT_NEAR(y[at + 6], std::exp(1.0), 1e-6) << at;
    }
    // In place.
    exp_shifted_sum(x.data(), x.data(), x.size(), 0.0f, 1.0f);
    EXPECT_EQ(x, y);
  }
}

}  // namespace
}  // namespace keel::kernels
