// Softmax building block for samplers over large vocabularies:
//   y[i] = exp((x[i] - shift) * scale),  returns sum_i y[i].
// Written as plain loops the compiler vectorizes at the baseline ISA (no
// libm call per element): ~2 ulp polynomial exp, exactly 0 where the
// exponent is below -87 (so -inf logits get probability 0). The scalar twin
// is std::exp (tests/kernels/exp_sum_test.cc compares them over a grid).
#pragma once

#include <cstddef>

namespace keel::kernels {

// y may be null (only the sum is wanted) or equal to x (in place).
// Requires scale > 0 and shift finite; x may hold -inf (and NaN gives 0).
double exp_shifted_sum(const float* x, float* y, size_t n, float shift, float scale);

}  // namespace keel::kernels
