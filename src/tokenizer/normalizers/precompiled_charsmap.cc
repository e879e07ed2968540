// Darts double-array lookups for SentencePiece's precompiled_charsmap.
#include "tokenizer/normalizers/precompiled_charsmap.h"

#include <cstring>

#include "core/utf8.h"

namespace keel::tok {

namespace {

// Darts unit layout: bits 0-7 label (bit 31 set marks a non-leaf value unit),
// bit 8 has_leaf, bit 9 offset scale (<< 8), bits 10-31 offset.
inline bool has_leaf(uint32_t u) { return (u >> 8) & 1; }
inline uint32_t value(uint32_t u) { return u & 0x7fffffffu; }
inline uint32_t label(uint32_t u) { return u & 0x800000ffu; }
inline uint64_t offset(uint32_t u) { return static_cast<uint64_t>(u >> 10) << ((u & (1u << 9)) >> 6); }

uint32_t read_le32(const char* p) {
  unsigned char b[4];
  std::memcpy(b, p, 4);
  return b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24);
}

}  // namespace

Result<PrecompiledCharsmap> PrecompiledCharsmap::parse(std::string_view blob) {
  if (blob.size() < 4)
    return Error("precompiled_charsmap: ", blob.size(), " bytes, too short for the trie size header");
  const uint32_t trie_size = read_le32(blob.data());
  const size_t n_units = trie_size / 4;
  if (n_units > (blob.size() - 4) / 4)
    return Error("precompiled_charsmap: trie of ", trie_size, " bytes but only ", blob.size() - 4,
                 " bytes follow the header");
  PrecompiledCharsmap m;
  m.units_.resize(n_units);
  for (size_t i = 0; i < n_units; ++i) m.units_[i] = read_le32(blob.data() + 4 + 4 * i);
  // Everything after the units (odd trie_size % 4 bytes included, as in HF) is
  // the replacement-string blob.
  m.normalized_.assign(blob.substr(4 + 4 * n_units));
  if (size_t bad = find_invalid_utf8(m.normalized_); bad != std::string_view::npos)
    return Error("precompiled_charsmap: replacement strings are not valid UTF-8 (byte ", bad, ")");
  for (unsigned b = 1; b < 128; ++b) {
    const char key = static_cast<char>(b);
    if (auto r = m.transform(std::string_view(&key, 1))) {
      m.ascii_rule_[b] = {true, static_cast<uint32_t>(r->data() - m.normalized_.data()),
                          static_cast<uint32_t>(r->size())};
    }
  }
  return m;
}

std::optional<std::string_view> PrecompiledCharsmap::replacement_at(uint32_t index) const {
  // HF slices normalized[index..first NUL at or after index]; an index past the
  // end or inside a UTF-8 sequence would panic there, here it is no rule.
  if (index > normalized_.size()) return std::nullopt;
  if (index < normalized_.size() && (static_cast<unsigned char>(normalized_[index]) & 0xc0) == 0x80)
    return std::nullopt;
  size_t end = normalized_.find('\0', index);
  if (end == std::string::npos) end = normalized_.size();
  return std::string_view(normalized_).substr(index, end - index);
}

std::optional<std::string_view> PrecompiledCharsmap::transform(std::string_view key) const {
  if (units_.empty()) return std::nullopt;
  uint64_t pos = offset(units_[0]);
  for (unsigned char c : key) {
    if (c == 0) break;
    pos ^= c;
    if (pos >= units_.size()) return std::nullopt;
    const uint32_t u = units_[pos];
    if (label(u) != c) return std::nullopt;
    pos ^= offset(u);
    if (has_leaf(u)) {
      if (pos >= units_.size()) return std::nullopt;
      return replacement_at(value(units_[pos]));
    }
  }
  return std::nullopt;
}

}  // namespace keel::tok
