// The decoder runtime's bookkeeping, on small synthetic Llama and GPT-2 models:
// several sequences in one forward pass give each sequence's logits alone; a
// prompt prefilled in chunks gives the logits of one prefill; decoding token
// by token from the cache gives the logits of prefilling the whole sequence;
// bad batches are errors that leave the caches unchanged.
// (Numerical correctness against PyTorch and llama.cpp is in the Python tests.)
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/mmap_file.h"
#include "core/thread_pool.h"
#include "models/decoder_model.h"
#include "models/synthetic_model.h"

namespace keel {
namespace {

namespace fs = std::filesystem;

std::string make(const std::string& name, const std::string& config_json) {
  const fs::path dir = fs::path(KEEL_TEST_TMP) / "decoder_batch_test" / name;
  fs::remove_all(dir);
  fs::create_directories(dir / "src");
  EXPECT_TRUE(write_text_file((dir / "src" / "config.json").string(), config_json).ok());
  MakeModelOptions o;
  o.config_path = (dir / "src").string();
  o.out_dir = (dir / "model").string();
  o.seed = 5;
  const Status s = make_model(o);
  EXPECT_TRUE(s.ok()) << s.message();
  return o.out_dir;
}

const char* kLlama = R"({"model_type": "qwen2", "hidden_size": 64, "intermediate_size": 96,
  "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 300,
  "max_position_embeddings": 128, "tie_word_embeddings": true, "eos_token_id": 1})";
const char* kGpt2 = R"({"model_type": "gpt2", "n_embd": 64, "n_head": 4, "n_layer": 2,
  "vocab_size": 300, "n_positions": 128})";

std::vector<int32_t> tokens(size_t n, int32_t seed) {
  std::vector<int32_t> t(n);
  for (size_t i = 0; i < n; ++i) t[i] = static_cast<int32_t>((i * 37 + seed * 11) % 300);
  return t;
}

void expect_close(const std::vector<float>& a, const float* b, const char* what) {
  float m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  EXPECT_LT(m, 1e-4f) << what;
}

class DecoderBatch : public ::testing::TestWithParam<const char*> {};

TEST_P(DecoderBatch, BatchChunksAndDecodeAgree) {
  auto model = load_decoder(make(GetParam() == kLlama ? "llama" : "gpt2", GetParam()));
  ASSERT_TRUE(model.ok()) << model.status().message();
  DecoderModel& m = **model;
  ThreadPool pool(2);
  const size_t V = m.vocab_size();
  const std::vector<int32_t> a = tokens(23, 1), b = tokens(5, 2), c = tokens(1, 3);

  // Each alone.
  std::vector<std::vector<float>> alone;
  for (const auto* seq : {&a, &b, &c}) {
    KvCache cache = m.new_cache(64);
    std::vector<float> l(V);
    DecoderInput in{&cache, *seq};
    ASSERT_TRUE(m.forward({&in, 1}, l.data(), &pool).ok());
    EXPECT_EQ(cache.length(), seq->size());
    alone.push_back(l);
  }
  // All three in one forward.
  {
    KvCache ca = m.new_cache(64), cb = m.new_cache(64), cc = m.new_cache(64);
    DecoderInput batch[] = {{&ca, a}, {&cb, b}, {&cc, c}};
    std::vector<float> l(3 * V);
    ASSERT_TRUE(m.forward(batch, l.data(), &pool).ok());
    for (size_t i = 0; i < 3; ++i) expect_close(alone[i], l.data() + i * V, "batched vs alone");
  }
  // a in chunks of 10, 1, 12.
  {
    KvCache cache = m.new_cache(64);
    std::vector<float> l(V);
    std::span<const int32_t> s(a);
    for (auto [off, n] : {std::pair{0, 10}, {10, 1}, {11, 12}}) {
      DecoderInput in{&cache, s.subspan(off, n)};
      ASSERT_TRUE(m.forward({&in, 1}, l.data(), &pool).ok());
    }
    expect_close(alone[0], l.data(), "chunked prefill vs one prefill");
  }
  // The same chunks into a cache that starts with room for 10 positions and
  // grows (head by head, keeping what is filled) before each later chunk:
  // bit for bit the logits of a cache that had room from the start.
  for (KvType type : {KvType::F32, KvType::F16}) {
    KvCache grown = m.new_cache(10, type), roomy = m.new_cache(64, type);
    std::vector<float> lg(V), lr(V);
    std::span<const int32_t> s(a);
    for (auto [off, n] : {std::pair{0, 10}, {10, 1}, {11, 12}}) {
      grown.grow(grown.length() + n);
      DecoderInput ig{&grown, s.subspan(off, n)}, ir{&roomy, s.subspan(off, n)};
      ASSERT_TRUE(m.forward({&ig, 1}, lg.data(), &pool).ok());
      ASSERT_TRUE(m.forward({&ir, 1}, lr.data(), &pool).ok());
      EXPECT_EQ(lg, lr) << "after " << off + n << " tokens, kv type " << int(type);
    }
    EXPECT_EQ(grown.capacity(), 23u);
  }
  // Decode steps of a and a prefill of b's continuation in one batch.
  {
    KvCache ca = m.new_cache(64), cb = m.new_cache(64);
    std::vector<float> l(2 * V);
    DecoderInput first[] = {{&ca, std::span<const int32_t>(a).first(22)}, {&cb, std::span<const int32_t>(b).first(1)}};
    ASSERT_TRUE(m.forward(first, l.data(), &pool).ok());
    DecoderInput second[] = {{&ca, std::span<const int32_t>(a).subspan(22)}, {&cb, std::span<const int32_t>(b).subspan(1)}};
    ASSERT_TRUE(m.forward(second, l.data(), &pool).ok());
    expect_close(alone[0], l.data(), "mixed batch, sequence a");
    expect_close(alone[1], l.data() + V, "mixed batch, sequence b");
  }
}

