"""`keel tokenize` / `keel detokenize`: the line protocol, bad input, flags.
(What the ids are is test_hf_parity.py's job; this checks the command itself.)"""
import json
import os
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.abspath(os.path.join(HERE, "..", ".."))
KEEL_BIN = os.environ.get("KEEL_BIN", os.path.join(SOURCE, "build", "bin", "keel"))
SHARED = os.environ.get("KEEL_SHARED_MODELS", os.path.join(SOURCE, "..", "shared", "models"))
TMP = os.environ.get("KEEL_TEST_TMP", "/tmp/keel_test_tmp")
GPT2 = os.path.join(SHARED, "gpt2", "tokenizer.json")
BERT_DIR = os.path.join(SHARED, "all-MiniLM-L6-v2")


def keel(*args, stdin=b""):
    assert os.access(KEEL_BIN, os.X_OK), f"keel binary not found at KEEL_BIN={KEEL_BIN}"
    p = subprocess.run([KEEL_BIN, *args], input=stdin, capture_output=True, timeout=120)
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8", "replace")


def lines(out):
    return [json.loads(l) for l in out.splitlines()]


def test_encode_fields_in_order():
    rc, out, _ = keel("tokenize", "--tokenizer", GPT2, stdin='"Hello world"\n'.encode())
    assert rc == 0
    assert out.startswith('{"ids":[15496,995],"tokens":["Hello","\u0120world"],"offsets":[[0,5],[5,11]],'
                          '"attention_mask":[1,1],')
    (o,) = lines(out)
    assert list(o)[:7] == ["ids", "tokens", "offsets", "attention_mask", "type_ids", "special_tokens_mask",
                           "word_ids"]


def test_bad_lines_give_error_objects_and_the_rest_still_runs():
    stdin = b'"one"\nnot json\n"bad \xff utf8"\n"\\ud800"\n42\n["a","b"]\n\n"two"\n'
    rc, out, _ = keel("tokenize", "--tokenizer", GPT2, stdin=stdin)
    assert rc == 1
    got = lines(out)
    assert len(got) == 8
    assert "ids" in got[0] and "ids" in got[7]
    for i in range(1, 7):
        assert got[i]["error"].startswith(f"line {i + 1}: "), got[i]


def test_pair_and_flags():
    rc, out, _ = keel("tokenize", "--tokenizer", BERT_DIR, "--pair", "--no-padding",
                      stdin=b'["Hello world", "second one"]\n"not a pair"\n')
    assert rc == 1
    a, b = lines(out)
    assert a["tokens"] == ["[CLS]", "hello", "world", "[SEP]", "second", "one", "[SEP]"]
    assert a["type_ids"] == [0, 0, 0, 0, 1, 1, 1]
    assert a["special_tokens_mask"] == [1, 0, 0, 1, 0, 0, 1]
    assert a["word_ids"] == [None, 0, 1, None, 0, 1, None]
    assert "error" in b
    # tokenizer.json pads MiniLM to 128; --no-special leaves the template out.
    rc, out, _ = keel("tokenize", "--tokenizer", BERT_DIR, "--no-special", stdin=b'"Hello"\n')
    (o,) = lines(out)
    assert rc == 0 and len(o["ids"]) == 128 and o["tokens"][0] == "hello" and o["attention_mask"][1] == 0


def test_detokenize():
    rc, out, _ = keel("detokenize", "--tokenizer", BERT_DIR, "--skip-special",
                      stdin=b"[101, 7592, 2088, 102]\n[-1]\n[1.5]\n{}\n[]\n")
    assert rc == 1
    got = lines(out)
    assert got[0] == "hello world" and got[4] == ""
    assert all("error" in g for g in got[1:4])
    rc, out, _ = keel("detokenize", "--tokenizer", BERT_DIR, stdin=b"[101, 7592, 102]\n")
    assert rc == 0 and lines(out) == ["[CLS] hello [SEP]"]


def test_missing_gguf_and_usage_errors():
    rc, _, err = keel("tokenize", "--tokenizer", "/nonexistent/model.gguf")
    assert rc == 1 and "/nonexistent/model.gguf" in err
    rc, _, err = keel("tokenize")
    assert rc == 2 and "--tokenizer is required" in err
    rc, _, err = keel("tokenize", "--tokenizer", GPT2, "--frobnicate")
    assert rc == 2
    rc, _, err = keel("tokenize", "--tokenizer", "/nonexistent/tokenizer.json")
    assert rc == 1 and err
    rc, out, _ = keel("tokenize", "--help")
    assert rc == 0 and "error" in out and "--bench" in out
    rc, out, _ = keel("detokenize", "--help")
    assert rc == 0 and "--skip-special" in out


def test_bench_prints_throughput(tmp_path):
    text = tmp_path / "bench.txt"
    text.write_text("Hello world, this is a benchmark line.\nAnother line 123.\n" * 50)
    for threads in ["1", "2"]:
        rc, out, err = keel("tokenize", "--tokenizer", GPT2, "--bench", str(text), "--threads", threads,
                            "--seconds", "0")
        assert rc == 0, err
        value, unit = out.split()
        assert unit == "MB/s" and float(value) > 0
        assert err.startswith("load ")
