// The batching scheduler: HTTP threads submit jobs (one request's sequences);
// one scheduler thread owns the model, packs queued sequences into batches by
// token budget (waiting at most max_wait for more to arrive once the oldest job
// is queued, if the last batch served several requests), runs them, and hands
// each job its rows when all are done. A job larger than the budget is split
// over several batches; a batch always takes at least one sequence. The queue
// is bounded: submit() refuses instead of growing without limit (llama.cpp's
// server queue, with token budgets).
// A job whose cancel flag is set (its client went away) is dropped before its
// next batch: nothing more is computed for it, and done() learns it was
// cancelled (vLLM aborts a request whose client disconnects the same way).
//
//   EmbedScheduler s(model, {.max_batch_tokens = 8192});
//   auto r = s.submit(std::move(seqs), [](Result<std::vector<float>> rows, JobTiming t) { ... });
//   if (r == SubmitResult::kQueueFull) -> 429
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/status.h"
#include "runtime/embedding_model.h"

namespace keel::runtime {

struct SchedulerOptions {
  // Tokens per forward pass. 2048 already fills the GEMMs (32 medium
  // requests); larger batches only raise peak activation memory (~28 bytes x
  // hidden per token for BERT) without more throughput (docs/benchmarks.md).
  size_t max_batch_tokens = 2048;
  std::chrono::microseconds max_wait{2000};          // to fill a batch once work is queued
  size_t max_queue = 1024;                           // jobs waiting; more are refused
};

struct JobTiming {
  double queue_seconds = 0;    // submit -> its first batch starts
  double compute_seconds = 0;  // the forward passes it took part in
  bool cancelled = false;      // dropped unfinished: its cancel flag was set
};

// Set (from any thread) when nobody waits for a job's answer any more.
using CancelFlag = std::shared_ptr<const std::atomic<bool>>;

struct BatchStats {
  size_t sequences = 0;
  size_t tokens = 0;
  double compute_seconds = 0;
};

// rows: [sequences, dim] pooled, not normalized; an error if the forward pass
// failed or the job was cancelled (timing.cancelled). Called once, on the
// scheduler thread; it must not block.
using JobDone = std::function<void(Result<std::vector<float>> rows, JobTiming timing)>;

enum class SubmitResult { kAccepted, kQueueFull, kStopped };

class EmbedScheduler {
 public:
  EmbedScheduler(EmbeddingModel& model, SchedulerOptions options,
                 std::function<void(const BatchStats&)> on_batch = nullptr);
  ~EmbedScheduler();  // stop()
  EmbedScheduler(const EmbedScheduler&) = delete;
  EmbedScheduler& operator=(const EmbedScheduler&) = delete;

  // Thread-safe. seqs must be non-empty, each 1..max_tokens() long.
  SubmitResult submit(std::vector<Sequence> seqs, JobDone done, CancelFlag cancel = nullptr);
  // Refuses new jobs, finishes every queued one, joins the thread. Idempotent.
  void stop();
  size_t queued_jobs() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Job {
    std::vector<Sequence> seqs;
    JobDone done;
    CancelFlag cancel;
    Clock::time_point submitted;
    size_t next = 0;           // first sequence not yet put in a batch
    size_t finished = 0;       // sequences computed
    bool started = false;
    bool failed = false;
    JobTiming timing;
    std::vector<float> rows;   // [seqs, dim]
  };
  struct Slice {  // sequences [begin, end) of a job in the current batch
    std::shared_ptr<Job> job;
    size_t begin, end;
  };

  void loop();
  std::vector<std::shared_ptr<Job>> drop_cancelled();
  std::vector<Slice> take_batch(std::unique_lock<std::mutex>& lock);
  void run_batch(std::vector<Slice>& batch);
  void release_memory(std::unique_lock<std::mutex>& lock);

  EmbeddingModel& model_;
  const SchedulerOptions options_;
  std::function<void(const BatchStats&)> on_batch_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  size_t queued_tokens_ = 0;  // tokens of the queued sequences not yet batched
  size_t last_batch_jobs_ = 0;  // requests in the last batch (1: a lone client, no wait)
  bool stopping_ = false;
  std::thread thread_;
  std::vector<float> pooled_;  // scratch: [batch sequences, dim]
  bool trim_pending_ = false;  // work ran since the last malloc_trim
};

}  // namespace keel::runtime
