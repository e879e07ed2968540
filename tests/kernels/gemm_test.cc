// linear(): every ISA tier x compute type x shape grid, against the scalar
// twin (linear_scalar) and a double-precision naive reference.
//
// Tolerances, per output element with S = sum_p |x_p w_p| + |bias|:
//   f32:  fast vs double 1e-5 (S + 1); fast vs scalar twin the same.
//   bf16: fast vs scalar twin 1e-5 (S + 1) (same rounding of x and W, only the
//         summation order differs); vs double 1.6e-2 S + 1e-5 (two bf16
//         roundings, 2^-8 each), which also covers the f32 fallback.
//   i8:   fast vs scalar twin 1e-5 (S + 1); vs double 2.5e-2 S + 1e-5.
#include "kernels/linear.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/internal.h"

namespace keel::kernels {
namespace {

using testing::available_isas;
using testing::random_vector;

struct Shape {
  size_t m, n, k;
};

double gelu_ref(double v) { return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))); }

void check_linear(Isa isa, Compute c, Shape s, bool with_bias, Epilogue ep, ThreadPool* pool) {
  ScopedKernelIsa scoped(isa);
  const size_t ldx = s.k + 3, ldy = s.n + 5;
  const auto x = random_vector(s.m * ldx, 1 + s.m * 7 + s.k);
  const auto w = random_vector(s.n * s.k, 2 + s.n * 3 + s.k, 0.5f);
  const auto bias = random_vector(s.n, 3 + s.n);
  const float* b = with_bias ? bias.data() : nullptr;

  auto packed = PackedMatrix::pack(w.data(), s.n, s.k, c);
  ASSERT_TRUE(packed.ok()) << packed.error();
  EXPECT_EQ(packed->n(), s.n);
  EXPECT_EQ(packed->k(), s.k);
  EXPECT_EQ(packed->compute(), c);
  EXPECT_GT(packed->bytes(), 0u);
  // Each tier really runs its own kernel.
  const auto& f = cpu_features();
  PackLayout want = PackLayout::RawF32;
  if (isa == Isa::Avx512) {
    want = c == Compute::F32    ? PackLayout::F32Panel32
           : c == Compute::BF16 ? (f.avx512_bf16 ? PackLayout::Bf16Panel32 : PackLayout::F32Panel32)
                                : (f.avx512_vnni ? PackLayout::I8Panel32 : PackLayout::I8Panel16);
  } else if (isa == Isa::Avx2) {
    want = c == Compute::I8 ? PackLayout::I8Panel16 : PackLayout::F32Panel16;
  } else if (c == Compute::I8) {
    want = PackLayout::RawI8;
  }
  EXPECT_EQ(static_cast<int>(packed->layout()), static_cast<int>(want)) << isa_name(isa);

  constexpr float kSentinel = 12345.0f;
  std::vector<float> y(s.m * ldy, kSentinel), y_twin(s.m * ldy, kSentinel);
  linear(x.data(), s.m, ldx, *packed, b, ep, y.data(), ldy, pool);
  linear_scalar(x.data(), s.m, ldx, w.data(), s.n, s.k, c, b, ep, y_twin.data(), ldy);

  const double ref_rel = c == Compute::F32 ? 1e-5 : c == Compute::BF16 ? 1.6e-2 : 2.5e-2;
  const std::string where = std::string(isa_name(isa)) + " " + compute_name(c) + " m=" +
                            std::to_string(s.m) + " n=" + std::to_string(s.n) +
                            " k=" + std::to_string(s.k) + (with_bias ? " bias" : "") +
                            (ep == Epilogue::Gelu ? " gelu" : "") + (pool ? " pool" : "");
  int failures = 0;
  for (size_t i = 0; i < s.m && failures < 5; ++i) {
    for (size_t j = 0; j < s.n && failures < 5; ++j) {
      double acc = b ? b[j] : 0.0, mag = b ? std::fabs(b[j]) : 0.0;
      for (size_t p = 0; p < s.k; ++p) {
        acc += double{x[i * ldx + p]} * w[j * s.k + p];
        mag += std::fabs(double{x[i * ldx + p]} * w[j * s.k + p]);
      }
      const double ref = ep == Epilogue::Gelu ? gelu_ref(acc) : acc;
      const double got = y[i * ldy + j], twin = y_twin[i * ldy + j];
      const double tol_ref = c == Compute::F32 ? 1e-5 * (mag + 1.0) : ref_rel * mag + 1e-5;
      // The bf16 fallback (no AVX512_BF16) keeps x in f32, unlike the twin.
      const bool bf16_fallback = c == Compute::BF16 && (packed->layout() == PackLayout::F32Panel16 ||
                                                        packed->layout() == PackLayout::F32Panel32);
      const double tol_twin = bf16_fallback ? tol_ref : 1e-5 * (mag + 1.0);
      if (std::fabs(got - twin) > tol_twin || std::fabs(got - ref) > tol_ref ||
          std::fabs(twin - ref) > tol_ref) {
        ADD_FAILURE() << where << " at (" << i << "," << j << "): fast " << got << " twin " << twin
                      << " ref " << ref << " (tol twin " << tol_twin << ", ref " << tol_ref << ")";
        ++failures;
      }
    }
    for (size_t j = s.n; j < ldy; ++j) {
      if (y[i * ldy + j] != kSentinel) {
        ADD_FAILURE() << where << ": wrote past n in row " << i;
        ++failures;
        break;
      }
    }
  }
}

