#include "tokenizer/pre_tokenizers/bpe_regex_scanner.h"

#include "tokenizer/pre_tokenizers/unicode_tables.h"
#include "tokenizer/unicode_util.h"

namespace keel::tok {

const char* const kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
const char* const kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

std::optional<BpeRegex> find_bpe_regex(std::string_view pattern) {
  if (pattern == kGpt2Regex) return BpeRegex::kGpt2;
  if (pattern == kLlama3Regex) return BpeRegex::kLlama3;
  if (pattern == kQwen2Regex) return BpeRegex::kQwen2;
  return std::nullopt;
}

namespace {

// What the patterns distinguish: \p{L}, \p{N}, \s, and everything else.
enum Kind : uint8_t { kL, kN, kS, kO };

Kind kind_of(const UnicodeTables& tables, char32_t c) {
  uint8_t b = tables.classes(c);
  return (b & kLetter) ? kL : (b & kNumber) ? kN : (b & kSpace) ? kS : kO;
}

struct AsciiKinds {
  Kind k[128];
  AsciiKinds() {
    for (char32_t c = 0; c < 128; ++c) k[c] = kind_of(UnicodeTables::get(), c);
  }
};

struct Scanner {
  std::string_view s;
  const UnicodeTables& tables;
  const Kind* ascii;

  explicit Scanner(std::string_view text) : s(text), tables(UnicodeTables::get()) {
    static const AsciiKinds kinds;
    ascii = kinds.k;
  }

  Kind slow_kind(char32_t c) const { return kind_of(tables, c); }

  // The char at byte i: its kind, code point and byte length.
  Kind at(size_t i, char32_t& c, size_t& len) const {
    auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      c = b;
      len = 1;
      return ascii[b];
    }
    size_t j = i;
    c = decode_utf8(s, j);
    len = j - i;
    return slow_kind(c);
  }
  Kind kind_at(size_t i, size_t& len) const {
    char32_t c;
    return at(i, c, len);
  }

  // End of the run of chars of kind k starting at byte i.
  size_t run(size_t i, Kind k) const {
    const size_t n = s.size();
    while (i < n) {
      auto b = static_cast<unsigned char>(s[i]);
      if (b < 0x80) {
        if (ascii[b] != k) break;
        ++i;
        continue;
      }
      size_t len;
      if (kind_at(i, len) != k) break;
      i += len;
    }
    return i;
  }

  // The whitespace run starting at i (a \s char): `\s+(?!\S)` takes the run
  // minus its last char when the run is followed by a non-space (backtracking
  // one char makes the lookahead see a space), or all of it at the end of the
  // text; if that leaves nothing (one-char run), `\s+` takes the run.
  // With `newline_alt`, `\s*[\r\n]+` comes first: it ends just after the run's
  // last \r or \n (\s* backtracks until [\r\n]+ can match; nothing after that
  // newline in the run is \r or \n, so [\r\n]+ stops there).
  size_t whitespace(size_t i, bool newline_alt) const {
    const size_t n = s.size();
    size_t j = i, last = i, after_newline = 0;
    while (j < n) {
      size_t len;
      auto b = static_cast<unsigned char>(s[j]);
      if (b < 0x80 ? ascii[b] != kS : kind_at(j, len) != kS) break;
      if (b < 0x80) len = 1;
      if (b == '\r' || b == '\n') after_newline = j + 1;
      last = j;
      j += len;
    }
    if (newline_alt && after_newline) return after_newline;
    if (j == n) return n;
    return last > i ? last : j;
  }

  // GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  size_t gpt2(size_t i) const {
    const size_t n = s.size();
    if (s[i] == '\'' && i + 1 < n) {
      char d = s[i + 1];
      if (d == 's' || d == 't' || d == 'm' || d == 'd') return i + 2;
      if (i + 2 < n) {
        char e = s[i + 2];
        if ((d == 'r' && e == 'e') || (d == 'v' && e == 'e') || (d == 'l' && e == 'l')) return i + 3;
      }
    }
    size_t len;
    Kind k = kind_at(i, len);
    if (s[i] == ' ' && i + 1 < n) {
      // ` ?X+` with the space taken, for X the class of the next char.
      size_t len2;
      Kind k2 = kind_at(i + 1, len2);
      if (k2 != kS) return run(i + 1 + len2, k2);
    }
    if (k != kS) return run(i + len, k);
    return whitespace(i, false);
  }

  // (?i:...) folds s to {s, S, U+017F LONG S}; the other letters only to ASCII case.
  static char32_t fold(char32_t c) {
    if (c >= 'A' && c <= 'Z') return c + 32;
    if (c == 0x17F) return 's';
    return c;
  }

  // Llama-3 (max_digits 3) and Qwen2 (max_digits 1).
  size_t llama3(size_t i, int max_digits) const {
    const size_t n = s.size();
    char32_t c;
    size_t len;
    // (?i:'s|'t|'re|'ve|'m|'ll|'d)
    if (s[i] == '\'' && i + 1 < n) {
      char32_t d;
      size_t l1;
      at(i + 1, d, l1);
      d = fold(d);
      if (d == 's' || d == 't' || d == 'm' || d == 'd') return i + 1 + l1;
      if ((d == 'r' || d == 'v' || d == 'l') && i + 1 + l1 < n) {
        char32_t e;
        size_t l2;
        at(i + 1 + l1, e, l2);
        e = fold(e);
        if ((d != 'l' && e == 'e') || (d == 'l' && e == 'l')) return i + 1 + l1 + l2;
      }
    }
    Kind k = at(i, c, len);
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (k == kL) return run(i + len, kL);
    if (k != kN && c != '\r' && c != '\n' && i + len < n) {
      size_t len2;
      if (kind_at(i + len, len2) == kL) return run(i + len + len2, kL);
    }
    // \p{N}{1,3} or \p{N}
    if (k == kN) {
      size_t j = i + len;
      for (int count = 1; count < max_digits && j < n; ++count) {
        size_t l;
        if (kind_at(j, l) != kN) break;
        j += l;
      }
      return j;
    }
    //  ?[^\s\p{L}\p{N}]+[\r\n]*
    size_t p = i, plen = len;
    Kind pk = k;
    if (c == ' ' && i + 1 < n) {
      size_t l;
      if (kind_at(i + 1, l) == kO) {
        p = i + 1;
        plen = l;
        pk = kO;
      }
    }
    if (pk == kO) {
      size_t j = run(p + plen, kO);
      while (j < n && (s[j] == '\r' || s[j] == '\n')) ++j;
      return j;
    }
    // \s*[\r\n]+ | \s+(?!\S) | \s+
    return whitespace(i, true);
  }
};

}  // namespace

void scan_bpe_regex(BpeRegex which, std::string_view text, std::vector<Range>& out) {
  Scanner sc(text);
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    size_t e;
    switch (which) {
      case BpeRegex::kGpt2: e = sc.gpt2(i); break;
      case BpeRegex::kLlama3: e = sc.llama3(i, 3); break;
      case BpeRegex::kQwen2: e = sc.llama3(i, 1); break;
      default: e = n;
    }
    if (e <= i) e = n;  // cannot happen (every alternative consumes a char); never loop
    out.emplace_back(i, e);
    i = e;
  }
}

}  // namespace keel::tok
