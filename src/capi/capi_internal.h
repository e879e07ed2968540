// What the C ABI's translation units share: the handle structs behind keel.h's
// opaque types, and `guarded`, which turns every outcome (a status, a C++
// exception of any kind) into an int status plus the thread's last error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"
#include "keel/keel.h"
#include "models/bert/embedder.h"
#include "tokenizer/tokenizer.h"

struct keel_tokenizer {
  keel::tok::Tokenizer tokenizer;
  std::unique_ptr<keel::ThreadPool> pool;  // null: the process-wide pool
};

struct keel_encoding {
  // One sequence's arrays, kept in the layouts keel.h hands out.
  struct Sequence {
    std::vector<uint32_t> ids;
    std::vector<uint32_t> type_ids;
    std::vector<uint8_t> attention_mask;
    std::vector<uint8_t> special_tokens_mask;
    std::vector<size_t> offsets;  // [tokens, 2]: start, end in code points
    std::vector<std::string> tokens;
  };
  std::vector<Sequence> sequences;
};

struct keel_model {
  keel::bert::Embedder embedder;
  std::mutex mu;  // one embed (or set_threads) at a time
};

namespace keel::capi {

// Records `message` as this thread's last error and returns `status`. Never
// allocates or throws (the message is cut to a fixed buffer).
int fail(int status, std::string_view message);
void clear_error();
// fail(KEEL_ERR_INTERNAL, "internal error: " + what), without allocating.
int fail_internal(const char* what);

// Runs fn() -> int status. KEEL_OK clears the last error; exceptions become
// KEEL_ERR_OUT_OF_MEMORY / KEEL_ERR_INTERNAL with the exception's message.
template <typename Fn>
int guarded(Fn&& fn) {
  try {
    const int status = fn();
    if (status == KEEL_OK) clear_error();
    return status;
  } catch (const std::bad_alloc&) {
    return fail(KEEL_ERR_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return fail_internal(e.what());
  } catch (...) {
    return fail(KEEL_ERR_INTERNAL, "internal error: unknown exception");
  }
}

// The texts of a batch call as views: texts[i] with lens[i] bytes, or up to its
// NUL when lens is null. A null texts[i] is allowed only with a length of 0.
Status text_views(const char* const* texts, const size_t* lens, size_t n, std::vector<std::string_view>& out);
// One text: len bytes at text (null only with len 0).
Status text_view(const char* text, size_t len, std::string_view& out);

// Whether a path the caller gave exists and is readable (directory: is_dir).
Status check_readable(const char* path, bool is_dir);

}  // namespace keel::capi
