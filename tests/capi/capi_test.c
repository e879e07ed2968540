/* The C API's test suite (C99): keel.h's results against keel's CLI (`keel
 * tokenize`, `keel detokenize`, `keel embed`, themselves tested against HF
 * tokenizers and PyTorch: the C layer must not change a result), and every error
 * path (capi_test_errors.c). Runs under ASan+UBSan (the sanitizer build) and
 * valgrind (ctest capi_test_valgrind), which fail on leaks.
 *
 * Environment (set by ctest): KEEL_BIN, KEEL_SHARED_MODELS, KEEL_LLAMA_CPP,
 * KEEL_TEST_TMP, KEEL_CAPI_MODEL (a small model made by `keel make-model`). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "capi_test_util.h"
#include "keel/keel.h"

/* capi_test_errors.c */
void test_tokenizer_errors(const char* tok_path, const char* gpt2_json, const char* gguf, const char* tmp);
void test_model_errors(const char* model_dir, const char* tmp);

#define MAX_LINES 64
#define MAX_TOKENS 4096

/* The inputs: ASCII, accents, CJK, emoji, whitespace runs, control characters,
 * an empty text and one long enough to be truncated. */
static const char* const kTexts[] = {
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "h\xc3\xa9llo w\xc3\xb6rld \xe2\x80\x94 na\xc3\xafve caf\xc3\xa9 \xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\x99\x82",
    "  leading and   trailing spaces  ",
    "",
    "a\ttab and\nnewline",
    "Don't stop believing; it's 3.14159 o'clock! [CLS] <s> </s>",
};
#define N_TEXTS (sizeof(kTexts) / sizeof(kTexts[0]))
static char* g_long_text; /* ~400 words, built in main */

/* All inputs (kTexts then the long one) as one JSON string per line. */
static char* json_lines(const char* const* texts, size_t n) {
  size_t i, total = 1;
  char* out;
  char** q = malloc(n * sizeof(char*));
  if (!q) abort();
  for (i = 0; i < n; ++i) {
    q[i] = json_quote(texts[i], strlen(texts[i]));
    total += strlen(q[i]) + 1;
  }
  out = malloc(total);
  if (!out) abort();
  out[0] = '\0';
  for (i = 0; i < n; ++i) {
    strcat(out, q[i]);
    strcat(out, "\n");
    free(q[i]);
  }
  free(q);
  return out;
}

