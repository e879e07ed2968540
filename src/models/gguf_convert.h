// `keel convert`: a Hugging Face Llama-family or GPT-2 model directory (config.json,
// safetensors, tokenizer files) to a GGUF file laid out as llama.cpp's
// convert_hf_to_gguf.py writes it, so llama.cpp and keel load it alike:
//   - architecture "llama" (llama, mistral), "qwen2", "qwen3", "gpt2"; the
//     {arch}.* hyperparameter keys, general.file_type, quantization_version;
//   - tensors with llama.cpp's names (token_embd, blk.N.attn_q, ...); for
//     "llama" the q/k rows permuted so GGUF's adjacent-pair RoPE equals HF's
//     rotate-half (convert_hf_to_gguf.py LlamaModel.permute); for "gpt2"
//     the Conv1D weights transposed to [out, in], c_attn fused as attn_qkv;
//   - 1-D tensors (norms, biases) in f32, matrices in the output type;
//   - the tokenizer as tokenizer.ggml.*: "llama" (SentencePiece scores and
//     types from tokenizer.model) when the directory has a tokenizer.model,
//     else "gpt2" (byte-level BPE: tokenizer.json vocab and merges) with the
//     pre-tokenizer named after the model family ("gpt-2" for GPT-2); special token ids, add_bos /
//     add_eos and chat_template as gguf-py's SpecialVocab reads them.
#pragma once

#include <string>

#include "core/dtype.h"
#include "core/status.h"

namespace keel {

struct ConvertOptions {
  std::string model_dir;
  std::string out_path;
  // Matrices: f32, f16, bf16, q8_0, or q4_K (every matrix, rows not a whole
  // number of blocks in f16: a uniform test format; the q4_K_M mix is `keel quantize`'s).
  // 1-D tensors stay f32.
  DType out_type = DType::F16;
};

Status convert_hf_to_gguf(const ConvertOptions& options);

}  // namespace keel
