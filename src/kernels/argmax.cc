#include "kernels/argmax.h"

#include "kernels/linear.h"

namespace keel::kernels {

size_t argmax_scalar(const float* x, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; ++i)
    if (x[i] > x[best]) best = i;
  return best;
}

size_t argmax(const float* x, size_t n) {
  if (kernel_isa() != Isa::Scalar) return detail::argmax_avx2(x, n);
  return argmax_scalar(x, n);
}

}  // namespace keel::kernels
