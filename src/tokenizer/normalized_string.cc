// NormalizedString: HF tokenizers' normalizer.rs, operation for operation. The
// alignment rules are subtle and offsets reported to users depend on every one
// of them, so each function follows HF's algorithm (including its quirks, which
// are called out where they matter) rather than an "obviously right" one.
#include "tokenizer/normalized_string.h"

#include <utf8proc.h>

#include <algorithm>

#include "tokenizer/normalizers/hf_unicode.h"
#include "tokenizer/unicode_util.h"

namespace keel::tok {

namespace {

bool is_char_boundary(const std::string& s, size_t i) {
  if (i == 0 || i == s.size()) return true;
  if (i > s.size()) return false;
  return (static_cast<unsigned char>(s[i]) & 0xc0) != 0x80;
}

// Reused per thread so normalizing does not allocate per call in steady state.
std::vector<CharChange>& scratch_changes() {
  thread_local std::vector<CharChange> v;
  v.clear();
  return v;
}

}  // namespace

NormalizedString::NormalizedString(std::string original) : original_(std::move(original)) {
  normalized_ = original_;
  alignments_.resize(normalized_.size());
  size_t i = 0;
  while (i < normalized_.size()) {
    size_t n = utf8_char_len(static_cast<unsigned char>(normalized_[i]));
    if (i + n > normalized_.size()) n = normalized_.size() - i;
    for (size_t k = 0; k < n; ++k) alignments_[i + k] = {i, i + n};
    i += n;
  }
}

std::optional<Range> NormalizedString::to_original(Range r) const {
  // HF convert_offsets(Range::Normalized): an empty range is returned as is.
  if (r.first == r.second) return r;
  if (r.first > r.second) return std::nullopt;
  if (r.second > alignments_.size()) return std::nullopt;
  return Range{alignments_[r.first].first, alignments_[r.second - 1].second};
}

std::optional<Range> NormalizedString::to_normalized(Range r) const {
  if (r.first == r.second) return r;
  if (r.first > r.second) return std::nullopt;
  std::optional<size_t> start, end;
  for (size_t i = 0; i < alignments_.size(); ++i) {
    const Range& a = alignments_[i];
    if (r.second < a.second) break;
    // Zero-width alignments (inserted chars) never start a range.
    if (!start && r.first <= a.first && a.first != a.second) start = i;
    end = i + 1;
  }
  if (start && end) return Range{*start, *end};
  if (start) return Range{*start, *start};
  if (end) return Range{*end, *end};
  return std::nullopt;
}

std::optional<NormalizedString> NormalizedString::slice_normalized(Range r) const {
  if (!is_char_boundary(normalized_, r.first) || !is_char_boundary(normalized_, r.second))
    return std::nullopt;
  if (r.first > r.second) return std::nullopt;
  auto orig = to_original(r);
  if (!orig) return std::nullopt;
  NormalizedString out;
  const size_t n_shift = orig->first;
  // HF takes the original text only when the range is valid on it (else "").
  if (orig->first <= orig->second && is_char_boundary(original_, orig->first) &&
      is_char_boundary(original_, orig->second))
    out.original_.assign(original_, orig->first, orig->second - orig->first);
  out.normalized_.assign(normalized_, r.first, r.second - r.first);
  out.alignments_.resize(r.second - r.first);
  for (size_t i = r.first; i < r.second; ++i) {
    const Range& a = alignments_[i];
    out.alignments_[i - r.first] = {a.first >= n_shift ? a.first - n_shift : 0,
                                    a.second >= n_shift ? a.second - n_shift : 0};
  }
  out.original_shift_ = original_shift_ + orig->first;
  return out;
}

// The normalized range HF's transform() works on: convert_offsets of the whole
// original. Normally the whole normalized string; shorter when it starts with
// chars inserted at position 0 (zero-width alignments).
std::optional<Range> NormalizedString::whole_range() const {
  if (!alignments_.empty() && alignments_[0].first != alignments_[0].second &&
      alignments_.back().second <= original_.size())
    return Range{0, normalized_.size()};
  return to_normalized({0, original_.size()});
}

bool NormalizedString::whole_range_is_everything() const {
  return alignments_.empty() ? original_.empty()
                             : (alignments_[0].first != alignments_[0].second &&
                                alignments_.back().second <= original_.size());
}

void NormalizedString::transform(const std::vector<CharChange>& changes, size_t initial_offset) {
  auto r = whole_range();
  if (!r) return;
  transform_range(*r, changes, initial_offset);
}

void NormalizedString::transform_range(Range n_range, const std::vector<CharChange>& changes,
                                       size_t initial_offset) {
  if (n_range.second > normalized_.size()) n_range.second = normalized_.size();
  if (n_range.first > n_range.second) return;
  const size_t range_end = n_range.second;
  // Fast path: every change replaces one char by one char of the same UTF-8
  // length (lowercasing, most maps): the alignments stay as they are, so the
  // text is rewritten in place.
  if (initial_offset == 0) {
    size_t p = n_range.first;
    bool same = true;
    for (const CharChange& cc : changes) {
      if (cc.change != 0 || p >= range_end) {
        same = false;
        break;
      }
      size_t n = utf8_char_len(static_cast<unsigned char>(normalized_[p]));
      if (n != utf8_len_of(cc.ch)) {
        same = false;
        break;
      }
      p += n;
    }
    if (same && p == range_end) {
      p = n_range.first;
      for (const CharChange& cc : changes) p += encode_utf8(cc.ch, &normalized_[p]);
      return;
    }
  }
  // The chars being replaced are consumed from `rp` as changes refer to them.
  size_t rp = n_range.first;
  auto take_char = [&]() -> size_t {
    if (rp >= range_end) return 0;
    size_t n = utf8_char_len(static_cast<unsigned char>(normalized_[rp]));
    if (rp + n > range_end) n = range_end - rp;
    rp += n;
    return n;
  };
  size_t initial_removed = 0;
  for (size_t k = 0; k < initial_offset && rp < range_end; ++k) initial_removed += take_char();

  thread_local std::string new_text;
  thread_local std::vector<Range> new_align;
  new_text.clear();
  new_align.clear();
  size_t offset = n_range.first + initial_removed;
  const size_t n_align = alignments_.size();
  for (const CharChange& cc : changes) {
    const size_t idx = offset;
    Range align;
    if (cc.change > 0) {
      // An inserted char shares the alignment of the byte before it.
      if (idx < 1) align = {0, 0};
      else align = alignments_[std::min(idx - 1, n_align - 1)];
    } else {
      // HF indexes out of bounds (panics) when changes replace more chars than
      // exist; stay defined instead.
      if (idx < n_align) align = alignments_[idx];
      else if (n_align > 0) align = {alignments_.back().second, alignments_.back().second};
      else align = {0, 0};
    }
    size_t replaced = cc.change <= 0 ? take_char() : 0;
    size_t removed = 0;
    if (cc.change < 0)
      for (int k = 0; k < -cc.change && rp < range_end; ++k) removed += take_char();
    offset += replaced + removed;
    const size_t before = new_text.size();
    append_utf8(new_text, cc.ch);
    new_align.insert(new_align.end(), new_text.size() - before, align);
  }

  if (n_range.first == 0 && n_range.second == normalized_.size()) {
    normalized_.swap(new_text);
    alignments_.swap(new_align);
  } else {
    normalized_.replace(n_range.first, n_range.second - n_range.first, new_text);
    alignments_.erase(alignments_.begin() + n_range.first, alignments_.begin() + n_range.second);
    alignments_.insert(alignments_.begin() + n_range.first, new_align.begin(), new_align.end());
  }
}

// ---- Unicode normalization forms ----------------------------------------------
//
// HF uses the unicode-normalization-alignments crate: decomposition yields each
// char of a char's decomposition with change 0 for the first and +1 for the
// others; canonical reordering moves (char, change) pairs together; composition
// of two chars gives change(a) + change(b) - 1.

namespace {

// HF's normalization tables are Unicode 9.0: a char assigned later is an inert
// starter there (no decomposition, ccc 0, never composes).
bool hf_inert(char32_t c) { return c >= 0x370 && !hf_unicode9_assigned(c); }

uint8_t ccc(char32_t c) {
  if (c < 0x300 || hf_inert(c)) return 0;
  return static_cast<uint8_t>(utf8proc_get_property(static_cast<int32_t>(c))->combining_class);
}

// Stable-sorts changes[from, end) by combining class (canonical ordering).
void sort_pending(std::vector<CharChange>& v, size_t from) {
  if (v.size() - from < 2) return;
  std::stable_sort(v.begin() + from, v.end(),
                   [](const CharChange& a, const CharChange& b) { return ccc(a.ch) < ccc(b.ch); });
}

void decompose(const std::string& s, bool compat, std::vector<CharChange>& out) {
  out.reserve(s.size() + 8);
  size_t pending = 0;  // chars from here on are after the last starter
  const utf8proc_option_t opts =
      static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | (compat ? UTF8PROC_COMPAT : 0));
  size_t i = 0;
  while (i < s.size()) {
    char32_t c = decode_utf8(s, i);
    if (c < 0xc0) {  // Latin-1 below U+00C0 has no canonical decomposition
      if (!compat || c < 0xa0) {
        sort_pending(out, pending);
        pending = out.size();
        out.push_back({c, 0});
        continue;
      }
    }
    if (hf_inert(c)) {
      sort_pending(out, pending);
      pending = out.size();
      out.push_back({c, 0});
      continue;
    }
    int32_t buf[32];
    int last_bound = 0;
    utf8proc_ssize_t n = utf8proc_decompose_char(static_cast<int32_t>(c), buf, 32, opts, &last_bound);
    if (n <= 0 || n > 32) {
      buf[0] = static_cast<int32_t>(c);
      n = 1;
    }
    for (utf8proc_ssize_t k = 0; k < n; ++k) {
      char32_t d = static_cast<char32_t>(buf[k]);
      if (ccc(d) == 0) {
        sort_pending(out, pending);
        pending = out.size();
      }
      out.push_back({d, k == 0 ? 0 : 1});
    }
  }
  sort_pending(out, pending);
}

constexpr char32_t kSBase = 0xac00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11a7;
constexpr int kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount,
              kSCount = kLCount * kNCount;

// The primary composite of (a, b), or 0.
char32_t compose_pair(char32_t a, char32_t b) {
  if (b < 0x300) return 0;
  if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount)
    return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
  if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase &&
      b < kTBase + kTCount)
    return a + (b - kTBase);
  if (hf_inert(a) || hf_inert(b)) return 0;
  const utf8proc_property_t* pa = utf8proc_get_property(static_cast<int32_t>(a));
  const utf8proc_property_t* pb = utf8proc_get_property(static_cast<int32_t>(b));
  // utf8proc marks chars that can start / end a composition in comb_index.
  if (pa->comb_index >= 0x8000 || pb->comb_index == 0xffff || pb->comb_index < 0x8000) return 0;
  int32_t buf[2] = {static_cast<int32_t>(a), static_cast<int32_t>(b)};
  if (utf8proc_normalize_utf32(buf, 2, UTF8PROC_COMPOSE) != 1) return 0;
  // Composition exclusions (e.g. U+1D15E) must stay apart; utf8proc composes
  // some of them without UTF8PROC_STABLE.
  if (utf8proc_get_property(buf[0])->comp_exclusion || hf_inert(static_cast<char32_t>(buf[0]))) return 0;
  return static_cast<char32_t>(buf[0]);
}

