// qlinear: every weight type x kernel ISA x a grid of shapes, against
//  (1) qlinear_scalar, the scalar twin (same activation quantization), and
//  (2) a double-precision reference: W dequantized by dequantize_row, x as given.
//
// Tolerances.
//  * f32 arithmetic (float weights; and every type when m > kQDotMaxRows,
//    where x stays f32): |err| <= 1e-5 * sum_j |w_j x_j| (+1e-30). Sums of up
//    to a few thousand products in float, in any order, stay far inside that.
//  * decode (m <= kQDotMaxRows) with block-quantized weights: x is rounded to
//    int8 blocks of 32 with step d_b = max|x in block b| / 127, so each element
//    moves by at most d_b / 2 and |err| <= sum_j |w_j| d_{b(j)} / 2 plus the
//    f32 term above. The test uses that bound exactly (no slack factor beyond
//    the f32 term): it is what the int8 activations can cost at most.
//  * prefill (m > kQDotMaxRows) on block-quantized or bf16 weights with
//    AVX512_BF16: x and W rounded to bf16 (8 significant bits), each off by <= 2^-8 relative, so
//    |err| <= 2 * 2^-8 * sum_j |w_j x_j| (+ the f32 term).
//    Where decode quantizes x per 256-element super-block
//    (detail::decode_x_superblocks: K-quants without VNNI), the same bound
//    with d over 256 elements.
//  * prefill on q4_K / q6_K without AVX512_BF16 (detail::prefill_int8): x in
//    int8 blocks of 32, the same bound.
//  * fast vs scalar twin: the same sum in another order: 1e-5 * sum |w_j x_j|.
#include "kernels/qlinear.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <optional>
#include <random>
#include <vector>

#include "kernel_test_util.h"
#include "kernels/linear.h"
#include "kernels/quantize.h"
#include "kernels/qlinear_internal.h"
#include "core/cpu_features.h"
#include "core/half.h"

