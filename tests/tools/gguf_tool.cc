// Test driver for tests/formats/test_gguf_interop.py: lets Python compare
// keel's GGUF writer, reader and quantization with llama.cpp's gguf-py.
//
//   gguf_tool write <out.gguf> <seed>      writes the interop file (below) and prints
//                                          JSON of what was written: {"metadata", "tensors"}
//   gguf_tool dump <file.gguf>             JSON: version, alignment, data_offset, metadata
//                                          (key, type, value), tensors (name, ggml type,
//                                          ne, offset, nbytes, data_hex, f32_hex)
//   gguf_tool quantize <dtype> <in.f32> <out.bin>     keel's quantize_row on raw f32
//   gguf_tool dequantize <dtype> <in.bin> <out.f32>   keel's dequantize_row
//
// JSON values: integers and bools as themselves; f32/f64 as numbers, non-finite
// ones as "nan" / "inf" / "-inf"; strings as text, or {"hex": ...} if not UTF-8;
// arrays as {"elem_type": "u32", "items": [...]}.
//
// Interop file tensor data, for tensor index t (file order), flat element i,
// with all arithmetic exact in f32 (so numpy regenerates it bit for bit):
//   h(i)  = (i * 2654435761 + seed * 40503 + t * 977) mod 2^32
//   x(i)  = ((h >> 8) / 2^24 * 2 - 1) * 2^((i / 32) % 5 - 2)
// Float and quantized tensors hold quantize_row(dtype, x); f64 holds x as
// double; integer tensors hold the low bytes of (h * 0x9E3779B97F4A7C15) mod 2^64.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/utf8.h"
#include "formats/gguf.h"
#include "kernels/quantize.h"

