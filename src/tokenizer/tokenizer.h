// keel's tokenizer: loads any HF tokenizer.json and encodes exactly as HF
// tokenizers does (same ids, tokens, offsets, masks; same decode output).
//
//   auto tok = keel::tok::Tokenizer::from_file("model_dir");   // or tokenizer.json
//   auto enc = tok->encode("Hello world");                     // Result<Encoding>
//
// Pipeline (HF TokenizerImpl::encode_single_sequence):
//   added tokens are split out of the raw text (non-normalized ones first, then
//   normalized ones after normalization) -> normalizer -> pre-tokenizer -> model
//   -> truncation -> post-processor (special tokens, type ids, pair merge) ->
//   padding. Offsets are code-point offsets into the input string, as HF's Python
//   and Node bindings report them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"
#include "tokenizer/encoding.h"

namespace keel {
class GgufFile;
}

namespace keel::tok {

class Normalizer;
class PreTokenizer;
class Model;
class PostProcessor;
class Decoder;
class AddedVocabulary;

enum class TruncationStrategy { LongestFirst, OnlyFirst, OnlySecond };

struct TruncationParams {
  size_t max_length = 512;
  size_t stride = 0;
  TruncationStrategy strategy = TruncationStrategy::LongestFirst;
  TruncationDirection direction = TruncationDirection::Right;
};

struct PaddingParams {
  std::optional<size_t> fixed_length;  // nullopt = pad to the batch's longest
  PaddingDirection direction = PaddingDirection::Right;
  std::optional<size_t> pad_to_multiple_of;
  uint32_t pad_id = 0;
  uint32_t pad_type_id = 0;
  std::string pad_token = "[PAD]";
};

struct AddedToken {
  std::string content;
  uint32_t id = 0;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = true;
  bool special = false;
};

class Tokenizer {
 public:
  // `path`: a tokenizer.json, or a directory holding one (tokenizer_config.json
  // beside it is read too), or a GGUF file (see from_gguf).
  static Result<Tokenizer> from_file(const std::string& path);
  static Result<Tokenizer> from_json(std::string_view json_text, std::string source = "tokenizer.json");
  // The tokenizer in a GGUF file's tokenizer.ggml.* metadata (llama.cpp's
  // "llama", "gpt2", "bert" and "gemma4" kinds; gguf_vocab.h lists the keys),
  // built as the HF pipeline of the original model (gguf_tokenizer.cc). Errors
  // name the key.
  static Result<Tokenizer> from_gguf(const std::string& path);
  static Result<Tokenizer> from_gguf(const GgufFile& file);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // Invalid UTF-8 input is an error naming the byte offset.
  Result<Encoding> encode(std::string_view text, bool add_special_tokens = true) const;
  Result<Encoding> encode_pair(std::string_view first, std::string_view second,
                               bool add_special_tokens = true) const;
  // Encodes on every thread of `pool` (default: the process pool) and pads the
  // batch as configured. One bad input fails the batch with its index named.
  Result<std::vector<Encoding>> encode_batch(std::span<const std::string_view> texts,
                                             bool add_special_tokens = true,
                                             ThreadPool* pool = nullptr) const;
  Result<std::string> decode(std::span<const uint32_t> ids, bool skip_special_tokens = true) const;

  // Truncation and padding come from tokenizer.json and can be overridden.
  const std::optional<TruncationParams>& truncation() const { return truncation_; }
  const std::optional<PaddingParams>& padding() const { return padding_; }
  void set_truncation(std::optional<TruncationParams> t) { truncation_ = std::move(t); }
  void set_padding(std::optional<PaddingParams> p) { padding_ = std::move(p); }

  std::optional<uint32_t> token_to_id(std::string_view token) const;
  std::optional<std::string> id_to_token(uint32_t id) const;
  size_t vocab_size(bool with_added_tokens = true) const;
  const std::vector<AddedToken>& added_tokens() const;
  // The tokenizer_config.json beside tokenizer.json, as text ("" if none).
  const std::string& tokenizer_config() const { return tokenizer_config_; }

 private:
  Tokenizer();
  // from_json for text followed by `readable_past_end` allocated bytes (the
  // fast parser reads a little past the end; with too few it copies the text).
  static Result<Tokenizer> from_json_text(std::string_view json_text, size_t readable_past_end,
                                          std::string source);
  // One input through added tokens, normalizer, pre-tokenizer and model, with
  // code-point offsets (HF encode_single_sequence with OffsetType::Char).
  Result<Encoding> encode_single(std::string_view text, uint32_t type_id) const;
  // Truncation, post-processor (or the plain pair merge), padding.
  Result<Encoding> post_process(Encoding encoding, std::optional<Encoding> pair,
                                bool add_special_tokens) const;
  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<PostProcessor> post_processor_;
  std::unique_ptr<Decoder> decoder_;
  std::unique_ptr<AddedVocabulary> added_vocabulary_;
  std::optional<TruncationParams> truncation_;
  std::optional<PaddingParams> padding_;
  std::string tokenizer_config_;
};

}  // namespace keel::tok