const std::vector<Shape>& shape_grid() {
  static const std::vector<Shape> grid = {
      {1, 1, 1},    {1, 3, 1},     {2, 1, 5},     {1, 17, 5},    {3, 33, 7},   {5, 31, 16},
      {12, 32, 32}, {13, 64, 64},  {7, 100, 33},  {25, 130, 257}, {97, 47, 513}, {1, 384, 384},
      {16, 96, 768}, {100, 260, 65}, {200, 33, 300}, {11, 1152, 24},
      // 9 row tiles of 96: the AVX2 int8 tile then spans all 300 columns, in
      // blocks of 256 and a partial panel.
      {800, 300, 40}};
  return grid;
}

TEST(Gemm, F32AllIsasMatchReference) {
  ThreadPool pool(2);
  for (Isa isa : available_isas()) {
    for (const Shape& s : shape_grid()) {
      check_linear(isa, Compute::F32, s, true, Epilogue::None, nullptr);
      check_linear(isa, Compute::F32, s, false, Epilogue::Gelu, &pool);
    }
  }
}

// bf16 and int8 run on AMX tiles (where the CPU has them and k allows) or on
// the AVX-512 kernels: both, on the same packed weights.
TEST(Gemm, Bf16AllIsasMatchReference) {
  ThreadPool pool(2);
  for (bool amx : {true, false}) {
    ScopedAmx scoped(amx);
    for (Isa isa : available_isas()) {
      for (const Shape& s : shape_grid()) {
        check_linear(isa, Compute::BF16, s, true, Epilogue::Gelu, &pool);
        check_linear(isa, Compute::BF16, s, false, Epilogue::None, nullptr);
      }
    }
  }
}

TEST(Gemm, I8AllIsasMatchReference) {
  ThreadPool pool(2);
  for (bool amx : {true, false}) {
    ScopedAmx scoped(amx);
    for (Isa isa : available_isas()) {
      for (const Shape& s : shape_grid()) {
        check_linear(isa, Compute::I8, s, true, Epilogue::None, &pool);
        check_linear(isa, Compute::I8, s, true, Epilogue::Gelu, nullptr);
      }
    }
  }
}

// The AMX kernels on shapes they take (k a multiple of 64), row counts around
// the 16- and 32-row tiles and column counts around the 32-column panels:
// against the twin and the reference (check_linear), and int8 against the
// VNNI kernel (the same integer sums, so the same values up to the rounding of
// the epilogue).
TEST(Gemm, AmxMatchesReferenceAndVnni) {
  if (!kernel_has_amx()) GTEST_SKIP() << "this CPU (or OS) has no AMX: " << cpu_features().to_string();
  ThreadPool pool(2);
  const Shape shapes[] = {{1, 32, 64},    {5, 17, 64},    {16, 33, 128},  {31, 64, 192},
                          {32, 100, 384}, {33, 260, 256}, {97, 384, 384}, {200, 96, 1536},
                          {70, 1152, 768}};
  for (const Shape& s : shapes) {
    for (Compute c : {Compute::BF16, Compute::I8}) {
      check_linear(Isa::Avx512, c, s, true, Epilogue::Gelu, &pool);
      check_linear(Isa::Avx512, c, s, false, Epilogue::None, nullptr);
    }
    const auto x = random_vector(s.m * s.k, 41 + s.m);
    const auto w = random_vector(s.n * s.k, 42 + s.n, 0.5f);
    const auto bias = random_vector(s.n, 43);
    auto p = PackedMatrix::pack(w.data(), s.n, s.k, Compute::I8);
    ASSERT_TRUE(p.ok());
    std::vector<float> y_amx(s.m * s.n), y_vnni(s.m * s.n);
    linear(x.data(), s.m, s.k, *p, bias.data(), Epilogue::Gelu, y_amx.data(), s.n, &pool);
    {
      ScopedAmx off(false);
      linear(x.data(), s.m, s.k, *p, bias.data(), Epilogue::Gelu, y_vnni.data(), s.n, &pool);
    }
    // The same integer sums; the epilogue (scale, bias, GELU) may round once
    // differently where the compiler fused a multiply-add in one kernel only.
    for (size_t i = 0; i < y_amx.size(); ++i) {
      const double tol = 1e-6 * (1.0 + std::fabs(y_vnni[i]) + std::fabs(bias[i % s.n]));
      ASSERT_LE(std::fabs(double{y_amx[i]} - y_vnni[i]), tol)
          << "m=" << s.m << " n=" << s.n << " k=" << s.k << " at " << i;
    }
  }
}

