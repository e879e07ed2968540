// qlinear: the scalar path, dequantizing one row of W at a time. The fast,
// per-ISA kernels plug in behind qlinear() without changing its contract.
#include "kernels/qlinear.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/quantize.h"

namespace keel::kernels {
namespace {

bool supported(DType t) {
  switch (t) {
    case DType::F32: case DType::F16: case DType::BF16: case DType::Q8_0:
    case DType::Q4_0: case DType::Q4_K: case DType::Q6_K:
      return true;
    default:
      return false;
  }
}

// y[i, r] for rows r in [r0, r1) of W and every row i of x.
void rows_scalar(const float* x, size_t m, size_t ldx, const QuantMatrix& w, float* y, size_t ldy,
                 size_t r0, size_t r1) {
  std::vector<float> row(w.k());
  for (size_t r = r0; r < r1; ++r) {
    // Cannot fail: view() checked the type and that k is whole blocks.
    (void)dequantize_row(w.type(), w.data() + r * w.row_bytes(), row.data(),
                         static_cast<int64_t>(w.k()));
    for (size_t i = 0; i < m; ++i) {
      const float* xi = x + i * ldx;
      float acc = 0.0f;
      for (size_t j = 0; j < w.k(); ++j) acc += xi[j] * row[j];
      y[i * ldy + r] = acc;
    }
  }
}

}  // namespace

Result<QuantMatrix> QuantMatrix::view(DType type, const void* data, size_t n, size_t k) {
  if (!supported(type)) return Error("qlinear: weights of type ", dtype_name(type), " are not supported");
  if (n == 0 || k == 0) return Error("qlinear: empty weight matrix [", n, ", ", k, "]");
  if (!data) return Error("qlinear: null weight data");
  if (k % dtype_info(type).block_elems != 0)
    return Error("qlinear: row length ", k, " is not a whole number of ", dtype_name(type), " blocks of ",
                 dtype_info(type).block_elems);
  auto rb = dtype_row_bytes(type, k);
  if (!rb.ok()) return rb.status();
  QuantMatrix q;
  q.type_ = type;
  q.n_ = n;
  q.k_ = k;
  q.row_bytes_ = static_cast<size_t>(*rb);
  q.data_ = static_cast<const uint8_t*>(data);
  return q;
}

Result<QuantMatrix> QuantMatrix::prepare(DType type, const void* data, size_t n, size_t k) {
  auto v = view(type, data, n, k);
  if (!v.ok()) return v.status();
  auto buf = AlignedBuffer::allocate(v->bytes());
  if (!buf.ok()) return buf.status();
  std::memcpy(buf->data(), data, v->bytes());
  v->owned_ = std::move(*buf);
  v->data_ = v->owned_.data();
  return v;
}

void qlinear_scalar(const float* x, size_t m, size_t ldx, const QuantMatrix& w, float* y,
                    size_t ldy) {
  rows_scalar(x, m, ldx, w, y, ldy, 0, w.n());
}

void qlinear(const float* x, size_t m, size_t ldx, const QuantMatrix& w, float* y, size_t ldy,
             ThreadPool* pool) {
  if (m == 0) return;
  if (!pool) return rows_scalar(x, m, ldx, w, y, ldy, 0, w.n());
  pool->parallel_for(static_cast<int64_t>(w.n()), [&](int64_t b, int64_t e) {
    rows_scalar(x, m, ldx, w, y, ldy, static_cast<size_t>(b), static_cast<size_t>(e));
  }, 16);
}

}  // namespace keel::kernels
