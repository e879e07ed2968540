// EmbedScheduler: a job's rows equal the model's own forward pass on the same
// sequences; a job whose cancel flag is set is dropped before its next batch,
// whether it was still queued or half computed, and its callback says so.
#include "runtime/scheduler.h"

#include <atomic>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>

#include "models/synthetic_model.h"

namespace keel::runtime {
namespace {

namespace fs = std::filesystem;

// A one-layer MiniLM (real config and tokenizer, seeded weights), made once per
// process: ctest runs each TEST as its own process, in parallel, so each makes
// its own copy. nullptr (after a test failure) if it cannot be made.
EmbeddingModel* model() {
  static std::unique_ptr<EmbeddingModel> m = []() -> std::unique_ptr<EmbeddingModel> {
    const std::string shared = std::string(KEEL_SHARED_MODELS) + "/all-MiniLM-L6-v2";
    const fs::path dir = fs::path(KEEL_TEST_TMP) / "scheduler_test" / ("minilm_" + std::to_string(getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    Status made = make_model(
        {.config_path = shared, .tokenizer_dir = shared, .num_layers = 1, .seed = 3, .out_dir = dir.string()});
    EXPECT_TRUE(made.ok()) << made.message();
    if (!made.ok()) return nullptr;
    auto opened = EmbeddingModel::open(dir.string(), "minilm", {.threads = 1});
    EXPECT_TRUE(opened.ok()) << opened.error();
    return opened.ok() ? std::move(*opened) : nullptr;
  }();
  return m.get();
}

std::vector<Sequence> sequences(size_t n, size_t words) {
  std::vector<Sequence> out;
  for (size_t i = 0; i < n; ++i) {
    std::string text;
    for (size_t w = 0; w < words; ++w) text += "word" + std::to_string(i * 31 + w) + " ";
    auto seq = model()->tokenize(text, /*truncate=*/true);
    EXPECT_TRUE(seq.ok()) << seq.error();
    out.push_back(std::move(*seq));
  }
  return out;
}

struct Outcome {
  Result<std::vector<float>> rows = Error("not called");
  JobTiming timing;
};

// A JobDone that fulfils a promise (done must be called exactly once).
JobDone capture(std::promise<Outcome>& promise) {
  return [&promise](Result<std::vector<float>> rows, JobTiming timing) {
    promise.set_value(Outcome{std::move(rows), timing});
  };
}

struct BatchLog {
  std::mutex mu;
  std::vector<BatchStats> batches;
  size_t sequences() {
    std::lock_guard lock(mu);
    size_t n = 0;
    for (auto& b : batches) n += b.sequences;
    return n;
  }
};

TEST(EmbedScheduler, RowsAreTheModelsForwardPass) {
  ASSERT_NE(model(), nullptr);
  std::vector<Sequence> seqs = sequences(5, 12);
  bert::PackedBatch packed;
  for (auto& s : seqs) packed.add(s.ids, s.type_ids);
  std::vector<float> want;
  ASSERT_TRUE(model()->embed_pooled(packed, want).ok());

  EmbedScheduler scheduler(*model(), {.max_batch_tokens = 4096});
  std::promise<Outcome> done;
  ASSERT_EQ(scheduler.submit(seqs, capture(done)), SubmitResult::kAccepted);
  Outcome got = done.get_future().get();
  ASSERT_TRUE(got.rows.ok()) << got.rows.error();
  EXPECT_FALSE(got.timing.cancelled);
  EXPECT_EQ(*got.rows, want);
}

TEST(EmbedScheduler, AQueuedCancelledJobIsNeverComputed) {
  ASSERT_NE(model(), nullptr);
  BatchLog log;
  EmbedScheduler scheduler(*model(), {.max_batch_tokens = 4096}, [&](const BatchStats& b) {
    std::lock_guard lock(log.mu);
    log.batches.push_back(b);
  });
  auto gone = std::make_shared<std::atomic<bool>>(true);  // the client left before the job ran
  std::promise<Outcome> cancelled, kept;
  ASSERT_EQ(scheduler.submit(sequences(7, 20), capture(cancelled), gone), SubmitResult::kAccepted);
  ASSERT_EQ(scheduler.submit(sequences(3, 10), capture(kept), std::make_shared<std::atomic<bool>>(false)),
            SubmitResult::kAccepted);
  Outcome c = cancelled.get_future().get();
  EXPECT_TRUE(c.timing.cancelled);
  ASSERT_FALSE(c.rows.ok());
  EXPECT_NE(c.rows.error().find("cancelled"), std::string::npos) << c.rows.error();
  Outcome k = kept.get_future().get();
  ASSERT_TRUE(k.rows.ok()) << k.rows.error();
  EXPECT_FALSE(k.timing.cancelled);
  EXPECT_EQ(k.rows->size(), 3 * model()->dim());
  EXPECT_EQ(log.sequences(), 3u);  // only the kept job's
}

TEST(EmbedScheduler, CancellingAJobStopsItsRemainingBatches) {
  ASSERT_NE(model(), nullptr);
  // A budget of ~2 sequences per batch splits the job over 10 batches; the
  // flag is set while the first one computes (on_batch runs on the scheduler
  // thread right after it), so that is the only one.
  const std::vector<Sequence> seqs(20, sequences(1, 10)[0]);
  const size_t len = seqs[0].ids.size();
  auto gone = std::make_shared<std::atomic<bool>>(false);
  BatchLog log;
  EmbedScheduler scheduler(*model(), {.max_batch_tokens = 2 * len}, [&](const BatchStats& b) {
    std::lock_guard lock(log.mu);
    log.batches.push_back(b);
    gone->store(true);
  });
  std::promise<Outcome> done;
  ASSERT_EQ(scheduler.submit(seqs, capture(done), gone), SubmitResult::kAccepted);
  Outcome got = done.get_future().get();
  EXPECT_TRUE(got.timing.cancelled);
  EXPECT_FALSE(got.rows.ok());
  EXPECT_GT(got.timing.compute_seconds, 0.0);
  scheduler.stop();
  EXPECT_EQ(log.batches.size(), 1u);
  EXPECT_EQ(log.sequences(), 2u);
  EXPECT_EQ(scheduler.queued_jobs(), 0u);
}

TEST(EmbedScheduler, StopFinishesQueuedJobsButNotCancelledOnes) {
  ASSERT_NE(model(), nullptr);
  EmbedScheduler scheduler(*model(), {.max_batch_tokens = 64});
  std::promise<Outcome> a, b;
  ASSERT_EQ(scheduler.submit(sequences(6, 10), capture(a)), SubmitResult::kAccepted);
  ASSERT_EQ(scheduler.submit(sequences(6, 10), capture(b), std::make_shared<std::atomic<bool>>(true)),
            SubmitResult::kAccepted);
  scheduler.stop();
  EXPECT_EQ(scheduler.submit(sequences(1, 3), [](Result<std::vector<float>>, JobTiming) {}),
            SubmitResult::kStopped);
  Outcome ra = a.get_future().get(), rb = b.get_future().get();
  ASSERT_TRUE(ra.rows.ok()) << ra.rows.error();
  EXPECT_EQ(ra.rows->size(), 6 * model()->dim());
  EXPECT_TRUE(rb.timing.cancelled);
  EXPECT_FALSE(rb.rows.ok());
}

TEST(EmbedScheduler, WaitsToFillABatchOnlyWhenRequestsComeTogether) {
  ASSERT_NE(model(), nullptr);
  // A lone request is not held for max_wait (30 s here) ...
  std::promise<std::vector<Outcome>> later;
  std::vector<Outcome> followers;
  std::mutex mu;
  std::unique_ptr<EmbedScheduler> scheduler;
  bool first_batch = true;
  auto on_batch = [&](const BatchStats&) {
    // ... and while the first runs, two arrive together: they share the next
    // batch, after which a third waits for company, up to max_wait.
    if (!std::exchange(first_batch, false)) return;
    for (int i = 0; i < 2; ++i)
      ASSERT_EQ(scheduler->submit(sequences(1, 4), [&](Result<std::vector<float>> rows, JobTiming t) {
        std::lock_guard lock(mu);
        followers.push_back({std::move(rows), t});
      }), SubmitResult::kAccepted);
  };
  BatchLog log;
  scheduler = std::make_unique<EmbedScheduler>(*model(), SchedulerOptions{.max_wait = std::chrono::seconds(30)},
                                               [&](const BatchStats& b) {
                                                 on_batch(b);
                                                 std::lock_guard lock(log.mu);
                                                 log.batches.push_back(b);
                                               });
  std::promise<Outcome> lone;
  ASSERT_EQ(scheduler->submit(sequences(1, 4), capture(lone)), SubmitResult::kAccepted);
  auto f = lone.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(20)), std::future_status::ready) << "a lone request waited for company";
  ASSERT_TRUE(f.get().rows.ok());
  scheduler->stop();  // runs what is queued without waiting out max_wait
  ASSERT_EQ(log.batches.size(), 2u);
  EXPECT_EQ(log.batches[1].sequences, 2u);  // the two that came together
  std::lock_guard lock(mu);
  ASSERT_EQ(followers.size(), 2u);
}

}  // namespace
}  // namespace keel::runtime
