/* llama.cpp as a reference for keel's decoder tests: loads a GGUF with the
 * prebuilt libllama that node-llama-cpp ships (CPU backends only), evaluates
 * each prompt in a fresh KV cache and prints the last position's logits and a
 * greedy continuation (f32 KV cache, no flash attention). Built at test time by tests/reference/llamacpp.py
 * against third_party/llama.cpp/include/llama.h.
 *
 * usage: llamacpp_logits <backends dir> <model.gguf> <threads> <greedy n> < prompts
 * stdin: one prompt per line, token ids separated by spaces.
 * stdout, per prompt: "logits v0 v1 ...", "greedy id ...", "margins m ...". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llama.h"

static void quiet(enum ggml_log_level level, const char* text, void* user) {
  (void)user;
  if (level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

static void top2(const float* l, int n, int* best, float* margin) {
  int b = 0, s = 1;
  if (l[s] > l[b]) { b = 1; s = 0; }
  for (int i = 2; i < n; ++i) {
    if (l[i] > l[b]) { s = b; b = i; }
    else if (l[i] > l[s]) s = i;
  }
  *best = b;
  *margin = l[b] - l[s];
}

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: llamacpp_logits <backends dir> <model.gguf> <threads> <greedy n> < prompts\n");
    return 2;
  }
  const int threads = atoi(argv[3]), greedy = atoi(argv[4]);
  llama_log_set(quiet, NULL);
  ggml_backend_load_all_from_path(argv[1]);
  llama_backend_init();
  struct llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  struct llama_model* model = llama_model_load_from_file(argv[2], mp);
  if (!model) { fprintf(stderr, "llama.cpp could not load %s\n", argv[2]); return 1; }
  struct llama_context_params cp = llama_context_default_params();
  /* A sanity check that llama.h matches the library's struct layout. */
  if (cp.n_ctx != 512 || cp.n_batch != 2048 || cp.n_ubatch != 512 || cp.n_seq_max != 1) {
    fprintf(stderr, "llama.h does not match libllama (default n_ctx %u n_batch %u)\n", cp.n_ctx, cp.n_batch);
    return 1;
  }
  cp.n_ctx = 2048;
  cp.n_batch = 2048;
  cp.n_ubatch = 512;
  cp.n_threads = threads;
  cp.n_threads_batch = threads;
  /* The exact-arithmetic configuration: an f32 KV cache (as keel's) and no
   * flash attention. llama.cpp's CPU flash attention (on by default) rounds Q
   * to f16 for the K.Q products; on the test models (q/k weights scaled up for
   * sharp attention) that alone moves the logits by ~5e-3 of their range,
   * against ~1e-6 without it. */
  cp.type_k = GGML_TYPE_F32;
  cp.type_v = GGML_TYPE_F32;
  cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
  struct llama_context* ctx = llama_init_from_model(model, cp);
  if (!ctx) { fprintf(stderr, "llama.cpp could not create a context\n"); return 1; }
  const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));

  static char line[1 << 20];
  llama_token ids[4096];
  while (fgets(line, sizeof line, stdin)) {
    int n = 0;
    for (char* tok = strtok(line, " \n"); tok && n < 4096; tok = strtok(NULL, " \n")) ids[n++] = atoi(tok);
    if (n == 0) continue;
    llama_memory_clear(llama_get_memory(ctx), 1);
    if (llama_decode(ctx, llama_batch_get_one(ids, n)) != 0) { fprintf(stderr, "llama_decode failed\n"); return 1; }
    const float* logits = llama_get_logits_ith(ctx, -1);
    printf("logits");
    for (int i = 0; i < n_vocab; ++i) printf(" %.9g", logits[i]);
    printf("\n");
    int out[4096];
    float margins[4096];
    for (int g = 0; g < greedy && g < 4096; ++g) {
      top2(logits, n_vocab, &out[g], &margins[g]);
      llama_token t = out[g];
      if (llama_decode(ctx, llama_batch_get_one(&t, 1)) != 0) { fprintf(stderr, "llama_decode failed\n"); return 1; }
      logits = llama_get_logits_ith(ctx, -1);
    }
    printf("greedy");
    for (int g = 0; g < greedy; ++g) printf(" %d", out[g]);
    printf("\nmargins");
    for (int g = 0; g < greedy; ++g) printf(" %.9g", margins[g]);
    printf("\n");
    fflush(stdout);
  }
  llama_free(ctx);
  llama_model_free(model);
  return 0;
}
