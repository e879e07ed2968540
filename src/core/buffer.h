// Owning, 64-byte-aligned, move-only byte buffer (one cache line / one AVX-512 vector).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "core/huge_page_allocator.h"
#include "core/status.h"

namespace keel {

inline constexpr size_t kBufferAlignment = 64;

class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  // Zero-filled. Fails (never aborts) if the allocation cannot be made.
  static Result<AlignedBuffer> allocate(size_t bytes) {
    AlignedBuffer b;
    if (bytes == 0) return b;
    size_t rounded = (bytes + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
    if (rounded < bytes) return Error("buffer of ", bytes, " bytes is too large");
    // 2 MiB and up: the whole 2 MiB pages on huge pages (core/huge_page_allocator.h),
    // so the zero fill below faults in 2 MiB pages, not 4 KiB ones.
    b.data_ = static_cast<uint8_t*>(std::aligned_alloc(bytes >= kHugePage ? kHugePage : kBufferAlignment, rounded));
    if (!b.data_) return Error("out of memory allocating ", bytes, " bytes");
    advise_huge_pages(b.data_, rounded);
    std::memset(b.data_, 0, rounded);
    b.size_ = bytes;
    return b;
  }
  AlignedBuffer(AlignedBuffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  AlignedBuffer& operator=(AlignedBuffer&& o) noexcept {
    if (this != &o) {
      std::free(data_);
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  ~AlignedBuffer() { std::free(data_); }

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  template <typename T> T* as() { return reinterpret_cast<T*>(data_); }
  template <typename T> const T* as() const { return reinterpret_cast<const T*>(data_); }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace keel
