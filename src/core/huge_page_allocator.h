// A std::allocator for large, short-lived-per-process buffers (activation
// scratch, KV caches): allocations of 2 MiB or more are 2 MiB-aligned and
// advised as transparent huge pages, so first touch costs one page fault per
// 2 MiB instead of one per 4 KiB (on a VM each fault is a hypervisor exit:
// 18 MB of prefill scratch took ~4,500 faults, ~10% of a 512-token prefill).
// Smaller ones are plain 64-byte-aligned allocations.
//
//   std::vector<float, HugePageAllocator<float>> scratch(n);
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

#include <sys/mman.h>

namespace keel {

inline constexpr size_t kHugePage = size_t{2} << 20;

template <typename T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}

  T* allocate(size_t n) {
    if (n > static_cast<size_t>(-1) / sizeof(T) - kHugePage) throw std::bad_array_new_length();
    const size_t bytes = n * sizeof(T);
    const bool huge = bytes >= kHugePage;
    const size_t align = huge ? kHugePage : 64;
    void* p = std::aligned_alloc(align, (bytes + align - 1) / align * align);
    if (!p) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    if (huge) (void)madvise(p, (bytes + align - 1) / align * align, MADV_HUGEPAGE);  // advice only
#endif
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t) noexcept { std::free(p); }

  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const noexcept { return true; }
};

}  // namespace keel
