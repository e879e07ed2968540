// Scalar reference (de)quantization. The arithmetic mirrors ggml's *_ref
// functions (ggml-quants.c) operation for operation, in float, so that the
// bytes keel writes equal what llama.cpp / gguf-py write for the same input:
// reordering a sum or fusing a multiply-add would change the rounding.
#include "kernels/quantize.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/half.h"
#include "core/quant_blocks.h"

namespace keel {
namespace {

// ggml's GROUP_MAX_EPS: a group whose largest magnitude is below this is all zeros.
constexpr float kGroupMaxEps = 1e-15f;

// Round to nearest, ties to even, for |v| <= 2^22 (ggml's nearest_int). Adding
// 1.5 * 2^23 pushes the integer into the low mantissa bits. Defined for every
// input (NaN and huge values give garbage, never UB); callers clamp the result.
int nearest_int(float v) {
  const float shifted = v + 12582912.f;
  int32_t bits;
  std::memcpy(&bits, &shifted, sizeof(bits));
  return (bits & 0x007fffff) - 0x00400000;
}

// C's float -> int conversion as x86 performs it (cvttss2si): truncation, and
// INT_MIN for NaN and out-of-range values, where C++ leaves a plain cast
// undefined. ggml's reference code casts such values when a block's scale
// is tiny enough for 1/d to overflow; emulating the instruction keeps keel's
// bytes equal to what llama.cpp and gguf-py (numpy casts the same way) write.
int32_t x86_trunc(float v) {
  if (!(v > -2147483648.0f && v < 2147483648.0f)) return INT32_MIN;
  return static_cast<int32_t>(v);
}

int clamp_int(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

// ---------------------------------------------------------------- q8_0, q4_0

// Per-block kernels: x / y are one block's kQK or kQKK floats.

void quantize_q8_0(const float* x, BlockQ8_0& b) {
  float amax = 0.0f;
  for (int j = 0; j < kQK; ++j) {
    const float a = std::fabs(x[j]);
    amax = amax > a ? amax : a;  // ggml's MAX(): a NaN propagates, like numpy's max
  }
  const float d = amax / 127;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  b.d = f32_to_f16(d);
  // roundf: halves away from zero, as ggml and gguf-py's np_roundf; |q| <= 127 when finite.
  for (int j = 0; j < kQK; ++j) b.qs[j] = static_cast<int8_t>(x86_trunc(std::round(x[j] * id)));
}

void dequantize_q8_0(const BlockQ8_0& b, float* y) {
  const float d = f16_to_f32(b.d);
  for (int j = 0; j < kQK; ++j) y[j] = b.qs[j] * d;
}

// The signed value of largest magnitude in a 32-element block (the first one
// on ties; 0 for an all-zero block).
float signed_absmax(const float* x) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < kQK; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void quantize_q4_0(const float* x, BlockQ4_0& b) {
  // The signed value of largest magnitude maps to -8, so the asymmetric range
  // [-8, 7] is used fully on the side that needs it.
  const float d = signed_absmax(x) / -8;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  b.d = f32_to_f16(d);
  // ggml: MIN(15, (int8_t)(x * id + 8.5f)), stored through uint8_t.
  auto q = [&](float v) {
    return static_cast<uint8_t>(std::min<int>(15, static_cast<int8_t>(x86_trunc(v * id + 8.5f))));
  };
  for (int j = 0; j < kQK / 2; ++j) b.qs[j] = static_cast<uint8_t>(q(x[j]) | (q(x[j + kQK / 2]) << 4));
}

void dequantize_q4_0(const BlockQ4_0& b, float* y) {
  const float d = f16_to_f32(b.d);
  for (int j = 0; j < kQK / 2; ++j) {
    y[j] = ((b.qs[j] & 0x0f) - 8) * d;
    y[j + kQK / 2] = ((b.qs[j] >> 4) - 8) * d;
  }
}

// ---------------------------------------------------------------- q5_0, q5_1

// 32 five-bit levels q[j] of a q5_0 / q5_1 block: the low 4 bits in qs as
// q4_0 (element j low nibble, j + 16 high), the fifth bit of element j as bit
// j of the little-endian word qh.
void pack_q5(const uint8_t* q, uint8_t* qs, uint8_t* qh) {
  uint32_t bits = 0;
  for (int j = 0; j < kQK / 2; ++j) {
    qs[j] = static_cast<uint8_t>((q[j] & 0x0f) | ((q[j + kQK / 2] & 0x0f) << 4));
    bits |= static_cast<uint32_t>((q[j] & 0x10u) >> 4) << j;
    bits |= static_cast<uint32_t>((q[j + kQK / 2] & 0x10u) >> 4) << (j + kQK / 2);
  }
  std::memcpy(qh, &bits, sizeof(bits));
}

void unpack_q5(const uint8_t* qs, const uint8_t* qh, int* q) {
  uint32_t bits;
  std::memcpy(&bits, qh, sizeof(bits));
  for (int j = 0; j < kQK / 2; ++j) {
    q[j] = (qs[j] & 0x0f) | static_cast<int>(((bits >> j) & 1u) << 4);
    q[j + kQK / 2] = (qs[j] >> 4) | static_cast<int>(((bits >> (j + kQK / 2)) & 1u) << 4);
  }
}

void quantize_q5_0(const float* x, BlockQ5_0& b) {
  // As q4_0: the signed value of largest magnitude maps to -16.
  const float d = signed_absmax(x) / -16;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  b.d = f32_to_f16(d);
  // ggml: MIN(31, (int8_t)(x * id + 16.5f)), stored through uint8_t.
  uint8_t q[kQK];
  for (int j = 0; j < kQK; ++j)
    q[j] = static_cast<uint8_t>(std::min<int>(31, static_cast<int8_t>(x86_trunc(x[j] * id + 16.5f))));
  pack_q5(q, b.qs, b.qh);
}

void dequantize_q5_0(const BlockQ5_0& b, float* y) {
  const float d = f16_to_f32(b.d);
  int q[kQK];
  unpack_q5(b.qs, b.qh, q);
  for (int j = 0; j < kQK; ++j) y[j] = (q[j] - 16) * d;
}

void quantize_q5_1(const float* x, BlockQ5_1& b) {
  // ggml starts from +-FLT_MAX: a NaN never becomes the min or max.
  float min = std::numeric_limits<float>::max(), max = -std::numeric_limits<float>::max();
  for (int j = 0; j < kQK; ++j) {
    if (x[j] < min) min = x[j];
    if (x[j] > max) max = x[j];
  }
  const float d = (max - min) / 31;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  b.d = f32_to_f16(d);
  b.m = f32_to_f16(min);
  // ggml: (uint8_t)((x - min) * id + 0.5f), no clamp (the value is <= 31.5 when finite).
  uint8_t q[kQK];
  for (int j = 0; j < kQK; ++j) q[j] = static_cast<uint8_t>(x86_trunc((x[j] - min) * id + 0.5f));
  pack_q5(q, b.qs, b.qh);
}

void dequantize_q5_1(const BlockQ5_1& b, float* y) {
  const float d = f16_to_f32(b.d), m = f16_to_f32(b.m);
  int q[kQK];
  unpack_q5(b.qs, b.qh, q);
  for (int j = 0; j < kQK; ++j) y[j] = q[j] * d + m;
}

// ---------------------------------------------------------------- q4_K

// Finds scale and min so x[i] ~= scale * L[i] - min with L in [0, nmax], by a
// weighted least-squares fit tried at nstep + 1 candidate inverse scales
// (ggml's make_qkx2_quants). Returns scale; *neg_min receives min (>= 0).
float make_qkx2_quants(int n, int nmax, const float* x, const float* weights, uint8_t* L,
                       float* neg_min, uint8_t* Laux, float rmin, float rdelta, int nstep) {
  float min = x[0], max = x[0];
  float sum_w = weights[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    const float w = weights[i];
    sum_w += w;
    sum_x += w * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    *neg_min = -min;
    return 0.f;
  }
  float iscale = nmax / (max - min);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    const int l = nearest_int(iscale * (x[i] - min));
    L[i] = static_cast<uint8_t>(clamp_int(l, 0, nmax));
    const float diff = scale * L[i] + min - x[i];
    best_error += weights[i] * (diff * diff);
  }
  for (int is = 0; is <= nstep; ++is) {
    iscale = (rmin + rdelta * is + nmax) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      const int l = clamp_int(nearest_int(iscale * (x[i] - min)), 0, nmax);
      Laux[i] = static_cast<uint8_t>(l);
      const float w = weights[i];
      sum_l += w * l;
      sum_l2 += w * l * l;
      sum_xl += w * l * x[i];
    }
    const float D = sum_w * sum_l2 - sum_l * sum_l;
    if (D > 0) {
      float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
      float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
      if (this_min > 0) {
        this_min = 0;
        this_scale = sum_xl / sum_l2;
      }
      float cur_error = 0;
      for (int i = 0; i < n; ++i) {
        const float diff = this_scale * Laux[i] + this_min - x[i];
        cur_error += weights[i] * (diff * diff);
      }
      if (cur_error < best_error) {
        for (int i = 0; i < n; ++i) L[i] = Laux[i];
        best_error = cur_error;
        scale = this_scale;
        min = this_min;
      }
    }
  }
  *neg_min = -min;
  return scale;
}

// q4_K / q5_K: the 8 sub-block scales and mins as 6-bit multiples of the
// super-block's d = max_scale / 63 and dmin = max_min / 63 (packed as
// get_scale_min_k4 reads them, core/quant_blocks.h; `packed` must be zeroed).
void pack_k_scales(const float* scales, const float* mins, float max_scale, float max_min, uint8_t* packed,
                   uint16_t* d, uint16_t* dmin) {
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  for (int j = 0; j < kQKK / 32; ++j) {
    // uint8_t truncation then MIN(63) as in ggml: keeps the same bytes.
    const uint8_t ls = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_scale * scales[j])));
    const uint8_t lm = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_min * mins[j])));
    put_scale_min_k4(j, ls, lm, packed);
  }
  *d = f32_to_f16(max_scale / 63.f);
  *dmin = f32_to_f16(max_min / 63.f);
}

