// Status names and the per-thread last error of the C ABI.
#include <cstring>

#include "capi/capi_internal.h"

namespace {

// A fixed buffer: recording an error must not fail (no allocation, no throw),
// and a thread_local char array needs no destructor at thread exit.
constexpr size_t kMaxMessage = 2048;
thread_local char t_last_error[kMaxMessage] = "";

}  // namespace

namespace keel::capi {

int fail(int status, std::string_view message) {
  const size_t n = message.size() < kMaxMessage - 1 ? message.size() : kMaxMessage - 1;
  std::memcpy(t_last_error, message.data(), n);
  t_last_error[n] = '\0';
  return status;
}

void clear_error() { t_last_error[0] = '\0'; }

int fail_internal(const char* what) {
  constexpr std::string_view kPrefix = "internal error: ";
  std::memcpy(t_last_error, kPrefix.data(), kPrefix.size());
  const size_t room = kMaxMessage - 1 - kPrefix.size();
  const size_t n = what ? strnlen(what, room) : 0;
  if (n) std::memcpy(t_last_error + kPrefix.size(), what, n);
  t_last_error[kPrefix.size() + n] = '\0';
  return KEEL_ERR_INTERNAL;
}

}  // namespace keel::capi

extern "C" {

const char* keel_status_name(int status) {
  switch (status) {
    case KEEL_OK: return "KEEL_OK";
    case KEEL_ERR_INVALID_ARGUMENT: return "KEEL_ERR_INVALID_ARGUMENT";
    case KEEL_ERR_IO: return "KEEL_ERR_IO";
    case KEEL_ERR_FORMAT: return "KEEL_ERR_FORMAT";
    case KEEL_ERR_BUFFER_TOO_SMALL: return "KEEL_ERR_BUFFER_TOO_SMALL";
    case KEEL_ERR_INVALID_INPUT: return "KEEL_ERR_INVALID_INPUT";
    case KEEL_ERR_OUT_OF_MEMORY: return "KEEL_ERR_OUT_OF_MEMORY";
    case KEEL_ERR_INTERNAL: return "KEEL_ERR_INTERNAL";
  }
  return "unknown status";
}

const char* keel_last_error(void) { return t_last_error; }

}  // extern "C"
