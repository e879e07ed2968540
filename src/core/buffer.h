// Owning, 64-byte-aligned, move-only byte buffer (one cache line / one AVX-512 vector).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>

#include <sys/mman.h>

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
    if (bytes >= kHugePage) {
      // 2 MiB and up: fresh anonymous memory, already zero (no fill pass: first
      // touch is the caller's write), 2 MiB-aligned with its whole 2 MiB pages
      // on huge pages (core/huge_page_allocator.h).
      const size_t len = (rounded + 4095) / 4096 * 4096;
      if (len < rounded || len + kHugePage < len) return Error("buffer of ", bytes, " bytes is too large");
      void* p = mmap(nullptr, len + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) return Error("out of memory allocating ", bytes, " bytes");
      const uintptr_t start = reinterpret_cast<uintptr_t>(p);
      const uintptr_t aligned = (start + kHugePage - 1) / kHugePage * kHugePage;
      if (aligned > start) munmap(p, aligned - start);
      const uintptr_t end = start + len + kHugePage;
      if (end > aligned + len) munmap(reinterpret_cast<void*>(aligned + len), end - (aligned + len));
      b.data_ = reinterpret_cast<uint8_t*>(aligned);
      b.mapped_ = len;
      advise_huge_pages(b.data_, len);
    } else {
      b.data_ = static_cast<uint8_t*>(std::aligned_alloc(kBufferAlignment, rounded));
      if (!b.data_) return Error("out of memory allocating ", bytes, " bytes");
      std::memset(b.data_, 0, rounded);
    }
    b.size_ = bytes;
    return b;
  }
  AlignedBuffer(AlignedBuffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)),
        mapped_(std::exchange(o.mapped_, 0)) {}
  AlignedBuffer& operator=(AlignedBuffer&& o) noexcept {
    if (this != &o) {
      release();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
      mapped_ = std::exchange(o.mapped_, 0);
    }
    return *this;
  }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  ~AlignedBuffer() { release(); }

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  template <typename T> T* as() { return reinterpret_cast<T*>(data_); }
  template <typename T> const T* as() const { return reinterpret_cast<const T*>(data_); }

 private:
  void release() {
    if (mapped_) munmap(data_, mapped_);
    else std::free(data_);
  }
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t mapped_ = 0;  // bytes mmap'd (large buffers), 0 for aligned_alloc
};

}  // namespace keel
