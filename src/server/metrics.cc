#include "server/metrics.h"

#include <cstdio>
#include <unistd.h>

namespace keel::server {
namespace {

std::vector<double> latency_bounds() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}
std::vector<double> powers_of_two(double hi) {
  std::vector<double> b;
  for (double v = 1; v <= hi; v *= 2) b.push_back(v);
  return b;
}
void append_number(std::string& out, double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  out += buf;
}

}  // namespace

Histogram::Histogram(std::string name, std::string help, std::vector<double> bounds)
    : name_(std::move(name)), help_(std::move(help)), bounds_(std::move(bounds)), counts_(bounds_.size() + 1) {}

void Histogram::observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  std::lock_guard lock(mu_);
  ++counts_[i];
  sum_ += v;
  ++count_;
}

void Histogram::render(std::string& out) const {
  std::lock_guard lock(mu_);
  out += "# HELP " + name_ + " " + help_ + "\n# TYPE " + name_ + " histogram\n";
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += name_ + "_bucket{le=\"";
    if (i < bounds_.size()) append_number(out, bounds_[i]);
    else out += "+Inf";
    out += "\"} " + std::to_string(cumulative) + "\n";
  }
  out += name_ + "_sum ";
  append_number(out, sum_);
  out += "\n" + name_ + "_count " + std::to_string(count_) + "\n";
}

Metrics::Metrics()
    : queue_("keel_queue_seconds", "Time embedding jobs waited before their first batch.", latency_bounds()),
      compute_("keel_compute_seconds", "Forward-pass time of the batches each embedding job took part in.",
               latency_bounds()),
      e2e_("keel_request_seconds", "End-to-end request latency, request read to response written.",
           latency_bounds()),
      batch_size_("keel_batch_size", "Sequences per forward pass.", powers_of_two(4096)),
      batch_tokens_("keel_batch_tokens", "Tokens per forward pass.", powers_of_two(65536)) {}

void Metrics::count_request(const std::string& route, int status) {
  std::lock_guard lock(mu_);
  ++requests_[{route, status}];
}

std::string Metrics::render() const {
  std::string out;
  out += "# HELP keel_requests_total HTTP requests by route and status.\n# TYPE keel_requests_total counter\n";
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, n] : requests_)
      out += "keel_requests_total{route=\"" + key.first + "\",status=\"" + std::to_string(key.second) + "\"} " +
             std::to_string(n) + "\n";
  }
  out += "# HELP keel_requests_in_flight HTTP requests being handled.\n# TYPE keel_requests_in_flight gauge\n";
  out += "keel_requests_in_flight " + std::to_string(in_flight_.load()) + "\n";
  out += "# HELP keel_tokens_total Tokens embedded.\n# TYPE keel_tokens_total counter\n";
  out += "keel_tokens_total " + std::to_string(tokens_.load()) + "\n";
  queue_.render(out);
  compute_.render(out);
  e2e_.render(out);
  batch_size_.render(out);
  batch_tokens_.render(out);
  out += "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
         "# TYPE process_resident_memory_bytes gauge\n";
  out += "process_resident_memory_bytes " + std::to_string(process_rss_bytes()) + "\n";
  return out;
}

uint64_t process_rss_bytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long long size = 0, resident = 0;
  const int n = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  if (n != 2) return 0;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace keel::server
