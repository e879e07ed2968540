// keel quantize <in.gguf> <out.gguf> --type q8_0|q4_0|q4_K_M|q5_K_M|f16|bf16|f32 [--threads N]
// Re-encodes a GGUF's weights with llama.cpp's per-tensor type choice for
// that file type (see formats/gguf_quantize.h).
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "cli/args.h"
#include "cli/commands.h"
#include "formats/gguf.h"
#include "formats/gguf_quantize.h"

namespace keel::cli {
namespace {

constexpr const char* kUsage =
    "usage: keel quantize <in.gguf> <out.gguf> --type q8_0|q4_0|q4_K_M|q5_K_M|f16|bf16|f32 [--threads N]\n"
    "\n"
    "Writes <out.gguf> with the input's metadata and tensors re-encoded as llama.cpp's\n"
    "llama-quantize would choose for that type (Q4_K_M / Q5_K_M: q6_K for output.weight\n"
    "and for attn_v / attn_qkv / ffn_down in the use_more_bits layers, q4_K / q5_K\n"
    "elsewhere; q5_0 / q5_1 / q8_0 where a row is not whole 256-element blocks; 1-D\n"
    "tensors and norms keep their type). general.file_type is set to llama.cpp's number.\n"
    "\n"
    "  --type     the target file type\n"
    "  --threads  worker threads (default: all cores)\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "keel quantize: %s\nrun 'keel quantize --help' for the options\n", message.c_str());
  return 2;
}

}  // namespace

int cmd_quantize(int argc, char** argv) {
  auto args = Args::parse(argc, argv, {{"type"}, {"threads"}, {"help", false}});
  if (!args.ok()) return usage_error(args.error());
  if (args->has("help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (args->positional().size() != 2) return usage_error("expected <in.gguf> <out.gguf>");
  if (!args->value("type")) return usage_error("--type is required");
  auto ftype = quant_ftype_from_name(*args->value("type"));
  if (!ftype.ok()) return usage_error(ftype.status().message());
  auto threads = args->int_value("threads", 1, 1024);
  if (!threads.ok()) return usage_error(threads.error());
  const std::string in_path = args->positional()[0], out_path = args->positional()[1];
  if (std::filesystem::is_directory(in_path)) {
    std::fprintf(stderr,
                 "keel quantize: %s is a directory; convert it to GGUF first (keel convert) and quantize that\n",
                 in_path.c_str());
    return 1;
  }
  auto in = GgufFile::open(in_path);
  if (!in.ok()) {
    std::fprintf(stderr, "keel quantize: %s\n", in.status().message().c_str());
    return 1;
  }
  ThreadPool pool(threads->value_or(0));
  const auto t0 = std::chrono::steady_clock::now();
  auto stats = quantize_gguf(*in, out_path, *ftype, &pool);
  if (!stats.ok()) {
    std::fprintf(stderr, "keel quantize: %s\n", stats.status().message().c_str());
    return 1;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "keel quantize: %s -> %s (%s): %zu tensors converted, %zu copied, %.1f MB -> %.1f MB in %.1f s\n",
               in_path.c_str(), out_path.c_str(), std::string(quant_ftype_name(*ftype)).c_str(),
               stats->tensors_converted, stats->tensors_copied, stats->bytes_in / 1e6, stats->bytes_out / 1e6, s);
  return 0;
}

}  // namespace keel::cli
