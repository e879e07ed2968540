// safetensors_tool: lets tests/formats/test_safetensors_reference.py drive keel's
// safetensors reader and writer and check them against an independent numpy
// implementation (tests/reference/safetensors_ref.py).
//
//   safetensors_tool write-pattern OUT.safetensors
//   safetensors_tool write-pattern-sharded DIR STEM MAX_SHARD_BYTES
//   safetensors_tool copy IN.safetensors OUT.safetensors   (read, then write back)
//   safetensors_tool dump PATH      (a file, an index.json or a directory)
//
// The pattern, which the Python side recomputes on its own. Tensors, in this
// order: "pattern.<dtype>" of shape [3, 5] for every safetensors dtype in keel's
// DType order (<dtype> is the safetensors name in lower case), then "scalar" F32
// of shape [], "empty" F16 of shape [0, 4], "empty.bool" BOOL of shape [2, 0, 3].
// Element j (row-major) holds:
//   F64, F32, F16, BF16:  ((5 * j) % 64) * 0.25 - 8     (exact in every float type)
//   integers of w bytes:  the low 8w bits of (j * 0x9E3779B97F4A7C15 + 0x0123456789ABCDEF)
//                         mod 2^64, little-endian (two's complement for signed types)
//   BOOL:                 1 if j % 3 == 0, else 0
//   F8_E4M3, F8_E5M2:     the byte (37 * j + 5) mod 256
// Metadata: {"format": "pt", "keel.pattern": "v1", "unicode": "ünïcödé ✓"}.
//
// dump prints JSON: {"metadata": {...}, "files": [{"path", "header_size",
// "file_size", "metadata"}], "tensors": [{"name", "dtype", "shape", "begin",
// "end", "file", "fnv1a64"}]} with tensors sorted by name, "file" the shard's
// file name and "fnv1a64" the 64-bit FNV-1a hash of the tensor's bytes as 16
// hex digits. Errors go to stderr with exit status 1.
#include <bit>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/half.h"
#include "formats/safetensors.h"

namespace keel {
namespace {

static_assert(std::endian::native == std::endian::little, "the pattern is written in host byte order");

double float_pattern(uint64_t j) { return static_cast<double>((5 * j) % 64) * 0.25 - 8.0; }

uint64_t int_pattern(uint64_t j) { return j * 0x9E3779B97F4A7C15ull + 0x0123456789ABCDEFull; }

Status fill_pattern(DType dtype, std::span<uint8_t> dst) {
  const uint32_t w = dtype_info(dtype).block_bytes;
  const uint64_t n = dst.size() / w;
  for (uint64_t j = 0; j < n; ++j) {
    uint8_t* p = dst.data() + j * w;
    const double v = float_pattern(j);
    switch (dtype) {
      case DType::F64: std::memcpy(p, &v, 8); break;
      case DType::F32: {
        float f = static_cast<float>(v);
        std::memcpy(p, &f, 4);
        break;
      }
      case DType::F16: {
        uint16_t h = f32_to_f16(static_cast<float>(v));
        std::memcpy(p, &h, 2);
        break;
      }
      case DType::BF16: {
        uint16_t h = f32_to_bf16(static_cast<float>(v));
        std::memcpy(p, &h, 2);
        break;
      }
      case DType::Bool: *p = j % 3 == 0; break;
      case DType::F8_E4M3:
      case DType::F8_E5M2: *p = static_cast<uint8_t>(37 * j + 5); break;
      default: {  // integers: the low w bytes, little-endian
        const uint64_t u = int_pattern(j);
        std::memcpy(p, &u, w);
      }
    }
  }
  return Status::Ok();
}

Result<SafetensorsWriter> pattern_writer() {
  SafetensorsWriter w;
  for (int i = 0; i < kNumDTypes; ++i) {
    const DTypeInfo& info = dtype_info(static_cast<DType>(i));
    if (info.safetensors_name.empty()) continue;
    std::string name = "pattern.";
    for (char c : info.safetensors_name) name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    KEEL_RETURN_IF_ERROR(w.add(name, info.dtype, {3, 5}));
  }
  KEEL_RETURN_IF_ERROR(w.add("scalar", DType::F32, {}));
  KEEL_RETURN_IF_ERROR(w.add("empty", DType::F16, {0, 4}));
  KEEL_RETURN_IF_ERROR(w.add("empty.bool", DType::Bool, {2, 0, 3}));
  w.set_metadata("format", "pt");
  w.set_metadata("keel.pattern", "v1");
  w.set_metadata("unicode", "ünïcödé ✓");
  return w;
}

std::string fnv1a64(std::span<const uint8_t> bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint8_t b : bytes) h = (h ^ b) * 0x100000001b3ull;
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}

Status dump(const std::string& path) {
  auto ckpt = SafetensorsCheckpoint::open(path);
  if (!ckpt.ok()) return ckpt.status();
  nlohmann::ordered_json out;
  out["metadata"] = ckpt->metadata();
  out["files"] = nlohmann::ordered_json::array();
  for (const auto& f : ckpt->files())
    out["files"].push_back({{"path", f->source()},
                            {"header_size", f->header_size()},
                            {"file_size", f->file_size()},
                            {"metadata", f->metadata()}});
  out["tensors"] = nlohmann::ordered_json::array();
  for (const auto& e : ckpt->entries()) {
    const SafetensorsTensor& t = *e.tensor;
    std::vector<int64_t> shape(t.shape.dims().begin(), t.shape.dims().end());
    out["tensors"].push_back({{"name", t.name},
                              {"dtype", dtype_info(t.dtype).safetensors_name},
                              {"shape", shape},
                              {"begin", t.begin},
                              {"end", t.end},
                              {"file", std::filesystem::path(e.file->source()).filename().string()},
                              {"fnv1a64", fnv1a64(e.file->bytes(t))}});
  }
  std::cout << out.dump(1) << "\n";
  return Status::Ok();
}

Status copy(const std::string& in, const std::string& out) {
  auto f = SafetensorsFile::open(in);
  if (!f.ok()) return f.status();
  SafetensorsWriter w;
  for (const auto& t : f->tensors()) KEEL_RETURN_IF_ERROR(w.add(t.name, t.dtype, t.shape));
  for (const auto& [k, v] : f->metadata()) w.set_metadata(k, v);
  return w.write(out, [&](size_t i, std::span<uint8_t> dst) {
    auto src = f->bytes(f->tensors()[i]);
    std::memcpy(dst.data(), src.data(), src.size());
    return Status::Ok();
  });
}

Status run(int argc, char** argv) {
  const std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "dump" && argc == 3) return dump(argv[2]);
  if (cmd == "copy" && argc == 4) return copy(argv[2], argv[3]);
  if ((cmd == "write-pattern" && argc == 3) || (cmd == "write-pattern-sharded" && argc == 5)) {
    auto w = pattern_writer();
    if (!w.ok()) return w.status();
    auto fill = [&](size_t i, std::span<uint8_t> dst) { return fill_pattern(w->tensor(i).dtype, dst); };
    if (argc == 3) return w->write(argv[2], fill);
    return w->write_sharded(argv[2], argv[3], std::stoull(argv[4]), fill);
  }
  return Error("usage: safetensors_tool write-pattern OUT | write-pattern-sharded DIR STEM MAX_BYTES | "
               "copy IN OUT | dump PATH");
}

}  // namespace
}  // namespace keel

int main(int argc, char** argv) {
  keel::Status s = keel::run(argc, argv);
  if (s.ok()) return 0;
  std::cerr << s.message() << "\n";
  return 1;
}
