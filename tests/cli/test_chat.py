"""`keel chat` end to end on a 2-layer TinyLlama-shaped model (the real
TinyLlama-1.1B-Chat config at smaller widths, its real tokenizer and chat
template, tweaked random weights). Each turn's expected reply comes from
independent engines: the conversation rendered by @huggingface/jinja
(tests/reference/render_chat.js), encoded by HF tokenizers (Node binding,
no added special tokens, as apply_chat_template does), continued greedily by
the PyTorch reference (tests/reference/llama_ref.py) until eos or the token
limit, and decoded by HF tokenizers. The reply then joins the conversation as
the assistant's message for the next turn, as keel chat does.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import torch

SOURCE_DIR = Path(os.environ.get("KEEL_SOURCE_DIR", Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(SOURCE_DIR / "tests" / "reference"))
sys.path.insert(0, str(SOURCE_DIR / "tests" / "models"))
import llama_ref  # noqa: E402
from decoder_test_models import KEEL_BIN, MODELS, PEERS, hf_decode, hf_encode, make  # noqa: E402

TMP = Path(os.environ.get("KEEL_TEST_TMP", "/tmp/keel_test_tmp")) / "test_chat"
TINYLLAMA = MODELS / "TinyLlama-1.1B-Chat-v1.0"
SYSTEM = "You are a terse assistant."
TURNS = ["Hello! Who are you?", "What is 2 + 2? Answer in one word, please."]
N = 12
EOS = 2

torch.set_num_threads(2)

_model = []


def model():
    if not _model:
        _model.append(make(TMP, "tinyllama_chat", TINYLLAMA, TINYLLAMA, seed=21, hidden_size=256,
                           intermediate_size=512, num_attention_heads=8, num_key_value_heads=2))
    return _model[0]


def render(messages):
    cases = TMP / "chat_cases.json"
    out = TMP / "chat_rendered.json"
    cases.write_text(json.dumps([{"config": str(model() / "tokenizer_config.json"), "messages": messages,
                                  "add_generation_prompt": True}]))
    r = subprocess.run(["node", str(SOURCE_DIR / "tests" / "reference" / "render_chat.js"), str(PEERS),
                        str(cases), str(out)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    got = json.loads(out.read_text())[0]
    assert got["ok"], got
    return got["text"]


def expected_replies(system, turns):
    ref = llama_ref.load(model())
    messages = [{"role": "system", "content": system}] if system else []
    replies = []
    for user in turns:
        messages.append({"role": "user", "content": user})
        ids = hf_encode(TINYLLAMA / "tokenizer.json", render(messages), add_special_tokens=False)
        gen = []
        with torch.no_grad():
            for _ in range(N):
                nxt = int(torch.argmax(ref.logits(ids + gen)[-1]))
                if nxt == EOS:
                    break
                gen.append(nxt)
        reply = hf_decode(TINYLLAMA / "tokenizer.json", gen)
        replies.append(reply)
        messages.append({"role": "assistant", "content": reply})
    return replies


def chat(stdin, *args):
    return subprocess.run([str(KEEL_BIN), "chat", "--model", str(model()), *args], input=stdin,
                          capture_output=True, text=True, timeout=300)


def test_replies_match_the_reference_turn_by_turn():
    want = expected_replies(SYSTEM, TURNS)
    assert any(len(w) > 5 for w in want), want
    r = chat("\n".join(TURNS) + "\n", "--system", SYSTEM, "--temperature", "0", "--max-tokens", str(N),
             "--kv-type", "f32", "--threads", "2")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "".join(w + "\n" for w in want)
    assert r.stderr.count("> ") == len(TURNS) + 1  # one prompt marker per turn, one at end of input
    # The second turn reuses the first turn's KV cache: its prompt starts with the
    # first prompt (and the reply, as far as re-encoding it gives the same ids).
    stats = re.findall(r"\[prompt (\d+) tokens, (\d+) from the cache", r.stderr)
    assert len(stats) == 2, r.stderr
    assert int(stats[0][1]) == 0
    assert int(stats[0][0]) <= int(stats[1][1]) < int(stats[1][0])


def test_an_empty_line_ends_the_chat():
    r = chat(TURNS[0] + "\n\n" + TURNS[1] + "\n", "--temperature", "0", "--max-tokens", "3", "--threads", "2")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("\n") == 1


def test_bad_invocations_are_errors():
    r = chat("", "--temperature", "warm")
    assert r.returncode == 2 and "--temperature" in r.stderr
    r = chat("", "--kv-type", "f8")
    assert r.returncode == 2 and "--kv-type" in r.stderr
    r = subprocess.run([str(KEEL_BIN), "chat"], input="", capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--model is required" in r.stderr
    # A model directory without a chat template is an error naming the problem.
    plain = TMP / "no_template"
    plain.mkdir(parents=True, exist_ok=True)
    for f in model().iterdir():
        target = plain / f.name
        if not target.exists():
            target.symlink_to(f)
    (plain / "tokenizer_config.json").unlink()
    (plain / "tokenizer_config.json").write_text("{}")
    r = subprocess.run([str(KEEL_BIN), "chat", "--model", str(plain)], input="hi\n", capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 1 and "chat_template" in r.stderr, r.stderr
