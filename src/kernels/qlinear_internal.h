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
//    f32 by the weight block's scale(s) times d. The K-quants on the AVX2
//    kernels take x in super-blocks of 256 instead (decode_x_superblocks);
//    q4_K there runs on 8 rows interleaved (QLayout::Q4_K_X8, made by
//    QuantMatrix::prepare).
// Larger m (prefill) dequantizes panels of W (32 rows on AVX-512, 16 on AVX2)
// into the panel layout of linear.cc and runs its GEMM micro-kernel over all
// rows of x: bf16 panels (vdpbf16ps) for block-quantized and bf16 weights
// where AVX512_BF16 exists, packed 16 rows at a time by
// pack_bf16_pairs_avx512; f32 panels otherwise -- except q4_K and q6_K
// without AVX512_BF16 (prefill_int8): x is quantized in blocks of 32 and W's
// levels are unpacked to bytes, so the products are pmaddubsw (32
// multiply-adds per instruction against the f32 FMA's 8), see gemm_q4_K_avx2.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/dtype.h"
#include "kernels/qlinear.h"

namespace keel::kernels::detail {

// Up to this many rows of x go through the decode (dot product) path.
inline constexpr size_t kQDotMaxRows = 8;
inline constexpr size_t kQBlock = 32;

// x quantized to int8: row i's element j is q[i * k + j]; one scale per
// `block` elements (32, or 256 for the K-quants' decode on AVX2, see
// decode_x_superblocks): d[i * (k / block) + j / block]; s[i * (k / 32) + b]
// is the sum of q over the 32 elements of block b (whatever `block` is).
inline constexpr size_t kQSuperBlock = 256;
struct QBlocksX {
  const int8_t* q;
  const float* d;
  const int32_t* s;
  size_t block = kQBlock;
};

// Decode-shaped calls on q4_K / q5_K / q6_K quantize x with one scale per
// 256-element super-block (as llama.cpp's q8_K) where the AVX2 kernels run
// (kernel ISA AVX2, or AVX-512 without VNNI): a super-block's block products
// then sum in int32, with the 6-bit block scales applied by pmaddwd, and one
// f32 FMA per super-block instead of one per 32 elements (bench_qlinear, Zen
// 3: ~1.4x). The VNNI kernels keep blocks of 32.
// A q4_K matrix in the Q4_K_X8 layout always does (its kernel is AVX2's).
bool decode_x_superblocks(DType type, QLayout layout = QLayout::Rows);

// q4_K, 8 rows interleaved (QLayout::Q4_K_X8), for the AVX2 decode kernel:
// row groups of 8 (the last one padded with zero rows), each k / 256 groups of
// kQ4KX8GroupBytes, one per super-block, holding the 8 rows' super-blocks:
//   [0, 16)      d of rows 0..7 (f16)
//   [16, 32)     dmin of rows 0..7 (f16)
//   [32, 96)     scales: byte 8 b + r = 6-bit scale of 32-block b of row r
//   [96, 160)    mins: byte 16 p + 2 r + t = 6-bit min of 32-block 2 p + t of row r
//   [160, 1184)  levels: 128 bytes per 32-block b, as 4 vectors j of 32 bytes;
//                byte 4 r + e of vector j holds row r's level of element
//                4 j + e of the block (low nibble) and of element 16 + 4 j + e
//                (high nibble).
// So one pmaddubsw multiplies 4 elements of 8 rows by 4 broadcast bytes of x,
// and a block's 8 such products per row sum in int16 (at most 8 * 2 * 15 *
// 128 = 30720 in magnitude) before one pmaddwd applies the 8 rows' scales.
// The scales and mins take 128 bytes per group against 96 packed (1184 bytes
// per 8 rows against 1152).
inline constexpr size_t kQ4KX8GroupBytes = 1184;
inline size_t q4_K_x8_bytes(size_t n, size_t k) { return (n + 7) / 8 * (k / kQSuperBlock) * kQ4KX8GroupBytes; }
// rows: n rows of q4_K in storage layout, row_bytes apart -> out (q4_K_x8_bytes).
void repack_q4_K_x8(const uint8_t* rows, size_t row_bytes, size_t n, size_t k, uint8_t* out);
// The inverse, bit for bit: rows [r0, r0 + count) of a Q4_K_X8 matrix of row
// length k -> out, in storage layout.
void unpack_q4_K_x8(const uint8_t* packed, size_t k, size_t r0, size_t count, uint8_t* out);

struct QDotArgs {
  DType type;
  QLayout layout;
  const uint8_t* w;  // W in `layout`
  size_t row_bytes;
  size_t k;
  size_t m;          // 1..kQDotMaxRows
  const float* x;    // f32 / f16 / bf16 weights: x rows, ldx apart
  size_t ldx;
  QBlocksX xq;       // quantized types
  float* y;
  size_t ldy;
};

// y[i, r] for W rows r in [r0, r1) and every row i < m of x. For Q4_K_X8
// (AVX2 only), r0 is a multiple of 8.
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

// Prefill of q4_K, q6_K, q8_0 and q4_0 (through the q4_K panels) weights on
// int8 activations: under the current kernel ISA, m > kQDotMaxRows, no
// AVX512_BF16 (which takes the bf16 panels).
bool prefill_int8(DType type, size_t m);

// The prefill panels: 16 W rows (columns of y), k elements each; rows past
// `cols` are zeros. Each 32-bit word of q holds 4 consecutive elements of one
// row; per 4-element step, rows 0-7 then 8-15 (two 32-byte vectors).
inline constexpr size_t kKPanel = 16;
// q4_K: q [k / 4][16][4] levels 0..15; dsc [k / 32][16] floats, d * scale of
// each 32-element sub-block; dm [k / 32][16] floats, dmin * min.
inline size_t q4_K_panel_bytes(size_t k) { return k * kKPanel + 2 * (k / kQBlock) * kKPanel * sizeof(float); }
// q6_K: q [k / 4][16][4] int8 levels - 32 (-32..31); sc [k / 16][16][2] int16,
// each 16-element sub-block's scale twice (a pmaddwd operand); corr [k / 32][16]
// int32, 128 * sum over the 32-block of scale * (level - 32); d [k / 256][16].
inline size_t q6_K_panel_bytes(size_t k) {
  return k * kKPanel + (k / 16) * kKPanel * 4 + (k / kQBlock) * kKPanel * 4 + (k / 256) * kKPanel * 4;
}
void pack_q4_K_panel_avx2(const uint8_t* w, size_t row_bytes, size_t cols, size_t k, uint8_t* panel);
// q4_0 in the q4_K panel (x = d (q - 8): dsc = d, dm = 8 d), so gemm_q4_K_avx2
// runs it; k a multiple of 32.
void pack_q4_0_panel_avx2(const uint8_t* w, size_t row_bytes, size_t cols, size_t k, uint8_t* panel);
void pack_q6_K_panel_avx2(const uint8_t* w, size_t row_bytes, size_t cols, size_t k, uint8_t* panel);
// q8_0: q [k / 4][16][4] the int8 weights as stored; d [k / 32][16] floats.
inline size_t q8_0_panel_bytes(size_t k) { return k * kKPanel + (k / kQBlock) * kKPanel * sizeof(float); }
void pack_q8_0_panel_avx2(const uint8_t* w, size_t row_bytes, size_t cols, size_t k, uint8_t* panel);
// The q4_K panel from the Q4_K_X8 layout: `groups` = the panel's first group
// of 8 rows (the second follows when cols > 8), the same bytes as
// pack_q4_K_panel_avx2 on those rows in storage layout.
void pack_q4_K_x8_panel_avx2(const uint8_t* groups, size_t cols, size_t k, uint8_t* panel);

// y[i, c] for rows i in [m0, m1) of x and the panel's `cols` columns.
//  q4_K: sum over 32-blocks b of dx[i, b] * (dsc[b, c] * sum(level x) - dm[b, c] * s[i, b]);
//        the 4-bit x int8 products summed in int16 over a block (at most
//        16 * 15 * 128 = 30720 in magnitude), then in f32.
//  q6_K: x enters as x + 128 (unsigned: x.q holds x ^ 0x80), so pmaddubsw takes
//        it against the signed levels: sum over b of dx[i, b] * d[c] *
//        (sum over 16-sub-blocks of scale * sum((level - 32)(x + 128)) - corr[b, c]),
//        products summed in int16 over 8 elements (at most 4 * 255 * 32 = 32640).
struct KQuantGemmArgs {
  QBlocksX x;  // rows of k int8 (and k / 32 d, s each)
  size_t k;
  const uint8_t* panel;
  size_t cols;
  float* y;  // column 0 of the panel
  size_t ldy;
};
void gemm_q4_K_avx2(const KQuantGemmArgs& a, size_t m0, size_t m1);
void gemm_q6_K_avx2(const KQuantGemmArgs& a, size_t m0, size_t m1);
//  q8_0: both sides signed, as pmaddubsw(|w|, sign(x, w)) (at most 2 * 127 *
//        127 per int16 pair, then pmaddwd to int32 every step): sum over b
//        of dx[i, b] * d[b, c] * sum(w x).
void gemm_q8_0_avx2(const KQuantGemmArgs& a, size_t m0, size_t m1);

// x row (k floats, k % block == 0) -> q (k int8), d (k / block) and s (k / 32). The
// scalar form in qlinear.cc is the definition; the vector forms give the same
// bits (same float operations, round-half-even conversion).
// `block` (32 or 256) elements per scale, as QBlocksX.
void quantize_x_blocks_scalar(const float* x, size_t k, int8_t* q, float* d, int32_t* s,
                              size_t block = kQBlock);
void quantize_x_blocks_avx2(const float* x, size_t k, int8_t* q, float* d, int32_t* s, size_t block = kQBlock);

}  // namespace keel::kernels::detail
