// qlinear: the front (checks, dispatch, threads) and the scalar twin. The
// kernels are in qlinear_avx512.cc / qlinear_avx2.cc (decode, see
// qlinear_internal.h for the scheme) and linear_*.cc (the f32 GEMM
// micro-kernel that prefill runs on dequantized panels of W).
#include "kernels/qlinear.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/half.h"
#include "kernels/internal.h"
#include "kernels/linear.h"
#include "kernels/qlinear_internal.h"
#include "kernels/quantize.h"

namespace keel::kernels {
namespace {

bool supported(DType t) {
  switch (t) {
    case DType::F32: case DType::F16: case DType::BF16: case DType::Q8_0:
    case DType::Q4_0: case DType::Q5_0: case DType::Q5_1: case DType::Q4_K: case DType::Q5_K:
    case DType::Q6_K:
      return true;
    default:
      return false;
  }
}

// Block-quantized weights take the int8 activation path in decode.
bool quantized_x(DType t) { return dtype_info(t).quantized; }

// Prefill on block-quantized or bf16 weights runs the bf16 GEMM (vdpbf16ps,
// twice the f32 FMA rate) where the CPU has AVX512_BF16: x and the dequantized
// W are rounded to bf16 (relative error <= 2^-8 each; the weights' own
// quantization error is far larger, and llama.cpp quantizes x to 8 bits
// there). f32 / f16 weights keep the f32 GEMM: bf16 would lose their precision.
bool prefill_bf16(DType t, size_t m) {
  return m > detail::kQDotMaxRows && (quantized_x(t) || t == DType::BF16) && kernel_has_avx512_bf16();
}

}  // namespace

bool detail::decode_x_superblocks(DType t, QLayout layout) {
  if (kernel_isa() == Isa::Scalar) return false;
  return layout == QLayout::Q4_K_X8 ||
         ((t == DType::Q4_K || t == DType::Q5_K || t == DType::Q6_K) && !kernel_has_avx512_vnni());
}

bool detail::prefill_int8(DType t, size_t m) {
  const bool int8_panels = t == DType::Q4_K || t == DType::Q6_K || t == DType::Q4_0 || t == DType::Q8_0;
  return m > detail::kQDotMaxRows && int8_panels && kernel_isa() != Isa::Scalar && !kernel_has_avx512_bf16();
}

namespace {

float round_bf16(float v) { return bf16_to_f32(f32_to_bf16(v)); }

// Quantized activations of up to kQDotMaxRows rows, reused across calls.
struct XScratch {
  std::vector<int8_t> q;
  std::vector<float> d;
  std::vector<int32_t> s;
  detail::QBlocksX quantize(const float* x, size_t m, size_t ldx, size_t k, bool vector, size_t block) {
    const size_t nb = k / detail::kQBlock, nd = k / block;
    if (q.size() < m * k) q.resize(m * k);
    if (d.size() < m * nd) d.resize(m * nd);
    if (s.size() < m * nb) s.resize(m * nb);
    for (size_t i = 0; i < m; ++i) {
      auto f = vector ? detail::quantize_x_blocks_avx2 : detail::quantize_x_blocks_scalar;
      f(x + i * ldx, k, q.data() + i * k, d.data() + i * nd, s.data() + i * nb, block);
    }
    return {q.data(), d.data(), s.data(), block};
  }
};

// Activation block of the decode path for these weights.
size_t decode_x_block(const QuantMatrix& w) {
  return detail::decode_x_superblocks(w.type(), w.layout()) ? detail::kQSuperBlock : detail::kQBlock;
}

// The scalar twin, rows [r0, r1) of W. It rounds as the path qlinear takes
// under the current kernel_isa() does: decode-shaped calls on block-quantized
// weights quantize x exactly as the fast path does (the dot product is then
// the same sum, in another order); bf16 prefill rounds x and W to bf16;
// everything else is f32.
void rows_scalar(const float* x, size_t m, size_t ldx, const QuantMatrix& w, float* y, size_t ldy,
                 size_t r0, size_t r1) {
  const size_t k = w.k();
  std::vector<float> row(k);
  const bool xq = quantized_x(w.type()) && (m <= detail::kQDotMaxRows || detail::prefill_int8(w.type(), m));
  const bool bf16 = prefill_bf16(w.type(), m);
  XScratch xs;
  std::vector<float> xdq;  // the quantized (or bf16-rounded) x as floats
  if (bf16) {
    xdq.resize(m * k);
    for (size_t i = 0; i < m; ++i)
      for (size_t j = 0; j < k; ++j) xdq[i * k + j] = round_bf16(x[i * ldx + j]);
  }
  if (xq) {
    const size_t block = m <= detail::kQDotMaxRows ? decode_x_block(w) : detail::kQBlock;
    xs.quantize(x, m, ldx, k, false, block);
    xdq.resize(m * k);
    for (size_t i = 0; i < m; ++i)
      for (size_t j = 0; j < k; ++j) xdq[i * k + j] = xs.d[i * (k / block) + j / block] * xs.q[i * k + j];
  }
  std::vector<uint8_t> scratch;
  for (size_t r = r0; r < r1; ++r) {
    // Cannot fail: view() checked the type and that k is whole blocks.
    (void)dequantize_row(w.type(), w.rows(r, 1, scratch), row.data(), static_cast<int64_t>(k));
    if (bf16)
      for (float& v : row) v = round_bf16(v);
    for (size_t i = 0; i < m; ++i) {
      const float* xi = xq || bf16 ? xdq.data() + i * k : x + i * ldx;
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
  detail::QDotArgs a{w.type(), w.layout(), w.data(), w.row_bytes(), w.k(), m, x, ldx, {}, y, ldy};
  if (quantized_x(w.type())) a.xq = xs.quantize(x, m, ldx, w.k(), true, decode_x_block(w));
  // The interleaved q4_K has only the AVX2 kernel (any AVX-512 CPU runs it),
  // on whole groups of 8 rows.
  const bool x8 = w.layout() == QLayout::Q4_K_X8;
  if (x8) vnni = false;
  struct Ctx {
    const detail::QDotArgs* a;
    size_t n, rows_per_task;
    bool vnni;
  };
  // About 8 tasks per thread (the machine is shared: a slow thread takes
  // fewer), at least 16 rows each.
  const size_t threads = pool ? static_cast<size_t>(pool->num_threads()) : 1;
  size_t per = std::max<size_t>(16, (w.n() + 8 * threads - 1) / (8 * threads));
  if (x8) per = (per + 7) / 8 * 8;
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

// W rows [n0, n0 + cols) dequantized into bf16 panels of `panel` columns
// (zeros up to `padded` columns), 16 columns x one chunk of k at a time so
// that the f32 rows stay in L1. k is whole 32-element blocks.
void pack_bf16_panels(const QuantMatrix& w, size_t n0, size_t cols, size_t padded, size_t panel, uint16_t* pw) {
  const size_t k = w.k(), block = dtype_info(w.type()).block_elems;
  const size_t kc = k % 256 == 0 && 256 % block == 0 ? 256 : detail::kQBlock;
  const size_t chunk_bytes = static_cast<size_t>(*dtype_row_bytes(w.type(), static_cast<int64_t>(kc)));
  thread_local std::vector<uint8_t> scratch;
  alignas(64) float buf[16][256];
  const float* rows[16];
  for (size_t c = 0; c < 16; ++c) rows[c] = buf[c];
  for (size_t j0 = 0; j0 < padded; j0 += 16) {
    const size_t live = j0 < cols ? std::min<size_t>(16, cols - j0) : 0;
    for (size_t c = live; c < 16; ++c) std::memset(buf[c], 0, sizeof(buf[c]));
    // Column j0 + c of panel q sits at word 2 (j0 % panel + c) of each pair row.
    uint16_t* dst = pw + (j0 / panel) * k * panel + (j0 % panel) * 2;
    const uint8_t* wr = live ? w.rows(n0 + j0, live, scratch) : nullptr;
    for (size_t k0 = 0; k0 < k; k0 += kc) {
      for (size_t c = 0; c < live; ++c) {
        const uint8_t* src = wr + c * w.row_bytes() + (k0 / kc) * chunk_bytes;
        if (!detail::dequantize_row_avx512(w.type(), src, buf[c], kc))
          (void)dequantize_row(w.type(), src, buf[c], static_cast<int64_t>(kc));
      }
      detail::pack_bf16_pairs_avx512(rows, kc, dst + (k0 / 2) * 2 * panel, 2 * panel);
    }
  }
}

// Prefill: each task dequantizes kPanels panels of W (`panel` rows each) into
// the panel layout of linear.cc -- f32 [k][panel], or bf16 [k/2][panel][2]
// -- and runs the GEMM micro-kernel over all rows of x in blocks of kMc.
void qlinear_gemm(const float* x, size_t m, size_t ldx, const QuantMatrix& w, float* y, size_t ldy,
                  ThreadPool* pool, size_t panel, detail::GemmTileFn tile, bool bf16) {
  const size_t panels_per_task = bf16 ? 4 : 2;
  struct Ctx {
    const float* x;
    size_t m, ldx;
    const QuantMatrix* w;
    float* y;
    size_t ldy, panel, cols_per_task;
    detail::GemmTileFn tile;
    bool bf16;
  } ctx{x, m, ldx, &w, y, ldy, panel, panel * panels_per_task, tile, bf16};
  auto run = [](void* p, size_t t) {
    constexpr size_t kMc = 96;
    const Ctx& c = *static_cast<const Ctx*>(p);
    const size_t k = c.w->k(), kp = (k + 1) / 2 * 2, n0 = t * c.cols_per_task;
    const size_t cols = std::min(c.cols_per_task, c.w->n() - n0);
    const size_t padded = (cols + c.panel - 1) / c.panel * c.panel;
    thread_local std::vector<uint8_t> buf;
    const size_t w_bytes = padded * kp * (c.bf16 ? 2 : 4);
    const size_t scratch_bytes = detail::tile_scratch_bytes(std::min(kMc, c.m), k);
    const size_t need = w_bytes + k * sizeof(float) + scratch_bytes + 192;
    if (buf.size() < need) buf.resize(need);
    auto align = [](uint8_t* q) { return reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(q) + 63) / 64 * 64); };
    uint8_t* pw = align(buf.data());
    float* row = reinterpret_cast<float*>(align(pw + w_bytes));
    void* scratch = align(reinterpret_cast<uint8_t*>(row + k));
    if (c.bf16 && k % detail::kQBlock == 0) {
      pack_bf16_panels(*c.w, n0, cols, padded, c.panel, reinterpret_cast<uint16_t*>(pw));
    } else {
      std::memset(pw, 0, w_bytes);
      thread_local std::vector<uint8_t> scratch;
      const uint8_t* wr = c.w->rows(n0, cols, scratch);
      for (size_t j = 0; j < cols; ++j) {
        (void)dequantize_row(c.w->type(), wr + j * c.w->row_bytes(), row, static_cast<int64_t>(k));
        const size_t q = j / c.panel, col = j % c.panel;
        if (c.bf16) {
          uint16_t* pp = reinterpret_cast<uint16_t*>(pw) + q * kp * c.panel;
          for (size_t e = 0; e < k; ++e) pp[(e / 2) * 2 * c.panel + col * 2 + (e & 1)] = f32_to_bf16(row[e]);
        } else {
          float* pp = reinterpret_cast<float*>(pw) + q * k * c.panel;
          for (size_t e = 0; e < k; ++e) pp[e * c.panel + col] = row[e];
        }
      }
    }
    const detail::GemmArgs g{c.x, c.m, c.ldx, pw, cols, k, nullptr, Epilogue::None, c.y + n0, c.ldy};
    for (size_t m0 = 0; m0 < c.m; m0 += kMc) c.tile(g, m0, std::min(c.m, m0 + kMc), 0, cols, scratch);
  };
  detail::run_tasks(pool, (w.n() + ctx.cols_per_task - 1) / ctx.cols_per_task, run, &ctx);
}

// Prefill on q4_K / q6_K / q8_0 (and q4_0, in q4_K's panels) with int8
// activations (prefill_int8): x quantized once (rows in parallel), then one
// task per 16 columns of W: pack its panel, run every row of x through it.
void qlinear_gemm_kquant(const float* x, size_t m, size_t ldx, const QuantMatrix& w, float* y, size_t ldy,
                         ThreadPool* pool) {
  const size_t k = w.k(), nb = k / detail::kQBlock;
  thread_local std::vector<int8_t> xq;
  thread_local std::vector<float> xd;
  thread_local std::vector<int32_t> xs;
  if (xq.size() < m * k) xq.resize(m * k);
  if (xd.size() < m * nb) xd.resize(m * nb), xs.resize(m * nb);
  const bool q6 = w.type() == DType::Q6_K;
  struct Ctx {
    const float* x;
    size_t m, ldx;
    const QuantMatrix* w;
    float* y;
    size_t ldy;
    int8_t* q;
    float* d;
    int32_t* s;
    bool q6;
  } ctx{x, m, ldx, &w, y, ldy, xq.data(), xd.data(), xs.data(), q6};
  constexpr size_t kRowsPerTask = 32;
  detail::run_tasks(pool, (m + kRowsPerTask - 1) / kRowsPerTask, [](void* p, size_t t) {
    const Ctx& c = *static_cast<const Ctx*>(p);
    const size_t k = c.w->k(), nb = k / detail::kQBlock;
    for (size_t i = t * kRowsPerTask; i < std::min(c.m, (t + 1) * kRowsPerTask); ++i) {
      int8_t* q = c.q + i * k;
      detail::quantize_x_blocks_avx2(c.x + i * c.ldx, k, q, c.d + i * nb, c.s + i * nb);
      if (c.q6) {  // x + 128 as unsigned bytes, see gemm_q6_K_avx2
        for (size_t j = 0; j < k; ++j) q[j] = static_cast<int8_t>(static_cast<uint8_t>(q[j]) ^ 0x80);
      }
    }
  }, &ctx);
  detail::run_tasks(pool, (w.n() + detail::kKPanel - 1) / detail::kKPanel, [](void* p, size_t t) {
    const Ctx& c = *static_cast<const Ctx*>(p);
    const size_t k = c.w->k(), n0 = t * detail::kKPanel;
    const size_t cols = std::min(detail::kKPanel, c.w->n() - n0);
    const bool q8 = c.w->type() == DType::Q8_0;
    const size_t bytes = c.q6 ? detail::q6_K_panel_bytes(k) : q8 ? detail::q8_0_panel_bytes(k) : detail::q4_K_panel_bytes(k);
    thread_local std::vector<uint8_t> buf;
    if (buf.size() < bytes + 64) buf.resize(bytes + 64);
    uint8_t* panel = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(buf.data()) + 63) / 64 * 64);
    if (c.w->layout() == QLayout::Q4_K_X8) {
      const size_t group_bytes = k / detail::kQSuperBlock * detail::kQ4KX8GroupBytes;
      detail::pack_q4_K_x8_panel_avx2(c.w->data() + n0 / 8 * group_bytes, cols, k, panel);
    } else if (c.q6) {
      detail::pack_q6_K_panel_avx2(c.w->data() + n0 * c.w->row_bytes(), c.w->row_bytes(), cols, k, panel);
    } else if (q8) {
      detail::pack_q8_0_panel_avx2(c.w->data() + n0 * c.w->row_bytes(), c.w->row_bytes(), cols, k, panel);
    } else if (c.w->type() == DType::Q4_0) {
      detail::pack_q4_0_panel_avx2(c.w->data() + n0 * c.w->row_bytes(), c.w->row_bytes(), cols, k, panel);
    } else {
      detail::pack_q4_K_panel_avx2(c.w->data() + n0 * c.w->row_bytes(), c.w->row_bytes(), cols, k, panel);
    }
    const detail::KQuantGemmArgs g{{c.q, c.d, c.s}, k, panel, cols, c.y + n0, c.ldy};
    if (c.q6) detail::gemm_q6_K_avx2(g, 0, c.m);
    else if (q8) detail::gemm_q8_0_avx2(g, 0, c.m);
    else detail::gemm_q4_K_avx2(g, 0, c.m);
  }, &ctx);
}

}  // namespace

