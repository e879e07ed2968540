// Scalar (de)quantization: error bounds per type, hand-built blocks decoded
// from the layout alone, zeros, extremes. Byte-exactness against gguf-py is
// checked by tests/formats/test_gguf_interop.py.
#include "kernels/quantize.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "core/half.h"
#include "core/quant_blocks.h"

namespace keel {
namespace {

std::vector<uint8_t> quantize(DType t, const std::vector<float>& x) {
  std::vector<uint8_t> q(*dtype_row_bytes(t, x.size()));
  Status st = quantize_row(t, x.data(), q.data(), static_cast<int64_t>(x.size()));
  EXPECT_TRUE(st.ok()) << st.message();
  return q;
}

std::vector<float> dequantize(DType t, const std::vector<uint8_t>& q, size_t n) {
  std::vector<float> y(n);
  Status st = dequantize_row(t, q.data(), y.data(), static_cast<int64_t>(n));
  EXPECT_TRUE(st.ok()) << st.message();
  return y;
}

std::vector<float> gaussian(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> x(n);
  for (float& v : x) v = dist(rng);
  return x;
}

// Largest |x| in each block of `block` elements, repeated per element.
std::vector<float> block_amax(const std::vector<float>& x, size_t block) {
  std::vector<float> out(x.size());
  for (size_t b = 0; b < x.size(); b += block) {
    float m = 0;
    for (size_t i = b; i < b + block; ++i) m = std::max(m, std::fabs(x[i]));
    for (size_t i = b; i < b + block; ++i) out[i] = m;
  }
  return out;
}

constexpr DType kQuantizable[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q8_0, DType::Q4_0,
                                  DType::Q5_0, DType::Q5_1, DType::Q4_K, DType::Q5_K, DType::Q6_K};

TEST(Quantize, DenseRoundTrips) {
  std::vector<float> x = gaussian(1024, 1, 3.0f);
  x[0] = 0.0f;
  x[1] = -0.0f;
  x[2] = 65504.0f;
  EXPECT_EQ(dequantize(DType::F32, quantize(DType::F32, x), x.size()), x);
  std::vector<float> h = dequantize(DType::F16, quantize(DType::F16, x), x.size());
  std::vector<float> b = dequantize(DType::BF16, quantize(DType::BF16, x), x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_LE(std::fabs(h[i] - x[i]), std::fabs(x[i]) * 0x1p-11f + 0x1p-25f) << i;
    EXPECT_LE(std::fabs(b[i] - x[i]), std::fabs(x[i]) * 0x1p-8f) << i;
  }
  EXPECT_TRUE(std::signbit(h[1]));
}

// Bound per element in units of the block's largest magnitude.
struct Bound {
  DType type;
  float max_rel;  // max |err| / block amax
  float rms_rel;  // rms err / rms x
};

TEST(Quantize, BlockRoundTripErrorBounds) {
  // q8_0: half a step of amax/127 plus f16 rounding of the scale.
  // q4_0 / q5_0: one step of amax/8 / amax/16 (the +amax side clamps to 7 / 15 steps).
  // q5_1: half a step of (max - min)/31 <= 2 amax/31, plus f16 rounding of d and m.
  // q4_K / q5_K / q6_K: empirical bounds with margin; super-blocks of 256.
  for (Bound bound : {Bound{DType::Q8_0, 0.5f / 127 + 1e-3f, 0.008f}, Bound{DType::Q4_0, 1.0f / 8 + 1e-3f, 0.1f},
                      Bound{DType::Q5_0, 1.0f / 16 + 1e-3f, 0.05f}, Bound{DType::Q5_1, 1.0f / 31 + 3e-3f, 0.045f},
                      Bound{DType::Q4_K, 0.1f, 0.1f}, Bound{DType::Q5_K, 0.05f, 0.05f},
                      Bound{DType::Q6_K, 0.025f, 0.025f}}) {
    for (uint32_t seed = 0; seed < 8; ++seed) {
      std::vector<float> x = gaussian(4096, seed, seed % 2 ? 0.02f : 5.0f);
      if (seed == 3)
        for (float& v : x) v = std::fabs(v);  // one-signed data (exercises the q4_K min)
      const std::vector<float> y = dequantize(bound.type, quantize(bound.type, x), x.size());
      const size_t block = dtype_info(bound.type).block_elems;
      const std::vector<float> amax = block_amax(x, block);
      double se = 0, sx = 0;
      for (size_t i = 0; i < x.size(); ++i) {
        ASSERT_LE(std::fabs(y[i] - x[i]), bound.max_rel * amax[i])
            << dtype_name(bound.type) << " seed " << seed << " i " << i << " x " << x[i] << " y " << y[i];
        se += double(y[i] - x[i]) * (y[i] - x[i]);
        sx += double(x[i]) * x[i];
      }
      EXPECT_LE(std::sqrt(se / sx), bound.rms_rel) << dtype_name(bound.type) << " seed " << seed;
      if (std::getenv("KEEL_PRINT_ERRORS")) {
        double worst = 0;
        for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, double(std::fabs(y[i] - x[i]) / amax[i]));
        std::printf("%s seed %u: max %.4f rms %.4f\n", std::string(dtype_name(bound.type)).c_str(), seed, worst, std::sqrt(se / sx));
      }
    }
  }
}

TEST(Quantize, ZeroBlocks) {
  for (DType t : kQuantizable) {
    const size_t n = 2 * dtype_info(t).block_elems;
    std::vector<float> x(n, 0.0f);
    std::vector<uint8_t> q = quantize(t, x);
    for (float v : dequantize(t, q, n)) EXPECT_EQ(v, 0.0f) << dtype_name(t);
    if (t == DType::Q4_0) {
      // Scale max / -8 = -0.0 (f16 0x8000, as ggml and gguf-py write it);
      // every nibble is the offset 8.
      EXPECT_EQ(q[0], 0);
      EXPECT_EQ(q[1], 0x80);
      EXPECT_EQ(q[2], 0x88);
    } else if (t == DType::Q5_0) {
      // The same -0.0 scale; every value is the offset 16: low nibbles 0,
      // every fifth bit set.
      EXPECT_EQ(q[0], 0);
      EXPECT_EQ(q[1], 0x80);
      for (int j = 2; j < 6; ++j) EXPECT_EQ(q[j], 0xff) << j;
      for (int j = 6; j < 22; ++j) EXPECT_EQ(q[j], 0) << j;
    } else {
      for (uint8_t b : q) EXPECT_EQ(b, 0) << dtype_name(t);
    }
  }
}

TEST(Quantize, ExtremeValuesStayFiniteOrFailSoftly) {
  for (DType t : kQuantizable) {
    const size_t n = std::max<size_t>(64, dtype_info(t).block_elems * 2);
    // Large but representable scales; tiny values whose scale underflows f16.
    for (float big : {60000.0f, 1e-30f, std::numeric_limits<float>::denorm_min()}) {
      std::mt19937 rng(7);
      std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
      std::vector<float> x(n);
      for (float& v : x) v = unit(rng) * big;
      x[5] = big;
      x[9] = -big;
      const std::vector<float> y = dequantize(t, quantize(t, x), n);
      const float tol = t == DType::Q4_K || t == DType::Q5_K ? 0.2f
                        : t == DType::Q4_0                     ? 0.13f
                        : t == DType::Q5_0 || t == DType::Q6_K || t == DType::Q5_1 ? 0.07f
                                                                                   : 0.01f;
      for (size_t i = 0; i < n; ++i) {
        ASSERT_TRUE(std::isfinite(y[i])) << dtype_name(t) << " " << big;
        // An underflowed scale decodes to 0: then the error is |x|.
        const float bound = big < 1e-20f ? std::fabs(x[i]) : tol * big;
        EXPECT_LE(std::fabs(y[i] - x[i]), bound) << dtype_name(t) << " big " << big << " i " << i;
      }
    }
    // inf and NaN inputs: defined behaviour (no UB, no crash); values unspecified.
    std::vector<float> x(n, 1.0f);
    x[0] = std::numeric_limits<float>::infinity();
    x[1] = -std::numeric_limits<float>::infinity();
    x[2] = std::numeric_limits<float>::quiet_NaN();
    (void)dequantize(t, quantize(t, x), n);
  }
}

TEST(Quantize, Q8_0KnownBlock) {
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j - 16);  // amax 16
  std::vector<uint8_t> q = quantize(DType::Q8_0, x);
  BlockQ8_0 b;
  std::memcpy(&b, q.data(), sizeof(b));
  EXPECT_EQ(b.d, f32_to_f16(16.0f / 127));
  EXPECT_EQ(b.qs[0], -127);  // -16 * 127/16
  EXPECT_EQ(b.qs[16], 0);
  EXPECT_EQ(b.qs[20], 32);  // 4 * 127/16 = 31.75
  EXPECT_EQ(b.qs[31], 119);  // 15 * 127/16 = 119.06
}

