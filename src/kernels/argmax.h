// Index of the largest element, as the sampler's greedy pick and its
// log-softmax shift need it over a whole vocabulary every token.
#pragma once

#include <cstddef>

namespace keel::kernels {

// The first i with x[i] larger than every x[j], j < i, among the elements
// that compare (NaN never wins; 0 if x[0] is NaN and nothing compares larger,
// or n == 0): the result of `best = 0; for i: if (x[i] > x[best]) best = i`.
size_t argmax(const float* x, size_t n);
size_t argmax_scalar(const float* x, size_t n);

namespace detail {
size_t argmax_avx2(const float* x, size_t n);
}  // namespace detail

}  // namespace keel::kernels
