// keel make-model --config <config.json|dir> [--tokenizer <dir>] [--layers N]
//                 [--seed S] [--dtype f32|f16|bf16] --out <dir>
// Writes a Hugging Face-format model directory with seeded random weights.
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "cli/args.h"
#include "cli/commands.h"
#include "models/synthetic_model.h"

namespace keel::cli {
namespace {

constexpr const char* kUsage =
    "usage: keel make-model --config <config.json|dir> [--tokenizer <dir>] [--layers N]\n"
    "                       [--seed S] [--dtype f32|f16|bf16] --out <dir>\n"
    "\n"
    "Writes <dir>/config.json (the input config, layer count and torch_dtype updated),\n"
    "<dir>/model.safetensors (norms 1, biases 0, other weights N(0, 0.02), the same bytes\n"
    "for the same options), and copies the tokenizer and sentence-transformers files.\n"
    "\n"
    "  --config     HF config.json, or the directory holding it\n"
    "  --tokenizer  directory with tokenizer.json & co. (default: the config's directory)\n"
    "  --layers     number of layers to write instead of the config's\n"
    "  --seed       random seed, an unsigned 64-bit integer (default 0)\n"
    "  --dtype      f32 (default), f16 or bf16\n"
    "  --out        output directory (created if missing)\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "keel make-model: %s\nrun 'keel make-model --help' for the options\n",
               message.c_str());
  return 2;
}

}  // namespace

int cmd_make_model(int argc, char** argv) {
  auto args = Args::parse(argc, argv,
                          {{"config"}, {"tokenizer"}, {"layers"}, {"seed"}, {"dtype"}, {"out"},
                           {"help", false}});
  if (!args.ok()) return usage_error(args.error());
  if (args->has("help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!args->positional().empty())
    return usage_error("unexpected argument '" + args->positional().front() + "'");
  if (!args->value("config")) return usage_error("--config is required");
  if (!args->value("out")) return usage_error("--out is required");

  MakeModelOptions options;
  options.config_path = *args->value("config");
  options.tokenizer_dir = args->value_or("tokenizer", "");
  options.out_dir = *args->value("out");
  auto layers = args->int_value("layers", 1, 4096);
  if (!layers.ok()) return usage_error(layers.error());
  options.num_layers = *layers;
  auto seed = args->uint_value("seed");
  if (!seed.ok()) return usage_error(seed.error());
  options.seed = seed->value_or(0);
  const std::string dtype = args->value_or("dtype", "f32");
  if (dtype == "f32") options.dtype = DType::F32;
  else if (dtype == "f16") options.dtype = DType::F16;
  else if (dtype == "bf16") options.dtype = DType::BF16;
  else return usage_error("--dtype must be f32, f16 or bf16, got '" + dtype + "'");

  const auto start = std::chrono::steady_clock::now();
  if (Status s = make_model(options); !s.ok()) {
    std::fprintf(stderr, "keel make-model: %s\n", s.message().c_str());
    return 1;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(std::filesystem::path(options.out_dir) / "model.safetensors", ec);
  std::printf("wrote %s (model.safetensors %.1f MB, %s) in %.1f s\n", options.out_dir.c_str(),
              ec ? 0.0 : static_cast<double>(bytes) / 1e6, dtype.c_str(), seconds);
  return 0;
}

}  // namespace keel::cli
