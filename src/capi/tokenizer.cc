// keel_tokenizer_*: loading, configuring, encoding and decoding (keel.h).
#include <algorithm>
#include <cstring>
#include <filesystem>

#include "capi/capi_internal.h"

namespace keel::capi {
namespace {

// The arrays of one encoding in keel.h's layouts.
keel_encoding::Sequence to_sequence(tok::Encoding&& e) {
  keel_encoding::Sequence s;
  s.ids = std::move(e.ids);
  s.type_ids = std::move(e.type_ids);
  s.attention_mask = std::move(e.attention_mask);
  s.special_tokens_mask = std::move(e.special_tokens_mask);
  s.offsets.reserve(2 * e.offsets.size());
  for (const auto& [start, end] : e.offsets) {
    s.offsets.push_back(start);
    s.offsets.push_back(end);
  }
  s.tokens = std::move(e.tokens);
  return s;
}

// Writes encoding e into row `row` of buffers (rows of b.capacity tokens),
// zero-filling the row past e's tokens. e.size() <= b.capacity.
void write_row(const tok::Encoding& e, const keel_token_buffers& b, size_t row) {
  const size_t cap = b.capacity, n = e.size(), base = row * cap;
  if (b.ids) {
    std::copy(e.ids.begin(), e.ids.end(), b.ids + base);
    std::fill(b.ids + base + n, b.ids + base + cap, 0u);
  }
  if (b.type_ids) {
    std::copy(e.type_ids.begin(), e.type_ids.end(), b.type_ids + base);
    std::fill(b.type_ids + base + n, b.type_ids + base + cap, 0u);
  }
  if (b.attention_mask) {
    std::copy(e.attention_mask.begin(), e.attention_mask.end(), b.attention_mask + base);
    std::fill(b.attention_mask + base + n, b.attention_mask + base + cap, uint8_t{0});
  }
  if (b.special_tokens_mask) {
    std::copy(e.special_tokens_mask.begin(), e.special_tokens_mask.end(), b.special_tokens_mask + base);
    std::fill(b.special_tokens_mask + base + n, b.special_tokens_mask + base + cap, uint8_t{0});
  }
  if (b.offsets) {
    size_t* o = b.offsets + 2 * base;
    for (size_t j = 0; j < n; ++j) {
      o[2 * j] = e.offsets[j].first;
      o[2 * j + 1] = e.offsets[j].second;
    }
    std::fill(o + 2 * n, o + 2 * cap, size_t{0});
  }
}

Status check_buffers(const keel_token_buffers* b) {
  if (!b) return Error("buffers is NULL");
  if (b->capacity > 0 && !b->ids && !b->type_ids && !b->attention_mask && !b->special_tokens_mask && !b->offsets)
    return Error("buffers has a capacity of ", b->capacity, " but no arrays");
  return Status::Ok();
}

Result<std::vector<tok::Encoding>> encode_views(const keel_tokenizer* t, std::span<const std::string_view> views,
                                                bool add_special) {
  if (views.empty()) return std::vector<tok::Encoding>();
  return t->tokenizer.encode_batch(views, add_special, t->pool.get());
}

}  // namespace
}  // namespace keel::capi

using keel::Status;
using keel::capi::fail;
using keel::capi::guarded;
namespace tok = keel::tok;

extern "C" {

int keel_tokenizer_create(const char* path, keel_tokenizer** out) {
  return guarded([&] {
    if (!path) return fail(KEEL_ERR_INVALID_ARGUMENT, "keel_tokenizer_create: path is NULL");
    if (!out) return fail(KEEL_ERR_INVALID_ARGUMENT, "keel_tokenizer_create: out is NULL");
    if (Status s = keel::capi::check_readable(path, false); !s.ok())
      return fail(KEEL_ERR_IO, s.message());
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      const std::string file = (std::filesystem::path(path) / "tokenizer.json").string();
      if (Status s = keel::capi::check_readable(file.c_str(), false); !s.ok())
        return fail(KEEL_ERR_IO, s.message());
    }
    auto t = tok::Tokenizer::from_file(path);
    if (!t.ok()) return fail(KEEL_ERR_FORMAT, t.error());
    *out = new keel_tokenizer{std::move(t).value(), nullptr};
    return int{KEEL_OK};
  });
}

void keel_tokenizer_free(keel_tokenizer* tokenizer) { delete tokenizer; }

int keel_tokenizer_set_threads(keel_tokenizer* tokenizer, int n_threads) {
  return guarded([&] {
    if (!tokenizer) return fail(KEEL_ERR_INVALID_ARGUMENT, "keel_tokenizer_set_threads: tokenizer is NULL");
    if (n_threads < 0 || n_threads > 4096)
      return fail(KEEL_ERR_INVALID_ARGUMENT,
                  keel::str_cat("keel_tokenizer_set_threads: n_threads must be 0..4096, got ", n_threads));
    tokenizer->pool = n_threads == 0 ? nullptr : std::make_unique<keel::ThreadPool>(n_threads);
    return int{KEEL_OK};
  });
}

