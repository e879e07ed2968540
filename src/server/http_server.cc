#include "server/http_server.h"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include <sys/resource.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace keel::server {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr size_t kHeaderLimit = 16 * 1024;
constexpr size_t kDiscardLimit = 8 << 20;  // bytes read and dropped after an early error, before closing
constexpr size_t kReadAheadLimit = 64 * 1024;  // pipelined bytes kept while a request is in flight

class Session;

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  Handler handler;
  ErrorBody error_body;
  OnComplete on_complete;

  // Declared before the io_context: sessions it still holds unregister
  // themselves when it is destroyed.
  std::mutex sessions_mu;
  std::map<Session*, std::weak_ptr<Session>> sessions;
  std::atomic<bool> draining{false};

  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  net::signal_set signals{ioc, SIGINT, SIGTERM};
  net::steady_timer grace{ioc};

  void accept();
  void start_drain();
  void add(const std::shared_ptr<Session>& s);
  void remove(Session* s);
};

namespace {

bool is_http_parse_error(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category();
}

std::string loggable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 200)) out += (c > 32 && c < 127 && c != '"') ? c : '?';
  return out;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl& server) : stream_(std::move(socket)), server_(server) {}
  ~Session() { server_.remove(this); }

  void start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_header(); });
  }

  // The server is draining: a connection idle between requests is closed now;
  // one with a request in flight finishes it and then closes.
  void drain_async() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      beast::error_code ignored;
      if (self->state_ == State::kReading && !self->has_pending_bytes()) self->stream_.socket().cancel(ignored);
    });
  }

 private:
  enum class State { kReading, kBusy, kWriting, kClosing };

  const HttpServerOptions& options() const { return server_.options; }

  // Bytes of a next request already received (buffered or in the socket).
  bool has_pending_bytes() {
    beast::error_code ec;
    return buffer_.size() > 0 || stream_.socket().available(ec) > 0;
  }

  void read_header() {
    // Draining: an idle connection closes; a request already sent (pipelined) is
    // read and answered 503.
    if (server_.draining && !has_pending_bytes()) return close();
    state_ = State::kReading;
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(options().max_body_bytes);
    stream_.expires_after(options().header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    started_ = Clock::now();
    auto& req = parser_->get();
    if (!parser_->is_done() && beast::iequals(req[http::field::expect], "100-continue")) {
      static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      stream_.expires_after(options().write_timeout);
      net::async_write(stream_, net::buffer(kContinue, sizeof(kContinue) - 1),
                       [self = shared_from_this()](beast::error_code ec, size_t) {
                         if (ec) return self->close();
                         self->read_body();
                       });
      return;
    }
    read_body();
  }

  void read_body() {
    if (parser_->is_done()) return on_body({});
    stream_.expires_after(options().body_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->on_body(ec); });
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == http::error::partial_message) return close();
    if (ec == http::error::body_limit)
      return reply_error(413, str_cat("the request body is larger than the limit of ", options().max_body_bytes,
                                      " bytes"));
    if (ec == http::error::header_limit)
      return reply_error(431, str_cat("the request headers are larger than the limit of ", kHeaderLimit, " bytes"));
    if (is_http_parse_error(ec)) return reply_error(400, str_cat("malformed HTTP request: ", ec.message()));
    close();  // timeout, reset, cancelled by drain
  }

  // An error the transport answers itself; the connection closes after it.
  void reply_error(int status, std::string message) {
    started_ = Clock::now();
    request_ = HttpRequest{};
    if (parser_ && parser_->is_header_done()) {
      request_.method = std::string(parser_->get().method_string());
      request_.target = std::string(parser_->get().target());
    }
    keep_alive_ = false;
    write(server_.error_body(status, std::move(message)));
  }

  void on_body(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    auto& req = parser_->get();
    client_gone_ = std::make_shared<std::atomic<bool>>(false);
    request_ = HttpRequest{.method = std::string(req.method_string()),
                           .target = std::string(req.target()),
                           .body = std::move(req.body()),
                           .authorization = std::string(req[http::field::authorization]),
                           .client_gone = client_gone_};
    keep_alive_ = req.keep_alive();
    parser_.reset();
    if (server_.draining) {
      keep_alive_ = false;
      return write(server_.error_body(503, "the server is shutting down"));
    }
    state_ = State::kBusy;
    stream_.expires_never();
    HttpRequest copy = request_;  // the handler owns its copy; ours is for the log
    copy.body = std::move(request_.body);
    request_.body.clear();
    // The handler answers through `respond`, exactly once. Exceptions are not
    // expected from it; should one escape, the client gets a 500 instead of the
    // I/O thread dying (unless the handler had already answered).
    auto answered = std::make_shared<std::atomic<bool>>(false);
    Respond respond = [self = shared_from_this(), answered](HttpResponse response) {
      if (answered->exchange(true)) return;
      net::post(self->stream_.get_executor(),
                [self, response = std::move(response)]() mutable { self->write(std::move(response)); });
    };
    try {
      server_.handler(std::move(copy), respond);
    } catch (const std::exception& e) {
      respond(server_.error_body(500, str_cat("internal error: ", e.what())));
    }
    if (!answered->load()) watch_client();
  }

  // While the handler works, a read on the connection tells whether the client
  // is still there. End of stream or a reset: nobody will read the answer, so
  // the request is marked gone (the scheduler drops the work not yet started),
  // the socket closes now, and the answer, when it comes, is only logged and
  // counted, as 499. Bytes of a pipelined next request are kept for it; past
  // kReadAheadLimit of them the watch stops.
  void watch_client() {
    if (buffer_.size() >= kReadAheadLimit) return;
    watching_ = true;
    stream_.async_read_some(buffer_.prepare(kReadAheadLimit - buffer_.size()),
                            [self = shared_from_this()](beast::error_code ec, size_t n) { self->on_watch(ec, n); });
  }

  void on_watch(beast::error_code ec, size_t n) {
    watching_ = false;
    buffer_.commit(n);
    if (after_watch_) return (this->*std::exchange(after_watch_, nullptr))();
    if (state_ != State::kBusy || ec == net::error::operation_aborted) return;
    if (ec) {
      client_gone_->store(true);
      return close();
    }
    watch_client();
  }

  // Runs `next` now, or when the watch's read returns: one read at a time.
  void after_watch(void (Session::*next)()) {
    if (!watching_) return (this->*next)();
    after_watch_ = next;
    beast::error_code ignored;
    stream_.socket().cancel(ignored);
  }

  void write(HttpResponse response) {
    if (client_gone_ && client_gone_->load()) {  // closed by on_watch: count it, send nothing
      response_ = std::move(response);
      response_.status = 499;
      response_.tokens = 0;
      return complete(/*write_failed=*/false);
    }
    state_ = State::kWriting;
    if (server_.draining && !has_pending_bytes()) keep_alive_ = false;
    response_ = std::move(response);
    res_.emplace(static_cast<http::status>(response_.status), 11);
    res_->set(http::field::server, "keel");
    res_->set(http::field::content_type, response_.content_type);
    for (const auto& [k, v] : response_.headers) res_->set(k, v);
    res_->keep_alive(keep_alive_);
    res_->body() = std::move(response_.body);
    res_->prepare_payload();
    stream_.expires_after(options().write_timeout);
    http::async_write(stream_, *res_, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->on_write(ec);
    });
  }

  void on_write(beast::error_code ec) {
    complete(/*write_failed=*/bool(ec));
    res_.reset();
    if (ec) return close();
    if (!keep_alive_) return after_watch(&Session::discard_then_close);
    after_watch(&Session::read_header);
  }

  // The access-log line and the metrics of the request just answered.
  void complete(bool write_failed) {
    const double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
    if (options().access_log)
      std::fprintf(stderr, "access method=%s path=\"%s\" status=%d latency_ms=%.3f tokens=%zu%s\n",
                   loggable(request_.method).c_str(), loggable(request_.target).c_str(), response_.status,
                   seconds * 1e3, response_.tokens, write_failed ? " write_failed=1" : "");
    if (server_.on_complete) server_.on_complete(request_, response_, seconds);
    client_gone_.reset();
  }

  // After an early error the client may still be sending its body: read and drop
  // it (bounded) so that closing does not reset the connection before the
  // client has read our answer.
  void discard_then_close() {
    state_ = State::kClosing;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    discarded_ = 0;
    stream_.expires_after(std::chrono::seconds(2));
    discard_some();
  }
  void discard_some() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(64 * 1024), [self = shared_from_this()](beast::error_code ec, size_t n) {
      self->discarded_ += n;
      if (ec || self->discarded_ > kDiscardLimit) return self->close();
      self->discard_some();
    });
  }

  void close() {
    state_ = State::kClosing;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  HttpServer::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> res_;
  HttpRequest request_;
  HttpResponse response_;
  bool keep_alive_ = true;
  State state_ = State::kReading;
  Clock::time_point started_ = Clock::now();
  size_t discarded_ = 0;
  std::shared_ptr<std::atomic<bool>> client_gone_;  // of the request in flight
  bool watching_ = false;                           // watch_client's read is pending
  void (Session::*after_watch_)() = nullptr;        // what runs when it returns
};

}  // namespace

