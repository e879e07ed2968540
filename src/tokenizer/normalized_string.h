// A piece of input text as it goes through normalization, with the map from
// every byte of the normalized text back to the bytes of the original it came
// from, so tokens can report offsets into the user's string. This is HF
// tokenizers' NormalizedString (tokenizers/src/tokenizer/normalizer.rs) and must
// behave exactly like it: same alignments after every operation, same splits.
//
// Offsets are byte offsets here. `original_shift` is where this piece starts in
// the whole input, so a piece cut out by splitting still maps to absolute
// original offsets. Code-point offsets (what HF's Python/Node bindings report)
// are computed once at the end, in Encoding.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "tokenizer/pattern.h"

namespace keel::tok {

using Range = std::pair<size_t, size_t>;  // [begin, end) in bytes

// How the matched delimiter is kept when splitting (HF SplitDelimiterBehavior).
enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

// One step of transform(): the code point to emit and how it relates to the
// input — HF's (char, isize) pairs: 0 = replaces one input char, +n = this char is
// an insertion (n >= 1), -n = this char replaces itself and the n following
// input chars (they are removed).
struct CharChange {
  char32_t ch;
  int change;
};

class NormalizedString {
 public:
  NormalizedString() = default;
  // Identity alignment: each byte maps to the byte range of its own character.
  explicit NormalizedString(std::string original);

  const std::string& original() const { return original_; }
  const std::string& normalized() const { return normalized_; }
  size_t original_shift() const { return original_shift_; }
  // alignments()[i]: original byte range (relative to original()) of normalized byte i.
  const std::vector<Range>& alignments() const { return alignments_; }
  size_t len() const { return normalized_.size(); }
  bool empty() const { return normalized_.empty(); }

  // Normalized byte range -> original byte range (relative to original()).
  // nullopt if the range is not on char boundaries / out of bounds, like HF's
  // convert_offsets(Range::Normalized(..)).
  std::optional<Range> to_original(Range normalized_range) const;
  // Original byte range (relative) -> normalized byte range.
  std::optional<Range> to_normalized(Range original_range) const;
  // A new NormalizedString for a normalized byte range (keeps alignments,
  // original_shift updated). nullopt if the range is not on char boundaries.
  std::optional<NormalizedString> slice_normalized(Range normalized_range) const;

  // HF transform_range over the whole string: replaces the normalized text with
  // `changes`, skipping `initial_offset` chars of the input first (they are removed).
  void transform(const std::vector<CharChange>& changes, size_t initial_offset);
  // The same on a normalized byte range only (the rest is kept).
  void transform_range(Range normalized_range, const std::vector<CharChange>& changes,
                       size_t initial_offset);

  // Unicode forms (utf8proc), with alignments as HF computes them.
  void nfd();
  void nfkd();
  void nfc();
  void nfkc();
  void lowercase();  // Unicode full lowercase, as Rust's char::to_lowercase
  void uppercase();
  void filter(const std::function<bool(char32_t)>& keep);
  void map(const std::function<char32_t(char32_t)>& f);
  void prepend(std::string_view s);
  void append(std::string_view s);
  // Replaces every match of `pattern` with `content` (HF NormalizedString::replace).
  Status replace(const Pattern& pattern, std::string_view content);
  void lstrip();
  void rstrip();
  void strip();

  // Splits on `pattern` (HF NormalizedString::split), each piece keeping its alignments.
  Result<std::vector<NormalizedString>> split(const Pattern& pattern, SplitBehavior behavior) const;
  // The same from an already computed match list (ranges covering the whole
  // normalized text in order, flag = is a delimiter), e.g. an inverted pattern.
  Result<std::vector<NormalizedString>> split_matches(std::vector<std::pair<Range, bool>> matches,
                                                      SplitBehavior behavior) const;

 private:
  // The normalized range HF's transform() rewrites (see .cc), and whether it is
  // the whole string (then identity transforms can be skipped).
  std::optional<Range> whole_range() const;
  bool whole_range_is_everything() const;
  void unicode_form(bool compat, bool compose);
  void lrstrip(bool left, bool right);

  std::string original_;
  std::string normalized_;
  std::vector<Range> alignments_;
  size_t original_shift_ = 0;
};

}  // namespace keel::tok
