// A bounded, thread-safe cache of per-word results (BPE pieces, Unigram
// segmentations): the models' hot path for real text, where a few thousand
// words make up most of it. Sharded so that batch encoding on many threads
// rarely contends; each shard is a flat open-addressing table over two arenas
// (one or two cache misses per lookup, no allocation per entry). Like HF's
// cache it stops accepting words once full; results never depend on it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/models/flat_maps.h"

namespace keel::tok {

// HF only caches words shorter than this (bytes).
inline constexpr size_t kMaxCachedWordLen = 256;

template <typename T>
class WordCache {
 public:
  explicit WordCache(size_t capacity) : per_shard_(std::max<size_t>(1, capacity / kShards)) {}

  bool get(std::string_view word, std::vector<T>& out) {
    const uint64_t h = hash_bytes(word);
    Shard& s = shards_[h >> (64 - kShardBits)];
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.slots.empty()) return false;
    const size_t mask = s.slots.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      uint32_t e = s.slots[i];
      if (e == 0) return false;
      const Entry& en = s.entries[e - 1];
      if (en.hash == h && en.key_len == word.size() &&
          std::memcmp(s.keys.data() + en.key_off, word.data(), word.size()) == 0) {
        out.assign(s.values.begin() + en.values_off, s.values.begin() + en.values_off + en.values_len);
        return true;
      }
    }
  }

  void put(std::string_view word, const std::vector<T>& values) {
    const uint64_t h = hash_bytes(word);
    Shard& s = shards_[h >> (64 - kShardBits)];
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.entries.size() >= per_shard_) return;
    if (s.slots.empty()) {
      size_t n = 16;
      while (n < per_shard_ * 2) n <<= 1;
      s.slots.assign(n, 0);
    }
    const size_t mask = s.slots.size() - 1;
    size_t i = h & mask;
    for (;; i = (i + 1) & mask) {
      uint32_t e = s.slots[i];
      if (e == 0) break;
      const Entry& en = s.entries[e - 1];
      if (en.hash == h && en.key_len == word.size() &&
          std::memcmp(s.keys.data() + en.key_off, word.data(), word.size()) == 0)
        return;  // another thread got there first
    }
    s.entries.push_back(Entry{h, s.keys.size(), static_cast<uint32_t>(word.size()), s.values.size(),
                              static_cast<uint32_t>(values.size())});
    s.keys.append(word);
    s.values.insert(s.values.end(), values.begin(), values.end());
    s.slots[i] = static_cast<uint32_t>(s.entries.size());
  }

 private:
  static constexpr int kShardBits = 6;
  static constexpr size_t kShards = size_t(1) << kShardBits;
  struct Entry {
    uint64_t hash;
    size_t key_off;
    uint32_t key_len;
    size_t values_off;
    uint32_t values_len;
  };
  struct Shard {
    std::mutex mu;
    std::vector<uint32_t> slots;  // entry index + 1; 0 = empty
    std::vector<Entry> entries;
    std::string keys;
    std::vector<T> values;
  };
  size_t per_shard_;
  Shard shards_[kShards];
};

}  // namespace keel::tok