// The canonical composition state machine (unicode-normalization's
// Recompositions), carrying changes along.
void recompose(const std::vector<CharChange>& in, std::vector<CharChange>& out) {
  out.clear();
  out.reserve(in.size());
  thread_local std::vector<CharChange> buffer;  // blocked non-starters after composee
  buffer.clear();
  bool has_composee = false;
  CharChange composee{0, 0};
  int last_ccc = -1;  // -1: none
  auto flush_buffer = [&]() {
    out.insert(out.end(), buffer.begin(), buffer.end());
    buffer.clear();
  };
  for (const CharChange& ch : in) {
    const int ch_class = ccc(ch.ch);
    if (!has_composee) {
      if (ch_class != 0) {
        out.push_back(ch);
        continue;
      }
      composee = ch;
      has_composee = true;
      continue;
    }
    if (last_ccc < 0) {
      if (char32_t r = compose_pair(composee.ch, ch.ch)) {
        composee = {r, composee.change + ch.change - 1};
        continue;
      }
      if (ch_class == 0) {
        out.push_back(composee);
        composee = ch;
        continue;
      }
      buffer.push_back(ch);
      last_ccc = ch_class;
      continue;
    }
    if (last_ccc >= ch_class) {
      // ch is blocked from the composee.
      if (ch_class == 0) {
        out.push_back(composee);
        flush_buffer();
        composee = ch;
        last_ccc = -1;
        continue;
      }
      buffer.push_back(ch);
      last_ccc = ch_class;
      continue;
    }
    if (char32_t r = compose_pair(composee.ch, ch.ch)) {
      composee = {r, composee.change + ch.change - 1};
      continue;
    }
    buffer.push_back(ch);
    last_ccc = ch_class;
  }
  if (has_composee) out.push_back(composee);
  flush_buffer();
}

