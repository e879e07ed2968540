// BertModel's encoder (Devlin et al. 2019; transformers' BertModel, post-norm)
// over a packed batch: the sequences' tokens are laid end to end, with no
// padding, and attention stays inside each sequence, so a batch costs the sum
// of its lengths rather than batch x longest.
//
//   auto model = BertModel::load("model_dir", {.compute = kernels::Compute::BF16});
//   PackedBatch batch = ...;                       // ids, type ids, offsets
//   std::vector<float> hidden;                     // [tokens, hidden] out
//   Status s = model->forward(batch, hidden, pool, trace);
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"
#include "formats/hf_config.h"
#include "models/bert/bert_weights.h"

namespace keel::bert {

// Sequences packed end to end: sequence s is tokens [offsets[s], offsets[s + 1]).
struct PackedBatch {
  std::vector<uint32_t> ids;       // [tokens]
  std::vector<uint32_t> type_ids;  // [tokens]
  std::vector<uint32_t> offsets{0};  // [sequences + 1], offsets[0] = 0
  size_t num_tokens() const { return ids.size(); }
  // Appends one sequence's tokens.
  void add(std::span<const uint32_t> seq_ids, std::span<const uint32_t> seq_type_ids) {
    ids.insert(ids.end(), seq_ids.begin(), seq_ids.end());
    type_ids.insert(type_ids.end(), seq_type_ids.begin(), seq_type_ids.end());
    offsets.push_back(static_cast<uint32_t>(ids.size()));
  }
  size_t num_sequences() const { return offsets.empty() ? 0 : offsets.size() - 1; }
};

// Called with each named intermediate: x is [rows, cols] row-major. `layer` is
// the encoder layer, or -1 outside the layers. Names: "embeddings" (after the
// embedding LayerNorm); per layer "qkv", "context" (attention output before the
// projection), "attention" (after its add & LayerNorm), "intermediate" (after
// GELU), "output" (the layer's output).
using TraceFn = std::function<void(std::string_view name, int layer, const float* x, size_t rows,
                                   size_t cols)>;

struct BertLoadOptions {
  kernels::Compute compute = kernels::Compute::F32;
  ThreadPool* pool = nullptr;  // loads (packs) layers in parallel on it; null: one thread
};

class BertModel {
 public:
  // `dir` holds config.json and model.safetensors (or a sharded index). Errors
  // name the file and the tensor or field.
  static Result<BertModel> load(const std::string& dir, const BertLoadOptions& options = {});
  // Copies what it needs: `checkpoint` may be closed once this returns (load
  // keeps its file mapped instead, for the word-embedding table).
  static Result<BertModel> from_checkpoint(const SafetensorsCheckpoint& checkpoint,
                                           const BertConfig& config, const BertLoadOptions& options = {});

  const BertConfig& config() const { return config_; }
  size_t hidden_size() const { return static_cast<size_t>(config_.hidden_size); }
  kernels::Compute compute() const { return compute_; }
  size_t packed_weight_bytes() const { return weights_.packed_bytes; }

  // hidden: [tokens, hidden], the last layer's output for every token. Fails
  // (naming the sequence and token) on an id outside the vocabulary, a type id
  // outside type_vocab_size, a sequence longer than max_position_embeddings, an
  // empty sequence, or offsets that do not tile the ids.
  Status forward(const PackedBatch& batch, std::vector<float>& hidden, ThreadPool* pool = nullptr,
                 const TraceFn& trace = nullptr) const;

 private:
  static Result<BertModel> build(const SafetensorsCheckpoint& checkpoint, const BertConfig& config,
                                 const BertLoadOptions& options, bool view_word_table);
  Status check_batch(const PackedBatch& batch) const;

  BertConfig config_;
  kernels::Compute compute_ = kernels::Compute::F32;
  BertWeights weights_;
  std::shared_ptr<const SafetensorsCheckpoint> source_;  // the mapping weights_ may view
};

}  // namespace keel::bert
