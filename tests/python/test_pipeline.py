"""keel.Pipeline: input order kept, errors per item, bounded queues, clean shutdown,
and with a native embed stage the same rows as Embedder.embed alone."""
import random
import threading
import time

import numpy as np
import pytest

import keel


def jitter(seed):
    rng = random.Random(seed)
    lock = threading.Lock()

    def sleep():
        with lock:
            d = rng.random() * 0.004
        time.sleep(d)
    return sleep


def test_results_come_in_input_order_despite_random_delays():
    sleep_pre, sleep_post = jitter(1), jitter(2)

    def pre(x):
        sleep_pre()
        return x * 10

    def batch(xs):
        time.sleep(0.001 * len(xs))
        return [x + 1 for x in xs]

    def post(x):
        sleep_post()
        return -x

    pipe = keel.Pipeline([keel.Stage(pre, workers=4), keel.Stage(batch, batch_size=8, max_wait=0.003),
                          keel.Stage(post, workers=3)], queue_size=4)
    results = pipe.run(range(300))
    assert [r.index for r in results] == list(range(300))
    assert [r.value for r in results] == [-(x * 10 + 1) for x in range(300)]
    assert all(r.ok for r in results)


def test_a_failing_preprocess_fails_only_its_item():
    def pre(x):
        if x == 3:
            raise ValueError(f"cannot preprocess {x}")
        return x

    seen = []

    def native(xs):
        seen.extend(xs)
        return [x * 2 for x in xs]

    results = keel.Pipeline([pre, keel.Stage(native, batch_size=4), str]).run(range(10))
    assert [r.ok for r in results] == [i != 3 for i in range(10)]
    bad = results[3]
    assert isinstance(bad.error, ValueError) and str(bad.error) == "cannot preprocess 3"
    assert bad.stage == "pre" and bad.index == 3 and bad.value is None
    with pytest.raises(ValueError, match="cannot preprocess 3"):
        bad.get()
    assert 3 not in seen  # a failed item skips the later stages
    assert [r.get() for r in results if r.ok] == [str(2 * i) for i in range(10) if i != 3]


def test_a_failing_batch_is_retried_item_by_item():
    def native(xs):
        if 5 in xs:
            raise keel.KeelError("input 5 is bad")
        return [x + 100 for x in xs]

    results = keel.Pipeline([keel.Stage(native, batch_size=8, name="embed")], queue_size=16).run(range(16))
    assert [r.ok for r in results] == [i != 5 for i in range(16)]
    assert results[5].stage == "embed" and isinstance(results[5].error, keel.KeelError)
    assert [r.value for r in results if r.ok] == [i + 100 for i in range(16) if i != 5]


def test_a_batch_stage_returning_the_wrong_count_is_an_error_per_item():
    results = keel.Pipeline([keel.Stage(lambda xs: [], batch_size=4)]).run(range(3))
    assert not any(r.ok for r in results)
    assert "returned 0 results for 1 item" in str(results[0].error)


def test_queues_are_bounded_a_slow_consumer_slows_the_input():
    produced = []

    def source():
        for i in range(200):
            produced.append(i)
            yield i

    stages = [keel.Stage(lambda x: x), keel.Stage(lambda xs: xs, batch_size=4), keel.Stage(lambda x: x)]
    queue_size = 3
    # Items that can be between the input and the consumer: every queue full, every
    # stage holding its batch, the feeder holding one.
    bound = (len(stages) + 1) * queue_size + sum(s.batch_size * s.workers for s in stages) + 1
    consumed = 0
    most_ahead = 0
    for r in keel.Pipeline(stages, queue_size=queue_size).imap(source()):
        consumed += 1
        time.sleep(0.002)
        most_ahead = max(most_ahead, len(produced) - consumed)
    assert consumed == 200
    assert most_ahead <= bound, (most_ahead, bound)
    assert most_ahead >= queue_size  # the stages did run ahead of the consumer


def test_stopping_early_joins_every_thread():
    before = threading.active_count()
    started = []

    def source():
        for i in range(10_000):
            started.append(i)
            yield i

    it = keel.Pipeline([lambda x: x, keel.Stage(lambda xs: xs, batch_size=8), lambda x: x],
                       queue_size=2).imap(source())
    first = [next(it).value for _ in range(5)]
    assert threading.active_count() > before
    it.close()
    assert first == list(range(5))
    assert threading.active_count() == before
    assert len(started) < 100  # the input was not read to the end


def test_an_input_that_raises_ends_the_run_after_the_items_before_it():
    def source():
        yield from range(5)
        raise OSError("input went away")

    got = []
    before = threading.active_count()
    with pytest.raises(OSError, match="input went away"):
        for r in keel.Pipeline([lambda x: x + 1]).imap(source()):
            got.append(r.value)
    assert got == [1, 2, 3, 4, 5]
    assert threading.active_count() == before


def test_a_stage_raising_a_base_exception_ends_the_run():
    def stage(x):
        if x == 4:
            raise SystemExit("stage quit")
        return x

    before = threading.active_count()
    with pytest.raises(SystemExit, match="stage quit"):
        keel.Pipeline([stage]).run(range(100))
    assert threading.active_count() == before


def test_bad_configuration():
    with pytest.raises(ValueError):
        keel.Pipeline([])
    with pytest.raises(ValueError):
        keel.Pipeline([lambda x: x], queue_size=0)
    with pytest.raises(ValueError, match="batch_size"):
        keel.Stage(lambda x: x, batch_size=0)


def test_native_embed_stage_gives_the_rows_of_embed(tiny_model):
    emb = keel.Embedder(str(tiny_model), threads=1, batch_size=8)
    texts = [f"Document {i}: {'keel ' * (i % 7)}embeds text" for i in range(50)] + [7]  # the last is no str

    def pre(t):
        return t.strip().lower()

    def post(v):
        return float(np.linalg.norm(v)), v.copy()

    results = keel.Pipeline([pre, keel.embed_stage(emb), post], queue_size=8).run(texts)
    assert [r.ok for r in results] == [True] * 50 + [False]
    assert isinstance(results[50].error, AttributeError) and results[50].stage == "pre"
    want = keel.Embedder(str(tiny_model), threads=1, batch_size=1).embed([pre(t) for t in texts[:50]])
    got = np.stack([r.value[1] for r in results[:50]])
    # The pipeline batches whatever is queued, so batch boundaries differ: equal up to rounding.
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    assert [r.value[0] for r in results[:50]] == pytest.approx(np.linalg.norm(want, axis=1).tolist(), rel=1e-5)


def test_a_failing_native_item_in_an_embed_batch(tiny_model):
    emb = keel.Embedder(str(tiny_model), threads=1, batch_size=4)
    results = keel.Pipeline([keel.embed_stage(emb)]).run(["a", "b", None, "c", "d"])
    assert [r.ok for r in results] == [True, True, False, True, True]
    assert isinstance(results[2].error, TypeError) and "texts[0] must be str" in str(results[2].error)
