// A std::allocator for large buffers (activation scratch, KV caches, weight
// tables): allocations of 2 MiB or more are 2 MiB-aligned and their whole
// 2 MiB pages advised as transparent huge pages, so first touch costs one page
// fault per 2 MiB instead of one per 4 KiB (on a VM each fault is a hypervisor
// exit: 18 MB of prefill scratch took ~4,500 faults, ~10% of a 512-token
// prefill; loading MiniLM faulted in ~90 MB this way). Smaller ones are plain
// 64-byte-aligned allocations.
//
//   HugeVector<float> scratch(n);
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>
#include <vector>

#include <sys/mman.h>

namespace keel {

inline constexpr size_t kHugePage = size_t{2} << 20;

// Advises the whole 2 MiB pages of [p, p + bytes) (p 2 MiB-aligned) as huge
// pages; a partial last page stays on 4 KiB pages, so nothing is wasted.
inline void advise_huge_pages(void* p, size_t bytes) {
#ifdef MADV_HUGEPAGE
  if (bytes >= kHugePage) (void)madvise(p, bytes / kHugePage * kHugePage, MADV_HUGEPAGE);  // advice only
#else
  (void)p, (void)bytes;
#endif
}

template <typename T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}

  T* allocate(size_t n) {
    if (n > static_cast<size_t>(-1) / sizeof(T) - 64) throw std::bad_array_new_length();
    const size_t bytes = (n * sizeof(T) + 63) / 64 * 64;
    // posix_memalign: aligned_alloc wants the size a multiple of the alignment.
    void* p = nullptr;
    if (posix_memalign(&p, bytes >= kHugePage ? kHugePage : 64, bytes) != 0) throw std::bad_alloc();
    advise_huge_pages(p, bytes);
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t) noexcept { std::free(p); }

  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const noexcept { return true; }
};

template <typename T>
using HugeVector = std::vector<T, HugePageAllocator<T>>;

}  // namespace keel
