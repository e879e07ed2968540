#include "runtime/scheduler.h"

#include <algorithm>
#include <cstring>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace keel::runtime {

EmbedScheduler::EmbedScheduler(EmbeddingModel& model, SchedulerOptions options,
                               std::function<void(const BatchStats&)> on_batch)
    : model_(model), options_(options), on_batch_(std::move(on_batch)) {
  thread_ = std::thread([this] { loop(); });
}

EmbedScheduler::~EmbedScheduler() { stop(); }

SubmitResult EmbedScheduler::submit(std::vector<Sequence> seqs, JobDone done, CancelFlag cancel) {
  auto job = std::make_shared<Job>();
  size_t tokens = 0;
  for (const Sequence& s : seqs) tokens += s.ids.size();
  job->seqs = std::move(seqs);
  job->done = std::move(done);
  job->cancel = std::move(cancel);
  job->rows.resize(job->seqs.size() * model_.dim());
  {
    std::lock_guard lock(mu_);
    if (stopping_) return SubmitResult::kStopped;
    if (queue_.size() >= options_.max_queue) return SubmitResult::kQueueFull;
    job->submitted = Clock::now();
    queue_.push_back(std::move(job));
    queued_tokens_ += tokens;
  }
  cv_.notify_one();
  return SubmitResult::kAccepted;
}

void EmbedScheduler::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

size_t EmbedScheduler::queued_jobs() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void EmbedScheduler::loop() {
  std::unique_lock lock(mu_);
  while (true) {
    if (trim_pending_ && !cv_.wait_for(lock, std::chrono::milliseconds(200),
                                       [&] { return stopping_ || !queue_.empty(); })) {
      release_memory(lock);  // idle for 200 ms after work
      continue;
    }
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    // Wait (bounded) for the batch to fill, unless the budget is already met or
    // the last batch served a single request: a lone client gains nothing from
    // the wait but its latency (docs/benchmarks.md, issue 5).
    const auto deadline = queue_.front()->submitted + options_.max_wait;
    while (!stopping_ && last_batch_jobs_ > 1 && queued_tokens_ < options_.max_batch_tokens &&
           Clock::now() < deadline)
      cv_.wait_until(lock, deadline);
    std::vector<std::shared_ptr<Job>> dropped = drop_cancelled();
    std::vector<Slice> batch = take_batch(lock);
    lock.unlock();
    for (auto& job : dropped) {
      job->timing.cancelled = true;
      job->done(Error("cancelled: the client went away"), job->timing);
    }
    dropped.clear();
    if (!batch.empty()) run_batch(batch);
    const size_t jobs = batch.size();
    batch.clear();  // drop job references outside the lock
    lock.lock();
    if (jobs > 0) last_batch_jobs_ = jobs;
    trim_pending_ = true;
  }
}

// Idle after work: hand freed heap back to the OS (glibc keeps it otherwise),
// so that RSS returns near its baseline after a burst.
void EmbedScheduler::release_memory(std::unique_lock<std::mutex>& lock) {
  trim_pending_ = false;
#if defined(__GLIBC__)
  lock.unlock();
  malloc_trim(0);
  lock.lock();
#endif
}

// Takes the cancelled jobs out of the queue (their callbacks run outside the
// lock), with the sequences of theirs not yet computed. A job whose forward
// pass failed has had its answer and leaves too.
std::vector<std::shared_ptr<EmbedScheduler::Job>> EmbedScheduler::drop_cancelled() {
  std::vector<std::shared_ptr<Job>> dropped;
  for (auto it = queue_.begin(); it != queue_.end();) {
    Job& job = **it;
    const bool cancelled = job.cancel && job.cancel->load(std::memory_order_relaxed);
    if (!cancelled && !job.failed) {
      ++it;
      continue;
    }
    for (size_t i = job.next; i < job.seqs.size(); ++i) queued_tokens_ -= job.seqs[i].ids.size();
    if (!job.failed) dropped.push_back(*it);
    it = queue_.erase(it);
  }
  return dropped;
}

std::vector<EmbedScheduler::Slice> EmbedScheduler::take_batch(std::unique_lock<std::mutex>&) {
  std::vector<Slice> batch;
  size_t tokens = 0;
  while (!queue_.empty()) {
    Job& job = *queue_.front();
    const size_t begin = job.next;
    while (job.next < job.seqs.size()) {
      const size_t len = job.seqs[job.next].ids.size();
      if (tokens > 0 && tokens + len > options_.max_batch_tokens) break;
      tokens += len;
      queued_tokens_ -= len;
      ++job.next;
    }
    if (job.next > begin) batch.push_back({queue_.front(), begin, job.next});
    if (job.next < job.seqs.size()) break;  // the budget is spent
    queue_.pop_front();
  }
  return batch;
}

void EmbedScheduler::run_batch(std::vector<Slice>& batch) {
  const auto start = Clock::now();
  bert::PackedBatch packed;
  for (Slice& s : batch) {
    if (!s.job->started) {
      s.job->started = true;
      s.job->timing.queue_seconds = std::chrono::duration<double>(start - s.job->submitted).count();
    }
    for (size_t i = s.begin; i < s.end; ++i) packed.add(s.job->seqs[i].ids, s.job->seqs[i].type_ids);
  }
  Status status = model_.embed_pooled(packed, pooled_);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (on_batch_) on_batch_({.sequences = packed.num_sequences(), .tokens = packed.num_tokens(), .compute_seconds = seconds});

  const size_t dim = model_.dim();
  size_t row = 0;
  for (Slice& s : batch) {
    Job& job = *s.job;
    job.timing.compute_seconds += seconds;
    const size_t n = s.end - s.begin;
    if (status.ok())
      std::memcpy(job.rows.data() + s.begin * dim, pooled_.data() + row * dim, n * dim * sizeof(float));
    row += n;
    job.finished += n;
    if (!status.ok() && !job.failed) {
      job.failed = true;
      job.done(status, job.timing);
    }
    if (job.finished == job.seqs.size() && !job.failed) job.done(std::move(job.rows), job.timing);
  }
}

}  // namespace keel::runtime
