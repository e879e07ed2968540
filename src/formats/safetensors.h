// safetensors: an 8-byte little-endian header length N, N bytes of JSON
//   {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"key": "value"}}
// then the data section; offsets are relative to its start. Reading is zero-copy
// (views point into the mmap). Validation is strict and reports every problem
// found, one per line, naming the tensor and its byte range:
//   header length over kMaxSafetensorsHeader or past the end of the file, JSON that
//   is malformed or of the wrong shape, unknown dtypes, negative/overflowing
//   shapes, a byte range that does not match dtype x shape, ranges outside the
//   data section, overlapping ranges, and gaps (the tensors must tile the data
//   section exactly, as HF safetensors requires).
// Sharded checkpoints (model.safetensors.index.json + shards) open as one
// SafetensorsCheckpoint.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/mmap_file.h"
#include "core/status.h"
#include "core/tensor.h"

namespace keel {

inline constexpr uint64_t kMaxSafetensorsHeader = 100'000'000;  // as HF safetensors

struct SafetensorsTensor {
  std::string name;
  DType dtype = DType::F32;
  Shape shape;
  uint64_t begin = 0;  // relative to the data section
  uint64_t end = 0;
  uint64_t nbytes() const { return end - begin; }
};

class SafetensorsFile {
 public:
  // mmaps `path` and validates it. Errors start with the path.
  static Result<SafetensorsFile> open(const std::string& path);
  // Validates a complete file image that the caller keeps alive for the life of
  // the returned object (fuzzers, tests). `source` names it in errors.
  static Result<SafetensorsFile> parse(std::span<const uint8_t> bytes, std::string source);

  const std::string& source() const { return source_; }
  // Tensors sorted by data offset.
  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }
  const SafetensorsTensor* find(std::string_view name) const;
  // "__metadata__" as written, in key order.
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  uint64_t header_size() const { return header_size_; }  // N, the JSON length
  uint64_t data_offset() const { return 8 + header_size_; }
  uint64_t file_size() const { return bytes_.size(); }

  ConstTensorView view(const SafetensorsTensor& t) const;
  std::span<const uint8_t> bytes(const SafetensorsTensor& t) const;

 private:
  std::unique_ptr<MappedFile> file_;  // null when parse() borrowed the bytes
  std::span<const uint8_t> bytes_;
  std::string source_;
  uint64_t header_size_ = 0;
  std::vector<SafetensorsTensor> tensors_;
  std::map<std::string, std::string> metadata_;
  std::map<std::string, size_t, std::less<>> index_;  // name -> position in tensors_
};

// One or several safetensors files seen as one set of named tensors.
class SafetensorsCheckpoint {
 public:
  // `path` is a .safetensors file, a model.safetensors.index.json, or a directory
  // holding model.safetensors or model.safetensors.index.json. For an index, every
  // shard is opened and checked against the weight_map both ways (a tensor listed
  // but missing from its shard, present in a shard but not listed, listed twice).
  static Result<SafetensorsCheckpoint> open(const std::string& path);

  struct Entry {
    const SafetensorsFile* file;
    const SafetensorsTensor* tensor;
  };
  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const { return files_; }
  // All tensors, sorted by name.
  const std::vector<Entry>& entries() const { return entries_; }
  const Entry* find(std::string_view name) const;
  ConstTensorView view(const Entry& e) const { return e.file->view(*e.tensor); }
  // The index's "metadata" object (sharded) or the file's __metadata__ (single).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  uint64_t total_tensor_bytes() const;

 private:
  static Result<SafetensorsCheckpoint> open_index(const std::string& path);
  void sort_entries();

  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::vector<Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

// Writes safetensors files. Declare the tensors in the order their data should
// appear, then write(): the header is emitted (padded with spaces to a multiple
// of 8 bytes, as HF does), then fill(i, dst) is called for each tensor i with a
// buffer of exactly its byte size, so a multi-GB checkpoint never needs to be in
// memory at once. The file appears atomically (written to path + ".tmp", renamed).
class SafetensorsWriter {
 public:
  using Fill = std::function<Status(size_t index, std::span<uint8_t> dst)>;

  // Fails on a duplicate name, a dtype safetensors cannot store, or a bad size.
  Status add(std::string name, DType dtype, Shape shape);
  void set_metadata(std::string key, std::string value) { metadata_[std::move(key)] = std::move(value); }
  size_t size() const { return tensors_.size(); }
  const SafetensorsTensor& tensor(size_t i) const { return tensors_[i]; }

  Status write(const std::string& path, const Fill& fill) const;
  // Splits into <dir>/<stem>-0000K-of-0000N.safetensors of at most max_shard_bytes
  // of tensor data each (a larger tensor gets a shard of its own) plus
  // <dir>/<stem>.safetensors.index.json. fill() gets the global tensor index.
  Status write_sharded(const std::string& dir, const std::string& stem, uint64_t max_shard_bytes,
                       const Fill& fill) const;

 private:
  std::vector<SafetensorsTensor> tensors_;  // begin/end laid out back to back
  std::set<std::string, std::less<>> names_;  // for the duplicate check in add()
  std::map<std::string, std::string> metadata_;
};

}  // namespace keel
