// A fixed pool of worker threads for data-parallel loops. The calling thread
// works too, so a pool of N threads uses N cores (N-1 workers + the caller).
//
//   pool.parallel_for(rows, [&](int64_t begin, int64_t end) { ... });
//
// parallel_for returns when every chunk has run. Calls from several threads at
// once are serialized; a nested call from inside a task runs inline.
//
// Waking: after a job, workers spin (pause, then yield) for up to 200 us
// before sleeping on a condition variable, and the caller spins the
// same way while waiting for the workers to finish. Back-to-back calls (a
// decoder's ~150 matrix products per token) then cost about a microsecond of
// hand-off instead of a futex wake-up each (~10-20 us); an idle pool sleeps.
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

  int spin_micros_ = 200;

  std::vector<std::thread> workers_;
  std::mutex call_mu_;  // one parallel_for at a time
  std::mutex mu_;       // guards the sleeps (changes to generation_ / pending_ that wake one)
  std::condition_variable start_cv_, done_cv_;
  std::atomic<uint64_t> generation_{0};  // bumped (under mu_) to publish a job
  std::atomic<bool> stop_{false};
  std::atomic<int> pending_{0};   // workers that have not finished the current job
  std::atomic<int> sleepers_{0};  // workers blocked on start_cv_

  // The current job.
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_ = 0, chunk_ = 1;
  std::atomic<int64_t> next_{0};
};

// Process-wide pool, created on first use with one thread per hardware thread
// (or KEEL_THREADS from the environment).
ThreadPool& default_thread_pool();

}  // namespace keel