namespace keel::kernels {
namespace {

using testing::available_isas;

constexpr DType kTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q8_0, DType::Q4_0,
                            DType::Q5_0, DType::Q5_1, DType::Q4_K, DType::Q5_K, DType::Q6_K};
constexpr size_t kDotMaxRows = 8;  // qlinear_internal.h's kQDotMaxRows

std::vector<float> gaussian(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> x(n);
  for (float& v : x) v = dist(rng);
  return x;
}

struct Weights {
  std::vector<uint8_t> bytes;
  std::vector<double> deq;  // [n, k]
};

Weights make_weights(DType t, size_t n, size_t k, uint32_t seed) {
  const std::vector<float> w = gaussian(n * k, seed, 0.05f);
  const size_t rb = *dtype_row_bytes(t, k);
  Weights out;
  out.bytes.resize(n * rb);
  out.deq.resize(n * k);
  std::vector<float> row(k);
  for (size_t r = 0; r < n; ++r) {
    EXPECT_TRUE(quantize_row(t, w.data() + r * k, out.bytes.data() + r * rb, static_cast<int64_t>(k)).ok());
    EXPECT_TRUE(dequantize_row(t, out.bytes.data() + r * rb, row.data(), static_cast<int64_t>(k)).ok());
    for (size_t j = 0; j < k; ++j) out.deq[r * k + j] = row[j];
  }
  return out;
}

struct Shape {
  size_t m, n, k;
};

// How the matrix under test holds W: prepare() on this CPU (as the models
// do), prepare() with the ISA capped at AVX2 (q4_K is then repacked to
// Q4_K_X8 on every x86-64 CPU with AVX2, AVX-512 ones included), or view()
// (storage layout: the row kernels).
enum class Hold { Prepare, PrepareAvx2, View };

void check(DType t, Isa isa, Shape s, ThreadPool* pool, uint32_t seed, Hold hold = Hold::Prepare) {
  SCOPED_TRACE(::testing::Message() << dtype_name(t) << " isa=" << isa_name(isa) << " m=" << s.m
                                    << " n=" << s.n << " k=" << s.k << (pool ? " pool" : "") << " hold="
                                    << static_cast<int>(hold));
  const Weights w = make_weights(t, s.n, s.k, seed);
  Result<QuantMatrix> qm = Error("unset");
  if (hold == Hold::View) {
    qm = QuantMatrix::view(t, w.bytes.data(), s.n, s.k);
  } else {
    std::optional<ScopedKernelIsa> cap;
    if (hold == Hold::PrepareAvx2 && cpu_features().avx2) cap.emplace(Isa::Avx2);
    qm = QuantMatrix::prepare(t, w.bytes.data(), s.n, s.k);
    ASSERT_TRUE(qm.ok()) << qm.status().message();
    EXPECT_EQ(qm->layout() == QLayout::Q4_K_X8, QuantMatrix::repacks(t));
  }
  ASSERT_TRUE(qm.ok()) << qm.status().message();
  // Strided x and y: ldx = k + 3, ldy = n + 5, with sentinels in the gaps.
  const size_t ldx = s.k + 3, ldy = s.n + 5;
  std::vector<float> x = gaussian(s.m * ldx, seed + 1);
  // Uneven magnitudes across blocks, as real activations have.
  for (size_t i = 0; i < x.size(); i += 97) x[i] *= 20.0f;
  std::vector<float> y(s.m * ldy, -7.0f), ys(s.m * ldy, -7.0f);
  bool bf16_path = false, int8_prefill = false, x_super = false;
  {
    // The twin rounds as the path taken under this ISA does.
    ScopedKernelIsa scoped(isa);
    qlinear(x.data(), s.m, ldx, *qm, y.data(), ldy, pool);
    qlinear_scalar(x.data(), s.m, ldx, *qm, ys.data(), ldy);
    bf16_path = s.m > kDotMaxRows && (dtype_info(t).quantized || t == DType::BF16) && kernel_has_avx512_bf16();
    int8_prefill = detail::prefill_int8(t, s.m);
    x_super = s.m <= kDotMaxRows && detail::decode_x_superblocks(t, qm->layout());
  }
  // Elements per x scale where x is quantized.
  const size_t xblock = x_super ? 256 : 32;

  const bool xq = (dtype_info(t).quantized && s.m <= kDotMaxRows) || int8_prefill;
  int bad = 0;
  for (size_t i = 0; i < s.m; ++i) {
    const float* xi = x.data() + i * ldx;
    for (size_t r = 0; r < s.n; ++r) {
      double ref = 0, abs_sum = 0, xq_bound = 0;
      for (size_t b = 0; b < s.k; b += xblock) {
        const size_t e = std::min(s.k, b + xblock);
        double amax = 0, wsum = 0;
        for (size_t j = b; j < e; ++j) {
          const double wj = w.deq[r * s.k + j];
          ref += wj * xi[j];
          abs_sum += std::fabs(wj * xi[j]);
          amax = std::max(amax, std::fabs(static_cast<double>(xi[j])));
          wsum += std::fabs(wj);
        }
        xq_bound += wsum * (amax / 127.0) / 2.0;
      }
      const double f32_tol = 1e-5 * abs_sum + 1e-30;
      // bf16 prefill: x and W each rounded to bf16 (relative <= 2^-8 each: 8 significant bits).
      const double tol = f32_tol + (xq ? xq_bound : 0.0) + (bf16_path ? 2.0 * std::ldexp(1.0, -8) * abs_sum : 0.0);
      const double got = y[i * ldy + r], twin = ys[i * ldy + r];
      if (std::fabs(got - ref) > tol || std::fabs(twin - ref) > tol ||
          std::fabs(got - twin) > f32_tol + (xq ? 1e-5 * xq_bound : 0.0)) {
        if (++bad <= 5) {
          ADD_FAILURE() << "y[" << i << "," << r << "] fast " << got << " scalar " << twin << " reference "
                        << ref << " tolerance " << tol;
        }
      }
    }
    for (size_t r = s.n; r < ldy && i + 1 < s.m; ++r) {
      ASSERT_EQ(y[i * ldy + r], -7.0f) << "wrote past n in row " << i;
    }
  }
  EXPECT_EQ(bad, 0);
}

std::vector<size_t> ks_for(DType t) {
  const size_t be = dtype_info(t).block_elems;
  if (be == 1) return {1, 7, 16, 33, 100, 300};
  if (be == 32) return {32, 96, 320};
  return {256, 512, 1280};
}

TEST(QLinear, PackBf16PairsRoundsAsTheScalarTwin) {
  // The prefill panel packer: every value rounded exactly as f32_to_bf16
  // (ties to even, NaNs quieted, denormals kept), pairs transposed into
  // 16 columns x pair rows.
  if (!cpu_features().avx512bw) GTEST_SKIP() << "needs AVX-512 BW (the packer only runs there)";
  constexpr size_t kc = 64, stride = 40;  // stride > 16 words x 2: gaps must stay untouched
  std::mt19937 rng(5);
  std::normal_distribution<float> dist(0.0f, 3.0f);
  std::vector<std::vector<float>> rows(16, std::vector<float>(kc));
  const uint32_t specials[] = {0x3f808000u, 0x3f818000u, 0x7fc00001u, 0x7f800001u, 0xff800000u,
                               0x00000001u, 0x80400000u, 0x7f7fffffu, 0x00000000u, 0x80000000u};
  for (size_t c = 0; c < 16; ++c)
    for (size_t e = 0; e < kc; ++e)
      rows[c][e] = (c + e) % 7 == 0 ? std::bit_cast<float>(specials[(c * 3 + e) % 10]) : dist(rng);
  const float* ptrs[16];
  for (size_t c = 0; c < 16; ++c) ptrs[c] = rows[c].data();
  std::vector<uint16_t> out(kc / 2 * stride, 0xABCD);
  detail::pack_bf16_pairs_avx512(ptrs, kc, out.data(), stride);
  for (size_t p = 0; p < kc / 2; ++p) {
    for (size_t c = 0; c < 16; ++c) {
      ASSERT_EQ(out[p * stride + 2 * c], f32_to_bf16(rows[c][2 * p])) << "pair " << p << " row " << c;
      ASSERT_EQ(out[p * stride + 2 * c + 1], f32_to_bf16(rows[c][2 * p + 1])) << "pair " << p << " row " << c;
    }
    for (size_t j = 32; j < stride; ++j) ASSERT_EQ(out[p * stride + j], 0xABCD) << "wrote past the 16 columns";
  }
}

TEST(QLinear, VectorDequantizeIsBitIdentical) {
  // The prefill packer's dequantization (q4_K, q8_0, bf16) against
  // dequantize_row, bit for bit; other types decline.
  if (!kernel_has_avx512_bf16()) GTEST_SKIP() << "needs AVX-512 (the packer only runs there)";
  std::mt19937 rng(9);
  std::normal_distribution<float> dist(0.0f, 0.7f);
  const size_t n = 512;
  std::vector<float> x(n);
  for (float& v : x) v = dist(rng);
  for (DType t : {DType::Q4_K, DType::Q8_0, DType::BF16}) {
    std::vector<uint8_t> bytes(*dtype_row_bytes(t, static_cast<int64_t>(n)));
    ASSERT_TRUE(quantize_row(t, x.data(), bytes.data(), static_cast<int64_t>(n)).ok());
    std::vector<float> want(n), got(n, NAN);
    ASSERT_TRUE(dequantize_row(t, bytes.data(), want.data(), static_cast<int64_t>(n)).ok());
    ASSERT_TRUE(detail::dequantize_row_avx512(t, bytes.data(), got.data(), n)) << dtype_name(t);
    for (size_t i = 0; i < n; ++i)
      ASSERT_EQ(std::bit_cast<uint32_t>(got[i]), std::bit_cast<uint32_t>(want[i])) << dtype_name(t) << " " << i;
  }
  std::vector<float> y(256);
  std::vector<uint8_t> q6(*dtype_row_bytes(DType::Q6_K, 256));
  EXPECT_FALSE(detail::dequantize_row_avx512(DType::Q6_K, q6.data(), y.data(), 256));
}

TEST(QLinear, GridAllTypesAllIsas) {
  ThreadPool pool(2);
  uint32_t seed = 1;
  const size_t ms[] = {1, 2, 3, 4, 5, 8, 9, 11, 14, 100};
  const size_t ns[] = {1, 17, 70};
  for (DType t : kTypes) {
    // q4_K both repacked (Q4_K_X8, on any AVX2 CPU) and in place.
    std::vector<Hold> holds{Hold::Prepare};
    if (t == DType::Q4_K) holds = {Hold::PrepareAvx2, Hold::View};
    for (Hold hold : holds) {
      for (Isa isa : available_isas()) {
        for (size_t k : ks_for(t)) {
          for (size_t m : ms) {
            for (size_t n : ns) {
              check(t, isa, {m, n, k}, (seed % 2) ? &pool : nullptr, seed, hold);
              ++seed;
            }
          }
        }
      }
    }
  }
}

TEST(QLinear, Q4KX8RoundTripsBitForBit) {
  // Repacking q4_K to 8 interleaved rows and reading rows back gives the
  // stored bytes, for whole and partial groups of 8 rows.
  if (!cpu_features().avx2) GTEST_SKIP() << "the layout is only made where the AVX2 kernels run";
  ScopedKernelIsa cap(Isa::Avx2);
  for (size_t n : {1, 8, 13, 24}) {
    const size_t k = 512, rb = *dtype_row_bytes(DType::Q4_K, k);
    std::vector<uint8_t> bytes(n * rb);
    std::mt19937 rng(static_cast<uint32_t>(n));
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());  // every bit pattern, scales and levels
    auto qm = QuantMatrix::prepare(DType::Q4_K, bytes.data(), n, k);
    ASSERT_TRUE(qm.ok()) << qm.status().message();
    ASSERT_EQ(qm->layout(), QLayout::Q4_K_X8);
    std::vector<uint8_t> scratch;
    for (size_t r0 = 0; r0 < n; r0 += 3) {
      const size_t count = std::min<size_t>(5, n - r0);
      const uint8_t* got = qm->rows(r0, count, scratch);
      ASSERT_EQ(std::memcmp(got, bytes.data() + r0 * rb, count * rb), 0) << "n " << n << " rows " << r0 << "+" << count;
    }
  }
}

