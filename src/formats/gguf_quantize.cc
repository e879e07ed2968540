#include "formats/gguf_quantize.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstring>
#include <mutex>
#include <span>

#include "kernels/quantize.h"

namespace keel {
namespace {

enum class Category { Output, TokenEmbd, AttnV, FfnDown, Other };

// As llama.cpp's tensor_get_category, for the categories these ftypes treat
// differently (attn_qkv and attn_kv_b count as attn_v there).
Category category_of(std::string_view name) {
  if (name == "output.weight") return Category::Output;
  if (name == "token_embd.weight") return Category::TokenEmbd;
  if (name.find("attn_qkv.weight") != std::string_view::npos ||
      name.find("attn_kv_b.weight") != std::string_view::npos ||
      name.find("attn_v.weight") != std::string_view::npos)
    return Category::AttnV;
  if (name.find("attn_k.weight") != std::string_view::npos ||
      name.find("attn_q.weight") != std::string_view::npos ||
      name.find("attn_output.weight") != std::string_view::npos ||
      name.find("ffn_up") != std::string_view::npos || name.find("ffn_gate") != std::string_view::npos)
    return Category::Other;
  if (name.find("ffn_down") != std::string_view::npos) return Category::FfnDown;
  return Category::Other;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// llama.cpp's tensor_allows_quantization for the decoder families keel reads.
bool convertible(const GgufTensorInfo& t) {
  if (t.ne.size() < 2) return false;
  size_t dims = t.ne.size();
  while (dims > 1 && t.ne[dims - 1] == 1) --dims;  // ggml_n_dims ignores trailing 1s
  if (dims < 2) return false;
  const std::string_view n = t.name;
  return ends_with(n, "weight") && n.find("_norm.weight") == std::string_view::npos &&
         n.find("ffn_gate_inp.weight") == std::string_view::npos && n != "position_embd.weight" &&
         n != "token_types.weight";
}

bool use_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

DType default_type(QuantFtype f) {
  switch (f) {
    case QuantFtype::F32: return DType::F32;
    case QuantFtype::F16: return DType::F16;
    case QuantFtype::BF16: return DType::BF16;
    case QuantFtype::Q8_0: return DType::Q8_0;
    case QuantFtype::Q4_0: return DType::Q4_0;
    case QuantFtype::Q4_K_M: return DType::Q4_K;
    case QuantFtype::Q5_K_M: return DType::Q5_K;
  }
  return DType::F32;
}

// llama.cpp's tensor_type_fallback for the types these ftypes produce.
DType fallback(DType t, uint64_t ncols) {
  if (ncols % dtype_info(t).block_elems == 0) return t;
  DType f = t == DType::Q6_K ? DType::Q8_0 : t == DType::Q5_K ? DType::Q5_1 : t == DType::Q4_K ? DType::Q5_0 : t;
  if (ncols % dtype_info(f).block_elems != 0) f = DType::F16;
  return f;
}

uint64_t layer_count(const GgufFile& in) {
  // n_ffn_down in llama.cpp is hparams.n_layer: "<arch>.block_count".
  if (const GgufValue* arch = in.find("general.architecture"); arch && arch->as_string()) {
    if (const GgufValue* bc = in.find(*arch->as_string() + ".block_count"); bc && bc->as_uint())
      return *bc->as_uint();
  }
  uint64_t n = 0;
  for (const auto& t : in.tensors())
    if (category_of(t.name) == Category::FfnDown) ++n;
  return n;
}

}  // namespace

Result<QuantFtype> quant_ftype_from_name(std::string_view name) {
  std::string s(name);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  if (s == "f32") return QuantFtype::F32;
  if (s == "f16") return QuantFtype::F16;
  if (s == "bf16") return QuantFtype::BF16;
  if (s == "q8_0") return QuantFtype::Q8_0;
  if (s == "q4_0") return QuantFtype::Q4_0;
  if (s == "q4_k_m") return QuantFtype::Q4_K_M;
  if (s == "q5_k_m") return QuantFtype::Q5_K_M;
  return Error("unknown quantization type '", name, "' (expected f32, f16, bf16, q8_0, q4_0, q4_K_M or q5_K_M)");
}

std::string_view quant_ftype_name(QuantFtype f) {
  switch (f) {
    case QuantFtype::F32: return "f32";
    case QuantFtype::F16: return "f16";
    case QuantFtype::BF16: return "bf16";
    case QuantFtype::Q8_0: return "q8_0";
    case QuantFtype::Q4_0: return "q4_0";
    case QuantFtype::Q4_K_M: return "q4_K_M";
    case QuantFtype::Q5_K_M: return "q5_K_M";
  }
  return "?";
}

uint32_t quant_ftype_gguf_value(QuantFtype f) {
  switch (f) {
    case QuantFtype::F32: return 0;
    case QuantFtype::F16: return 1;
    case QuantFtype::Q4_0: return 2;
    case QuantFtype::Q8_0: return 7;
    case QuantFtype::Q4_K_M: return 15;
    case QuantFtype::Q5_K_M: return 17;
    case QuantFtype::BF16: return 32;
  }
  return 0;
}

Result<std::vector<DType>> choose_tensor_types(const GgufFile& in, QuantFtype ftype) {
  const DType def = default_type(ftype);
  const bool quantized = dtype_info(def).quantized;
  const bool k_m = ftype == QuantFtype::Q4_K_M || ftype == QuantFtype::Q5_K_M;
  bool tied = true;
  int n_attn_v = 0;
  for (const auto& t : in.tensors()) {
    if (category_of(t.name) == Category::Output) tied = false;
    if (category_of(t.name) == Category::AttnV) ++n_attn_v;
  }
  const int n_layers = static_cast<int>(layer_count(in));
  int i_attn_v = 0, i_ffn_down = 0;
  // llama.cpp counts attn_v / ffn_down tensors in the order of its loader's
  // weights_map: by layer number ("blk.N."; others first), then by name.
  const auto& ts = in.tensors();
  std::vector<size_t> order(ts.size());
  std::vector<int> layer(ts.size(), -1);
  for (size_t i = 0; i < ts.size(); ++i) {
    order[i] = i;
    const std::string& n = ts[i].name;
    if (n.rfind("blk.", 0) == 0) {
      int v = 0;
      size_t p = 4;
      while (p < n.size() && std::isdigit(static_cast<unsigned char>(n[p])) && v < 1'000'000) v = v * 10 + (n[p++] - '0');
      if (p > 4 && p < n.size() && n[p] == '.') layer[i] = v;
    }
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return layer[a] != layer[b] ? layer[a] < layer[b] : ts[a].name < ts[b].name;
  });
  std::vector<DType> out(ts.size());
  for (size_t idx : order) {
    const GgufTensorInfo& t = ts[idx];
    DType type = t.dtype;
    if (convertible(t)) {
      type = def;
      if (quantized) {
        const Category c = category_of(t.name);
        const uint64_t ncols = t.ne[0];
        if (c == Category::Output || (tied && c == Category::TokenEmbd)) {
          if (ncols % dtype_info(def).block_elems != 0) type = DType::Q8_0;
          else if (def != DType::Q8_0) type = DType::Q6_K;
        } else if (c == Category::AttnV) {
          if (k_m && use_more_bits(i_attn_v, n_attn_v)) type = DType::Q6_K;
          ++i_attn_v;
        } else if (c == Category::FfnDown) {
          if (k_m && use_more_bits(i_ffn_down, n_layers)) type = DType::Q6_K;
          ++i_ffn_down;
        }
        type = fallback(type, ncols);
      }
      if (!can_quantize(type)) {
        return Error("tensor '", t.name, "': llama.cpp's ", quant_ftype_name(ftype), " recipe gives it type ",
                     dtype_name(type), ", which keel cannot write");
      }
    }
    out[idx] = type;
  }
  return out;
}

Result<QuantizeStats> quantize_gguf(const GgufFile& in, const std::string& out_path, QuantFtype ftype,
                                    ThreadPool* pool) {
  auto types = choose_tensor_types(in, ftype);
  if (!types.ok()) return types.status();
  GgufWriter w;
  for (const auto& [key, value] : in.metadata()) w.set(key, value);
  w.set("general.file_type", GgufValue::u32(quant_ftype_gguf_value(ftype)));
  if (dtype_info(default_type(ftype)).quantized) w.set("general.quantization_version", GgufValue::u32(2));
  QuantizeStats stats;
  const auto& tensors = in.tensors();
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& t = tensors[i];
    if (t.dtype != (*types)[i] && !can_quantize(t.dtype))
      return Error("tensor '", t.name, "' is stored as ", dtype_name(t.dtype), ", which keel cannot read");
    Status st = w.add_tensor(t.name, (*types)[i], t.shape);
    if (!st.ok()) return Error("tensor '", t.name, "': ", st.message());
    stats.bytes_in += t.nbytes;
    if (t.dtype == (*types)[i]) ++stats.tensors_copied;
    else ++stats.tensors_converted;
  }
  auto fill = [&](size_t i, std::span<uint8_t> dst) -> Status {
    const auto& t = tensors[i];
    const DType to = (*types)[i];
    std::span<const uint8_t> src = in.bytes(t);
    if (t.dtype == to) {
      if (src.size() != dst.size()) return Error("tensor '", t.name, "': size mismatch");
      std::memcpy(dst.data(), src.data(), src.size());
      return Status::Ok();
    }
    const uint64_t k = t.ne[0];
    const uint64_t rows = k ? t.nbytes / *dtype_row_bytes(t.dtype, k) : 0;
    auto in_rb = dtype_row_bytes(t.dtype, k), out_rb = dtype_row_bytes(to, k);
    if (!in_rb.ok()) return Error("tensor '", t.name, "': ", in_rb.status().message());
    if (!out_rb.ok()) return Error("tensor '", t.name, "': ", out_rb.status().message());
    if (rows * *out_rb != dst.size()) return Error("tensor '", t.name, "': output size mismatch");
    std::atomic<bool> failed{false};
    std::string message;
    std::mutex mu;
    auto rows_fn = [&](int64_t r0, int64_t r1) {
      std::vector<float> row(k);
      for (int64_t r = r0; r < r1; ++r) {
        Status s = dequantize_row(t.dtype, src.data() + r * *in_rb, row.data(), static_cast<int64_t>(k));
        if (s.ok()) s = quantize_row(to, row.data(), dst.data() + r * *out_rb, static_cast<int64_t>(k));
        if (!s.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          if (!failed.exchange(true)) message = s.message();
          return;
        }
      }
    };
    if (pool) pool->parallel_for(static_cast<int64_t>(rows), rows_fn, 16);
    else rows_fn(0, static_cast<int64_t>(rows));
    if (failed) return Error("tensor '", t.name, "': ", message);
    return Status::Ok();
  };
  Status st = w.write(out_path, fill);
  if (!st.ok()) return st;
  for (size_t i = 0; i < w.num_tensors(); ++i) stats.bytes_out += w.tensor(i).nbytes;
  return stats;
}

}  // namespace keel
