// qlinear: the front (checks, dispatch, threads) and the scalar twin. The
// kernels are in qlinear_avx512.cc / qlinear_avx2.cc (decode, see
// qlinear_internal.h for the scheme) and linear_*.cc (the f32 GEMM
// micro-kernel that prefill runs on dequantized panels of W).
#include "kernels/qlinear.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/internal.h"
#include "kernels/linear.h"
#include "kernels/qlinear_internal.h"
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

// Block-quantized weights take the int8 activation path in decode.
bool quantized_x(DType t) { return dtype_info(t).quantized; }

// Quantized activations of up to kQDotMaxRows rows, reused across calls.
struct XScratch {
  std::vector<int8_t> q;
  std::vector<float> d;
  std::vector<int32_t> s;
  detail::QBlocksX quantize(const float* x, size_t m, size_t ldx, size_t k, bool vector) {
    const size_t nb = k / detail::kQBlock;
    if (q.size() < m * k) q.resize(m * k);
    if (d.size() < m * nb) d.resize(m * nb), s.resize(m * nb);
    for (size_t i = 0; i < m; ++i) {
      auto f = vector ? detail::quantize_x_blocks_avx2 : detail::quantize_x_blocks_scalar;
      f(x + i * ldx, k, q.data() + i * k, d.data() + i * nb, s.data() + i * nb);
    }
    return {q.data(), d.data(), s.data()};
  }
};

// The scalar twin, rows [r0, r1) of W. Decode-shaped calls on block-quantized
// weights use x quantized exactly as the fast path does (the dot product is
// then the same sum, in another order); everything else is f32 x.
void rows_scalar(const float* x, size_t m, size_t ldx, const QuantMatrix& w, float* y, size_t ldy,
                 size_t r0, size_t r1) {
  const size_t k = w.k();
  std::vector<float> row(k);
  const bool xq = quantized_x(w.type()) && m <= detail::kQDotMaxRows;
  XScratch xs;
  std::vector<float> xdq;  // the quantized x as floats: d * q
  if (xq) {
    const size_t nb = k / detail::kQBlock;
    xs.quantize(x, m, ldx, k, false);
    xdq.resize(m * k);
    for (size_t i = 0; i < m; ++i)
      for (size_t j = 0; j < k; ++j) xdq[i * k + j] = xs.d[i * nb + j / detail::kQBlock] * xs.q[i * k + j];
  }
  for (size_t r = r0; r < r1; ++r) {
    // Cannot fail: view() checked the type and that k is whole blocks.
    (void)dequantize_row(w.type(), w.data() + r * w.row_bytes(), row.data(), static_cast<int64_t>(k));
    for (size_t i = 0; i < m; ++i) {
      const float* xi = xq ? xdq.data() + i * k : x + i * ldx;
      float acc = 0.0f;
      for (size_t j = 0; j < k; ++j) acc += xi[j] * row[j];
      y[i * ldy + r] = acc;
    }
  }
}

void qlinear_scalar_pool(const float* x, size_t m, size_t ldx, const QuantMatrix& w, float* y,
                         size_t ldy, ThreadPool* pool) {
  if (!pool) return rows_scalar(x, m, ldx, w, y, ldy, 0, w.n());
  pool->parallel_for(static_cast<int64_t>(w.n()), [&](int64_t b, int64_t e) {
    rows_scalar(x, m, ldx, w, y, ldy, static_cast<size_t>(b), static_cast<size_t>(e));
  }, 16);
}

// Decode: W rows in chunks, each chunk one task.
void qlinear_dot(const float* x, size_t m, size_t ldx, const QuantMatrix& w, float* y, size_t ldy,
                 ThreadPool* pool, bool vnni) {
  thread_local XScratch xs;
  detail::QDotArgs a{w.type(), w.data(), w.row_bytes(), w.k(), m, x, ldx, {}, y, ldy};
  if (quantized_x(w.type())) a.xq = xs.quantize(x, m, ldx, w.k(), true);
  struct Ctx {
    const detail::QDotArgs* a;
    size_t n, rows_per_task;
    bool vnni;
  };
  // About 8 tasks per thread (the machine is shared: a slow thread takes
  // fewer), at least 16 rows each.
  const size_t threads = pool ? static_cast<size_t>(pool->num_threads()) : 1;
  const size_t per = std::max<size_t>(16, (w.n() + 8 * threads - 1) / (8 * threads));
  Ctx ctx{&a, w.n(), per, vnni};
  auto run = [](void* p, size_t t) {
    const Ctx& c = *static_cast<const Ctx*>(p);
    const size_t r0 = t * c.rows_per_task, r1 = std::min(c.n, r0 + c.rows_per_task);
    if (c.vnni) detail::qdot_rows_avx512(*c.a, r0, r1);
    else detail::qdot_rows_avx2(*c.a, r0, r1);
  };
  // Waking the pool is not worth it for a matrix read in a few microseconds.
  const bool big = w.bytes() * m >= (size_t{128} << 10);
  detail::run_tasks(big ? pool : nullptr, (w.n() + per - 1) / per, run, &ctx);
}

