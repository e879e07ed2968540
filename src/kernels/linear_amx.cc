// AMX tile kernels for the bf16 and int8 GEMMs (Sapphire Rapids and later):
// one TDPBF16PS / TDPBUSD multiplies a 16x32 bf16 (16x64 u8) tile of x by a
// 32x16 bf16 (64x16 s8) tile of W into a 16x16 f32 (int32) tile, 16 times
// the work of a 512-bit dot-product instruction.
//
// The weights are the AVX-512 kernels' packed panels, unchanged: a 32-column
// panel stores, per k pair (bf16) or k quad (int8), 32 columns x 4 bytes --
// 128 bytes, of which each half is one row of an AMX B tile (16 columns x 4
// bytes). So a B tile is 16 such rows read with a 128-byte stride, and the
// same packed model runs on either kernel.
//
// Register blocking: C is 32 rows x 32 columns in 4 accumulator tiles (tmm0-3),
// A 2 tiles (tmm4-5, rows 0-15 and 16-31), B 2 tiles (tmm6-7, columns 0-15 and
// 16-31): per k step of 32 (bf16) or 64 (int8) 4 tile loads, 4 tile products.
// x rows are converted (bf16) or quantized (u8, exactly as the VNNI kernel
// does) into scratch, padded to a multiple of 32 rows with zeros; C tiles go
// through a 32x32 buffer for the bias / GELU epilogue and the masked stores.
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "kernels/internal.h"
#include "kernels/simd_avx512.h"
#include "kernels/simd_ops.h"

