// keel_model_*: sentence-embedding models (keel.h), the bert::Embedder that
// `keel embed` drives, behind a lock.
#include <cstring>
#include <limits>

#include "capi/capi_internal.h"

using keel::Status;
using keel::capi::fail;
using keel::capi::guarded;

extern "C" {

keel_model_params keel_model_default_params(void) {
  keel_model_params p;
  p.dtype = KEEL_DTYPE_F32;
  p.n_threads = 0;
  return p;
}

int keel_model_create(const char* dir, const keel_model_params* params, keel_model** out) {
  return guarded([&] {
    if (!dir) return fail(KEEL_ERR_INVALID_ARGUMENT, "keel_model_create: dir is NULL");
    if (!out) return fail(KEEL_ERR_INVALID_ARGUMENT, "keel_model_create: out is NULL");
    const keel_model_params p = params ? *params : keel_model_default_params();
    keel::bert::EmbedderOptions options;
    switch (p.dtype) {
      case KEEL_DTYPE_F32: options.compute = keel::kernels::Compute::F32; break;
      case KEEL_DTYPE_BF16: options.compute = keel::kernels::Compute::BF16; break;
      case KEEL_DTYPE_INT8: options.compute = keel::kernels::Compute::I8; break;
      default:
        return fail(KEEL_ERR_INVALID_ARGUMENT, keel::str_cat("keel_model_create: unknown dtype ", p.dtype));
    }
    if (p.n_threads < 0 || p.n_threads > 4096)
      return fail(KEEL_ERR_INVALID_ARGUMENT,
                  keel::str_cat("keel_model_create: n_threads must be 0..4096, got ", p.n_threads));
    options.threads = p.n_threads;
    if (Status s = keel::capi::check_readable(dir, true); !s.ok()) return fail(KEEL_ERR_IO, s.message());
    auto embedder = keel::bert::Embedder::open(dir, options);
    if (!embedder.ok()) return fail(KEEL_ERR_FORMAT, embedder.error());
    *out = new keel_model{std::move(embedder).value(), {}};
    return int{KEEL_OK};
  });
}

void keel_model_free(keel_model* model) { delete model; }

size_t keel_model_dim(const keel_model* model) { return model ? model->embedder.dim() : 0; }

size_t keel_model_max_tokens(const keel_model* model) {
  return model ? model->embedder.sentence_config().max_seq_length : 0;
}

int keel_model_set_threads(keel_model* model, int n_threads) {
  return guarded([&] {
    if (!model) return fail(KEEL_ERR_INVALID_ARGUMENT, "keel_model_set_threads: model is NULL");
    if (n_threads < 0 || n_threads > 4096)
      return fail(KEEL_ERR_INVALID_ARGUMENT,
                  keel::str_cat("keel_model_set_threads: n_threads must be 0..4096, got ", n_threads));
    std::lock_guard lock(model->mu);
    model->embedder.set_threads(n_threads);
    return int{KEEL_OK};
  });
}

int keel_model_embed(keel_model* model, const char* const* texts, const size_t* lens, size_t n, float* out,
                     size_t out_cap, size_t* needed) {
  return guarded([&] {
    if (!model) return fail(KEEL_ERR_INVALID_ARGUMENT, "keel_model_embed: model is NULL");
    if (!out && out_cap > 0) return fail(KEEL_ERR_INVALID_ARGUMENT, "keel_model_embed: out is NULL but out_cap > 0");
    std::vector<std::string_view> views;
    if (Status s = keel::capi::text_views(texts, lens, n, views); !s.ok())
      return fail(KEEL_ERR_INVALID_ARGUMENT, "keel_model_embed: " + s.message());
    const size_t dim = model->embedder.dim();
    if (n > std::numeric_limits<size_t>::max() / dim)
      return fail(KEEL_ERR_INVALID_ARGUMENT, keel::str_cat("keel_model_embed: n = ", n, " is too large"));
    if (needed) *needed = n * dim;
    if (out_cap < n * dim)
      return fail(KEEL_ERR_BUFFER_TOO_SMALL, keel::str_cat("keel_model_embed: ", n, " embeddings of ", dim,
                                                           " floats need ", n * dim, ", out_cap is ", out_cap));
    if (n == 0) return int{KEEL_OK};
    std::lock_guard lock(model->mu);
    auto batch = model->embedder.tokenize(views);
    if (!batch.ok()) return fail(KEEL_ERR_INVALID_INPUT, batch.error());
    auto vectors = model->embedder.embed_batch(*batch);
    if (!vectors.ok()) return fail(KEEL_ERR_INTERNAL, vectors.error());
    std::memcpy(out, vectors->data(), n * dim * sizeof(float));
    return int{KEEL_OK};
  });
}

}  // extern "C"