TEST(QLinear, Q4KX8PanelEqualsRowsPanel) {
  // The int8 prefill's q4_K panel packed from the interleaved layout is the
  // one packed from the stored rows, byte for byte (full and partial panels).
  if (!cpu_features().avx2) GTEST_SKIP() << "the packers are AVX2 code";
  ScopedKernelIsa cap(Isa::Avx2);
  const size_t n = 21, k = 512, rb = *dtype_row_bytes(DType::Q4_K, k);
  std::vector<uint8_t> bytes(n * rb);
  std::mt19937 rng(3);
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(rng());
  for (size_t r = 0; r < n; ++r) {  // finite f16 d and dmin (random bits could be NaN)
    for (size_t sb = 0; sb < k / 256; ++sb) {
      const uint16_t d = f32_to_f16(0.01f * static_cast<float>(r + 1));
      const uint16_t dmin = f32_to_f16(0.002f * static_cast<float>(sb + 1));
      std::memcpy(&bytes[r * rb + sb * 144], &d, 2);
      std::memcpy(&bytes[r * rb + sb * 144 + 2], &dmin, 2);
    }
  }
  auto qm = QuantMatrix::prepare(DType::Q4_K, bytes.data(), n, k);
  ASSERT_TRUE(qm.ok() && qm->layout() == QLayout::Q4_K_X8);
  const size_t group_bytes = k / 256 * detail::kQ4KX8GroupBytes, pb = detail::q4_K_panel_bytes(k);
  for (size_t n0 : {0, 16}) {
    const size_t cols = std::min<size_t>(16, n - n0);
    for (size_t c : {cols, std::min<size_t>(cols, 8), std::min<size_t>(cols, 3)}) {
      std::vector<uint8_t> want(pb, 0xAB), got(pb, 0xCD);
      detail::pack_q4_K_panel_avx2(bytes.data() + n0 * rb, rb, c, k, want.data());
      detail::pack_q4_K_x8_panel_avx2(qm->data() + n0 / 8 * group_bytes, c, k, got.data());
      for (size_t i = 0; i < pb; ++i) {
        // Columns past `c` are the packers' own business only if both zero them.
        ASSERT_EQ(got[i], want[i]) << "n0 " << n0 << " cols " << c << " byte " << i;
      }
    }
  }
}