bool all_ascii(const std::string& s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

}  // namespace

void NormalizedString::unicode_form(bool compat, bool compose) {
  // ASCII is invariant under every form; transform would then be the identity.
  if (all_ascii(normalized_) && whole_range_is_everything()) return;
  auto& changes = scratch_changes();
  decompose(normalized_, compat, changes);
  if (compose) {
    thread_local std::vector<CharChange> composed;
    recompose(changes, composed);
    transform(composed, 0);
  } else {
    transform(changes, 0);
  }
}

void NormalizedString::nfd() { unicode_form(false, false); }
void NormalizedString::nfkd() { unicode_form(true, false); }
void NormalizedString::nfc() { unicode_form(false, true); }
void NormalizedString::nfkc() { unicode_form(true, true); }

// ---- Case mapping ----------------------------------------------------------------

void NormalizedString::lowercase() {
  // Fast path: every char maps to one char of the same UTF-8 length (always for
  // ASCII): rewrite in place, alignments unchanged, as HF's transform would.
  if (whole_range_is_everything()) {
    bool simple = true;
    size_t i = 0;
    while (i < normalized_.size()) {
      auto b = static_cast<unsigned char>(normalized_[i]);
      if (b < 0x80) {
        ++i;
        continue;
      }
      size_t start = i;
      char32_t c = decode_utf8(normalized_, i);
      char32_t l[3];
      if (rust_to_lowercase(c, l) != 1 || utf8_len_of(l[0]) != i - start) {
        simple = false;
        break;
      }
    }
    if (simple) {
      i = 0;
      while (i < normalized_.size()) {
        auto b = static_cast<unsigned char>(normalized_[i]);
        if (b < 0x80) {
          if (b >= 'A' && b <= 'Z') normalized_[i] = static_cast<char>(b + 32);
          ++i;
          continue;
        }
        size_t start = i;
        char32_t c = decode_utf8(normalized_, i);
        char32_t l[3];
        rust_to_lowercase(c, l);
        if (l[0] != c) {
          char enc[4];
          size_t n = encode_utf8(l[0], enc);
          normalized_.replace(start, n, enc, n);
        }
      }
      return;
    }
  }
  auto& changes = scratch_changes();
  size_t i = 0;
  while (i < normalized_.size()) {
    char32_t c = decode_utf8(normalized_, i);
    char32_t l[3];
    size_t n = rust_to_lowercase(c, l);
    for (size_t k = 0; k < n; ++k) changes.push_back({l[k], k > 0 ? 1 : 0});
  }
  transform(changes, 0);
}

