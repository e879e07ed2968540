#include "cli/generation_flags.h"

#include <string>
#include <tuple>

namespace keel::cli {

std::vector<FlagSpec> generation_flags() {
  return {{"max-tokens"}, {"temperature"}, {"top-k"},      {"top-p"},   {"min-p"},  {"repeat-penalty"},
          {"seed"},       {"stop"},        {"ignore-eos", false}, {"kv-type"}, {"threads"}};
}

const char* const kGenerationUsage =
    "  --max-tokens N       tokens to generate at most\n"
    "  --temperature T      0 = greedy\n"
    "  --top-k K            keep the K most likely tokens (default 40, 0 = off)\n"
    "  --top-p P            nucleus sampling (default 0.95, 1 = off)\n"
    "  --min-p P            drop tokens below P x the top probability (default 0.05)\n"
    "  --repeat-penalty R   repetition penalty (default 1.0 = off)\n"
    "  --seed S             random seed (default 0)\n"
    "  --stop STR           stop when STR appears (not printed)\n"
    "  --ignore-eos         keep going past the end-of-sequence token\n"
    "  --kv-type T          KV cache as f16 (default: half the memory and attention reads)\n"
    "                       or f32\n"
    "  --threads N          threads (default: KEEL_THREADS or all cores)\n";

Status read_generation_flags(const Args& args, const GenerationDefaults& defaults, GenerateOptions* opt,
                             std::optional<int>* threads) {
  auto max_tokens = args.int_value("max-tokens", 0, 1 << 20);
  if (!max_tokens.ok()) return max_tokens.status();
  opt->max_tokens = static_cast<int32_t>(max_tokens->value_or(defaults.max_tokens));
  auto top_k = args.int_value("top-k", 0, 1 << 30);
  if (!top_k.ok()) return top_k.status();
  opt->sampling.top_k = static_cast<int32_t>(top_k->value_or(40));
  auto seed = args.uint_value("seed");
  if (!seed.ok()) return seed.status();
  opt->sampling.seed = seed->value_or(0);
  auto n_threads = args.int_value("threads", 1, 1024);
  if (!n_threads.ok()) return n_threads.status();
  *threads = n_threads->has_value() ? std::optional<int>(static_cast<int>(**n_threads)) : std::nullopt;
  for (auto [name, dst, fallback] : {std::tuple{"temperature", &opt->sampling.temperature, defaults.temperature},
                                     std::tuple{"top-p", &opt->sampling.top_p, 0.95f},
                                     std::tuple{"min-p", &opt->sampling.min_p, 0.05f},
                                     std::tuple{"repeat-penalty", &opt->sampling.repetition_penalty, 1.0f}}) {
    auto f = args.float_value(name);
    if (!f.ok()) return f.status();
    *dst = f->value_or(fallback);
  }
  KEEL_RETURN_IF_ERROR(validate(opt->sampling));
  if (const std::string* s = args.value("stop")) opt->stop_strings.push_back(*s);
  opt->ignore_eos = args.has("ignore-eos");
  const std::string kv_type = args.value_or("kv-type", "f16");
  if (kv_type != "f16" && kv_type != "f32") return Error("--kv-type must be f16 or f32, got '", kv_type, "'");
  opt->kv_type = kv_type == "f16" ? KvType::F16 : KvType::F32;
  return Status();
}

}  // namespace keel::cli