TEST(Quantize, Q4_0KnownBlock) {
  // max = -4 (largest magnitude, negative) -> d = 0.5; x = d * (q - 8).
  std::vector<float> x(32, 0.0f);
  x[0] = -4.0f;  // q = 0
  x[1] = 3.5f;   // q = 15
  x[16] = 1.0f;  // q = 10, high nibble of byte 0
  std::vector<uint8_t> q = quantize(DType::Q4_0, x);
  EXPECT_EQ(f16_to_f32(static_cast<uint16_t>(q[0] | (q[1] << 8))), 0.5f);
  EXPECT_EQ(q[2], 0xa0);
  EXPECT_EQ(q[3], 0x8f);
  const std::vector<float> y = dequantize(DType::Q4_0, q, 32);
  EXPECT_EQ(y, x);
}

TEST(Quantize, Q5_0KnownBlock) {
  // max = -8 (largest magnitude, negative) -> d = 0.5; x = d * (q - 16).
  std::vector<float> x(32, 0.0f);
  x[0] = -8.0f;   // q = 0
  x[1] = 7.5f;    // q = 31: nibble 15, fifth bit 1
  x[16] = 1.0f;   // q = 18: high nibble of byte 0 is 2, fifth bit 16 set
  x[17] = -0.5f;  // q = 15: fifth bit 17 clear
  std::vector<uint8_t> q = quantize(DType::Q5_0, x);
  EXPECT_EQ(f16_to_f32(static_cast<uint16_t>(q[0] | (q[1] << 8))), 0.5f);
  uint32_t qh;
  std::memcpy(&qh, q.data() + 2, 4);
  // Zeros are q = 16 (fifth bit set), except elements 0, 17 (q < 16).
  EXPECT_EQ(qh, 0xffffffffu & ~1u & ~(1u << 17));
  EXPECT_EQ(q[6], 0x20);  // element 0: nibble 0; element 16: nibble 2
  EXPECT_EQ(q[7], 0xff);  // element 1: nibble 15; element 17: nibble 15
  const std::vector<float> y = dequantize(DType::Q5_0, q, 32);
  EXPECT_EQ(y, x);
}