void NormalizedString::uppercase() {
  auto& changes = scratch_changes();
  size_t i = 0;
  while (i < normalized_.size()) {
    char32_t c = decode_utf8(normalized_, i);
    char32_t u[3];
    size_t n = rust_to_uppercase(c, u);
    for (size_t k = 0; k < n; ++k) changes.push_back({u[k], k > 0 ? 1 : 0});
  }
  transform(changes, 0);
}

// ---- Generic per-char operations -------------------------------------------------

void NormalizedString::filter(const std::function<bool(char32_t)>& keep) {
  // HF walks backwards: a kept char absorbs (as -n) the n removed chars after it;
  // removed chars at the very start become initial_offset.
  thread_local std::vector<char32_t> chars;
  thread_local std::vector<uint8_t> kept;
  chars.clear();
  kept.clear();
  size_t i = 0;
  bool any_removed = false;
  while (i < normalized_.size()) {
    char32_t c = decode_utf8(normalized_, i);
    chars.push_back(c);
    bool k = keep(c);
    kept.push_back(k);
    any_removed |= !k;
  }
  if (!any_removed && whole_range_is_everything()) return;  // identity
  auto& changes = scratch_changes();
  size_t leading = 0;
  while (leading < chars.size() && !kept[leading]) ++leading;
  for (size_t k = leading; k < chars.size(); ++k) {
    if (!kept[k]) continue;
    int removed_after = 0;
    size_t j = k + 1;
    while (j < chars.size() && !kept[j]) {
      ++removed_after;
      ++j;
    }
    changes.push_back({chars[k], -removed_after});
  }
  transform(changes, leading);
}