namespace keel::kernels::detail {
namespace {

using V = avx512::Vec;
constexpr size_t kPanel = kPanelAvx512;  // 32
constexpr size_t kBlockRows = 32;

// The tile configuration (palette 1): 8 tiles of 16 rows x 64 bytes.
struct alignas(64) TileConfig {
  uint8_t palette = 1, start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

void load_tile_config() {
  TileConfig c;
  for (int t = 0; t < 8; ++t) {
    c.colsb[t] = 64;
    c.rows[t] = 16;
  }
  _tile_loadconfig(&c);
}

// Bias and GELU on one 32-column row of the C buffer, then a masked store.
inline void finish_row(__m512 c0, __m512 c1, const float* bias, __mmask16 m0, __mmask16 m1, Epilogue ep,
                       float* y) {
  if (bias) {
    c0 = _mm512_add_ps(c0, _mm512_maskz_loadu_ps(m0, bias));
    c1 = _mm512_add_ps(c1, _mm512_maskz_loadu_ps(m1, bias + 16));
  }
  if (ep == Epilogue::Gelu) {
    c0 = simd::gelu<V>(c0);
    c1 = simd::gelu<V>(c1);
  }
  _mm512_mask_storeu_ps(y, m0, c0);
  _mm512_mask_storeu_ps(y + 16, m1, c1);
}

// C tiles 0-3 -> buf [32][32] (rows 0-15: tiles 0 | 1, rows 16-31: 2 | 3).
inline void store_c(void* buf) {
  auto* b = static_cast<uint8_t*>(buf);
  _tile_stored(0, b, 128);
  _tile_stored(1, b + 64, 128);
  _tile_stored(2, b + 16 * 128, 128);
  _tile_stored(3, b + 16 * 128 + 64, 128);
}

}  // namespace

bool amx_permitted() {
  // Linux hands out the 8 KiB tile state only to processes that ask for it.
  static const bool ok = [] {
    constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
  }();
  return ok;
}

void gemm_bf16_amx_tile(const GemmArgs& g, size_t m0, size_t m1, size_t n0, size_t n1, void* scratch) {
  const size_t k = g.k;  // a multiple of 32 (the caller checks)
  const size_t rows = m1 - m0, rows_p = (rows + kBlockRows - 1) / kBlockRows * kBlockRows;
  // x rows as bf16 (round to nearest even, as the AVX-512 kernel), [rows_p][k].
  uint16_t* xa = static_cast<uint16_t*>(scratch);
  for (size_t i = 0; i < rows; ++i) {
    const float* xi = g.x + (m0 + i) * g.ldx;
    uint16_t* xo = xa + i * k;
    for (size_t p = 0; p < k; p += 32) {
      const __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(xi + p + 16), _mm512_loadu_ps(xi + p));
      _mm512_storeu_si512(xo + p, (__m512i)v);
    }
  }
  std::memset(xa + rows * k, 0, (rows_p - rows) * k * sizeof(uint16_t));
  float* cbuf = reinterpret_cast<float*>(xa + rows_p * k);  // 64-aligned: k is a multiple of 32
  const uint16_t* wp = static_cast<const uint16_t*>(g.w);
  const size_t lda = k * sizeof(uint16_t);
  load_tile_config();
  for (size_t j = n0; j < n1; j += kPanel) {
    const uint16_t* panel = wp + j * k;  // [k / 2][32][2]
    const size_t cols = n1 - j < kPanel ? n1 - j : kPanel;
    const __mmask16 e0 = V::mask(cols), e1 = cols > 16 ? V::mask(cols - 16) : __mmask16(0);
    for (size_t i = 0; i < rows_p; i += kBlockRows) {
      _tile_zero(0);
      _tile_zero(1);
      _tile_zero(2);
      _tile_zero(3);
      for (size_t p = 0; p < k; p += 32) {
        _tile_loadd(4, xa + i * k + p, lda);
        _tile_loadd(5, xa + (i + 16) * k + p, lda);
        _tile_loadd(6, panel + p * kPanel, 128);
        _tile_loadd(7, panel + p * kPanel + 32, 128);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
      }
      store_c(cbuf);
      const size_t live = rows - i < kBlockRows ? rows - i : kBlockRows;
      for (size_t r = 0; r < live; ++r) {
        finish_row(_mm512_load_ps(cbuf + r * 32), _mm512_load_ps(cbuf + r * 32 + 16),
                   g.bias ? g.bias + j : nullptr, e0, e1, g.ep, g.y + (m0 + i + r) * g.ldy + j);
      }
    }
  }
  _tile_release();
}

void gemm_i8_amx_tile(const GemmArgs& g, size_t m0, size_t m1, size_t n0, size_t n1, void* scratch) {
  const size_t k = g.k;  // a multiple of 64 (the caller checks): kp == k
  const size_t np = (g.n + kPanel - 1) / kPanel * kPanel;
  const size_t rows = m1 - m0, rows_p = (rows + kBlockRows - 1) / kBlockRows * kBlockRows;
  const int8_t* wp = static_cast<const int8_t*>(g.w);
  const int32_t* colsum = reinterpret_cast<const int32_t*>(wp + np * k);
  const float* wscale = reinterpret_cast<const float*>(colsum + np);
  // Scratch: per-row scales and zero points, the C buffer, then x as u8 rows
  // [rows_p][k].
  uint8_t* s8 = static_cast<uint8_t*>(scratch);
  float* xscale = reinterpret_cast<float*>(s8);
  int32_t* xzero = reinterpret_cast<int32_t*>(s8 + kBlockRows * 4 * ((rows_p + 31) / 32));
  int32_t* cbuf = reinterpret_cast<int32_t*>(s8 + 2 * kBlockRows * 4 * ((rows_p + 31) / 32));
  uint8_t* xa = reinterpret_cast<uint8_t*>(cbuf + 32 * 32);
  // Asymmetric u8 rows, as the VNNI kernel quantizes them: the two give the
  // same integer sums.
  for (size_t i = 0; i < rows; ++i)
    quantize_row_u8_avx512(g.x + (m0 + i) * g.ldx, k, k, xa + i * k, &xscale[i], &xzero[i]);
  std::memset(xa + rows * k, 0, (rows_p - rows) * k);
  load_tile_config();
  for (size_t j = n0; j < n1; j += kPanel) {
    const int8_t* panel = wp + j * k;  // [k / 4][32][4]
    const size_t cols = n1 - j < kPanel ? n1 - j : kPanel;
    const __mmask16 e0 = V::mask(cols), e1 = cols > 16 ? V::mask(cols - 16) : __mmask16(0);
    const __m512i cs0 = _mm512_loadu_si512(colsum + j), cs1 = _mm512_loadu_si512(colsum + j + 16);
    const __m512 ws0 = _mm512_loadu_ps(wscale + j), ws1 = _mm512_loadu_ps(wscale + j + 16);
    for (size_t i = 0; i < rows_p; i += kBlockRows) {
      _tile_zero(0);
      _tile_zero(1);
      _tile_zero(2);
      _tile_zero(3);
      for (size_t p = 0; p < k; p += 64) {
        _tile_loadd(4, xa + i * k + p, k);
        _tile_loadd(5, xa + (i + 16) * k + p, k);
        _tile_loadd(6, panel + p * kPanel, 128);
        _tile_loadd(7, panel + p * kPanel + 64, 128);
        _tile_dpbusd(0, 4, 6);
        _tile_dpbusd(1, 4, 7);
        _tile_dpbusd(2, 5, 6);
        _tile_dpbusd(3, 5, 7);
      }
      store_c(cbuf);
      const size_t live = rows - i < kBlockRows ? rows - i : kBlockRows;
      for (size_t r = 0; r < live; ++r) {
        // y = (acc - z colsum) * xscale * wscale (+ bias), as kernel_i8.
        const __m512 xs = _mm512_set1_ps(xscale[i + r]);
        const __m512i z = _mm512_set1_epi32(xzero[i + r]);
        const __m512i s0 = _mm512_sub_epi32(_mm512_load_si512(cbuf + r * 32), _mm512_mullo_epi32(z, cs0));
        const __m512i s1 = _mm512_sub_epi32(_mm512_load_si512(cbuf + r * 32 + 16), _mm512_mullo_epi32(z, cs1));
        finish_row(_mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(s0), xs), ws0),
                   _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(s1), xs), ws1),
                   g.bias ? g.bias + j : nullptr, e0, e1, g.ep, g.y + (m0 + i + r) * g.ldy + j);
      }
    }
  }
  _tile_release();
}

}  // namespace keel::kernels::detail