TEST(QLinear, LargeShapesWithPool) {
  ThreadPool pool(2);
  for (DType t : kTypes) {
    for (Isa isa : available_isas()) {
      check(t, isa, {1, 300, 2048}, &pool, 11);
      check(t, isa, {600, 33, 256}, &pool, 12);
      if (t == DType::Q4_K) {
        check(t, isa, {1, 300, 2048}, &pool, 11, Hold::PrepareAvx2);
        check(t, isa, {3, 300, 2048}, &pool, 13, Hold::View);
      }
    }
  }
}

TEST(QLinear, ZeroActivationsAndWeights) {
  for (DType t : kTypes) {
    const size_t n = 5, k = 256;
    std::vector<float> wz(n * k, 0.0f);
    std::vector<uint8_t> bytes(n * *dtype_row_bytes(t, k));
    for (size_t r = 0; r < n; ++r)
      ASSERT_TRUE(quantize_row(t, wz.data() + r * k, bytes.data() + r * *dtype_row_bytes(t, k), k).ok());
    auto qm = QuantMatrix::view(t, bytes.data(), n, k);
    ASSERT_TRUE(qm.ok());
    std::vector<float> x(2 * k, 0.0f);
    x[3] = 1.0f;
    std::vector<float> y(2 * n, 1.0f);
    for (Isa isa : available_isas()) {
      ScopedKernelIsa scoped(isa);
      qlinear(x.data(), 2, k, *qm, y.data(), n);
      for (float v : y) EXPECT_EQ(v, 0.0f) << dtype_name(t) << " " << isa_name(isa);
    }
  }
}

