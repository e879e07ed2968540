// Hand-written matchers for the pre-tokenization regexes of the big byte-level
// BPE families, equal match-for-match to running the regex in Oniguruma (as HF
// tokenizers does) and several times faster than PCRE2-JIT:
//   GPT-2   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//           (ByteLevel's built-in regex; also GPT-J, RoBERTa, BART, ...)
//   Llama-3 (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//           ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//   Qwen2   the same with \p{N} instead of \p{N}{1,3} (Qwen2/2.5/3)
// Every alternative of these patterns matches at least one char wherever the
// previous match ended, so the matches tile the text and each one is found by
// walking the alternatives in order at that position, with the backtracking of
// \s+(?!\S) and \s*[\r\n]+ worked out in closed form (see the .cc).
// Character classes come from UnicodeTables (HF's exact Unicode version).
// tests/tokenizer/bpe_regex_scanner_test.cc checks them against PCRE2 on random text.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "tokenizer/normalized_string.h"

namespace keel::tok {

enum class BpeRegex { kGpt2, kLlama3, kQwen2 };

extern const char* const kGpt2Regex;
extern const char* const kLlama3Regex;
extern const char* const kQwen2Regex;

// The scanner for `pattern` when it is exactly one of the patterns above.
std::optional<BpeRegex> find_bpe_regex(std::string_view pattern);

// Appends the byte range of every match in `text` (valid UTF-8) to out; the
// ranges are contiguous and cover the whole text.
void scan_bpe_regex(BpeRegex which, std::string_view text, std::vector<Range>& out);

}  // namespace keel::tok
