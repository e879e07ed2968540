// Writes small, valid seed inputs for the fuzzers, made by keel's own writers
// (so the fuzzers start from deep inside the parsers), plus the real configs in
// ../shared/models:
//   make_fuzz_seeds <out_dir> [shared_models_dir]
// -> <out_dir>/fuzz_safetensors/*, <out_dir>/fuzz_gguf/*, <out_dir>/fuzz_hf_config/*
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "core/half.h"
#include "formats/gguf.h"
#include "formats/safetensors.h"
#include "kernels/quantize.h"

namespace fs = std::filesystem;
using namespace keel;

namespace {

// Deterministic small values: x_i = sin(i * 0.37) * scale.
std::vector<float> pattern(int64_t n, float scale) {
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = std::sin(static_cast<float>(i) * 0.37f) * scale;
  return v;
}

Status fill_as(DType dtype, std::span<uint8_t> dst) {
  const auto& info = dtype_info(dtype);
  const int64_t n = static_cast<int64_t>(dst.size() / info.block_bytes * info.block_elems);
  if (dtype == DType::I64 || dtype == DType::I32 || dtype == DType::I8 || dtype == DType::U8 ||
      dtype == DType::Bool) {
    for (size_t i = 0; i < dst.size(); ++i) dst[i] = static_cast<uint8_t>(i * 7);
    return Status::Ok();
  }
  auto v = pattern(n, 1.5f);
  return quantize_row(dtype, v.data(), dst.data(), n);
}

Status write_safetensors_seeds(const fs::path& dir) {
  fs::create_directories(dir);
  struct T { const char* name; DType dtype; Shape shape; };
  std::vector<std::vector<T>> files = {
      {{"w", DType::F32, {2, 3}}},
      {{"embeddings.weight", DType::F16, {4, 8}}, {"norm.bias", DType::BF16, {8}},
       {"ids", DType::I64, {3}}, {"scalar", DType::F32, {}}, {"empty", DType::F32, {0, 4}}},
      {{"a", DType::I8, {5}}, {"b", DType::Bool, {2, 2}}, {"c", DType::U8, {1}}},
  };
  int k = 0;
  for (const auto& tensors : files) {
    SafetensorsWriter w;
    for (const auto& t : tensors) KEEL_RETURN_IF_ERROR(w.add(t.name, t.dtype, t.shape));
    if (k == 1) w.set_metadata("format", "pt");
    auto fill = [&](size_t i, std::span<uint8_t> dst) { return fill_as(tensors[i].dtype, dst); };
    KEEL_RETURN_IF_ERROR(w.write((dir / ("seed_" + std::to_string(k++) + ".safetensors")).string(), fill));
  }
  return Status::Ok();
}

Status write_gguf_seeds(const fs::path& dir) {
  fs::create_directories(dir);
  {
    GgufWriter w;
    w.set("general.architecture", GgufValue::str("llama"));
    w.set("general.name", GgufValue::str("seed"));
    w.set("llama.block_count", GgufValue::u32(1));
    w.set("llama.rope.freq_base", GgufValue::f32(10000.0f));
    w.set("some.u8", GgufValue::u8(1));
    w.set("some.i8", GgufValue::i8(-1));
    w.set("some.u16", GgufValue::u16(2));
    w.set("some.i16", GgufValue::i16(-2));
    w.set("some.i32", GgufValue::i32(-3));
    w.set("some.u64", GgufValue::u64(4));
    w.set("some.i64", GgufValue::i64(-5));
    w.set("some.f64", GgufValue::f64(0.5));
    w.set("some.bool", GgufValue::boolean(true));
    w.set("tokenizer.ggml.tokens",
          GgufValue::array(GgufValueType::String, {GgufValue::str("<s>"), GgufValue::str("a")}));
    w.set("tokenizer.ggml.scores",
          GgufValue::array(GgufValueType::F32, {GgufValue::f32(0), GgufValue::f32(-1)}));
    w.set("nested", GgufValue::array(GgufValueType::Array,
                                     {GgufValue::array(GgufValueType::I32, {GgufValue::i32(1)})}));
    struct T { const char* name; DType dtype; Shape shape; };
    std::vector<T> tensors = {{"token_embd.weight", DType::F16, {2, 32}},
                              {"blk.0.attn_q.weight", DType::Q8_0, {2, 32}},
                              {"blk.0.ffn_down.weight", DType::Q4_0, {1, 64}},
                              {"blk.0.attn_norm.weight", DType::F32, {32}},
                              {"blk.0.ffn_up.weight", DType::Q4_K, {1, 256}},
                              {"blk.0.ffn_gate.weight", DType::Q6_K, {1, 256}}};
    for (const auto& t : tensors) KEEL_RETURN_IF_ERROR(w.add_tensor(t.name, t.dtype, t.shape));
    auto fill = [&](size_t i, std::span<uint8_t> dst) {
      Status s = fill_as(tensors[i].dtype, dst);
      if (!s.ok()) std::memset(dst.data(), 0, dst.size());  // a type keel cannot quantize yet
      return Status::Ok();
    };
    KEEL_RETURN_IF_ERROR(w.write((dir / "seed_0.gguf").string(), fill));
  }
  {
    GgufWriter w;  // metadata only, custom alignment
    w.set("general.alignment", GgufValue::u32(64));
    w.set("general.architecture", GgufValue::str("gpt2"));
    KEEL_RETURN_IF_ERROR(w.add_tensor("x", DType::F32, {3}));
    auto fill = [&](size_t, std::span<uint8_t> dst) { return fill_as(DType::F32, dst); };
    KEEL_RETURN_IF_ERROR(w.write((dir / "seed_1.gguf").string(), fill));
  }
  return Status::Ok();
}

Status write_config_seeds(const fs::path& dir, const fs::path& shared) {
  fs::create_directories(dir);
  int k = 0;
  if (!shared.empty() && fs::is_directory(shared)) {
    for (const auto& entry : fs::directory_iterator(shared)) {
      fs::path cfg = entry.path() / "config.json";
      if (fs::exists(cfg)) fs::copy_file(cfg, dir / ("shared_" + std::to_string(k++) + ".json"),
                                         fs::copy_options::overwrite_existing);
    }
  }
  // Variants no shipped model covers, written from their public HF definitions.
  const char* inline_configs[] = {
      R"({"model_type":"qwen2","hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":100,"rope_theta":1000000.0,"tie_word_embeddings":true,"sliding_window":4096})",
      R"({"model_type":"qwen3","hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"head_dim":32,"vocab_size":100,"eos_token_id":[1,2]})",
      R"({"model_type":"llama","hidden_size":64,"intermediate_size":128,"num_hidden_layers":1,"num_attention_heads":4,"vocab_size":100,"rope_scaling":{"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":8192}})",
      R"({"model_type":"mistral","hidden_size":64,"intermediate_size":128,"num_hidden_layers":1,"num_attention_heads":4,"num_key_value_heads":1,"vocab_size":100,"sliding_window":null})",
  };
  for (const char* text : inline_configs) {
    KEEL_RETURN_IF_ERROR(
        write_text_file((dir / ("inline_" + std::to_string(k++) + ".json")).string(), text));
  }
  return Status::Ok();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: make_fuzz_seeds <out_dir> [shared_models_dir]\n");
    return 2;
  }
  fs::path out = argv[1];
  fs::path shared = argc > 2 ? argv[2] : "";
  for (Status s : {write_safetensors_seeds(out / "fuzz_safetensors"), write_gguf_seeds(out / "fuzz_gguf"),
                   write_config_seeds(out / "fuzz_hf_config", shared)}) {
    if (!s.ok()) {
      std::fprintf(stderr, "make_fuzz_seeds: %s\n", s.message().c_str());
      return 1;
    }
  }
  return 0;
}
