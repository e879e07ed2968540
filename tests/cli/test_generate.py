"""`keel generate` end to end on a 2-layer GPT-2 (real config and tokenizer,
tweaked random weights, decoder_test_models.py): the prompt's ids come from HF
tokenizers (Node binding), the expected continuation from the PyTorch
reference (tests/reference/llama_ref.py, greedy over the whole sequence each
step), its text from HF tokenizers' decode. keel must stream exactly that text
with --temperature 0, stop before a --stop string, and report its stats line;
bad invocations are errors with messages.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

SOURCE_DIR = Path(os.environ.get("KEEL_SOURCE_DIR", Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(SOURCE_DIR / "tests" / "reference"))
sys.path.insert(0, str(SOURCE_DIR / "tests" / "models"))
import llama_ref  # noqa: E402
from decoder_test_models import KEEL_BIN, MODELS, hf_decode, hf_encode, make  # noqa: E402

TMP = Path(os.environ.get("KEEL_TEST_TMP", "/tmp/keel_test_tmp")) / "test_generate"
PROMPT = "The quick brown fox jumps over"
N = 24

torch.set_num_threads(2)

_model = []


def model():
    if not _model:
        _model.append(make(TMP, "gpt2", MODELS / "gpt2", MODELS / "gpt2", seed=11))
    return _model[0]


def hf_ids(text):
    return hf_encode(MODELS / "gpt2" / "tokenizer.json", text, add_special_tokens=True)


def hf_text(ids):
    return hf_decode(MODELS / "gpt2" / "tokenizer.json", ids)


def expected_text():
    ids = hf_ids(PROMPT)
    with torch.no_grad():
        gen = llama_ref.load(model()).greedy(ids, N)
    return hf_text(gen)


def generate(*args):
    return subprocess.run([str(KEEL_BIN), "generate", *args], capture_output=True, text=True, timeout=300)


def test_greedy_text_matches_reference():
    want = expected_text()
    r = generate("--model", str(model()), "--prompt", PROMPT, "--temperature", "0", "--max-tokens", str(N),
                 "--threads", "2", "--ignore-eos")
    assert r.returncode == 0, r.stderr
    assert r.stdout == want + "\n"
    assert len(want) > 20
    assert f"generated {N} tokens" in r.stderr and "tokens/s" in r.stderr, r.stderr

    # A stop string inside the text: output ends right before it.
    stop = want[len(want) // 2:len(want) // 2 + 3]
    r = generate("--model", str(model()), "--prompt", PROMPT, "--temperature", "0", "--max-tokens", str(N),
                 "--threads", "2", "--ignore-eos", "--stop", stop)
    assert r.returncode == 0, r.stderr
    assert r.stdout == want[:want.find(stop)] + "\n"
    assert "finish: stop" in r.stderr


def test_sampling_is_reproducible_with_a_seed():
    args = ["--model", str(model()), "--prompt", PROMPT, "--temperature", "1.0", "--top-k", "50",
            "--max-tokens", "12", "--threads", "2", "--ignore-eos"]
    a, b, c = generate(*args, "--seed", "5"), generate(*args, "--seed", "5"), generate(*args, "--seed", "6")
    assert a.returncode == 0 and b.returncode == 0 and c.returncode == 0, a.stderr
    assert a.stdout == b.stdout
    assert a.stdout != c.stdout


def test_bad_invocations_are_errors():
    r = generate("--model", str(TMP / "missing"), "--prompt", "x")
    assert r.returncode == 1 and "missing" in r.stderr
    r = generate("--model", str(model()))
    assert r.returncode == 2 and "--prompt is required" in r.stderr
    r = generate("--model", str(model()), "--prompt", "x", "--temperature", "hot")
    assert r.returncode == 2 and "--temperature" in r.stderr
    r = generate("--model", str(model()), "--prompt", "x", "--dtype", "q3")
    assert r.returncode == 1 and "dtype" in r.stderr


def test_logprobs_match_the_reference():
    """--logprobs: each greedy token's log-probability and its top alternatives are
    PyTorch's log-softmax of the reference logits at that position (f32 weights,
    f32 KV cache), written as one JSON line per token."""
    ids = hf_ids(PROMPT)
    n, k = 8, 5
    out = TMP / "logprobs.jsonl"
    r = generate("--model", str(model()), "--prompt", PROMPT, "--temperature", "0", "--max-tokens", str(n),
                 "--threads", "2", "--ignore-eos", "--kv-type", "f32", "--logprobs", str(k),
                 "--logprobs-file", str(out))
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == n
    ref = llama_ref.load(model())
    seq = list(ids)
    with torch.no_grad():
        for entry in lines:
            logp = torch.log_softmax(ref.logits(seq)[-1].double(), dim=-1)
            top = torch.topk(logp, k)
            want_ids = [int(i) for i in top.indices]
            assert entry["id"] == want_ids[0]  # greedy
            assert abs(entry["logprob"] - float(logp[entry["id"]])) <= 1e-3, entry
            assert [a["id"] for a in entry["top_logprobs"]] == want_ids
            for a in entry["top_logprobs"]:
                assert abs(a["logprob"] - float(logp[a["id"]])) <= 1e-3, a
            # The token's text is HF tokenizers' decode of that one id; its bytes, that text's
            # UTF-8 (a token holding part of a character shows U+FFFD in both decodes).
            want_text = hf_text([entry["id"]])
            if "\ufffd" in want_text:
                assert "\ufffd" in entry["token"]
            else:
                assert entry["token"] == want_text and bytes(entry["bytes"]) == want_text.encode()
            seq.append(entry["id"])
    assert lines[0]["logprob"] < 0
    # Without --logprobs-file the lines go to stderr, before the stats line.
    r = generate("--model", str(model()), "--prompt", PROMPT, "--temperature", "0", "--max-tokens", "2",
                 "--threads", "2", "--ignore-eos", "--logprobs", "0")
    assert r.returncode == 0, r.stderr
    json_lines = [json.loads(line) for line in r.stderr.splitlines() if line.startswith("{")]
    assert len(json_lines) == 2 and all(e["top_logprobs"] == [] for e in json_lines)
    r = generate("--model", str(model()), "--prompt", "x", "--logprobs", "21")
    assert r.returncode == 2 and "--logprobs" in r.stderr
    r = generate("--model", str(model()), "--prompt", "x", "--logprobs", "1", "--logprobs-file",
                 str(TMP / "no_such_dir" / "lp.jsonl"))
    assert r.returncode == 1 and "cannot open" in r.stderr and r.stdout == ""