/* Compares sequence i of `enc` with one `keel tokenize` output line. */
static void compare_encoding(const char* what, size_t t, const keel_encoding* enc, size_t i, const char* line) {
  static uint64_t v[2 * MAX_TOKENS];
  static char* tokens[MAX_TOKENS];
  const size_t len = keel_encoding_length(enc, i);
  size_t n, j;
  const uint32_t* ids = keel_encoding_ids(enc, i);
  const uint32_t* type_ids = keel_encoding_type_ids(enc, i);
  const uint8_t* attention = keel_encoding_attention_mask(enc, i);
  const uint8_t* special = keel_encoding_special_tokens_mask(enc, i);
  const size_t* offsets = keel_encoding_offsets(enc, i);

  CHECK(json_find(line, "ids") != NULL, "%s text %zu: the CLI gave %s", what, t, line);
  if (!json_find(line, "ids")) return;
  n = json_uints(json_find(line, "ids"), v, MAX_TOKENS);
  CHECK(n == len, "%s text %zu: %zu ids, the CLI %zu", what, t, len, n);
  if (n != len) return;
  CHECK(len == 0 || (ids && type_ids && attention && special && offsets), "%s text %zu: NULL arrays", what, t);
  if (len == 0) return;
  for (j = 0; j < n; ++j) CHECK(ids[j] == v[j], "%s text %zu: ids[%zu] %u, CLI %llu", what, t, j, ids[j],
                                (unsigned long long)v[j]);
  n = json_uints(json_find(line, "type_ids"), v, MAX_TOKENS);
  for (j = 0; j < n && j < len; ++j) CHECK(type_ids[j] == v[j], "%s text %zu: type_ids[%zu]", what, t, j);
  n = json_uints(json_find(line, "attention_mask"), v, MAX_TOKENS);
  CHECK(n == len, "%s text %zu: attention_mask length", what, t);
  for (j = 0; j < n && j < len; ++j) CHECK(attention[j] == v[j], "%s text %zu: attention_mask[%zu]", what, t, j);
  n = json_uints(json_find(line, "special_tokens_mask"), v, MAX_TOKENS);
  CHECK(n == len, "%s text %zu: special_tokens_mask length", what, t);
  for (j = 0; j < n && j < len; ++j) CHECK(special[j] == v[j], "%s text %zu: special_tokens_mask[%zu]", what, t, j);
  n = json_uints(json_find(line, "offsets"), v, 2 * MAX_TOKENS);
  CHECK(n == 2 * len, "%s text %zu: %zu offsets, want %zu", what, t, n, 2 * len);
  for (j = 0; j < n && j < 2 * len; ++j)
    CHECK(offsets[j] == v[j], "%s text %zu: offsets[%zu] %zu, CLI %llu", what, t, j, offsets[j],
          (unsigned long long)v[j]);
  n = json_strings(json_find(line, "tokens"), tokens, MAX_TOKENS);
  CHECK(n == len, "%s text %zu: %zu tokens", what, t, n);
  for (j = 0; j < n; ++j) {
    const char* tok = keel_encoding_token(enc, i, j);
    CHECK(tok && strcmp(tok, tokens[j]) == 0, "%s text %zu: token %zu '%s', CLI '%s'", what, t, j, tok ? tok : "(null)",
          tokens[j]);
    free(tokens[j]);
  }
  CHECK(keel_encoding_token(enc, i, len) == NULL, "%s: token past the end", what);
}

/* One tokenizer: encode, encode_batch, the caller-buffer variants and decode,
 * against `keel tokenize` / `keel detokenize` on the same inputs. */
