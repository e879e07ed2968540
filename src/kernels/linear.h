// Dense layers for encoder inference: y = epilogue(x . W^T + bias).
//
// W is stored the way HF nn.Linear stores it, [n, k] (out_features x
// in_features). PackedMatrix::pack repacks it once, at load time, into the
// layout the fastest kernel this CPU can run wants (column panels for the
// AVX-512 / AVX2 micro-kernels, bf16 pairs for vdpbf16ps, ...). linear() then
// picks the kernel from the layout, so a matrix packed under one ISA override
// is always run by the kernel it was packed for.
//
// Every fast path has a scalar twin (linear_scalar) that the tests compare it
// with over a grid of shapes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/buffer.h"
#include "core/cpu_features.h"
#include "core/status.h"
#include "core/thread_pool.h"

namespace keel::kernels {

// What a linear layer computes in. Accumulation is always f32 (int32 for I8).
//   F32:  f32 x f32.
//   BF16: x and W rounded to bf16 (round to nearest even), products summed in
//         f32 (vdpbf16ps). Without AVX512_BF16, W is rounded to bf16 but the
//         f32 kernel runs it (x stays f32): the same weights, f32 speed.
//   I8:   x quantized per row to uint8 with a zero point (asymmetric: the
//         row's [min, 0] .. [0, max] range in 255 steps), W per output channel
//         to int8 (symmetric, scale = max|W_row| / 127), int32 dot products.
enum class Compute { F32, BF16, I8 };
const char* compute_name(Compute c);

// The storage layout of a PackedMatrix; which one pack() picks depends on the
// CPU (and on the kernel ISA override, see kernel_isa()).
enum class PackLayout {
  RawF32,         // W [n, k] f32 as given (BF16: rounded to bf16 values): scalar kernels
  RawI8,          // W [n, k] int8, then (64-aligned) n f32 scales: scalar kernels
  F32Panel16,     // AVX2: [n/16 panels][k][16] f32, zero padded in n
  F32Panel32,     // AVX-512: [n/32 panels][k][32] f32, zero padded in n
  Bf16Panel32,    // AVX512_BF16: [n/32 panels][k/2 pairs][32][2] bf16, padded in n and k
  I8Panel32,      // AVX512_VNNI: [n/32 panels][k/4 quads][32][4] int8, then int32 column
                  // sums [np] and f32 scales [np] (np = n rounded up to 32)
  I8Panel16,      // AVX2: [n/16 panels][k/2 pairs][16][2] int8, then column sums and
                  // scales as I8Panel32 (np = n rounded up to 16)
};

class PackedMatrix {
 public:
  PackedMatrix() = default;
  PackedMatrix(PackedMatrix&&) noexcept = default;
  PackedMatrix& operator=(PackedMatrix&&) noexcept = default;

  // w: [n, k] row-major f32. Fails (never aborts) on n == 0, k == 0, sizes
  // that overflow, or an allocation that cannot be made.
  static Result<PackedMatrix> pack(const float* w, size_t n, size_t k, Compute c);

  size_t n() const { return n_; }
  size_t k() const { return k_; }
  Compute compute() const { return compute_; }
  PackLayout layout() const { return layout_; }
  size_t bytes() const { return data_.size(); }  // memory the packed weights take

  const uint8_t* data() const { return data_.data(); }

 private:
  size_t n_ = 0, k_ = 0;
  Compute compute_ = Compute::F32;
  PackLayout layout_ = PackLayout::RawF32;
  AlignedBuffer data_;
};

enum class Epilogue { None, Gelu /* exact erf GELU: 0.5 x (1 + erf(x / sqrt 2)) */ };

// y[m, n] = epilogue(x[m, k] . W^T + bias[n]); x rows are ldx floats apart
// (ldx >= k), y rows ldy apart (ldy >= n). bias may be null. y must not
// overlap x. m == 0 does nothing. Parallel over blocks of m and n on `pool`
// (null: run on the calling thread).
void linear(const float* x, size_t m, size_t ldx, const PackedMatrix& w, const float* bias,
            Epilogue ep, float* y, size_t ldy, ThreadPool* pool = nullptr);

// The scalar twin, from the unpacked W [n, k] f32: rounds/quantizes exactly as
// `c` says, then a plain triple loop. The reference the fast paths are tested on.
void linear_scalar(const float* x, size_t m, size_t ldx, const float* w, size_t n, size_t k,
                   Compute c, const float* bias, Epilogue ep, float* y, size_t ldy);

// GELU (erf form). gelu_scalar uses std::erf; the kernels use a polynomial erf
// with |error| < 2e-7 (erf_fast_scalar is the scalar version of it).
float gelu_scalar(float x);
float erf_fast_scalar(float x);

// The ISA the kernels dispatch to: active_isa() unless a test has overridden
// it (ScopedKernelIsa). Overrides can only lower the tier, never raise it
// above what the CPU has.
Isa kernel_isa();
bool kernel_has_avx512_bf16();  // AVX512_BF16 present and the kernel ISA is Avx512
bool kernel_has_avx512_vnni();
// AMX tiles (bf16 and int8) present, granted by the OS, and neither turned off
// by KEEL_AMX=0 in the environment nor by a ScopedAmx: the bf16 and int8
// linears then run on AMX where k allows (multiples of 32 / 64).
bool kernel_has_amx();

// Turns the AMX kernels off (or back on, where the CPU has them) for its
// lifetime: tests run both paths on one machine.
class ScopedAmx {
 public:
  explicit ScopedAmx(bool enabled);
  ~ScopedAmx();
  ScopedAmx(const ScopedAmx&) = delete;
  ScopedAmx& operator=(const ScopedAmx&) = delete;

 private:
  bool previous_;
};

class ScopedKernelIsa {
 public:
  explicit ScopedKernelIsa(Isa isa);
  ~ScopedKernelIsa();
  ScopedKernelIsa(const ScopedKernelIsa&) = delete;
  ScopedKernelIsa& operator=(const ScopedKernelIsa&) = delete;

 private:
  int previous_;
};

}  // namespace keel::kernels
