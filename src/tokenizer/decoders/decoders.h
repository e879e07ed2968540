// HF tokenizers' decoders: each turns the list of token strings into a list of
// pieces (decode_chain); the caller concatenates the last list. A Sequence
// feeds each decoder's output to the next. Built by make_decoder (factory.cc).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/components.h"
#include "tokenizer/pattern.h"

namespace keel::tok {

// Rust's str::replace: every non-overlapping occurrence of `from`, left to right;
// an empty `from` inserts `to` before every char and at the end.
std::string rust_replace(std::string_view s, std::string_view from, std::string_view to);
// The WordPiece / CTC cleanup: " ." -> "." and the like, in HF's order.
std::string wordpiece_cleanup(std::string_view s);
// Rust's String::from_utf8_lossy: each maximal invalid subsequence -> U+FFFD.
std::string utf8_lossy(std::string_view bytes);

// Byte-level tokens -> bytes (a token with a char outside the alphabet keeps its
// own bytes), all joined and decoded lossily into one piece.
class ByteLevelDecoder final : public Decoder {
 public:
  Status decode_chain(std::vector<std::string>& tokens) const override;
};

// Runs of <0xAB> tokens -> the string they spell, or one U+FFFD per byte if
// the run is not valid UTF-8.
class ByteFallbackDecoder final : public Decoder {
 public:
  Status decode_chain(std::vector<std::string>& tokens) const override;
};

// Tokens after the first lose the prefix, or get a leading space if they lack it.
class WordPieceDecoder final : public Decoder {
 public:
  WordPieceDecoder(std::string prefix, bool cleanup) : prefix_(std::move(prefix)), cleanup_(cleanup) {}
  Status decode_chain(std::vector<std::string>& tokens) const override;

 private:
  std::string prefix_;
  bool cleanup_;
};

enum class PrependScheme { Always, First, Never };

// The replacement char becomes a space, except in the first token when a
// prefix space was prepended (scheme always/first), where it is dropped.
class MetaspaceDecoder final : public Decoder {
 public:
  MetaspaceDecoder(char32_t replacement, PrependScheme scheme) : replacement_(replacement), scheme_(scheme) {}
  Status decode_chain(std::vector<std::string>& tokens) const override;

 private:
  char32_t replacement_;
  PrependScheme scheme_;
};

// The end-of-word suffix becomes a space ("" on the last token).
class BpeDecoder final : public Decoder {
 public:
  explicit BpeDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
  Status decode_chain(std::vector<std::string>& tokens) const override;

 private:
  std::string suffix_;
};

// All tokens into one piece.
class FuseDecoder final : public Decoder {
 public:
  Status decode_chain(std::vector<std::string>& tokens) const override;
};

// Removes up to `start` leading and `stop` trailing `content` chars per token.
class StripDecoder final : public Decoder {
 public:
  StripDecoder(char32_t content, size_t start, size_t stop) : content_(content), start_(start), stop_(stop) {}
  Status decode_chain(std::vector<std::string>& tokens) const override;

 private:
  char32_t content_;
  size_t start_, stop_;
};

// Replaces every match of a string or regex in each token (HF compiles the
// string form as an escaped regex; same matches).
class ReplaceDecoder final : public Decoder {
 public:
  // `literal`: the String form (nullptr regex); otherwise `regex` is used.
  ReplaceDecoder(std::string literal, std::shared_ptr<const Regex> regex, std::string content)
      : literal_(std::move(literal)), regex_(std::move(regex)), content_(std::move(content)) {}
  Status decode_chain(std::vector<std::string>& tokens) const override;

 private:
  std::string literal_;
  std::shared_ptr<const Regex> regex_;
  std::string content_;
};

// Connectionist Temporal Classification output: repeated tokens collapse, pad
// tokens vanish, the word delimiter becomes a space (with cleanup).
class CtcDecoder final : public Decoder {
 public:
  CtcDecoder(std::string pad_token, std::string word_delimiter_token, bool cleanup)
      : pad_(std::move(pad_token)), delimiter_(std::move(word_delimiter_token)), cleanup_(cleanup) {}
  Status decode_chain(std::vector<std::string>& tokens) const override;

 private:
  std::string pad_, delimiter_;
  bool cleanup_;
};

class SequenceDecoder final : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> decoders) : decoders_(std::move(decoders)) {}
  Status decode_chain(std::vector<std::string>& tokens) const override;

 private:
  std::vector<std::unique_ptr<Decoder>> decoders_;
};

}  // namespace keel::tok
