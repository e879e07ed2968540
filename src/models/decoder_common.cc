#include "models/decoder_common.h"

#include <algorithm>
#include <cstring>

#include "core/half.h"
#include "kernels/decoder_ops.h"
#include "kernels/quantize.h"

namespace keel::decoder {
namespace {

std::string shape_str(const Shape& s) {
  std::string out = "[";
  for (int i = 0; i < s.rank(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

}  // namespace

std::optional<ConstTensorView> WeightLoader::get(const std::string& name,
                                                 std::initializer_list<int64_t> shape) {
  auto t = lookup_(name);
  if (!t) {
    errors_.push_back(str_cat("missing tensor '", name, "'"));
    return std::nullopt;
  }
  const Shape want(shape);
  bool same = t->shape.rank() == want.rank();
  for (int i = 0; same && i < want.rank(); ++i) same = t->shape[i] == want[i];
  if (!same) {
    errors_.push_back(str_cat("tensor '", name, "' has shape ", shape_str(t->shape), ", expected ",
                              shape_str(want)));
    return std::nullopt;
  }
  return t;
}

Linear WeightLoader::linear(const std::string& weight, size_t out, size_t in, bool transposed) {
  Linear lin;
  const int64_t o = static_cast<int64_t>(out), i = static_cast<int64_t>(in);
  auto t = transposed ? get(weight, {i, o}) : get(weight, {o, i});
  if (!t) return lin;
  const bool is_float = t->dtype == DType::F32 || t->dtype == DType::F16 || t->dtype == DType::BF16;
  DType type = t->dtype;
  if (convert_to_ && is_float) type = *convert_to_;
  Result<kernels::QuantMatrix> m = Error("unset");
  if (!transposed && type == t->dtype) {
    // In place, unless the kernels want these weights repacked (a copy).
    m = kernels::QuantMatrix::repacks(type) ? kernels::QuantMatrix::prepare(type, t->data, out, in)
                                            : kernels::QuantMatrix::view(type, t->data, out, in);
  } else {
    if (!is_float) {
      errors_.push_back(str_cat("tensor '", weight, "': ", dtype_name(t->dtype), " cannot be ",
                                transposed ? "transposed" : "converted"));
      return lin;
    }
    // Widen to f32 (transposing if asked), then store as `type`.
    std::vector<float> f(out * in);
    if (Status s = dequantize_row(t->dtype, t->data, f.data(), static_cast<int64_t>(out * in)); !s.ok()) {
      errors_.push_back(str_cat("tensor '", weight, "': ", s.message()));
      return lin;
    }
    if (transposed) {
      std::vector<float> tr(out * in);
      for (size_t r = 0; r < in; ++r)
        for (size_t c = 0; c < out; ++c) tr[c * in + r] = f[r * out + c];
      f.swap(tr);
    }
    std::vector<uint8_t> bytes(static_cast<size_t>(*dtype_row_bytes(type, out * in)));
    if (Status s = quantize_row(type, f.data(), bytes.data(), static_cast<int64_t>(out * in)); !s.ok()) {
      errors_.push_back(str_cat("tensor '", weight, "': ", s.message()));
      return lin;
    }
    m = kernels::QuantMatrix::prepare(type, bytes.data(), out, in);
  }
  if (!m.ok()) {
    errors_.push_back(str_cat("tensor '", weight, "': ", m.status().message()));
    return lin;
  }
  lin.w = std::move(m).value();
  bytes_ += lin.w.bytes();
  copied_ = copied_ || lin.w.layout() != kernels::QLayout::Rows;
  return lin;
}

void WeightLoader::bias(Linear& lin, const std::string& name, bool optional) {
  if (optional && !lookup_(name)) return;
  lin.b = vector(name, lin.w.n() ? lin.w.n() : 0);
}

std::vector<float> WeightLoader::vector(const std::string& name, size_t n) {
  std::vector<float> out;
  auto t = get(name, {static_cast<int64_t>(n)});
  if (!t) return out;
  out.resize(n);
  if (Status s = dequantize_row(t->dtype, t->data, out.data(), static_cast<int64_t>(n)); !s.ok())
    errors_.push_back(str_cat("tensor '", name, "': ", s.message()));
  return out;
}

std::optional<ConstTensorView> WeightLoader::table(const std::string& name, size_t rows, size_t cols) {
  auto t = get(name, {static_cast<int64_t>(rows), static_cast<int64_t>(cols)});
  if (t && !dtype_row_bytes(t->dtype, cols).ok()) {
    errors_.push_back(str_cat("tensor '", name, "': rows of ", cols, " are not whole ",
                              dtype_name(t->dtype), " blocks"));
    return std::nullopt;
  }
  return t;
}

Status WeightLoader::status() const {
  if (errors_.empty()) return Status::Ok();
  std::string msg = source_ + ": the weights do not fit the config:";
  for (const auto& e : errors_) msg += "\n  " + e;
  return Status::Error(msg);
}

void linear(const float* x, size_t m, const Linear& lin, float* y, ThreadPool* pool) {
  kernels::qlinear(x, m, lin.in(), lin.w, y, lin.out(), pool);
  if (lin.b.empty()) return;
  for (size_t i = 0; i < m; ++i)
    for (size_t j = 0; j < lin.out(); ++j) y[i * lin.out() + j] += lin.b[j];
}

void embedding_row(const ConstTensorView& table, int32_t id, size_t n, float* out) {
  const uint64_t row_bytes = *dtype_row_bytes(table.dtype, n);  // checked at load
  const auto* row = static_cast<const uint8_t*>(table.data) + static_cast<uint64_t>(id) * row_bytes;
  (void)dequantize_row(table.dtype, row, out, static_cast<int64_t>(n));
}

Status check_batch(std::span<const DecoderInput> batch, size_t vocab, size_t max_context,
                   size_t layers, size_t kv_width, size_t kv_heads) {
  for (size_t b = 0; b < batch.size(); ++b) {
    const DecoderInput& in = batch[b];
    if (!in.cache) return Error("input ", b, ": no KV cache");
    if (in.tokens.empty()) return Error("input ", b, ": no tokens");
    // Pairwise (no allocation per decode step; batches are at most a few hundred).
    for (size_t o = 0; o < b; ++o)
      if (batch[o].cache == in.cache) return Error("input ", b, ": its KV cache is also input ", o, "'s");
    if (in.cache->layers() != layers || in.cache->kv_width() != kv_width || in.cache->kv_heads() != kv_heads)
      return Error("input ", b, ": the KV cache was made for another model");
    const size_t end = in.cache->length() + in.tokens.size();
    if (end > in.cache->capacity())
      return Error("input ", b, ": ", end, " positions do not fit the KV cache of ", in.cache->capacity());
    if (end > max_context)
      return Error("input ", b, ": ", end, " positions exceed the model's context of ", max_context);
    for (size_t t = 0; t < in.tokens.size(); ++t)
      if (in.tokens[t] < 0 || static_cast<size_t>(in.tokens[t]) >= vocab)
        return Error("input ", b, " token ", t, ": id ", in.tokens[t], " is outside the vocabulary of ", vocab);
  }
  return Status::Ok();
}

}  // namespace keel::decoder

namespace keel {

void KvCache::write(size_t layer, size_t pos, const float* k, const float* v) {
  for (size_t h = 0; h < kv_heads_; ++h) {
    const size_t o = offset(layer, h, pos);
    const float* kh = k + h * head_dim_;
    const float* vh = v + h * head_dim_;
    if (type_ == KvType::F32) {
      std::memcpy(k_.data() + o, kh, head_dim_ * sizeof(float));
      std::memcpy(v_.data() + o, vh, head_dim_ * sizeof(float));
      continue;
    }
    for (size_t i = 0; i < head_dim_; ++i) {
      k16_[o + i] = f32_to_f16(kh[i]);
      v16_[o + i] = f32_to_f16(vh[i]);
    }
  }
}

namespace {
// Each (layer, head) block of `old_cap` rows becomes one of `new_cap` rows,
// the first `rows` copied.
template <typename Vec>
void grow_rows(Vec& data, size_t blocks, size_t old_cap, size_t new_cap, size_t width, size_t rows) {
  if (data.empty()) return;
  using T = typename Vec::value_type;
  Vec out(blocks * new_cap * width);
  for (size_t b = 0; b < blocks; ++b)
    std::memcpy(out.data() + b * new_cap * width, data.data() + b * old_cap * width, rows * width * sizeof(T));
  data = std::move(out);
}
}  // namespace

void KvCache::grow(size_t capacity) {
  if (capacity <= capacity_) return;
  const size_t blocks = layers_ * kv_heads_;
  for (auto* d : {&k_, &v_}) grow_rows(*d, blocks, capacity_, capacity, head_dim_, length_);
  for (auto* d : {&k16_, &v16_}) grow_rows(*d, blocks, capacity_, capacity, head_dim_, length_);
  capacity_ = capacity;
}

}  // namespace keel

namespace keel::decoder {

void token_slots(std::span<const DecoderInput> batch, std::vector<TokenSlot>& out) {
  out.clear();
  for (size_t b = 0; b < batch.size(); ++b)
    for (size_t t = 0; t < batch[b].tokens.size(); ++t)
      out.push_back({static_cast<uint32_t>(b), static_cast<uint32_t>(batch[b].cache->length() + t)});
}

void cached_attention(std::span<const DecoderInput> batch, std::span<const TokenSlot> slots,
                      size_t layer, const float* q, size_t ldq, size_t n_heads, size_t n_kv_heads,
                      size_t head_dim, float scale, float* out, ThreadPool* pool) {
  const size_t group = n_heads / n_kv_heads;
  // Runs of up to kBlock consecutive tokens of one sequence (a prefill) share
  // each K and V row read; decode tokens are runs of one.
  constexpr size_t kBlock = 4;
  // Reused across calls (this runs per layer per decode step); the pool's
  // workers read the caller's list through the reference.
  thread_local std::vector<std::pair<uint32_t, uint32_t>> runs_of_this_thread;
  std::vector<std::pair<uint32_t, uint32_t>>& runs = runs_of_this_thread;  // [first slot, count]
  runs.clear();
  for (size_t t = 0; t < slots.size();) {
    size_t n = 1;
    while (n < kBlock && t + n < slots.size() && slots[t + n].input == slots[t].input &&
           slots[t + n].pos == slots[t].pos + n)
      ++n;
    runs.emplace_back(static_cast<uint32_t>(t), static_cast<uint32_t>(n));
    t += n;
  }
  // One task per (run, KV head): its tokens' `group` query heads each.
  const int64_t tasks = static_cast<int64_t>(runs.size() * n_kv_heads);
  auto run = [&](int64_t begin, int64_t end) {
    thread_local Scratch scores, qbuf, obuf;  // grow to the longest context, then stay
    for (int64_t task = begin; task < end; ++task) {
      const auto [t0, nt] = runs[static_cast<size_t>(task) / n_kv_heads];
      const size_t kvh = static_cast<size_t>(task) % n_kv_heads;
      const TokenSlot s = slots[t0 + nt - 1];  // the run's last token
      const KvCache& cache = *batch[s.input].cache;
      const size_t n_ctx = s.pos + 1;
      float* sc = grow(scores, nt * n_ctx * group);
      const size_t h0 = kvh * group, row = group * head_dim;
      // The run's query heads for this KV head, token after token.
      const float* qt = q + t0 * ldq + h0 * head_dim;
      float* ot = out + t0 * n_heads * head_dim + h0 * head_dim;
      if (nt > 1) {
        float* qb = grow(qbuf, nt * row);
        for (size_t i = 0; i < nt; ++i) std::memcpy(qb + i * row, qt + i * ldq, row * sizeof(float));
        qt = qb;
        ot = grow(obuf, nt * row);
      }
      const size_t ld = cache.head_dim();
      if (cache.type() == KvType::F16)
        kernels::attend_group_causal_f16kv(qt, nt, group, cache.k16(layer, kvh, 0), cache.v16(layer, kvh, 0), ld,
                                           n_ctx, head_dim, scale, sc, ot);
      else
        kernels::attend_group_causal(qt, nt, group, cache.k(layer, kvh, 0), cache.v(layer, kvh, 0), ld, n_ctx,
                                     head_dim, scale, sc, ot);
      if (nt > 1)
        for (size_t i = 0; i < nt; ++i)
          std::memcpy(out + (t0 + i) * n_heads * head_dim + h0 * head_dim, ot + i * row, row * sizeof(float));
    }
  };
  if (pool) pool->parallel_for(tasks, run, 1);
  else run(0, tasks);
}

Result<std::optional<DType>> parse_convert_dtype(std::string_view dtype) {
  if (dtype.empty()) return std::optional<DType>();
  if (dtype == "f32") return std::optional<DType>(DType::F32);
  if (dtype == "f16") return std::optional<DType>(DType::F16);
  if (dtype == "bf16") return std::optional<DType>(DType::BF16);
  return Error("dtype must be f32, f16 or bf16, got '", dtype, "'");
}

}  // namespace keel::decoder
