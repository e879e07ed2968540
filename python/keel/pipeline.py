"""keel.Pipeline: user-defined stages connected by bounded queues, running overlapped.

    pipe = keel.Pipeline([clean_text, keel.embed_stage(embedder), to_record], queue_size=64)
    for r in pipe.imap(texts):          # input order; r.value or r.error per item
        ...

Each stage runs on its own thread(s). While the native stage embeds item k (with
the GIL released), the Python stages preprocess item k+1 and postprocess item k-1.
What still runs one at a time: all Python code (every Python stage, the queue
hand-offs, building each batch's list of str and its result array) shares the
GIL; only the native part of a stage (keel's tokenization and forward pass) runs
beside it. See docs/python.md.
"""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, List, Optional, Sequence, Union

__all__ = ["Pipeline", "Result", "Stage", "embed_stage"]


@dataclass(frozen=True)
class Stage:
    """One step of a Pipeline.

    fn: called as fn(item) -> new item when batch_size is 1; as fn(items: list)
        -> sequence of the same length when batch_size > 1 (a native stage such as
        Embedder.embed, which takes a list of str and returns an (n, dim) array).
    batch_size: the most items per call; a batch is whatever is queued (up to
        batch_size) once the first item arrives, waiting at most max_wait seconds
        for more.
    workers: threads running this stage (more than one only helps for a stage that
        releases the GIL or waits on I/O; results still come out in input order).
    """

    fn: Callable[..., Any]
    batch_size: int = 1
    workers: int = 1
    max_wait: float = 0.0
    name: str = ""

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"Stage {self.label}: batch_size must be at least 1, got {self.batch_size}")
        if self.workers < 1:
            raise ValueError(f"Stage {self.label}: workers must be at least 1, got {self.workers}")
        if self.max_wait < 0:
            raise ValueError(f"Stage {self.label}: max_wait must be >= 0, got {self.max_wait}")

    @property
    def label(self) -> str:
        return self.name or getattr(self.fn, "__name__", type(self.fn).__name__)


def embed_stage(embedder: Any, batch_size: Optional[int] = None, max_wait: float = 0.002) -> Stage:
    """A Stage running embedder.embed on batches of str (default: the Embedder's batch_size)."""
    return Stage(embedder.embed, batch_size=batch_size or embedder.batch_size, max_wait=max_wait, name="embed")


@dataclass
class Result:
    """The outcome of one input item: its index, and its value or the error that stopped it."""

    index: int
    value: Any = None
    error: Optional[BaseException] = None
    stage: Optional[str] = None  # the stage that raised `error`

    @property
    def ok(self) -> bool:
        return self.error is None

    def get(self) -> Any:
        """The value, or raises the item's error."""
        if self.error is not None:
            raise self.error
        return self.value


_END = object()  # end of the input, passed down the queues


class _Stopped(Exception):
    """The pipeline is shutting down (the consumer stopped early)."""


class Pipeline:
    """Stages connected by bounded queues (queue_size items each), overlapped on threads.

    Results come out in input order, one Result per input item. An exception in a
    stage becomes that item's Result.error (the item skips the later stages);
    a batch stage that raises is re-run item by item so that only the failing
    items get errors. At most about (stages + 1) * queue_size + the items inside
    the stages are in flight: a slow consumer slows the input (backpressure).
    """

    def __init__(self, stages: Sequence[Union[Stage, Callable[[Any], Any]]], queue_size: int = 64):
        if not stages:
            raise ValueError("Pipeline needs at least one stage")
        if queue_size < 1:
            raise ValueError(f"queue_size must be at least 1, got {queue_size}")
        self.stages: List[Stage] = [s if isinstance(s, Stage) else Stage(s) for s in stages]
        self.queue_size = queue_size

    def run(self, items: Iterable[Any]) -> List[Result]:
        """Every item through every stage; the Results in input order."""
        return list(self.imap(items))

    def imap(self, items: Iterable[Any]) -> Iterator[Result]:
        """Yields one Result per item, in input order, while later items are still in the stages.

        Closing the iterator early (break, an exception) stops and joins every thread.
        """
        run = _Run(self.stages, self.queue_size, items)
        try:
            yield from run.results()
        finally:
            run.shutdown()