// Prefill: each task dequantizes `panel` rows of W into the f32 panel layout
// of linear.cc ([k][panel], zero padded) and runs the GEMM micro-kernel over
// all rows of x in blocks of kMc.
void qlinear_gemm(const float* x, size_t m, size_t ldx, const QuantMatrix& w, float* y, size_t ldy,
                  ThreadPool* pool, size_t panel, detail::GemmTileFn tile) {
  struct Ctx {
    const float* x;
    size_t m, ldx;
    const QuantMatrix* w;
    float* y;
    size_t ldy, panel;
    detail::GemmTileFn tile;
  } ctx{x, m, ldx, &w, y, ldy, panel, tile};
  auto run = [](void* p, size_t t) {
    constexpr size_t kMc = 96;
    const Ctx& c = *static_cast<const Ctx*>(p);
    const size_t k = c.w->k(), n0 = t * c.panel, cols = std::min(c.panel, c.w->n() - n0);
    thread_local std::vector<float> buf;
    const size_t need = c.panel * k + k + 16;
    if (buf.size() < need) buf.resize(need);
    float* pw = reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(buf.data()) + 63) / 64 * 64);
    float* row = pw + c.panel * k;
    if (cols < c.panel) std::fill(pw, pw + c.panel * k, 0.0f);
    for (size_t j = 0; j < cols; ++j) {
      (void)dequantize_row(c.w->type(), c.w->data() + (n0 + j) * c.w->row_bytes(), row,
                           static_cast<int64_t>(k));
      for (size_t p = 0; p < k; ++p) pw[p * c.panel + j] = row[p];
    }
    const detail::GemmArgs g{c.x, c.m, c.ldx, pw, cols, k, nullptr, Epilogue::None, c.y + n0, c.ldy};
    for (size_t m0 = 0; m0 < c.m; m0 += kMc) c.tile(g, m0, std::min(c.m, m0 + kMc), 0, cols, nullptr);
  };
  detail::run_tasks(pool, (w.n() + panel - 1) / panel, run, &ctx);
}

}  // namespace

namespace detail {

void quantize_x_blocks_scalar(const float* x, size_t k, int8_t* q, float* d, int32_t* s) {
  for (size_t b = 0; b < k / kQBlock; ++b) {
    const float* xb = x + b * kQBlock;
    float amax = 0.0f;
    for (size_t j = 0; j < kQBlock; ++j) amax = std::max(amax, std::fabs(xb[j]));
    const float db = amax / 127.0f;
    const float id = db > 0.0f ? 1.0f / db : 0.0f;
    int32_t sum = 0;
    for (size_t j = 0; j < kQBlock; ++j) {
      const int v = static_cast<int>(std::nearbyint(xb[j] * id));
      q[b * kQBlock + j] = static_cast<int8_t>(std::clamp(v, -128, 127));
      sum += q[b * kQBlock + j];
    }
    d[b] = db;
    s[b] = sum;
  }
}

}  // namespace detail

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
  if (m == 0) return;
  rows_scalar(x, m, ldx, w, y, ldy, 0, w.n());
}

void qlinear(const float* x, size_t m, size_t ldx, const QuantMatrix& w, float* y, size_t ldy,
             ThreadPool* pool) {
  if (m == 0) return;
  const Isa isa = kernel_isa();
  if (isa == Isa::Scalar) return qlinear_scalar_pool(x, m, ldx, w, y, ldy, pool);
  if (m <= detail::kQDotMaxRows) return qlinear_dot(x, m, ldx, w, y, ldy, pool, kernel_has_avx512_vnni());
  if (isa == Isa::Avx512) {
    return qlinear_gemm(x, m, ldx, w, y, ldy, pool, detail::kPanelAvx512, detail::gemm_f32_avx512_tile);
  }
  qlinear_gemm(x, m, ldx, w, y, ldy, pool, detail::kPanelAvx2, detail::gemm_f32_avx2_tile);
}

}  // namespace keel::kernels
