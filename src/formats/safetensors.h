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
// Also refused: invalid UTF-8 in any JSON string, duplicate tensor names or keys,
// unknown keys in a tensor entry, missing dtype/shape/data_offsets, rank over
// kMaxDims, and __metadata__ that is not an object of strings. Trailing spaces
// after the JSON (HF's padding) are fine.
// Error format: one problem per line, each "<source>: <problem>"; a problem
// about one tensor reads "tensor 'name' bytes [begin, end): ..." with the range
// as its data_offsets (relative to the data section), e.g.
//   model.safetensors: tensor 'a.weight' bytes [0, 24): dtype F32 x shape [2, 2] needs 16 bytes, ...
// At most 1000 problems are listed; a last line counts the rest.
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
  // Drops the mapping's resident pages (MappedFile::drop_resident); no-op for
  // borrowed bytes.
  void drop_resident() const {
    if (file_) file_->drop_resident();
  }
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
  // `path` is a .safetensors file, an index (any path ending in ".json"), or a
  // directory holding model.safetensors.index.json (preferred when both exist) or
  // model.safetensors; a directory is not searched for other names. For an
  // index, every shard is opened and checked against the weight_map both ways (a
  // tensor listed but missing from its shard, in another shard, in a shard but
  // not listed, listed twice, in two shards), every mismatch reported. Shard names
  // must be plain file names in the index's directory (no '/', '\\', "..").
  // Unknown top-level keys of the index are ignored.
  static Result<SafetensorsCheckpoint> open(const std::string& path);

  struct Entry {
    const SafetensorsFile* file;
    const SafetensorsTensor* tensor;
  };
  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const { return files_; }
  // Every shard's MappedFile::drop_resident: after a loader has copied what it
  // needs, the pages it read stop counting in RSS.
  void drop_resident() const {
    for (const auto& f : files_) f->drop_resident();
  }
  // All tensors, sorted by name.
  const std::vector<Entry>& entries() const { return entries_; }
  const Entry* find(std::string_view name) const;
  ConstTensorView view(const Entry& e) const { return e.file->view(*e.tensor); }
  // The index's "metadata" object (sharded; non-string values as their JSON text,
  // so total_size reads "123") or the file's __metadata__ (single).
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
// memory at once (one buffer of max(largest tensor, up to 64 MiB) is reused and
// small tensors are batched into large writes; fill() must write every byte of
// dst). The header is compact JSON like HF's: "__metadata__" first (keys sorted)
// if any, then the tensors in declaration order. The file appears atomically
// (written to path + ".tmp", renamed; not fsynced); on any error the .tmp file is
// removed and the message starts with `path`.
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
  // of tensor data each (greedy in declaration order; a larger tensor gets a shard
  // of its own) plus <dir>/<stem>.safetensors.index.json, written last and laid
  // out as transformers writes it: {"metadata": {"total_size": N}, "weight_map":
  // {...}}, sorted keys, indent 2. Every shard carries the metadata. `dir` must
  // exist. fill() gets the global tensor index.
  Status write_sharded(const std::string& dir, const std::string& stem, uint64_t max_shard_bytes,
                       const Fill& fill) const;

 private:
  std::vector<SafetensorsTensor> tensors_;  // begin/end laid out back to back
  std::set<std::string, std::less<>> names_;  // for the duplicate check in add()
  std::map<std::string, std::string> metadata_;
};

}  // namespace keel
