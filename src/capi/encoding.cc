// keel_encoding_*: read access to library-allocated encodings (keel.h).
#include <algorithm>

#include "capi/capi_internal.h"

using keel::capi::fail;
using keel::capi::guarded;

namespace {

const keel_encoding::Sequence* sequence(const keel_encoding* e, size_t i) {
  return e && i < e->sequences.size() ? &e->sequences[i] : nullptr;
}

// data() of a non-empty array, NULL otherwise (keel.h: NULL for empty sequences).
template <typename T>
const T* data_or_null(const std::vector<T>& v) {
  return v.empty() ? nullptr : v.data();
}

}  // namespace

extern "C" {

void keel_encoding_free(keel_encoding* encoding) { delete encoding; }

size_t keel_encoding_count(const keel_encoding* encoding) { return encoding ? encoding->sequences.size() : 0; }

size_t keel_encoding_length(const keel_encoding* encoding, size_t i) {
  const auto* s = sequence(encoding, i);
  return s ? s->ids.size() : 0;
}

const uint32_t* keel_encoding_ids(const keel_encoding* encoding, size_t i) {
  const auto* s = sequence(encoding, i);
  return s ? data_or_null(s->ids) : nullptr;
}

const uint32_t* keel_encoding_type_ids(const keel_encoding* encoding, size_t i) {
  const auto* s = sequence(encoding, i);
  return s ? data_or_null(s->type_ids) : nullptr;
}

const uint8_t* keel_encoding_attention_mask(const keel_encoding* encoding, size_t i) {
  const auto* s = sequence(encoding, i);
  return s ? data_or_null(s->attention_mask) : nullptr;
}

const uint8_t* keel_encoding_special_tokens_mask(const keel_encoding* encoding, size_t i) {
  const auto* s = sequence(encoding, i);
  return s ? data_or_null(s->special_tokens_mask) : nullptr;
}

const size_t* keel_encoding_offsets(const keel_encoding* encoding, size_t i) {
  const auto* s = sequence(encoding, i);
  return s ? data_or_null(s->offsets) : nullptr;
}

const char* keel_encoding_token(const keel_encoding* encoding, size_t i, size_t j) {
  const auto* s = sequence(encoding, i);
  return s && j < s->tokens.size() ? s->tokens[j].c_str() : nullptr;
}

int keel_encoding_copy_ids(const keel_encoding* encoding, size_t i, uint32_t* buf, size_t cap, size_t* needed) {
  return guarded([&] {
    if (!encoding) return fail(KEEL_ERR_INVALID_ARGUMENT, "keel_encoding_copy_ids: encoding is NULL");
    if (!needed) return fail(KEEL_ERR_INVALID_ARGUMENT, "keel_encoding_copy_ids: needed is NULL");
    if (!buf && cap > 0) return fail(KEEL_ERR_INVALID_ARGUMENT, "keel_encoding_copy_ids: buf is NULL but cap > 0");
    const auto* s = sequence(encoding, i);
    if (!s)
      return fail(KEEL_ERR_INVALID_ARGUMENT, keel::str_cat("keel_encoding_copy_ids: sequence ", i,
                                                           " is out of range (the encoding has ",
                                                           encoding->sequences.size(), ")"));
    *needed = s->ids.size();
    if (cap < s->ids.size())
      return fail(KEEL_ERR_BUFFER_TOO_SMALL, keel::str_cat("keel_encoding_copy_ids: ", s->ids.size(),
                                                           " ids do not fit a buffer of ", cap));
    std::copy(s->ids.begin(), s->ids.end(), buf);
    return int{KEEL_OK};
  });
}

}  // extern "C"