TEST_P(DecoderBatch, BadBatchesAreErrors) {
  auto model = load_decoder(make(GetParam() == kLlama ? "llama_bad" : "gpt2_bad", GetParam()));
  ASSERT_TRUE(model.ok()) << model.status().message();
  DecoderModel& m = **model;
  std::vector<float> l(2 * m.vocab_size());
  KvCache small = m.new_cache(4), ok = m.new_cache(64);
  const std::vector<int32_t> five = tokens(5, 1), bad = {1, 300};
  DecoderInput over{&small, five};
  Status s = m.forward({&over, 1}, l.data());
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("do not fit the KV cache"), std::string::npos) << s.message();
  DecoderInput oov{&ok, bad};
  s = m.forward({&oov, 1}, l.data());
  EXPECT_NE(s.message().find("token 1: id 300 is outside the vocabulary"), std::string::npos) << s.message();
  DecoderInput twice[] = {{&ok, five}, {&ok, five}};
  EXPECT_FALSE(m.forward(twice, l.data()).ok());
  DecoderInput empty{&ok, {}};
  EXPECT_FALSE(m.forward({&empty, 1}, l.data()).ok());
  // Same size, but laid out for another number of KV heads.
  KvCache other(m.num_layers(), 64, m.kv_width(), KvType::F32, m.kv_heads() == 1 ? 2 : 1);
  DecoderInput foreign{&other, five};
  s = m.forward({&foreign, 1}, l.data());
  EXPECT_NE(s.message().find("made for another model"), std::string::npos) << s.message();
  EXPECT_EQ(ok.length(), 0u);
  EXPECT_EQ(small.length(), 0u);
  KvCache past = m.new_cache(200);
  const std::vector<int32_t> long_seq = tokens(129, 4);
  DecoderInput too_long{&past, long_seq};
  s = m.forward({&too_long, 1}, l.data());
  EXPECT_NE(s.message().find("exceed the model's context of 128"), std::string::npos) << s.message();
}

TEST_P(DecoderBatch, F16CacheStaysCloseToF32) {
  // The f16 cache rounds keys and values once; logits stay within 1% of
  // their range of the f32 cache's, over a prefill and 8 decode steps, and
  // the cache takes half the bytes.
  auto model = load_decoder(make(GetParam() == kLlama ? "llama" : "gpt2", GetParam()));
  ASSERT_TRUE(model.ok()) << model.status().message();
  DecoderModel& m = **model;
  ThreadPool pool(2);
  const size_t V = m.vocab_size();
  const std::vector<int32_t> a = tokens(23, 1);
  KvCache c32 = m.new_cache(64), c16 = m.new_cache(64, KvType::F16);
  EXPECT_EQ(c16.bytes() * 2, c32.bytes());
  std::vector<float> l32(V), l16(V);
  DecoderInput i32{&c32, a}, i16{&c16, a};
  for (int step = 0; step < 9; ++step) {
    ASSERT_TRUE(m.forward({&i32, 1}, l32.data(), &pool).ok());
    ASSERT_TRUE(m.forward({&i16, 1}, l16.data(), &pool).ok());
    float lo = l32[0], hi = l32[0], diff = 0;
    for (size_t i = 0; i < V; ++i) {
      lo = std::min(lo, l32[i]), hi = std::max(hi, l32[i]);
      diff = std::max(diff, std::fabs(l32[i] - l16[i]));
    }
    EXPECT_LT(diff, 0.01f * (hi - lo)) << "step " << step;
    EXPECT_GT(diff, 0.0f) << "step " << step << ": the f16 cache changed nothing";
    static const int32_t next[] = {7, 42, 99, 3, 250, 18, 64, 5, 120};
    i32 = {&c32, {&next[step], 1}};
    i16 = {&c16, {&next[step], 1}};
  }
  EXPECT_EQ(c16.length(), c32.length());
}

INSTANTIATE_TEST_SUITE_P(Models, DecoderBatch, ::testing::Values(kLlama, kGpt2));

TEST(DecoderLoad, MissingAndMisshapenTensorsAreReportedTogether) {
  const std::string dir = make("llama_broken", kLlama);
  // A GPT-2 config over the Qwen2 weights: every tensor is missing.
  ASSERT_TRUE(write_text_file(dir + "/config.json", kGpt2).ok());
  auto model = load_decoder(dir);
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("missing tensor 'wte.weight'"), std::string::npos);
  EXPECT_NE(model.status().message().find("missing tensor 'ln_f.bias'"), std::string::npos);
  EXPECT_FALSE(load_decoder(dir + "/nope").ok());
}

}  // namespace
}  // namespace keel
