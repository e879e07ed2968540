#include "tokenizer/pre_tokenizers/unicode_tables.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

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
  for (size_t i = 0; i < n; ++i) {
    const uint32_t last = std::min<uint32_t>(ranges[i].last, 0x10FFFF);
    if (ranges[i].first <= last)
      std::memset(&flat[ranges[i].first], ranges[i].value, last - ranges[i].first + 1);
  }
  index.assign(0x1100, 0);
  // Block hash -> block number; a hash collision with different content just
  // stores the block again (correct, merely less compact).
  std::unordered_map<uint64_t, uint16_t> seen;
  for (size_t b = 0; b < 0x1100; ++b) {
    const uint8_t* block = &flat[b << 8];
    uint64_t h = 1469598103934665603ull;
    for (size_t k = 0; k < 256; ++k) h = (h ^ block[k]) * 1099511628211ull;
    auto it = seen.find(h);
    if (it != seen.end() && std::memcmp(&blocks[size_t(it->second) << 8], block, 256) == 0) {
      index[b] = it->second;
      continue;
    }
    const auto id = static_cast<uint16_t>(blocks.size() >> 8);
    blocks.insert(blocks.end(), block, block + 256);
    seen.emplace(h, id);
    index[b] = id;
  }
}

}  // namespace keel::tok