void HttpServer::Impl::add(const std::shared_ptr<Session>& s) {
  std::lock_guard lock(sessions_mu);
  sessions.emplace(s.get(), s);
}

void HttpServer::Impl::remove(Session* s) {
  bool stop = false;
  {
    std::lock_guard lock(sessions_mu);
    sessions.erase(s);
    stop = draining && sessions.empty();
  }
  if (stop) ioc.stop();
}

void HttpServer::Impl::accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (draining || !acceptor.is_open()) return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      auto s = std::make_shared<Session>(std::move(socket), *this);
      add(s);
      s->start();
    }
    accept();
  });
}

void HttpServer::Impl::start_drain() {
  if (draining.exchange(true)) return;
  beast::error_code ignored;
  acceptor.close(ignored);
  signals.cancel(ignored);
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(sessions_mu);
    for (auto& [p, w] : sessions)
      if (auto s = w.lock()) live.push_back(std::move(s));
  }
  if (live.empty()) {
    ioc.stop();
    return;
  }
  for (auto& s : live) s->drain_async();
  grace.expires_after(options.shutdown_grace);
  grace.async_wait([this](beast::error_code ec) {
    if (!ec) {
      std::fprintf(stderr, "keel serve: shutdown grace period over, closing the remaining connections\n");
      ioc.stop();
    }
  });
}


HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;

namespace {

// One descriptor per connection: the soft limit (often 1024) is raised to the
// hard one, as Go's runtime and nginx's worker_rlimit_nofile do, so that
// thousands of clients are served rather than refused at accept.
void raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::create(const HttpServerOptions& options, Handler handler,
                                                       ErrorBody error_body, OnComplete on_complete) {
  raise_descriptor_limit();
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->handler = std::move(handler);
  impl->error_body = std::move(error_body);
  impl->on_complete = std::move(on_complete);
  beast::error_code ec;
  auto address = net::ip::make_address(options.host, ec);
  if (ec) return Error("--host '", options.host, "' is not an IP address: ", ec.message());
  const tcp::endpoint endpoint(address, options.port);
  const std::string where = str_cat(options.host, ":", options.port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (ec) return Error("cannot listen on ", where, ": ", ec.message());
  impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return Error("cannot listen on ", where, ": ", ec.message());
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

uint16_t HttpServer::port() const {
  beast::error_code ec;
  auto endpoint = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

bool HttpServer::draining() const { return impl_->draining; }

void HttpServer::shutdown() {
  net::post(impl_->ioc, [impl = impl_.get()] { impl->start_drain(); });
}

void HttpServer::run() {
  Impl& impl = *impl_;
  impl.signals.async_wait([&impl](beast::error_code ec, int signal) {
    if (ec) return;
    std::fprintf(stderr, "keel serve: %s, finishing the requests in flight\n",
                 signal == SIGTERM ? "SIGTERM" : "SIGINT");
    impl.start_drain();
  });
  impl.accept();
  std::vector<std::thread> threads;
  for (int i = 1; i < impl.options.io_threads; ++i) threads.emplace_back([&impl] { impl.ioc.run(); });
  impl.ioc.run();
  for (auto& t : threads) t.join();
}

}  // namespace keel::server
