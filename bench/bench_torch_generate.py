"""PyTorch eager generation, the Python baseline of bench_generate.sh: an
HF-style Llama forward with a KV cache (torch.cat per step, as transformers'
DynamicCache does), float32 on the CPU, greedy, on the safetensors form of a
model (`keel make-model` output). Weights are read with
tests/reference/llama_ref.py's loader (bf16/f16 widened to f32: PyTorch 1.13
has no fast f16 matmul on the CPU).

    python3 bench/bench_torch_generate.py <model dir> --prompt-tokens 128 --gen 32 --threads 2

Prints the same accounting as keel generate: prompt tokens/s (one forward of
the prompt) and generated tokens/s ((gen - 1) / time after the first token).
"""
import argparse
import math
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "reference"))
import llama_ref  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--prompt-tokens", type=int, default=128)
    ap.add_argument("--gen", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    m = llama_ref.Llama(a.model)
    w, nh, nkv, hd, eps = m.w, m.nh, m.nkv, m.hd, m.eps
    head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
    g = torch.Generator().manual_seed(0)
    prompt = torch.randint(3, head.shape[0], (a.prompt_tokens,), generator=g).tolist()

    def forward(ids, cache, start):
        t = len(ids)
        x = w["model.embed_tokens.weight"][torch.tensor(ids)]
        pos = torch.arange(start, start + t, dtype=torch.float32)
        emb = torch.cat([torch.outer(pos, m.inv_freq)] * 2, dim=-1)
        cos, sin = emb.cos(), emb.sin()
        for i in range(m.layers):
            p = f"model.layers.{i}."
            hn = llama_ref._rms_norm(x, w[p + "input_layernorm.weight"], eps)
            q = (hn @ w[p + "self_attn.q_proj.weight"].T).view(t, nh, hd).transpose(0, 1)
            k = (hn @ w[p + "self_attn.k_proj.weight"].T).view(t, nkv, hd).transpose(0, 1)
            v = (hn @ w[p + "self_attn.v_proj.weight"].T).view(t, nkv, hd).transpose(0, 1)
            q = q * cos + llama_ref._rotate_half(q) * sin
            k = k * cos + llama_ref._rotate_half(k) * sin
            if i in cache:
                k = torch.cat([cache[i][0], k], dim=1)
                v = torch.cat([cache[i][1], v], dim=1)
            cache[i] = (k, v)
            rep = nh // nkv
            kk, vv = k.repeat_interleave(rep, dim=0), v.repeat_interleave(rep, dim=0)
            s = (q @ kk.transpose(1, 2)) / math.sqrt(hd)
            if t > 1:
                mask = torch.ones(t, kk.shape[1], dtype=torch.bool).tril(kk.shape[1] - t)
                s = s.masked_fill(~mask, float("-inf"))
            a_ = (torch.softmax(s, dim=-1) @ vv).transpose(0, 1).reshape(t, nh * hd)
            x = x + a_ @ w[p + "self_attn.o_proj.weight"].T
            hn = llama_ref._rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
            gg = hn @ w[p + "mlp.gate_proj.weight"].T
            uu = hn @ w[p + "mlp.up_proj.weight"].T
            x = x + (torch.nn.functional.silu(gg) * uu) @ w[p + "mlp.down_proj.weight"].T
        x = llama_ref._rms_norm(x[-1:], w["model.norm.weight"], eps)
        return (x @ head.T)[0]

    best_pp = best_tg = 0.0
    with torch.inference_mode():
        for _ in range(a.reps):
            cache = {}
            t0 = time.perf_counter()
            logits = forward(prompt, cache, 0)
            t1 = time.perf_counter()
            n = len(prompt)
            tok = int(torch.argmax(logits))
            t2 = time.perf_counter()
            for _ in range(a.gen - 1):
                logits = forward([tok], cache, n)
                n += 1
                tok = int(torch.argmax(logits))
            t3 = time.perf_counter()
            best_pp = max(best_pp, len(prompt) / (t1 - t0))
            best_tg = max(best_tg, (a.gen - 1) / (t3 - t2))
    print(f"pytorch {torch.__version__}: {a.threads} threads | prompt {len(prompt)} tokens, {best_pp:.1f} tokens/s"
          f" | generated {a.gen} tokens, {best_tg:.2f} tokens/s")


if __name__ == "__main__":
    main()
