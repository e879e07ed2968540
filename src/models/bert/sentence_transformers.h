// The sentence-transformers files of a model directory, read into what the
// Embedder needs:
//   modules.json                 the pipeline: Transformer -> Pooling [-> Normalize]
//   <pooling path>/config.json   pooling_mode_cls_token, pooling_mode_mean_tokens, ...
//   sentence_bert_config.json    max_seq_length (in the Transformer module's folder)
// A plain Hugging Face directory without modules.json gets what
// sentence-transformers itself builds for one: mean pooling, no normalization
// (its "Creating a new one with mean pooling" path). Without a max_seq_length,
// inputs are truncated at min(max_position_embeddings, tokenizer_config.json's
// model_max_length), as sentence-transformers' Transformer module does.
// Modules keel cannot run (Dense, LayerNorm, ...) are an error naming them.
#pragma once

#include <cstddef>
#include <string>

#include "core/status.h"
#include "formats/hf_config.h"
#include "models/bert/pooling.h"

namespace keel::bert {

struct SentenceTransformersConfig {
  std::string transformer_dir;  // config.json + weights + tokenizer: dir or dir/<module path>
  PoolingModes pooling;
  bool normalize = false;
  size_t max_seq_length = 512;  // truncation, special tokens included
  bool has_modules_json = false;
};

// Reads modules.json and the Pooling config (defaults when modules.json is absent).
Result<SentenceTransformersConfig> load_sentence_transformers_config(const std::string& dir);
// Fills in max_seq_length once the model config is known (clamped to its
// max_position_embeddings).
Status resolve_max_seq_length(SentenceTransformersConfig& st, const BertConfig& config);

}  // namespace keel::bert
