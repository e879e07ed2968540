// decoder_ops: each fast kernel against its scalar twin over a grid of shapes,
// on every ISA tier this CPU runs; RoPE against the rotation written out.
#include "kernels/decoder_ops.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "core/half.h"
#include "kernel_test_util.h"
#include "kernels/linear.h"

namespace keel::kernels {
namespace {

using testing::available_isas;
using testing::random_vector;

float max_rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  float m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]) / (1.0f + std::fabs(b[i])));
  return m;
}

TEST(DecoderOps, RmsNormMatchesScalar) {
  for (Isa isa : available_isas()) {
    ScopedKernelIsa scoped(isa);
    for (size_t n : {1, 7, 8, 64, 100, 2048}) {
      for (size_t m : {1, 3}) {
        auto x = random_vector(m * n, 1 + n, 3.0f), w = random_vector(n, 2 + n);
        std::vector<float> want(m * n), got(m * n);
        rms_norm_scalar(x.data(), w.data(), 1e-5f, want.data(), m, n);
        rms_norm(x.data(), w.data(), 1e-5f, got.data(), m, n);
        EXPECT_LT(max_rel_diff(got, want), 1e-5f) << "n=" << n << " m=" << m;
        // In place gives the same.
        rms_norm(x.data(), w.data(), 1e-5f, x.data(), m, n);
        EXPECT_LT(max_rel_diff(x, want), 1e-5f);
      }
    }
  }
}

TEST(DecoderOps, SiluMulMatchesScalar) {
  for (Isa isa : available_isas()) {
    ScopedKernelIsa scoped(isa);
    for (size_t n : {1, 5, 8, 9, 33, 5632}) {
      auto g = random_vector(n, 3 + n, 12.0f), u = random_vector(n, 4 + n, 2.0f);
      auto want = g, got = g;
      silu_mul_scalar(want.data(), u.data(), n);
      silu_mul(got.data(), u.data(), n);
      EXPECT_LT(max_rel_diff(got, want), 1e-5f) << "n=" << n;
    }
  }
}

TEST(DecoderOps, GeluTanhKnownValues) {
  std::vector<float> x = {0.0f, 1.0f, -1.0f, 3.0f};
  gelu_tanh(x.data(), x.size());
  // 0.5 x (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3))), evaluated in double.
  const double c = std::sqrt(2.0 / M_PI);
  const double want[] = {0.0, 0.5 * (1 + std::tanh(c * 1.044715)), -0.5 * (1 - std::tanh(c * 1.044715)),
                         1.5 * (1 + std::tanh(c * (3 + 0.044715 * 27)))};
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(x[i], want[i], 1e-6);
}

TEST(DecoderOps, AttendHeadMatchesScalar) {
  for (Isa isa : available_isas()) {
    ScopedKernelIsa scoped(isa);
    for (size_t hd : {8, 64, 100, 128}) {
      for (size_t n_ctx : {1, 2, 17, 300}) {
        const size_t ld = hd * 3;  // heads of other groups in between
        auto q = random_vector(hd, 5 + hd, 2.0f);
        auto k = random_vector(n_ctx * ld, 6 + n_ctx, 2.0f), v = random_vector(n_ctx * ld, 7 + n_ctx);
        std::vector<float> s(n_ctx), want(hd), got(hd);
        attend_head_scalar(q.data(), k.data() + hd, v.data() + hd, ld, n_ctx, hd, 0.125f, s.data(), want.data());
        attend_head(q.data(), k.data() + hd, v.data() + hd, ld, n_ctx, hd, 0.125f, s.data(), got.data());
        EXPECT_LT(max_rel_diff(got, want), 1e-5f) << "hd=" << hd << " n_ctx=" << n_ctx;
      }
    }
  }
}