// q4_K / q5_K (nmax 15 / 31): each 32-element sub-block fitted as scale * L -
// min (make_qkx2_quants with ggml's weights and search parameters), the
// scales and mins packed as 6-bit multiples of d / dmin, then L recomputed
// against the rounded scales actually stored. `packed` must be zeroed.
void quantize_k_levels(const float* x, int nmax, float rmin, float rdelta, int nstep, uint8_t* L,
                       uint8_t* packed, uint16_t* d16, uint16_t* dmin16) {
  uint8_t Laux[32];
  float weights[32], mins[kQKK / 32], scales[kQKK / 32];
  float max_scale = 0, max_min = 0;  // scales are >= 0 since the min is subtracted
  for (int j = 0; j < kQKK / 32; ++j) {
    const float* xs = x + 32 * j;
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += xs[l] * xs[l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(xs[l]);
    scales[j] = make_qkx2_quants(32, nmax, xs, weights, L + 32 * j, &mins[j], Laux, rmin, rdelta, nstep);
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  pack_k_scales(scales, mins, max_scale, max_min, packed, d16, dmin16);
  for (int j = 0; j < kQKK / 32; ++j) {
    uint8_t sc, m;
    get_scale_min_k4(j, packed, &sc, &m);
    const float d = f16_to_f32(*d16) * sc;
    if (d == 0.0f) continue;
    const float dm = f16_to_f32(*dmin16) * m;
    for (int ii = 0; ii < 32; ++ii)
      L[32 * j + ii] = static_cast<uint8_t>(clamp_int(nearest_int((x[32 * j + ii] + dm) / d), 0, nmax));
  }
}

void quantize_q4_K(const float* x, BlockQ4_K& b) {
  uint8_t L[kQKK];
  quantize_k_levels(x, 15, -1.f, 0.1f, 20, L, b.scales, &b.d, &b.dmin);
  // Each 32 bytes of qs hold 64 elements: low nibbles the first 32, high the next.
  uint8_t* q = b.qs;
  for (int j = 0; j < kQKK; j += 64, q += 32)
    for (int l = 0; l < 32; ++l) q[l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 4));
}

void dequantize_q4_K(const BlockQ4_K& b, float* y) {
  const float d = f16_to_f32(b.d);
  const float min = f16_to_f32(b.dmin);
  const uint8_t* q = b.qs;
  for (int j = 0, is = 0; j < kQKK; j += 64, q += 32, is += 2) {
    uint8_t sc, m;
    get_scale_min_k4(is, b.scales, &sc, &m);
    const float d1 = d * sc, m1 = min * m;
    get_scale_min_k4(is + 1, b.scales, &sc, &m);
    const float d2 = d * sc, m2 = min * m;
    for (int l = 0; l < 32; ++l) *y++ = d1 * (q[l] & 0xf) - m1;
    for (int l = 0; l < 32; ++l) *y++ = d2 * (q[l] >> 4) - m2;
  }
}

// ---------------------------------------------------------------- q5_K

void quantize_q5_K(const float* x, BlockQ5_K& b) {
  uint8_t L[kQKK];
  quantize_k_levels(x, 31, -0.5f, 0.1f, 15, L, b.scales, &b.d, &b.dmin);
  // Per 64 elements: low nibbles the first 32, high nibbles the next 32; the
  // fifth bits go to bits 2c and 2c + 1 of qh.
  std::memset(b.qh, 0, sizeof(b.qh));
  uint8_t* ql = b.qs;
  for (int c = 0; c < 4; ++c, ql += 32) {
    for (int l = 0; l < 32; ++l) {
      const uint8_t l1 = L[64 * c + l], l2 = L[64 * c + l + 32];
      ql[l] = static_cast<uint8_t>((l1 & 0x0f) | ((l2 & 0x0f) << 4));
      b.qh[l] |= static_cast<uint8_t>(((l1 >> 4) << (2 * c)) | ((l2 >> 4) << (2 * c + 1)));
    }
  }
}

void dequantize_q5_K(const BlockQ5_K& b, float* y) {
  const float d = f16_to_f32(b.d);
  const float min = f16_to_f32(b.dmin);
  const uint8_t* ql = b.qs;
  for (int c = 0; c < 4; ++c, ql += 32) {
    uint8_t sc, m;
    get_scale_min_k4(2 * c, b.scales, &sc, &m);
    const float d1 = d * sc, m1 = min * m;
    get_scale_min_k4(2 * c + 1, b.scales, &sc, &m);
    const float d2 = d * sc, m2 = min * m;
    for (int l = 0; l < 32; ++l) *y++ = d1 * ((ql[l] & 0xf) | (((b.qh[l] >> (2 * c)) & 1) << 4)) - m1;
    for (int l = 0; l < 32; ++l) *y++ = d2 * ((ql[l] >> 4) | (((b.qh[l] >> (2 * c + 1)) & 1) << 4)) - m2;
  }
}

// ---------------------------------------------------------------- q6_K

// Symmetric quantization of n values to L in [0, 2 * nmax) (stored with +nmax
// offset), weighting by x^2, trying 18 scales around the plain one (ggml's
// make_qx_quants with rmse_type 1 and no importance weights). Returns the scale.
float make_qx_quants_rmse1(int n, int nmax, const float* x, int8_t* L) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    for (int i = 0; i < n; ++i) L[i] = 0;
    return 0.f;
  }
  float iscale = -nmax / max;
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = clamp_int(nearest_int(iscale * x[i]), -nmax, nmax - 1);
    L[i] = static_cast<int8_t>(l + nmax);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  float scale = suml2 ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(nmax + 0.1f * is) / max;
    sumlx = suml2 = 0;
    for (int i = 0; i < n; ++i) {
      const int l = clamp_int(nearest_int(iscale * x[i]), -nmax, nmax - 1);
      const float w = x[i] * x[i];
      sumlx += w * x[i] * l;
      suml2 += w * l * l;
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; ++i)
        L[i] = static_cast<int8_t>(nmax + clamp_int(nearest_int(iscale * x[i]), -nmax, nmax - 1));
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

