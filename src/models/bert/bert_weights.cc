#include "models/bert/bert_weights.h"

#include <cstring>

#include "kernels/quantize.h"
#include "models/weight_check.h"
#include "models/weight_table.h"

namespace keel::bert {
namespace {

// Reads tensors by their weight-table name, widened to f32.
class TensorReader {
 public:
  TensorReader(const SafetensorsCheckpoint& ckpt, std::string prefix)
      : ckpt_(ckpt), prefix_(std::move(prefix)) {}

  const SafetensorsCheckpoint::Entry* find(std::string_view name) const {
    return ckpt_.find(prefix_ + std::string(name));
  }

  // Appends the tensor's values to `out` (a float vector) as f32.
  template <typename Vec>
  Status append_f32(const std::string& name, Vec& out) const {
    const auto* e = find(name);
    if (!e) return Error("missing tensor '", prefix_, name, "'");  // the table check ran first
    const ConstTensorView v = ckpt_.view(*e);
    if (v.dtype != DType::F32 && v.dtype != DType::F16 && v.dtype != DType::BF16)
      return Error("tensor '", prefix_, name, "' is ", dtype_name(v.dtype),
                   "; BERT weights must be f32, f16 or bf16");
    const size_t at = out.size();
    out.resize(at + static_cast<size_t>(v.numel()));
    return dequantize_row(v.dtype, v.data, out.data() + at, v.numel())
        .with_context(str_cat("tensor '", prefix_, name, "'"));
  }

  Result<HugeVector<float>> f32(const std::string& name) const {
    HugeVector<float> out;
    KEEL_RETURN_IF_ERROR(append_f32(name, out));
    return out;
  }

