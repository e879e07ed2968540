// argmax on every ISA tier this CPU runs against the loop that defines it
// (first strict improvement wins), over lengths, ties, signed zeros, NaN and
// infinities at every position class (vector body, tail, first element).
#include "kernels/argmax.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/linear.h"

namespace keel::kernels {
namespace {

using testing::available_isas;

size_t reference(const std::vector<float>& x) {
  size_t best = 0;
  for (size_t i = 1; i < x.size(); ++i)
    if (x[i] > x[best]) best = i;
  return best;
}

TEST(Argmax, MatchesTheDefiningLoop) {
  std::mt19937 rng(11);
  const float specials[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 3.0f};
  for (Isa isa : available_isas()) {
    ScopedKernelIsa scoped(isa);
    EXPECT_EQ(argmax(nullptr, 0), 0u);
    for (size_t n : {1, 2, 7, 8, 31, 32, 33, 63, 64, 100, 1000, 32000, 151936}) {
      for (int trial = 0; trial < 24; ++trial) {
        // Few distinct values, so ties are common (all negative in some
        // trials); some trials plant specials.
        std::uniform_int_distribution<int> level(trial % 4 == 2 ? -40 : -4, trial % 4 == 2 ? -1 : trial % 3 ? 40 : 3);
        std::vector<float> x(n);
        for (float& v : x) v = static_cast<float>(level(rng));
        std::uniform_int_distribution<size_t> at(0, n - 1);
        if (trial % 2 == 1)
          for (int k = 0; k < 3; ++k) x[at(rng)] = specials[(trial + k) % 6];
        if (trial % 8 == 7) x[0] = NAN;
        if (trial % 8 == 5) x[n - 1] = 1000.0f;
        if (trial % 6 == 3) {  // a unique maximum, then NaN at the same offsets of the next vectors
          const size_t p = at(rng);
          x[p] = 500.0f;
          for (size_t q = p + 8; q < n && q <= p + 64; q += 8) x[q] = NAN;
        }
        ASSERT_EQ(argmax(x.data(), n), reference(x)) << "isa " << int(isa) << " n " << n << " trial " << trial;
      }
    }
    // Signed zeros: the first zero after the negatives wins, whatever its sign.
    std::vector<float> z(40, -1.0f);
    z[9] = -0.0f, z[20] = 0.0f;
    EXPECT_EQ(argmax(z.data(), z.size()), 9u);
    z[9] = 0.0f, z[20] = -0.0f;
    EXPECT_EQ(argmax(z.data(), z.size()), 9u);
  }
}

}  // namespace
}  // namespace keel::kernels
