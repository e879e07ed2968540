// add_layer_norm(): every ISA tier over row counts and widths (odd ones,
// below and above the vector width), with and without residual, in place and
// not, against the scalar twin and a double reference. Tolerance 1e-5 (S + 1)
// with S = |gamma| * |normalized value| + |beta|.
#include "kernels/layer_norm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/linear.h"

namespace keel::kernels {
namespace {

using testing::available_isas;
using testing::random_vector;

TEST(LayerNorm, AllIsasMatchReference) {
  ThreadPool pool(2);
  for (Isa isa : available_isas()) {
    ScopedKernelIsa scoped(isa);
    for (size_t m : {1, 3, 17, 64}) {
      for (size_t n : {1, 2, 7, 8, 15, 16, 17, 33, 384, 768, 1000}) {
        for (int variant = 0; variant < 3; ++variant) {
          const bool residual = variant != 0, in_place = variant == 2;
          const auto x0 = random_vector(m * n, 11 + m + n, 3.0f);
          auto x = x0;
          const auto r = random_vector(m * n, 12 + m + n, 2.0f);
          const auto gamma = random_vector(n, 13 + n);
          const auto beta = random_vector(n, 14 + n);
          std::vector<float> y(m * n, -1.0f), twin(m * n, -1.0f);
          float* out = in_place ? x.data() : y.data();
          add_layer_norm(x.data(), residual ? r.data() : nullptr, gamma.data(), beta.data(), 1e-12f,
                         out, m, n, m > 8 ? &pool : nullptr);
          add_layer_norm_scalar(x0.data(), residual ? r.data() : nullptr, gamma.data(), beta.data(),
                                1e-12f, twin.data(), m, n);
          const std::string where = std::string(isa_name(isa)) + " m=" + std::to_string(m) +
                                    " n=" + std::to_string(n) + " variant=" + std::to_string(variant);
          for (size_t i = 0; i < m; ++i) {
            double mean = 0.0, var = 0.0;
            for (size_t j = 0; j < n; ++j) mean += double{x0[i * n + j]} + (residual ? r[i * n + j] : 0.0);
            mean /= n;
            for (size_t j = 0; j < n; ++j) {
              const double t = double{x0[i * n + j]} + (residual ? r[i * n + j] : 0.0) - mean;
              var += t * t;
            }
            var /= n;
            for (size_t j = 0; j < n; ++j) {
              const double t = double{x0[i * n + j]} + (residual ? r[i * n + j] : 0.0);
              const double norm = (t - mean) / std::sqrt(var + 1e-12);
              const double ref = norm * gamma[j] + beta[j];
              const double tol = 1e-5 * (std::fabs(norm * gamma[j]) + std::fabs(beta[j]) + 1.0);
              ASSERT_NEAR(out[i * n + j], ref, tol) << where << " at " << i << "," << j;
              ASSERT_NEAR(twin[i * n + j], ref, tol) << where << " twin at " << i << "," << j;
            }
          }
        }
      }
    }
  }
}

TEST(LayerNorm, ConstantRowGivesBeta) {
  for (Isa isa : available_isas()) {
    ScopedKernelIsa scoped(isa);
    const size_t n = 37;
    std::vector<float> x(n, 4.25f), gamma(n, 2.0f), beta(n);
    for (size_t j = 0; j < n; ++j) beta[j] = static_cast<float>(j);
    std::vector<float> y(n);
    add_layer_norm(x.data(), nullptr, gamma.data(), beta.data(), 1e-5f, y.data(), 1, n);
    for (size_t j = 0; j < n; ++j) EXPECT_NEAR(y[j], beta[j], 1e-5) << isa_name(isa);
  }
}

}  // namespace
}  // namespace keel::kernels
