// keel serve --model <dir> [--model <dir2> ...] [options]
// An HTTP embedding service: OpenAI's /v1/embeddings, TEI's /embed, /tokenize,
// /detokenize, /v1/models, /health, /ready, /metrics. See src/server/api.h.
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "runtime/embedding_model.h"
#include "server/api.h"
#include "server/http_server.h"

namespace keel::cli {
namespace {

constexpr const char* kUsage =
    "usage: keel serve --model <dir> [--model <dir2> ...] [--served-name NAME ...]\n"
    "                  [--host 127.0.0.1] [--port 8080] [--api-key KEY] [--dtype f32|bf16|int8]\n"
    "                  [--threads N] [--max-batch-tokens N] [--max-wait-us N] [--max-queue N]\n"
    "                  [--max-concurrent-requests N] [--max-body-bytes N] [--http-threads N]\n"
    "                  [--header-timeout-ms N] [--body-timeout-ms N] [--access-log]\n"
    "\n"
    "Serves sentence embeddings over HTTP/1.1 (keep-alive):\n"
    "  POST /v1/embeddings  OpenAI: {\"model\", \"input\": string | [string] | [id] | [[id]],\n"
    "                       \"encoding_format\": \"float\"|\"base64\", \"dimensions\"}\n"
    "  POST /embed          TEI: {\"inputs\": string | [string], \"normalize\", \"truncate\"}\n"
    "  POST /tokenize       {\"inputs\", \"add_special_tokens\"}   POST /detokenize {\"ids\"}\n"
    "  GET  /v1/models, /health, /ready, /metrics (Prometheus)\n"
    "Token-id inputs are fed to the model as given (special tokens included, as\n"
    "/tokenize returns them). Requests go to one batching scheduler per model.\n"
    "SIGTERM / SIGINT: stop accepting, finish the requests in flight, exit 0.\n"
    "\n"
    "  --model            model directory (repeat for several models)\n"
    "  --served-name      the name clients use, one per --model in order (default:\n"
    "                     the directory's name)\n"
    "  --host, --port     where to listen (default 127.0.0.1:8080; port 0 = any free port,\n"
    "                     printed on stderr)\n"
    "  --api-key          require 'Authorization: Bearer KEY' (or env KEEL_API_KEY)\n"
    "  --dtype            compute type of the linear layers: f32 (default), bf16, int8\n"
    "  --threads          compute threads per model (default 0 = every core)\n"
    "  --max-batch-tokens tokens per forward pass (default 2048)\n"
    "  --max-wait-us      longest wait to fill a batch while requests come together\n"
    "                     (default 2000; a lone client is not kept waiting)\n"
    "  --max-queue        embedding requests waiting per model; more get 429 (default 1024)\n"
    "  --max-concurrent-requests  API requests in flight; more get 429 (default 512)\n"
    "  --max-body-bytes   request body limit; larger get 413 (default 2097152)\n"
    "  --http-threads     I/O threads (default 2)\n"
    "  --header-timeout-ms, --body-timeout-ms  read timeouts (default 10000, 30000)\n"
    "  --access-log       one line per request on stderr\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "keel serve: %s\nrun 'keel serve --help' for the options\n", message.c_str());
  return 2;
}

std::string base_name(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  const size_t slash = dir.rfind('/');
  return slash == std::string::npos ? dir : dir.substr(slash + 1);
}

}  // namespace

