"""keel.Embedder from Python equals `keel embed` (which the model tests hold to
PyTorch), raises the native errors as keel.KeelError, and lets other Python
threads run while it computes (the GIL is released)."""
import json
import threading
import time

import numpy as np
import pytest

import keel
from conftest import json_lines, keel_cli

TEXTS = ["Hello world", "The quick brown fox jumps over the lazy dog.", "", "naïve café, Zoë! ☃ 東京",
         "a " * 400, "tokenizer\tencoding\ndecoding", "12:30 on 2024-06-11", "x"] * 9  # 72: 3 batches of 32


def cli_embed(model, texts, *flags):
    p = keel_cli("embed", "--model", str(model), "--threads", "1", *flags, stdin=json_lines(texts))
    rows = [json.loads(line) for line in p.stdout.split("\n") if line]
    return np.array(rows, dtype=np.float32)


@pytest.mark.parametrize("dtype", ["f32", "bf16", "int8"])
def test_embed_equals_cli(tiny_model, dtype):
    emb = keel.Embedder(str(tiny_model), dtype=dtype, threads=1)
    got = emb.embed(TEXTS)
    want = cli_embed(tiny_model, TEXTS, "--dtype", dtype)
    assert got.dtype == np.float32 and got.shape == (len(TEXTS), emb.dim) == want.shape
    assert got.flags.c_contiguous and got.flags.owndata
    # Same batches (32), same kernels, same threads: the same floats (the CLI prints round-trip decimals).
    np.testing.assert_array_equal(got, want)
    assert emb.dim == 384 and emb.dtype == dtype and emb.threads == 1


def test_batch_size_and_threads_do_not_change_rows_beyond_rounding(tiny_model):
    one = keel.Embedder(str(tiny_model), threads=1, batch_size=1).embed(TEXTS[:8])
    want = cli_embed(tiny_model, TEXTS[:8], "--batch", "1")
    np.testing.assert_array_equal(one, want)
    many = keel.Embedder(str(tiny_model), threads=2, batch_size=5).embed(TEXTS[:8])
    np.testing.assert_allclose(many, want, rtol=1e-4, atol=1e-5)


def test_empty_and_iterables(tiny_model):
    emb = keel.Embedder(str(tiny_model), threads=1)
    assert emb.embed([]).shape == (0, emb.dim)
    np.testing.assert_array_equal(emb.embed(t for t in TEXTS[:3]), emb.embed(TEXTS[:3]))


def test_native_errors_carry_the_native_message(tmp_path):
    missing = tmp_path / "no-model"
    p = keel_cli("embed", "--model", str(missing), check=False)
    assert p.returncode == 1
    with pytest.raises(keel.KeelError) as e:
        keel.Embedder(str(missing))
    assert p.stderr.strip() == f"keel embed: {e.value}"
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text('{"model_type": "bert", "hidden_size": "wide"}')
    p = keel_cli("embed", "--model", str(broken), check=False)
    with pytest.raises(keel.KeelError) as e:
        keel.Embedder(str(broken))
    assert p.stderr.strip() == f"keel embed: {e.value}" and "config.json" in str(e.value)


def test_bad_arguments(tiny_model):
    with pytest.raises(ValueError, match="dtype must be"):
        keel.Embedder(str(tiny_model), dtype="f16")
    with pytest.raises(ValueError, match="batch_size"):
        keel.Embedder(str(tiny_model), batch_size=0)
    emb = keel.Embedder(str(tiny_model), threads=1)
    with pytest.raises(TypeError, match=r"texts\[2\] must be str"):
        emb.embed(["a", "b", None])


class Counter:
    """Pure-Python work on a thread, counting loop turns in `n`."""

    def __init__(self):
        self.n = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run)

    def _run(self):
        while not self.done.is_set():
            self.n += 1

    def rate_during(self, fn, repeat):
        """The counter's turns per second while fn() runs, over `repeat` calls: only
        the time inside each call counts, read from this thread just before and after."""
        turns = seconds = 0.0
        for _ in range(repeat):
            n0, t0 = self.n, time.perf_counter()
            fn()
            t1, n1 = time.perf_counter(), self.n
            turns += n1 - n0
            seconds += t1 - t0
        return turns / seconds

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()


def gil_share(fn, repeat=2):
    """The counter thread's rate while fn() runs, as a share of its rate while this
    thread sleeps. ~0 when fn holds the GIL throughout (the counter only gets the
    moments after each call, before this thread reads it: keep fn() long), high
    when fn releases it."""
    with Counter() as c:
        idle = c.rate_during(lambda: time.sleep(0.2), 3)
        busy = c.rate_during(fn, repeat)
    return busy / idle


def test_other_python_threads_run_while_embed_computes(tiny_model):
    emb = keel.Embedder(str(tiny_model), threads=1)
    texts = [f"sentence number {i} about tokenizers, kernels and threads" for i in range(256)]  # ~1 s
    share = gil_share(lambda: emb.embed(texts))
    # With the GIL held through embed the counter cannot run inside the calls (3%,
    # measured by building the module without the release). Released, it keeps
    # about half its idle rate on the 2-vCPU project machine under load 8 (the
    # embed thread takes a core); the bound is generous so load does not make it flaky.
    assert share >= 0.25, share