TEST(DecoderOps, AttendGroupMatchesScalar) {
  for (Isa isa : available_isas()) {
    ScopedKernelIsa scoped(isa);
    for (size_t hd : {8, 36, 64, 80, 128, 136}) {
      for (size_t group : {1, 2, 3, 7, 8}) {
        for (size_t n_ctx : {1, 7, 8, 9, 63, 64, 65, 300, 1030}) {
          const size_t ld = hd * 3;  // other KV heads in between
          auto q = random_vector(group * hd, 5 + hd + group, 2.0f);
          auto k = random_vector(n_ctx * ld, 6 + n_ctx, 2.0f), v = random_vector(n_ctx * ld, 7 + n_ctx);
          std::vector<float> s(group * n_ctx), want(group * hd), got(group * hd, NAN);
          attend_group_scalar(q.data(), group, k.data() + hd, v.data() + hd, ld, n_ctx, hd, 0.125f, s.data(),
                              want.data());
          attend_group(q.data(), group, k.data() + hd, v.data() + hd, ld, n_ctx, hd, 0.125f, s.data(), got.data());
          ASSERT_LT(max_rel_diff(got, want), 2e-5f) << "hd=" << hd << " group=" << group << " n_ctx=" << n_ctx;
        }
      }
    }
  }
}

TEST(DecoderOps, AttendGroupF16CacheMatchesScalar) {
  // The f16-cache kernel against its scalar twin, and against the f32 kernel
  // on the same (f16-rounded) keys and values.
  for (Isa isa : available_isas()) {
    ScopedKernelIsa scoped(isa);
    for (size_t hd : {8, 36, 64, 128}) {
      for (size_t group : {1, 3, 8}) {
        for (size_t n_ctx : {1, 8, 9, 65, 300}) {
          const size_t ld = hd * 2;
          auto q = random_vector(group * hd, 15 + hd + group, 2.0f);
          auto kf = random_vector(n_ctx * ld, 16 + n_ctx, 2.0f), vf = random_vector(n_ctx * ld, 17 + n_ctx);
          std::vector<uint16_t> k16(kf.size()), v16(vf.size());
          for (size_t i = 0; i < kf.size(); ++i) {
            k16[i] = f32_to_f16(kf[i]), kf[i] = f16_to_f32(k16[i]);
            v16[i] = f32_to_f16(vf[i]), vf[i] = f16_to_f32(v16[i]);
          }
          std::vector<float> s(group * n_ctx), want(group * hd), f32(group * hd), got(group * hd, NAN);
          attend_group_f16kv_scalar(q.data(), group, k16.data() + hd, v16.data() + hd, ld, n_ctx, hd, 0.125f,
                                    s.data(), want.data());
          attend_group_f16kv(q.data(), group, k16.data() + hd, v16.data() + hd, ld, n_ctx, hd, 0.125f, s.data(),
                             got.data());
          attend_group_scalar(q.data(), group, kf.data() + hd, vf.data() + hd, ld, n_ctx, hd, 0.125f, s.data(),
                              f32.data());
          ASSERT_LT(max_rel_diff(got, want), 2e-5f) << "hd=" << hd << " group=" << group << " n_ctx=" << n_ctx;
          ASSERT_LT(max_rel_diff(f32, want), 2e-5f) << "hd=" << hd << " group=" << group << " n_ctx=" << n_ctx;
        }
      }
    }
  }
}

