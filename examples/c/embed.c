/* keel's C API in one small program (C99): tokenize some sentences with a model's
 * tokenizer, embed them, and print their cosine similarities.
 *
 *   keel_embed_example <model dir> [sentence ...]
 *
 * Build against an installed keel:
 *   cc -std=c99 embed.c $(pkg-config --cflags --libs keel) -lm -o keel_embed_example
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/keel.h>

static int fail(const char* what, int status) {
  fprintf(stderr, "%s: %s: %s\n", what, keel_status_name(status), keel_last_error());
  return 1;
}

int main(int argc, char** argv) {
  static const char* const kDefault[] = {"A cat sits on the mat.", "A kitten is sitting on a rug.",
                                         "Stock markets fell sharply today."};
  const char* const* texts = kDefault;
  size_t n = sizeof(kDefault) / sizeof(kDefault[0]);
  keel_tokenizer* tok = NULL;
  keel_model* model = NULL;
  keel_model_params params = keel_model_default_params();
  float* vectors = NULL;
  size_t dim, needed = 0, i, j, k;
  int status;

  if (argc < 2) {
    fprintf(stderr, "usage: %s <model dir> [sentence ...]\n", argv[0]);
    return 2;
  }
  if (argc > 2) {
    texts = (const char* const*)(argv + 2);
    n = (size_t)(argc - 2);
  }
  printf("keel %s (%s)\n", keel_version(), keel_cpu_isa());

  /* The model directory's tokenizer: the tokens of each sentence. */
  if ((status = keel_tokenizer_create(argv[1], &tok)) != KEEL_OK) return fail("loading the tokenizer", status);
  for (i = 0; i < n; ++i) {
    keel_encoding* enc = NULL;
    if ((status = keel_tokenizer_encode(tok, texts[i], strlen(texts[i]), 1, &enc)) != KEEL_OK) {
      keel_tokenizer_free(tok);
      return fail("tokenizing", status);
    }
    printf("[%zu]", i);
    for (k = 0; k < keel_encoding_length(enc, 0); ++k)
      if (keel_encoding_attention_mask(enc, 0)[k]) printf(" %s", keel_encoding_token(enc, 0, k));
    printf("\n");
    keel_encoding_free(enc);
  }
  keel_tokenizer_free(tok);

  /* The embeddings: ask for the size, then fill a buffer of ours. */
  params.n_threads = 1;
  if ((status = keel_model_create(argv[1], &params, &model)) != KEEL_OK) return fail("loading the model", status);
  dim = keel_model_dim(model);
  status = keel_model_embed(model, texts, NULL, n, NULL, 0, &needed);
  if (status != KEEL_ERR_BUFFER_TOO_SMALL && status != KEEL_OK) {
    keel_model_free(model);
    return fail("embedding", status);
  }
  vectors = malloc(needed * sizeof(float));
  if (!vectors || (status = keel_model_embed(model, texts, NULL, n, vectors, needed, NULL)) != KEEL_OK) {
    free(vectors);
    keel_model_free(model);
    return fail("embedding", status);
  }
  printf("%zu embeddings of %zu floats\n", n, dim);
  for (i = 0; i < n; ++i)
    for (j = i + 1; j < n; ++j) {
      double dot = 0, ni = 0, nj = 0;
      for (k = 0; k < dim; ++k) {
        dot += (double)vectors[i * dim + k] * vectors[j * dim + k];
        ni += (double)vectors[i * dim + k] * vectors[i * dim + k];
        nj += (double)vectors[j * dim + k] * vectors[j * dim + k];
      }
      printf("cos(%zu, %zu) = %.4f\n", i, j, dot / sqrt(ni * nj));
    }
  free(vectors);
  keel_model_free(model);
  return 0;
}
