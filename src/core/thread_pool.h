// A fixed pool of worker threads for data-parallel loops. The calling thread
// works too, so a pool of N threads uses N cores (N-1 workers + the caller).
//
//   pool.parallel_for(rows, [&](int64_t begin, int64_t end) { ... });
//
// parallel_for returns when every chunk has run. Calls from several threads at
// once are serialized; a nested call from inside a task runs inline.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace keel {

class ThreadPool {
 public:
  // n_threads <= 0 means one per hardware thread.
  explicit ThreadPool(int n_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Splits [0, n) into chunks of at least `min_chunk` and runs fn(begin, end) on
  // every thread until all chunks are done.
  void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn,
                    int64_t min_chunk = 1);

 private:
  void worker_loop();
  void run_chunks();

  std::vector<std::thread> workers_;
  std::mutex call_mu_;  // one parallel_for at a time
  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  uint64_t generation_ = 0;
  bool stop_ = false;
  int active_workers_ = 0;

  // The current job.
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_ = 0, chunk_ = 1;
  std::atomic<int64_t> next_{0};
};

// Process-wide pool, created on first use with one thread per hardware thread
// (or KEEL_THREADS from the environment).
ThreadPool& default_thread_pool();

}  // namespace keel
