// Open-addressing hash maps for the models' hot lookups: token string -> id
// (every BPE symbol, every WordPiece candidate) and (left id, right id) ->
// merge (every BPE pair). std::unordered_map allocates a node per entry and
// hashes with a slow generic function; these keep keys in one arena and probe
// linearly, which is what the per-character lookups need.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace keel::tok {

// A fast 64-bit hash for short strings (folded 128-bit multiplies).
inline uint64_t hash_mix(uint64_t a, uint64_t b) {
  __uint128_t m = static_cast<__uint128_t>(a ^ 0xA0761D6478BD642Full) * (b ^ 0xE7037ED1A0B428DBull);
  return static_cast<uint64_t>(m) ^ static_cast<uint64_t>(m >> 64);
}
inline uint64_t hash_bytes(const char* p, size_t n) {
  uint64_t h = 0x8EBC6AF09C88C6E3ull ^ n;
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    h = hash_mix(h, v);
    p += 8;
    n -= 8;
  }
  uint64_t v = 0;
  if (n) std::memcpy(&v, p, n);
  return hash_mix(h, v ^ (uint64_t(n) << 56));
}
inline uint64_t hash_bytes(std::string_view s) { return hash_bytes(s.data(), s.size()); }

// string -> uint32. Inserting an existing key overwrites its value (as a serde
// HashMap does when a JSON object repeats a key). Slots carry 32 bits of the
// hash, so a probe touches an entry (and the key bytes) only on a likely hit.
class StringIdMap {
 public:
  // Room for n keys of key_bytes bytes in all.
  void reserve(size_t n, size_t key_bytes = 0);
  void insert(std::string_view key, uint32_t value) { insert(key, hash_bytes(key), value); }
  // With the key's hash_bytes() already computed (see prefetch()).
  void insert(std::string_view key, uint64_t h, uint32_t value);
  // Returns false if absent.
  bool find(std::string_view key, uint32_t& value) const { return find(key, hash_bytes(key), value); }
  // With the key's hash_bytes() already computed (see prefetch()).
  bool find(std::string_view key, uint64_t h, uint32_t& value) const {
    if (slots_.empty()) return false;
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot s = slots_[i];
      if (s.entry == 0) return false;
      if (s.tag != tag) continue;
      const Entry& en = entries_[s.entry - 1];
      if (en.len == key.size() && std::memcmp(arena_.data() + en.off, key.data(), key.size()) == 0) {
        value = en.value;
        return true;
      }
    }
  }
  // Starts loading the slot a lookup of a key with hash h will read first
  // (bulk lookups overlap their cache misses this way).
  void prefetch(uint64_t h) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[h & mask_]);
  }
  bool contains(std::string_view key) const {
    uint32_t v;
    return find(key, v);
  }
  size_t size() const { return entries_.size(); }
  // Entry e (0 <= e < size(), in insertion order of first appearance). The
  // views stay valid until the next insert.
  std::string_view key_at(size_t e) const { return {arena_.data() + entries_[e].off, entries_[e].len}; }
  uint32_t value_at(size_t e) const { return entries_[e].value; }
  // Visits every (key, value) in insertion order of first appearance.
  template <typename F>
  void for_each(F&& f) const {
    for (const Entry& e : entries_) f(std::string_view(arena_.data() + e.off, e.len), e.value);
  }

 private:
  struct Entry {
    size_t off;
    uint32_t len;
    uint32_t value;
  };
  struct Slot {
    uint32_t tag;
    uint32_t entry;  // index + 1; 0 = empty
  };
  void grow();
  std::string arena_;
  std::vector<Entry> entries_;
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

// (uint32, uint32) -> (rank, new id), for BPE merges. 16-byte slots (the
// whole GPT-2 merge table is 2 MB); the all-ones key marks empty slots, and
// the one pair that packs to it, (0xFFFFFFFF, 0xFFFFFFFF), is kept aside.
class PairMap {
 public:
  struct Value {
    uint32_t rank;
    uint32_t new_id;
  };
  void reserve(size_t n);
  void insert(uint32_t a, uint32_t b, Value v);
  const Value* find(uint32_t a, uint32_t b) const {
    const uint64_t key = (uint64_t(a) << 32) | b;
    if (key == kEmpty) return has_max_key_ ? &max_key_value_ : nullptr;
    if (slots_.empty()) return nullptr;
    for (size_t i = slot_of(key);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == key) return &s.value;
      if (s.key == kEmpty) return nullptr;
    }
  }
  void prefetch(uint32_t a, uint32_t b) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[slot_of((uint64_t(a) << 32) | b)]);
  }
  size_t size() const { return size_; }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t(0);
  struct Slot {
    uint64_t key = kEmpty;
    Value value{};
  };
  size_t slot_of(uint64_t key) const { return (key * 0x9E3779B97F4A7C15ull) >> shift_; }
  void grow();
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  int shift_ = 64;
  size_t size_ = 0;
  bool has_max_key_ = false;
  Value max_key_value_{};
};

}  // namespace keel::tok
