// Linear layers over weights kept in their GGUF / safetensors storage type:
// y = x . W^T, for decoder inference (matrix-vector in decode, matrix-matrix in
// prefill).
//
// W is [n, k]: n output rows of k elements each, stored row after row in one
// of f32, f16, bf16, q8_0, q4_0, q5_0, q5_1, q4_K, q5_K, q6_K — byte for byte
// as a GGUF tensor of shape (ne0 = k, ne1 = n), or a safetensors [n, k] tensor. A QuantMatrix either
// views those bytes in place (an mmapped file: no copy, no load time) or owns a
// copy repacked for the fastest kernel this CPU runs.
//
// qlinear_scalar is the scalar twin every fast path is tested against: it
// dequantizes each row of W with dequantize_row and sums in f32 (or mirrors
// exactly whatever activation quantization the fast path uses).
//
// Rounding of the fast paths (the scalar twin rounds the same way for the
// kernel ISA in effect, see kernel_isa()):
//  * m <= 8, block-quantized types: x is quantized to int8 in blocks of 32
//    (scale max|x| / 127, round half to even), integer block dot products --
//    in blocks of 256 for q4_K / q5_K / q6_K where the AVX2 kernels run (as
//    llama.cpp's q8_K); x in blocks of 32 for m > 8 on q4_K and q6_K where
//    there is no AVX512_BF16 (pmaddubsw on the unpacked levels: about 2x the
//    f32 GEMM on AVX2);
//  * m > 8, the same types and bf16, with AVX512_BF16: x and dequantized W
//    rounded to bf16, f32 accumulation;
//  * otherwise f32 x and f32 (dequantized) W.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/buffer.h"
#include "core/dtype.h"
#include "core/status.h"
#include "core/thread_pool.h"

namespace keel::kernels {

// How a QuantMatrix holds its rows: as stored (GGUF / safetensors row after
// row), or q4_K with 8 rows interleaved per super-block for the AVX2 decode
// kernel (see qlinear_internal.h: kQ4KX8GroupBytes).
enum class QLayout : uint8_t { Rows, Q4_K_X8 };

class QuantMatrix {
 public:
  QuantMatrix() = default;
  QuantMatrix(QuantMatrix&&) noexcept = default;
  QuantMatrix& operator=(QuantMatrix&&) noexcept = default;

  // A view of `data` (which must outlive the matrix): dtype_row_bytes(type, k)
  // bytes per row, n rows. Fails on an unsupported type, n or k of 0, or k not
  // a whole number of blocks.
  static Result<QuantMatrix> view(DType type, const void* data, size_t n, size_t k);

  // Like view, but the result owns a copy of the weights, repacked into the
  // layout the fastest kernel wants where that is not the stored one (see
  // repacks).
  static Result<QuantMatrix> prepare(DType type, const void* data, size_t n, size_t k);

  // Whether prepare() repacks weights of this type on this CPU: q4_K where the
  // AVX2 decode kernels run (no AVX512-VNNI) -- 8 rows interleaved, which
  // halves the decode's instructions per weight (bench_qlinear, Zen 3: ~2x on
  // cached weights). Callers that can afford a copy (a model's linear layers)
  // call prepare() for such types and view() otherwise.
  static bool repacks(DType type);

  DType type() const { return type_; }
  QLayout layout() const { return layout_; }
  size_t n() const { return n_; }
  size_t k() const { return k_; }
  size_t row_bytes() const { return row_bytes_; }  // in storage layout
  size_t bytes() const { return n_ * row_bytes_; }  // in storage layout
  const uint8_t* data() const { return data_; }     // in layout()

  // `count` rows from r0 in storage layout: a pointer into the matrix, or (a
  // repacked layout) into `scratch`, which they are unpacked into.
  const uint8_t* rows(size_t r0, size_t count, std::vector<uint8_t>& scratch) const;

 private:
  DType type_ = DType::F32;
  QLayout layout_ = QLayout::Rows;
  size_t n_ = 0, k_ = 0, row_bytes_ = 0;
  const uint8_t* data_ = nullptr;
  AlignedBuffer owned_;  // empty for a view
};

// y[m, n] = x[m, k] . W^T. x rows are ldx floats apart (ldx >= k), y rows ldy
// apart (ldy >= n); y must not overlap x. Parallel over n (and m) on `pool`
// (null: the calling thread).
void qlinear(const float* x, size_t m, size_t ldx, const QuantMatrix& w, float* y, size_t ldy,
             ThreadPool* pool = nullptr);

// The scalar twin of qlinear.
void qlinear_scalar(const float* x, size_t m, size_t ldx, const QuantMatrix& w, float* y,
                    size_t ldy);

}  // namespace keel::kernels
