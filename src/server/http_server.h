// The HTTP/1.1 transport (Boost.Beast on Asio, kept out of this header): a few
// I/O threads serve every connection asynchronously, with keep-alive, header
// and body read timeouts and a body size limit. Each request is handed to the
// Handler, which answers through Respond from any thread, once; the I/O
// threads never wait on it. A client that closes its connection before the
// answer cancels its request (HttpRequest::client_gone; logged as status 499,
// nginx's "client closed request"). SIGTERM / SIGINT start a graceful shutdown: stop
// accepting, answer 503 to new requests, finish the ones in flight (bounded by
// shutdown_grace), then run() returns.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace keel::server {

struct HttpRequest {
  std::string method;
  std::string target;         // path and query, as sent
  std::string body;
  std::string authorization;  // the Authorization header, "" if absent
  // Becomes true if the client closes the connection (end of stream or reset)
  // while its answer is pending: nobody will read it, so work not yet started
  // for it can be dropped. A client that half-closes after its request counts
  // as gone, as in nginx.
  std::shared_ptr<const std::atomic<bool>> client_gone;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra, e.g. Retry-After
  size_t tokens = 0;  // for the access log
};

using Respond = std::function<void(HttpResponse)>;
using Handler = std::function<void(HttpRequest&& request, Respond respond)>;
// Errors the transport answers itself (400 malformed HTTP, 413, 431, 503).
using ErrorBody = std::function<HttpResponse(int status, std::string message)>;
// After each response is written (or the client went away): for metrics.
using OnComplete = std::function<void(const HttpRequest& request, const HttpResponse& response, double seconds)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port (see HttpServer::port())
  int io_threads = 2;
  size_t max_body_bytes = 2 << 20;
  std::chrono::milliseconds header_timeout{10000};  // idle keep-alive or slow headers
  std::chrono::milliseconds body_timeout{30000};
  std::chrono::milliseconds write_timeout{30000};
  std::chrono::milliseconds shutdown_grace{15000};
  bool access_log = false;  // one line per request to stderr
};

class HttpServer {
 public:
  // Binds and listens (errors name the address); serving starts with run().
  static Result<std::unique_ptr<HttpServer>> create(const HttpServerOptions& options, Handler handler,
                                                    ErrorBody error_body, OnComplete on_complete);
  ~HttpServer();
  uint16_t port() const;
  // Serves on io_threads threads (the caller's included) until a signal or
  // shutdown() and the drain that follows. Then returns.
  void run();
  // Starts the graceful shutdown. Thread-safe.
  void shutdown();
  bool draining() const;

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace keel::server
