// A bounded, thread-safe cache of per-word results (BPE pieces, Unigram
// segmentations): the models' hot path for real text, where a few thousand
// words make up most of it. Sharded so that batch encoding on many threads
// rarely contends; each shard is a flat open-addressing table over two arenas
// (one or two cache misses per lookup, no allocation per entry). In front of
// the shards each thread keeps a small direct-mapped table of recent short
// words: the hottest few hundred words are most of a text, and they are found
// there without taking a lock or touching a line another core writes. Like HF's
// cache it stops accepting words once full; results never depend on it.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
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
  explicit WordCache(size_t capacity)
      : per_shard_(std::max<size_t>(1, capacity / kShards)), id_(next_id().fetch_add(1) + 1) {}

  bool get(std::string_view word, std::vector<T>& out) {
    const uint64_t h = hash_bytes(word);
    FrontEntry* f = front_slot(word, h);
    if (f && f->owner == id_ && f->hash == h && f->key_len == word.size() &&
        std::memcmp(f->key, word.data(), word.size()) == 0) {
      out.assign(f->values, f->values + f->n_values);
      return true;
    }
    if (!get_shared(word, h, out)) return false;
    remember(f, word, h, out);
    return true;
  }

  void put(std::string_view word, const std::vector<T>& values) {
    const uint64_t h = hash_bytes(word);
    remember(front_slot(word, h), word, h, values);
    put_shared(word, h, values);
  }

 private:
  // The per-thread table: words up to kFrontKeyMax bytes with up to
  // kFrontValuesMax values. Entries name the cache they belong to by id_
  // (never reused), so caches of several models share one table safely.
  static constexpr size_t kFrontSize = 512;  // a power of two
  static constexpr size_t kFrontKeyMax = 24;
  static constexpr size_t kFrontValuesMax = 6;
  struct FrontEntry {
    uint64_t owner = 0;  // id_ of the cache; 0 = empty
    uint64_t hash = 0;
    uint32_t key_len = 0;
    uint32_t n_values = 0;
    char key[kFrontKeyMax];
    T values[kFrontValuesMax];
  };
  static std::atomic<uint64_t>& next_id() {
    static std::atomic<uint64_t> id{0};
    return id;
  }
  // The entry `word` maps to on this thread; nullptr if the word is too long.
  // The table is allocated on first use (a pointer in TLS, not 50 kB of it).
  static FrontEntry* front_slot(std::string_view word, uint64_t h) {
    if (word.size() > kFrontKeyMax) return nullptr;
    thread_local std::unique_ptr<FrontEntry[]> table;
    if (!table) table.reset(new FrontEntry[kFrontSize]);
    // The low bits pick the slot within a shard; use the middle ones here.
    return &table[(h >> 20) & (kFrontSize - 1)];
  }
  void remember(FrontEntry* f, std::string_view word, uint64_t h, const std::vector<T>& values) const {
    if (!f || values.size() > kFrontValuesMax) return;
    f->owner = id_;
    f->hash = h;
    f->key_len = static_cast<uint32_t>(word.size());
    f->n_values = static_cast<uint32_t>(values.size());
    std::memcpy(f->key, word.data(), word.size());
    std::copy(values.begin(), values.end(), f->values);
  }

  bool get_shared(std::string_view word, uint64_t h, std::vector<T>& out) {
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

  void put_shared(std::string_view word, uint64_t h, const std::vector<T>& values) {
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

  static constexpr int kShardBits = 6;
  static constexpr size_t kShards = size_t(1) << kShardBits;
  struct Entry {
    uint64_t hash;
    size_t key_off;
    uint32_t key_len;
    size_t values_off;
    uint32_t values_len;
  };
  // A line of its own each, so that locking one shard does not steal the
  // line holding its neighbour from the other cores.
  struct alignas(64) Shard {
    std::mutex mu;
    std::vector<uint32_t> slots;  // entry index + 1; 0 = empty
    std::vector<Entry> entries;
    std::string keys;
    std::vector<T> values;
  };
  size_t per_shard_;
  const uint64_t id_;
  Shard shards_[kShards];
};

}  // namespace keel::tok
