// Every pre-tokenizer HF tokenizers defines (tokenizers/src/pre_tokenizers/*.rs),
// with the same splits and offsets. Each is built from its tokenizer.json object
// by make_pre_tokenizer() (factory.cc); the options are the JSON fields.
// Character classes are HF's exactly (unicode_tables.h).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tokenizer/components.h"
#include "tokenizer/pre_tokenizers/bpe_regex_scanner.h"

namespace keel::tok {

// Splits on whitespace (removed) and isolates each punctuation char.
class BertPreTokenizer final : public PreTokenizer {
 public:
  Status pre_tokenize(PreTokenizedString& s) const override;
};

// GPT-2's byte-level pre-tokenizer: optionally prepends a space to each split
// that does not start with one, cuts with the GPT-2 regex (use_regex), then maps
// every byte to its byte-level char. trim_offsets is only used by the
// post-processor / decoder of the same name; kept here for completeness.
class ByteLevelPreTokenizer final : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool trim_offsets, bool use_regex)
      : add_prefix_space_(add_prefix_space), trim_offsets_(trim_offsets), use_regex_(use_regex) {}
  Status pre_tokenize(PreTokenizedString& s) const override;
  bool add_prefix_space() const { return add_prefix_space_; }
  bool trim_offsets() const { return trim_offsets_; }
  bool use_regex() const { return use_regex_; }

 private:
  bool add_prefix_space_, trim_offsets_, use_regex_;
};

// Whitespace: the words of the regex \w+|[^\w\s]+ (Rust regex classes).
class WhitespacePreTokenizer final : public PreTokenizer {
 public:
  Status pre_tokenize(PreTokenizedString& s) const override;
};

// WhitespaceSplit: splits on whitespace, removing it.
class WhitespaceSplitPreTokenizer final : public PreTokenizer {
 public:
  Status pre_tokenize(PreTokenizedString& s) const override;
};

// Split: on a literal string or a regex, with a delimiter behavior; `invert`
// splits on what does not match instead.
class SplitPreTokenizer final : public PreTokenizer {
 public:
  // Compiles the pattern; an invalid regex is an error.
  static Result<std::unique_ptr<SplitPreTokenizer>> create(std::string pattern, bool is_regex,
                                                           SplitBehavior behavior, bool invert);
  Status pre_tokenize(PreTokenizedString& s) const override;

 private:
  SplitPreTokenizer(SplitBehavior behavior, bool invert) : behavior_(behavior), invert_(invert) {}
  std::optional<Pattern> pattern_;
  std::optional<BpeRegex> scanner_;  // a known regex, matched by hand (bpe_regex_scanner.h)
  SplitBehavior behavior_;
  bool invert_;
};

// Metaspace: ' ' -> replacement, the replacement prepended per the scheme
// (always; first = only on the split that starts the input; never), then
// optionally split before each replacement char.
enum class PrependScheme { Always, Never, First };
class MetaspacePreTokenizer final : public PreTokenizer {
 public:
  MetaspacePreTokenizer(char32_t replacement, PrependScheme scheme, bool split);
  Status pre_tokenize(PreTokenizedString& s) const override;

 private:
  char32_t replacement_;
  std::string replacement_utf8_;
  PrependScheme scheme_;
  bool split_;
};

// Punctuation: splits on each punctuation char with the given behavior.
class PunctuationPreTokenizer final : public PreTokenizer {
 public:
  explicit PunctuationPreTokenizer(SplitBehavior behavior) : behavior_(behavior) {}
  Status pre_tokenize(PreTokenizedString& s) const override;

 private:
  SplitBehavior behavior_;
};

// Digits: isolates numeric chars, one by one or in runs.
class DigitsPreTokenizer final : public PreTokenizer {
 public:
  explicit DigitsPreTokenizer(bool individual_digits) : individual_digits_(individual_digits) {}
  Status pre_tokenize(PreTokenizedString& s) const override;

 private:
  bool individual_digits_;
};

// UnicodeScripts: splits where the script changes (SentencePiece's rule:
// Hiragana, Katakana and U+30FC count as Han, ' ' belongs to every script).
class UnicodeScriptsPreTokenizer final : public PreTokenizer {
 public:
  Status pre_tokenize(PreTokenizedString& s) const override;
};

// CharDelimiterSplit: splits on one char, removing it.
class CharDelimiterSplitPreTokenizer final : public PreTokenizer {
 public:
  explicit CharDelimiterSplitPreTokenizer(char32_t delimiter) : delimiter_(delimiter) {}
  Status pre_tokenize(PreTokenizedString& s) const override;

 private:
  char32_t delimiter_;
};

// Sequence: each pre-tokenizer in turn.
class SequencePreTokenizer final : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> items)
      : items_(std::move(items)) {}
  Status pre_tokenize(PreTokenizedString& s) const override;

 private:
  std::vector<std::unique_ptr<PreTokenizer>> items_;
};

}  // namespace keel::tok
