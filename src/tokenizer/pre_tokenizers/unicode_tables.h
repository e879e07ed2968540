// The character classes and scripts HF tokenizers' pre-tokenizers see, exactly:
// measured on HF tokenizers itself (tests/tools/gen_pre_tokenizer_unicode_tables.js
// writes unicode_tables_data.cc), because its dependencies (Oniguruma, the Rust
// standard library, the unicode_categories and regex crates) each carry their own
// Unicode version, newer than utf8proc's or PCRE2's here — about 5000 code points
// would otherwise differ.
//
// Lookup is two array reads (a 256-entry block index, then the block).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace keel::tok {

namespace unicode_data {
struct CodeRange {
  uint32_t first, last;  // inclusive
  uint8_t value;
};
extern const CodeRange kClassRanges[];
extern const size_t kClassRangeCount;
extern const CodeRange kScriptRanges[];
extern const size_t kScriptRangeCount;
}  // namespace unicode_data

// Class bits (a code point can have several).
enum : uint8_t {
  kLetter = 1,    // Oniguruma \p{L}
  kNumber = 2,    // Oniguruma \p{N}
  kSpace = 4,     // Oniguruma \s, = Rust char::is_whitespace, = Rust regex \s
  kPunct = 8,     // HF is_punc: ASCII punctuation or a P* category (unicode_categories)
  kNumeric = 16,  // Rust char::is_numeric
  kWord = 32,     // Rust regex crate \w
  kOnigPunct = 64,  // Oniguruma \p{P}
};

class UnicodeTables {
 public:
  static const UnicodeTables& get();

  uint8_t classes(char32_t c) const {
    return c < 0x110000 ? class_blocks_[(size_t(class_index_[c >> 8]) << 8) | (c & 0xff)] : 0;
  }
  // UnicodeScripts' script of c as an opaque id; 0 = Any (never splits).
  uint8_t script(char32_t c) const {
    return c < 0x110000 ? script_blocks_[(size_t(script_index_[c >> 8]) << 8) | (c & 0xff)] : 0;
  }

 private:
  UnicodeTables();
  static void build(const unicode_data::CodeRange* ranges, size_t n, std::vector<uint16_t>& index,
                    std::vector<uint8_t>& blocks);
  std::vector<uint16_t> class_index_, script_index_;  // [0x1100]: block number per 256 code points
  std::vector<uint8_t> class_blocks_, script_blocks_;  // distinct 256-entry blocks
};

}  // namespace keel::tok