 private:
  const SafetensorsCheckpoint& ckpt_;
  std::string prefix_;
};

Result<LayerNormWeights> load_layer_norm(const TensorReader& r, const std::string& prefix) {
  LayerNormWeights ln;
  KEEL_RETURN_IF_ERROR(r.append_f32(prefix + ".weight", ln.gamma));
  KEEL_RETURN_IF_ERROR(r.append_f32(prefix + ".bias", ln.beta));
  return ln;
}

// One nn.Linear, or several stacked along the output dimension (fused QKV).
// `w` is scratch for the f32 matrix before packing, reused across calls (fresh
// memory is expensive to touch here: every page is a fault).
Result<LinearWeights> load_linear(const TensorReader& r, const std::vector<std::string>& prefixes,
                                  size_t in, kernels::Compute compute, size_t* packed_bytes, HugeVector<float>& w) {
  w.clear();
  LinearWeights out;
  for (const auto& p : prefixes) {
    KEEL_RETURN_IF_ERROR(r.append_f32(p + ".weight", w));
    KEEL_RETURN_IF_ERROR(r.append_f32(p + ".bias", out.b));
  }
  const size_t n = w.size() / in;
  auto packed = kernels::PackedMatrix::pack(w.data(), n, in, compute);
  if (!packed.ok()) return packed.status().with_context(str_cat("packing '", prefixes.front(), ".weight'"));
  out.w = std::move(packed).value();
  *packed_bytes += out.w.bytes();
  return out;
}

// Encoder layer i: its four linears packed, its two LayerNorms.
Result<BertLayerWeights> load_layer(const TensorReader& r, int64_t i, size_t h, size_t inter,
                                    kernels::Compute compute, size_t* packed_bytes, HugeVector<float>& scratch) {
  const std::string p = str_cat("encoder.layer.", i, ".");
  BertLayerWeights layer;
  // int8: the query/key/value projection stays bf16. Errors in q and k are
  // multiplied together in the scores and sharpened by the softmax; it is the
  // one projection int8 hurts. On the 12-layer bert-base model of
  // test_bert_parity.py (200 inputs), min cosine to f32 is 0.99940 with it in
  // bf16 and the rest int8; 0.99878 with all four linears int8.
  const kernels::Compute qkv_compute =
      compute == kernels::Compute::I8 ? kernels::Compute::BF16 : compute;
  auto qkv = load_linear(r, {p + "attention.self.query", p + "attention.self.key", p + "attention.self.value"},
                         h, qkv_compute, packed_bytes, scratch);
  if (!qkv.ok()) return qkv.status();
  layer.qkv = std::move(qkv).value();
  auto attn_out = load_linear(r, {p + "attention.output.dense"}, h, compute, packed_bytes, scratch);
  if (!attn_out.ok()) return attn_out.status();
  layer.attn_out = std::move(attn_out).value();
  auto attn_norm = load_layer_norm(r, p + "attention.output.LayerNorm");
  if (!attn_norm.ok()) return attn_norm.status();
  layer.attn_norm = std::move(attn_norm).value();
  auto ffn_in = load_linear(r, {p + "intermediate.dense"}, h, compute, packed_bytes, scratch);
  if (!ffn_in.ok()) return ffn_in.status();
  layer.ffn_in = std::move(ffn_in).value();
  auto ffn_out = load_linear(r, {p + "output.dense"}, inter, compute, packed_bytes, scratch);
  if (!ffn_out.ok()) return ffn_out.status();
  layer.ffn_out = std::move(ffn_out).value();
  auto ffn_norm = load_layer_norm(r, p + "output.LayerNorm");
  if (!ffn_norm.ok()) return ffn_norm.status();
  layer.ffn_norm = std::move(ffn_norm).value();
  return layer;
}

}  // namespace

const float* EmbeddingTable::row(size_t r, float* scratch) const {
  if (!view) return owned.data() + r * cols;
  const size_t elem = dtype == DType::F32 ? 4 : 2;
  const uint8_t* p = view + r * cols * elem;
  if (dtype == DType::F32 && reinterpret_cast<uintptr_t>(p) % alignof(float) == 0)
    return reinterpret_cast<const float*>(p);
  // Cannot fail: the loader checked the dtype, and cols is whole elements.
  (void)dequantize_row(dtype, p, scratch, static_cast<int64_t>(cols));
  return scratch;
}

Result<BertWeights> load_bert_weights(const SafetensorsCheckpoint& checkpoint, const BertConfig& config,
                                      kernels::Compute compute, bool view_word_table, ThreadPool* pool) {
  // sentence-transformers saves BertModel without a prefix; BertForXxx uses "bert.".
  std::string prefix;
  if (!checkpoint.find("embeddings.word_embeddings.weight") &&
      checkpoint.find("bert.embeddings.word_embeddings.weight"))
    prefix = "bert.";

  ModelConfig mc;
  mc.arch = Architecture::Bert;
  mc.config = config;
  const auto table = weight_table(mc);
  std::vector<std::string> names;
  for (const auto& e : checkpoint.entries()) names.push_back(e.tensor->name);
  const WeightCheck check = check_weights(
      table,
      [&](std::string_view name) -> std::optional<Shape> {
        const auto* e = checkpoint.find(prefix + std::string(name));
        if (!e) return std::nullopt;
        return e->tensor->shape;
      },
      names);
  if (!check.ok()) {
    std::string msg = "the checkpoint does not fit the BERT config:";
    for (const auto& e : check.errors) msg += "\n  " + e;
    return Status::Error(msg);
  }

  const TensorReader r(checkpoint, prefix);
  const size_t h = static_cast<size_t>(config.hidden_size);
  const size_t inter = static_cast<size_t>(config.intermediate_size);
  BertWeights w;
  const std::string word_name = "embeddings.word_embeddings.weight";
  const ConstTensorView word_view = checkpoint.view(*r.find(word_name));  // the table check found it
  w.word_embeddings.cols = h;
  if (view_word_table && (word_view.dtype == DType::F32 || word_view.dtype == DType::F16 ||
                          word_view.dtype == DType::BF16)) {
    w.word_embeddings.view = static_cast<const uint8_t*>(word_view.data);
    w.word_embeddings.dtype = word_view.dtype;
  } else {
    auto word = r.f32(word_name);
    if (!word.ok()) return word.status();
    w.word_embeddings.owned = std::move(word).value();
  }
  auto pos = r.f32("embeddings.position_embeddings.weight");
  if (!pos.ok()) return pos.status();
  w.position_embeddings = std::move(pos).value();
  auto type = r.f32("embeddings.token_type_embeddings.weight");
  if (!type.ok()) return type.status();
  w.token_type_embeddings = std::move(type).value();
  auto embed_norm = load_layer_norm(r, "embeddings.LayerNorm");
  if (!embed_norm.ok()) return embed_norm.status();
  w.embed_norm = std::move(embed_norm).value();

  // Layers load in parallel on `pool`, a contiguous run of layers per task:
  // packing is mostly first touches of fresh memory, and page faults on two
  // cores go nearly twice as fast as on one.
  const size_t n_layers = static_cast<size_t>(config.num_hidden_layers);
  w.layers.resize(n_layers);
  std::vector<Status> status(n_layers);
  std::vector<size_t> bytes(n_layers, 0);
  auto load_layers = [&](int64_t first, int64_t last) {
    HugeVector<float> scratch;
    for (int64_t i = first; i < last; ++i) {
      auto layer = load_layer(r, i, h, inter, compute, &bytes[i], scratch);
      if (!layer.ok()) status[i] = layer.status();
      else w.layers[i] = std::move(layer).value();
    }
  };
  const int64_t threads = pool ? pool->num_threads() : 1;
  if (threads > 1 && n_layers > 1)
    pool->parallel_for(static_cast<int64_t>(n_layers), load_layers,
                       (static_cast<int64_t>(n_layers) + threads - 1) / threads);
  else
    load_layers(0, static_cast<int64_t>(n_layers));
  for (size_t i = 0; i < n_layers; ++i) {
    KEEL_RETURN_IF_ERROR(status[i]);
    w.packed_bytes += bytes[i];
  }
  return w;
}

}  // namespace keel::bert
