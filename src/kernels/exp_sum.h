// Softmax building block for samplers over large vocabularies:
//   y[i] = exp((x[i] - shift) * scale),  returns sum_i y[i].
// ~2 ulp polynomial exp (no libm call per element), exactly 0 where the
// exponent is below -87 (so -inf logits get probability 0). The AVX2 form
// (exp_sum_avx2.cc) runs where the CPU has it; the scalar twin is plain loops
// the compiler vectorizes at the baseline ISA. tests/kernels/exp_sum_test.cc
// compares both with std::exp over a grid.
#pragma once

#include <cstddef>

namespace keel::kernels {

// y may be null (only the sum is wanted) or equal to x (in place).
// Requires scale > 0 and shift finite; x may hold -inf (and NaN gives 0).
double exp_shifted_sum(const float* x, float* y, size_t n, float shift, float scale);
double exp_shifted_sum_scalar(const float* x, float* y, size_t n, float shift, float scale);

namespace detail {
double exp_shifted_sum_avx2(const float* x, float* y, size_t n, float shift, float scale);
}  // namespace detail

}  // namespace keel::kernels
