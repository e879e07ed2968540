/* The C API's error paths (part of capi_test, see capi_test.c): NULL handles and
 * pointers for every function, bad paths, garbage and truncated files, buffers too
 * small, invalid UTF-8, empty batches. Each failure must give its documented
 * status, a message, and leave the out-parameters alone. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "capi_test_util.h"
#include "keel/keel.h"

static const char* const kTwo[] = {"Hello, world!", "The quick brown fox."};

/* Error paths of the tokenizer and encoding functions. */
void test_tokenizer_errors(const char* tok_path, const char* gpt2_json, const char* gguf, const char* tmp) {
  keel_tokenizer* tok = NULL;
  keel_encoding* enc = NULL;
  keel_token_buffers b;
  uint32_t ids[4] = {101, 7592, 102, 4000000000u};
  char text[8];
  size_t n = 0, needed = 0, size = 0, lens[2];
  const char* bad_batch[2];
  const char* null_batch[2];
  char* path;
  char* data;
  int rc;

  /* create */
  CHECK(keel_tokenizer_create(NULL, &tok) == KEEL_ERR_INVALID_ARGUMENT && keel_last_error()[0], "NULL path");
  CHECK(keel_tokenizer_create(tok_path, NULL) == KEEL_ERR_INVALID_ARGUMENT, "NULL out");
  path = str_printf("%s/no/such/tokenizer.json", tmp);
  rc = keel_tokenizer_create(path, &tok);
  CHECK(rc == KEEL_ERR_IO && tok == NULL && strstr(keel_last_error(), path), "missing file: %s %s",
        keel_status_name(rc), keel_last_error());
  free(path);
  path = str_printf("%s/capi_empty_dir", tmp);
  mkdir(path, 0755);
  rc = keel_tokenizer_create(path, &tok);
  CHECK(rc == KEEL_ERR_IO && tok == NULL, "dir without tokenizer.json: %s", keel_status_name(rc));
  free(path);
  path = str_printf("%s/capi_garbage.json", tmp);
  write_file(path, "this is { not json", 18);
  rc = keel_tokenizer_create(path, &tok);
  CHECK(rc == KEEL_ERR_FORMAT && tok == NULL && keel_last_error()[0], "garbage: %s", keel_status_name(rc));
  write_file(path, "", 0);
  rc = keel_tokenizer_create(path, &tok);
  CHECK(rc == KEEL_ERR_FORMAT && tok == NULL, "empty file: %s", keel_status_name(rc));
  write_file(path, "{\"model\": {\"type\": \"BPE\"}}", 26);
  rc = keel_tokenizer_create(path, &tok);
  CHECK(rc == KEEL_ERR_FORMAT && tok == NULL, "incomplete tokenizer.json: %s", keel_status_name(rc));
  data = read_file(gpt2_json, 5000, &size);
  CHECK(data != NULL, "read %s", gpt2_json);
  if (data) {
    write_file(path, data, size);
    rc = keel_tokenizer_create(path, &tok);
    CHECK(rc == KEEL_ERR_FORMAT && tok == NULL, "truncated tokenizer.json: %s", keel_status_name(rc));
    free(data);
  }
  free(path);
  data = read_file(gguf, 300, &size);
  CHECK(data != NULL, "read %s", gguf);
  if (data) {
    path = str_printf("%s/capi_truncated.gguf", tmp);
    write_file(path, data, size);
    rc = keel_tokenizer_create(path, &tok);
    CHECK(rc == KEEL_ERR_FORMAT && tok == NULL, "truncated GGUF: %s %s", keel_status_name(rc), keel_last_error());
    free(path);
    free(data);
  }

  rc = keel_tokenizer_create(tok_path, &tok);
  CHECK(rc == KEEL_OK, "create %s: %s", tok_path, keel_last_error());
  if (rc != KEEL_OK) return;
  CHECK(keel_tokenizer_set_padding(tok, KEEL_PADDING_NONE, 0) == KEEL_OK, "no padding"); /* MiniLM pads to 128 */

  /* NULL handles and pointers. */
  CHECK(keel_tokenizer_set_threads(NULL, 1) == KEEL_ERR_INVALID_ARGUMENT, "set_threads NULL");
  CHECK(keel_tokenizer_set_threads(tok, -1) == KEEL_ERR_INVALID_ARGUMENT, "set_threads -1");
  CHECK(keel_tokenizer_set_truncation(NULL, 5) == KEEL_ERR_INVALID_ARGUMENT, "set_truncation NULL");
  CHECK(keel_tokenizer_set_padding(NULL, 0, 0) == KEEL_ERR_INVALID_ARGUMENT, "set_padding NULL");
  CHECK(keel_tokenizer_vocab_size(NULL) == 0, "vocab_size NULL");
  CHECK(keel_tokenizer_encode(NULL, "a", 1, 1, &enc) == KEEL_ERR_INVALID_ARGUMENT, "encode NULL tokenizer");
  CHECK(keel_tokenizer_encode(tok, NULL, 3, 1, &enc) == KEEL_ERR_INVALID_ARGUMENT && enc == NULL, "encode NULL text");
  CHECK(keel_tokenizer_encode(tok, "a", 1, 1, NULL) == KEEL_ERR_INVALID_ARGUMENT, "encode NULL out");
  CHECK(keel_tokenizer_encode_batch(NULL, kTwo, NULL, 2, 1, &enc) == KEEL_ERR_INVALID_ARGUMENT, "batch NULL tok");
  CHECK(keel_tokenizer_encode_batch(tok, NULL, NULL, 2, 1, &enc) == KEEL_ERR_INVALID_ARGUMENT, "batch NULL texts");
  CHECK(keel_tokenizer_encode_batch(tok, kTwo, NULL, 2, 1, NULL) == KEEL_ERR_INVALID_ARGUMENT, "batch NULL out");
  null_batch[0] = "a";
  null_batch[1] = NULL;
  rc = keel_tokenizer_encode_batch(tok, null_batch, NULL, 2, 1, &enc);
  CHECK(rc == KEEL_ERR_INVALID_ARGUMENT && strstr(keel_last_error(), "texts[1]"), "batch NULL texts[1]: %s",
        keel_last_error());
  lens[0] = 1;
  lens[1] = 0;
  rc = keel_tokenizer_encode_batch(tok, null_batch, lens, 2, 1, &enc); /* NULL with length 0 is "" */
  CHECK(rc == KEEL_OK && keel_encoding_count(enc) == 2, "NULL text of length 0: %s", keel_last_error());
  keel_encoding_free(enc);
  enc = NULL;
  lens[1] = 4;
  CHECK(keel_tokenizer_encode_batch(tok, null_batch, lens, 2, 1, &enc) == KEEL_ERR_INVALID_ARGUMENT,
        "NULL text of length 4");
  memset(&b, 0, sizeof b);
  CHECK(keel_tokenizer_encode_into(NULL, "a", 1, 1, &b, &n) == KEEL_ERR_INVALID_ARGUMENT, "into NULL tok");
  CHECK(keel_tokenizer_encode_into(tok, "a", 1, 1, NULL, &n) == KEEL_ERR_INVALID_ARGUMENT, "into NULL buffers");
  CHECK(keel_tokenizer_encode_into(tok, "a", 1, 1, &b, NULL) == KEEL_ERR_INVALID_ARGUMENT, "into NULL n_tokens");
  CHECK(keel_tokenizer_encode_into(tok, NULL, 1, 1, &b, &n) == KEEL_ERR_INVALID_ARGUMENT, "into NULL text");
  b.capacity = 10; /* a capacity without arrays */
  CHECK(keel_tokenizer_encode_into(tok, "a", 1, 1, &b, &n) == KEEL_ERR_INVALID_ARGUMENT, "into no arrays");
  CHECK(keel_tokenizer_encode_batch_into(NULL, kTwo, NULL, 1, 1, &b, NULL, NULL) == KEEL_ERR_INVALID_ARGUMENT,
        "batch_into NULL tok");
  CHECK(keel_tokenizer_encode_batch_into(tok, kTwo, NULL, 1, 1, NULL, NULL, NULL) == KEEL_ERR_INVALID_ARGUMENT,
        "batch_into NULL buffers");
  b.capacity = 0;
  CHECK(keel_tokenizer_encode_batch_into(tok, NULL, NULL, 1, 1, &b, NULL, NULL) == KEEL_ERR_INVALID_ARGUMENT,
        "batch_into NULL texts");
  CHECK(keel_tokenizer_decode(NULL, ids, 3, 1, text, sizeof text, &needed) == KEEL_ERR_INVALID_ARGUMENT,
        "decode NULL tok");
  CHECK(keel_tokenizer_decode(tok, NULL, 3, 1, text, sizeof text, &needed) == KEEL_ERR_INVALID_ARGUMENT,
        "decode NULL ids");
  CHECK(keel_tokenizer_decode(tok, ids, 3, 1, NULL, 5, &needed) == KEEL_ERR_INVALID_ARGUMENT, "decode NULL buf");
  CHECK(keel_tokenizer_decode(tok, ids, 3, 1, text, sizeof text, NULL) == KEEL_ERR_INVALID_ARGUMENT,
        "decode NULL needed");
  rc = keel_tokenizer_decode(tok, NULL, 0, 1, text, sizeof text, &needed);
  CHECK(rc == KEEL_OK && needed == 1 && text[0] == '\0', "decode nothing: %s", keel_last_error());
  /* An id outside the vocabulary is skipped, as HF does. */
  rc = keel_tokenizer_decode(tok, ids + 1, 3, 1, text, sizeof text, &needed);
  CHECK(rc == KEEL_OK && strcmp(text, "hello") == 0, "decode with an unknown id: %s '%s'", keel_status_name(rc),
        text);

  /* Invalid UTF-8, alone and inside a batch. */
  rc = keel_tokenizer_encode(tok, "ok \xff\xfe bad", 9, 1, &enc);
  CHECK(rc == KEEL_ERR_INVALID_INPUT && enc == NULL && keel_last_error()[0], "invalid UTF-8: %s",
        keel_status_name(rc));
  rc = keel_tokenizer_encode(tok, "\xe4\xb8", 2, 1, &enc); /* a cut 3-byte sequence */
  CHECK(rc == KEEL_ERR_INVALID_INPUT && enc == NULL, "cut UTF-8: %s", keel_status_name(rc));
  bad_batch[0] = "fine";
  bad_batch[1] = "\xc0\xaf"; /* overlong '/' */
  rc = keel_tokenizer_encode_batch(tok, bad_batch, NULL, 2, 1, &enc);
  CHECK(rc == KEEL_ERR_INVALID_INPUT && enc == NULL && strstr(keel_last_error(), "1"), "batch invalid UTF-8: %s %s",
        keel_status_name(rc), keel_last_error());
  b.capacity = 0;
  CHECK(keel_tokenizer_encode_into(tok, "\xff", 1, 1, &b, &n) == KEEL_ERR_INVALID_INPUT, "into invalid UTF-8");
  CHECK(keel_tokenizer_encode_batch_into(tok, bad_batch, NULL, 2, 1, &b, NULL, NULL) == KEEL_ERR_INVALID_INPUT,
        "batch_into invalid UTF-8");
  /* Text with a NUL byte inside is text like any other. */
  rc = keel_tokenizer_encode(tok, "a\0b", 3, 1, &enc);
  CHECK(rc == KEEL_OK, "embedded NUL: %s", keel_last_error());
  keel_encoding_free(enc);
  enc = NULL;

  /* Empty batches. */
  rc = keel_tokenizer_encode_batch(tok, NULL, NULL, 0, 1, &enc);
  CHECK(rc == KEEL_OK && enc && keel_encoding_count(enc) == 0, "empty batch: %s", keel_last_error());
  CHECK(keel_encoding_length(enc, 0) == 0 && keel_encoding_ids(enc, 0) == NULL, "empty batch has no sequence 0");
  keel_encoding_free(enc);
  enc = NULL;
  n = 99;
  rc = keel_tokenizer_encode_batch_into(tok, NULL, NULL, 0, 1, &b, NULL, &n);
  CHECK(rc == KEEL_OK && n == 0, "empty batch_into: %s", keel_last_error());

  /* Encoding accessors and copy_ids. */
  CHECK(keel_encoding_count(NULL) == 0 && keel_encoding_length(NULL, 0) == 0, "count/length NULL");
  CHECK(keel_encoding_ids(NULL, 0) == NULL && keel_encoding_type_ids(NULL, 0) == NULL &&
            keel_encoding_attention_mask(NULL, 0) == NULL && keel_encoding_special_tokens_mask(NULL, 0) == NULL &&
            keel_encoding_offsets(NULL, 0) == NULL && keel_encoding_token(NULL, 0, 0) == NULL,
        "accessors NULL");
  keel_encoding_free(NULL);
  CHECK(keel_tokenizer_encode(tok, "hello world", 11, 1, &enc) == KEEL_OK, "encode");
  CHECK(keel_encoding_ids(enc, 1) == NULL && keel_encoding_offsets(enc, 1) == NULL &&
            keel_encoding_token(enc, 1, 0) == NULL,
        "sequence 1 of 1");
  CHECK(keel_encoding_copy_ids(NULL, 0, ids, 4, &needed) == KEEL_ERR_INVALID_ARGUMENT, "copy_ids NULL");
  CHECK(keel_encoding_copy_ids(enc, 0, ids, 4, NULL) == KEEL_ERR_INVALID_ARGUMENT, "copy_ids NULL needed");
  CHECK(keel_encoding_copy_ids(enc, 0, NULL, 4, &needed) == KEEL_ERR_INVALID_ARGUMENT, "copy_ids NULL buf");
  CHECK(keel_encoding_copy_ids(enc, 1, ids, 4, &needed) == KEEL_ERR_INVALID_ARGUMENT, "copy_ids index");
  ids[0] = 7;
  rc = keel_encoding_copy_ids(enc, 0, ids, 2, &needed);
  CHECK(rc == KEEL_ERR_BUFFER_TOO_SMALL && needed == 4 && ids[0] == 7, "copy_ids small: %s %zu",
        keel_status_name(rc), needed);
  rc = keel_encoding_copy_ids(enc, 0, ids, 4, &needed);
  CHECK(rc == KEEL_OK && needed == 4 && memcmp(ids, keel_encoding_ids(enc, 0), 4 * sizeof(uint32_t)) == 0,
        "copy_ids: %s", keel_status_name(rc));
  keel_encoding_free(enc);
  keel_tokenizer_free(tok);
  keel_tokenizer_free(NULL);
}

