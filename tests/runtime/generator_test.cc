// Generator's KV reuse between calls, on a small synthetic Qwen2-shaped model:
// a second call whose prompt extends the first call's prompt + output (a
// chat's next turn) prefills only the new tokens, and generates exactly what
// a fresh Generator does; a prompt that diverges early reuses only the common
// prefix; a different KV type starts over; a longer one grows the cache. (Greedy output against PyTorch is
// in tests/cli/test_generate.py and test_chat.py.)
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/mmap_file.h"
#include "core/thread_pool.h"
#include "models/decoder_model.h"
#include "models/synthetic_model.h"
#include "runtime/generator.h"
#include "tokenizer/tokenizer.h"

namespace keel {
namespace {

namespace fs = std::filesystem;

const char* kQwen = R"({"model_type": "qwen2", "hidden_size": 64, "intermediate_size": 96,
  "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 300,
  "max_position_embeddings": 256, "tie_word_embeddings": true, "eos_token_id": 1})";

class GeneratorReuse : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path dir = fs::path(KEEL_TEST_TMP) / "generator_test";
    fs::remove_all(dir);
    fs::create_directories(dir / "src");
    ASSERT_TRUE(write_text_file((dir / "src" / "config.json").string(), kQwen).ok());
    MakeModelOptions o;
    o.config_path = (dir / "src").string();
    o.out_dir = (dir / "model").string();
    o.seed = 9;
    const Status s = make_model(o);
    ASSERT_TRUE(s.ok()) << s.message();
    auto m = load_decoder(o.out_dir);
    ASSERT_TRUE(m.ok()) << m.status().message();
    model_ = std::move(*m);
    // Any byte-level vocabulary decodes ids < 300 (GPT-2's first ids are bytes and merges).
    auto t = tok::Tokenizer::from_file(std::string(KEEL_SHARED_MODELS) + "/gpt2");
    ASSERT_TRUE(t.ok()) << t.status().message();
    tokenizer_.emplace(std::move(*t));
  }

  GenerateOptions greedy(int32_t n, KvType kv = KvType::F32) const {
    GenerateOptions o;
    o.max_tokens = n;
    o.sampling.temperature = 0.0f;
    o.sampling.top_logprobs = 3;
    o.logprobs = true;
    o.ignore_eos = true;
    o.kv_type = kv;
    return o;
  }

  // The same call on a fresh Generator.
  GenerateResult fresh(const std::vector<int32_t>& prompt, const GenerateOptions& o, std::string* text) {
    Generator g(*model_, *tokenizer_, &pool_);
    auto r = g.generate(prompt, o, [&](std::string_view t) { *text += t; return true; });
    EXPECT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->cached_tokens, 0u);
    return *r;
  }

  static void expect_same(const GenerateResult& a, const GenerateResult& b) {
    EXPECT_EQ(a.tokens, b.tokens);
    ASSERT_EQ(a.logprobs.size(), b.logprobs.size());
    for (size_t i = 0; i < a.logprobs.size(); ++i) {
      EXPECT_NEAR(a.logprobs[i].logprob, b.logprobs[i].logprob, 1e-4f) << "token " << i;
      ASSERT_EQ(a.logprobs[i].top.size(), 3u);
      for (size_t k = 0; k < 3; ++k) EXPECT_EQ(a.logprobs[i].top[k].id, b.logprobs[i].top[k].id);
    }
  }

  std::unique_ptr<DecoderModel> model_;
  std::optional<tok::Tokenizer> tokenizer_;
  ThreadPool pool_{2};
};

TEST_F(GeneratorReuse, NextTurnPrefillsOnlyNewTokens) {
  Generator gen(*model_, *tokenizer_, &pool_);
  const std::vector<int32_t> p1 = {5, 17, 200, 42, 99, 3, 250, 77};
  std::string t1;
  auto r1 = gen.generate(p1, greedy(6), [&](std::string_view t) { t1 += t; return true; });
  ASSERT_TRUE(r1.ok()) << r1.status().message();
  EXPECT_EQ(r1->cached_tokens, 0u);
  ASSERT_EQ(r1->tokens.size(), 6u);
  ASSERT_EQ(r1->logprobs.size(), 6u);

  // Turn two: the first prompt, its reply and new tokens. The last generated
  // token was never fed, so the cache holds p1 and the first 5 of the reply.
  std::vector<int32_t> p2 = p1;
  p2.insert(p2.end(), r1->tokens.begin(), r1->tokens.end());
  for (int32_t id : {11, 12, 13, 140}) p2.push_back(id);
  std::string t2, t2_fresh;
  auto r2 = gen.generate(p2, greedy(8), [&](std::string_view t) { t2 += t; return true; });
  ASSERT_TRUE(r2.ok()) << r2.status().message();
  EXPECT_EQ(r2->cached_tokens, p1.size() + 5);
  expect_same(*r2, fresh(p2, greedy(8), &t2_fresh));
  EXPECT_EQ(t2, t2_fresh);

  // A prompt that shares only the first 3 tokens, and then the same prompt
  // again (everything but its last token reused).
  std::vector<int32_t> p3 = {5, 17, 200, 1, 2, 3, 4};
  std::string t3, t3_fresh, t4;
  auto r3 = gen.generate(p3, greedy(5), [&](std::string_view t) { t3 += t; return true; });
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(r3->cached_tokens, 3u);
  expect_same(*r3, fresh(p3, greedy(5), &t3_fresh));
  EXPECT_EQ(t3, t3_fresh);
  auto r4 = gen.generate(p3, greedy(5), [&](std::string_view t) { t4 += t; return true; });
  ASSERT_TRUE(r4.ok());
  EXPECT_EQ(r4->cached_tokens, p3.size() - 1);
  expect_same(*r4, *r3);
  EXPECT_EQ(t4, t3);
}

TEST_F(GeneratorReuse, AnotherKvTypeStartsOverALongerContextGrows) {
  Generator gen(*model_, *tokenizer_, &pool_);
  const std::vector<int32_t> p = {9, 8, 7, 6, 5, 4};
  ASSERT_TRUE(gen.generate(p, greedy(4, KvType::F32)).ok());
  auto f16 = gen.generate(p, greedy(4, KvType::F16));
  ASSERT_TRUE(f16.ok());
  EXPECT_EQ(f16->cached_tokens, 0u);
  auto again = gen.generate(p, greedy(4, KvType::F16));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->cached_tokens, p.size() - 1);
  EXPECT_EQ(again->tokens, f16->tokens);
  // More room than the cache has: it grows and keeps what it holds.
  auto longer = gen.generate(p, greedy(100, KvType::F16));
  ASSERT_TRUE(longer.ok());
  EXPECT_EQ(longer->cached_tokens, p.size() - 1);
  ASSERT_EQ(longer->tokens.size(), 100u);
  EXPECT_TRUE(std::equal(f16->tokens.begin(), f16->tokens.end(), longer->tokens.begin()));
  std::string unused;
  expect_same(*longer, fresh(p, greedy(100, KvType::F16), &unused));
  // A failed call (a prompt past the context) leaves the cache usable.
  EXPECT_FALSE(gen.generate(std::vector<int32_t>(300, 3), greedy(4, KvType::F16)).ok());
  auto after = gen.generate(p, greedy(4, KvType::F16));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->cached_tokens, p.size() - 1);
  EXPECT_EQ(after->tokens, f16->tokens);
}

}  // namespace
}  // namespace keel