static void test_tokenizer(const char* keel, const char* path, const char* const* texts, size_t n_texts) {
  keel_tokenizer* tok = NULL;
  keel_encoding* enc = NULL;
  keel_encoding* batch = NULL;
  char* input = json_lines(texts, n_texts);
  char* cmd;
  char* out;
  char* lines[MAX_LINES];
  size_t n_lines, i, j;
  int special;
  int rc = keel_tokenizer_create(path, &tok);

  CHECK(rc == KEEL_OK, "create %s: %s %s", path, keel_status_name(rc), keel_last_error());
  if (rc != KEEL_OK) {
    free(input);
    return;
  }
  CHECK(keel_last_error()[0] == '\0', "a successful call leaves last_error '%s'", keel_last_error());
  CHECK(keel_tokenizer_vocab_size(tok) > 100, "%s: vocab_size %zu", path, keel_tokenizer_vocab_size(tok));

  for (special = 1; special >= 0; --special) {
    /* Single encodes. */
    cmd = str_printf("'%s' tokenize --tokenizer '%s'%s", keel, path, special ? "" : " --no-special");
    out = run_command(cmd, input);
    n_lines = split_lines(out, lines, MAX_LINES);
    CHECK(n_lines == n_texts, "%s: %zu CLI lines for %zu texts", cmd, n_lines, n_texts);
    for (i = 0; i < n_texts && i < n_lines; ++i) {
      rc = keel_tokenizer_encode(tok, texts[i], strlen(texts[i]), special, &enc);
      CHECK(rc == KEEL_OK, "%s encode text %zu: %s", path, i, keel_last_error());
      if (rc != KEEL_OK) continue;
      CHECK(keel_encoding_count(enc) == 1, "count %zu", keel_encoding_count(enc));
      compare_encoding(path, i, enc, 0, lines[i]);
      {
        /* The same into caller buffers: first the size, then the arrays. */
        const size_t len = keel_encoding_length(enc, 0);
        keel_token_buffers b;
        size_t n_tokens = 12345, k;
        memset(&b, 0, sizeof b);
        rc = keel_tokenizer_encode_into(tok, texts[i], strlen(texts[i]), special, &b, &n_tokens);
        CHECK(len == 0 ? rc == KEEL_OK : rc == KEEL_ERR_BUFFER_TOO_SMALL, "encode_into capacity 0: %s",
              keel_status_name(rc));
        CHECK(n_tokens == len, "encode_into reports %zu tokens, want %zu", n_tokens, len);
        b.capacity = len + 3;
        b.ids = malloc(b.capacity * sizeof(uint32_t));
        b.type_ids = malloc(b.capacity * sizeof(uint32_t));
        b.attention_mask = malloc(b.capacity);
        b.special_tokens_mask = malloc(b.capacity);
        b.offsets = malloc(2 * b.capacity * sizeof(size_t));
        rc = keel_tokenizer_encode_into(tok, texts[i], strlen(texts[i]), special, &b, &n_tokens);
        CHECK(rc == KEEL_OK && n_tokens == len, "encode_into: %s %zu", keel_last_error(), n_tokens);
        for (k = 0; rc == KEEL_OK && k < len; ++k) {
          CHECK(b.ids[k] == keel_encoding_ids(enc, 0)[k], "encode_into ids[%zu]", k);
          CHECK(b.type_ids[k] == keel_encoding_type_ids(enc, 0)[k], "encode_into type_ids[%zu]", k);
          CHECK(b.attention_mask[k] == keel_encoding_attention_mask(enc, 0)[k], "encode_into mask[%zu]", k);
          CHECK(b.special_tokens_mask[k] == keel_encoding_special_tokens_mask(enc, 0)[k], "special[%zu]", k);
          CHECK(b.offsets[2 * k] == keel_encoding_offsets(enc, 0)[2 * k] &&
                    b.offsets[2 * k + 1] == keel_encoding_offsets(enc, 0)[2 * k + 1],
                "encode_into offsets[%zu]", k);
        }
        for (k = len; rc == KEEL_OK && k < b.capacity; ++k)
          CHECK(b.ids[k] == 0 && b.attention_mask[k] == 0, "encode_into: the rest of the row is not 0");
        free(b.ids);
        free(b.type_ids);
        free(b.attention_mask);
        free(b.special_tokens_mask);
        free(b.offsets);
      }
      keel_encoding_free(enc);
      enc = NULL;
    }
    free(cmd);
    free(out);

    /* One batch (padded as tokenizer.json says, to the longest or a fixed length). */
    cmd = str_printf("'%s' tokenize --tokenizer '%s' --batch 64%s", keel, path, special ? "" : " --no-special");
    out = run_command(cmd, input);
    n_lines = split_lines(out, lines, MAX_LINES);
    CHECK(n_lines == n_texts, "%s: %zu lines", cmd, n_lines);
    rc = keel_tokenizer_encode_batch(tok, texts, NULL, n_texts, special, &batch);
    CHECK(rc == KEEL_OK, "%s encode_batch: %s", path, keel_last_error());
    if (rc == KEEL_OK) {
      size_t max_len = 0, lengths[MAX_LINES], max_tokens = 0;
      keel_token_buffers b;
      CHECK(keel_encoding_count(batch) == n_texts, "batch count %zu", keel_encoding_count(batch));
      for (i = 0; i < n_texts && i < n_lines; ++i) compare_encoding(path, i, batch, i, lines[i]);
      CHECK(keel_encoding_length(batch, n_texts) == 0 && keel_encoding_ids(batch, n_texts) == NULL,
            "sequence past the end");
      for (i = 0; i < n_texts; ++i)
        if (keel_encoding_length(batch, i) > max_len) max_len = keel_encoding_length(batch, i);
      /* encode_batch_into: [n, capacity] rows, zero-filled. */
      memset(&b, 0, sizeof b);
      b.capacity = max_len - 1;
      b.ids = malloc(n_texts * max_len * sizeof(uint32_t));
      b.attention_mask = malloc(n_texts * max_len);
      rc = keel_tokenizer_encode_batch_into(tok, texts, NULL, n_texts, special, &b, lengths, &max_tokens);
      CHECK(rc == KEEL_ERR_BUFFER_TOO_SMALL && max_tokens == max_len, "batch_into small: %s %zu",
            keel_status_name(rc), max_tokens);
      b.capacity = max_len;
      rc = keel_tokenizer_encode_batch_into(tok, texts, NULL, n_texts, special, &b, lengths, &max_tokens);
      CHECK(rc == KEEL_OK && max_tokens == max_len, "batch_into: %s", keel_last_error());
      for (i = 0; rc == KEEL_OK && i < n_texts; ++i) {
        CHECK(lengths[i] == keel_encoding_length(batch, i), "batch_into lengths[%zu]", i);
        for (j = 0; j < max_len; ++j) {
          const int in = j < lengths[i];
          CHECK(b.ids[i * max_len + j] == (in ? keel_encoding_ids(batch, i)[j] : 0), "batch_into ids[%zu][%zu]", i, j);
          CHECK(b.attention_mask[i * max_len + j] == (in ? keel_encoding_attention_mask(batch, i)[j] : 0),
                "batch_into mask[%zu][%zu]", i, j);
        }
      }
      free(b.ids);
      free(b.attention_mask);
    }
    free(cmd);
    free(out);

    /* Decode every encoding's ids, with and without special tokens. */
    if (rc == KEEL_OK || batch) {
      char* ids_input;
      size_t total = 1;
      for (i = 0; i < n_texts; ++i) total += 12 * keel_encoding_length(batch, i) + 3;
      ids_input = malloc(total);
      if (!ids_input) abort();
      ids_input[0] = '\0';
      for (i = 0; i < n_texts; ++i) {
        size_t k = strlen(ids_input);
        k += (size_t)sprintf(ids_input + k, "[");
        for (j = 0; j < keel_encoding_length(batch, i); ++j)
          k += (size_t)sprintf(ids_input + k, "%s%u", j ? "," : "", keel_encoding_ids(batch, i)[j]);
        sprintf(ids_input + k, "]\n");
      }
      cmd = str_printf("'%s' detokenize --tokenizer '%s'%s", keel, path, special ? " --skip-special" : "");
      out = run_command(cmd, ids_input);
      n_lines = split_lines(out, lines, MAX_LINES);
      CHECK(n_lines == n_texts, "%s: %zu lines", cmd, n_lines);
      for (i = 0; i < n_texts && i < n_lines; ++i) {
        const char* p = lines[i];
        char* want = json_string(&p);
        size_t needed = 0;
        char* text;
        rc = keel_tokenizer_decode(tok, keel_encoding_ids(batch, i), keel_encoding_length(batch, i), special, NULL, 0,
                                   &needed);
        CHECK(want != NULL, "detokenize line %zu: %s", i, lines[i]);
        CHECK(rc == KEEL_ERR_BUFFER_TOO_SMALL && want && needed == strlen(want) + 1, "decode size %zu: %s", needed,
              keel_status_name(rc));
        text = malloc(needed + 1);
        memset(text, '#', needed + 1);
        if (needed > 0) {
          rc = keel_tokenizer_decode(tok, keel_encoding_ids(batch, i), keel_encoding_length(batch, i), special, text,
                                     needed - 1, &needed);
          CHECK(rc == KEEL_ERR_BUFFER_TOO_SMALL && text[0] == '#', "decode one byte short: %s", keel_status_name(rc));
        }
        rc = keel_tokenizer_decode(tok, keel_encoding_ids(batch, i), keel_encoding_length(batch, i), special, text,
                                   needed, &needed);
        CHECK(rc == KEEL_OK && want && strcmp(text, want) == 0, "decode text %zu: '%s', CLI '%s'", i, text,
              want ? want : "");
        free(text);
        free(want);
      }
      free(ids_input);
      free(cmd);
      free(out);
    }
    keel_encoding_free(batch);
    batch = NULL;
  }

  /* More threads give the same batch. */
  rc = keel_tokenizer_set_threads(tok, 3);
  CHECK(rc == KEEL_OK, "set_threads: %s", keel_last_error());
  {
    keel_encoding* a = NULL;
    keel_encoding* b = NULL;
    keel_tokenizer_set_threads(tok, 1);
    CHECK(keel_tokenizer_encode_batch(tok, texts, NULL, n_texts, 1, &a) == KEEL_OK, "batch on 1 thread");
    keel_tokenizer_set_threads(tok, 3);
    CHECK(keel_tokenizer_encode_batch(tok, texts, NULL, n_texts, 1, &b) == KEEL_OK, "batch on 3 threads");
    for (i = 0; a && b && i < n_texts; ++i) {
      CHECK(keel_encoding_length(a, i) == keel_encoding_length(b, i), "threads: length %zu", i);
      for (j = 0; j < keel_encoding_length(a, i) && j < keel_encoding_length(b, i); ++j)
        CHECK(keel_encoding_ids(a, i)[j] == keel_encoding_ids(b, i)[j], "threads: ids[%zu][%zu]", i, j);
    }
    keel_encoding_free(a);
    keel_encoding_free(b);
  }
  keel_tokenizer_free(tok);
  free(input);
}

