// GGML block-quantized layouts, byte for byte as in GGUF files (ggml-common.h).
// A row of n elements is n / kBlockElems consecutive blocks. Scales `d`/`dmin`
// are IEEE f16 bit patterns (see core/half.h).
#pragma once

#include <cstdint>

namespace keel {

inline constexpr int kQK = 32;   // elements per legacy block (q4_0, q8_0)
inline constexpr int kQKK = 256;  // elements per K-quant super-block

// x[i] = d * qs[i]
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQK];
};
static_assert(sizeof(BlockQ8_0) == 34);

// x[i] = d * (nibble - 8); qs[j] low nibble is element j, high nibble element j + 16.
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ4_0) == 18);

// x[i] = d * (q - 16), q = nibble | fifth bit << 4; qs as in q4_0, qh bit j is
// element j's fifth bit (little-endian 32-bit word).
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ5_0) == 22);

// x[i] = d * q + m, q = nibble | fifth bit << 4 (layout of q5_0's qs and qh).
struct BlockQ5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
static_assert(sizeof(BlockQ5_1) == 24);

// 8 sub-blocks of 32: x = d * sc[j] * q - dmin * m[j], with 6-bit sc/m packed in `scales`.
struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qs[kQKK / 2];
};
static_assert(sizeof(BlockQ4_K) == 144);

// Sub-block j's 6-bit scale and min in the 12 packed `scales` bytes of q4_K /
// q5_K: bytes 0-3 / 4-7 hold the low 6 bits of sc / m for j < 4 and their top
// 2 bits for j >= 4, whose low 4 bits sit in bytes 8-11 (96 bits for 96: the
// packing is exact both ways).
inline void get_scale_min_k4(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((q[j + 4] & 0xf) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}
// The inverse: writes sub-block j's sc and m (each < 64); `q` starts zeroed.
inline void put_scale_min_k4(int j, uint8_t sc, uint8_t m, uint8_t* q) {
  if (j < 4) {
    q[j] |= sc;
    q[j + 4] |= m;
  } else {
    q[j + 4] = static_cast<uint8_t>((sc & 0xf) | ((m & 0xf) << 4));
    q[j - 4] |= static_cast<uint8_t>((sc >> 4) << 6);
    q[j] |= static_cast<uint8_t>((m >> 4) << 6);
  }
}

// q4_K with a fifth bit: q = nibble | fifth bit << 4, q in [0, 31]. In each 64
// elements c (c = 0..3) the low nibbles of qs[32c..32c+31] are sub-block 2c and
// the high nibbles sub-block 2c + 1; bit 2c of qh[l] is element l of sub-block
// 2c's fifth bit, bit 2c + 1 that of sub-block 2c + 1.
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qh[kQKK / 8];
  uint8_t qs[kQKK / 2];
};
static_assert(sizeof(BlockQ5_K) == 176);

// 16 sub-blocks of 16: x = d * scales[j] * (q - 32), q = 4 low bits (ql) | 2 high bits (qh).
struct BlockQ6_K {
  uint8_t ql[kQKK / 2];
  uint8_t qh[kQKK / 4];
  int8_t scales[kQKK / 16];
  uint16_t d;
};
static_assert(sizeof(BlockQ6_K) == 210);

}  // namespace keel
