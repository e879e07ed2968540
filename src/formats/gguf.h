// GGUF v3 (v2 is read too), the llama.cpp file format. Layout, all little-endian:
//   u32 magic "GGUF" | u32 version | u64 n_tensors | u64 n_kv
//   n_kv x { string key | u32 value_type | value }
//   n_tensors x { string name | u32 n_dims | u64 ne[n_dims] | u32 ggml_type | u64 offset }
//   padding to `general.alignment` (default 32) | data section
// where string = u64 length + UTF-8 bytes (no terminator) and an array value is
// { u32 elem_type | u64 count | count x value } (arrays may nest).
// ne[] is innermost-first (ne[0] is the row length); keel's Shape is outermost
// first, so shape = reversed(ne). Tensor offsets are relative to the data section
// and multiples of the alignment.
//
// Validation reports every problem it can, one per line, each as
//   "<source>: byte <offset>: <key 'k' | tensor 't'>: <what>"
// (at most 100 lines, then a count): bad magic or version (v1, big-endian),
// counts that cannot fit in the bytes left, strings that run past the end,
// keys and tensor names that are empty or not UTF-8, names over 63 bytes,
// unknown value or tensor types (named via ggml_type_name), bools other than
// 0/1, general.alignment not a u32 power of two, n_dims outside 1..4, zero or
// overflowing dims, a row length that is not whole blocks, misaligned or
// out-of-range or overlapping tensor data, duplicate keys or tensor names.
// A problem that loses the parse position (a string past the end, an unknown
// value type) ends the parse. Nothing is reserved before its count is bounded
// by the bytes remaining; parsed metadata takes ~50 bytes per array item.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/mmap_file.h"
#include "core/status.h"
#include "core/tensor.h"

namespace keel {

enum class GgufValueType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, Bool = 7,
  String = 8, Array = 9, U64 = 10, I64 = 11, F64 = 12,
};
std::string_view gguf_value_type_name(GgufValueType t);

inline constexpr uint32_t kGgufDefaultAlignment = 32;
inline constexpr uint32_t kGgufMaxDims = 4;
inline constexpr size_t kGgufMaxNameBytes = 63;  // GGML_MAX_NAME (64) less the terminator

struct GgufValue;
struct GgufArray {
  GgufValueType elem_type = GgufValueType::U8;
  std::vector<GgufValue> items;
};

struct GgufValue {
  GgufValueType type = GgufValueType::U8;
  std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool, std::string,
               GgufArray, uint64_t, int64_t, double>
      value;

  // Typed constructors, e.g. GgufValue::u32(7), GgufValue::str("llama").
  static GgufValue u8(uint8_t v) { return {GgufValueType::U8, v}; }
  static GgufValue i8(int8_t v) { return {GgufValueType::I8, v}; }
  static GgufValue u16(uint16_t v) { return {GgufValueType::U16, v}; }
  static GgufValue i16(int16_t v) { return {GgufValueType::I16, v}; }
  static GgufValue u32(uint32_t v) { return {GgufValueType::U32, v}; }
  static GgufValue i32(int32_t v) { return {GgufValueType::I32, v}; }
  static GgufValue f32(float v) { return {GgufValueType::F32, v}; }
  static GgufValue boolean(bool v) { return {GgufValueType::Bool, v}; }
  static GgufValue str(std::string v) { return {GgufValueType::String, std::move(v)}; }
  static GgufValue u64(uint64_t v) { return {GgufValueType::U64, v}; }
  static GgufValue i64(int64_t v) { return {GgufValueType::I64, v}; }
  static GgufValue f64(double v) { return {GgufValueType::F64, v}; }
  static GgufValue array(GgufValueType elem_type, std::vector<GgufValue> items) {
    return {GgufValueType::Array, GgufArray{elem_type, std::move(items)}};
  }

  // Any integer type (and bool) as int64 / uint64; nullopt for other types or if
  // the value does not fit.
  std::optional<int64_t> as_int() const;
  std::optional<uint64_t> as_uint() const;
  // f32 / f64 (and integers) as double.
  std::optional<double> as_double() const;
  const std::string* as_string() const { return std::get_if<std::string>(&value); }
  const GgufArray* as_array() const { return std::get_if<GgufArray>(&value); }
  // Short human form for `keel inspect`: arrays show their type, length and first items.
  std::string to_display_string(size_t max_items = 8) const;
};

struct GgufTensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<uint64_t> ne;  // innermost first, as stored
  Shape shape;               // outermost first (reversed ne)
  uint64_t offset = 0;       // relative to the data section
  uint64_t nbytes = 0;
};

class GgufFile {
 public:
  static Result<GgufFile> open(const std::string& path);
  // Validates a complete file image the caller keeps alive (fuzzers, tests).
  static Result<GgufFile> parse(std::span<const uint8_t> bytes, std::string source);

  const std::string& source() const { return source_; }
  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  // Start of the data section: the end of the tensor infos rounded up to the
  // alignment. In a file without tensors this may lie past the end of the
  // file (writers need not pad it), as ggml and gguf-py also report it.
  uint64_t data_offset() const { return data_offset_; }
  uint64_t file_size() const { return bytes_.size(); }

  // Metadata in file order.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }
  const GgufValue* find(std::string_view key) const;
  // Tensors in file (info) order.
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(std::string_view name) const;

  ConstTensorView view(const GgufTensorInfo& t) const;
  std::span<const uint8_t> bytes(const GgufTensorInfo& t) const;

  // Drops the mapping's resident pages (MappedFile::drop_resident; no-op for
  // parse()): after a loader has copied what it keeps, so that the pages it
  // read stop counting in the process's RSS. Views stay valid (pages fault
  // back in from the file).
  void drop_resident() const;

 private:
  std::unique_ptr<MappedFile> file_;
  std::span<const uint8_t> bytes_;
  std::string source_;
  uint32_t version_ = 0;
  uint32_t alignment_ = kGgufDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> kv_index_, tensor_index_;
};

// Writes GGUF v3. Metadata keeps insertion order (set() on an existing key
// replaces the value in place). Tensors are declared, then write() lays them out
// aligned and calls fill(i, dst) for each with a buffer of its exact byte size.
// If "general.alignment" is set (as U32) it is used; otherwise 32. tensor(i)
// reports the offset write() will use for the alignment set so far. Metadata
// (types, array item types, UTF-8 keys) is checked by write(). The file is
// written to path + ".tmp" and renamed; on any error the .tmp is removed.
class GgufWriter {
 public:
  using Fill = std::function<Status(size_t index, std::span<uint8_t> dst)>;

  void set(std::string key, GgufValue value);
  // `shape` is outermost first. Fails on a duplicate or over-long name (> 63
  // bytes), rank > 4, a dtype GGUF cannot store, or a row that is not whole blocks.
  Status add_tensor(std::string name, DType dtype, Shape shape);
  size_t num_tensors() const { return tensors_.size(); }
  const GgufTensorInfo& tensor(size_t i) const { return tensors_[i]; }

  Status write(const std::string& path, const Fill& fill) const;
  // The whole file in memory (small files, tests, fuzz seeds).
  Result<std::vector<uint8_t>> write_to_memory(const Fill& fill) const;

 private:
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<GgufTensorInfo> tensors_;
};

}  // namespace keel
