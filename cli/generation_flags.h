// The generation flags keel generate and keel chat share: sampling, limits,
// stop conditions, the KV cache type and threads, parsed into GenerateOptions
// with per-command defaults. Errors name the flag.
//
//   std::vector<FlagSpec> flags = generation_flags();
//   flags.push_back({"prompt"});
//   auto args = Args::parse(argc, argv, flags);
//   GenerateOptions opt;
//   if (Status s = read_generation_flags(*args, {.max_tokens = 256}, &opt); !s.ok()) ...
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "cli/args.h"
#include "core/status.h"
#include "runtime/generator.h"

namespace keel::cli {

struct GenerationDefaults {
  int32_t max_tokens = 256;
  float temperature = 0.8f;
};

// max-tokens, temperature, top-k, top-p, min-p, repeat-penalty, seed, stop,
// ignore-eos, kv-type, threads.
std::vector<FlagSpec> generation_flags();

// The usage lines for those flags (after the command's own).
extern const char* const kGenerationUsage;

// Fills *opt from the flags (defaults where absent) and validates the sampling
// parameters. --threads goes to *threads (nullopt: the default pool).
Status read_generation_flags(const Args& args, const GenerationDefaults& defaults, GenerateOptions* opt,
                             std::optional<int>* threads);

}  // namespace keel::cli
