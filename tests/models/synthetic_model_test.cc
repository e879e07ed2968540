// make_model / fill_normal: determinism (same seed -> same bytes, any thread
// count), the statistics of the initial values, the layer override, dtype
// conversion, and the files written next to the weights.
#include "models/synthetic_model.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/half.h"
#include "core/mmap_file.h"
#include "core/thread_pool.h"
#include "formats/hf_config.h"
#include "formats/safetensors.h"
#include "models/weight_table.h"

namespace keel {
namespace {

namespace fs = std::filesystem;
const std::string kModels = KEEL_SHARED_MODELS;

std::string scratch(const std::string& name) {
  fs::path dir = fs::path(KEEL_TEST_TMP) / "synthetic_model_test" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

std::string read(const std::string& path) {
  auto r = read_text_file(path);
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? *r : "";
}

Status make(const std::string& model, const std::string& out, uint64_t seed, DType dtype,
            std::optional<int64_t> layers) {
  return make_model({.config_path = kModels + "/" + model,
                     .tokenizer_dir = kModels + "/" + model,
                     .num_layers = layers,
                     .seed = seed,
                     .dtype = dtype,
                     .out_dir = out});
}

std::vector<float> as_f32(const SafetensorsFile& f, const SafetensorsTensor& t) {
  ConstTensorView v = f.view(t);
  std::vector<float> out(v.numel());
  for (int64_t i = 0; i < v.numel(); ++i) {
    if (v.dtype == DType::F32) {
      std::memcpy(&out[i], static_cast<const uint8_t*>(v.data) + 4 * i, 4);
    } else {
      uint16_t h;
      std::memcpy(&h, static_cast<const uint8_t*>(v.data) + 2 * i, 2);
      out[i] = v.dtype == DType::F16 ? f16_to_f32(h) : bf16_to_f32(h);
    }
  }
  return out;
}

// --- the generator --------------------------------------------------------------

TEST(FillNormal, SameStreamSameValues) {
  std::vector<float> a(100000), b(100000), c(100000), d(100000);
  fill_normal(7, "w", 0.02f, a.data(), a.size());
  fill_normal(7, "w", 0.02f, b.data(), b.size());
  fill_normal(8, "w", 0.02f, c.data(), c.size());
  fill_normal(7, "v", 0.02f, d.data(), d.size());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a, d);
  // Counter-based: a shorter fill (odd length too) is a prefix of a longer one.
  std::vector<float> head(12345);
  fill_normal(7, "w", 0.02f, head.data(), head.size());
  EXPECT_TRUE(std::equal(head.begin(), head.end(), a.begin()));
}

TEST(FillNormal, SameValuesOnOneThreadAndMany) {
  const int64_t n = 3'000'001;  // several parallel tasks, odd length
  std::vector<float> parallel(n), serial(n);
  fill_normal(42, "model.embed_tokens.weight", 0.02f, parallel.data(), n);
  // A call from inside a pool task runs inline, on this one thread.
  ThreadPool pool(2);
  pool.parallel_for(2, [&](int64_t begin, int64_t) {
    if (begin == 0) fill_normal(42, "model.embed_tokens.weight", 0.02f, serial.data(), n);
  });
  EXPECT_GT(default_thread_pool().num_threads(), 0);
  EXPECT_EQ(std::memcmp(parallel.data(), serial.data(), n * sizeof(float)), 0);
}

TEST(FillNormal, Statistics) {
  const int64_t n = 4'000'000;
  std::vector<float> x(n);
  fill_normal(1, "stats", 0.02f, x.data(), n);
  double sum = 0, sum2 = 0, sum4 = 0;
  int64_t within1 = 0, beyond3 = 0;
  float max_abs = 0;
  for (float v : x) {
    ASSERT_TRUE(std::isfinite(v));
    sum += v;
    sum2 += double(v) * v;
    sum4 += double(v) * v * v * v;
    within1 += std::fabs(v) < 0.02f;
    beyond3 += std::fabs(v) > 0.06f;
    max_abs = std::max(max_abs, std::fabs(v));
  }
  const double mean = sum / n, var = sum2 / n - mean * mean, sd = std::sqrt(var);
  EXPECT_NEAR(mean, 0.0, 5 * 0.02 / std::sqrt(double(n)));  // 5 standard errors
  EXPECT_NEAR(sd, 0.02, 0.02 * 0.003);
  EXPECT_NEAR(sum4 / n / (var * var), 3.0, 0.02);  // kurtosis of a normal
  EXPECT_NEAR(double(within1) / n, 0.682689, 0.002);
  EXPECT_NEAR(double(beyond3) / n, 0.0026998, 0.0002);
  EXPECT_GT(max_abs, 0.02f * 4.5f);  // real tails, not a sum of a few uniforms
  EXPECT_LT(max_abs, 0.02f * 6.7f);  // the largest radius 32-bit uniforms give
}

// --- make_model -----------------------------------------------------------------

TEST(MakeModel, MiniLmOneLayer) {
  const std::string out = scratch("minilm");
  ASSERT_TRUE(make("all-MiniLM-L6-v2", out, 3, DType::F32, 1).ok());

  // config.json: the input with the layer count and torch_dtype changed, key order kept.
  auto in = nlohmann::ordered_json::parse(read(kModels + "/all-MiniLM-L6-v2/config.json"));
  auto got = nlohmann::ordered_json::parse(read(out + "/config.json"));
  EXPECT_EQ(got["num_hidden_layers"], 1);
  EXPECT_EQ(got["torch_dtype"], "float32");
  auto expected = in;
  expected["num_hidden_layers"] = 1;
  expected["torch_dtype"] = "float32";
  EXPECT_EQ(got.dump(), expected.dump());

  // Tokenizer and sentence-transformers files, byte for byte.
  for (const char* name : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt",
                           "modules.json", "sentence_bert_config.json", "config_sentence_transformers.json",
                           "1_Pooling/config.json"})
    EXPECT_EQ(read(out + "/" + name), read(kModels + "/all-MiniLM-L6-v2/" + name)) << name;
  EXPECT_FALSE(fs::exists(out + "/PROVENANCE.md"));

