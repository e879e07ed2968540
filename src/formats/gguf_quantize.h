// Re-encodes a GGUF file's tensors in another storage type, choosing each
// tensor's type the way llama.cpp's llama_tensor_get_type (src/llama-quant.cpp)
// does for the same "ftype":
//   * only tensors of 2+ dimensions whose name ends in "weight" and does not
//     contain "_norm.weight" are converted; the rest keep their type and bytes;
//   * f32 / f16 / bf16: every such tensor gets that type;
//   * q8_0 / q4_0 / q4_K_M / q5_K_M: that type (q4_K / q5_K for the K_M
//     types), except
//       - output.weight (and token_embd.weight when there is no output.weight:
//         tied embeddings): q6_K, or q8_0 when the ftype is q8_0 or the row
//         length is not a whole number of the default type's blocks;
//       - q4_K_M / q5_K_M: attn_v / attn_qkv (one category, counted over the
//         file in order) and ffn_down (counted per layer) get q6_K in the
//         "use_more_bits" layers: i < n/8, i >= 7n/8, or (i - n/8) % 3 == 2;
//       - a row length that is not whole blocks of the chosen type falls back
//         as llama.cpp does (q6_K -> q8_0, q5_K -> q5_1, q4_K -> q5_0, then f16).
//   A type keel cannot write would make quantize_gguf fail with the tensor's
//   name rather than silently pick another.
// Metadata is copied in order; general.file_type is set to llama.cpp's ftype
// number and general.quantization_version to 2 for block-quantized ftypes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.h"
#include "core/status.h"
#include "core/thread_pool.h"
#include "formats/gguf.h"

namespace keel {

enum class QuantFtype { F32, F16, BF16, Q8_0, Q4_0, Q4_K_M, Q5_K_M };

// "f32", "f16", "bf16", "q8_0", "q4_0", "q4_K_M", "q5_K_M" (case-insensitive).
Result<QuantFtype> quant_ftype_from_name(std::string_view name);
std::string_view quant_ftype_name(QuantFtype f);
// llama.cpp's LLAMA_FTYPE_* number (general.file_type).
uint32_t quant_ftype_gguf_value(QuantFtype f);

// The storage type each tensor of `in` gets (in file order), or an error
// naming the first tensor keel cannot convert.
Result<std::vector<DType>> choose_tensor_types(const GgufFile& in, QuantFtype ftype);

struct QuantizeStats {
  uint64_t bytes_in = 0, bytes_out = 0;
  size_t tensors_converted = 0, tensors_copied = 0;
};

// Writes `out_path` (via a .tmp file, renamed at the end). `pool` may be null.
Result<QuantizeStats> quantize_gguf(const GgufFile& in, const std::string& out_path, QuantFtype ftype,
                                    ThreadPool* pool);

}  // namespace keel