namespace detail {

void quantize_x_blocks_scalar(const float* x, size_t k, int8_t* q, float* d, int32_t* s, size_t block) {
  for (size_t b = 0; b < k / block; ++b) {
    const float* xb = x + b * block;
    float amax = 0.0f;
    for (size_t j = 0; j < block; ++j) amax = std::max(amax, std::fabs(xb[j]));
    const float db = amax / 127.0f;
    const float id = db > 0.0f ? 1.0f / db : 0.0f;
    for (size_t j = 0; j < block; ++j) {
      const int v = static_cast<int>(std::nearbyint(xb[j] * id));
      q[b * block + j] = static_cast<int8_t>(std::clamp(v, -128, 127));
    }
    d[b] = db;
  }
  for (size_t b = 0; b < k / kQBlock; ++b) {
    int32_t sum = 0;
    for (size_t j = 0; j < kQBlock; ++j) sum += q[b * kQBlock + j];
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

bool QuantMatrix::repacks(DType type) {
  return type == DType::Q4_K && kernel_isa() != Isa::Scalar && !kernel_has_avx512_vnni();
}

Result<QuantMatrix> QuantMatrix::prepare(DType type, const void* data, size_t n, size_t k) {
  auto v = view(type, data, n, k);
  if (!v.ok()) return v.status();
  const bool x8 = repacks(type);
  auto buf = AlignedBuffer::allocate(x8 ? detail::q4_K_x8_bytes(n, k) : v->bytes());
  if (!buf.ok()) return buf.status();
  if (x8) {
    detail::repack_q4_K_x8(static_cast<const uint8_t*>(data), v->row_bytes(), n, k, buf->data());
    v->layout_ = QLayout::Q4_K_X8;
  } else {
    std::memcpy(buf->data(), data, v->bytes());
  }
  v->owned_ = std::move(*buf);
  v->data_ = v->owned_.data();
  return v;
}

const uint8_t* QuantMatrix::rows(size_t r0, size_t count, std::vector<uint8_t>& scratch) const {
  if (layout_ == QLayout::Rows) return data_ + r0 * row_bytes_;
  if (scratch.size() < count * row_bytes_) scratch.resize(count * row_bytes_);
  detail::unpack_q4_K_x8(data_, k_, r0, count, scratch.data());
  return scratch.data();
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
  if (detail::prefill_int8(w.type(), m)) return qlinear_gemm_kquant(x, m, ldx, w, y, ldy, pool);
  if (prefill_bf16(w.type(), m)) {
    return qlinear_gemm(x, m, ldx, w, y, ldy, pool, detail::kPanelAvx512, detail::bf16_gemm_tile(w.k()), true);
  }
  if (isa == Isa::Avx512) {
    return qlinear_gemm(x, m, ldx, w, y, ldy, pool, detail::kPanelAvx512, detail::gemm_f32_avx512_tile, false);
  }
  qlinear_gemm(x, m, ldx, w, y, ldy, pool, detail::kPanelAvx2, detail::gemm_f32_avx2_tile, false);
}

}  // namespace keel::kernels