  // The weights: exactly the table, in table order, as the right values.
  auto file = SafetensorsFile::open(out + "/model.safetensors");
  ASSERT_TRUE(file.ok()) << file.error();
  EXPECT_EQ(file->metadata().at("format"), "pt");
  auto config = load_hf_config(out);
  ASSERT_TRUE(config.ok()) << config.error();
  auto table = weight_table(*config);
  ASSERT_EQ(file->tensors().size(), table.size());
  for (size_t i = 0; i < table.size(); ++i) {
    const SafetensorsTensor& t = file->tensors()[i];
    EXPECT_EQ(t.name, table[i].name);
    EXPECT_EQ(t.shape, table[i].shape) << t.name;
    EXPECT_EQ(t.dtype, DType::F32);
    std::vector<float> v = as_f32(*file, t);
    if (table[i].init == WeightInit::Ones) {
      for (float x : v) ASSERT_EQ(x, 1.0f) << t.name;
    } else if (table[i].init == WeightInit::Zeros) {
      for (float x : v) ASSERT_EQ(std::bit_cast<uint32_t>(x), 0u) << t.name;  // +0.0 exactly
    } else {
      std::vector<float> want(v.size());
      fill_normal(3, t.name, 0.02f, want.data(), want.size());
      EXPECT_EQ(v, want) << t.name;
    }
  }
  const SafetensorsTensor* emb = file->find("embeddings.word_embeddings.weight");
  ASSERT_NE(emb, nullptr);
  std::vector<float> v = as_f32(*file, *emb);  // 30522 x 384 = 11.7M values
  double sum = 0, sum2 = 0;
  for (float x : v) sum += x, sum2 += double(x) * x;
  EXPECT_NEAR(sum / v.size(), 0.0, 1e-4);
  EXPECT_NEAR(std::sqrt(sum2 / v.size()), 0.02, 1e-4);
}

TEST(MakeModel, SameSeedSameBytes) {
  const std::string a = scratch("seed_a"), b = scratch("seed_b"), c = scratch("seed_c");
  ASSERT_TRUE(make("all-MiniLM-L6-v2", a, 11, DType::F16, 1).ok());
  ASSERT_TRUE(make("all-MiniLM-L6-v2", b, 11, DType::F16, 1).ok());
  ASSERT_TRUE(make("all-MiniLM-L6-v2", c, 12, DType::F16, 1).ok());
  const std::string wa = read(a + "/model.safetensors");
  EXPECT_GT(wa.size(), 20'000'000u);
  EXPECT_EQ(wa, read(b + "/model.safetensors"));
  EXPECT_NE(wa, read(c + "/model.safetensors"));
  // Running again into the same directory replaces everything, read-only sources included.
  ASSERT_TRUE(make("all-MiniLM-L6-v2", a, 11, DType::F16, 1).ok());
  EXPECT_EQ(wa, read(a + "/model.safetensors"));
}

TEST(MakeModel, Gpt2LayerOverrideAndFiles) {
  const std::string out = scratch("gpt2");
  ASSERT_TRUE(make("gpt2", out, 0, DType::BF16, 2).ok());
  auto got = nlohmann::ordered_json::parse(read(out + "/config.json"));
  EXPECT_EQ(got["n_layer"], 2);
  EXPECT_FALSE(got.contains("num_hidden_layers"));
  EXPECT_EQ(got["torch_dtype"], "bfloat16");
  EXPECT_EQ(got.back(), "bfloat16");  // a key the input lacked goes last
  auto file = SafetensorsFile::open(out + "/model.safetensors");
  ASSERT_TRUE(file.ok()) << file.error();
  EXPECT_EQ(file->tensors().size(), 2u + 2 * 12 + 2);
  EXPECT_NE(file->find("h.1.mlp.c_proj.weight"), nullptr);
  EXPECT_EQ(file->find("h.2.ln_1.weight"), nullptr);
  for (const char* name : {"vocab.json", "merges.txt", "tokenizer.json", "generation_config.json"})
    EXPECT_EQ(read(out + "/" + name), read(kModels + "/gpt2/" + name)) << name;
}

// A small Qwen2-shaped config (q/k/v biases, tied embeddings), as a file in `dir`.
std::string write_small_qwen2(const std::string& dir) {
  const std::string path = dir + "/config.json";
  EXPECT_TRUE(write_text_file(path, R"({"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2",
    "vocab_size": 1000, "hidden_size": 64, "intermediate_size": 160, "num_hidden_layers": 3,
    "num_attention_heads": 4, "num_key_value_heads": 2, "tie_word_embeddings": true,
    "torch_dtype": "bfloat16", "rope_theta": 1000000.0})").ok());
  return path;
}

TEST(MakeModel, HalfPrecisionIsTheRoundedF32) {
  const std::string config = write_small_qwen2(scratch("qwen2_config"));
  const std::string tokenizer = kModels + "/TinyLlama-1.1B-Chat-v1.0";
  const std::string f32 = scratch("dt_f32"), f16 = scratch("dt_f16"), bf16 = scratch("dt_bf16");
  for (auto [dir, dtype] : {std::pair{f32, DType::F32}, {f16, DType::F16}, {bf16, DType::BF16}})
    ASSERT_TRUE(make_model({.config_path = config, .tokenizer_dir = tokenizer, .num_layers = 2, .seed = 5,
                            .dtype = dtype, .out_dir = dir})
                    .ok());
  auto a = SafetensorsFile::open(f32 + "/model.safetensors");
  auto h = SafetensorsFile::open(f16 + "/model.safetensors");
  auto b = SafetensorsFile::open(bf16 + "/model.safetensors");
  ASSERT_TRUE(a.ok() && h.ok() && b.ok());
  ASSERT_EQ(a->tensors().size(), 1u + 2 * 12 + 1);  // q/k/v biases; no lm_head (tied)
  EXPECT_EQ(a->find("lm_head.weight"), nullptr);
  EXPECT_EQ(a->find("model.layers.1.self_attn.k_proj.bias")->shape, (Shape{32}));
  for (size_t i = 0; i < a->tensors().size(); ++i) {
    const SafetensorsTensor& ta = a->tensors()[i];
    const SafetensorsTensor& th = h->tensors()[i];
    const SafetensorsTensor& tb = b->tensors()[i];
    ASSERT_EQ(th.name, ta.name);
    ASSERT_EQ(tb.name, ta.name);
    EXPECT_EQ(th.dtype, DType::F16);
    EXPECT_EQ(tb.dtype, DType::BF16);
    const uint8_t* fa = a->bytes(ta).data();
    const uint8_t* fh = h->bytes(th).data();
    const uint8_t* fb = b->bytes(tb).data();
    for (int64_t j = 0; j < ta.shape.numel(); ++j) {
      float x;
      uint16_t y, z;
      std::memcpy(&x, fa + 4 * j, 4);
      std::memcpy(&y, fh + 2 * j, 2);
      std::memcpy(&z, fb + 2 * j, 2);
      ASSERT_EQ(y, f32_to_f16(x)) << ta.name << " [" << j << "]";
      ASSERT_EQ(z, f32_to_bf16(x)) << ta.name << " [" << j << "]";
    }
  }
  EXPECT_EQ(nlohmann::json::parse(read(f16 + "/config.json"))["torch_dtype"], "float16");
  EXPECT_EQ(nlohmann::json::parse(read(f32 + "/config.json"))["num_hidden_layers"], 2);
  // Tokenizer files come from --tokenizer, generation_config.json too (the config dir has none).
  for (const char* name : {"tokenizer.model", "tokenizer.json", "generation_config.json"})
    EXPECT_EQ(read(f16 + "/" + name), read(tokenizer + "/" + name)) << name;
}

TEST(MakeModel, Errors) {
  const std::string out = scratch("errors");
  Status t5 = make("t5-small", out, 0, DType::F32, std::nullopt);
  ASSERT_FALSE(t5.ok());
  EXPECT_NE(t5.message().find("\"t5\""), std::string::npos) << t5.message();
  Status missing = make("no-such-model", out, 0, DType::F32, std::nullopt);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("no-such-model"), std::string::npos) << missing.message();
  Status dtype = make("gpt2", out, 0, DType::Q8_0, 1);
  ASSERT_FALSE(dtype.ok());
  EXPECT_NE(dtype.message().find("q8_0"), std::string::npos) << dtype.message();
  Status layers = make("gpt2", out, 0, DType::F32, 0);
  ASSERT_FALSE(layers.ok());
  EXPECT_NE(layers.message().find("layers"), std::string::npos) << layers.message();
  EXPECT_FALSE(fs::exists(out + "/model.safetensors"));
}

}  // namespace
}  // namespace keel
