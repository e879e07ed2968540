// A BertModel's weights, converted for compute at load: every tensor the
// forward pass reads, as f32 (whatever the checkpoint stores: f32, f16, bf16),
// and the linear layers packed for the GEMM kernel in the chosen Compute type.
// Q, K and V are fused into one matrix of n = 3 * hidden (rows Q, then K, then
// V), so one GEMM per layer computes all three. With Compute::I8, every linear
// layer is int8 except that fused QKV projection, which is bf16 (see the .cc).
//
// Loading checks the checkpoint against the BERT weight table (models/weight_table.h)
// and reports every missing tensor and wrong shape at once; the mapped file is
// released once everything is converted.
#pragma once

#include <string>
#include <vector>

#include "core/huge_page_allocator.h"
#include "core/status.h"
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

struct BertWeights {
  // Tens of MB for the word table: on huge pages, so loading faults in
  // 2 MiB pages rather than 4 KiB ones (it dominated cold start).
  HugeVector<float> word_embeddings;      // [vocab, hidden]
  HugeVector<float> position_embeddings;  // [max_positions, hidden]
  HugeVector<float> token_type_embeddings;  // [type_vocab, hidden]
  LayerNormWeights embed_norm;             // embeddings.LayerNorm
  std::vector<BertLayerWeights> layers;
  size_t packed_bytes = 0;  // what the packed linear weights take (for memory reports)
};

// `checkpoint` holds a BertModel's tensors, with or without the "bert." prefix
// (BertForXxx checkpoints carry it). Errors name the tensor.
Result<BertWeights> load_bert_weights(const SafetensorsCheckpoint& checkpoint,
                                      const BertConfig& config, kernels::Compute compute);

}  // namespace keel::bert
