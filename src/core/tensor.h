// Non-owning tensor views. Shapes are row-major, outermost dimension first
// (numpy / PyTorch order). GGUF stores dims innermost first; formats/gguf.h
// converts at the boundary so the rest of keel sees one convention.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace keel {

inline constexpr int kMaxDims = 8;

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) {
    assert(dims.size() <= kMaxDims);
    for (int64_t d : dims) dims_[rank_++] = d;
  }
  static Result<Shape> from(std::span<const int64_t> dims) {
    if (dims.size() > kMaxDims) return Error("rank ", dims.size(), " exceeds ", kMaxDims);
    Shape s;
    for (int64_t d : dims) {
      if (d < 0) return Error("negative dimension ", d);
      s.dims_[s.rank_++] = d;
    }
    return s;
  }

  int rank() const { return rank_; }
  int64_t operator[](int i) const { return dims_[i]; }
  int64_t& operator[](int i) { return dims_[i]; }
  std::span<const int64_t> dims() const { return {dims_.data(), static_cast<size_t>(rank_)}; }
  // Product of dims; 1 for rank 0. Callers that take shapes from files check overflow
  // with checked_numel() first.
  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < rank_; ++i) n *= dims_[i];
    return n;
  }
  Result<uint64_t> checked_numel() const {
    uint64_t n = 1;
    for (int i = 0; i < rank_; ++i)
      if (dims_[i] < 0 || __builtin_mul_overflow(n, static_cast<uint64_t>(dims_[i]), &n))
        return Error("shape ", to_string(), " element count overflows 64 bits");
    return n;
  }
  std::string to_string() const {
    std::string s = "[";
    for (int i = 0; i < rank_; ++i) s += (i ? ", " : "") + std::to_string(dims_[i]);
    return s + "]";
  }
  bool operator==(const Shape& o) const {
    if (rank_ != o.rank_) return false;
    for (int i = 0; i < rank_; ++i)
      if (dims_[i] != o.dims_[i]) return false;
    return true;
  }

 private:
  std::array<int64_t, kMaxDims> dims_{};
  int rank_ = 0;
};

// A contiguous row-major tensor in memory someone else owns (an mmap, a buffer).
struct TensorView {
  DType dtype = DType::F32;
  Shape shape;
  void* data = nullptr;

  int64_t numel() const { return shape.numel(); }
  // Valid for shapes that passed validation (whole blocks, no overflow).
  uint64_t nbytes() const {
    const auto& info = dtype_info(dtype);
    return static_cast<uint64_t>(numel()) / info.block_elems * info.block_bytes;
  }
  template <typename T> T* as() const { return static_cast<T*>(data); }
};

// Read-only view, as handed out by mapped files.
struct ConstTensorView {
  DType dtype = DType::F32;
  Shape shape;
  const void* data = nullptr;

  int64_t numel() const { return shape.numel(); }
  uint64_t nbytes() const {
    const auto& info = dtype_info(dtype);
    return static_cast<uint64_t>(numel()) / info.block_elems * info.block_bytes;
  }
  template <typename T> const T* as() const { return static_cast<const T*>(data); }
};

}  // namespace keel
