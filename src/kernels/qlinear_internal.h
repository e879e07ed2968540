// Declarations shared between qlinear.cc (the front: dispatch, threads, the
// scalar twin) and the per-ISA qlinear_avx2.cc / qlinear_avx512.cc (compiled
// with their own -m flags). Nothing here is API.
//
// Decode-shaped calls (m <= kQDotMaxRows) stream W once and take the dot
// product of each W row with every x row:
//  * f32 / f16 / bf16 weights: converted to f32 in registers, f32 FMAs.
//  * block-quantized weights (q8_0, q4_0, q5_0, q5_1, q4_K, q5_K, q6_K): x is quantized once per call to int8
//    blocks of 32 (QBlocksX: q = round_half_even(x / d), d = max|x| / 127 of
//    the block, s = sum of q), and each 32-element block product is an integer
//    dot product (vpdpbusd with VNNI, pmaddubsw + pmaddwd on AVX2) scaled in
//    f32 by the weight block's scale(s) times d.
// Larger m (prefill) dequantizes panels of W (32 rows on AVX-512, 16 on AVX2)
// into the panel layout of linear.cc and runs its GEMM micro-kernel over all
// rows of x: bf16 panels (vdpbf16ps) for block-quantized and bf16 weights
// where AVX512_BF16 exists, packed 16 rows at a time by
// pack_bf16_pairs_avx512; f32 panels otherwise.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/dtype.h"

namespace keel::kernels::detail {

// Up to this many rows of x go through the decode (dot product) path.
inline constexpr size_t kQDotMaxRows = 8;
inline constexpr size_t kQBlock = 32;

// x quantized to int8 blocks of 32: row i's block b is q[i * k + 32 b ...],
// d[i * nb + b], s[i * nb + b] (nb = k / 32).
struct QBlocksX {
  const int8_t* q;
  const float* d;
  const int32_t* s;
};

struct QDotArgs {
  DType type;
  const uint8_t* w;  // W rows in storage layout
  size_t row_bytes;
  size_t k;
  size_t m;          // 1..kQDotMaxRows
  const float* x;    // f32 / f16 / bf16 weights: x rows, ldx apart
  size_t ldx;
  QBlocksX xq;       // quantized types
  float* y;
  size_t ldy;
};

// y[i, r] for W rows r in [r0, r1) and every row i < m of x.
void qdot_rows_avx512(const QDotArgs& a, size_t r0, size_t r1);  // needs AVX512-VNNI
void qdot_rows_avx2(const QDotArgs& a, size_t r0, size_t r1);

// Prefill on bf16 panels: 16 rows of dequantized W (kc floats each, kc % 32
// == 0) -> bf16 pairs in linear.cc's panel layout. Pair p (elements 2p, 2p+1,
// rounded as f32_to_bf16) of the 16 rows goes to dst + p * pair_stride as 16
// consecutive 32-bit words, row c in word c. Needs AVX-512 BW.
void pack_bf16_pairs_avx512(const float* const rows[16], size_t kc, uint16_t* dst, size_t pair_stride);
// dequantize_row for q4_K, q8_0 and bf16 (n whole blocks), bit for bit;
// false for other types (the caller falls back to dequantize_row).
bool dequantize_row_avx512(DType type, const uint8_t* src, float* y, size_t n);

// x row (k floats, k % 32 == 0) -> q (k int8), d and s (k / 32 each). The
// scalar form in qlinear.cc is the definition; the vector forms give the same
// bits (same float operations, round-half-even conversion).
void quantize_x_blocks_scalar(const float* x, size_t k, int8_t* q, float* d, int32_t* s);
void quantize_x_blocks_avx2(const float* x, size_t k, int8_t* q, float* d, int32_t* s);

}  // namespace keel::kernels::detail