int keel_tokenizer_set_truncation(keel_tokenizer* tokenizer, size_t max_length) {
  return guarded([&] {
    if (!tokenizer) return fail(KEEL_ERR_INVALID_ARGUMENT, "keel_tokenizer_set_truncation: tokenizer is NULL");
    if (max_length == 0) {
      tokenizer->tokenizer.set_truncation(std::nullopt);
    } else {
      tok::TruncationParams p = tokenizer->tokenizer.truncation().value_or(tok::TruncationParams{});
      p.max_length = max_length;
      p.stride = std::min(p.stride, max_length - 1);
      tokenizer->tokenizer.set_truncation(p);
    }
    return int{KEEL_OK};
  });
}

int keel_tokenizer_set_padding(keel_tokenizer* tokenizer, int padding, size_t length) {
  return guarded([&] {
    if (!tokenizer) return fail(KEEL_ERR_INVALID_ARGUMENT, "keel_tokenizer_set_padding: tokenizer is NULL");
    if (padding == KEEL_PADDING_NONE) {
      tokenizer->tokenizer.set_padding(std::nullopt);
      return int{KEEL_OK};
    }
    if (padding != KEEL_PADDING_LONGEST && padding != KEEL_PADDING_FIXED)
      return fail(KEEL_ERR_INVALID_ARGUMENT, keel::str_cat("keel_tokenizer_set_padding: unknown padding ", padding));
    if (padding == KEEL_PADDING_FIXED && length == 0)
      return fail(KEEL_ERR_INVALID_ARGUMENT, "keel_tokenizer_set_padding: KEEL_PADDING_FIXED needs a length >= 1");
    tok::PaddingParams p = tokenizer->tokenizer.padding().value_or(tok::PaddingParams{});
    p.fixed_length = padding == KEEL_PADDING_FIXED ? std::optional<size_t>(length) : std::nullopt;
    tokenizer->tokenizer.set_padding(p);
    return int{KEEL_OK};
  });
}

size_t keel_tokenizer_vocab_size(const keel_tokenizer* tokenizer) {
  try {
    return tokenizer ? tokenizer->tokenizer.vocab_size(true) : 0;
  } catch (...) {
    return 0;
  }
}

int keel_tokenizer_encode(const keel_tokenizer* tokenizer, const char* text, size_t len, int add_special_tokens,
                          keel_encoding** out) {
  return guarded([&] {
    if (!tokenizer) return fail(KEEL_ERR_INVALID_ARGUMENT, "keel_tokenizer_encode: tokenizer is NULL");
    if (!out) return fail(KEEL_ERR_INVALID_ARGUMENT, "keel_tokenizer_encode: out is NULL");
    std::string_view view;
    if (Status s = keel::capi::text_view(text, len, view); !s.ok())
      return fail(KEEL_ERR_INVALID_ARGUMENT, "keel_tokenizer_encode: " + s.message());
    auto e = tokenizer->tokenizer.encode(view, add_special_tokens != 0);
    if (!e.ok()) return fail(KEEL_ERR_INVALID_INPUT, e.error());
    auto enc = std::make_unique<keel_encoding>();
    enc->sequences.push_back(keel::capi::to_sequence(std::move(e).value()));
    *out = enc.release();
    return int{KEEL_OK};
  });
}

int keel_tokenizer_encode_batch(const keel_tokenizer* tokenizer, const char* const* texts, const size_t* lens,
                                size_t n, int add_special_tokens, keel_encoding** out) {
  return guarded([&] {
    if (!tokenizer) return fail(KEEL_ERR_INVALID_ARGUMENT, "keel_tokenizer_encode_batch: tokenizer is NULL");
    if (!out) return fail(KEEL_ERR_INVALID_ARGUMENT, "keel_tokenizer_encode_batch: out is NULL");
    std::vector<std::string_view> views;
    if (Status s = keel::capi::text_views(texts, lens, n, views); !s.ok())
      return fail(KEEL_ERR_INVALID_ARGUMENT, "keel_tokenizer_encode_batch: " + s.message());
    auto encodings = keel::capi::encode_views(tokenizer, views, add_special_tokens != 0);
    if (!encodings.ok()) return fail(KEEL_ERR_INVALID_INPUT, encodings.error());
    auto enc = std::make_unique<keel_encoding>();
    enc->sequences.reserve(encodings->size());
    for (tok::Encoding& e : *encodings) enc->sequences.push_back(keel::capi::to_sequence(std::move(e)));
    *out = enc.release();
    return int{KEEL_OK};
  });
}