class _Run:
    """One pass of a Pipeline over an input: the queues, the threads and the reordering."""

    _POLL = 0.05  # seconds between checks of the stop flag while blocked on a queue

    def __init__(self, stages: List[Stage], queue_size: int, items: Iterable[Any]):
        self.stages = stages
        # queues[i] feeds stage i; queues[-1] feeds the consumer. Entries: (index, value, Result|None) or _END.
        self.queues: List[queue.Queue] = [queue.Queue(queue_size) for _ in range(len(stages) + 1)]
        self.stop = threading.Event()
        self.input_error: Optional[BaseException] = None
        self.fatal: Optional[BaseException] = None  # a BaseException (not Exception) in a stage thread
        self.threads: List[threading.Thread] = []
        self._remaining = [s.workers for s in stages]  # workers of each stage not yet finished
        self._lock = threading.Lock()
        self._start(items)

    # -- queue hand-offs that give up when the run is stopped --
    def _put(self, q: queue.Queue, entry: Any) -> None:
        while True:
            if self.stop.is_set():
                raise _Stopped()
            try:
                q.put(entry, timeout=self._POLL)
                return
            except queue.Full:
                pass

    def _get(self, q: queue.Queue, timeout: Optional[float] = None) -> Any:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self.stop.is_set():
                raise _Stopped()
            wait = self._POLL if deadline is None else min(self._POLL, deadline - time.monotonic())
            if wait <= 0:
                raise queue.Empty()
            try:
                return q.get(timeout=wait)
            except queue.Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    def _start(self, items: Iterable[Any]) -> None:
        feeder = threading.Thread(target=self._feed, args=(items,), name="keel-pipeline-input", daemon=True)
        self.threads.append(feeder)
        for i, stage in enumerate(self.stages):
            for w in range(stage.workers):
                t = threading.Thread(target=self._work, args=(i,), name=f"keel-pipeline-{stage.label}-{w}",
                                     daemon=True)
                self.threads.append(t)
        for t in self.threads:
            t.start()

    def _feed(self, items: Iterable[Any]) -> None:
        try:
            try:
                for index, item in enumerate(items):
                    self._put(self.queues[0], (index, item, None))
            except _Stopped:
                return
            except BaseException as e:  # the input iterable failed: report it after the items before it
                self.input_error = e
            self._put(self.queues[0], _END)
        except _Stopped:
            pass

    def _work(self, i: int) -> None:
        stage, q_in, q_out = self.stages[i], self.queues[i], self.queues[i + 1]
        try:
            while True:
                first = self._get(q_in)
                if first is _END:
                    break
                batch = [first]
                saw_end = False
                if stage.batch_size > 1:
                    saw_end = self._fill(batch, q_in, stage)
                for entry in self._apply(stage, batch):
                    self._put(q_out, entry)
                if saw_end:
                    break
            self._put(q_in, _END)  # let this stage's other workers see the end too
            with self._lock:
                self._remaining[i] -= 1
                last = self._remaining[i] == 0
            if last:
                self._put(q_out, _END)
        except _Stopped:
            pass
        except BaseException as e:  # SystemExit and the like: end the run, the consumer re-raises it
            self.fatal = e
            self.stop.set()

    def _fill(self, batch: list, q_in: queue.Queue, stage: Stage) -> bool:
        """Adds queued entries to `batch` up to stage.batch_size; True if it took _END."""
        deadline = time.monotonic() + stage.max_wait
        while len(batch) < stage.batch_size:
            try:
                remaining = deadline - time.monotonic()
                entry = q_in.get_nowait() if remaining <= 0 else self._get(q_in, timeout=remaining)
            except queue.Empty:
                return False
            if entry is _END:
                return True
            batch.append(entry)
        return False

    @staticmethod
    def _apply(stage: Stage, batch: list) -> list:
        """Runs the stage on the entries that have no error yet; failed entries pass through."""
        todo = [e for e in batch if e[2] is None]
        values: dict = {}
        failures: dict = {}
        if stage.batch_size == 1:
            for index, value, _ in todo:
                try:
                    values[index] = stage.fn(value)
                except Exception as e:
                    failures[index] = e
        elif todo:
            try:
                out = stage.fn([v for _, v, _ in todo])
                if len(out) != len(todo):
                    raise ValueError(f"stage {stage.label} returned {len(out)} results for {len(todo)} items")
                for (index, _, _), v in zip(todo, out):
                    values[index] = v
            except Exception:
                # Find which items fail: each alone.
                for index, value, _ in todo:
                    try:
                        out = stage.fn([value])
                        if len(out) != 1:
                            raise ValueError(f"stage {stage.label} returned {len(out)} results for 1 item")
                        values[index] = out[0]
                    except Exception as e:
                        failures[index] = e
        result = []
        for index, value, res in batch:
            if res is not None:
                result.append((index, value, res))
            elif index in failures:
                result.append((index, None, Result(index, None, failures[index], stage.label)))
            else:
                result.append((index, values[index], None))
        return result

    def results(self) -> Iterator[Result]:
        pending: dict = {}
        next_index = 0
        q = self.queues[-1]
        while True:
            try:
                entry = q.get(timeout=self._POLL)
            except queue.Empty:
                if self.fatal is not None:
                    raise self.fatal
                continue
            if entry is _END:
                break
            index, value, res = entry
            pending[index] = res if res is not None else Result(index, value)
            while next_index in pending:
                yield pending.pop(next_index)
                next_index += 1
        if pending:  # cannot happen: every index reaches the end once
            raise RuntimeError(f"keel.Pipeline: results {sorted(pending)} arrived out of the sequence")
        if self.input_error is not None:
            raise self.input_error

    def shutdown(self) -> None:
        self.stop.set()
        current = threading.current_thread()
        for t in self.threads:
            if t is not current:
                t.join()