TEST(DecoderOps, AttendGroupCausalIsAttendGroupPerToken) {
  // A run of consecutive prefill tokens at once: token t of `tokens` sees
  // n_ctx - tokens + 1 + t keys. Fast against its scalar twin, and the scalar
  // twin against attend_group_scalar token by token (f32 and f16 caches).
  for (Isa isa : available_isas()) {
    ScopedKernelIsa scoped(isa);
    for (size_t hd : {8, 64, 72}) {
      for (size_t group : {1, 3, 8}) {
        for (size_t tokens : {1, 2, 4}) {
          for (size_t n_ctx : {4, 9, 64, 67, 300}) {
            const size_t ld = hd * 2, rows = tokens * group;
            auto q = random_vector(rows * hd, 25 + hd + group + tokens, 2.0f);
            auto kf = random_vector(n_ctx * ld, 26 + n_ctx, 2.0f), vf = random_vector(n_ctx * ld, 27 + n_ctx);
            std::vector<uint16_t> k16(kf.size()), v16(vf.size());
            for (size_t i = 0; i < kf.size(); ++i) {
              k16[i] = f32_to_f16(kf[i]), kf[i] = f16_to_f32(k16[i]);
              v16[i] = f32_to_f16(vf[i]), vf[i] = f16_to_f32(v16[i]);
            }
            std::vector<float> s(rows * n_ctx), per_token(rows * hd), want(rows * hd), got(rows * hd, NAN);
            for (size_t t = 0; t < tokens; ++t)
              attend_group_scalar(q.data() + t * group * hd, group, kf.data() + hd, vf.data() + hd, ld,
                                  n_ctx - tokens + 1 + t, hd, 0.125f, s.data(), per_token.data() + t * group * hd);
            attend_group_causal_scalar(q.data(), tokens, group, kf.data() + hd, vf.data() + hd, ld, n_ctx, hd,
                                       0.125f, s.data(), want.data());
            ASSERT_EQ(want, per_token);
            attend_group_causal(q.data(), tokens, group, kf.data() + hd, vf.data() + hd, ld, n_ctx, hd, 0.125f,
                                s.data(), got.data());
            ASSERT_LT(max_rel_diff(got, want), 2e-5f)
                << "f32 hd=" << hd << " group=" << group << " tokens=" << tokens << " n_ctx=" << n_ctx;
            std::fill(got.begin(), got.end(), NAN);
            attend_group_causal_f16kv_scalar(q.data(), tokens, group, k16.data() + hd, v16.data() + hd, ld, n_ctx,
                                             hd, 0.125f, s.data(), per_token.data());
            ASSERT_LT(max_rel_diff(per_token, want), 2e-5f);
            attend_group_causal_f16kv(q.data(), tokens, group, k16.data() + hd, v16.data() + hd, ld, n_ctx, hd,
                                      0.125f, s.data(), got.data());
            ASSERT_LT(max_rel_diff(got, want), 2e-5f)
                << "f16 hd=" << hd << " group=" << group << " tokens=" << tokens << " n_ctx=" << n_ctx;
          }
        }
      }
    }
  }
}

TEST(DecoderOps, AttendGroupSharpScoresAreStable) {
  // Large scores (softmax close to one-hot) must not overflow: out is the
  // V row of the winning key.
  const size_t hd = 64, group = 4, n_ctx = 40;
  std::vector<float> q(group * hd, 0.0f), k(n_ctx * hd, 0.0f), v = random_vector(n_ctx * hd, 9);
  for (size_t g = 0; g < group; ++g) q[g * hd + g] = 1000.0f;
  for (size_t g = 0; g < group; ++g) k[(3 * g + 1) * hd + g] = 1000.0f;  // key 3g+1 wins for head g
  std::vector<float> s(group * n_ctx), out(group * hd);
  attend_group(q.data(), group, k.data(), v.data(), hd, n_ctx, hd, 0.125f, s.data(), out.data());
  for (size_t g = 0; g < group; ++g)
    for (size_t d = 0; d < hd; ++d) ASSERT_FLOAT_EQ(out[g * hd + d], v[(3 * g + 1) * hd + d]) << g << " " << d;
}

TEST(DecoderOps, AttendHeadOnePositionIsV) {
  auto q = random_vector(16, 1), k = random_vector(16, 2), v = random_vector(16, 3);
  std::vector<float> s(1), out(16);
  attend_head(q.data(), k.data(), v.data(), 16, 1, 16, 0.25f, s.data(), out.data());
  for (size_t i = 0; i < 16; ++i) EXPECT_FLOAT_EQ(out[i], v[i]);
}

TEST(DecoderOps, RopeRotatesPairs) {
  const size_t hd = 8, heads = 2;
  std::vector<float> inv = {1.0f, 0.1f, 0.01f, 0.001f};
  auto x = random_vector(heads * hd, 9);
  for (bool neox : {true, false}) {
    auto y = x;
    rope(y.data(), heads, hd, inv.data(), 7, neox);
    for (size_t h = 0; h < heads; ++h) {
      for (size_t i = 0; i < hd / 2; ++i) {
        const size_t a = neox ? i : 2 * i, b = neox ? i + hd / 2 : 2 * i + 1;
        const double th = 7.0 * inv[i];
        const double xa = x[h * hd + a], xb = x[h * hd + b];
        EXPECT_NEAR(y[h * hd + a], xa * std::cos(th) - xb * std::sin(th), 1e-5);
        EXPECT_NEAR(y[h * hd + b], xb * std::cos(th) + xa * std::sin(th), 1e-5);
      }
    }
  }
  // Position 0 is the identity.
  auto y = x;
  rope(y.data(), heads, hd, inv.data(), 0, true);
  EXPECT_EQ(y, x);
}

}  // namespace
}  // namespace keel::kernels
