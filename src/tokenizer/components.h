// The five stages of a tokenizer, as tokenizer.json describes them:
//   normalizer -> pre-tokenizer -> model -> post-processor, and the decoder.
// Each concrete component lives in its own file under the matching folder and is
// built from its JSON object by the factory in that folder (see *_factory below).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/status.h"
#include "tokenizer/encoding.h"
#include "tokenizer/normalized_string.h"
#include "tokenizer/pre_tokenized_string.h"
#include "tokenizer/token.h"

namespace keel::tok {

struct ModelBulk;

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual Status normalize(NormalizedString& s) const = 0;
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  virtual Status pre_tokenize(PreTokenizedString& s) const = 0;
};

class Model {
 public:
  virtual ~Model() = default;
  // Tokens of one pre-tokenized split; offsets are byte ranges in `sequence`.
  virtual Status tokenize(std::string_view sequence, std::vector<Token>& out) const = 0;
  virtual std::optional<uint32_t> token_to_id(std::string_view token) const = 0;
  virtual std::optional<std::string> id_to_token(uint32_t id) const = 0;
  virtual size_t vocab_size() const = 0;
};

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // How many special tokens process() adds (for truncation to leave room).
  virtual size_t added_tokens(bool is_pair) const = 0;
  // Adds special tokens / type ids and merges the pair (HF process_encodings +
  // merge). With add_special_tokens false only the merge is done.
  virtual Result<Encoding> process(Encoding encoding, std::optional<Encoding> pair,
                                   bool add_special_tokens) const = 0;
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  // HF decode_chain: tokens in, pieces out (joined by the caller).
  virtual Status decode_chain(std::vector<std::string>& tokens) const = 0;
};

// Factories: build a component from its tokenizer.json object. `path` names the
// JSON location in errors ("normalizer.normalizers[1]"). Unknown "type" -> error
// naming it. Old serializations without "type" (e.g. gpt2's and t5's "model") are
// recognised by their keys.
Result<std::unique_ptr<Normalizer>> make_normalizer(const nlohmann::json& j, const std::string& path);
Result<std::unique_ptr<PreTokenizer>> make_pre_tokenizer(const nlohmann::json& j, const std::string& path);
// `bulk`: the model's vocab / merges read ahead by the loader (model_bulk.h);
// the fields it holds stand in for those of `j`.
Result<std::unique_ptr<Model>> make_model(const nlohmann::json& j, const std::string& path,
                                          const ModelBulk* bulk = nullptr);
Result<std::unique_ptr<PostProcessor>> make_post_processor(const nlohmann::json& j, const std::string& path);
Result<std::unique_ptr<Decoder>> make_decoder(const nlohmann::json& j, const std::string& path);

}  // namespace keel::tok