// q8_0 weights at the int8 extremes, -128 included (keel's quantizer stops at
// -127; other writers may not), against x at its own extremes: the signed x
// signed products of decode and of the int8 prefill (|w| as an unsigned byte,
// x's sign moved onto it) must not saturate. Exact reference: x is a whole
// number times a power of two per 32-block, so its quantization is exact.
TEST(QLinear, Q8_0ExtremeWeightsDoNotSaturate) {
  const size_t n = 19, k = 96, rb = *dtype_row_bytes(DType::Q8_0, k);
  std::vector<uint8_t> bytes(n * rb);
  std::vector<double> wv(n * k);
  const uint16_t d_half = 0x3c00;  // 1.0
  for (size_t r = 0; r < n; ++r) {
    for (size_t b = 0; b < k / 32; ++b) {
      uint8_t* blk = bytes.data() + r * rb + b * 34;
      std::memcpy(blk, &d_half, 2);
      for (size_t j = 0; j < 32; ++j) {
        const int8_t q = (r + j) % 3 == 0 ? int8_t{-128} : (r + j) % 3 == 1 ? int8_t{127} : int8_t{-127};
        blk[2 + j] = static_cast<uint8_t>(q);
        wv[r * k + b * 32 + j] = q;
      }
    }
  }
  auto qm = QuantMatrix::view(DType::Q8_0, bytes.data(), n, k);
  ASSERT_TRUE(qm.ok());
  for (size_t m : {1, 3, 16}) {
    std::vector<float> x(m * k);
    for (size_t i = 0; i < m; ++i)
      for (size_t j = 0; j < k; ++j) x[i * k + j] = ((i + j) % 2 ? 127.0f : -127.0f) * ((j / 32) % 2 ? 0.5f : 4.0f);
    for (Isa isa : available_isas()) {
      ScopedKernelIsa scoped(isa);
      std::vector<float> y(m * n);
      qlinear(x.data(), m, k, *qm, y.data(), n);
      for (size_t i = 0; i < m; ++i) {
        for (size_t r = 0; r < n; ++r) {
          double want = 0;
          for (size_t j = 0; j < k; ++j) want += wv[r * k + j] * x[i * k + j];
          EXPECT_NEAR(y[i * n + r], want, 1e-6 * std::abs(want) + 1e-3)
              << "m " << m << " row " << i << " col " << r << " isa " << isa_name(isa);
        }
      }
    }
  }
}

TEST(QLinear, ViewRejectsBadInput) {
  std::vector<uint8_t> bytes(1024);
  EXPECT_FALSE(QuantMatrix::view(DType::Q3_K, bytes.data(), 1, 256).ok());
  EXPECT_FALSE(QuantMatrix::view(DType::Q4_K, bytes.data(), 1, 100).ok());
  EXPECT_FALSE(QuantMatrix::view(DType::Q8_0, bytes.data(), 0, 32).ok());
  EXPECT_FALSE(QuantMatrix::view(DType::F32, nullptr, 1, 32).ok());
  auto st = QuantMatrix::view(DType::Q4_0, bytes.data(), 2, 48);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("48"), std::string::npos) << st.status().message();
}

}  // namespace
}  // namespace keel::kernels
