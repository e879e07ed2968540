// keel chat --model <dir|gguf> [--system TEXT] [generation flags as keel generate's]
// An interactive terminal chat: each line read from stdin is a user message;
// the conversation is rendered with the model's chat template
// (tokenizer_config.json's chat_template, or a GGUF's tokenizer.chat_template)
// and the reply streams to stdout, a stats line to stderr. Each turn prefills
// only what the Generator's KV cache does not hold yet (the new messages).
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/generation_flags.h"
#include "core/thread_pool.h"
#include "formats/gguf.h"
#include "models/decoder_model.h"
#include "runtime/generator.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace keel::cli {
namespace {

constexpr const char* kUsage =
    "usage: keel chat --model <dir|file.gguf> [options]\n"
    "\n"
    "Chats in the terminal with the model's chat template: type a message and press\n"
    "Enter; an empty line or end of input quits. Replies stream to stdout, the\n"
    "prompt marker to stderr.\n"
    "\n"
    "  --system TEXT        a system message first\n"
    "Generation (defaults: --max-tokens 512, --temperature 0.7):\n";

int fail(const std::string& m) {
  std::fprintf(stderr, "keel chat: %s\n", m.c_str());
  return 1;
}

// The template of a model directory or a GGUF file.
Result<ChatTemplate> load_template(const std::string& model, const tok::Tokenizer& tokenizer) {
  std::error_code ec;
  if (std::filesystem::is_directory(model, ec)) return ChatTemplate::from_tokenizer_config(model);
  auto f = GgufFile::open(model);
  if (!f.ok()) return f.status();
  const GgufValue* t = f->find("tokenizer.chat_template");
  if (!t || !t->as_string()) return Error(model, ": no tokenizer.chat_template");
  auto token = [&](const char* key) -> std::string {
    const GgufValue* v = f->find(key);
    if (!v || !v->as_int()) return "";
    return tokenizer.id_to_token(static_cast<uint32_t>(*v->as_int())).value_or("");
  };
  return ChatTemplate::from_string(*t->as_string(), token("tokenizer.ggml.bos_token_id"),
                                   token("tokenizer.ggml.eos_token_id"));
}

}  // namespace

int cmd_chat(int argc, char** argv) {
  std::vector<FlagSpec> flags = generation_flags();
  for (FlagSpec f : {FlagSpec{"model"}, FlagSpec{"system"}, FlagSpec{"help", false}}) flags.push_back(f);
  auto args = Args::parse(argc, argv, flags);
  if (!args.ok()) {
    std::fprintf(stderr, "keel chat: %s\nrun 'keel chat --help' for the options\n", args.error().c_str());
    return 2;
  }
  if (args->has("help")) {
    std::fputs(kUsage, stdout);
    std::fputs(kGenerationUsage, stdout);
    return 0;
  }
  if (!args->value("model")) {
    std::fprintf(stderr, "keel chat: --model is required\n");
    return 2;
  }
  GenerateOptions opt;
  std::optional<int> threads;
  if (Status s = read_generation_flags(*args, {.max_tokens = 512, .temperature = 0.7f}, &opt, &threads); !s.ok()) {
    std::fprintf(stderr, "keel chat: %s\nrun 'keel chat --help' for the options\n", s.message().c_str());
    return 2;
  }

  const std::string path = *args->value("model");
  auto model = load_decoder(path);
  if (!model.ok()) return fail(model.status().message());
  auto tokenizer = tok::Tokenizer::from_file(path);
  if (!tokenizer.ok()) return fail(tokenizer.status().message());
  auto tmpl = load_template(path, *tokenizer);
  if (!tmpl.ok()) return fail(tmpl.status().message());
  ThreadPool pool(threads.value_or(0));
  ThreadPool* use = threads ? &pool : &default_thread_pool();
  Generator gen(**model, *tokenizer, use);

  std::vector<ChatMessage> messages;
  if (const std::string* s = args->value("system")) messages.push_back({"system", *s});
  std::string line;
  while (true) {
    std::fputs("> ", stderr);
    if (!std::getline(std::cin, line) || line.empty()) break;
    messages.push_back({"user", line});
    auto prompt = tmpl->render(messages, /*add_generation_prompt=*/true);
    if (!prompt.ok()) return fail(prompt.status().message());
    // The template writes bos itself; the tokenizer must not add it again.
    auto enc = tokenizer->encode(*prompt, /*add_special_tokens=*/false);
    if (!enc.ok()) return fail(enc.status().message());
    std::vector<int32_t> ids(enc->ids.begin(), enc->ids.end());
    std::string reply;
    auto r = gen.generate(ids, opt, [&](std::string_view text) {
      reply += text;
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
      return true;
    });
    std::fputc('\n', stdout);
    std::fflush(stdout);
    if (!r.ok()) return fail(r.status().message());
    const size_t n = r->tokens.size(), fresh = r->prompt_tokens - r->cached_tokens;
    std::fprintf(stderr, "[prompt %zu tokens, %zu from the cache, %.1f tokens/s | reply %zu tokens, %.2f tokens/s]\n",
                 r->prompt_tokens, r->cached_tokens, r->prefill_seconds > 0 ? fresh / r->prefill_seconds : 0.0, n,
                 n > 1 && r->decode_seconds > 0 ? (n - 1) / r->decode_seconds : 0.0);
    messages.push_back({"assistant", reply});
  }
  return 0;
}

}  // namespace keel::cli
