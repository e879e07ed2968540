// A BertModel's weights, converted for compute at load: every tensor the
// forward pass reads, as f32 (whatever the checkpoint stores: f32, f16, bf16),
// and the linear layers packed for the GEMM kernel in the chosen Compute type.
// Q, K and V are fused into one matrix of n = 3 * hidden (rows Q, then K, then
// V), so one GEMM per layer computes all three. With Compute::I8, every linear
// layer is int8 except that fused QKV projection, which is bf16 (see the .cc).
//
// Loading checks the checkpoint against the BERT weight table (models/weight_table.h)
// and reports every missing tensor and wrong shape at once. The word-embedding
// table may stay in the mapped checkpoint (see EmbeddingTable); everything
// else is converted into memory keel owns.
#pragma once

#include <string>
#include <vector>

#include "core/huge_page_allocator.h"
#include "core/status.h"
#include "core/thread_pool.h"
#include "formats/hf_config.h"
#include "formats/safetensors.h"
#include "models/bert/kernels_api.h"

namespace keel::bert {

struct LayerNormWeights {
  std::vector<float> gamma, beta;  // [hidden]
};

struct LinearWeights {
  kernels::PackedMatrix w;  // HF nn.Linear layout W[out, in]
  std::vector<float> b;     // [out]
};

struct BertLayerWeights {
  LinearWeights qkv;           // [3 * hidden, hidden]: query, key, value rows
  LinearWeights attn_out;      // attention.output.dense [hidden, hidden]
  LayerNormWeights attn_norm;  // attention.output.LayerNorm
  LinearWeights ffn_in;        // intermediate.dense [intermediate, hidden]
  LinearWeights ffn_out;       // output.dense [hidden, intermediate]
  LayerNormWeights ffn_norm;   // output.LayerNorm
};

// A [rows, cols] embedding table, read one row per token: an f32 copy, or a
// view of the checkpoint's own bytes (f32, f16 or bf16; the mapping must
// outlive the table). The word table is tens of MB of which a request reads a
// few rows; copying it meant touching that much fresh memory at load, which
// was most of keel serve's cold start.
struct EmbeddingTable {
  HugeVector<float> owned;        // the f32 copy, or empty for a view
  const uint8_t* view = nullptr;  // the checkpoint's rows, `dtype` elements
  DType dtype = DType::F32;
  size_t cols = 0;

  // Row r (< the vocabulary size; BertModel checks ids) as f32: a pointer into the table where it is f32 and
  // aligned, else `scratch` (cols floats) filled from it.
  const float* row(size_t r, float* scratch) const;
};

struct BertWeights {
  EmbeddingTable word_embeddings;         // [vocab, hidden]
  HugeVector<float> position_embeddings;  // [max_positions, hidden]
  HugeVector<float> token_type_embeddings;  // [type_vocab, hidden]
  LayerNormWeights embed_norm;             // embeddings.LayerNorm
  std::vector<BertLayerWeights> layers;
  size_t packed_bytes = 0;  // what the packed linear weights take (for memory reports)
};

// `checkpoint` holds a BertModel's tensors, with or without the "bert." prefix
// (BertForXxx checkpoints carry it). Errors name the tensor. With
// `view_word_table`, the word embeddings stay in the checkpoint's mapping,
// which must then outlive the weights. Layers load in parallel on `pool` (null:
// the calling thread).
Result<BertWeights> load_bert_weights(const SafetensorsCheckpoint& checkpoint, const BertConfig& config,
                                      kernels::Compute compute, bool view_word_table = false,
                                      ThreadPool* pool = nullptr);

}  // namespace keel::bert
