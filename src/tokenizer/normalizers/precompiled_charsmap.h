// SentencePiece's precompiled_charsmap (the normalization rules compiled into
// a .model, kept base64 in tokenizer.json's Precompiled normalizer):
//   u32 little-endian trie_size | trie_size bytes of Darts double-array units
//   (u32 each) | the replacement strings, each ended by '\0'.
// A trie path spells the UTF-8 bytes of a source sequence; its leaf value is
// the byte offset of the replacement. Read as HF's spm_precompiled 0.1.4 does,
// but every array access is checked: a malformed blob never reads out of bounds
// (where HF would panic, the lookup just finds no rule).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace keel::tok {

class PrecompiledCharsmap {
 public:
  // `blob`: the decoded bytes. Errors when the header or trie is truncated or
  // the replacement strings are not UTF-8 (HF: "Cannot parse precompiled_charsmap").
  static Result<PrecompiledCharsmap> parse(std::string_view blob);

  // HF's Precompiled::transform: walks `key`'s bytes down the trie (stopping at
  // a NUL byte) and returns the replacement of the FIRST rule met, i.e. the
  // shortest prefix of `key` that has one; nullopt if none.
  std::optional<std::string_view> transform(std::string_view key) const;

  // transform() of the one-byte key b (b < 0x80), from a table.
  std::optional<std::string_view> ascii_rule(unsigned char b) const {
    const AsciiRule& r = ascii_rule_[b & 0x7f];
    if (!r.present) return std::nullopt;
    return std::string_view(normalized_).substr(r.offset, r.length);
  }

 private:
  std::optional<std::string_view> replacement_at(uint32_t index) const;
  std::vector<uint32_t> units_;
  std::string normalized_;
  // Offsets, not views: views into normalized_ would dangle when a short
  // (SSO) string moves with the object.
  struct AsciiRule {
    bool present = false;
    uint32_t offset = 0, length = 0;
  };
  std::array<AsciiRule, 128> ascii_rule_{};
};

}  // namespace keel::tok