TEST(Quantize, Q5_1KnownBlock) {
  // min = -2, max = 13.5 -> d = 0.5, m = -2; x = d * q + m.
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = -2.0f + 0.5f * static_cast<float>(j);
  std::vector<uint8_t> q = quantize(DType::Q5_1, x);
  BlockQ5_1 b;
  std::memcpy(&b, q.data(), sizeof(b));
  EXPECT_EQ(f16_to_f32(b.d), 0.5f);
  EXPECT_EQ(f16_to_f32(b.m), -2.0f);
  uint32_t qh;
  std::memcpy(&qh, b.qh, 4);
  EXPECT_EQ(qh, 0xffff0000u);  // q = j: the fifth bit is set for j >= 16
  for (int j = 0; j < 16; ++j) EXPECT_EQ(b.qs[j], j | (j << 4)) << j;  // q = j and j + 16
  EXPECT_EQ(dequantize(DType::Q5_1, q, 32), x);
}

TEST(Quantize, Q4_KDecodesLayout) {
  // d = 2, dmin = 1; sub-block j has scale j + 1 and min 2 * j (6 bits each,
  // j >= 4 split across the bytes as in ggml's get_scale_min_k4).
  BlockQ4_K b{};
  b.d = f32_to_f16(2.0f);
  b.dmin = f32_to_f16(1.0f);
  for (int j = 0; j < 8; ++j) {
    const int sc = j + 1 + (j == 7 ? 50 : 0), m = 2 * j + (j == 6 ? 40 : 0);  // 58 and 52 need 6 bits
    if (j < 4) {
      b.scales[j] = static_cast<uint8_t>(sc);
      b.scales[j + 4] = static_cast<uint8_t>(m);
    } else {
      b.scales[j + 4] = static_cast<uint8_t>((sc & 15) | ((m & 15) << 4));
      b.scales[j - 4] |= static_cast<uint8_t>((sc >> 4) << 6);
      b.scales[j] |= static_cast<uint8_t>((m >> 4) << 6);
    }
  }
  // Element e: sub-block e / 32; its nibble sits in byte 32 * (e / 64) + e % 32,
  // low nibble for even sub-blocks, high for odd.
  for (int e = 0; e < 256; ++e) {
    const uint8_t nib = static_cast<uint8_t>((e * 7) & 15);
    uint8_t& byte = b.qs[32 * (e / 64) + e % 32];
    byte |= (e / 32) % 2 ? nib << 4 : nib;
  }
  std::vector<uint8_t> raw(sizeof(b));
  std::memcpy(raw.data(), &b, sizeof(b));
  const std::vector<float> y = dequantize(DType::Q4_K, raw, 256);
  for (int e = 0; e < 256; ++e) {
    const int j = e / 32;
    const int sc = j + 1 + (j == 7 ? 50 : 0), m = 2 * j + (j == 6 ? 40 : 0);
    EXPECT_EQ(y[e], 2.0f * sc * ((e * 7) & 15) - 1.0f * m) << e;
  }
}

