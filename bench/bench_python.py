#!/usr/bin/env python3
"""keel's Python package benchmarks; prints markdown for docs/benchmarks.md.

  <build>/pyenv/bin/python bench/bench_python.py [--build build] [--case tokenize|pipeline|all]

tokenize_batch: 100k short documents (10-20 words from tests/tokenizer/corpus.py's
  word lists, seeded) tokenized from Python with Tokenizer.encode_batch (every
  core, GIL released) and with a Python loop over Tokenizer.encode, against the
  C++ CLI on the same text (`keel tokenize --bench FILE --threads 0|1`: the
  same encode_batch / encode calls with no Python around them). Padding and
  truncation are off in all rows, as --bench has them. Rows alternate in rounds;
  the best of the rounds is reported (the machine is shared).
pipeline: 10k raw HTML-like documents: a Python preprocess (unescape, strip tags
  and URLs, NFKC, first 16 words, a 64-value MinHash of the word 3-shingles for
  near-duplicate detection) -> native embed (Embedder, random
  all-MiniLM-L6-v2-shaped model made by `keel make-model`) -> a Python
  postprocess (nearest of 16 topic vectors, int8 quantization, base64, JSON
  record with the dedup key). keel.Pipeline against the same three steps one after another.
"""
import argparse
import base64
import html
import json
import os
import random
import re
import subprocess
import sys
import time
import unicodedata
import zlib
from pathlib import Path

import numpy as np

import keel

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "tokenizer"))
import corpus  # noqa: E402

SHARED = Path(os.environ.get("KEEL_SHARED_MODELS", ROOT.parent / "shared" / "models"))


def short_documents(n, seed=7):
    rng = random.Random(seed)
    docs = []
    for _ in range(n):
        words = [rng.choice(corpus.WORDS) for _ in range(rng.randint(10, 20))]
        if rng.random() < 0.3:
            words[rng.randrange(len(words))] = rng.choice(corpus.NAMES)
        docs.append(" ".join(words).capitalize() + rng.choice(".!?"))
    return docs


def timed_passes(fn, seconds):
    """Runs fn() until `seconds` have passed (at least once); passes per second.
    Each pass's results replace the previous ones (freed inside the timing, as the CLI frees)."""
    passes, keep = 0, None
    start = time.perf_counter()
    while True:
        keep = fn()
        passes += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            del keep
            return passes / elapsed


def cli_mbps(keel_bin, tokenizer, text_file, threads, seconds):
    p = subprocess.run([keel_bin, "tokenize", "--tokenizer", tokenizer, "--bench", text_file, "--threads",
                        str(threads), "--seconds", str(seconds)], capture_output=True, text=True, check=True)
    return float(p.stdout.split()[0])


def bench_tokenize(args):
    docs = short_documents(100_000)
    tmp = Path(args.build) / "bench_tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    text_file = tmp / "python_tokenize_100k.txt"
    text_file.write_text("\n".join(docs) + "\n", encoding="utf-8")
    mb = sum(len(d.encode()) for d in docs) / 1e6
    keel_bin = str(Path(args.build) / "bin" / "keel")
    cores = os.cpu_count()
    print(f"### tokenize_batch: 100k short documents from Python ({mb:.2f} MB, {cores} cores)\n")
    print("| tokenizer | keel CLI, all cores (MB/s) | encode_batch (MB/s) | encode_batch / CLI "
          "| CLI, 1 thread (MB/s) | Python loop over encode (MB/s) | loop / CLI 1 thread |")
    print("|---|---|---|---|---|---|---|")
    for name in args.tokenizers.split(","):
        path = str(SHARED / name)
        tok = keel.Tokenizer.from_file(path)
        tok.no_padding()
        tok.no_truncation()
        best = {"cli": 0.0, "batch": 0.0, "cli1": 0.0, "loop": 0.0}
        for _ in range(args.rounds):
            best["cli"] = max(best["cli"], cli_mbps(keel_bin, path, str(text_file), 0, args.seconds))
            best["batch"] = max(best["batch"], mb * timed_passes(lambda: tok.encode_batch(docs), args.seconds))
            best["cli1"] = max(best["cli1"], cli_mbps(keel_bin, path, str(text_file), 1, args.seconds))
            best["loop"] = max(best["loop"],
                               mb * timed_passes(lambda: [tok.encode(d) for d in docs], args.seconds))
        print(f"| {name} | {best['cli']:.2f} | {best['batch']:.2f} | {best['batch'] / best['cli']:.2f} "
              f"| {best['cli1']:.2f} | {best['loop']:.2f} | {best['loop'] / best['cli1']:.2f} |", flush=True)
    print()