namespace keel {
namespace {

using nlohmann::ordered_json;

ordered_json float_json(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

std::string hex(std::span<const uint8_t> b) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  s.reserve(b.size() * 2);
  for (uint8_t c : b) {
    s += digits[c >> 4];
    s += digits[c & 15];
  }
  return s;
}

ordered_json value_json(const GgufValue& v) {
  return std::visit(
      [](const auto& x) -> ordered_json {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          if (is_valid_utf8(x)) return x;
          return {{"hex", hex({reinterpret_cast<const uint8_t*>(x.data()), x.size()})}};
        } else if constexpr (std::is_same_v<T, GgufArray>) {
          ordered_json items = ordered_json::array();
          for (const GgufValue& item : x.items) items.push_back(value_json(item));
          return {{"elem_type", gguf_value_type_name(x.elem_type)}, {"items", std::move(items)}};
        } else if constexpr (std::is_floating_point_v<T>) {
          return float_json(x);
        } else {
          return x;
        }
      },
      v.value);
}

ordered_json entry_json(const std::string& key, const GgufValue& v) {
  return {{"key", key}, {"type", gguf_value_type_name(v.type)}, {"value", value_json(v)}};
}

// ------------------------------------------------------------------ write

uint32_t h_of(uint64_t i, uint32_t seed, uint32_t t) {
  return static_cast<uint32_t>(i * 2654435761ull + uint64_t{seed} * 40503 + uint64_t{t} * 977);
}

float x_of(uint64_t i, uint32_t seed, uint32_t t) {
  const float u = static_cast<float>(h_of(i, seed, t) >> 8) / 16777216.0f * 2.0f - 1.0f;
  return std::ldexp(u, static_cast<int>((i / 32) % 5) - 2);
}

std::vector<std::pair<std::string, GgufValue>> interop_metadata(uint32_t seed) {
  using V = GgufValue;
  using T = GgufValueType;
  std::vector<std::pair<std::string, GgufValue>> m = {
      {"general.architecture", V::str("keel-interop")},
      {"general.name", V::str("gguf \xe2\x96\x81interop \xf0\x9f\xa6\x99")},
      {"general.alignment", V::u32(seed % 2 ? 64 : 32)},
      {"k.u8", V::u8(200)},
      {"k.i8", V::i8(-100)},
      {"k.u16", V::u16(60000)},
      {"k.i16", V::i16(-30000)},
      {"k.u32", V::u32(4000000000u)},
      {"k.i32", V::i32(-2000000000)},
      {"k.f32", V::f32(0.1f)},
      {"k.bool", V::boolean(true)},
      {"k.string", V::str("hello, world")},
      {"k.string_empty", V::str("")},
      {"k.u64", V::u64(18000000000000000000ull)},
      {"k.i64", V::i64(-9000000000000000000ll)},
      {"k.f64", V::f64(-2.5e300)},
      {"k.seed", V::u32(seed)},
      {"a.u8", V::array(T::U8, {V::u8(0), V::u8(255)})},
      {"a.i8", V::array(T::I8, {V::i8(-128), V::i8(127)})},
      {"a.u16", V::array(T::U16, {V::u16(1), V::u16(65535)})},
      {"a.i16", V::array(T::I16, {V::i16(-1), V::i16(2)})},
      {"a.u32", V::array(T::U32, {V::u32(7), V::u32(8), V::u32(9)})},
      {"a.i32", V::array(T::I32, {V::i32(-7)})},
      {"a.f32", V::array(T::F32, {V::f32(1.5f), V::f32(-0.0f), V::f32(3.4e38f)})},
      {"a.bool", V::array(T::Bool, {V::boolean(false), V::boolean(true)})},
      {"a.string", V::array(T::String, {V::str("a"), V::str(""), V::str("\xc3\xa9t\xc3\xa9")})},
      {"a.u64", V::array(T::U64, {V::u64(~uint64_t{0})})},
      {"a.i64", V::array(T::I64, {V::i64(-1), V::i64(INT64_MAX)})},
      {"a.f64", V::array(T::F64, {V::f64(1e-300), V::f64(2.0)})},
      {"a.empty", V::array(T::U32, {})},
      {"a.nested_i32", V::array(T::Array, {V::array(T::I32, {V::i32(1), V::i32(2)}),
                                           V::array(T::I32, {V::i32(3)})})},
      {"a.nested_str", V::array(T::Array, {V::array(T::String, {V::str("x"), V::str("yz")}),
                                           V::array(T::String, {V::str("")})})},
  };
  return m;
}

struct InteropTensor {
  const char* name;
  DType dtype;
  Shape shape;
};

std::vector<InteropTensor> interop_tensors() {
  return {
      {"t.f32", DType::F32, Shape{3, 512}},     {"t.f16", DType::F16, Shape{3, 512}},
      {"t.bf16", DType::BF16, Shape{3, 512}},   {"t.q8_0", DType::Q8_0, Shape{3, 512}},
      {"t.q4_0", DType::Q4_0, Shape{3, 512}},   {"t.q4_K", DType::Q4_K, Shape{3, 512}},
      {"t.q6_K", DType::Q6_K, Shape{3, 512}},   {"t.f32_1d", DType::F32, Shape{7}},
      {"t.f16_4d", DType::F16, Shape{2, 3, 1, 5}}, {"t.f64", DType::F64, Shape{4, 8}},
      {"t.i8", DType::I8, Shape{2, 9}},         {"t.i16", DType::I16, Shape{9}},
      {"t.i32", DType::I32, Shape{3, 3}},       {"t.i64", DType::I64, Shape{5}},
  };
}

Status fill_tensor(const GgufTensorInfo& info, uint32_t seed, uint32_t t, std::span<uint8_t> dst) {
  const uint64_t n = static_cast<uint64_t>(info.shape.numel());
  const DTypeInfo& di = dtype_info(info.dtype);
  switch (info.dtype) {
    case DType::I8: case DType::I16: case DType::I32: case DType::I64:
      for (uint64_t i = 0; i < n; ++i) {
        const uint64_t g = uint64_t{h_of(i, seed, t)} * 0x9E3779B97F4A7C15ull;
        for (uint32_t b = 0; b < di.block_bytes; ++b) dst[i * di.block_bytes + b] = static_cast<uint8_t>(g >> (8 * b));
      }
      return Status::Ok();
    case DType::F64:
      for (uint64_t i = 0; i < n; ++i) {
        const double d = x_of(i, seed, t);
        std::memcpy(&dst[i * 8], &d, 8);
      }
      return Status::Ok();
    default: {
      std::vector<float> x(n);
      for (uint64_t i = 0; i < n; ++i) x[i] = x_of(i, seed, t);
      return quantize_row(info.dtype, x.data(), dst.data(), static_cast<int64_t>(n));
    }
  }
}

int cmd_write(const std::string& path, uint32_t seed) {
  GgufWriter w;
  ordered_json meta = ordered_json::array(), tensors = ordered_json::array();
  for (auto& [k, v] : interop_metadata(seed)) {
    meta.push_back(entry_json(k, v));
    w.set(k, v);
  }
  for (const InteropTensor& t : interop_tensors()) {
    Status st = w.add_tensor(t.name, t.dtype, t.shape);
    if (!st.ok()) {
      std::cerr << st.message() << "\n";
      return 1;
    }
    const GgufTensorInfo& info = w.tensor(w.num_tensors() - 1);
    tensors.push_back({{"name", t.name},
                       {"ggml_type", dtype_info(t.dtype).ggml_type},
                       {"ne", info.ne},
                       {"nbytes", info.nbytes}});
  }
  Status st = w.write(path, [&](size_t i, std::span<uint8_t> dst) {
    return fill_tensor(w.tensor(i), seed, static_cast<uint32_t>(i), dst);
  });
  if (!st.ok()) {
    std::cerr << st.message() << "\n";
    return 1;
  }
  std::cout << ordered_json{{"metadata", meta}, {"tensors", tensors}}.dump() << "\n";
  return 0;
}

// ------------------------------------------------------------------ dump

int cmd_dump(const std::string& path) {
  Result<GgufFile> f = GgufFile::open(path);
  if (!f.ok()) {
    std::cerr << f.error() << "\n";
    return 1;
  }
  ordered_json meta = ordered_json::array(), tensors = ordered_json::array();
  for (const auto& [k, v] : f->metadata()) meta.push_back(entry_json(k, v));
  for (const GgufTensorInfo& t : f->tensors()) {
    ordered_json j = {{"name", t.name},
                      {"ggml_type", dtype_info(t.dtype).ggml_type},
                      {"dtype", dtype_name(t.dtype)},
                      {"ne", t.ne},
                      {"shape", std::vector<int64_t>(t.shape.dims().begin(), t.shape.dims().end())},
                      {"offset", t.offset},
                      {"nbytes", t.nbytes},
                      {"data_hex", hex(f->bytes(t))}};
    std::vector<float> y(static_cast<size_t>(t.shape.numel()));
    if (dequantize_row(t.dtype, f->bytes(t).data(), y.data(), t.shape.numel()).ok())
      j["f32_hex"] = hex({reinterpret_cast<const uint8_t*>(y.data()), y.size() * 4});
    tensors.push_back(std::move(j));
  }
  ordered_json out = {{"version", f->version()},     {"alignment", f->alignment()},
                      {"data_offset", f->data_offset()}, {"metadata", meta},
                      {"tensors", tensors}};
  std::cout << out.dump() << "\n";
  return 0;
}

// ------------------------------------------------------------------ (de)quantize

Result<std::vector<uint8_t>> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return Error("cannot open '", path, "'");
  std::vector<uint8_t> b(static_cast<size_t>(in.tellg()));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(b.data()), static_cast<std::streamsize>(b.size()));
  return b;
}

