/* llama.cpp's side of the generation benchmark: the prebuilt libllama of
 * node-llama-cpp (tools/peers/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64),
 * measured the way `keel generate` reports itself, so bench_generate.sh can put
 * the two side by side:
 *
 *   bench_llama_cpp --model M.gguf --prompt-file P.txt [--threads 2] [--gen 32] [--reps 3]
 *
 * The prompt is tokenized with the model's own tokenizer (BOS added, as keel
 * generate does). Per repetition, on a cleared KV cache:
 *   prefill: llama_decode over the whole prompt in batches of 512 (n_batch =
 *            n_ubatch = 512, logits of the last token only)  -> prompt tokens/s
 *   decode:  --gen tokens one llama_decode each, each the argmax of the
 *            previous logits (greedy)                        -> (gen-1) / time of
 *            tokens 2..gen, as keel generate counts it
 * n_ctx = prompt + gen rounded up; 2 threads for both phases (n_threads and
 * n_threads_batch); flash attention left at llama.cpp's default (auto); f16 KV
 * cache (llama.cpp's default). The best repetition is reported.
 *
 * Build (bench_generate.sh does this):
 *   cc -O2 -I third_party/llama.cpp/include -I third_party/llama.cpp/ggml/include \
 *      bench/bench_llama_cpp.c -L $LIBDIR -l:libllama.v0.5.0.so -l:libggml.v0.5.0.so \
 *      -l:libggml-base.so -Wl,-rpath,$LIBDIR -o build/bin/bench_llama_cpp
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ggml-backend.h"
#include "llama.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void quiet_log(enum ggml_log_level level, const char* text, void* user) {
  (void)user;
  if (level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

static char* read_file(const char* path) {
  FILE* f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char* s = malloc(n + 1);
  if (fread(s, 1, n, f) != (size_t)n) n = 0;
  s[n] = 0;
  fclose(f);
  return s;
}

int main(int argc, char** argv) {
  const char *model_path = NULL, *prompt_path = NULL, *libdir = getenv("KEEL_LLAMA_LIBDIR");
  int threads = 2, gen = 32, reps = 3;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--model") && i + 1 < argc) model_path = argv[++i];
    else if (!strcmp(argv[i], "--prompt-file") && i + 1 < argc) prompt_path = argv[++i];
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--gen") && i + 1 < argc) gen = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: %s --model M.gguf --prompt-file P.txt [--threads 2] [--gen 32] [--reps 3]\n", argv[0]);
      return 2;
    }
  }
  if (!model_path || !prompt_path || gen < 2 || threads < 1 || reps < 1) {
    fprintf(stderr, "bench_llama_cpp: --model and --prompt-file are required; --gen >= 2\n");
    return 2;
  }
  char* text = read_file(prompt_path);
  if (!text) {
    fprintf(stderr, "bench_llama_cpp: cannot read %s\n", prompt_path);
    return 1;
  }
  llama_log_set(quiet_log, NULL);
  if (libdir) ggml_backend_load_all_from_path(libdir);
  else ggml_backend_load_all();
  llama_backend_init();
  struct llama_model_params mp = llama_model_default_params();
  struct llama_model* model = llama_model_load_from_file(model_path, mp);
  if (!model) {
    fprintf(stderr, "bench_llama_cpp: cannot load %s\n", model_path);
    return 1;
  }
  const struct llama_vocab* vocab = llama_model_get_vocab(model);
  const int n_vocab = llama_vocab_n_tokens(vocab);
  const int cap = (int)strlen(text) + 16;
  llama_token* prompt = malloc(sizeof(llama_token) * cap);
  const int n_prompt = llama_tokenize(vocab, text, (int)strlen(text), prompt, cap, true, false);
  if (n_prompt <= 0) {
    fprintf(stderr, "bench_llama_cpp: tokenizing the prompt failed (%d)\n", n_prompt);
    return 1;
  }
  struct llama_context_params cp = llama_context_default_params();
  cp.n_ctx = (uint32_t)((n_prompt + gen + 255) / 256 * 256);
  cp.n_batch = cp.n_ubatch = 512;
  cp.n_threads = cp.n_threads_batch = threads;
  cp.no_perf = true;
  struct llama_context* ctx = llama_init_from_model(model, cp);
  if (!ctx) {
    fprintf(stderr, "bench_llama_cpp: cannot create a context\n");
    return 1;
  }
  double best_pp = 0, best_tg = 0;
  for (int rep = 0; rep < reps; ++rep) {
    llama_memory_clear(llama_get_memory(ctx), true);
    const double t0 = now_s();
    for (int i = 0; i < n_prompt; i += 512) {
      const int n = n_prompt - i < 512 ? n_prompt - i : 512;
      if (llama_decode(ctx, llama_batch_get_one(prompt + i, n)) != 0) {
        fprintf(stderr, "bench_llama_cpp: llama_decode failed in the prompt\n");
        return 1;
      }
    }
    const double t1 = now_s();
    double t2 = t1;
    for (int g = 0; g < gen; ++g) {
      const float* logits = llama_get_logits_ith(ctx, -1);
      llama_token best = 0;
      for (int v = 1; v < n_vocab; ++v)
        if (logits[v] > logits[best]) best = v;
      if (g == gen - 1) break;  /* the last token is sampled, not fed back */
      if (g == 0) t2 = now_s(); /* keel counts tokens 2..gen over the time after the first */
      if (llama_decode(ctx, llama_batch_get_one(&best, 1)) != 0) {
        fprintf(stderr, "bench_llama_cpp: llama_decode failed while generating\n");
        return 1;
      }
    }
    const double t3 = now_s();
    const double pp = n_prompt / (t1 - t0), tg = (gen - 1) / (t3 - t2);
    if (pp > best_pp) best_pp = pp;
    if (tg > best_tg) best_tg = tg;
  }
  printf("llama.cpp: %d threads | prompt %d tokens, %.1f tokens/s | generated %d tokens, %.2f tokens/s\n", threads,
         n_prompt, best_pp, gen, best_tg);
  llama_free(ctx);
  llama_model_free(model);
  free(prompt);
  free(text);
  return 0;
}