// The AVX2 int8 kernel (int16 pairs, vpmaddwd) and the VNNI one (u8 x s8
// quads) compute the same integer sums from the same quantized operands: their
// outputs differ at most by the epilogue's rounding. Shapes around the 6-row
// micro-kernel, the 16- and 32-column panels and odd k (padding pairs / quads).
TEST(Gemm, I8Avx2MatchesVnni) {
  if (!cpu_features().avx512_vnni || active_isa() != Isa::Avx512) {
    GTEST_SKIP() << "no AVX512_VNNI to compare with: " << cpu_features().to_string();
  }
  ThreadPool pool(2);
  const Shape shapes[] = {{1, 1, 1}, {5, 17, 3}, {6, 33, 64}, {13, 47, 257}, {97, 384, 384},
                          {40, 1536, 384}, {25, 384, 1536}};
  for (const Shape& s : shapes) {
    const auto x = random_vector(s.m * s.k, 51 + s.m);
    const auto w = random_vector(s.n * s.k, 52 + s.n, 0.5f);
    const auto bias = random_vector(s.n, 53);
    std::vector<float> y_avx2(s.m * s.n), y_vnni(s.m * s.n);
    {
      ScopedKernelIsa avx2(Isa::Avx2);
      auto p = PackedMatrix::pack(w.data(), s.n, s.k, Compute::I8);
      ASSERT_TRUE(p.ok());
      ASSERT_EQ(static_cast<int>(p->layout()), static_cast<int>(PackLayout::I8Panel16));
      linear(x.data(), s.m, s.k, *p, bias.data(), Epilogue::None, y_avx2.data(), s.n, &pool);
    }
    {
      ScopedAmx off(false);
      auto p = PackedMatrix::pack(w.data(), s.n, s.k, Compute::I8);
      ASSERT_TRUE(p.ok());
      ASSERT_EQ(static_cast<int>(p->layout()), static_cast<int>(PackLayout::I8Panel32));
      linear(x.data(), s.m, s.k, *p, bias.data(), Epilogue::None, y_vnni.data(), s.n, &pool);
    }
    for (size_t i = 0; i < y_avx2.size(); ++i) {
      const double tol = 1e-6 * (1.0 + std::fabs(y_vnni[i]) + std::fabs(bias[i % s.n]));
      ASSERT_LE(std::fabs(double{y_avx2[i]} - y_vnni[i]), tol)
          << "m=" << s.m << " n=" << s.n << " k=" << s.k << " at " << i;
    }
  }
}

// int8 at the extremes of both operands: x all equal quantizes to 255 (zero
// point 0), W all +-1 to 127. A kernel that sums two u8 x s8 products in int16
// (vpmaddubsw) would saturate there (2 * 255 * 127 > 32767) and y would be far
// from k. Every tier must give y = +-k * v.
TEST(Gemm, I8ExtremeOperandsDoNotSaturate) {
  ThreadPool pool(2);
  for (Isa isa : available_isas()) {
    ScopedKernelIsa scoped(isa);
    for (size_t k : {4, 64, 384, 1536}) {
      for (float sign : {1.0f, -1.0f}) {
        const size_t m = 7, n = 19;
        const float v = 0.75f;
        std::vector<float> x(m * k, v), w(n * k, sign);
        auto p = PackedMatrix::pack(w.data(), n, k, Compute::I8);
        ASSERT_TRUE(p.ok());
        std::vector<float> y(m * n, 0.0f);
        linear(x.data(), m, k, *p, nullptr, Epilogue::None, y.data(), n, &pool);
        for (size_t i = 0; i < y.size(); ++i) {
          ASSERT_NEAR(y[i], sign * v * static_cast<float>(k), 1e-4 * v * k)
              << isa_name(isa) << " k=" << k << " sign " << sign << " at " << i;
        }
      }
    }
  }
}

