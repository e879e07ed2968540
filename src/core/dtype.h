// Element types keel knows: the dense ones of safetensors and GGUF, and the
// block-quantized GGML layouts (byte-compatible with GGUF; see quant_blocks.h).
#pragma once

#include <cstdint>
#include <string_view>

#include "core/status.h"

namespace keel {

enum class DType : uint8_t {
  F32, F16, BF16, F64,
  I8, U8, I16, U16, I32, U32, I64, U64, Bool,
  F8_E4M3, F8_E5M2,
  // GGML block-quantized layouts.
  Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1,
  Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K,
};
inline constexpr int kNumDTypes = static_cast<int>(DType::Q8_K) + 1;
inline constexpr uint32_t kNoGgmlType = 0xffffffffu;

struct DTypeInfo {
  DType dtype;
  std::string_view name;              // keel's name: "f32", "q4_K", ...
  std::string_view safetensors_name;  // "F32", ...; empty if safetensors has no such dtype
  uint32_t ggml_type;                 // GGML type code; kNoGgmlType if GGUF has none
  uint32_t block_elems;               // elements per block (1 for dense types)
  uint32_t block_bytes;               // bytes per block
  bool quantized;
};

const DTypeInfo& dtype_info(DType t);
inline std::string_view dtype_name(DType t) { return dtype_info(t).name; }

// Look-ups by the name or code a file uses. The error names the value.
Result<DType> dtype_from_name(std::string_view keel_name);
Result<DType> dtype_from_safetensors(std::string_view name);
Result<DType> dtype_from_ggml(uint32_t ggml_type);
// A human name for any GGML code, known to keel or not ("IQ2_XXS", "type 99").
std::string ggml_type_name(uint32_t ggml_type);

// Bytes taken by `n_elems` elements of `t` stored contiguously. Fails if `n_elems`
// is not a whole number of blocks or the size overflows 64 bits.
Result<uint64_t> dtype_row_bytes(DType t, uint64_t n_elems);

}  // namespace keel
