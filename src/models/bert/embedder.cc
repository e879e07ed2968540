#include "models/bert/embedder.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace keel::bert {

Embedder::Embedder(BertModel model, tok::Tokenizer tokenizer, SentenceTransformersConfig st,
                   std::unique_ptr<ThreadPool> pool)
    : model_(std::move(model)), tokenizer_(std::move(tokenizer)), st_(std::move(st)), pool_(std::move(pool)) {}
Embedder::Embedder(Embedder&&) noexcept = default;
Embedder& Embedder::operator=(Embedder&&) noexcept = default;
Embedder::~Embedder() = default;

Result<Embedder> Embedder::open(const std::string& dir, const EmbedderOptions& options) {
  auto st = load_sentence_transformers_config(dir);
  if (!st.ok()) return st.status();
  auto pool = std::make_unique<ThreadPool>(options.threads);
  auto model = BertModel::load(st->transformer_dir, {.compute = options.compute, .pool = pool.get()});
  if (!model.ok()) return model.status();
  KEEL_RETURN_IF_ERROR(resolve_max_seq_length(*st, model->config()));
  auto tokenizer = tok::Tokenizer::from_file(st->transformer_dir);
  if (!tokenizer.ok()) return tokenizer.status();
  // sentence-transformers tokenizes with truncation at max_seq_length (special
  // tokens included) and pads to the batch's longest; keel packs instead.
  tokenizer->set_truncation(tok::TruncationParams{.max_length = st->max_seq_length});
  tokenizer->set_padding(std::nullopt);
#if defined(__GLIBC__)
  // Loading frees large temporaries (the f32 conversion of a checkpoint, the
  // tokenizer's JSON); give that heap back instead of holding it for the
  // process's lifetime (bert-base: ~36 MB of RSS).
  malloc_trim(0);
#endif
  return Embedder(std::move(model).value(), std::move(tokenizer).value(), std::move(st).value(),
                  std::move(pool));
}

Result<PackedBatch> Embedder::tokenize(std::span<const std::string_view> texts) const {
  auto encodings = tokenizer_.encode_batch(texts, /*add_special_tokens=*/true, pool_.get());
  if (!encodings.ok()) return encodings.status();
  PackedBatch batch;
  for (size_t i = 0; i < encodings->size(); ++i) {
    const tok::Encoding& e = (*encodings)[i];
    if (e.ids.empty()) return Error("input ", i, " has no tokens");
    batch.add(e.ids, e.type_ids);
  }
  return batch;
}

Result<std::vector<float>> Embedder::embed(std::span<const std::string_view> texts, const TraceFn& trace) {
  auto batch = tokenize(texts);
  if (!batch.ok()) return batch.status();
  return embed_batch(*batch, trace);
}

Result<std::vector<float>> Embedder::embed_batch(const PackedBatch& batch, const TraceFn& trace) {
  std::vector<float> hidden;  // [tokens, hidden]
  KEEL_RETURN_IF_ERROR(model_.forward(batch, hidden, pool_.get(), trace));
  std::vector<float> out(batch.num_sequences() * dim());  // [sequences, dim]
  pool_tokens(hidden.data(), model_.hidden_size(), batch.offsets, st_.pooling, out.data());
  if (trace) trace("pooled", -1, out.data(), batch.num_sequences(), dim());
  if (st_.normalize) l2_normalize(out.data(), batch.num_sequences(), dim());
  return out;
}

}  // namespace keel::bert
