/* keel.h: keel's C ABI (C99 and C++).
 *
 * Tokenizers (HF tokenizer.json, a model directory or a GGUF file) and BERT-family
 * sentence-embedding models behind opaque handles.
 *
 *   keel_tokenizer* tok = NULL;
 *   if (keel_tokenizer_create("all-MiniLM-L6-v2", &tok) != KEEL_OK)
 *     fprintf(stderr, "%s\n", keel_last_error());
 *   keel_encoding* enc = NULL;
 *   keel_tokenizer_encode(tok, "hello", 5, 1, &enc);
 *   const uint32_t* ids = keel_encoding_ids(enc, 0);   // keel_encoding_length(enc, 0) ids
 *   keel_encoding_free(enc);
 *   keel_tokenizer_free(tok);
 *
 * Errors. Every function that can fail returns an int status: KEEL_OK (0) or one of
 * the keel_status codes below. A failed call also sets a message for the calling
 * thread, read with keel_last_error(); a successful one clears it. No C++ exception
 * crosses this API and no input (NULL pointers included) aborts the process.
 * Out-parameters are left unchanged on failure, except the sizes that
 * KEEL_ERR_BUFFER_TOO_SMALL reports.
 *
 * Ownership. Handles returned through `**out` belong to the caller and are released
 * with the matching keel_<noun>_free (which accepts NULL). Pointers returned by
 * accessors (keel_encoding_ids, keel_last_error, ...) point into keel's memory: do
 * not free them; they stay valid as long as the object they came from. Buffers
 * passed in are only read or written during the call.
 *
 * Threads. A tokenizer may encode and decode from several threads at once; its
 * setters must not run concurrently with other calls on it. Calls on one model are
 * serialized by a lock inside the model. Encodings are read-only and may be shared.
 *
 * Text is UTF-8, passed as a pointer and a byte length (it need not end with NUL
 * and may contain NUL bytes). Invalid UTF-8 gives KEEL_ERR_INVALID_INPUT.
 */
#ifndef KEEL_KEEL_H
#define KEEL_KEEL_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define KEEL_API
#elif defined(__GNUC__) || defined(__clang__)
#define KEEL_API __attribute__((visibility("default")))
#else
#define KEEL_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status codes ---------------------------------------------------------- */

typedef enum keel_status {
  KEEL_OK = 0,
  KEEL_ERR_INVALID_ARGUMENT = 1,  /* a NULL handle or pointer, or a value out of range */
  KEEL_ERR_IO = 2,                /* a file or directory does not exist or cannot be read */
  KEEL_ERR_FORMAT = 3,            /* a file exists but is malformed or lacks something required */
  KEEL_ERR_BUFFER_TOO_SMALL = 4,  /* a caller buffer is too small; the needed size is reported */
  KEEL_ERR_INVALID_INPUT = 5,     /* text that cannot be encoded (invalid UTF-8, ...) or bad ids */
  KEEL_ERR_OUT_OF_MEMORY = 6,     /* an allocation failed */
  KEEL_ERR_INTERNAL = 7           /* a keel bug: please report keel_last_error() */
} keel_status;

/* A static string naming a status ("KEEL_OK", ...; "unknown status" otherwise). */
KEEL_API const char* keel_status_name(int status);

/* The message of the last failed keel call on this thread, "" if the last call
 * succeeded. Valid until the next keel call on this thread; never NULL. */
KEEL_API const char* keel_last_error(void);

/* ---- library ------------------------------------------------------------------ */

/* keel's version, "MAJOR.MINOR.PATCH" (static string). */
KEEL_API const char* keel_version(void);
/* The same as MAJOR * 10000 + MINOR * 100 + PATCH. */
KEEL_API int keel_version_number(void);
/* The CPU features keel detected, space separated ("avx2 fma f16c avx512f ...");
 * static string. */
KEEL_API const char* keel_cpu_features(void);
/* The kernel tier keel runs: "scalar", "avx2" or "avx512" (static string). The
 * environment variable KEEL_ISA caps it. */
KEEL_API const char* keel_cpu_isa(void);

/* ---- tokenizer --------------------------------------------------------------- */

typedef struct keel_tokenizer keel_tokenizer;
typedef struct keel_encoding keel_encoding;

/* Loads a tokenizer from `path`: a tokenizer.json, a directory holding one (and
 * tokenizer_config.json), or a GGUF file (its tokenizer.ggml.* metadata).
 * Truncation and padding are those of tokenizer.json.
 * On KEEL_OK, *out is a new tokenizer for keel_tokenizer_free.
 * Errors: INVALID_ARGUMENT (NULL path or out), IO (no such path), FORMAT (cannot
 * be parsed). */
