// qlinear's repacked weight layouts (see qlinear_internal.h): q4_K with 8 rows
// interleaved per super-block, and back to storage layout, bit for bit.
#include <emmintrin.h>

#include <cstring>

#include "core/quant_blocks.h"
#include "kernels/qlinear_internal.h"

namespace keel::kernels::detail {

constexpr size_t kQ4KBytes = sizeof(BlockQ4_K);

// Storage: 32-block b's level l is nibble (b odd: high) of byte 32 (b / 2) + l
// of the 128 bytes of levels. Interleaved: byte 128 b + 32 j + 4 r + e holds
// level 4 j + e (low nibble) and 16 + 4 j + e (high) of row r of the group.
void repack_q4_K_x8(const uint8_t* rows, size_t row_bytes, size_t n, size_t k, uint8_t* out) {
  const size_t nsb = k / kQSuperBlock;
  if (n % 8) {  // the last group's padding rows: zeros (d = dmin = 0)
    const size_t last = (n / 8) * nsb * kQ4KX8GroupBytes;
    std::memset(out + last, 0, nsb * kQ4KX8GroupBytes);
  }
  const __m128i lo4 = _mm_set1_epi8(0x0f), hi4 = _mm_set1_epi8(static_cast<char>(0xf0));
  for (size_t r = 0; r < n; ++r) {
    const size_t rr = r % 8;
    for (size_t sb = 0; sb < nsb; ++sb) {
      const uint8_t* blk = rows + r * row_bytes + sb * kQ4KBytes;
      uint8_t* g = out + ((r / 8) * nsb + sb) * kQ4KX8GroupBytes;
      std::memcpy(g + 2 * rr, blk, 2);
      std::memcpy(g + 16 + 2 * rr, blk + 2, 2);
      for (int b = 0; b < 8; ++b) {
        get_scale_min_k4(b, blk + 4, &g[32 + 8 * b + rr], &g[96 + 16 * (b / 2) + 2 * rr + b % 2]);
      }
      for (size_t c = 0; c < 4; ++c) {  // 32 bytes of levels: block 2 c (low nibbles), 2 c + 1 (high)
        const __m128i q0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 16 + 32 * c));
        const __m128i q1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 16 + 32 * c + 16));
        // Byte l of v: level l (low nibble) and level 16 + l (high nibble) of the block.
        const __m128i v[2] = {_mm_or_si128(_mm_and_si128(q0, lo4), _mm_slli_epi16(_mm_and_si128(q1, lo4), 4)),
                              _mm_or_si128(_mm_and_si128(_mm_srli_epi16(q0, 4), lo4), _mm_and_si128(q1, hi4))};
        for (size_t t = 0; t < 2; ++t) {
          alignas(16) uint8_t bytes[16];
          _mm_store_si128(reinterpret_cast<__m128i*>(bytes), v[t]);
          for (size_t j = 0; j < 4; ++j) std::memcpy(g + 160 + 128 * (2 * c + t) + 32 * j + 4 * rr, bytes + 4 * j, 4);
        }
      }
    }
  }
}

void unpack_q4_K_x8(const uint8_t* packed, size_t k, size_t r0, size_t count, uint8_t* out) {
  const size_t nsb = k / kQSuperBlock;
  for (size_t r = r0; r < r0 + count; ++r) {
    const size_t rr = r % 8;
    for (size_t sb = 0; sb < nsb; ++sb) {
      const uint8_t* g = packed + ((r / 8) * nsb + sb) * kQ4KX8GroupBytes;
      uint8_t* blk = out + ((r - r0) * nsb + sb) * kQ4KBytes;
      std::memcpy(blk, g + 2 * rr, 2);
      std::memcpy(blk + 2, g + 16 + 2 * rr, 2);
      std::memset(blk + 4, 0, 12);
      for (int b = 0; b < 8; ++b) {
        put_scale_min_k4(b, g[32 + 8 * b + rr], g[96 + 16 * (b / 2) + 2 * rr + b % 2], blk + 4);
      }
      uint8_t* qs = blk + 16;
      std::memset(qs, 0, 128);
      for (size_t b = 0; b < 8; ++b)
        for (size_t j = 0; j < 4; ++j)
          for (size_t e = 0; e < 4; ++e) {
            const uint8_t v = g[160 + 128 * b + 32 * j + 4 * rr + e];
            const int shift = b % 2 ? 4 : 0;
            qs[32 * (b / 2) + 4 * j + e] |= static_cast<uint8_t>((v & 0x0f) << shift);
            qs[32 * (b / 2) + 16 + 4 * j + e] |= static_cast<uint8_t>((v >> 4) << shift);
          }
    }
  }
}

}  // namespace keel::kernels::detail