Status write_file(const std::string& path, const void* p, size_t n) {
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char*>(p), static_cast<std::streamsize>(n));
  return out ? Status::Ok() : Error("cannot write '", path, "'");
}

Status convert(bool to_quant, const std::string& type, const std::string& in, const std::string& out) {
  Result<DType> t = dtype_from_name(type);
  if (!t.ok()) return t.status();
  Result<std::vector<uint8_t>> src = read_file(in);
  if (!src.ok()) return src.status();
  const DTypeInfo& info = dtype_info(*t);
  if (to_quant) {
    const int64_t n = static_cast<int64_t>(src->size() / 4);
    Result<uint64_t> bytes = dtype_row_bytes(*t, static_cast<uint64_t>(n));
    if (!bytes.ok()) return bytes.status();
    std::vector<float> x(static_cast<size_t>(n));
    std::memcpy(x.data(), src->data(), x.size() * 4);
    std::vector<uint8_t> q(*bytes);
    KEEL_RETURN_IF_ERROR(quantize_row(*t, x.data(), q.data(), n));
    return write_file(out, q.data(), q.size());
  }
  if (src->size() % info.block_bytes != 0) return Error(in, ": not whole ", info.name, " blocks");
  const int64_t n = static_cast<int64_t>(src->size() / info.block_bytes * info.block_elems);
  std::vector<float> y(static_cast<size_t>(n));
  KEEL_RETURN_IF_ERROR(dequantize_row(*t, src->data(), y.data(), n));
  return write_file(out, y.data(), y.size() * 4);
}

int usage() {
  std::cerr << "usage: gguf_tool write <out.gguf> <seed> | dump <file.gguf> |"
               " quantize <dtype> <in.f32> <out.bin> | dequantize <dtype> <in.bin> <out.f32>\n";
  return 2;
}

}  // namespace
}  // namespace keel

int main(int argc, char** argv) {
  using namespace keel;
  if (argc < 3) return usage();
  const std::string cmd = argv[1];
  if (cmd == "write" && argc == 4) return cmd_write(argv[2], static_cast<uint32_t>(std::stoul(argv[3])));
  if (cmd == "dump" && argc == 3) return cmd_dump(argv[2]);
  if ((cmd == "quantize" || cmd == "dequantize") && argc == 5) {
    Status st = convert(cmd == "quantize", argv[2], argv[3], argv[4]);
    if (!st.ok()) {
      std::cerr << st.message() << "\n";
      return 1;
    }
    return 0;
  }
  return usage();
}
