#include "core/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

namespace keel {
namespace {
thread_local bool t_inside_pool_task = false;
}

ThreadPool::ThreadPool(int n_threads) {
  if (const char* env = std::getenv("KEEL_POOL_SPIN_US")) spin_micros_ = std::clamp(std::atoi(env), 0, 100000);
  if (n_threads <= 0) n_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  workers_.reserve(n_threads - 1);
  for (int i = 0; i < n_threads - 1; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
  }
  start_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_chunks() {
  for (;;) {
    int64_t begin = next_.fetch_add(chunk_, std::memory_order_relaxed);
    if (begin >= n_) break;
    (*fn_)(begin, std::min(n_, begin + chunk_));
  }
}

namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Spins until done() or about `micros` have passed; returns done(). The first
// kPureSpinMicros only pause; after that each round also yields, so that when
// the cores are oversubscribed (other processes, or more pool threads than
// free cores) a descheduled pool thread -- maybe the one we wait for -- runs.
template <typename Done>
bool spin_until(Done done, int micros) {
  constexpr int kPureSpinMicros = 5;
  if (done()) return true;
  const auto t0 = std::chrono::steady_clock::now();
  const auto pure_end = t0 + std::chrono::microseconds(std::min(micros, kPureSpinMicros));
  const auto deadline = t0 + std::chrono::microseconds(micros);
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      cpu_relax();
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return done();
    if (now >= pure_end) std::this_thread::yield();
  }
}

}  // namespace

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  for (;;) {
    auto has_work = [&] {
      return stop_.load(std::memory_order_acquire) || generation_.load(std::memory_order_acquire) != seen;
    };
    if (!spin_until(has_work, spin_micros_)) {
      std::unique_lock<std::mutex> lock(mu_);
      sleepers_.fetch_add(1, std::memory_order_relaxed);
      start_cv_.wait(lock, has_work);
      sleepers_.fetch_sub(1, std::memory_order_relaxed);
    }
    if (stop_.load(std::memory_order_acquire)) return;
    seen = generation_.load(std::memory_order_acquire);
    t_inside_pool_task = true;
    run_chunks();
    t_inside_pool_task = false;
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mu_);  // the caller checks pending_ under mu_ before sleeping
      done_cv_.notify_one();
    }
  }
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn,
                              int64_t min_chunk) {
  if (n <= 0) return;
  min_chunk = std::max<int64_t>(1, min_chunk);
  if (workers_.empty() || n <= min_chunk || t_inside_pool_task) {
    fn(0, n);
    return;
  }
  std::lock_guard<std::mutex> call_lock(call_mu_);
  // About 4 chunks per thread balances uneven chunks without much overhead.
  const int64_t chunk = std::max(min_chunk, (n + num_threads() * 4 - 1) / (num_threads() * 4));
  // The job's fields are published by the release increment of generation_;
  // no worker reads them between jobs (pending_ was 0).
  fn_ = &fn;
  n_ = n;
  chunk_ = chunk;
  next_.store(0, std::memory_order_relaxed);
  pending_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
  {
    // Under mu_: a worker about to sleep either sees the new generation in
    // its wait predicate or is already counted in sleepers_.
    std::lock_guard<std::mutex> lock(mu_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  if (sleepers_.load(std::memory_order_relaxed) > 0) start_cv_.notify_all();
  t_inside_pool_task = true;
  run_chunks();
  t_inside_pool_task = false;
  auto all_done = [&] { return pending_.load(std::memory_order_acquire) == 0; };
  if (!spin_until(all_done, spin_micros_)) {
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, all_done);
  }
  fn_ = nullptr;
}

ThreadPool& default_thread_pool() {
  static ThreadPool pool([] {
    const char* env = std::getenv("KEEL_THREADS");
    int n = env ? std::atoi(env) : 0;
    return n > 0 ? n : 0;
  }());
  return pool;
}

}  // namespace keel
