// libFuzzer target: Tokenizer::from_gguf on GGUF vocabularies built from the
// input, then encode and decode -- errors are values, nothing crashes. Input:
//   byte 0: kind -- 0 llama, 1 gpt2, 2 bert, 3 the rest is a whole GGUF file
//   byte 1: flags -- bit 0 token types, bit 1 bos/eos ids, bit 2 add bos/eos,
//           bit 3 add_space_prefix off, bit 4 encode with special tokens,
//           bits 5-6 pre-tokenizer (gpt-2, llama-bpe, qwen2, falcon)
//   then lines: tokens up to an empty line, then "left right" merges; the
//   last line is the text to encode. Types and scores come from the tokens'
//   bytes; the decoded ids are the encoding's plus a few from the input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "formats/gguf.h"
#include "tokenizer/tokenizer.h"

namespace {

using keel::GgufValue;
using keel::GgufValueType;

void exercise(const keel::tok::Tokenizer& t, std::string_view text, bool special, std::string_view raw) {
  auto e = t.encode(text, special);
  std::vector<uint32_t> ids;
  if (e.ok()) ids = e->ids;
  for (size_t i = 0; i + 1 < raw.size() && i < 16; i += 2)
    ids.push_back(static_cast<uint8_t>(raw[i]) | (static_cast<uint32_t>(static_cast<uint8_t>(raw[i + 1])) << 8));
  (void)t.decode(ids, false);
  (void)t.decode(ids, true);
  (void)t.vocab_size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t kind = data[0] % 4, flags = data[1];
  const std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  if (kind == 3) {
    auto file = keel::GgufFile::parse({data + 2, size - 2}, "fuzz.gguf");
    if (!file.ok()) return 0;
    auto t = keel::tok::Tokenizer::from_gguf(*file);
    if (t.ok()) exercise(*t, "Hello world! h\xc3\xa9llo \xe4\xbd\xa0\xe5\xa5\xbd", flags & 16, rest);
    return 0;
  }

  std::vector<std::string_view> lines;
  for (size_t pos = 0; pos <= rest.size();) {
    size_t nl = rest.find('\n', pos);
    if (nl == std::string_view::npos) nl = rest.size();
    lines.push_back(rest.substr(pos, nl - pos));
    pos = nl + 1;
  }
  const std::string_view text = lines.back();
  lines.pop_back();
  std::vector<GgufValue> tokens, scores, types, merges;
  bool in_merges = false;
  for (std::string_view l : lines) {
    if (l.empty() && !in_merges) {
      in_merges = true;
      continue;
    }
    if (in_merges) {
      merges.push_back(GgufValue::str(std::string(l)));
      continue;
    }
    const uint8_t h = l.empty() ? 0 : static_cast<uint8_t>(l.back());
    tokens.push_back(GgufValue::str(std::string(l)));
    scores.push_back(GgufValue::f32(-static_cast<float>(h % 13) - static_cast<float>(l.size())));
    types.push_back(GgufValue::i32(h % 8 == 7 ? 1 : h % 8));
  }
  const uint32_t n = static_cast<uint32_t>(tokens.size());
  static const char* kKinds[] = {"llama", "gpt2", "bert"};
  static const char* kPres[] = {"gpt-2", "llama-bpe", "qwen2", "falcon"};
  keel::GgufWriter w;
  w.set("tokenizer.ggml.model", GgufValue::str(kKinds[kind]));
  w.set("tokenizer.ggml.pre", GgufValue::str(kPres[(flags >> 5) & 3]));
  w.set("tokenizer.ggml.tokens", GgufValue::array(GgufValueType::String, std::move(tokens)));
  w.set("tokenizer.ggml.scores", GgufValue::array(GgufValueType::F32, std::move(scores)));
  if (flags & 1) w.set("tokenizer.ggml.token_type", GgufValue::array(GgufValueType::I32, std::move(types)));
  if (kind == 1) w.set("tokenizer.ggml.merges", GgufValue::array(GgufValueType::String, std::move(merges)));
  if ((flags & 2) && n > 0) {
    w.set("tokenizer.ggml.bos_token_id", GgufValue::u32(flags % n));
    w.set("tokenizer.ggml.eos_token_id", GgufValue::u32((flags / 3) % n));
    w.set("tokenizer.ggml.unknown_token_id", GgufValue::u32((flags / 7) % n));
    w.set("tokenizer.ggml.seperator_token_id", GgufValue::u32((flags / 5) % n));
  }
  w.set("tokenizer.ggml.add_bos_token", GgufValue::boolean(flags & 4));
  w.set("tokenizer.ggml.add_eos_token", GgufValue::boolean(flags & 4));
  w.set("tokenizer.ggml.add_space_prefix", GgufValue::boolean(!(flags & 8)));
  auto bytes = w.write_to_memory([](size_t, std::span<uint8_t>) { return keel::Status::Ok(); });
  if (!bytes.ok()) return 0;
  auto file = keel::GgufFile::parse(*bytes, "fuzz.gguf");
  if (!file.ok()) return 0;
  auto t = keel::tok::Tokenizer::from_gguf(*file);
  if (t.ok()) exercise(*t, text, flags & 16, rest);
  return 0;
}
