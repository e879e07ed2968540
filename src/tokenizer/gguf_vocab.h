// The tokenizer a GGUF file carries in its tokenizer.ggml.* metadata, read and
// checked (the keys and defaults of llama.cpp's llama_vocab::impl::load):
//
//   tokenizer.ggml.model        string  "llama" (SentencePiece BPE by score),
//                                       "gpt2" (byte-level BPE), "bert" (WordPiece),
//                                       "gemma4" (BPE over "▁"-spaced text, byte fallback)
//   tokenizer.ggml.pre          string  gpt2: names the pre-tokenizer (regexes)
//   tokenizer.ggml.tokens       [string]  token id i is item i
//   tokenizer.ggml.scores       [f32]     llama: merge priority (required there)
//   tokenizer.ggml.token_type   [i32]     1 normal, 2 unknown, 3 control,
//                                         4 user-defined, 5 unused, 6 byte
//   tokenizer.ggml.merges       [string]  gpt2, gemma4: "left right", by rank (required there)
//   tokenizer.ggml.{bos,eos,unknown,seperator,padding,cls,mask}_token_id  u32
//   tokenizer.ggml.add_{bos,eos,sep}_token, add_space_prefix,
//   tokenizer.ggml.normalizer.{lowercase,strip_accents}                  bool
//
// Every problem found is reported, one per line, as
//   "<source>: key '<key>': <what>"
// (missing required keys, wrong value or item types, arrays whose lengths
// differ from tokens', token ids past the vocabulary, unknown token types,
// tokens that are not UTF-8, merges without a space, an unknown model kind).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace keel {
class GgufFile;
}

namespace keel::tok {

// llama.cpp's llama_token_type.
enum class GgufTokenType : int32_t {
  Undefined = 0,
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6,
};

enum class GgufTokenizerKind { Llama, Gpt2, Bert, Gemma4 };

struct GgufVocab {
  std::string source;
  GgufTokenizerKind kind = GgufTokenizerKind::Llama;
  std::string kind_name;  // tokenizer.ggml.model as written
  std::string pre;        // tokenizer.ggml.pre; "" when absent
  std::vector<std::string> tokens;  // empty tokens renamed "[EMPTY_<id>]" (as llama.cpp)
  std::vector<float> scores;        // one per token; empty when absent
  std::vector<GgufTokenType> types;  // one per token (Normal when absent)
  std::vector<std::pair<std::string, std::string>> merges;
  // Special token ids: the file's, else llama.cpp's default for the kind
  // (llama: bos 1, eos 2, unk 0; bert: bos = cls 101, unk 100, sep 102, pad 0,
  // mask 103) when that id exists.
  std::optional<uint32_t> bos, eos, unk, sep, pad, mask;
  // What encode(..., add_special_tokens=true) adds; llama.cpp's defaults:
  // llama adds bos, bert adds bos (cls) and sep, gpt2 adds nothing.
  bool add_bos = false, add_eos = false, add_sep = false;
  // llama: prepend a space to the text (default true).
  bool add_space_prefix = true;
  // bert: BertNormalizer options (default lowercase; strip_accents follows it).
  bool lowercase = true;
  bool strip_accents = true;
};

// Reads and checks the metadata; every problem, one per line, on failure.
Result<GgufVocab> read_gguf_vocab(const GgufFile& file);

}  // namespace keel::tok