/* Truncation and padding set through the C API. */
static void test_truncation_padding(const char* path) {
  keel_tokenizer* tok = NULL;
  keel_encoding* full = NULL;
  keel_encoding* cut = NULL;
  keel_encoding* padded = NULL;
  size_t j;
  const char* two[2];
  two[0] = kTexts[0];
  two[1] = kTexts[1];
  if (keel_tokenizer_create(path, &tok) != KEEL_OK) {
    CHECK(0, "create %s: %s", path, keel_last_error());
    return;
  }
  CHECK(keel_tokenizer_set_padding(tok, KEEL_PADDING_NONE, 0) == KEEL_OK, "padding none");
  CHECK(keel_tokenizer_set_truncation(tok, 0) == KEEL_OK, "truncation off");
  CHECK(keel_tokenizer_encode(tok, g_long_text, strlen(g_long_text), 1, &full) == KEEL_OK, "encode long");
  CHECK(keel_encoding_length(full, 0) > 300, "long text: %zu tokens untruncated", keel_encoding_length(full, 0));
  CHECK(keel_tokenizer_set_truncation(tok, 8) == KEEL_OK, "truncation 8");
  CHECK(keel_tokenizer_encode(tok, g_long_text, strlen(g_long_text), 1, &cut) == KEEL_OK, "encode cut");
  CHECK(keel_encoding_length(cut, 0) == 8, "truncated to %zu tokens", keel_encoding_length(cut, 0));
  /* BERT: [CLS] + the first 6 tokens + [SEP]. */
  for (j = 0; full && cut && j + 1 < 8; ++j)
    CHECK(keel_encoding_ids(cut, 0)[j] == keel_encoding_ids(full, 0)[j], "truncated ids[%zu]", j);
  if (full && cut)
    CHECK(keel_encoding_ids(cut, 0)[7] == keel_encoding_ids(full, 0)[keel_encoding_length(full, 0) - 1],
          "the truncated sequence ends with [SEP]");
  CHECK(keel_tokenizer_set_padding(tok, KEEL_PADDING_FIXED, 16) == KEEL_OK, "padding fixed");
  CHECK(keel_tokenizer_encode_batch(tok, two, NULL, 2, 1, &padded) == KEEL_OK, "padded batch");
  CHECK(keel_encoding_length(padded, 0) == 16 && keel_encoding_length(padded, 1) == 16, "padded to 16: %zu %zu",
        keel_encoding_length(padded, 0), keel_encoding_length(padded, 1));
  if (keel_encoding_length(padded, 0) == 16)
    CHECK(keel_encoding_attention_mask(padded, 0)[15] == 0 && keel_encoding_attention_mask(padded, 0)[0] == 1,
          "padding's attention mask");
  keel_encoding_free(padded);
  padded = NULL;
  CHECK(keel_tokenizer_set_padding(tok, KEEL_PADDING_LONGEST, 0) == KEEL_OK, "padding longest");
  CHECK(keel_tokenizer_encode_batch(tok, two, NULL, 2, 1, &padded) == KEEL_OK, "longest batch");
  CHECK(keel_encoding_length(padded, 0) == keel_encoding_length(padded, 1) && keel_encoding_length(padded, 0) == 8,
        "padded to the longest (8): %zu %zu", keel_encoding_length(padded, 0), keel_encoding_length(padded, 1));
  CHECK(keel_tokenizer_set_padding(tok, 7, 0) == KEEL_ERR_INVALID_ARGUMENT, "unknown padding");
  CHECK(keel_tokenizer_set_padding(tok, KEEL_PADDING_FIXED, 0) == KEEL_ERR_INVALID_ARGUMENT, "fixed 0");
  keel_encoding_free(full);
  keel_encoding_free(cut);
  keel_encoding_free(padded);
  keel_tokenizer_free(tok);
}

