// Text generation for one sequence: prefill the prompt, then decode token by
// token with a Sampler until a stop id, a stop string, or max_tokens, calling
// back with the text as it becomes final (incomplete UTF-8 and possible stop
// strings held back).
//
// A Generator keeps the KV cache of its last call: a prompt that shares a
// prefix with the previous prompt + generated tokens (a chat's next turn)
// prefills only what follows that prefix.
//
//   Generator gen(*model, tokenizer, &pool);
//   auto stats = gen.generate(prompt_ids, {.max_tokens = 64}, [](std::string_view t) {
//     fwrite(t.data(), 1, t.size(), stdout); return true; });
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"
#include "models/decoder_model.h"
#include "runtime/sampling.h"
#include "tokenizer/tokenizer.h"

namespace keel {

struct GenerateOptions {
  int32_t max_tokens = 256;
  SamplingParams sampling{};
  std::vector<int32_t> stop_ids;         // in addition to the model's eos ids
  std::vector<std::string> stop_strings;
  bool ignore_eos = false;               // don't stop on eos / stop ids
  size_t context = 0;                    // KV cache positions; 0: prompt + max_tokens
  KvType kv_type = KvType::F32;          // the KV cache's element type
  bool logprobs = false;                 // fill GenerateResult::logprobs (alternatives: sampling.top_logprobs)
};

struct GenerateResult {
  std::vector<int32_t> tokens;   // generated ids (a stop id is not included)
  std::vector<SampledToken> logprobs;  // one per entry of tokens, when options.logprobs
  std::string finish_reason;     // "stop" or "length"
  size_t prompt_tokens = 0;
  size_t cached_tokens = 0;      // prompt tokens whose keys/values came from the previous call's cache
  double prefill_seconds = 0, decode_seconds = 0;
  // decode_seconds covers tokens.size() - 1 forward passes (the first token
  // comes from the prefill's logits).
};

// Returns false to stop early.
using TextCallback = std::function<bool(std::string_view text)>;

class Generator {
 public:
  Generator(DecoderModel& model, const tok::Tokenizer& tokenizer, ThreadPool* pool = nullptr)
      : model_(model), tokenizer_(tokenizer), pool_(pool) {}

  // Fails on an empty prompt, a prompt past the context, bad sampling params.
  Result<GenerateResult> generate(std::span<const int32_t> prompt, const GenerateOptions& options,
                                  const TextCallback& on_text = nullptr);

 private:
  DecoderModel& model_;
  const tok::Tokenizer& tokenizer_;
  ThreadPool* pool_;
  KvCache cache_;                // kept between calls
  std::vector<int32_t> cached_;  // the tokens whose keys/values cache_ holds, in order
};

}  // namespace keel