/* Error paths of the model functions. */
void test_model_errors(const char* model_dir, const char* tmp) {
  keel_model* model = NULL;
  keel_model_params params = keel_model_default_params();
  float out[4];
  size_t needed = 0;
  const char* texts[2];
  const char* null_texts[1];
  char* path;
  char* cmd;
  int rc;

  CHECK(params.dtype == KEEL_DTYPE_F32 && params.n_threads == 0, "default params");
  CHECK(keel_model_create(NULL, NULL, &model) == KEEL_ERR_INVALID_ARGUMENT, "model NULL dir");
  CHECK(keel_model_create(model_dir, NULL, NULL) == KEEL_ERR_INVALID_ARGUMENT, "model NULL out");
  params.dtype = 9;
  CHECK(keel_model_create(model_dir, &params, &model) == KEEL_ERR_INVALID_ARGUMENT && model == NULL, "bad dtype");
  params = keel_model_default_params();
  params.n_threads = -2;
  CHECK(keel_model_create(model_dir, &params, &model) == KEEL_ERR_INVALID_ARGUMENT && model == NULL, "bad threads");
  path = str_printf("%s/no/such/model", tmp);
  rc = keel_model_create(path, NULL, &model);
  CHECK(rc == KEEL_ERR_IO && model == NULL && strstr(keel_last_error(), path), "missing dir: %s %s",
        keel_status_name(rc), keel_last_error());
  free(path);
  path = str_printf("%s/config.json", model_dir);
  rc = keel_model_create(path, NULL, &model);
  CHECK(rc == KEEL_ERR_IO && model == NULL, "a file, not a dir: %s", keel_status_name(rc));
  free(path);
  path = str_printf("%s/capi_empty_dir", tmp);
  mkdir(path, 0755);
  rc = keel_model_create(path, NULL, &model);
  CHECK(rc == KEEL_ERR_FORMAT && model == NULL && keel_last_error()[0], "empty dir: %s", keel_status_name(rc));
  free(path);
  /* The model's files with a garbage, then a truncated, model.safetensors. */
  path = str_printf("%s/capi_bad_model", tmp);
  cmd = str_printf("rm -rf '%s' && cp -r '%s' '%s' && printf 'garbage' > '%s/model.safetensors'", path, model_dir,
                   path, path);
  CHECK(system(cmd) == 0, "%s", cmd);
  rc = keel_model_create(path, NULL, &model);
  CHECK(rc == KEEL_ERR_FORMAT && model == NULL, "garbage safetensors: %s %s", keel_status_name(rc),
        keel_last_error());
  free(cmd);
  cmd = str_printf("head -c 100000 '%s/model.safetensors' > '%s/model.safetensors'", model_dir, path);
  CHECK(system(cmd) == 0, "%s", cmd);
  rc = keel_model_create(path, NULL, &model);
  CHECK(rc == KEEL_ERR_FORMAT && model == NULL, "truncated safetensors: %s %s", keel_status_name(rc),
        keel_last_error());
  free(cmd);
  cmd = str_printf("rm -rf '%s'", path);
  CHECK(system(cmd) == 0, "%s", cmd);
  free(cmd);
  free(path);

  params = keel_model_default_params();
  params.n_threads = 1;
  rc = keel_model_create(model_dir, &params, &model);
  CHECK(rc == KEEL_OK, "model_create: %s", keel_last_error());
  if (rc != KEEL_OK) return;
  CHECK(keel_model_dim(NULL) == 0 && keel_model_max_tokens(NULL) == 0, "dim/max_tokens NULL");
  CHECK(keel_model_set_threads(NULL, 1) == KEEL_ERR_INVALID_ARGUMENT, "set_threads NULL");
  CHECK(keel_model_set_threads(model, -1) == KEEL_ERR_INVALID_ARGUMENT, "set_threads -1");
  texts[0] = "hello";
  texts[1] = "\xed\xa0\x80"; /* a UTF-16 surrogate: invalid UTF-8 */
  CHECK(keel_model_embed(NULL, texts, NULL, 1, out, 4, &needed) == KEEL_ERR_INVALID_ARGUMENT, "embed NULL model");
  CHECK(keel_model_embed(model, NULL, NULL, 1, out, 4, &needed) == KEEL_ERR_INVALID_ARGUMENT, "embed NULL texts");
  null_texts[0] = NULL;
  CHECK(keel_model_embed(model, null_texts, NULL, 1, out, 4, &needed) == KEEL_ERR_INVALID_ARGUMENT, "NULL text");
  CHECK(keel_model_embed(model, texts, NULL, 1, NULL, 4, &needed) == KEEL_ERR_INVALID_ARGUMENT, "embed NULL out");
  out[0] = 42.0f;
  rc = keel_model_embed(model, texts, NULL, 1, out, 4, &needed);
  CHECK(rc == KEEL_ERR_BUFFER_TOO_SMALL && needed == keel_model_dim(model) && out[0] == 42.0f,
        "embed small buffer: %s %zu", keel_status_name(rc), needed);
  {
    float* big = malloc(2 * keel_model_dim(model) * sizeof(float));
    rc = keel_model_embed(model, texts, NULL, 2, big, 2 * keel_model_dim(model), &needed);
    CHECK(rc == KEEL_ERR_INVALID_INPUT && keel_last_error()[0], "embed invalid UTF-8: %s %s", keel_status_name(rc),
          keel_last_error());
    free(big);
  }
  needed = 5;
  rc = keel_model_embed(model, NULL, NULL, 0, NULL, 0, &needed);
  CHECK(rc == KEEL_OK && needed == 0, "empty embed batch: %s", keel_last_error());
  keel_model_free(model);
  keel_model_free(NULL);
}
