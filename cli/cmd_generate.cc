// keel generate --model <dir|gguf> --prompt "..." [--max-tokens N] [--temperature T]
//               [--top-p P] [--top-k K] [--min-p P] [--repeat-penalty R] [--seed S]
//               [--stop STR] [--threads N] [--ignore-eos] [--dtype f32|f16|bf16] [--kv-type f16|f32]
// Streams the generated text (not the prompt) to stdout; a stats line to stderr.
#include <chrono>
#include <cstdio>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/thread_pool.h"
#include "models/decoder_model.h"
#include "runtime/generator.h"
#include "tokenizer/tokenizer.h"

namespace keel::cli {
namespace {

constexpr const char* kUsage =
    "usage: keel generate --model <dir|file.gguf> --prompt TEXT [options]\n"
    "\n"
    "Generates text after TEXT with a Llama-family or GPT-2 model (Hugging Face\n"
    "directory or GGUF file). The generated text streams to stdout; a stats line\n"
    "(prompt and generated tokens/s) goes to stderr.\n"
    "\n"
    "  --max-tokens N       tokens to generate at most (default 256)\n"
    "  --temperature T      0 = greedy (default 0.8)\n"
    "  --top-k K            keep the K most likely tokens (default 40, 0 = off)\n"
    "  --top-p P            nucleus sampling (default 0.95, 1 = off)\n"
    "  --min-p P            drop tokens below P x the top probability (default 0.05)\n"
    "  --repeat-penalty R   repetition penalty (default 1.0 = off)\n"
    "  --seed S             random seed (default 0)\n"
    "  --stop STR           stop when STR appears (not printed)\n"
    "  --threads N          threads (default: KEEL_THREADS or all cores)\n"
    "  --ignore-eos         keep going past the end-of-sequence token\n"
    "  --dtype D            safetensors weights as f32, f16 or bf16 (default: as stored)\n"
    "  --kv-type T          KV cache as f16 (default: half the memory and attention reads)\n"
    "                       or f32\n"
    "  --no-bos             do not add the tokenizer's special tokens to the prompt\n";

int usage_error(const std::string& m) {
  std::fprintf(stderr, "keel generate: %s\nrun 'keel generate --help' for the options\n", m.c_str());
  return 2;
}

Result<float> float_flag(const Args& a, const char* name, float fallback) {
  const std::string* v = a.value(name);
  if (!v) return fallback;
  try {
    size_t used = 0;
    const float f = std::stof(*v, &used);
    if (used != v->size()) throw std::invalid_argument("trailing");
    return f;
  } catch (const std::exception&) {
    return Error("option '--", name, "': expected a number, got '", *v, "'");
  }
}

}  // namespace

int cmd_generate(int argc, char** argv) {
  auto args = Args::parse(argc, argv,
                          {{"model"}, {"prompt"}, {"max-tokens"}, {"temperature"}, {"top-p"}, {"top-k"},
                           {"min-p"}, {"repeat-penalty"}, {"seed"}, {"stop"}, {"threads"},
                           {"ignore-eos", false}, {"dtype"}, {"kv-type"}, {"no-bos", false}, {"help", false}});
  if (!args.ok()) return usage_error(args.error());
  if (args->has("help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!args->positional().empty()) return usage_error("unexpected argument '" + args->positional().front() + "'");
  if (!args->value("model")) return usage_error("--model is required");
  if (!args->value("prompt")) return usage_error("--prompt is required");

  GenerateOptions opt;
  auto max_tokens = args->int_value("max-tokens", 0, 1 << 20);
  if (!max_tokens.ok()) return usage_error(max_tokens.error());
  opt.max_tokens = static_cast<int32_t>(max_tokens->value_or(256));
  auto top_k = args->int_value("top-k", 0, 1 << 30);
  if (!top_k.ok()) return usage_error(top_k.error());
  opt.sampling.top_k = static_cast<int32_t>(top_k->value_or(40));
  auto seed = args->uint_value("seed");
  if (!seed.ok()) return usage_error(seed.error());
  opt.sampling.seed = seed->value_or(0);
  auto threads = args->int_value("threads", 1, 1024);
  if (!threads.ok()) return usage_error(threads.error());
  for (auto [name, dst, fb] : {std::tuple{"temperature", &opt.sampling.temperature, 0.8f},
                               std::tuple{"top-p", &opt.sampling.top_p, 0.95f},
                               std::tuple{"min-p", &opt.sampling.min_p, 0.05f},
                               std::tuple{"repeat-penalty", &opt.sampling.repetition_penalty, 1.0f}}) {
    auto f = float_flag(*args, name, fb);
    if (!f.ok()) return usage_error(f.status().message());
    *dst = *f;
  }
  if (Status s = validate(opt.sampling); !s.ok()) return usage_error(s.message());
  if (const std::string* s = args->value("stop")) opt.stop_strings.push_back(*s);
  opt.ignore_eos = args->has("ignore-eos");
  const std::string kv_type = args->value_or("kv-type", "f16");
  if (kv_type != "f16" && kv_type != "f32") return usage_error("--kv-type must be f16 or f32, got '" + kv_type + "'");
  opt.kv_type = kv_type == "f16" ? KvType::F16 : KvType::F32;

  const std::string model_path = *args->value("model");
  const auto t_load = std::chrono::steady_clock::now();
  auto model = load_decoder(model_path, {.dtype = args->value_or("dtype", "")});
  if (!model.ok()) {
    std::fprintf(stderr, "keel generate: %s\n", model.status().message().c_str());
    return 1;
  }
  auto tokenizer = tok::Tokenizer::from_file(model_path);
  if (!tokenizer.ok()) {
    std::fprintf(stderr, "keel generate: %s\n", tokenizer.status().message().c_str());
    return 1;
  }
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count();
  auto enc = tokenizer->encode(*args->value("prompt"), !args->has("no-bos"));
  if (!enc.ok()) {
    std::fprintf(stderr, "keel generate: prompt: %s\n", enc.status().message().c_str());
    return 1;
  }
  std::vector<int32_t> prompt(enc->ids.begin(), enc->ids.end());

  ThreadPool pool(static_cast<int>(threads->value_or(0)));
  ThreadPool* use = threads->has_value() ? &pool : &default_thread_pool();
  Generator gen(**model, *tokenizer, use);
  auto result = gen.generate(prompt, opt, [](std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return true;
  });
  std::fputc('\n', stdout);
  if (!result.ok()) {
    std::fprintf(stderr, "keel generate: %s\n", result.status().message().c_str());
    return 1;
  }
  const size_t n = result->tokens.size();
  const double prefill_tps = result->prefill_seconds > 0 ? result->prompt_tokens / result->prefill_seconds : 0;
  const double decode_tps = n > 1 && result->decode_seconds > 0 ? (n - 1) / result->decode_seconds : 0;
  std::fprintf(stderr,
               "keel generate: %s, %d threads, load %.2f s | prompt %zu tokens, %.1f tokens/s | "
               "generated %zu tokens, %.2f tokens/s | finish: %s\n",
               std::string((*model)->architecture()).c_str(), use->num_threads(), load_s,
               result->prompt_tokens, prefill_tps, n, decode_tps, result->finish_reason.c_str());
  return 0;
}

}  // namespace keel::cli