void quantize_q6_K(const float* x, BlockQ6_K& b) {
  int8_t L[kQKK];
  float scales[kQKK / 16];
  float max_scale = 0, max_abs_scale = 0;
  for (int ib = 0; ib < kQKK / 16; ++ib) {
    scales[ib] = make_qx_quants_rmse1(16, 32, x + 16 * ib, L + 16 * ib);
    const float abs_scale = std::fabs(scales[ib]);
    if (abs_scale > max_abs_scale) {
      max_abs_scale = abs_scale;
      max_scale = scales[ib];
    }
  }
  if (max_abs_scale < kGroupMaxEps) return;  // all zeros (d = +0); the caller zeroed b

  const float iscale = -128.f / max_scale;
  b.d = f32_to_f16(1 / iscale);
  for (int ib = 0; ib < kQKK / 16; ++ib)
    b.scales[ib] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[ib])));
  // Re-quantize against the stored 8-bit scales.
  for (int j = 0; j < kQKK / 16; ++j) {
    const float d = f16_to_f32(b.d) * b.scales[j];
    if (d == 0.0f) continue;
    for (int ii = 0; ii < 16; ++ii)
      L[16 * j + ii] = static_cast<int8_t>(clamp_int(nearest_int(x[16 * j + ii] / d), -32, 31) + 32);
  }
  // Per 128 elements: ql[0..63] hold low nibbles (elements l and l+64 share a
  // byte, likewise l+32 and l+96); qh[0..31] hold the 2 high bits of 4 elements.
  uint8_t* ql = b.ql;
  uint8_t* qh = b.qh;
  for (int j = 0; j < kQKK; j += 128, ql += 64, qh += 32) {
    for (int l = 0; l < 32; ++l) {
      const uint8_t q1 = L[j + l] & 0xf, q2 = L[j + l + 32] & 0xf;
      const uint8_t q3 = L[j + l + 64] & 0xf, q4 = L[j + l + 96] & 0xf;
      ql[l] = static_cast<uint8_t>(q1 | (q3 << 4));
      ql[l + 32] = static_cast<uint8_t>(q2 | (q4 << 4));
      qh[l] = static_cast<uint8_t>((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) |
                                   ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
    }
  }
}

