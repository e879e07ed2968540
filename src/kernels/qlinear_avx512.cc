// qlinear's decode kernels with AVX512-VNNI: vpdpbusd on 256-bit vectors (the
// 32-element blocks of the GGML layouts are 32 bytes of int8). See
// qlinear_dot.inc for the kernels themselves.
#include <immintrin.h>

#include <bit>
#include <cstring>

#include "kernels/qlinear_internal.h"

namespace keel::kernels::detail {
namespace {

inline __m256i dot_u8s8(__m256i u, __m256i s) {
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
}

#include "kernels/qlinear_dot.inc"

}  // namespace

void qdot_rows_avx512(const QDotArgs& a, size_t r0, size_t r1) { qdot_rows_impl(a, r0, r1); }

}  // namespace keel::kernels::detail