KEEL_API int keel_tokenizer_create(const char* path, keel_tokenizer** out);
KEEL_API void keel_tokenizer_free(keel_tokenizer* tokenizer);

/* Threads for keel_tokenizer_encode_batch*: n_threads >= 1, or 0 for one per
 * hardware thread (the default; KEEL_THREADS in the environment overrides it). */
KEEL_API int keel_tokenizer_set_threads(keel_tokenizer* tokenizer, int n_threads);
/* Truncation to at most max_length tokens (special tokens included); 0 turns
 * truncation off. */
KEEL_API int keel_tokenizer_set_truncation(keel_tokenizer* tokenizer, size_t max_length);

typedef enum keel_padding {
  KEEL_PADDING_NONE = 0,     /* no padding */
  KEEL_PADDING_LONGEST = 1,  /* a batch is padded to its longest sequence */
  KEEL_PADDING_FIXED = 2     /* every sequence is padded to `length` */
} keel_padding;
/* Padding, with the pad token of tokenizer.json (or "[PAD]" / id 0 if it has none).
 * `length` is read only with KEEL_PADDING_FIXED and must be >= 1 there. */
KEEL_API int keel_tokenizer_set_padding(keel_tokenizer* tokenizer, int padding, size_t length);

/* The number of tokens in the vocabulary, added tokens included; 0 if NULL. */
KEEL_API size_t keel_tokenizer_vocab_size(const keel_tokenizer* tokenizer);

/* Encodes one text (`len` bytes at `text`; text may be NULL when len is 0), adding
 * the special tokens of the post-processor if add_special_tokens != 0.
 * On KEEL_OK, *out is a new encoding holding 1 sequence, for keel_encoding_free.
 * Errors: INVALID_ARGUMENT, INVALID_INPUT (invalid UTF-8, a truncation that
 * cannot be done). */
KEEL_API int keel_tokenizer_encode(const keel_tokenizer* tokenizer, const char* text, size_t len,
                                   int add_special_tokens, keel_encoding** out);

/* Encodes n texts on the tokenizer's threads and pads them as configured.
 * texts[i] has lens[i] bytes; lens may be NULL when every text ends with NUL.
 * n may be 0: *out is then an encoding of 0 sequences. One bad text fails the
 * call (the message names its index). On KEEL_OK, *out holds n sequences. */
KEEL_API int keel_tokenizer_encode_batch(const keel_tokenizer* tokenizer, const char* const* texts,
                                         const size_t* lens, size_t n, int add_special_tokens,
                                         keel_encoding** out);

/* Caller-owned output arrays for keel_tokenizer_encode_into / _batch_into. Each
 * non-NULL array has room for `capacity` tokens per sequence (offsets: 2 * capacity
 * values, start and end of each token in Unicode code points of the input). NULL
 * arrays are not written. */
typedef struct keel_token_buffers {
  uint32_t* ids;
  uint32_t* type_ids;
  uint8_t* attention_mask;
  uint8_t* special_tokens_mask;
  size_t* offsets;
  size_t capacity;
} keel_token_buffers;

/* Encodes one text into caller buffers. *n_tokens (not NULL) receives the number
 * of tokens; if it exceeds buffers->capacity the call returns
 * KEEL_ERR_BUFFER_TOO_SMALL and writes nothing else, so a call with capacity 0
 * asks for the size. */
KEEL_API int keel_tokenizer_encode_into(const keel_tokenizer* tokenizer, const char* text, size_t len,
                                        int add_special_tokens, const keel_token_buffers* buffers,
                                        size_t* n_tokens);

/* Encodes n texts into caller buffers laid out as [n, capacity] row-major: row i
 * holds sequence i, and the rest of each row is filled with 0 (so the attention
 * mask is 0 there). lengths (n values, may be NULL) receives each sequence's token
 * count and *max_tokens (may be NULL) the longest. If the longest exceeds
 * capacity, returns KEEL_ERR_BUFFER_TOO_SMALL after writing only lengths and
 * *max_tokens. n may be 0. */
KEEL_API int keel_tokenizer_encode_batch_into(const keel_tokenizer* tokenizer, const char* const* texts,
                                              const size_t* lens, size_t n, int add_special_tokens,
                                              const keel_token_buffers* buffers, size_t* lengths,
                                              size_t* max_tokens);

/* Decodes ids to text into buf (NUL-terminated). *needed (not NULL) receives the
 * bytes needed, NUL included; if cap is smaller, returns KEEL_ERR_BUFFER_TOO_SMALL
 * and writes nothing (buf may be NULL when cap is 0). ids may be NULL when n is 0.
 * Ids outside the vocabulary are skipped, as HF tokenizers does. */