void NormalizedString::map(const std::function<char32_t(char32_t)>& f) {
  auto& changes = scratch_changes();
  size_t i = 0;
  while (i < normalized_.size()) changes.push_back({f(decode_utf8(normalized_, i)), 0});
  transform(changes, 0);
}

void NormalizedString::prepend(std::string_view s) {
  if (normalized_.empty()) return;
  size_t i = 0;
  char32_t next = decode_utf8(normalized_, i);
  const size_t next_len = i;
  auto& changes = scratch_changes();
  size_t j = 0, k = 0;
  while (j < s.size()) changes.push_back({decode_utf8(s, j), k++ == 0 ? 0 : 1});
  changes.push_back({next, 1});
  transform_range({0, next_len}, changes, 0);
}

void NormalizedString::append(std::string_view s) {
  if (normalized_.empty()) return;
  size_t b = normalized_.size() - 1;
  while (b > 0 && (static_cast<unsigned char>(normalized_[b]) & 0xc0) == 0x80) --b;
  size_t i = b;
  char32_t prev = decode_utf8(normalized_, i);
  auto& changes = scratch_changes();
  changes.push_back({prev, 0});
  size_t j = 0;
  while (j < s.size()) changes.push_back({decode_utf8(s, j), 1});
  transform_range({b, normalized_.size()}, changes, 0);
}

Status NormalizedString::replace(const Pattern& pattern, std::string_view content) {
  thread_local std::vector<std::pair<std::pair<size_t, size_t>, bool>> matches;
  KEEL_RETURN_IF_ERROR(pattern.find_matches(normalized_, matches));
  bool any = false;
  for (const auto& m : matches) any |= m.second;
  if (!any) return Status::Ok();
  // One pass equal to HF's successive transform_range calls: each match is
  // replaced by `content`, whose chars are insertions aligned like the byte
  // before them in the string as rewritten so far.
  thread_local std::string out;
  thread_local std::vector<Range> out_align;
  out.clear();
  out_align.clear();
  out.reserve(normalized_.size() + 16);
  out_align.reserve(normalized_.size() + 16);
  for (const auto& [r, is_match] : matches) {
    auto [start, end] = r;
    if (end > normalized_.size()) end = normalized_.size();
    if (start > end) start = end;
    if (!is_match) {
      out.append(normalized_, start, end - start);
      out_align.insert(out_align.end(), alignments_.begin() + start, alignments_.begin() + end);
      continue;
    }
    Range align;
    if (end > start) align = alignments_[end - 1];
    else if (!out_align.empty()) align = out_align.back();
    else align = {0, 0};
    out.append(content);
    out_align.insert(out_align.end(), content.size(), align);
  }
  normalized_.swap(out);
  alignments_.swap(out_align);
  return Status::Ok();
}