int keel_tokenizer_encode_into(const keel_tokenizer* tokenizer, const char* text, size_t len, int add_special_tokens,
                               const keel_token_buffers* buffers, size_t* n_tokens) {
  return guarded([&] {
    if (!tokenizer) return fail(KEEL_ERR_INVALID_ARGUMENT, "keel_tokenizer_encode_into: tokenizer is NULL");
    if (!n_tokens) return fail(KEEL_ERR_INVALID_ARGUMENT, "keel_tokenizer_encode_into: n_tokens is NULL");
    if (Status s = keel::capi::check_buffers(buffers); !s.ok())
      return fail(KEEL_ERR_INVALID_ARGUMENT, "keel_tokenizer_encode_into: " + s.message());
    std::string_view view;
    if (Status s = keel::capi::text_view(text, len, view); !s.ok())
      return fail(KEEL_ERR_INVALID_ARGUMENT, "keel_tokenizer_encode_into: " + s.message());
    auto e = tokenizer->tokenizer.encode(view, add_special_tokens != 0);
    if (!e.ok()) return fail(KEEL_ERR_INVALID_INPUT, e.error());
    *n_tokens = e->size();
    if (e->size() > buffers->capacity)
      return fail(KEEL_ERR_BUFFER_TOO_SMALL, keel::str_cat("keel_tokenizer_encode_into: ", e->size(),
                                                           " tokens do not fit a capacity of ", buffers->capacity));
    keel::capi::write_row(*e, *buffers, 0);
    return int{KEEL_OK};
  });
}

int keel_tokenizer_encode_batch_into(const keel_tokenizer* tokenizer, const char* const* texts, const size_t* lens,
                                     size_t n, int add_special_tokens, const keel_token_buffers* buffers,
                                     size_t* lengths, size_t* max_tokens) {
  return guarded([&] {
    if (!tokenizer) return fail(KEEL_ERR_INVALID_ARGUMENT, "keel_tokenizer_encode_batch_into: tokenizer is NULL");
    if (Status s = keel::capi::check_buffers(buffers); !s.ok())
      return fail(KEEL_ERR_INVALID_ARGUMENT, "keel_tokenizer_encode_batch_into: " + s.message());
    std::vector<std::string_view> views;
    if (Status s = keel::capi::text_views(texts, lens, n, views); !s.ok())
      return fail(KEEL_ERR_INVALID_ARGUMENT, "keel_tokenizer_encode_batch_into: " + s.message());
    auto encodings = keel::capi::encode_views(tokenizer, views, add_special_tokens != 0);
    if (!encodings.ok()) return fail(KEEL_ERR_INVALID_INPUT, encodings.error());
    size_t longest = 0;
    for (size_t i = 0; i < encodings->size(); ++i) {
      longest = std::max(longest, (*encodings)[i].size());
      if (lengths) lengths[i] = (*encodings)[i].size();
    }
    if (max_tokens) *max_tokens = longest;
    if (longest > buffers->capacity)
      return fail(KEEL_ERR_BUFFER_TOO_SMALL, keel::str_cat("keel_tokenizer_encode_batch_into: the longest sequence has ",
                                                           longest, " tokens, more than the capacity of ",
                                                           buffers->capacity));
    for (size_t i = 0; i < encodings->size(); ++i) keel::capi::write_row((*encodings)[i], *buffers, i);
    return int{KEEL_OK};
  });
}

int keel_tokenizer_decode(const keel_tokenizer* tokenizer, const uint32_t* ids, size_t n, int skip_special_tokens,
                          char* buf, size_t cap, size_t* needed) {
  return guarded([&] {
    if (!tokenizer) return fail(KEEL_ERR_INVALID_ARGUMENT, "keel_tokenizer_decode: tokenizer is NULL");
    if (!needed) return fail(KEEL_ERR_INVALID_ARGUMENT, "keel_tokenizer_decode: needed is NULL");
    if (!ids && n > 0) return fail(KEEL_ERR_INVALID_ARGUMENT, "keel_tokenizer_decode: ids is NULL but n > 0");
    if (!buf && cap > 0) return fail(KEEL_ERR_INVALID_ARGUMENT, "keel_tokenizer_decode: buf is NULL but cap > 0");
    auto text = tokenizer->tokenizer.decode(std::span<const uint32_t>(ids, n), skip_special_tokens != 0);
    if (!text.ok()) return fail(KEEL_ERR_INVALID_INPUT, text.error());
    *needed = text->size() + 1;
    if (cap < text->size() + 1)
      return fail(KEEL_ERR_BUFFER_TOO_SMALL, keel::str_cat("keel_tokenizer_decode: the text needs ", text->size() + 1,
                                                           " bytes (NUL included), the buffer has ", cap));
    std::memcpy(buf, text->data(), text->size());
    buf[text->size()] = '\0';
    return int{KEEL_OK};
  });
}

}  // extern "C"