/* The model against `keel embed` (same batch, same dtype, one thread). */
static void compare_embeddings(const char* keel, const char* model_dir, const char* dtype_name, int dtype,
                               int quick) {
  keel_model_params params = keel_model_default_params();
  keel_model* model = NULL;
  const char* texts[N_TEXTS + 1];
  const size_t n = quick ? 3 : N_TEXTS + 1; /* quick: three short texts */
  char* input;
  char* cmd;
  char* out;
  char* lines[MAX_LINES];
  float* vectors;
  double* want;
  size_t dim, needed = 0, i, j, n_lines;
  double worst = 0;
  int rc;

  for (i = 0; i < N_TEXTS; ++i) texts[i] = kTexts[i];
  texts[N_TEXTS] = g_long_text;
  params.dtype = dtype;
  params.n_threads = 1;
  rc = keel_model_create(model_dir, &params, &model);
  CHECK(rc == KEEL_OK, "model_create %s: %s", model_dir, keel_last_error());
  if (rc != KEEL_OK) return;
  dim = keel_model_dim(model);
  CHECK(dim == 384, "dim %zu", dim);
  CHECK(keel_model_max_tokens(model) == 256, "max_tokens %zu", keel_model_max_tokens(model));

  rc = keel_model_embed(model, texts, NULL, n, NULL, 0, &needed);
  CHECK(rc == KEEL_ERR_BUFFER_TOO_SMALL && needed == n * dim, "embed size query: %s %zu", keel_status_name(rc),
        needed);
  vectors = malloc(n * dim * sizeof(float));
  want = malloc(dim * sizeof(double));
  rc = keel_model_embed(model, texts, NULL, n, vectors, n * dim, &needed);
  CHECK(rc == KEEL_OK, "embed: %s", keel_last_error());

  input = json_lines(texts, n);
  cmd = str_printf("'%s' embed --model '%s' --threads 1 --dtype %s", keel, model_dir, dtype_name);
  out = run_command(cmd, input);
  n_lines = split_lines(out, lines, MAX_LINES);
  CHECK(n_lines == n, "%s: %zu lines", cmd, n_lines);
  for (i = 0; rc == KEEL_OK && i < n && i < n_lines; ++i) {
    size_t got = json_doubles(lines[i], want, dim);
    CHECK(got == dim, "%s line %zu: %zu values: %.200s", cmd, i, got, lines[i]);
    for (j = 0; j < got; ++j) {
      const double d = fabs((double)vectors[i * dim + j] - want[j]);
      if (d > worst || d != d) worst = d != d ? 1e30 : d;
    }
  }
  CHECK(worst <= 1e-6, "%s: embeddings differ from keel embed by %g", dtype_name, worst);

  /* The same texts one at a time, and on 2 threads. */
  if (dtype == KEEL_DTYPE_F32 && !quick) {
    float* one = malloc(dim * sizeof(float));
    double worst_one = 0;
    CHECK(keel_model_set_threads(model, 2) == KEEL_OK, "model set_threads: %s", keel_last_error());
    for (i = 0; i < n; ++i) {
      size_t len = strlen(texts[i]);
      rc = keel_model_embed(model, &texts[i], &len, 1, one, dim, NULL);
      CHECK(rc == KEEL_OK, "embed one: %s", keel_last_error());
      for (j = 0; rc == KEEL_OK && j < dim; ++j) {
        const double d = fabs((double)one[j] - (double)vectors[i * dim + j]);
        if (d > worst_one) worst_one = d;
      }
    }
    CHECK(worst_one <= 1e-6, "one text at a time on 2 threads differs by %g", worst_one);
    free(one);
  }
  free(vectors);
  free(want);
  free(input);
  free(cmd);
  free(out);
  keel_model_free(model);
}

