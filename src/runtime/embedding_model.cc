#include "runtime/embedding_model.h"

#include "models/bert/pooling.h"

namespace keel::runtime {

EmbeddingModel::EmbeddingModel(std::string name, bert::Embedder embedder, tok::Tokenizer untruncated,
                               tok::Tokenizer truncated)
    : name_(std::move(name)),
      embedder_(std::move(embedder)),
      untruncated_(std::move(untruncated)),
      truncated_(std::move(truncated)) {}

Result<std::unique_ptr<EmbeddingModel>> EmbeddingModel::open(const std::string& dir, std::string name,
                                                             const bert::EmbedderOptions& options) {
  auto embedder = bert::Embedder::open(dir, options);
  if (!embedder.ok()) return embedder.status();
  // Two copies of the tokenizer: Embedder's own (truncating at max_seq_length, as
  // `keel embed` does) is not reachable from here, and requests that turn
  // truncation off need one that does not truncate.
  const std::string& tdir = embedder->sentence_config().transformer_dir;
  auto untruncated = tok::Tokenizer::from_file(tdir);
  if (!untruncated.ok()) return untruncated.status();
  auto truncated = tok::Tokenizer::from_file(tdir);
  if (!truncated.ok()) return truncated.status();
  untruncated->set_truncation(std::nullopt);
  untruncated->set_padding(std::nullopt);
  truncated->set_truncation(tok::TruncationParams{.max_length = embedder->sentence_config().max_seq_length});
  truncated->set_padding(std::nullopt);
  return std::unique_ptr<EmbeddingModel>(new EmbeddingModel(std::move(name), std::move(embedder).value(),
                                                            std::move(untruncated).value(),
                                                            std::move(truncated).value()));
}

Result<Sequence> EmbeddingModel::tokenize(std::string_view text, bool truncate) const {
  auto e = (truncate ? truncated_ : untruncated_).encode(text, /*add_special_tokens=*/true);
  if (!e.ok()) return e.status();
  if (e->ids.empty()) return Error("the input has no tokens");
  if (e->ids.size() > max_tokens())
    return Error("the input has ", e->ids.size(), " tokens, more than this model's limit of ", max_tokens(),
                 " tokens (special tokens included)");
  return Sequence{std::move(e->ids), std::move(e->type_ids)};
}

Result<Sequence> EmbeddingModel::from_ids(std::span<const int64_t> ids) const {
  if (ids.empty()) return Error("the token id array is empty");
  if (ids.size() > max_tokens())
    return Error("the input has ", ids.size(), " tokens, more than this model's limit of ", max_tokens(), " tokens");
  Sequence s;
  s.ids.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || static_cast<uint64_t>(ids[i]) >= vocab_size())
      return Error("token id ", ids[i], " at position ", i, " is outside the vocabulary (0..", vocab_size() - 1, ")");
    s.ids.push_back(static_cast<uint32_t>(ids[i]));
  }
  s.type_ids.assign(s.ids.size(), 0);
  return s;
}

Result<tok::Encoding> EmbeddingModel::encode(std::string_view text, bool add_special_tokens) const {
  return untruncated_.encode(text, add_special_tokens);
}

Result<std::string> EmbeddingModel::decode(std::span<const uint32_t> ids, bool skip_special_tokens) const {
  return untruncated_.decode(ids, skip_special_tokens);
}

Status EmbeddingModel::embed_pooled(const bert::PackedBatch& batch, std::vector<float>& out) {
  // The same steps as Embedder::embed_batch, stopping before normalization.
  KEEL_RETURN_IF_ERROR(embedder_.model().forward(batch, hidden_, &embedder_.pool()));
  out.assign(batch.num_sequences() * dim(), 0.0f);
  bert::pool_tokens(hidden_.data(), embedder_.model().hidden_size(), batch.offsets,
                    embedder_.sentence_config().pooling, out.data());
  return Status::Ok();
}

void EmbeddingModel::normalize(float* row, size_t dim) { bert::l2_normalize(row, 1, dim); }

}  // namespace keel::runtime
