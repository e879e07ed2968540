#include "tokenizer/pre_tokenizers/unicode_tables.h"

#include <cstring>
#include <map>
#include <string>

namespace keel::tok {

const UnicodeTables& UnicodeTables::get() {
  static const UnicodeTables tables;
  return tables;
}

UnicodeTables::UnicodeTables() {
  build(unicode_data::kClassRanges, unicode_data::kClassRangeCount, class_index_, class_blocks_);
  build(unicode_data::kScriptRanges, unicode_data::kScriptRangeCount, script_index_,
        script_blocks_);
}

// Expands the ranges into 0x1100 blocks of 256 values and keeps each distinct
// block once (most of the code space is a handful of identical blocks).
void UnicodeTables::build(const unicode_data::CodeRange* ranges, size_t n,
                          std::vector<uint16_t>& index, std::vector<uint8_t>& blocks) {
  std::vector<uint8_t> flat(0x110000, 0);
  for (size_t i = 0; i < n; ++i)
    for (uint32_t c = ranges[i].first; c <= ranges[i].last && c < 0x110000; ++c)
      flat[c] = ranges[i].value;
  index.assign(0x1100, 0);
  std::map<std::string, uint16_t> seen;
  for (size_t b = 0; b < 0x1100; ++b) {
    std::string key(reinterpret_cast<const char*>(&flat[b << 8]), 256);
    auto [it, added] = seen.emplace(std::move(key), static_cast<uint16_t>(seen.size()));
    if (added) blocks.insert(blocks.end(), flat.begin() + (b << 8), flat.begin() + (b << 8) + 256);
    index[b] = it->second;
  }
}

}  // namespace keel::tok
