// keel convert <hf model dir> <out.gguf> [--outtype f32|f16|bf16|q8_0]
#include <cstdio>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"
#include "models/gguf_convert.h"

namespace keel::cli {

int cmd_convert(int argc, char** argv) {
  auto args = Args::parse(argc, argv, {{"outtype"}, {"help", false}});
  const char* usage =
      "usage: keel convert <hf model dir> <out.gguf> [--outtype f32|f16|bf16|q8_0|q4_K]\n"
      "\n"
      "Writes a GGUF file as llama.cpp's convert_hf_to_gguf.py does (Llama, Mistral, Qwen2,\n"
      "Qwen3): llama.cpp's tensor names and metadata, the tokenizer as tokenizer.ggml.*.\n"
      "Matrices in --outtype (default f16), norms and biases in f32.\n";
  if (!args.ok()) {
    std::fprintf(stderr, "keel convert: %s\n%s", args.error().c_str(), usage);
    return 2;
  }
  if (args->has("help")) {
    std::fputs(usage, stdout);
    return 0;
  }
  if (args->positional().size() != 2) {
    std::fputs(usage, stderr);
    return 2;
  }
  ConvertOptions o;
  o.model_dir = args->positional()[0];
  o.out_path = args->positional()[1];
  const std::string t = args->value_or("outtype", "f16");
  if (t == "f32") o.out_type = DType::F32;
  else if (t == "f16") o.out_type = DType::F16;
  else if (t == "bf16") o.out_type = DType::BF16;
  else if (t == "q8_0") o.out_type = DType::Q8_0;
  else if (t == "q4_K") o.out_type = DType::Q4_K;
  else {
    std::fprintf(stderr, "keel convert: --outtype must be f32, f16, bf16, q8_0 or q4_K, got '%s'\n", t.c_str());
    return 2;
  }
  if (Status s = convert_hf_to_gguf(o); !s.ok()) {
    std::fprintf(stderr, "keel convert: %s\n", s.message().c_str());
    return 1;
  }
  std::printf("wrote %s\n", o.out_path.c_str());
  return 0;
}

}  // namespace keel::cli
