#include "kernels/linear.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <cstdlib>
#include <limits>
#include <string_view>
#include <vector>

#include "core/half.h"
#include "kernels/internal.h"

namespace keel::kernels {
namespace {

std::atomic<int> g_isa_override{-1};
std::atomic<bool> g_amx_enabled{true};

float round_bf16(float v) { return bf16_to_f32(f32_to_bf16(v)); }

// Symmetric int8: q = round(v / scale), scale = max|v| / 127 (0 for an all-zero row).
float quantize_row_i8(const float* v, size_t n, int8_t* q) {
  float amax = 0.0f;
  for (size_t i = 0; i < n; ++i) amax = std::max(amax, std::fabs(v[i]));
  const float scale = amax / 127.0f;
  const float inv = scale > 0.0f ? 1.0f / scale : 0.0f;
  for (size_t i = 0; i < n; ++i) {
    q[i] = static_cast<int8_t>(std::clamp(std::nearbyint(v[i] * inv), -127.0f, 127.0f));
  }
  return scale;
}

// Asymmetric uint8 for activations: q = clamp(round(v / scale) + zero, 0, 255),
// scale = (hi - lo) / 255 over [lo, hi] = [min(v, 0), max(v, 0)], zero =
// round(-lo / scale): v = scale * (q - zero). One-sided rows (GELU outputs) get
// twice the resolution a symmetric scale would give them. The AVX-512 kernel
// quantizes with the same operations, so both round identically.
float quantize_row_u8(const float* v, size_t n, uint8_t* q, int32_t* zero) {
  float lo = 0.0f, hi = 0.0f;
  for (size_t i = 0; i < n; ++i) {
    lo = std::min(lo, v[i]);
    hi = std::max(hi, v[i]);
  }
  const float scale = (hi - lo) / 255.0f;
  const float inv = scale > 0.0f ? 1.0f / scale : 0.0f;
  const float z = std::clamp(std::nearbyint(-lo * inv), 0.0f, 255.0f);
  *zero = static_cast<int32_t>(z);
  for (size_t i = 0; i < n; ++i) {
    q[i] = static_cast<uint8_t>(std::clamp(std::nearbyint(v[i] * inv) + z, 0.0f, 255.0f));
  }
  return scale;
}

float apply_epilogue(float v, Epilogue ep) { return ep == Epilogue::Gelu ? gelu_scalar(v) : v; }

// Rows [m0, m1) of the scalar kernel for RawF32 weights (already bf16-rounded
// for BF16); x rounded to bf16 on the fly when round_x.
void linear_raw_f32_rows(const float* x, size_t m0, size_t m1, size_t ldx, const float* w, size_t n,
                         size_t k, bool round_x, const float* bias, Epilogue ep, float* y,
                         size_t ldy) {
  std::vector<float> xr(k);
  for (size_t i = m0; i < m1; ++i) {
    const float* xi = x + i * ldx;
    if (round_x) {
      for (size_t p = 0; p < k; ++p) xr[p] = round_bf16(xi[p]);
      xi = xr.data();
    }
    for (size_t j = 0; j < n; ++j) {
      const float* wj = w + j * k;
      float acc = 0.0f;
      for (size_t p = 0; p < k; ++p) acc += xi[p] * wj[p];
      if (bias) acc += bias[j];
      y[i * ldy + j] = apply_epilogue(acc, ep);
    }
  }
}

void linear_raw_i8_rows(const float* x, size_t m0, size_t m1, size_t ldx, const int8_t* wq,
                        const float* wscale, size_t n, size_t k, const float* bias, Epilogue ep,
                        float* y, size_t ldy) {
  std::vector<uint8_t> xq(k);
  for (size_t i = m0; i < m1; ++i) {
    int32_t zero = 0;
    const float xs = quantize_row_u8(x + i * ldx, k, xq.data(), &zero);
    for (size_t j = 0; j < n; ++j) {
      const int8_t* wj = wq + j * k;
      int32_t acc = 0;
      for (size_t p = 0; p < k; ++p) acc += (int32_t{xq[p]} - zero) * int32_t{wj[p]};
      float v = static_cast<float>(acc) * xs * wscale[j];
      if (bias) v += bias[j];
      y[i * ldy + j] = apply_epilogue(v, ep);
    }
  }
}

size_t round_up(size_t v, size_t to) { return (v + to - 1) / to * to; }

// RawI8: n*k int8 weights, then the n f32 scales at an aligned offset.
size_t raw_i8_scales_offset(size_t n, size_t k) { return round_up(n * k, 64); }

}  // namespace

const char* compute_name(Compute c) {
  switch (c) {
    case Compute::F32: return "f32";
    case Compute::BF16: return "bf16";
    case Compute::I8: return "i8";
  }
  return "?";
}

Isa kernel_isa() {
  const Isa active = active_isa();
  const int o = g_isa_override.load(std::memory_order_relaxed);
  if (o < 0 || o > static_cast<int>(active)) return active;
  return static_cast<Isa>(o);
}

bool kernel_has_avx512_bf16() {
  return kernel_isa() == Isa::Avx512 && cpu_features().avx512_bf16;
}

bool kernel_has_avx512_vnni() {
  return kernel_isa() == Isa::Avx512 && cpu_features().avx512_vnni;
}

bool kernel_has_amx() {
  static const bool env_off = [] {
    const char* v = std::getenv("KEEL_AMX");
    return v && std::string_view(v) == "0";
  }();
  const CpuFeatures& f = cpu_features();
  return g_amx_enabled.load(std::memory_order_relaxed) && !env_off && kernel_isa() == Isa::Avx512 &&
         f.amx_tile && f.amx_bf16 && f.amx_int8 && detail::amx_permitted();
}

namespace detail {
GemmTileFn bf16_gemm_tile(size_t k) {
  return k % 32 == 0 && kernel_has_amx() ? gemm_bf16_amx_tile : gemm_bf16_avx512_tile;
}
}  // namespace detail

ScopedAmx::ScopedAmx(bool enabled) : previous_(g_amx_enabled.exchange(enabled)) {}
ScopedAmx::~ScopedAmx() { g_amx_enabled.store(previous_); }

ScopedKernelIsa::ScopedKernelIsa(Isa isa)
    : previous_(g_isa_override.exchange(static_cast<int>(isa))) {}
ScopedKernelIsa::~ScopedKernelIsa() { g_isa_override.store(previous_); }

float gelu_scalar(float x) {
  return static_cast<float>(0.5 * x * (1.0 + std::erf(static_cast<double>(x) * M_SQRT1_2)));
}

float erf_fast_scalar(float x) {
  const float a = std::fmin(std::fabs(x), 4.0f);
  float r;
  if (a <= 1.0f) {
    const float u = 2.0f * a * a - 1.0f;
    float p = detail::kErfP1[detail::kErfP1Degree];
    for (int i = detail::kErfP1Degree - 1; i >= 0; --i) p = std::fma(p, u, detail::kErfP1[i]);
    r = a * p;
  } else {
    const float u = (2.0f * a - 5.0f) * (1.0f / 3.0f);
    float p = detail::kErfP2[detail::kErfP2Degree];
    for (int i = detail::kErfP2Degree - 1; i >= 0; --i) p = std::fma(p, u, detail::kErfP2[i]);
    r = a >= 4.0f ? 1.0f : std::fmin(p, 1.0f);
  }
  return std::copysign(r, x);
}

Result<PackedMatrix> PackedMatrix::pack(const float* w, size_t n, size_t k, Compute c) {
  if (n == 0 || k == 0) return Error("cannot pack a ", n, "x", k, " matrix: empty");
  if (w == nullptr) return Error("cannot pack a ", n, "x", k, " matrix: null data");
  constexpr size_t kMax = size_t{1} << 40;
  if (n > kMax / k) return Error("cannot pack a ", n, "x", k, " matrix: too large");

  PackedMatrix pm;
  pm.n_ = n;
  pm.k_ = k;
  pm.compute_ = c;
  const Isa isa = kernel_isa();
  const bool bf16 = c == Compute::BF16;

  if (c == Compute::I8 && isa != Isa::Scalar) {
    // VNNI (vpdpbusd: 4 u8 activations x 4 s8 weights per int32 lane):
    // [panel][k quad][32 columns][4]; AVX2 (vpmaddwd on int16 pairs):
    // [panel][k pair][16 columns][2]. Padded with zeros in n and k, then the
    // int32 column sums and f32 scales, np of each.
    const bool vnni = kernel_has_avx512_vnni();
    pm.layout_ = vnni ? PackLayout::I8Panel32 : PackLayout::I8Panel16;
    const size_t panel = vnni ? detail::kPanelAvx512 : detail::kPanelAvx2, group = vnni ? 4 : 2;
    const size_t np = round_up(n, panel), kp = round_up(k, group);
    auto buf = AlignedBuffer::allocate(np * kp + np * 2 * sizeof(float));
    if (!buf) return buf.status();
    pm.data_ = std::move(*buf);
    int8_t* out = pm.data_.as<int8_t>();
    int32_t* colsum = reinterpret_cast<int32_t*>(pm.data_.data() + np * kp);
    float* scales = reinterpret_cast<float*>(colsum + np);
    std::vector<int8_t> row(k);
    for (size_t j = 0; j < n; ++j) {
      scales[j] = quantize_row_i8(w + j * k, k, row.data());
      int8_t* pp = out + (j / panel) * kp * panel;
      const size_t col = j % panel;
      int32_t sum = 0;
      for (size_t p = 0; p < k; ++p) {
        pp[(p / group) * group * panel + col * group + p % group] = row[p];
        sum += row[p];
      }
      colsum[j] = sum;
    }
    return pm;
  }
  if (c == Compute::I8) {
    pm.layout_ = PackLayout::RawI8;
    auto buf = AlignedBuffer::allocate(raw_i8_scales_offset(n, k) + n * sizeof(float));
    if (!buf) return buf.status();
    pm.data_ = std::move(*buf);
    int8_t* q = pm.data_.as<int8_t>();
    float* scales = reinterpret_cast<float*>(pm.data_.data() + raw_i8_scales_offset(n, k));
    for (size_t j = 0; j < n; ++j) scales[j] = quantize_row_i8(w + j * k, k, q + j * k);
    return pm;
  }

  if (bf16 && kernel_has_avx512_bf16()) {
    // [panel][k pair][32 columns][2]: one 64-byte vector per (panel, k pair).
    pm.layout_ = PackLayout::Bf16Panel32;
    const size_t np = round_up(n, detail::kPanelAvx512), kp = round_up(k, 2);
    auto buf = AlignedBuffer::allocate(np * kp * sizeof(uint16_t));
    if (!buf) return buf.status();
    pm.data_ = std::move(*buf);
    uint16_t* out = pm.data_.as<uint16_t>();
    for (size_t j = 0; j < n; ++j) {
      const size_t panel = j / detail::kPanelAvx512, col = j % detail::kPanelAvx512;
      uint16_t* pp = out + panel * kp * detail::kPanelAvx512;
      for (size_t p = 0; p < k; ++p) {
        pp[(p / 2) * 2 * detail::kPanelAvx512 + col * 2 + (p & 1)] = f32_to_bf16(w[j * k + p]);
      }
    }
    return pm;
  }

  const size_t panel = isa == Isa::Avx512 ? detail::kPanelAvx512
                       : isa == Isa::Avx2 ? detail::kPanelAvx2
                                          : 0;
  if (panel == 0) {
    pm.layout_ = PackLayout::RawF32;
    auto buf = AlignedBuffer::allocate(n * k * sizeof(float));
    if (!buf) return buf.status();
    pm.data_ = std::move(*buf);
    float* out = pm.data_.as<float>();
    for (size_t i = 0; i < n * k; ++i) out[i] = bf16 ? round_bf16(w[i]) : w[i];
    return pm;
  }
  // [panel][k][panel width] f32, zero padded past n.
  pm.layout_ = panel == detail::kPanelAvx512 ? PackLayout::F32Panel32 : PackLayout::F32Panel16;
  const size_t np = round_up(n, panel);
  auto buf = AlignedBuffer::allocate(np * k * sizeof(float));
  if (!buf) return buf.status();
  pm.data_ = std::move(*buf);
  float* out = pm.data_.as<float>();
  for (size_t j = 0; j < n; ++j) {
    float* pp = out + (j / panel) * k * panel + j % panel;
    for (size_t p = 0; p < k; ++p) pp[p * panel] = bf16 ? round_bf16(w[j * k + p]) : w[j * k + p];
  }
  return pm;
}

namespace detail {

void run_tasks(ThreadPool* pool, size_t n, void (*fn)(void* ctx, size_t task), void* ctx) {
  if (n == 0) return;
  if (pool == nullptr || pool->num_threads() == 1 || n == 1) {
    for (size_t t = 0; t < n; ++t) fn(ctx, t);
    return;
  }
  std::atomic<size_t> next{0};
  const int64_t workers = std::min<int64_t>(pool->num_threads(), static_cast<int64_t>(n));
  pool->parallel_for(workers, [&](int64_t b, int64_t e) {
    for (int64_t w = b; w < e; ++w) {
      for (size_t t = next.fetch_add(1, std::memory_order_relaxed); t < n;
           t = next.fetch_add(1, std::memory_order_relaxed)) {
        fn(ctx, t);
      }
    }
  });
}

}  // namespace detail

namespace {

// Tiles of up to kMc rows x nc columns are the units of parallel work; tile t
// is (m tile t / n_tiles, n tile t % n_tiles), so consecutive tiles share rows
// of x. nc starts at nc_max and shrinks (in whole panels) until there are a
// few tiles per thread. Tile functions that prepare x per tile (the AVX2 int8
// one quantizes its rows) pass nc_max = n: with enough row tiles each then
// prepares its rows once instead of once per n_tiles (the tile blocks W's
// columns itself).
void run_gemm(detail::GemmTileFn tile, const detail::GemmArgs& g, size_t panel, ThreadPool* pool,
              size_t nc_max = 256) {
  constexpr size_t kMc = 96;
  const size_t threads = pool ? static_cast<size_t>(pool->num_threads()) : 1;
  const size_t m_tiles = (g.m + kMc - 1) / kMc;
  const size_t n_panels = (g.n + panel - 1) / panel;
  // nc_max rounded up to whole panels: nc_max = n not a multiple of the panel
  // must still give one column tile, not a full one and a sliver.
  size_t nc = std::max(panel, std::min((nc_max + panel - 1) / panel * panel, n_panels * panel));
  while (nc > panel && m_tiles * ((g.n + nc - 1) / nc) < 4 * threads) nc -= panel;
  const size_t n_tiles = (g.n + nc - 1) / nc;
  struct Ctx {
    detail::GemmTileFn tile;
    const detail::GemmArgs* g;
    size_t n_tiles, nc, scratch_bytes;
  } ctx{tile, &g, n_tiles, nc, detail::tile_scratch_bytes(std::min(kMc, g.m), g.k)};
  auto run = [](void* p, size_t t) {
    const Ctx& c = *static_cast<const Ctx*>(p);
    thread_local std::vector<uint8_t> scratch;
    if (scratch.size() < c.scratch_bytes + 64) scratch.resize(c.scratch_bytes + 64);
    void* aligned = reinterpret_cast<void*>(
        (reinterpret_cast<uintptr_t>(scratch.data()) + 63) / 64 * 64);
    const size_t mt = t / c.n_tiles, nt = t % c.n_tiles;
    const size_t m0 = mt * kMc, m1 = std::min(c.g->m, m0 + kMc);
    const size_t n0 = nt * c.nc, n1 = std::min(c.g->n, n0 + c.nc);
    c.tile(*c.g, m0, m1, n0, n1, aligned);
  };
  // Waking the pool costs ~10 us: not worth it for a call that takes about
  // that long alone (estimate: ~90 GFLOP/s, weights streamed at ~25 GB/s).
  const double alone_us = std::max(2.0 * g.m * g.n * g.k / 9e4, 4.0 * g.n * g.k / 2.5e4);
  detail::run_tasks(alone_us > 15.0 ? pool : nullptr, m_tiles * n_tiles, run, &ctx);
}

}  // namespace

void linear(const float* x, size_t m, size_t ldx, const PackedMatrix& w, const float* bias,
            Epilogue ep, float* y, size_t ldy, ThreadPool* pool) {
  if (m == 0) return;
  const size_t n = w.n(), k = w.k();
  const detail::GemmArgs g{x, m, ldx, w.data(), n, k, bias, ep, y, ldy};
  switch (w.layout()) {
    case PackLayout::F32Panel32:
      run_gemm(detail::gemm_f32_avx512_tile, g, detail::kPanelAvx512, pool);
      return;
    case PackLayout::Bf16Panel32:
      run_gemm(detail::bf16_gemm_tile(k), g, detail::kPanelAvx512, pool);
      return;
    case PackLayout::I8Panel32:
      run_gemm(k % 64 == 0 && kernel_has_amx() ? detail::gemm_i8_amx_tile : detail::gemm_i8_avx512_tile, g,
               detail::kPanelAvx512, pool);
      return;
    case PackLayout::F32Panel16:
      run_gemm(detail::gemm_f32_avx2_tile, g, detail::kPanelAvx2, pool);
      return;
    case PackLayout::I8Panel16:
      run_gemm(detail::gemm_i8_avx2_tile, g, detail::kPanelAvx2, pool, n);
      return;
    case PackLayout::RawF32:
    case PackLayout::RawI8: {
      auto rows = [&](int64_t b, int64_t e) {
        if (w.layout() == PackLayout::RawF32) {
          linear_raw_f32_rows(x, b, e, ldx, reinterpret_cast<const float*>(w.data()), n, k,
                              w.compute() == Compute::BF16, bias, ep, y, ldy);
        } else {
          const float* scales =
              reinterpret_cast<const float*>(w.data() + raw_i8_scales_offset(n, k));
          linear_raw_i8_rows(x, b, e, ldx, reinterpret_cast<const int8_t*>(w.data()), scales, n,
                             k, bias, ep, y, ldy);
        }
      };
      if (pool) pool->parallel_for(static_cast<int64_t>(m), rows, 1);
      else rows(0, static_cast<int64_t>(m));
      return;
    }
  }
}

void linear_scalar(const float* x, size_t m, size_t ldx, const float* w, size_t n, size_t k,
                   Compute c, const float* bias, Epilogue ep, float* y, size_t ldy) {
  if (m == 0 || n == 0) return;
  if (c == Compute::I8) {
    std::vector<int8_t> wq(n * k);
    std::vector<float> ws(n);
    for (size_t j = 0; j < n; ++j) ws[j] = quantize_row_i8(w + j * k, k, wq.data() + j * k);
    linear_raw_i8_rows(x, 0, m, ldx, wq.data(), ws.data(), n, k, bias, ep, y, ldy);
    return;
  }
  if (c == Compute::BF16) {
    std::vector<float> wr(w, w + n * k);
    for (float& v : wr) v = round_bf16(v);
    linear_raw_f32_rows(x, 0, m, ldx, wr.data(), n, k, true, bias, ep, y, ldy);
    return;
  }
  linear_raw_f32_rows(x, 0, m, ldx, w, n, k, false, bias, ep, y, ldy);
}

}  // namespace keel::kernels