TEST(Quantize, Q5_KDecodesLayout) {
  // d = 0.5, dmin = 2; sub-block j has scale j + 3 and min j (6 bits each).
  // Element e has q = (e * 11) % 32: nibble in qs as q4_K, fifth bit in bit
  // e / 32 of qh[e % 32].
  BlockQ5_K b{};
  b.d = f32_to_f16(0.5f);
  b.dmin = f32_to_f16(2.0f);
  for (int j = 0; j < 8; ++j) {
    const int sc = j + 3 + (j == 5 ? 40 : 0), m = j + (j == 7 ? 33 : 0);
    if (j < 4) {
      b.scales[j] = static_cast<uint8_t>(sc);
      b.scales[j + 4] = static_cast<uint8_t>(m);
    } else {
      b.scales[j + 4] = static_cast<uint8_t>((sc & 15) | ((m & 15) << 4));
      b.scales[j - 4] |= static_cast<uint8_t>((sc >> 4) << 6);
      b.scales[j] |= static_cast<uint8_t>((m >> 4) << 6);
    }
  }
  for (int e = 0; e < 256; ++e) {
    const int q = (e * 11) % 32;
    uint8_t& byte = b.qs[32 * (e / 64) + e % 32];
    byte |= static_cast<uint8_t>((e / 32) % 2 ? (q & 15) << 4 : (q & 15));
    b.qh[e % 32] |= static_cast<uint8_t>((q >> 4) << (e / 32));
  }
  std::vector<uint8_t> raw(sizeof(b));
  std::memcpy(raw.data(), &b, sizeof(b));
  const std::vector<float> y = dequantize(DType::Q5_K, raw, 256);
  for (int e = 0; e < 256; ++e) {
    const int j = e / 32;
    const int sc = j + 3 + (j == 5 ? 40 : 0), m = j + (j == 7 ? 33 : 0);
    EXPECT_EQ(y[e], 0.5f * sc * ((e * 11) % 32) - 2.0f * m) << e;
  }
}