void dequantize_q6_K(const BlockQ6_K& b, float* y) {
  const float d = f16_to_f32(b.d);
  const uint8_t* ql = b.ql;
  const uint8_t* qh = b.qh;
  const int8_t* sc = b.scales;
  for (int n = 0; n < kQKK; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = ((ql[l] & 0xf) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = ((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[l] = d * sc[is] * q1;
      y[l + 32] = d * sc[is + 2] * q2;
      y[l + 64] = d * sc[is + 4] * q3;
      y[l + 96] = d * sc[is + 6] * q4;
    }
  }
}

// Blocks are copied in and out with memcpy: GGUF data and caller buffers need
// not be aligned for the block structs (general.alignment may be 1).
template <typename Block, int kElems, void (*Kernel)(const float*, Block&)>
void quantize_blocks(const float* x, void* dst, int64_t nb) {
  auto* out = static_cast<uint8_t*>(dst);
  for (int64_t i = 0; i < nb; ++i) {
    Block b{};  // zeroed: kernels OR bits into fields
    Kernel(x + i * kElems, b);
    std::memcpy(out + i * sizeof(Block), &b, sizeof(Block));
  }
}

template <typename Block, int kElems, void (*Kernel)(const Block&, float*)>
void dequantize_blocks(const void* src, float* y, int64_t nb) {
  const auto* in = static_cast<const uint8_t*>(src);
  for (int64_t i = 0; i < nb; ++i) {
    Block b;
    std::memcpy(&b, in + i * sizeof(Block), sizeof(Block));
    Kernel(b, y + i * kElems);
  }
}

// Common argument checks; returns the number of blocks.
Result<int64_t> block_count(DType t, const void* p, const float* f, int64_t n) {
  if (n < 0) return Error("negative element count ", n);
  const DTypeInfo& info = dtype_info(t);
  if (n % info.block_elems != 0)
    return Error(n, " elements is not a whole number of ", info.name, " blocks of ", info.block_elems);
  if (n > 0 && (p == nullptr || f == nullptr)) return Error("null buffer");
  return n / info.block_elems;
}

}  // namespace

Status dequantize_row(DType src_type, const void* src, float* dst, int64_t n) {
  Result<int64_t> nb = block_count(src_type, src, dst, n);
  if (!nb.ok()) return nb.status().with_context("dequantize_row");
  switch (src_type) {
    case DType::F32:
      if (n > 0) std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return Status::Ok();
    case DType::F16: {
      const auto* s = static_cast<const uint8_t*>(src);
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, s + 2 * i, 2);  // GGUF data need not be 2-byte aligned
        dst[i] = f16_to_f32(h);
      }
      return Status::Ok();
    }
    case DType::BF16: {
      const auto* s = static_cast<const uint8_t*>(src);
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, s + 2 * i, 2);
        dst[i] = bf16_to_f32(h);
      }
      return Status::Ok();
    }
    case DType::Q8_0: dequantize_blocks<BlockQ8_0, kQK, dequantize_q8_0>(src, dst, *nb); return Status::Ok();
    case DType::Q4_0: dequantize_blocks<BlockQ4_0, kQK, dequantize_q4_0>(src, dst, *nb); return Status::Ok();
    case DType::Q5_0: dequantize_blocks<BlockQ5_0, kQK, dequantize_q5_0>(src, dst, *nb); return Status::Ok();
    case DType::Q5_1: dequantize_blocks<BlockQ5_1, kQK, dequantize_q5_1>(src, dst, *nb); return Status::Ok();
    case DType::Q4_K: dequantize_blocks<BlockQ4_K, kQKK, dequantize_q4_K>(src, dst, *nb); return Status::Ok();
    case DType::Q5_K: dequantize_blocks<BlockQ5_K, kQKK, dequantize_q5_K>(src, dst, *nb); return Status::Ok();
    case DType::Q6_K: dequantize_blocks<BlockQ6_K, kQKK, dequantize_q6_K>(src, dst, *nb); return Status::Ok();
    default:
      return Error("dequantize_row: no dequantization for dtype ", dtype_name(src_type));
  }
}