/* The last error is per thread, and encoding from several threads at once works. */
struct thread_arg {
  const keel_tokenizer* tok;
  int ok;
};

static void* encode_thread(void* p) {
  struct thread_arg* a = p;
  int k;
  a->ok = 1;
  if (keel_tokenizer_encode(a->tok, NULL, 5, 1, NULL) != KEEL_ERR_INVALID_ARGUMENT) a->ok = 0;
  for (k = 0; k < 20; ++k) {
    keel_encoding* enc = NULL;
    if (keel_tokenizer_encode(a->tok, kTexts[1], strlen(kTexts[1]), 1, &enc) != KEEL_OK) a->ok = 0;
    if (keel_encoding_length(enc, 0) == 0) a->ok = 0;
    keel_encoding_free(enc);
  }
  return NULL;
}

static void test_threads(const char* tok_path) {
  keel_tokenizer* tok = NULL;
  pthread_t threads[3];
  struct thread_arg args[3];
  int i;
  if (keel_tokenizer_create(tok_path, &tok) != KEEL_OK) {
    CHECK(0, "create: %s", keel_last_error());
    return;
  }
  CHECK(keel_tokenizer_encode(tok, "x", 1, 1, NULL) == KEEL_ERR_INVALID_ARGUMENT, "set an error here");
  for (i = 0; i < 3; ++i) {
    args[i].tok = tok;
    pthread_create(&threads[i], NULL, encode_thread, &args[i]);
  }
  for (i = 0; i < 3; ++i) {
    pthread_join(threads[i], NULL);
    CHECK(args[i].ok, "thread %d", i);
  }
  CHECK(strstr(keel_last_error(), "out is NULL") != NULL, "this thread's error is its own: '%s'", keel_last_error());
  keel_tokenizer_free(tok);
}

