// Declarations shared between the kernel fronts (linear.cc, attention.cc,
// layer_norm.cc) and the per-ISA translation units (*_avx2.cc, *_avx512.cc,
// compiled with their own -m flags, see CMakeLists.txt). Nothing here is API.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/thread_pool.h"
#include "kernels/linear.h"

namespace keel::kernels::detail {

// erf(a) for a in [0, 1]: a * P1(2 a^2 - 1); for a in [1, 4]: P2((2 a - 5) / 3);
// a >= 4: 1. Chebyshev interpolants (near-minimax) fitted to math.erf in double;
// measured float error: relative 1.4e-7 on [0, 1], absolute 8e-8 on [1, 4].
inline constexpr int kErfP1Degree = 6;
inline constexpr float kErfP1[kErfP1Degree + 1] = {
    9.654687386e-01f, -1.405360973e-01f, 1.985249772e-02f, -2.285419529e-03f,
    2.175119898e-04f, -1.766908081e-05f, 1.231640160e-06f};
inline constexpr int kErfP2Degree = 14;
inline constexpr float kErfP2[kErfP2Degree + 1] = {
    9.995930476e-01f, 3.267276919e-03f,  -1.225279947e-02f, 2.818722266e-02f,
    -4.365193426e-02f, 4.639105123e-02f, -3.186589637e-02f, 9.574278362e-03f,
    6.630969924e-03f,  -1.040347254e-02f, 4.676661933e-03f, 1.536217172e-03f,
    -2.039517818e-03f, 9.703090125e-05f, 2.598570770e-04f};

// Panel widths of the packed layouts.
inline constexpr size_t kPanelAvx2 = 16;
inline constexpr size_t kPanelAvx512 = 32;

// The per-ISA translation units export only plain functions that work on one
// tile / one row range / one (sequence, head); the drivers (tiling, threads,
// scratch buffers) live in the baseline-compiled fronts. That keeps inline
// library code (std::function, std::vector, ...) out of the -mavx512 objects,
// where the linker could pick an AVX-512 copy of it for the whole program.

// Runs fn(task) for task in [0, n) on the pool's threads (or inline when pool
// is null), handing out tasks one at a time from a shared counter: a thread
// that starts late or runs slow (the machine is shared) just takes fewer.
// Defined in linear.cc (baseline code).
void run_tasks(ThreadPool* pool, size_t n, void (*fn)(void* ctx, size_t task), void* ctx);

// One linear() call. w points at the packed panels (layout per function).
struct GemmArgs {
  const float* x;
  size_t m, ldx;
  const void* w;
  size_t n, k;
  const float* bias;
  Epilogue ep;
  float* y;
  size_t ldy;
};

// Computes y rows [m0, m1) x columns [n0, n1); n0 is a multiple of the panel
// width. scratch: at least gemm_scratch_bytes(m1 - m0, k) bytes, 64-aligned.
using GemmTileFn = void (*)(const GemmArgs& a, size_t m0, size_t m1, size_t n0, size_t n1,
                            void* scratch);
inline size_t gemm_scratch_bytes(size_t rows, size_t k) { return rows * (2 * k + 32) + 256; }

// AMX (linear_amx.cc): the bf16 and int8 GEMMs on the same packed panels as the
// AVX-512 kernels, for k a multiple of 32 (bf16) or 64 (int8). Only after
// cpu_features() reported AMX; amx_permitted() asks Linux for the tile state
// (once per process) and says whether it was granted. Their scratch:
// amx_scratch_bytes(m1 - m0, k).
bool amx_permitted();
// One row of x (k floats) as the int8 GEMMs' asymmetric u8 into q[0, kp)
// (linear_avx512.cc; AVX-512 BW): the same operations as quantize_row_u8.
void quantize_row_u8_avx512(const float* x, size_t k, size_t kp, uint8_t* q, float* scale, int32_t* zero);
void gemm_bf16_amx_tile(const GemmArgs& a, size_t m0, size_t m1, size_t n0, size_t n1, void* scratch);
void gemm_i8_amx_tile(const GemmArgs& a, size_t m0, size_t m1, size_t n0, size_t n1, void* scratch);
inline size_t amx_scratch_bytes(size_t rows, size_t k) {
  const size_t rp = (rows + 31) / 32 * 32;
  return rp * (2 * k + 8) + 4096 + 256;
}
// The bf16 GEMM tile for this k: AMX where kernel_has_amx() and k is whole
// 32-element steps, else the AVX-512 kernel (linear.cc).
GemmTileFn bf16_gemm_tile(size_t k);
// Scratch for any tile function on up to `rows` rows.
inline size_t tile_scratch_bytes(size_t rows, size_t k) {
  const size_t a = gemm_scratch_bytes(rows, k), b = amx_scratch_bytes(rows, k);
  return a > b ? a : b;
}
void gemm_f32_avx512_tile(const GemmArgs& a, size_t m0, size_t m1, size_t n0, size_t n1, void*);
void gemm_bf16_avx512_tile(const GemmArgs& a, size_t m0, size_t m1, size_t n0, size_t n1, void*);
// I8: w is the I8Panel32 layout; per tile, x rows are quantized into scratch.
void gemm_i8_avx512_tile(const GemmArgs& a, size_t m0, size_t m1, size_t n0, size_t n1, void*);
void gemm_f32_avx2_tile(const GemmArgs& a, size_t m0, size_t m1, size_t n0, size_t n1, void*);
// I8: w is the I8Panel16 layout; x rows are quantized into scratch as int16 pairs.
void gemm_i8_avx2_tile(const GemmArgs& a, size_t m0, size_t m1, size_t n0, size_t n1, void*);

// In-place GELU over n floats with the vector erf (tests use it directly).
void gelu_avx512(float* y, size_t n);
void gelu_avx2(float* y, size_t n);

void add_layer_norm_rows_avx512(const float* x, const float* residual, const float* gamma,
                                const float* beta, float eps, float* y, size_t m0, size_t m1,
                                size_t n);
void add_layer_norm_rows_avx2(const float* x, const float* residual, const float* gamma,
                              const float* beta, float eps, float* y, size_t m0, size_t m1,
                              size_t n);

struct AttentionArgs {
  const float* q;
  const float* k;
  const float* v;
  size_t ld_qkv, head_dim;
  float scale;
  float* out;
  size_t ld_out;
};
// Key blocks are kAttentionKeyBlock keys; scratch holds K^T of one head,
// padded to whole key blocks, plus the block's probabilities and outputs.
inline constexpr size_t kAttentionKeyBlock = 64;
inline constexpr size_t kAttentionQueryBlock = 8;
inline size_t attention_scratch_floats(size_t len, size_t head_dim) {
  const size_t lp = (len + kAttentionKeyBlock - 1) / kAttentionKeyBlock * kAttentionKeyBlock;
  return head_dim * lp + kAttentionQueryBlock * (kAttentionKeyBlock + head_dim) + 16;
}
// One (sequence, head): rows [r0, r0 + len), columns [h*head_dim, (h+1)*head_dim).
void attention_head_avx512(const AttentionArgs& a, size_t r0, size_t len, size_t h, float* scratch);
void attention_head_avx2(const AttentionArgs& a, size_t r0, size_t len, size_t h, float* scratch);

}  // namespace keel::kernels::detail
