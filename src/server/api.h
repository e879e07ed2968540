// The HTTP API over the runtime: routes (JSON in, JSON out), authentication,
// admission (a bound on requests in flight, the scheduler's bounded queue) and
// metrics. Embedding routes tokenize on the calling I/O thread and hand the
// sequences to the model's scheduler; the response is formatted and sent from
// the scheduler's callback. Errors have OpenAI's shape:
//   {"error": {"message": ..., "type": ..., "param": ..., "code": ...}}
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/embedding_model.h"
#include "runtime/scheduler.h"
#include "server/http_server.h"
#include "server/metrics.h"

namespace keel::server {

struct ApiOptions {
  std::string api_key;                 // "" = no authentication
  size_t max_concurrent_requests = 512;  // API requests in flight; more get 429
  runtime::SchedulerOptions scheduler;
};

class Api {
 public:
  explicit Api(ApiOptions options);
  ~Api();  // stop()

  // Serves `model` under its name (thread-safe; before or after serving starts).
  void add_model(std::unique_ptr<runtime::EmbeddingModel> model);
  // Every --model is loaded: /ready answers 200.
  void set_ready();
  // Finishes every queued job, then refuses new ones. Idempotent.
  void stop();

  void handle(HttpRequest&& request, Respond respond);
  HttpResponse error_body(int status, std::string message) const;
  void on_complete(const HttpRequest& request, const HttpResponse& response, double seconds);
  Metrics& metrics() { return metrics_; }

  struct Served;  // a model and its scheduler

 private:
  std::shared_ptr<Served> find_model(const std::string& name, std::string& error, int& status) const;
  std::vector<std::shared_ptr<Served>> models() const;

  void embeddings(HttpRequest&& request, Respond respond);
  void tei_embed(HttpRequest&& request, Respond respond);
  void tokenize(HttpRequest&& request, Respond respond);
  void detokenize(HttpRequest&& request, Respond respond);
  HttpResponse list_models() const;

  const ApiOptions options_;
  Metrics metrics_;
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<Served>> models_;
  std::atomic<bool> ready_{false};
  std::atomic<size_t> in_flight_{0};
};

}  // namespace keel::server