static void test_library(void) {
  char want[32];
  int i;
  CHECK(strcmp(keel_status_name(KEEL_OK), "KEEL_OK") == 0, "status name");
  for (i = 1; i <= 7; ++i) CHECK(strncmp(keel_status_name(i), "KEEL_ERR_", 9) == 0, "status %d", i);
  CHECK(strcmp(keel_status_name(-1), "unknown status") == 0 && strcmp(keel_status_name(99), "unknown status") == 0,
        "unknown status");
  sprintf(want, "%d.%d.%d", keel_version_number() / 10000, keel_version_number() / 100 % 100,
          keel_version_number() % 100);
  CHECK(strcmp(keel_version(), want) == 0, "version %s vs %s", keel_version(), want);
  CHECK(keel_cpu_features() != NULL && keel_cpu_isa() != NULL, "cpu queries");
  CHECK(strcmp(keel_cpu_isa(), "scalar") == 0 || strcmp(keel_cpu_isa(), "avx2") == 0 ||
            strcmp(keel_cpu_isa(), "avx512") == 0,
        "isa %s", keel_cpu_isa());
  CHECK(strcmp(keel_cpu_isa(), "scalar") == 0 || strstr(keel_cpu_features(), "avx2") != NULL, "features '%s'",
        keel_cpu_features());
  CHECK(keel_last_error() != NULL, "last_error never NULL");
}

