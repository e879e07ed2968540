// One served embedding model: the Embedder plus what the server needs around
// it (tokenizing with and without truncation, limits, pooling without the
// normalization so that each request can choose).
//
//   auto m = EmbeddingModel::open("build/demo/all-MiniLM-L6-v2", "minilm", {.threads = 2});
//   auto seq = m->tokenize("hello", /*truncate=*/true);      // any thread
//   m->embed_pooled(batch, out);                              // the scheduler thread only
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "models/bert/embedder.h"
#include "tokenizer/encoding.h"
#include "tokenizer/tokenizer.h"

namespace keel::runtime {

// One input sequence as the model sees it (special tokens included).
struct Sequence {
  std::vector<uint32_t> ids;
  std::vector<uint32_t> type_ids;
};

class EmbeddingModel {
 public:
  // Errors name the file and field or tensor at fault.
  static Result<std::unique_ptr<EmbeddingModel>> open(const std::string& dir, std::string name,
                                                      const bert::EmbedderOptions& options);

  const std::string& name() const { return name_; }
  size_t dim() const { return embedder_.dim(); }
  size_t max_tokens() const { return embedder_.sentence_config().max_seq_length; }
  bool normalizes() const { return embedder_.sentence_config().normalize; }
  size_t vocab_size() const { return static_cast<size_t>(embedder_.model().config().vocab_size); }

  // Thread-safe (any thread). truncate: cut at max_tokens() as `keel embed`
  // does; otherwise a longer input is an error naming the limit.
  Result<Sequence> tokenize(std::string_view text, bool truncate) const;
  // Ids given by a client, fed as they are: each must be in the vocabulary and
  // there must be 1..max_tokens() of them.
  Result<Sequence> from_ids(std::span<const int64_t> ids) const;
  // The full encoding (tokens, offsets, special mask) for /tokenize.
  Result<tok::Encoding> encode(std::string_view text, bool add_special_tokens) const;
  Result<std::string> decode(std::span<const uint32_t> ids, bool skip_special_tokens) const;

  // The pooled embeddings of a packed batch, [sequences, dim] row-major, not
  // normalized. Runs the model on its thread pool: one caller at a time.
  Status embed_pooled(const bert::PackedBatch& batch, std::vector<float>& out);
  // L2-normalizes one row exactly as `keel embed` normalizes every row.
  static void normalize(float* row, size_t dim);

 private:
  EmbeddingModel(std::string name, bert::Embedder embedder, tok::Tokenizer untruncated, tok::Tokenizer truncated);

  std::string name_;
  bert::Embedder embedder_;
  tok::Tokenizer untruncated_;
  tok::Tokenizer truncated_;
  std::vector<float> hidden_;  // [tokens, hidden] scratch of embed_pooled
};

}  // namespace keel::runtime