int cmd_serve(int argc, char** argv) {
  // --model and --served-name repeat; Args takes each flag once, so they are
  // collected here and the rest is parsed by Args.
  std::vector<std::string> dirs, names;
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    std::vector<std::string>* into = nullptr;
    std::string_view flag;
    if (a == "--") {
      for (; i < argc; ++i) rest.push_back(argv[i]);
      break;
    }
    for (auto [f, v] : {std::pair{std::string_view("--model"), &dirs}, std::pair{std::string_view("--served-name"), &names}})
      if (a == f || (a.size() > f.size() && a.substr(0, f.size() + 1) == std::string(f) + "=")) {
        into = v;
        flag = f;
      }
    if (!into) {
      rest.push_back(argv[i]);
      continue;
    }
    if (a.size() > flag.size()) into->emplace_back(a.substr(flag.size() + 1));
    else if (i + 1 < argc) into->emplace_back(argv[++i]);
    else return usage_error(str_cat("option '", flag, "' needs a value"));
  }
  auto args = Args::parse(static_cast<int>(rest.size()), rest.data(),
                          {{"host"}, {"port"}, {"api-key"}, {"dtype"}, {"threads"}, {"max-batch-tokens"},
                           {"max-wait-us"}, {"max-queue"}, {"max-concurrent-requests"}, {"max-body-bytes"},
                           {"http-threads"}, {"header-timeout-ms"}, {"body-timeout-ms"}, {"access-log", false},
                           {"help", false}});
  if (!args.ok()) return usage_error(args.error());
  if (args->has("help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!args->positional().empty()) return usage_error("unexpected argument '" + args->positional().front() + "'");
  if (dirs.empty()) return usage_error("--model is required");
  if (names.size() > dirs.size()) return usage_error("more --served-name than --model");
  for (size_t i = names.size(); i < dirs.size(); ++i) names.push_back(base_name(dirs[i]));
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) return usage_error(str_cat("model ", i + 1, " has an empty name"));
    for (size_t k = 0; k < i; ++k)
      if (names[k] == names[i]) return usage_error("two models are named '" + names[i] + "'; use --served-name");
  }

  bert::EmbedderOptions model_options;
  const std::string dtype = args->value_or("dtype", "f32");
  if (dtype == "f32") model_options.compute = kernels::Compute::F32;
  else if (dtype == "bf16") model_options.compute = kernels::Compute::BF16;
  else if (dtype == "int8") model_options.compute = kernels::Compute::I8;
  else return usage_error("--dtype must be f32, bf16 or int8, got '" + dtype + "'");

  struct IntFlag {
    const char* name;
    int64_t lo, hi, fallback;
    int64_t value = 0;
  };
  IntFlag ints[] = {{"port", 0, 65535, 8080},
                    {"threads", 0, 1024, 0},
                    {"max-batch-tokens", 1, 1 << 24, 2048},
                    {"max-wait-us", 0, 10'000'000, 2000},
                    {"max-queue", 1, 1 << 24, 1024},
                    {"max-concurrent-requests", 1, 1 << 24, 512},
                    {"max-body-bytes", 1, int64_t(1) << 32, 2 << 20},
                    {"http-threads", 1, 256, 2},
                    {"header-timeout-ms", 1, 3'600'000, 10000},
                    {"body-timeout-ms", 1, 3'600'000, 30000}};
  for (IntFlag& f : ints) {
    auto v = args->int_value(f.name, f.lo, f.hi);
    if (!v.ok()) return usage_error(v.error());
    f.value = v->value_or(f.fallback);
  }
  auto flag = [&](const char* name) {
    for (const IntFlag& f : ints)
      if (std::strcmp(f.name, name) == 0) return f.value;
    return int64_t(0);
  };
  model_options.threads = static_cast<int>(flag("threads"));

  server::ApiOptions api_options;
  api_options.api_key = args->value_or("api-key", "");
  if (api_options.api_key.empty())
    if (const char* env = std::getenv("KEEL_API_KEY")) api_options.api_key = env;
  api_options.max_concurrent_requests = static_cast<size_t>(flag("max-concurrent-requests"));
  api_options.scheduler = {.max_batch_tokens = static_cast<size_t>(flag("max-batch-tokens")),
                           .max_wait = std::chrono::microseconds(flag("max-wait-us")),
                           .max_queue = static_cast<size_t>(flag("max-queue"))};
  auto api = std::make_unique<server::Api>(api_options);

  server::HttpServerOptions http;
  http.host = args->value_or("host", "127.0.0.1");
  http.port = static_cast<uint16_t>(flag("port"));
  http.io_threads = static_cast<int>(flag("http-threads"));
  http.max_body_bytes = static_cast<size_t>(flag("max-body-bytes"));
  http.header_timeout = std::chrono::milliseconds(flag("header-timeout-ms"));
  http.body_timeout = std::chrono::milliseconds(flag("body-timeout-ms"));
  http.access_log = args->has("access-log");
  server::Api* a = api.get();
  auto server = server::HttpServer::create(
      http, [a](server::HttpRequest&& r, server::Respond respond) { a->handle(std::move(r), std::move(respond)); },
      [a](int status, std::string message) { return a->error_body(status, std::move(message)); },
      [a](const server::HttpRequest& r, const server::HttpResponse& res, double s) { a->on_complete(r, res, s); });
  if (!server.ok()) {
    std::fprintf(stderr, "keel serve: %s\n", server.error().c_str());
    return 1;
  }
  std::fprintf(stderr, "keel serve: listening on http://%s:%u\n", http.host.c_str(), (*server)->port());
  // /health answers while the models load; /ready once they are loaded.
  std::thread io([&] { (*server)->run(); });
  int exit_code = 0;
  for (size_t i = 0; i < dirs.size(); ++i) {
    auto model = runtime::EmbeddingModel::open(dirs[i], names[i], model_options);
    if (!model.ok()) {
      std::fprintf(stderr, "keel serve: --model %s: %s\n", dirs[i].c_str(), model.error().c_str());
      exit_code = 1;
      (*server)->shutdown();
      break;
    }
    std::fprintf(stderr, "keel serve: model '%s' (%zu dimensions, at most %zu tokens) from %s\n", names[i].c_str(),
                 (*model)->dim(), (*model)->max_tokens(), dirs[i].c_str());
    api->add_model(std::move(model).value());
  }
  if (exit_code == 0) {
    api->set_ready();
    std::fprintf(stderr, "keel serve: ready\n");
  }
  io.join();
  api->stop();   // every queued job finishes; their responses have nowhere to go now
  api.reset();   // before the server: pending responses hold its connections
  server->reset();
  if (exit_code == 0) std::fprintf(stderr, "keel serve: stopped\n");
  return exit_code;
}

}  // namespace keel::cli
