// attention(): every ISA tier over a grid of sequence layouts, head counts and
// head sizes, against attention_scalar and a double-precision reference.
// Tolerance: 2e-5 absolute (outputs are convex combinations of v in [-1, 1]).
#include "kernels/attention.h"

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

void check_attention(Isa isa, const std::vector<uint32_t>& lengths, size_t n_heads,
                     size_t head_dim, ThreadPool* pool) {
  ScopedKernelIsa scoped(isa);
  std::vector<uint32_t> offsets{0};
  for (uint32_t len : lengths) offsets.push_back(offsets.back() + len);
  const size_t rows = offsets.back(), hidden = n_heads * head_dim;
  const size_t ld_qkv = 3 * hidden + 1, ld_out = hidden + 2;
  // Scores spread over a few units, like real attention logits.
  const auto qkv = random_vector(rows * ld_qkv + 1, 7 + rows + head_dim, 1.5f);
  const float* q = qkv.data();
  const float* k = q + hidden;
  const float* v = q + 2 * hidden;
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  constexpr float kSentinel = -777.0f;
  std::vector<float> out(rows * ld_out, kSentinel), twin(rows * ld_out, kSentinel);
  attention(q, k, v, ld_qkv, offsets.data(), lengths.size(), n_heads, head_dim, scale, out.data(),
            ld_out, pool);
  attention_scalar(q, k, v, ld_qkv, offsets.data(), lengths.size(), n_heads, head_dim, scale,
                   twin.data(), ld_out);

  std::string where = std::string(isa_name(isa)) + " heads=" + std::to_string(n_heads) +
                      " head_dim=" + std::to_string(head_dim) + " lengths=";
  for (uint32_t len : lengths) where += std::to_string(len) + ",";
  int failures = 0;
  std::vector<double> s;
  for (size_t seq = 0; seq < lengths.size(); ++seq) {
    const size_t r0 = offsets[seq], r1 = offsets[seq + 1];
    for (size_t h = 0; h < n_heads; ++h) {
      const size_t col = h * head_dim;
      for (size_t i = r0; i < r1 && failures < 5; ++i) {
        s.assign(r1 - r0, 0.0);
        double mx = -1e300, sum = 0.0;
        for (size_t j = r0; j < r1; ++j) {
          double dot = 0.0;
          for (size_t d = 0; d < head_dim; ++d) dot += double{q[i * ld_qkv + col + d]} * k[j * ld_qkv + col + d];
          s[j - r0] = dot * scale;
          mx = std::max(mx, s[j - r0]);
        }
        for (double& e : s) sum += (e = std::exp(e - mx));
        for (size_t d = 0; d < head_dim; ++d) {
          double ref = 0.0;
          for (size_t j = r0; j < r1; ++j) ref += s[j - r0] / sum * v[j * ld_qkv + col + d];
          const float got = out[i * ld_out + col + d], tw = twin[i * ld_out + col + d];
          if (std::fabs(got - ref) > 2e-5 || std::fabs(tw - ref) > 2e-5) {
            ADD_FAILURE() << where << " row " << i << " head " << h << " d " << d << ": fast "
                          << got << " twin " << tw << " ref " << ref;
            ++failures;
          }
        }
      }
    }
  }
  for (size_t i = 0; i < rows; ++i) {
    for (size_t j = hidden; j < ld_out; ++j) {
      EXPECT_EQ(out[i * ld_out + j], kSentinel) << where << ": wrote past the heads";
    }
  }
}

TEST(Attention, AllIsasMatchReference) {
  ThreadPool pool(2);
  const std::vector<std::vector<uint32_t>> layouts = {
      {1}, {2}, {3, 1, 5}, {17}, {64}, {65, 4}, {130}, {7, 0, 63, 128}};
  for (Isa isa : available_isas()) {
    for (const auto& lengths : layouts) {
      for (size_t head_dim : {1, 7, 12, 16, 20, 32, 64}) {
        check_attention(isa, lengths, 1, head_dim, nullptr);
        check_attention(isa, lengths, 3, head_dim, &pool);
      }
    }
    check_attention(isa, {128, 77}, 12, 64, &pool);
    check_attention(isa, {300}, 12, 32, &pool);
  }
}

TEST(Attention, LargeLogitsStayFinite) {
  // Scores of +-200 would overflow exp() without the running max.
  for (Isa isa : available_isas()) {
    ScopedKernelIsa scoped(isa);
    const size_t len = 70, d = 16;
    std::vector<float> qkv(len * 3 * d);
    for (size_t r = 0; r < len; ++r) {
      for (size_t t = 0; t < d; ++t) {
        qkv[r * 3 * d + t] = 5.0f;
        qkv[r * 3 * d + d + t] = (r % 2 ? 2.5f : -2.5f);
        qkv[r * 3 * d + 2 * d + t] = static_cast<float>(r);
      }
    }
    const uint32_t offsets[2] = {0, static_cast<uint32_t>(len)};
    std::vector<float> out(len * d);
    attention(qkv.data(), qkv.data() + d, qkv.data() + 2 * d, 3 * d, offsets, 1, 1, d, 1.0f,
              out.data(), d);
    // Every odd key scores 200, every even one -200: the mean of the odd rows.
    double mean_odd = 0.0;
    for (size_t r = 1; r < len; r += 2) mean_odd += r;
    mean_odd /= len / 2;
    for (float o : out) EXPECT_NEAR(o, mean_odd, 1e-3) << isa_name(isa);
  }
}

}  // namespace
}  // namespace keel::kernels
