// Server metrics in Prometheus' text exposition format: request counters by
// route and status, latency / batch histograms, an in-flight gauge and the
// process RSS. Thread-safe; cheap enough to record on every request.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace keel::server {

class Histogram {
 public:
  Histogram(std::string name, std::string help, std::vector<double> bounds);
  void observe(double v);
  void render(std::string& out) const;

 private:
  std::string name_, help_;
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_;  // one per bound, plus +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

class Metrics {
 public:
  Metrics();
  void count_request(const std::string& route, int status);
  void observe_request(double e2e_seconds) { e2e_.observe(e2e_seconds); }
  void observe_job(double queue_seconds, double compute_seconds) {
    queue_.observe(queue_seconds);
    compute_.observe(compute_seconds);
  }
  void observe_batch(size_t sequences, size_t tokens) {
    batch_size_.observe(static_cast<double>(sequences));
    batch_tokens_.observe(static_cast<double>(tokens));
  }
  void add_tokens(size_t n) { tokens_.fetch_add(n, std::memory_order_relaxed); }
  std::atomic<int64_t>& in_flight() { return in_flight_; }
  std::string render() const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  Histogram queue_, compute_, e2e_, batch_size_, batch_tokens_;
  std::atomic<int64_t> in_flight_{0};
  std::atomic<uint64_t> tokens_{0};
};

// Resident set size of this process in bytes (0 if /proc is unreadable).
uint64_t process_rss_bytes();

}  // namespace keel::server
