"""keel against llama.cpp on the same GGUF files, written by `keel convert`.

Models (decoder_test_models.py): 2-layer, real-width synthetic models of the
TinyLlama-1.1B config (llama architecture: q/k rows permuted for GGUF's
adjacent-pair RoPE, SentencePiece vocabulary; once more with Llama 3's
rope_scaling, carried as rope_freqs.weight), a Qwen3-0.6B-shaped one (q/k
norms, head_dim 128), a Qwen2.5-0.5B-shaped one (q/k/v biases) and GPT-2 (the
real gpt2 config: learned positions, LayerNorm with biases, Conv1D weights
transposed by the converter, fused attn_qkv, gelu_new, tied head), converted
to GGUF (TinyLlama and GPT-2 at f32, f16, q8_0 and q4_K; the Qwen shapes at one
float and one block type each, see CASES), and through `keel quantize` to
llama.cpp's mixed recipes: GPT-2 Q5_K_M (q5_K, q6_K) and Qwen2.5 Q4_K_M, whose
896-wide rows are not whole 256-element blocks (q5_0 and q8_0 fallbacks). llama.cpp is the prebuilt libllama that
node-llama-cpp ships (tests/reference/llamacpp.py), CPU, 2 threads; keel reads
the GGUF with its own loader.

Checked per file: llama.cpp loads it (so `keel convert` writes what llama.cpp
expects); next-token logits of several prompts agree within a tolerance
relative to the logit range (max |diff| / (max - min)). llama.cpp runs with an
f32 KV cache and without flash attention (llamacpp_logits.c says why); the
models use qk_boost=1 (no extra sharpening of attention, which amplifies
every rounding difference). Bounds, and what was measured on TinyLlama:
  f32:   1e-3  (measured <= 3e-6: the same arithmetic up to summation order)
  f16:   2e-3  (measured up to 1.0e-3: llama.cpp rounds the activations to
                f16 for its f16 dot products; keel keeps them in f32)
  q8_0:  5e-2  (measured up to 2.6e-2; llama.cpp quantizes activations to q8_0)
  q4_K:  6e-2  (measured up to 4.0e-2 on the 33-token prompt, whose prefill
                quantizes x in blocks of 32 where llama.cpp uses q8_K's 256;
                on an AVX2 machine the one-token prompt, decoded with x in
                q8_K's layout as llama.cpp does, agrees to 1.6e-7)
GPT-2 (measured): f32 2.1e-4 (llama.cpp's GELU reads an f16 table), f16
4.1e-4, q8_0 1.3e-2, q4_K 1.6e-2, within the same bounds; Q5_K_M (GPT-2,
bound 5e-2) measured up to 1.9e-2, Q4_K_M (Qwen2.5: mostly q5_0, bound 6e-2)
up to 2.3e-2;
and, for one f32 or f16 file per model, 64 greedy tokens agree up to the first
step where they differ, which must be a near-tie (either engine's top-2 margin
within twice the measured logit error; after it the sequences may part); all
64 identical or at least 16 clear steps compared.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SOURCE_DIR = Path(os.environ.get("KEEL_SOURCE_DIR", Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(SOURCE_DIR / "tests" / "reference"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import llamacpp  # noqa: E402
from decoder_test_models import KEEL_BIN, LLAMA3_ROPE, MODELS, QWEN2, QWEN3, QWEN_TOK, keel_run, make, prompts_for  # noqa: E402

TMP = Path(os.environ.get("KEEL_TEST_TMP", "/tmp/keel_test_tmp")) / "test_llama_gguf_parity"
GREEDY = 64
TOL = {"f32": 1e-3, "f16": 2e-3, "q8_0": 5e-2, "q4_K": 6e-2, "q4_K_M": 6e-2, "q5_K_M": 5e-2}

MODEL_CASES = {
    "tinyllama": lambda: make(TMP, "tinyllama", MODELS / "TinyLlama-1.1B-Chat-v1.0",
                              MODELS / "TinyLlama-1.1B-Chat-v1.0", qk_boost=1.0),
    # Llama 3's RoPE scaling: keel convert writes rope_freqs.weight as llama.cpp's converter does.
    "tinyllama_llama3": lambda: make(TMP, "tinyllama_llama3", MODELS / "TinyLlama-1.1B-Chat-v1.0",
                                     MODELS / "TinyLlama-1.1B-Chat-v1.0", qk_boost=1.0,
                                     rope_scaling=LLAMA3_ROPE, rope_theta=500000.0),
    "qwen3": lambda: make(TMP, "qwen3", QWEN3, QWEN_TOK, qk_boost=1.0),
    "qwen2": lambda: make(TMP, "qwen2", QWEN2, QWEN_TOK, qk_boost=1.0),
    "gpt2": lambda: make(TMP, "gpt2", MODELS / "gpt2", MODELS / "gpt2"),
}
VOCAB = {"tinyllama": 32000, "tinyllama_llama3": 32000, "qwen3": 151936, "qwen2": 151936, "gpt2": 50257}

_made = {}


def model_dir(case):
    if case not in _made:
        _made[case] = MODEL_CASES[case]()
    return _made[case]


@pytest.fixture(scope="module")
def llama_cpp():
    return llamacpp.LlamaCpp(TMP / "llamacpp")


def convert(case, outtype):
    """keel convert at `outtype`; the llama.cpp recipes (q4_K_M, q5_K_M) by
    keel quantize on an f32 conversion."""
    out = TMP / f"{case}-{outtype}.gguf"
    recipe = outtype.endswith("_K_M")
    first = TMP / f"{case}-f32-for-{outtype}.gguf" if recipe else out
    r = subprocess.run([str(KEEL_BIN), "convert", str(model_dir(case)), str(first), "--outtype",
                        "f32" if recipe else outtype], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    if recipe:
        r = subprocess.run([str(KEEL_BIN), "quantize", str(first), str(out), "--type", outtype],
                           capture_output=True, text=True, timeout=600)
        first.unlink(missing_ok=True)
        assert r.returncode == 0, r.stderr
    return out


# (model, GGUF type, greedy check). Every type on TinyLlama; the Qwen shapes
# (q/k norms, biases, NEOX RoPE, BPE vocabulary) at one float and one block type.
CASES = [("tinyllama", "f32", False), ("tinyllama", "f16", True), ("tinyllama", "q8_0", False),
         ("tinyllama", "q4_K", False), ("tinyllama_llama3", "f32", False), ("qwen3", "f16", True), ("qwen3", "q4_K", False),
         ("qwen2", "f32", True), ("qwen2", "q8_0", False), ("qwen2", "q4_K_M", False),
         ("gpt2", "f32", True), ("gpt2", "f16", False), ("gpt2", "q8_0", False), ("gpt2", "q4_K", False),
         ("gpt2", "q5_K_M", False)]


# Real-width models are large (up to 0.8 GB a file): each GGUF is removed once
# checked, each model once its last case ran, so the test never holds more
# than one model and one GGUF on disk.
_cases_left = {}
for _case, _, _ in CASES:
    _cases_left[_case] = _cases_left.get(_case, 0) + 1


@pytest.mark.parametrize("case,outtype,greedy", CASES)
def test_keel_matches_llama_cpp(case, outtype, greedy, llama_cpp):
    gguf = convert(case, outtype)
    try:
        check_case(case, outtype, greedy, llama_cpp, gguf)
    finally:
        gguf.unlink(missing_ok=True)
        _cases_left[case] -= 1
        if _cases_left[case] == 0 and case in _made:
            shutil.rmtree(_made.pop(case), ignore_errors=True)


def check_case(case, outtype, greedy, llama_cpp, gguf):
    prompts = prompts_for(VOCAB[case], seed=len(case), lengths=(1, 6, 33))
    # 64 greedy tokens for the first prompt.
    keel = keel_run(gguf, prompts, [GREEDY if greedy else 0] + [0] * (len(prompts) - 1))
    ref = llama_cpp.run(gguf, prompts, greedy=GREEDY if greedy else 0)
    worst = 0.0
    for i, p in enumerate(prompts):
        want, have = ref["logits"][i], np.array(keel["logits"][i], dtype=np.float32)
        rng = float(want.max() - want.min())
        err = float(np.abs(have - want).max())
        worst = max(worst, err / rng)
        print(f"{case} {outtype} prompt {i} (len {len(p)}): range {rng:.3f}, max |diff| {err:.3e} "
              f"= {err / rng:.2e} of range", file=sys.stderr)
        assert rng > 1.0, "the test model's logits are too flat to discriminate"
        assert err <= TOL[outtype] * rng, f"{case} {outtype} prompt {i}: {err / rng:.2e} of range > {TOL[outtype]}"
    if greedy:
        # The sequences must agree until a step where they differ at a near-tie
        # (either engine's top-2 margin within twice the measured error), after
        # which they may legitimately part.
        bound = 2 * worst * float(ref["logits"][0].max() - ref["logits"][0].min())
        gk, gr = keel["greedy"][0], ref["greedy"][0]
        mk, mr = keel["margins"][0], ref["margins"][0]
        clear = same = 0
        for j in range(GREEDY):
            if gk[j] != gr[j]:
                assert mk[j] <= bound or mr[j] <= bound, \
                    f"{case} {outtype}: greedy step {j}: keel {gk[j]}, llama.cpp {gr[j]} with margins {mk[j]}, {mr[j]}"
                break
            same += 1
            clear += mk[j] > bound and mr[j] > bound
        print(f"{case} {outtype}: greedy identical for {same} of {GREEDY} steps, {clear} of them with clear "
              f"margins (bound {bound:.3e})", file=sys.stderr)
        assert same == GREEDY or clear >= 16, f"{case} {outtype}: only {clear} clear greedy steps compared"
