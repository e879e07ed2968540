// keel generate --model <dir|gguf> --prompt "..." [--max-tokens N] [--temperature T]
//               [--top-p P] [--top-k K] [--min-p P] [--repeat-penalty R] [--seed S]
//               [--stop STR] [--threads N] [--ignore-eos] [--dtype f32|f16|bf16] [--kv-type f16|f32]
//               [--logprobs N [--logprobs-file F]]
// Streams the generated text (not the prompt) to stdout; a stats line to stderr.
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/generation_flags.h"
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
    "  --dtype D            safetensors weights as f32, f16 or bf16 (default: as stored)\n"
    "  --no-bos             do not add the tokenizer's special tokens to the prompt\n"
    "  --logprobs N         after the text, one JSON line per generated token: its id,\n"
    "                       text, bytes, log-probability and the N (0..20) most likely\n"
    "                       alternatives (log-softmax of the model's logits)\n"
    "  --logprobs-file F    write those lines to F instead of stderr\n"
    "Generation (defaults: --max-tokens 256, --temperature 0.8):\n";

int usage_error(const std::string& m) {
  std::fprintf(stderr, "keel generate: %s\nrun 'keel generate --help' for the options\n", m.c_str());
  return 2;
}

// {"id":..,"token":..,"bytes":[..],"logprob":..} for one token.
nlohmann::json token_json(const tok::Tokenizer& tokenizer, int32_t id, float logprob) {
  const uint32_t u = static_cast<uint32_t>(id);
  auto text = tokenizer.decode({&u, 1}, /*skip_special_tokens=*/false);
  const std::string s = text.ok() ? *text : "";
  nlohmann::json bytes = nlohmann::json::array();
  for (unsigned char c : s) bytes.push_back(int(c));
  return {{"id", id}, {"token", s}, {"bytes", std::move(bytes)}, {"logprob", logprob}};
}

// One JSON line per generated token, OpenAI's logprobs.content entries.
Status write_logprobs(const tok::Tokenizer& tokenizer, const GenerateResult& r, std::FILE* out) {
  for (const SampledToken& t : r.logprobs) {
    nlohmann::json j = token_json(tokenizer, t.id, t.logprob);
    nlohmann::json top = nlohmann::json::array();
    for (const TokenLogprob& alt : t.top) top.push_back(token_json(tokenizer, alt.id, alt.logprob));
    j["top_logprobs"] = std::move(top);
    const std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    if (std::fwrite(line.data(), 1, line.size(), out) != line.size()) return Error("cannot write the logprobs");
  }
  return std::fflush(out) == 0 ? Status() : Error("cannot write the logprobs");
}

}  // namespace

int cmd_generate(int argc, char** argv) {
  std::vector<FlagSpec> flags = generation_flags();
  for (FlagSpec f : {FlagSpec{"model"}, FlagSpec{"prompt"}, FlagSpec{"dtype"}, FlagSpec{"no-bos", false},
                     FlagSpec{"logprobs"}, FlagSpec{"logprobs-file"}, FlagSpec{"help", false}})
    flags.push_back(f);
  auto args = Args::parse(argc, argv, flags);
  if (!args.ok()) return usage_error(args.error());
  if (args->has("help")) {
    std::fputs(kUsage, stdout);
    std::fputs(kGenerationUsage, stdout);
    return 0;
  }
  if (!args->positional().empty()) return usage_error("unexpected argument '" + args->positional().front() + "'");
  if (!args->value("model")) return usage_error("--model is required");
  if (!args->value("prompt")) return usage_error("--prompt is required");

  GenerateOptions opt;
  std::optional<int> threads;
  if (Status s = read_generation_flags(*args, {.max_tokens = 256, .temperature = 0.8f}, &opt, &threads); !s.ok())
    return usage_error(s.message());
  auto logprobs = args->int_value("logprobs", 0, 20);
  if (!logprobs.ok()) return usage_error(logprobs.error());
  opt.logprobs = logprobs->has_value();
  opt.sampling.top_logprobs = static_cast<int32_t>(logprobs->value_or(0));
  if (args->has("logprobs-file") && !opt.logprobs) return usage_error("--logprobs-file needs --logprobs N");
  // Opened before the work starts: an unwritable path fails fast.
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> logprobs_out(nullptr, &std::fclose);
  if (const std::string* path = args->value("logprobs-file")) {
    logprobs_out.reset(std::fopen(path->c_str(), "w"));
    if (!logprobs_out) {
      std::fprintf(stderr, "keel generate: cannot open '%s' for writing\n", path->c_str());
      return 1;
    }
  }

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

  ThreadPool pool(threads.value_or(0));
  ThreadPool* use = threads ? &pool : &default_thread_pool();
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
  if (opt.logprobs) {
    Status s = write_logprobs(*tokenizer, *result, logprobs_out ? logprobs_out.get() : stderr);
    if (!s.ok()) {
      std::fprintf(stderr, "keel generate: %s\n", s.message().c_str());
      return 1;
    }
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
