"""keel's sampling distribution against HF-style logits processors in
PyTorch (tests/reference/sampling_ref.py) on random logits: penalties,
temperature, top-k, top-p, min-p and their combinations. Compares the
transformed distribution (what a draw is taken from), not random draws.

Environment: KEEL_BIN (keel's build/bin), KEEL_TEST_TMP.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE, "tests", "reference"))
import sampling_ref  # noqa: E402

BIN_DIR = os.path.dirname(os.environ.get("KEEL_BIN", os.path.join(SOURCE, "build", "bin", "keel")))
TOOL = os.path.join(BIN_DIR, "sampling_tool")
TMP = os.environ.get("KEEL_TEST_TMP", "/tmp")

PARAMS = [
    {"temperature": 1.0},
    {"temperature": 0.0, "repetition_penalty": 1.3},
    {"temperature": 0.7, "top_k": 40},
    {"temperature": 1.0, "top_p": 0.9},
    {"temperature": 1.3, "top_p": 0.5},
    {"temperature": 1.0, "min_p": 0.05},
    {"temperature": 0.8, "repetition_penalty": 1.2},
    {"temperature": 1.0, "frequency_penalty": 0.7, "presence_penalty": 0.4},
    {"temperature": 0.9, "repetition_penalty": 1.1, "top_k": 50, "top_p": 0.95},
    {"temperature": 0.6, "repetition_penalty": 1.5, "frequency_penalty": -0.5, "presence_penalty": 1.0,
     "top_k": 100, "top_p": 0.8, "min_p": 0.02, "penalty_last_n": 16},
    {"temperature": 1.1, "top_k": 5, "min_p": 0.3},
]


def make_cases():
    rng = np.random.default_rng(2024)
    cases = []
    for vocab in (1000, 32000):
        for i, params in enumerate(PARAMS):
            for rep in range(3):
                scale = [0.5, 2.0, 5.0][rep]
                logits = (rng.standard_normal(vocab) * scale).astype(np.float32)
                history = rng.integers(0, vocab, size=int(rng.integers(1, 64))).tolist()
                history += history[: len(history) // 2]  # repeats for the frequency penalty
                # Penalized tokens among the likely ones, so penalties change the result.
                top = np.argsort(-logits)[:8].tolist()
                history += top[:4] * 2
                cases.append({"name": f"v{vocab}-p{i}-r{rep}", "logits": logits.tolist(), "history": history,
                              "params": params})
    return cases


CASES = make_cases()


@pytest.fixture(scope="module")
def keel_out():
    assert os.path.exists(TOOL), f"{TOOL} not built"
    d = os.path.join(TMP, "sampling_hf")
    os.makedirs(d, exist_ok=True)
    inp, out = os.path.join(d, "cases.json"), os.path.join(d, "keel.json")
    with open(inp, "w") as f:
        json.dump([{k: c[k] for k in ("logits", "history", "params")} for c in CASES], f)
    p = subprocess.run([TOOL, inp, out], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    with open(out) as f:
        return json.load(f)


@pytest.mark.parametrize("idx", range(len(CASES)), ids=[c["name"] for c in CASES])
def test_distribution_matches_hf_processors(keel_out, idx):
    c = CASES[idx]
    want = sampling_ref.distribution(c["logits"], c["history"], c["params"]).numpy()
    got = np.zeros_like(want)
    for tid, prob in keel_out[idx]:
        got[tid] = prob
    kept_want = set(np.nonzero(want)[0].tolist())
    kept_got = set(np.nonzero(got)[0].tolist())
    assert kept_got == kept_want, f"kept sets differ: keel-only {sorted(kept_got - kept_want)[:10]}, " \
                                  f"ref-only {sorted(kept_want - kept_got)[:10]}"
    np.testing.assert_allclose(got, want, atol=2e-6, rtol=1e-4)


def test_cases_are_not_vacuous(keel_out):
    # Most non-greedy cases keep several tokens (the very peaked ones may keep one).
    sizes = [len(out) for c, out in zip(CASES, keel_out) if c["params"].get("temperature", 1.0) > 0]
    assert sum(n > 1 for n in sizes) >= 0.8 * len(sizes), sizes
