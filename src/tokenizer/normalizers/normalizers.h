// Every normalizer HF tokenizers defines (tokenizers/src/normalizers/*.rs),
// each an operation on NormalizedString that keeps the alignments exactly as
// HF does. Built from tokenizer.json by make_normalizer (factory.cc); the
// classes are public so tests and fast paths can build them directly.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tokenizer/components.h"
#include "tokenizer/normalizers/precompiled_charsmap.h"
#include "tokenizer/pattern.h"

namespace keel::tok {

// BERT's BasicTokenizer cleanup, in HF's order: clean_text (drop controls,
// whitespace -> ' '), handle_chinese_chars (' ' around CJK ideographs),
// strip_accents (NFD then drop non-spacing marks; unset = follow lowercase),
// lowercase.
struct BertNormalizerOptions {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  std::optional<bool> strip_accents;
  bool lowercase = true;
};

class BertNormalizer final : public Normalizer {
 public:
  explicit BertNormalizer(BertNormalizerOptions o);
  Status normalize(NormalizedString& s) const override;

 private:
  // One transform for pure-ASCII input, where only clean_text can move
  // alignments and every other step is a byte-for-byte rewrite.
  bool normalize_ascii(NormalizedString& s) const;
  // Every step fused into one transform; false when that would not be exact.
  bool normalize_fused(NormalizedString& s) const;
  void normalize_steps(NormalizedString& s) const;
  BertNormalizerOptions o_;
  bool strip_accents_;
};

enum class UnicodeForm { NFC, NFD, NFKC, NFKD };

class UnicodeNormalizer final : public Normalizer {
 public:
  explicit UnicodeNormalizer(UnicodeForm form) : form_(form) {}
  Status normalize(NormalizedString& s) const override;

 private:
  UnicodeForm form_;
};

class LowercaseNormalizer final : public Normalizer {
 public:
  Status normalize(NormalizedString& s) const override;
};

// Removes leading / trailing whitespace (Rust char::is_whitespace).
class StripNormalizer final : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  Status normalize(NormalizedString& s) const override;

 private:
  bool left_, right_;
};

// Removes combining marks (no NFD of its own: HF pairs it with NFD / NFKD).
class StripAccentsNormalizer final : public Normalizer {
 public:
  Status normalize(NormalizedString& s) const override;
};

// Replaces every match of a literal or a regex by `content`, verbatim (HF
// 0.23 expands no "$1" group references in normalizers).
class ReplaceNormalizer final : public Normalizer {
 public:
  static Result<std::unique_ptr<ReplaceNormalizer>> create(std::string pattern, bool is_regex,
                                                           std::string content);
  Status normalize(NormalizedString& s) const override;

 private:
  ReplaceNormalizer(Pattern pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  Pattern pattern_;
  std::string content_;
};

// Prepends a string to non-empty input (an insertion: zero-width alignment).
class PrependNormalizer final : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prepend) : prepend_(std::move(prepend)) {}
  Status normalize(NormalizedString& s) const override;

 private:
  std::string prepend_;
};

// SentencePiece's NMT cleanup: drops ASCII controls, maps odd spaces to ' '.
class NmtNormalizer final : public Normalizer {
 public:
  Status normalize(NormalizedString& s) const override;
};

// Every byte of the text -> its GPT-2 byte-level character.
class ByteLevelNormalizer final : public Normalizer {
 public:
  Status normalize(NormalizedString& s) const override;
};

// SentencePiece's precompiled normalization rules (T5, XLM-R, mBART ...),
// applied per grapheme as HF's precompiled.rs does.
class PrecompiledNormalizer final : public Normalizer {
 public:
  explicit PrecompiledNormalizer(PrecompiledCharsmap charsmap) : map_(std::move(charsmap)) {}
  Status normalize(NormalizedString& s) const override;

 private:
  PrecompiledCharsmap map_;
};

class SequenceNormalizer final : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> steps)
      : steps_(std::move(steps)) {}
  Status normalize(NormalizedString& s) const override;

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

}  // namespace keel::tok