KEEL_API int keel_tokenizer_decode(const keel_tokenizer* tokenizer, const uint32_t* ids, size_t n,
                                   int skip_special_tokens, char* buf, size_t cap, size_t* needed);

/* ---- encodings (library-allocated results) --------------------------------- */

KEEL_API void keel_encoding_free(keel_encoding* encoding);
/* The number of sequences; 0 if NULL. */
KEEL_API size_t keel_encoding_count(const keel_encoding* encoding);
/* Sequence i's number of tokens (padding included); 0 if NULL or i is out of range. */
KEEL_API size_t keel_encoding_length(const keel_encoding* encoding, size_t i);
/* Sequence i's arrays of keel_encoding_length(encoding, i) values, owned by the
 * encoding. NULL if encoding is NULL, i is out of range or the sequence is empty. */
KEEL_API const uint32_t* keel_encoding_ids(const keel_encoding* encoding, size_t i);
KEEL_API const uint32_t* keel_encoding_type_ids(const keel_encoding* encoding, size_t i);
KEEL_API const uint8_t* keel_encoding_attention_mask(const keel_encoding* encoding, size_t i);
KEEL_API const uint8_t* keel_encoding_special_tokens_mask(const keel_encoding* encoding, size_t i);
/* 2 * length values: start, end of each token in Unicode code points of the input. */
KEEL_API const size_t* keel_encoding_offsets(const keel_encoding* encoding, size_t i);
/* Token j of sequence i as NUL-terminated UTF-8, or NULL if out of range. */
KEEL_API const char* keel_encoding_token(const keel_encoding* encoding, size_t i, size_t j);
/* Copies sequence i's ids into buf. *needed (not NULL) receives the count; if cap
 * is smaller, returns KEEL_ERR_BUFFER_TOO_SMALL and copies nothing. Errors:
 * INVALID_ARGUMENT (NULL encoding, i out of range, NULL buf with cap > 0). */
KEEL_API int keel_encoding_copy_ids(const keel_encoding* encoding, size_t i, uint32_t* buf, size_t cap,
                                    size_t* needed);

/* ---- embedding models ------------------------------------------------------ */

typedef struct keel_model keel_model;

typedef enum keel_dtype {
  KEEL_DTYPE_F32 = 0,   /* f32 linear layers (default) */
  KEEL_DTYPE_BF16 = 1,  /* bf16 weights, f32 accumulation */
  KEEL_DTYPE_INT8 = 2   /* int8 weights per output row, activations per token */
} keel_dtype;

typedef struct keel_model_params {
  int dtype;      /* a keel_dtype */
  int n_threads;  /* >= 1, or 0 for one per hardware thread (or KEEL_THREADS) */
} keel_model_params;

/* The defaults: KEEL_DTYPE_F32, n_threads 0. Start from these so that fields added
 * later get their defaults. */
KEEL_API keel_model_params keel_model_default_params(void);

/* Loads a sentence-embedding model directory (Hugging Face BERT family:
 * config.json, model.safetensors, tokenizer.json, and sentence-transformers'
 * modules.json / 1_Pooling / sentence_bert_config.json when present).
 * params may be NULL for the defaults. On KEEL_OK, *out is a new model for
 * keel_model_free. Errors: INVALID_ARGUMENT, IO (no such directory), FORMAT. */
KEEL_API int keel_model_create(const char* dir, const keel_model_params* params, keel_model** out);
KEEL_API void keel_model_free(keel_model* model);

/* The embedding size; 0 if NULL. */
KEEL_API size_t keel_model_dim(const keel_model* model);
/* Inputs are truncated to this many tokens (special tokens included); 0 if NULL. */
KEEL_API size_t keel_model_max_tokens(const keel_model* model);
/* Threads for keel_model_embed (as keel_model_params.n_threads). */
KEEL_API int keel_model_set_threads(keel_model* model, int n_threads);

/* Embeds n texts (as keel_tokenizer_encode_batch takes them) in one forward pass
 * into out, [n, dim] row-major floats, pooled and normalized as the model's
 * sentence-transformers config says (what `keel embed` prints). *needed (may be
 * NULL) receives n * dim; if out_cap (floats) is smaller, returns
 * KEEL_ERR_BUFFER_TOO_SMALL and writes nothing. n may be 0 (out may then be NULL).
 * Errors: INVALID_ARGUMENT, INVALID_INPUT (a text that cannot be tokenized). */
KEEL_API int keel_model_embed(keel_model* model, const char* const* texts, const size_t* lens, size_t n,
                              float* out, size_t out_cap, size_t* needed);

#ifdef __cplusplus
}
#endif

#endif /* KEEL_KEEL_H */
