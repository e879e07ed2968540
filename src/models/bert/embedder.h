// Sentence embeddings from a Hugging Face / sentence-transformers directory:
// tokenize (keel's tokenizer, truncated at max_seq_length) -> BertModel over the
// packed batch -> pooling -> optional L2 normalization, as
// SentenceTransformer.encode does.
//
//   auto e = Embedder::open("all-MiniLM-L6-v2", {.compute = kernels::Compute::BF16, .threads = 2});
//   std::vector<std::string_view> texts = {"hello", "world"};
//   auto v = e->embed(texts);          // Result<std::vector<float>>, [2, e->dim()]
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"
#include "models/bert/bert_model.h"
#include "models/bert/sentence_transformers.h"
#include "tokenizer/tokenizer.h"

namespace keel::bert {

struct EmbedderOptions {
  kernels::Compute compute = kernels::Compute::F32;
  int threads = 0;  // <= 0: one per hardware thread (or KEEL_THREADS)
};

class Embedder {
 public:
  // Errors name the file and field or tensor at fault.
  static Result<Embedder> open(const std::string& dir, const EmbedderOptions& options = {});

  Embedder(Embedder&&) noexcept;
  Embedder& operator=(Embedder&&) noexcept;
  ~Embedder();

  size_t dim() const { return model_.hidden_size() * static_cast<size_t>(st_.pooling.count()); }
  const SentenceTransformersConfig& sentence_config() const { return st_; }
  const BertModel& model() const { return model_; }
  ThreadPool& pool() { return *pool_; }
  // Replaces the thread pool (threads <= 0: one per hardware thread). Not while
  // another call runs on this Embedder.
  void set_threads(int threads) { pool_ = std::make_unique<ThreadPool>(threads); }

  // The token ids keel feeds the model, packed (truncated, special tokens added).
  // An input that cannot be tokenized fails the call, naming its index.
  Result<PackedBatch> tokenize(std::span<const std::string_view> texts) const;
  // One embedding per text: [texts.size(), dim()] row-major. All texts run in one
  // forward pass; callers bound the batch size.
  Result<std::vector<float>> embed(std::span<const std::string_view> texts, const TraceFn& trace = nullptr);
  // The same from already packed ids.
  Result<std::vector<float>> embed_batch(const PackedBatch& batch, const TraceFn& trace = nullptr);

 private:
  Embedder(BertModel model, tok::Tokenizer tokenizer, SentenceTransformersConfig st,
           std::unique_ptr<ThreadPool> pool);

  BertModel model_;
  tok::Tokenizer tokenizer_;
  SentenceTransformersConfig st_;
  std::unique_ptr<ThreadPool> pool_;
};

}  // namespace keel::bert