Status quantize_row(DType dst_type, const float* src, void* dst, int64_t n) {
  Result<int64_t> nb = block_count(dst_type, dst, src, n);
  if (!nb.ok()) return nb.status().with_context("quantize_row");
  switch (dst_type) {
    case DType::F32:
      if (n > 0) std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return Status::Ok();
    case DType::F16: {
      auto* d = static_cast<uint8_t*>(dst);
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = f32_to_f16(src[i]);
        std::memcpy(d + 2 * i, &h, 2);
      }
      return Status::Ok();
    }
    case DType::BF16: {
      auto* d = static_cast<uint8_t*>(dst);
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = f32_to_bf16(src[i]);
        std::memcpy(d + 2 * i, &h, 2);
      }
      return Status::Ok();
    }
    case DType::Q8_0: quantize_blocks<BlockQ8_0, kQK, quantize_q8_0>(src, dst, *nb); return Status::Ok();
    case DType::Q4_0: quantize_blocks<BlockQ4_0, kQK, quantize_q4_0>(src, dst, *nb); return Status::Ok();
    case DType::Q5_0: quantize_blocks<BlockQ5_0, kQK, quantize_q5_0>(src, dst, *nb); return Status::Ok();
    case DType::Q5_1: quantize_blocks<BlockQ5_1, kQK, quantize_q5_1>(src, dst, *nb); return Status::Ok();
    case DType::Q4_K: quantize_blocks<BlockQ4_K, kQKK, quantize_q4_K>(src, dst, *nb); return Status::Ok();
    case DType::Q5_K: quantize_blocks<BlockQ5_K, kQKK, quantize_q5_K>(src, dst, *nb); return Status::Ok();
    case DType::Q6_K: quantize_blocks<BlockQ6_K, kQKK, quantize_q6_K>(src, dst, *nb); return Status::Ok();
    default:
      return Error("quantize_row: no quantization to dtype ", dtype_name(dst_type));
  }
}

// quantize_row's own dispatch decides: an empty row of a type it handles is ok
// (dequantize_row has the same cases).
bool can_quantize(DType t) { return quantize_row(t, nullptr, nullptr, 0).ok(); }

}  // namespace keel
