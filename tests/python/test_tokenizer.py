"""keel.Tokenizer from Python equals `keel tokenize` / `keel detokenize` (which the
tokenizer tests hold to HF tokenizers), on the real tokenizers and the parity corpus."""
import json
import time

import numpy as np
import pytest

import corpus
import keel
from conftest import SHARED, TOKENIZERS, json_lines, keel_cli

TEXTS = [t for _, t in corpus.generate()][::7][:300]  # every 7th string: all categories, a few seconds


def assert_same(enc, want, where):
    assert enc.ids.dtype == np.uint32 and enc.offsets.dtype == np.uint64 and enc.attention_mask.dtype == np.uint8
    assert enc.ids.tolist() == want["ids"], where
    assert enc.tokens == want["tokens"], where
    assert enc.offsets.reshape(-1, 2).tolist() == want["offsets"], where
    assert enc.attention_mask.tolist() == want["attention_mask"], where
    assert enc.type_ids.tolist() == want["type_ids"], where
    assert enc.special_tokens_mask.tolist() == want["special_tokens_mask"], where
    assert enc.word_ids == want["word_ids"], where
    assert len(enc) == len(want["ids"]), where


def lines(out):
    # "\n" only: str.splitlines would also split inside tokens at U+2028, U+0085, ...
    return [json.loads(line) for line in out.split("\n") if line]


def cli_encodings(name, stdin, *flags):
    p = keel_cli("tokenize", "--tokenizer", str(SHARED / name), *flags, stdin=stdin, check=False)
    return lines(p.stdout)


@pytest.mark.parametrize("name", TOKENIZERS)
def test_encode_equals_cli(name):
    tok = keel.Tokenizer.from_file(str(SHARED / name))
    want = cli_encodings(name, json_lines(TEXTS))
    assert len(want) == len(TEXTS)
    for i, (text, w) in enumerate(zip(TEXTS, want)):
        if "error" in w:
            with pytest.raises(keel.KeelError) as e:
                tok.encode(text)
            assert w["error"] == f"line {i + 1}: {e.value}"
        else:
            assert_same(tok.encode(text), w, f"{name} text {i}: {text!r}")


@pytest.mark.parametrize("name", TOKENIZERS)
def test_encode_batch_equals_cli_batch(name):
    # keel tokenize --batch N pads each chunk of N to its longest, as encode_batch pads its batch.
    tok = keel.Tokenizer.from_file(str(SHARED / name))
    tok.no_truncation()
    texts = [t for t in TEXTS if len(t) < 2000][:128]
    want = cli_encodings(name, json_lines(texts), "--batch", str(len(texts)), "--no-truncation")
    got = tok.encode_batch(texts)
    assert len(got) == len(want) == len(texts)
    for i, (g, w) in enumerate(zip(got, want)):
        assert_same(g, w, f"{name} batch item {i}")


@pytest.mark.parametrize("name", ["all-MiniLM-L6-v2", "gpt2"])
def test_pairs_and_flags_equal_cli(name):
    tok = keel.Tokenizer.from_file(str(SHARED / name))
    tok.no_padding()
    pairs = [[TEXTS[i], TEXTS[i + 1]] for i in range(0, 60, 2)]
    want = cli_encodings(name, json_lines(pairs), "--pair", "--no-padding")
    for i, (p, w) in enumerate(zip(pairs, want)):
        if "error" in w:
            with pytest.raises(keel.KeelError):
                tok.encode(p[0], pair=p[1])
        else:
            assert_same(tok.encode(p[0], pair=p[1]), w, f"{name} pair {i}")
    want = cli_encodings(name, json_lines(TEXTS[:40]), "--no-special", "--no-padding")
    for i, w in enumerate(want):
        assert_same(tok.encode(TEXTS[i], add_special_tokens=False), w, f"{name} no-special {i}")


@pytest.mark.parametrize("name", TOKENIZERS)
def test_decode_equals_cli(name):
    tok = keel.Tokenizer.from_file(str(SHARED / name))
    tok.no_padding()
    ids = [tok.encode(t).ids for t in TEXTS[:80]]
    for skip in (False, True):
        flags = ["--skip-special"] if skip else []
        p = keel_cli("detokenize", "--tokenizer", str(SHARED / name), *flags,
                     stdin=json_lines([i.tolist() for i in ids]))
        want = lines(p.stdout)
        got = [tok.decode(i, skip_special_tokens=skip) for i in ids]  # NumPy arrays in
        assert got == want
        assert tok.decode([int(x) for x in ids[0]], skip_special_tokens=skip) == want[0]  # lists too


def test_arrays_are_read_only_views_that_keep_the_encoding_alive():
    tok = keel.Tokenizer.from_file(str(SHARED / "gpt2"))
    ids = tok.encode("hello world").ids
    offsets = tok.encode("hello world").offsets  # the Encoding object is gone; the view keeps it alive
    assert ids.tolist() == tok.encode("hello world").ids.tolist()
    assert offsets.shape == (len(ids), 2) and offsets[-1, 1] == len("hello world")
    with pytest.raises(ValueError):
        ids[0] = 1
    assert not ids.flags.owndata


def test_native_errors_carry_the_native_message(tmp_path):
    missing = str(tmp_path / "no-such-tokenizer")
    p = keel_cli("tokenize", "--tokenizer", missing, check=False)
    assert p.returncode == 1
    with pytest.raises(keel.KeelError) as e:
        keel.Tokenizer.from_file(missing)
    assert isinstance(e.value, RuntimeError)
    assert p.stderr.strip() == f"keel tokenize: {e.value}"
    bad = tmp_path / "tokenizer.json"
    bad.write_text('{"model": {"type": "WordPiece", "vocab": 3}}')
    p = keel_cli("tokenize", "--tokenizer", str(bad), check=False)
    with pytest.raises(keel.KeelError) as e:
        keel.Tokenizer.from_file(str(bad))
    assert p.stderr.strip() == f"keel tokenize: {e.value}" and str(e.value)
    with pytest.raises(keel.KeelError, match="invalid JSON"):
        keel.Tokenizer.from_str("{not json")


def test_bad_arguments_are_python_errors():
    tok = keel.Tokenizer.from_file(str(SHARED / "all-MiniLM-L6-v2"))
    with pytest.raises(TypeError, match="text must be str"):
        tok.encode(b"bytes")
    with pytest.raises(TypeError, match=r"texts\[1\] must be str"):
        tok.encode_batch(["ok", 3])
    with pytest.raises(TypeError, match="not a single string"):
        tok.encode_batch("a string")
    with pytest.raises(ValueError, match=r"ids\[1\] = -1"):
        tok.decode([1, -1])
    with pytest.raises(UnicodeEncodeError):
        tok.encode("lone \ud800 surrogate")
    assert tok.encode_batch([]) == []
    assert tok.token_to_id("[CLS]") == 101 and tok.id_to_token(101) == "[CLS]"
    assert tok.token_to_id("no-such-token-xyz") is None


def test_other_python_threads_run_while_encode_batch_encodes():
    from test_embedder import gil_share  # the same pure-Python counter thread

    tok = keel.Tokenizer.from_file(str(SHARED / "all-MiniLM-L6-v2"))
    tok.no_padding()
    texts = [f"sentence number {i} about tokenizers, kernels and threads " * 8 for i in range(12000)]  # ~1 s
    share = gil_share(lambda: tok.encode_batch(texts))
    # GIL held (the module built without the release): 3%. Released: about 30% of
    # the idle rate on the loaded 2-core machine, where keel's pool takes both cores
    # and the GIL is still held while the Encoding objects are made.
    assert share >= 0.15, share