# ---- pipeline ----

TAG = re.compile(r"<[^>]+>")
URL = re.compile(r"https?://\S+|www\.\S+")
SPACE = re.compile(r"\s+")


def raw_documents(n, seed=11):
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        words = [rng.choice(corpus.WORDS) for _ in range(rng.randint(40, 80))]
        for _ in range(6):
            k = rng.randrange(len(words))
            words[k] = rng.choice([f"<b>{words[k]}</b>", f"<a href='https://example.com/{i}?q={k}'>{words[k]}</a>",
                                   "&amp;", "&quot;Zo&euml;&quot;", "https://keel.dev/docs", "ﬁne", "Ｆｕｌｌ"])
        docs.append(f"<div class='post'><h2>Post {i}</h2><p>{' '.join(words)}</p></div>")
    return docs


MINHASH_PRIME = (1 << 61) - 1
MINHASH_PERMS = [(random.Random(s).randrange(1, MINHASH_PRIME), random.Random(-s).randrange(MINHASH_PRIME))
                 for s in range(1, 65)]


def minhash(words):
    """A 64-value MinHash signature of the word 3-shingles (near-duplicate detection)."""
    hashes = [zlib.crc32(" ".join(words[i:i + 3]).encode()) for i in range(max(1, len(words) - 2))]
    return [min((a * h + b) % MINHASH_PRIME for h in hashes) for a, b in MINHASH_PERMS]


def preprocess(doc):
    """Raw HTML-like text -> (the passage to embed, its MinHash signature)."""
    text = TAG.sub(" ", doc)
    text = html.unescape(text)
    text = URL.sub(" ", text)
    text = unicodedata.normalize("NFKC", text)
    words = SPACE.sub(" ", text).strip().lower().split(" ")
    words = [w for w in words if any(c.isalpha() for c in w)]
    return " ".join(words[:16]), minhash(words)


class Postprocess:
    def __init__(self, dim, seed=3):
        rng = np.random.default_rng(seed)
        topics = rng.standard_normal((16, dim)).astype(np.float32)
        self.topics = topics / np.linalg.norm(topics, axis=1, keepdims=True)
        self.labels = [f"topic-{i}" for i in range(16)]

    def __call__(self, item):
        vector, signature = item
        v = vector / max(float(np.linalg.norm(vector)), 1e-12)
        scores = self.topics @ v
        best = int(np.argmax(scores))
        scale = float(np.abs(v).max()) / 127 or 1.0
        q = np.round(v / scale).astype(np.int8)
        return json.dumps({"topic": self.labels[best], "score": round(float(scores[best]), 4),
                           "scale": scale, "vector": base64.b64encode(q.tobytes()).decode("ascii"),
                           "dedup_key": "%016x" % (min(signature[:4]) ^ signature[4])})


