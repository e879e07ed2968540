// keel chat --model <dir|gguf> [--system TEXT] [--max-tokens N] [--temperature T]
//           [--top-k K] [--top-p P] [--min-p P] [--seed S] [--threads N]
// An interactive terminal chat: each line read from stdin is a user message;
// the conversation is rendered with the model's chat template
// (tokenizer_config.json's chat_template, or a GGUF's tokenizer.chat_template)
// and the reply streams to stdout. Each turn prefills the whole conversation
// again (no KV reuse across turns yet).
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
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
    "Enter; an empty line or end of input quits.\n"
    "\n"
    "  --system TEXT        a system message first\n"
    "  --max-tokens N       reply length limit (default 512)\n"
    "  --temperature T      default 0.7 (0 = greedy)\n"
    "  --top-k K / --top-p P / --min-p P   default 40 / 0.95 / 0.05\n"
    "  --seed S             default 0\n"
    "  --threads N          default: KEEL_THREADS or all cores\n";

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
  auto args = Args::parse(argc, argv,
                          {{"model"}, {"system"}, {"max-tokens"}, {"temperature"}, {"top-k"}, {"top-p"},
                           {"min-p"}, {"seed"}, {"threads"}, {"help", false}});
  if (!args.ok()) {
    std::fprintf(stderr, "keel chat: %s\n%s", args.error().c_str(), kUsage);
    return 2;
  }
  if (args->has("help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!args->value("model")) {
    std::fprintf(stderr, "keel chat: --model is required\n");
    return 2;
  }
  GenerateOptions opt;
  auto max_tokens = args->int_value("max-tokens", 1, 1 << 20);
  auto top_k = args->int_value("top-k", 0, 1 << 30);
  auto seed = args->uint_value("seed");
  auto threads = args->int_value("threads", 1, 1024);
  if (!max_tokens.ok() || !top_k.ok() || !seed.ok() || !threads.ok()) {
    std::fprintf(stderr, "keel chat: bad numeric option\n%s", kUsage);
    return 2;
  }
  opt.max_tokens = static_cast<int32_t>(max_tokens->value_or(512));
  opt.sampling.top_k = static_cast<int32_t>(top_k->value_or(40));
  opt.sampling.seed = seed->value_or(0);
  opt.kv_type = KvType::F16;  // as keel generate's default
  try {
    opt.sampling.temperature = std::stof(args->value_or("temperature", "0.7"));
    opt.sampling.top_p = std::stof(args->value_or("top-p", "0.95"));
    opt.sampling.min_p = std::stof(args->value_or("min-p", "0.05"));
  } catch (const std::exception&) {
    std::fprintf(stderr, "keel chat: --temperature, --top-p and --min-p take numbers\n");
    return 2;
  }
  if (Status s = validate(opt.sampling); !s.ok()) return fail(s.message());

  const std::string path = *args->value("model");
  auto model = load_decoder(path);
  if (!model.ok()) return fail(model.status().message());
  auto tokenizer = tok::Tokenizer::from_file(path);
  if (!tokenizer.ok()) return fail(tokenizer.status().message());
  auto tmpl = load_template(path, *tokenizer);
  if (!tmpl.ok()) return fail(tmpl.status().message());
  ThreadPool pool(static_cast<int>(threads->value_or(0)));
  ThreadPool* use = threads->has_value() ? &pool : &default_thread_pool();
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
    if (!r.ok()) return fail(r.status().message());
    messages.push_back({"assistant", reply});
  }
  return 0;
}

}  // namespace keel::cli
