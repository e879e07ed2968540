#include "core/dtype.h"

#include <array>

namespace keel {
namespace {

constexpr std::array<DTypeInfo, kNumDTypes> kInfos = {{
    {DType::F32, "f32", "F32", 0, 1, 4, false},
    {DType::F16, "f16", "F16", 1, 1, 2, false},
    {DType::BF16, "bf16", "BF16", 30, 1, 2, false},
    {DType::F64, "f64", "F64", 28, 1, 8, false},
    {DType::I8, "i8", "I8", 24, 1, 1, false},
    {DType::U8, "u8", "U8", kNoGgmlType, 1, 1, false},
    {DType::I16, "i16", "I16", 25, 1, 2, false},
    {DType::U16, "u16", "U16", kNoGgmlType, 1, 2, false},
    {DType::I32, "i32", "I32", 26, 1, 4, false},
    {DType::U32, "u32", "U32", kNoGgmlType, 1, 4, false},
    {DType::I64, "i64", "I64", 27, 1, 8, false},
    {DType::U64, "u64", "U64", kNoGgmlType, 1, 8, false},
    {DType::Bool, "bool", "BOOL", kNoGgmlType, 1, 1, false},
    {DType::F8_E4M3, "f8_e4m3", "F8_E4M3", kNoGgmlType, 1, 1, false},
    {DType::F8_E5M2, "f8_e5m2", "F8_E5M2", kNoGgmlType, 1, 1, false},
    {DType::Q4_0, "q4_0", "", 2, 32, 18, true},
    {DType::Q4_1, "q4_1", "", 3, 32, 20, true},
    {DType::Q5_0, "q5_0", "", 6, 32, 22, true},
    {DType::Q5_1, "q5_1", "", 7, 32, 24, true},
    {DType::Q8_0, "q8_0", "", 8, 32, 34, true},
    {DType::Q8_1, "q8_1", "", 9, 32, 36, true},
    {DType::Q2_K, "q2_K", "", 10, 256, 84, true},
    {DType::Q3_K, "q3_K", "", 11, 256, 110, true},
    {DType::Q4_K, "q4_K", "", 12, 256, 144, true},
    {DType::Q5_K, "q5_K", "", 13, 256, 176, true},
    {DType::Q6_K, "q6_K", "", 14, 256, 210, true},
    {DType::Q8_K, "q8_K", "", 15, 256, 292, true},
}};

// Every GGML type code, so errors can name types keel does not handle.
constexpr std::array<std::string_view, 40> kGgmlNames = {
    "F32", "F16", "Q4_0", "Q4_1", "Q4_2 (removed)", "Q4_3 (removed)", "Q5_0", "Q5_1",
    "Q8_0", "Q8_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS",
    "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS", "I8", "I16", "I32", "I64",
    "F64", "IQ1_M", "BF16", "Q4_0_4_4 (removed)", "Q4_0_4_8 (removed)", "Q4_0_8_8 (removed)",
    "TQ1_0", "TQ2_0", "IQ4_NL_4_4 (removed)", "IQ4_NL_4_8 (removed)", "IQ4_NL_8_8 (removed)",
    "MXFP4"};

}  // namespace

const DTypeInfo& dtype_info(DType t) {
  static_assert(kInfos.size() == kNumDTypes);
  return kInfos[static_cast<size_t>(t)];
}

Result<DType> dtype_from_name(std::string_view name) {
  for (const auto& info : kInfos)
    if (info.name == name) return info.dtype;
  return Error("unknown dtype '", name, "'");
}

Result<DType> dtype_from_safetensors(std::string_view name) {
  for (const auto& info : kInfos)
    if (!info.safetensors_name.empty() && info.safetensors_name == name) return info.dtype;
  return Error("unknown safetensors dtype '", name, "'");
}

Result<DType> dtype_from_ggml(uint32_t code) {
  for (const auto& info : kInfos)
    if (info.ggml_type == code) return info.dtype;
  return Error("unsupported GGML type ", ggml_type_name(code));
}

std::string ggml_type_name(uint32_t code) {
  if (code < kGgmlNames.size()) return str_cat(kGgmlNames[code], " (", code, ")");
  return str_cat("unknown (", code, ")");
}

Result<uint64_t> dtype_row_bytes(DType t, uint64_t n_elems) {
  const DTypeInfo& info = dtype_info(t);
  if (n_elems % info.block_elems != 0)
    return Error(n_elems, " elements is not a whole number of ", info.name, " blocks of ",
                 info.block_elems);
  uint64_t blocks = n_elems / info.block_elems;
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(blocks, uint64_t{info.block_bytes}, &bytes))
    return Error(n_elems, " elements of ", info.name, " overflow 64-bit byte size");
  return bytes;
}

}  // namespace keel
