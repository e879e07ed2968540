// keel: command-line entry point. Each subcommand lives in its own cmd_*.cc.
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "cli/commands.h"
#include "core/cpu_features.h"

namespace {

struct Command {
  const char* name;
  int (*run)(int argc, char** argv);
  const char* help;
};

constexpr Command kCommands[] = {
    {"inspect", keel::cli::cmd_inspect, "show a model's architecture, tensors and metadata"},
    {"make-model", keel::cli::cmd_make_model, "write a model dir from a real config with seeded random weights"},
    {"tokenize", keel::cli::cmd_tokenize, "encode JSON lines with a tokenizer.json (ids, tokens, offsets, masks)"},
    {"detokenize", keel::cli::cmd_detokenize, "decode JSON id arrays with a tokenizer.json"},
    {"embed", keel::cli::cmd_embed, "sentence embeddings of JSON lines with a BERT-family model"},
    {"generate", keel::cli::cmd_generate, "generate text with a Llama-family or GPT-2 model (HF dir or GGUF)"},
    {"chat", keel::cli::cmd_chat, "interactive terminal chat with a model's chat template"},
    {"convert", keel::cli::cmd_convert, "convert a Hugging Face Llama-family model to GGUF (as llama.cpp's converter)"},
    {"quantize", keel::cli::cmd_quantize, "re-encode a GGUF's weights (q8_0, q4_0, q4_K_M, q5_K_M, f16, bf16, f32) as llama.cpp would"},
    {"serve", keel::cli::cmd_serve, "HTTP embedding service (OpenAI /v1/embeddings, TEI /embed, metrics)"},
};

void usage(FILE* out) {
  std::fprintf(out, "usage: keel <command> [options]\n\ncommands:\n");
  for (const auto& c : kCommands) std::fprintf(out, "  %-12s %s\n", c.name, c.help);
  std::fprintf(out, "\n  keel --version   version and CPU features\n"
                    "run 'keel <command> --help' for a command's options\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  std::string_view cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    usage(stdout);
    return 0;
  }
  if (cmd == "--version") {
    std::printf("keel 0.1.0\ncpu: %s\nkernels: %s\n", keel::cpu_features().to_string().c_str(),
                keel::isa_name(keel::active_isa()));
    return 0;
  }
  for (const auto& c : kCommands)
    if (cmd == c.name) return c.run(argc - 1, argv + 1);
  std::fprintf(stderr, "keel: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return 2;
}