void NormalizedString::lrstrip(bool left, bool right) {
  thread_local std::vector<char32_t> chars;
  chars.clear();
  size_t i = 0;
  while (i < normalized_.size()) chars.push_back(decode_utf8(normalized_, i));
  size_t leading = 0, trailing = 0;
  if (left)
    while (leading < chars.size() && rust_is_whitespace(chars[leading])) ++leading;
  if (right)
    while (trailing < chars.size() && rust_is_whitespace(chars[chars.size() - 1 - trailing]))
      ++trailing;
  if (leading == 0 && trailing == 0) return;
  const size_t len = chars.size();
  auto& changes = scratch_changes();
  for (size_t k = 0; k < chars.size(); ++k) {
    if (k < leading || k + trailing >= len) continue;
    if (k + trailing + 1 == len) changes.push_back({chars[k], -static_cast<int>(trailing)});
    else changes.push_back({chars[k], 0});
  }
  transform(changes, leading);
}

void NormalizedString::lstrip() { lrstrip(true, false); }
void NormalizedString::rstrip() { lrstrip(false, true); }
void NormalizedString::strip() { lrstrip(true, true); }

// ---- Split -------------------------------------------------------------------------

Result<std::vector<NormalizedString>> NormalizedString::split(const Pattern& pattern,
                                                              SplitBehavior behavior) const {
  std::vector<std::pair<Range, bool>> matches;
  KEEL_RETURN_IF_ERROR(pattern.find_matches(normalized_, matches));
  return split_matches(std::move(matches), behavior);
}

Result<std::vector<NormalizedString>> NormalizedString::split_matches(
    std::vector<std::pair<Range, bool>> matches, SplitBehavior behavior) const {
  // (range, remove) after applying the behavior.
  std::vector<std::pair<Range, bool>> splits;
  splits.reserve(matches.size());
  switch (behavior) {
    case SplitBehavior::Isolated:
      for (auto& [r, m] : matches) splits.push_back({r, false});
      break;
    case SplitBehavior::Removed:
      splits = std::move(matches);
      break;
    case SplitBehavior::Contiguous: {
      bool prev = false;
      for (auto& [r, m] : matches) {
        if (m == prev && !splits.empty()) splits.back().first.second = r.second;
        else splits.push_back({r, false});
        prev = m;
      }
      break;
    }
    case SplitBehavior::MergedWithPrevious: {
      bool prev = false;
      for (auto& [r, m] : matches) {
        if (m && !prev && !splits.empty()) splits.back().first.second = r.second;
        else splits.push_back({r, false});
        prev = m;
      }
      break;
    }
    case SplitBehavior::MergedWithNext: {
      bool prev = false;
      for (auto it = matches.rbegin(); it != matches.rend(); ++it) {
        auto& [r, m] = *it;
        if (m && !prev && !splits.empty()) splits.back().first.first = r.first;
        else splits.push_back({r, false});
        prev = m;
      }
      std::reverse(splits.begin(), splits.end());
      break;
    }
  }
  std::vector<NormalizedString> out;
  out.reserve(splits.size());
  for (auto& [r, remove] : splits) {
    if (remove) continue;
    auto piece = slice_normalized(r);
    if (!piece)
      return Error("split at bytes [", r.first, ", ", r.second, ") is not on character boundaries");
    out.push_back(std::move(*piece));
  }
  return out;
}

}  // namespace keel::tok