/* Seconds since the first call, for the progress lines on stderr. */
static double elapsed(void) {
  static struct timespec start;
  struct timespec now;
  if (start.tv_sec == 0 && start.tv_nsec == 0) clock_gettime(CLOCK_MONOTONIC, &start);
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - start.tv_sec) + 1e-9 * (double)(now.tv_nsec - start.tv_nsec);
}

/* --quick (the valgrind run, where the model runs ~100x slower): the tokenizers
 * of a model directory and of a GGUF file, and f32 embeddings of three short
 * texts, instead of every tokenizer, dtype and text. */
int main(int argc, char** argv) {
  const int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
  const char* keel = require_env("KEEL_BIN");
  const char* shared = require_env("KEEL_SHARED_MODELS");
  const char* llama = require_env("KEEL_LLAMA_CPP");
  const char* tmp_base = require_env("KEEL_TEST_TMP");
  char* tmp = str_printf("%s/capi_test_XXXXXX", tmp_base); /* this run's own files */
  char* cleanup;
  const char* model_dir = require_env("KEEL_CAPI_MODEL");
  char* minilm = str_printf("%s/all-MiniLM-L6-v2", shared);
  char* paths[5];
  size_t i, k;
  const char* texts[N_TEXTS + 1];

  mkdir(tmp_base, 0755);
  if (!mkdtemp(tmp)) {
    fprintf(stderr, "capi_test: cannot make a directory in %s\n", tmp_base);
    return 2;
  }
  {
    const char* sentence = "The long text goes on and on, sentence after sentence. ";
    g_long_text = malloc(40 * strlen(sentence) + 1);
    g_long_text[0] = '\0';
    for (k = 0; k < 40; ++k) strcat(g_long_text, sentence);
  }
  for (i = 0; i < N_TEXTS; ++i) texts[i] = kTexts[i];
  texts[N_TEXTS] = g_long_text;

  elapsed();
  test_library();
  paths[0] = str_printf("%s", minilm);                                /* a model directory */
  paths[1] = str_printf("%s/gpt2/tokenizer.json", shared);            /* byte-level BPE */
  paths[2] = str_printf("%s/t5-small/tokenizer.json", shared);        /* Unigram */
  paths[3] = str_printf("%s/TinyLlama-1.1B-Chat-v1.0/tokenizer.json", shared); /* SentencePiece BPE */
  paths[4] = str_printf("%s/models/ggml-vocab-bert-bge.gguf", llama); /* GGUF */
  for (i = 0; i < 5; ++i) {
    if (quick && i != 0 && i != 4) continue;
    fprintf(stderr, "%6.1f s: tokenizer %s\n", elapsed(), paths[i]);
    test_tokenizer(keel, paths[i], texts, N_TEXTS + 1);
  }
  fprintf(stderr, "%6.1f s: truncation, padding, errors, threads\n", elapsed());
  test_truncation_padding(minilm);
  test_tokenizer_errors(minilm, paths[1], paths[4], tmp);
  test_threads(minilm);
  fprintf(stderr, "%6.1f s: model %s\n", elapsed(), model_dir);
  compare_embeddings(keel, model_dir, "f32", KEEL_DTYPE_F32, quick);
  if (!quick) compare_embeddings(keel, model_dir, "int8", KEEL_DTYPE_INT8, 0);
  fprintf(stderr, "%6.1f s: model errors\n", elapsed());
  test_model_errors(model_dir, tmp);
  fprintf(stderr, "%6.1f s: done\n", elapsed());

  cleanup = str_printf("rm -rf '%s'", tmp);
  CHECK(system(cleanup) == 0, "%s", cleanup);
  free(cleanup);
  free(tmp);
  for (i = 0; i < 5; ++i) free(paths[i]);
  free(minilm);
  free(g_long_text);
  printf("capi_test: %d checks, %d failed\n", g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
}