def bench_pipeline(args):
    model = Path(args.build) / "bench_tmp" / f"python-bench-{args.layers}l"
    if not (model / "model.safetensors").exists():
        subprocess.run([str(Path(args.build) / "bin" / "keel"), "make-model", "--config",
                        str(SHARED / "all-MiniLM-L6-v2" / "config.json"), "--tokenizer",
                        str(SHARED / "all-MiniLM-L6-v2"), "--layers", str(args.layers), "--seed", "1", "--out",
                        str(model)], check=True, capture_output=True)
    docs = raw_documents(args.pipeline_items)
    threads = args.embed_threads
    emb = keel.Embedder(str(model), threads=threads, batch_size=32)
    post = Postprocess(emb.dim)

    native_seconds = [0.0]  # time inside emb.embed, to see how busy the native stage is

    def embed(items):  # (passage, signature) -> (vector, signature)
        texts = [p for p, _ in items]
        t = time.perf_counter()
        vectors = emb.embed(texts)
        native_seconds[0] += time.perf_counter() - t
        return list(zip(vectors, [s for _, s in items]))

    def sequential():
        items = [preprocess(d) for d in docs]
        return [post(x) for x in embed(items)]

    pipe = keel.Pipeline([preprocess, keel.Stage(embed, batch_size=32, max_wait=0.002, name="embed"), post],
                         queue_size=128)

    def pipelined():
        return [r.get() for r in pipe.imap(docs)]

    # The parts alone, for the balance between Python and native work.
    t = time.perf_counter()
    items = [preprocess(d) for d in docs]
    t_pre = time.perf_counter() - t
    t = time.perf_counter()
    embedded = embed(items)
    t_embed = time.perf_counter() - t
    t = time.perf_counter()
    records = [post(x) for x in embedded]
    t_post = time.perf_counter() - t

    best_seq = best_pipe = float("inf")
    busy = 0.0
    paired = []  # each round's sequential / pipelined, measured back to back
    for _ in range(args.rounds):
        t = time.perf_counter()
        seq = sequential()
        seq_seconds = time.perf_counter() - t
        best_seq = min(best_seq, seq_seconds)
        native_seconds[0] = 0.0
        t = time.perf_counter()
        got = pipelined()
        elapsed = time.perf_counter() - t
        paired.append(seq_seconds / elapsed)
        if elapsed < best_pipe:
            best_pipe, busy = elapsed, native_seconds[0] / elapsed
    assert len(got) == len(seq) == len(records) == len(docs)
    same_topic = sum(json.loads(a)["topic"] == json.loads(b)["topic"] for a, b in zip(got, seq)) / len(docs)
    n = len(docs)
    print(f"### Pipeline: {n} documents, Python preprocess -> native embed -> Python postprocess\n")
    print(f"Model: all-MiniLM-L6-v2 config with {args.layers} layer(s), random weights (keel make-model), f32, "
          f"embed threads={emb.threads}, batch 32; {os.cpu_count()} cores. Parts alone: preprocess "
          f"{t_pre * 1e6 / n:.0f} us/doc, embed {t_embed * 1e6 / n:.0f} us/doc, postprocess "
          f"{t_post * 1e6 / n:.0f} us/doc; best possible speedup (parts' sum over the larger) "
          f"{(t_pre + t_embed + t_post) / max(t_pre + t_post, t_embed):.2f}x. In the best Pipeline run the native "
          f"stage was inside embed() {busy:.0%} of the time. Same topic in both runs for {same_topic:.1%} "
          f"of documents.\n")
    print("| run | seconds (best of %d) | docs/s | speedup |" % args.rounds)
    print("|---|---|---|---|")
    print(f"| three steps one after another | {best_seq:.2f} | {n / best_seq:.0f} | 1.00x |")
    print(f"| keel.Pipeline (queue_size 128) | {best_pipe:.2f} | {n / best_pipe:.0f} | {best_seq / best_pipe:.2f}x |")
    print(f"\nEach round's speedup (sequential then pipelined, back to back): "
          f"{', '.join(f'{r:.2f}x' for r in paired)}; median {sorted(paired)[len(paired) // 2]:.2f}x.")
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--case", default="all", choices=["tokenize", "pipeline", "all"])
    ap.add_argument("--tokenizers", default="all-MiniLM-L6-v2,gpt2")
    ap.add_argument("--seconds", type=int, default=2, help="per tokenize row and round (whole seconds, as the CLI takes)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--layers", type=int, default=1, help="layers of the pipeline's model")
    ap.add_argument("--embed-threads", type=int, default=1, help="threads of the pipeline's embedder (0 = all)")
    ap.add_argument("--pipeline-items", type=int, default=10_000)
    args = ap.parse_args()
    load = os.getloadavg()
    print(f"_keel {keel.__version__}; load average before the run {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}_\n")
    if args.case in ("tokenize", "all"):
        bench_tokenize(args)
    if args.case in ("pipeline", "all"):
        bench_pipeline(args)


if __name__ == "__main__":
    main()
