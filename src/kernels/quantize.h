// Conversions between f32 and the storage dtypes (f16, bf16, q8_0, q4_0, q5_0,
// q5_1, q4_K, q5_K, q6_K). Scalar reference implementations: the layouts and rounding follow
// ggml's reference code (ggml-quants.c), so keel's output is byte-identical to
// gguf-py / llama.cpp for the same input.
#pragma once

#include <cstdint>
#include <span>

#include "core/dtype.h"
#include "core/status.h"

namespace keel {

// Dequantizes `n` elements (a whole number of blocks) stored as `src_type` at
// `src` into `dst`. Supported: the types above.
Status dequantize_row(DType src_type, const void* src, float* dst, int64_t n);

// Quantizes `n` f32 elements into `dst_type` at `dst` (dtype_row_bytes(dst_type, n)
// bytes). Supported: the types above; an error for any other dtype.
Status quantize_row(DType dst_type, const float* src, void* dst, int64_t n);

// Whether quantize_row and dequantize_row handle `t` (the types above).
bool can_quantize(DType t);

}  // namespace keel
