// Read-only memory map of a whole file. Opening costs one mmap call; pages are
// read from disk only when touched, so loading weights is zero-copy.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "core/status.h"

namespace keel {

class MappedFile {
 public:
  MappedFile() = default;
  // Errors name the path and the failing system call. An empty file maps to an
  // empty span.
  static Result<MappedFile> open(const std::string& path);

  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }
  std::span<const uint8_t> bytes() const { return {data_, static_cast<size_t>(size_)}; }
  const std::string& path() const { return path_; }

  // Hints to the kernel for [offset, offset + length); out-of-range is clipped.
  void advise_willneed(uint64_t offset, uint64_t length) const;
  void advise_sequential() const;
  // Drops this process's resident pages of the mapping (MADV_DONTNEED): RSS
  // stops counting what was read; the next touch reads the page cache again.
  // The mapping is read-only and private, so no data is lost.
  void drop_resident() const;

 private:
  void reset();
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  std::string path_;
};

// Whole-file read for small files (configs, JSON).
Result<std::string> read_text_file(const std::string& path);
// Writes atomically: to path + ".tmp", then rename.
Status write_text_file(const std::string& path, std::string_view contents);

}  // namespace keel
