#include "tokenizer/models/flat_maps.h"

namespace keel::tok {

static size_t pow2_at_least(size_t n) {
  size_t c = 16;
  while (c < n) c <<= 1;
  return c;
}

void StringIdMap::reserve(size_t n, size_t key_bytes) {
  entries_.reserve(n);
  arena_.reserve(key_bytes);
  size_t want = pow2_at_least(n * 2);
  if (want > slots_.size()) {
    slots_.assign(want, Slot{0, 0});
    mask_ = want - 1;
    for (size_t e = 0; e < entries_.size(); ++e) {
      const Entry& en = entries_[e];
      uint64_t h = hash_bytes(arena_.data() + en.off, en.len);
      size_t i = h & mask_;
      while (slots_[i].entry) i = (i + 1) & mask_;
      slots_[i] = Slot{static_cast<uint32_t>(h >> 32), static_cast<uint32_t>(e + 1)};
    }
  }
}

void StringIdMap::grow() { reserve(entries_.size() * 2 + 8); }

void StringIdMap::insert(std::string_view key, uint64_t h, uint32_t value) {
  if ((entries_.size() + 1) * 2 > slots_.size()) grow();
  const uint32_t tag = static_cast<uint32_t>(h >> 32);
  size_t i = h & mask_;
  for (;; i = (i + 1) & mask_) {
    const Slot s = slots_[i];
    if (s.entry == 0) break;
    if (s.tag != tag) continue;
    Entry& en = entries_[s.entry - 1];
    if (en.len == key.size() && std::memcmp(arena_.data() + en.off, key.data(), key.size()) == 0) {
      en.value = value;
      return;
    }
  }
  entries_.push_back(Entry{arena_.size(), static_cast<uint32_t>(key.size()), value});
  arena_.append(key);
  slots_[i] = Slot{tag, static_cast<uint32_t>(entries_.size())};
}

void PairMap::reserve(size_t n) {
  size_t want = pow2_at_least(n * 2);
  if (want <= slots_.size()) return;
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(want, Slot{});
  mask_ = want - 1;
  shift_ = 64 - __builtin_ctzll(want);
  for (const Slot& s : old) {
    if (s.key == kEmpty) continue;
    size_t i = slot_of(s.key);
    while (slots_[i].key != kEmpty) i = (i + 1) & mask_;
    slots_[i] = s;
  }
}

void PairMap::grow() { reserve(size_ * 2 + 8); }

void PairMap::insert(uint32_t a, uint32_t b, Value v) {
  const uint64_t key = (uint64_t(a) << 32) | b;
  if (key == kEmpty) {
    if (!has_max_key_) ++size_;
    has_max_key_ = true;
    max_key_value_ = v;
    return;
  }
  if ((size_ + 1) * 2 > slots_.size()) grow();
  for (size_t i = slot_of(key);; i = (i + 1) & mask_) {
    Slot& s = slots_[i];
    if (s.key == kEmpty) {
      s = Slot{key, v};
      ++size_;
      return;
    }
    if (s.key == key) {
      s.value = v;
      return;
    }
  }
}

}  // namespace keel::tok