TEST(Quantize, Q6_KDecodesLayout) {
  // d = 0.25, scales[k] = k - 8 (signed); element e has q = (e * 5) % 64.
  BlockQ6_K b{};
  b.d = f32_to_f16(0.25f);
  for (int k = 0; k < 16; ++k) b.scales[k] = static_cast<int8_t>(k - 8);
  for (int e = 0; e < 256; ++e) {
    const int q = (e * 5) % 64;
    const int half = e / 128, r = e % 128, quarter = r / 32, l = r % 32;
    // ql: quarters 0/1 low nibbles of bytes l / l+32, quarters 2/3 the high nibbles.
    uint8_t& lo = b.ql[64 * half + l + 32 * (quarter % 2)];
    lo |= quarter < 2 ? (q & 15) : (q & 15) << 4;
    b.qh[32 * half + l] |= static_cast<uint8_t>((q >> 4) << (2 * quarter));
  }
  std::vector<uint8_t> raw(sizeof(b));
  std::memcpy(raw.data(), &b, sizeof(b));
  const std::vector<float> y = dequantize(DType::Q6_K, raw, 256);
  for (int e = 0; e < 256; ++e) EXPECT_EQ(y[e], 0.25f * ((e / 16) - 8) * ((e * 5) % 64 - 32)) << e;
}

TEST(Quantize, KQuantsRequantizeStably) {
  // Dequantized K-quant data is representable, so quantizing it again must
  // reproduce it closely (the fit may pick different but equivalent scales).
  for (DType t : {DType::Q4_K, DType::Q5_K, DType::Q6_K}) {
    const std::vector<float> x = gaussian(1024, 11);
    const std::vector<float> y = dequantize(t, quantize(t, x), x.size());
    const std::vector<float> z = dequantize(t, quantize(t, y), y.size());
    const std::vector<float> amax = block_amax(y, 256);
    for (size_t i = 0; i < y.size(); ++i) EXPECT_LE(std::fabs(z[i] - y[i]), 0.1f * amax[i]) << i;
  }
}

TEST(Quantize, UnalignedBuffers) {
  // GGUF data with general.alignment = 1 can start at any byte.
  for (DType t : kQuantizable) {
    const size_t n = 2 * std::max<size_t>(32, dtype_info(t).block_elems);
    const std::vector<float> x = gaussian(n, 21);
    const std::vector<uint8_t> aligned = quantize(t, x);
    std::vector<uint8_t> buf(aligned.size() + 1);
    ASSERT_TRUE(quantize_row(t, x.data(), buf.data() + 1, static_cast<int64_t>(n)).ok());
    EXPECT_TRUE(std::equal(aligned.begin(), aligned.end(), buf.begin() + 1)) << dtype_name(t);
    std::vector<float> y(n);
    ASSERT_TRUE(dequantize_row(t, buf.data() + 1, y.data(), static_cast<int64_t>(n)).ok());
    EXPECT_EQ(y, dequantize(t, aligned, n)) << dtype_name(t);
  }
}

TEST(Quantize, RejectsBadArguments) {
  std::vector<float> x(64, 1.0f);
  std::vector<uint8_t> q(1024);
  Status st = quantize_row(DType::Q8_0, x.data(), q.data(), 33);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("not a whole number of q8_0 blocks"), std::string::npos) << st.message();
  EXPECT_FALSE(quantize_row(DType::Q4_K, x.data(), q.data(), 64).ok());
  EXPECT_FALSE(quantize_row(DType::F32, x.data(), q.data(), -1).ok());
  st = quantize_row(DType::Q4_1, x.data(), q.data(), 32);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("q4_1"), std::string::npos);
  st = dequantize_row(DType::Q2_K, q.data(), x.data(), 256);
  EXPECT_NE(st.message().find("no dequantization for dtype q2_K"), std::string::npos);
  EXPECT_FALSE(dequantize_row(DType::Q6_K, nullptr, x.data(), 256).ok());
  EXPECT_TRUE(dequantize_row(DType::Q6_K, nullptr, nullptr, 0).ok());
  for (DType t : kQuantizable) EXPECT_TRUE(can_quantize(t)) << dtype_name(t);
  EXPECT_FALSE(can_quantize(DType::Q4_1));
  EXPECT_FALSE(can_quantize(DType::Q3_K));
}

}  // namespace
}  // namespace keel