TEST(Gemm, LargeBertShapesF32) {
  ThreadPool pool(2);
  for (Isa isa : available_isas()) {
    if (isa == Isa::Scalar) continue;
    check_linear(isa, Compute::F32, {300, 1152, 384}, true, Epilogue::None, &pool);
    check_linear(isa, Compute::F32, {130, 384, 1536}, true, Epilogue::Gelu, &pool);
  }
}

TEST(Gemm, ThreadsDoNotChangeResults) {
  // Tiling depends on the thread count, the k order inside a tile does not:
  // results must be bit-identical with and without a pool.
  ThreadPool pool(2), pool3(3);
  for (Isa isa : available_isas()) {
    ScopedKernelIsa scoped(isa);
    // (k = 800 is not whole 64-element blocks: int8 stays on VNNI; bf16 takes AMX.)
    for (Compute c : {Compute::F32, Compute::BF16, Compute::I8}) {
      const size_t m = 77, n = 300, k = 800;
      const auto x = random_vector(m * k, 5);
      const auto w = random_vector(n * k, 6);
      auto p = PackedMatrix::pack(w.data(), n, k, c);
      ASSERT_TRUE(p.ok());
      std::vector<float> y1(m * n), y2(m * n), y3(m * n);
      linear(x.data(), m, k, *p, nullptr, Epilogue::Gelu, y1.data(), n, nullptr);
      linear(x.data(), m, k, *p, nullptr, Epilogue::Gelu, y2.data(), n, &pool);
      linear(x.data(), m, k, *p, nullptr, Epilogue::Gelu, y3.data(), n, &pool3);
      EXPECT_EQ(y1, y2) << isa_name(isa) << " " << compute_name(c);
      EXPECT_EQ(y1, y3) << isa_name(isa) << " " << compute_name(c);
    }
  }
}

TEST(Gemm, PackRejectsBadShapes) {
  const float w[4] = {1, 2, 3, 4};
  EXPECT_FALSE(PackedMatrix::pack(w, 0, 4, Compute::F32).ok());
  EXPECT_FALSE(PackedMatrix::pack(w, 4, 0, Compute::F32).ok());
  EXPECT_FALSE(PackedMatrix::pack(nullptr, 2, 2, Compute::F32).ok());
  EXPECT_FALSE(PackedMatrix::pack(w, size_t{1} << 40, size_t{1} << 40, Compute::F32).ok());
}

TEST(Gemm, ZeroRowsIsANoOp) {
  const float w[4] = {1, 2, 3, 4};
  auto p = PackedMatrix::pack(w, 2, 2, Compute::F32);
  ASSERT_TRUE(p.ok());
  float y = 7.0f;
  linear(nullptr, 0, 2, *p, nullptr, Epilogue::None, &y, 2);
  EXPECT_EQ(y, 7.0f);
}

TEST(Gelu, FastErfIsAccurate) {
  double worst_erf = 0.0;
  for (int i = -60000; i <= 60000; ++i) {
    const float x = static_cast<float>(i) * 1e-4f;
    worst_erf = std::max(worst_erf, std::fabs(double{erf_fast_scalar(x)} - std::erf(double{x})));
  }
  EXPECT_LT(worst_erf, 2.5e-7);
  // The vector versions against the double GELU.
  std::vector<float> xs;
  for (int i = -20000; i <= 20000; ++i) xs.push_back(static_cast<float>(i) * 5e-4f);
  xs.push_back(50.0f);
  xs.push_back(-50.0f);
  for (Isa isa : available_isas()) {
    if (isa == Isa::Scalar) continue;
    std::vector<float> y = xs;
    if (isa == Isa::Avx512) detail::gelu_avx512(y.data(), y.size());
    else detail::gelu_avx2(y.data(), y.size());
    double worst = 0.0;
    for (size_t i = 0; i < xs.size(); ++i) {
      const double ref = gelu_ref(xs[i]);
      worst = std::max(worst, std::fabs(y[i] - ref) / std::max(1.0, std::fabs(ref)));
    }
    EXPECT_LT(worst, 5e-7) << isa_name(isa);
  }
}

}  // namespace
}  // namespace keel::kernels
