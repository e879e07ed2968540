// What to split or replace on: a literal string, a character class (predicate),
// or a regex (PCRE2 with JIT, which handles lookahead and \p{L}/\p{N} like the
// Oniguruma / fancy-regex engines HF tokenizers uses). HF's Pattern trait.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace keel::tok {

// A compiled regex. Thread-safe to use from several threads at once (match data
// is per call / per thread). Patterns are UTF-8, with Unicode properties on.
class Regex {
 public:
  static Result<Regex> compile(std::string_view pattern);
  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;
  ~Regex();
  const std::string& pattern() const { return pattern_; }
  // Every non-overlapping match in `text`, left to right, as byte ranges. Empty
  // matches are kept as Oniguruma's find_iter yields them (HF's regex engine):
  // an empty match ending where the previous match ended is skipped and the
  // search resumes one char further.
  Status find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const;

 private:
  Regex() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string pattern_;
};

class Pattern {
 public:
  static Pattern literal(std::string s);
  static Pattern predicate(std::function<bool(char32_t)> f);
  static Pattern regex(std::shared_ptr<const Regex> re);

  // HF Pattern::find_matches: ranges covering the whole of `text` in order,
  // each flagged true if it is a match. An empty text gives [((0,0), false)].
  Status find_matches(std::string_view text, std::vector<std::pair<std::pair<size_t, size_t>, bool>>& out) const;

 private:
  enum class Kind { Literal, Predicate, Regex } kind_ = Kind::Literal;
  std::string literal_;
  std::function<bool(char32_t)> predicate_;
  std::shared_ptr<const Regex> regex_;
};

}  // namespace keel::tok
