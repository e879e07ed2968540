#!/usr/bin/env python3
"""Sentence-embedding throughput, latency, GEMM efficiency and memory: keel
(f32, bf16, int8) against ONNX Runtime (npm onnxruntime-node, f32) and PyTorch
(f32, eager) in the same run, every engine on the same number of threads.
Writes a markdown report to stdout (progress to stderr).

    bench/bench_embed.py [--build build] [--threads 2] [--models minilm,bert-base]
                         [--rounds 3] [--cell-seconds 6] [--quick] [--json FILE]

Models: `keel make-model` directories (seeded random weights) with
../shared/models/all-MiniLM-L6-v2's config and tokenizer, and the same with a
bert-base-sized config (hidden 768, 12 layers, 12 heads, intermediate 3072), as
tests/models/test_bert_parity.py makes them. They are kept in <build>/bench_tmp/embed
and remade when missing. ONNX Runtime runs tests/reference/bert_ref.py's ONNX
export of the same weights; PyTorch runs bert_ref.py itself.

Inputs: a fixed generated corpus of vocabulary words (seeded), three cases:
short (~12 tokens), medium (~64), long (~256, under the 256-token
max_seq_length). keel tokenizes with its own tokenizer; ONNX Runtime and
PyTorch get HF tokenizers' ids (tests/reference/hf_encode_ids.js); the script
checks that both give the same lengths. Tokenization is outside the timings:
each engine is timed from token ids to normalized embeddings.

Each engine is a long-lived worker process (bench/bench_embed.cc for keel,
bench/bench_embed_ort.js, this file with --torch-worker) that loads its model
once and answers "run <case> <batch> <n>": embed the case's first n inputs,
<batch> at a time (ORT and PyTorch pad a batch to its longest input; keel packs
it without padding). Cells (model x case x batch) run in rounds; in every round
each engine runs the cell once, in turn, so the engines see the same machine
load. Throughput is the best round (the least disturbed); an engine stops early
when its rounds of a cell have taken more than --cell-seconds. Batch-1 latency
is the median and p90 over every call of every round.

GFLOP/s counts the linear layers (2 * tokens * in * out each) and attention
(4 * L^2 * hidden per sequence and layer) over keel's unpadded tokens, against
the FMA peak that `bench_gemm --peak-only` measures at the start, before every
cell and at the end (the largest is used: a loaded machine only lowers it).
Before its rounds, every cell runs one untimed batch of its size on each engine
(ONNX Runtime's arena and PyTorch's allocator grow on the first larger shape).
RSS is read from /proc/self/statm (keel, PyTorch) or process.memoryUsage()
(node) before and after loading, and after the runs.
"""

import argparse
import hashlib
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("KEEL_SHARED_MODELS", SOURCE.parent / "shared" / "models"))
PEERS = Path(os.environ.get("KEEL_PEERS", SOURCE / "tools" / "peers" / "node_modules"))
PY = os.environ.get("KEEL_PYTHON", "/usr/bin/python3")
MINILM = SHARED / "all-MiniLM-L6-v2"
REF = SOURCE / "tests" / "reference"

MODELS = {
    "minilm": {"label": "MiniLM-L6 (h384, 6 layers)", "overrides": {}},
    "bert-base": {"label": "bert-base (h768, 12 layers)",
                  "overrides": {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
                                "intermediate_size": 3072}},
}
# case: (word count range, texts in the corpus); one vocabulary word is one token,
# plus [CLS], [SEP] and the final period.
CASES = {"short": ((8, 11), 256), "medium": ((54, 68), 128), "long": ((236, 250), 64)}
BATCHES = [1, 8, 32]
# Inputs per pass (rounded up to a whole number of batches): about the same work per cell.
PASS_N = {"minilm": {"short": 64, "medium": 32, "long": 16},
          "bert-base": {"short": 16, "medium": 8, "long": 4}}
# The peers' idle threads block instead of spinning: on this shared 2-core machine
# spinning threads fight the working ones (and OpenBLAS's own pthreads under
# PyTorch's OpenMP), which made ORT up to 2x and PyTorch up to 20x slower in trials.
# keel's pool always blocks. --peer-spinning keeps the peers' defaults.
PEER_ENV = {"KEEL_ORT_SPINNING": "0", "OMP_WAIT_POLICY": "PASSIVE"}
ENGINES = ["keel-f32", "keel-bf16", "keel-int8", "ort-f32", "torch-f32"]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --- setup -----------------------------------------------------------------------

def make_model(keel, tmp, name):
    spec = MODELS[name]
    config = json.loads((MINILM / "config.json").read_text())
    config.update(spec["overrides"])
    key = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:12]
    out = tmp / f"{name}_{key}"
    if (out / "model.safetensors").exists() and (out / "model.onnx").exists():
        return out
    tmp.mkdir(parents=True, exist_ok=True)
    cfg_path = tmp / f"{name}_config.json"
    cfg_path.write_text(json.dumps(config, indent=2))
    log(f"making {out}")
    subprocess.run([str(keel), "make-model", "--config", str(cfg_path), "--tokenizer", str(MINILM),
                    "--out", str(out), "--seed", "7", "--dtype", "f32"], check=True, stdout=subprocess.DEVNULL)
    log(f"exporting {out}/model.onnx")
    subprocess.run([PY, __file__, "--export", str(out)], check=True)
    return out


def export(model_dir):
    import torch
    sys.path.insert(0, str(REF))
    import bert_ref
    model = bert_ref.load(model_dir)
    tmp = Path(model_dir) / "model.onnx.tmp"
    bert_ref.export_onnx(model, tmp)
    tmp.rename(Path(model_dir) / "model.onnx")


def vocab_words():
    return [w for w in (MINILM / "vocab.txt").read_text(encoding="utf-8").splitlines()
            if w.isascii() and w.isalpha() and len(w) >= 2]


def make_corpus():
    rnd = random.Random(4)
    words = vocab_words()
    corpus = []
    for case, ((lo, hi), count) in CASES.items():
        for _ in range(count):
            ws = [rnd.choice(words) for _ in range(rnd.randint(lo, hi))]
            ws[0] = ws[0].capitalize()
            corpus.append({"case": case, "text": " ".join(ws) + "."})
    return corpus


def hf_ids(tmp, model_dir, corpus):
    max_len = json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"]
    src, dst = tmp / "corpus_texts.jsonl", tmp / "corpus_hf_ids.jsonl"
    src.write_text("".join(json.dumps(c["text"]) + "\n" for c in corpus))
    subprocess.run(["node", str(REF / "hf_encode_ids.js"), str(PEERS), str(model_dir / "tokenizer.json"),
                    str(max_len), str(src), str(dst)], check=True)
    out = []
    for c, line in zip(corpus, dst.read_text().splitlines()):
        e = json.loads(line)
        out.append({"case": c["case"], "ids": e["ids"], "type_ids": e["type_ids"]})
    return out


def fma_peak(build, threads):
    r = subprocess.run([str(build / "bin" / "bench_gemm"), "--peak-only", "--threads", str(threads)],
                       capture_output=True, text=True, check=True)
    m = re.search(r"avx2 ([0-9.]+) GFLOP/s, avx512 ([0-9.]+)", r.stdout)
    return max(float(m.group(1)), float(m.group(2)))


# --- workers ---------------------------------------------------------------------

class Worker:
    def __init__(self, name, cmd, env=None):
        self.name = name
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
                                     env={**os.environ, **env} if env else None)
        self.hello = self._read()

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name} exited (code {self.proc.wait()})")
        return json.loads(line)

    def run(self, case, batch, n):
        self.proc.stdin.write(f"run {case} {batch} {n}\n")
        r = self._read()
        if "error" in r:
            raise RuntimeError(f"{self.name}: {r['error']}")
        return r

    def close(self):
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        self.proc.wait(timeout=60)


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1 << 20)


def torch_worker(model_dir, ids_path, threads):
    """PyTorch f32: bert_ref.py's module in eval mode under inference_mode."""
    import torch
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    sys.path.insert(0, str(REF))
    import bert_ref
    cases = {}
    for line in Path(ids_path).read_text().splitlines():
        e = json.loads(line)
        cases.setdefault(e["case"], []).append(e)
    before = rss_mb()
    t0 = time.perf_counter()
    model = bert_ref.load(model_dir)
    load_s = time.perf_counter() - t0
    print(json.dumps({"rss_before_mb": before, "rss_after_load_mb": rss_mb(), "load_seconds": load_s,
                      "version": torch.__version__}), flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts or parts[0] == "quit":
            break
        name, batch, n = parts[1], int(parts[2]), int(parts[3])
        group_list = cases[name][:n]
        feeds = [bert_ref.padded([g["ids"] for g in group_list[b:b + batch]],
                                 [g["type_ids"] for g in group_list[b:b + batch]])
                 for b in range(0, len(group_list), batch)]
        calls, checksum = [], 0.0
        with torch.inference_mode():
            for f in feeds:
                start = time.perf_counter()
                out = model(*f)
                calls.append(time.perf_counter() - start)
                checksum += float(out[0, 0])
        print(json.dumps({"seconds": sum(calls), "calls": calls, "rss_mb": rss_mb(), "checksum": checksum}),
              flush=True)


def start_workers(build, model_dir, texts_path, ids_path, threads, engines):
    workers = {}
    for e in engines:
        log(f"  starting {e}")
        if e.startswith("keel-"):
            cmd = [str(build / "bin" / "bench_embed"), "--model", str(model_dir), "--dtype", e[5:],
                   "--threads", str(threads), "--texts", str(texts_path)]
        elif e == "ort-f32":
            cmd = ["node", str(SOURCE / "bench" / "bench_embed_ort.js"), str(PEERS), str(model_dir / "model.onnx"),
                   str(ids_path), str(threads)]
        else:
            cmd = [PY, __file__, "--torch-worker", str(model_dir), str(ids_path), str(threads)]
        workers[e] = Worker(e, cmd, PEER_ENV if not e.startswith("keel-") else None)
    return workers


# --- the run ---------------------------------------------------------------------

def flops(config, lengths):
    h, inter, layers = config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"]
    per_token = 2 * (h * 3 * h + h * h + 2 * h * inter)
    return layers * sum(per_token * L + 4 * L * L * h for L in lengths)


def percentile(xs, q):
    xs = sorted(xs)
    k = (len(xs) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def bench_model(args, build, tmp, name, corpus, peaks):
    keel = build / "bin" / "keel"
    model_dir = make_model(keel, tmp, name)
    config = json.loads((model_dir / "config.json").read_text())
    texts_path = tmp / "corpus.jsonl"
    texts_path.write_text("".join(json.dumps(c) + "\n" for c in corpus))
    ids = hf_ids(tmp, model_dir, corpus)
    ids_path = tmp / "corpus_ids.jsonl"
    ids_path.write_text("".join(json.dumps(e) + "\n" for e in ids))

    log(f"{name}: starting workers")
    workers = start_workers(build, model_dir, texts_path, ids_path, args.threads, args.engines)
    result = {"model": name, "label": MODELS[name]["label"], "config": config, "cells": [],
              "memory": {e: w.hello for e, w in workers.items()}}
    keel_lengths = next(w.hello["lengths"] for e, w in workers.items() if e.startswith("keel-"))
    for case in CASES:
        hf_lengths = [len(e["ids"]) for e in ids if e["case"] == case]
        if hf_lengths != keel_lengths[case]:
            raise RuntimeError(f"{name}/{case}: keel's token counts differ from HF tokenizers'")
    try:
        # Warm-up: one small pass each.
        for w in workers.values():
            w.run("medium", 8, 8)
        for case in CASES:
            for batch in BATCHES:
                n = max(batch, PASS_N[name][case] // (2 if args.quick else 1))
                n = -(-n // batch) * batch
                lengths = keel_lengths[case][:n]
                cell = {"case": case, "batch": batch, "n": n, "tokens": sum(lengths),
                        "mean_tokens": sum(lengths) / len(lengths), "flops": flops(config, lengths),
                        "engines": {e: {"passes": [], "calls": []} for e in workers}}
                # Untimed: one batch of the cell's size per engine (ONNX Runtime's arena and
                # PyTorch's allocator grow on the first run of a larger shape), and a peak probe.
                for w in workers.values():
                    w.run(case, batch, batch)
                peaks.append(fma_peak(build, args.threads))
                spent = {e: 0.0 for e in workers}
                for r in range(args.rounds):
                    for e, w in workers.items():
                        if r > 0 and spent[e] > args.cell_seconds:
                            continue
                        time.sleep(0.05)  # let the previous engine's threads settle
                        out = w.run(case, batch, n)
                        spent[e] += out["seconds"]
                        cell["engines"][e]["passes"].append(out["seconds"])
                        cell["engines"][e]["calls"] += out["calls"]
                for e, d in cell["engines"].items():
                    d["best_seconds"] = min(d["passes"])
                    d["per_second"] = n / d["best_seconds"]
                    if batch == 1:
                        d["median_ms"] = 1e3 * statistics.median(d["calls"])
                        d["p90_ms"] = 1e3 * percentile(d["calls"], 0.9)
                log(f"{name} {case} b{batch} n{n}: " + ", ".join(
                    f"{e} {d['per_second']:.1f}/s ({len(d['passes'])})" for e, d in cell["engines"].items()))
                result["cells"].append(cell)
        for e, w in workers.items():
            result["memory"][e]["rss_after_runs_mb"] = w.run("short", 1, 1)["rss_mb"]
    finally:
        for w in workers.values():
            w.close()
    return result


# --- the report ------------------------------------------------------------------

def fmt_ratio(a, b):
    return f"{a / b:.2f}x" if a and b else "n/a"


def report(results, peak, meta):
    peer_env = ", ".join(f"{k}={v}" for k, v in PEER_ENV.items()) or "no (--peer-spinning)"
    out = []
    p = out.append
    p("## Embeddings (keel vs ONNX Runtime vs PyTorch)")
    p("")
    p(f"Command: `{meta['command']}`. Run {meta['date']}; load average before / after: "
      f"{meta['load_before']} / {meta['load_after']}; {meta['seconds']:.0f} s in all. "
      f"Every engine on {meta['threads']} threads (keel --threads {meta['threads']}; ONNX Runtime "
      f"{meta['ort']} intraOpNumThreads={meta['threads']}, interOpNumThreads=1; PyTorch {meta['torch']} "
      f"set_num_threads({meta['threads']})). FMA peak on {meta['threads']} threads (bench_gemm --peak-only, best "
      f"of {meta['peak_probes']} probes: at the start, before every cell and at the end): {peak:.1f} GFLOP/s. "
      f"Peers' idle threads block instead of spinning: {peer_env}.")
    p("")
    engines = meta["engines"]
    p("### Throughput (sentences/s, best round)")
    p("")
    p("| model | input (mean tokens) | batch | keel f32 | keel bf16 | keel int8 | ORT f32 | PyTorch f32 | "
      "f32 / ORT | f32 / PyTorch | bf16 / ORT | int8 / ORT | keel f32 GFLOP/s (% of peak) |")
    p("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for res in results:
        for c in res["cells"]:
            v = {e: c["engines"][e]["per_second"] if e in c["engines"] else None for e in ENGINES}
            rounds = {e: len(c["engines"][e]["passes"]) for e in c["engines"]}
            cells = [f"{v[e]:.1f}" if v[e] else "-" for e in ENGINES]
            gf = ""
            if v["keel-f32"]:
                g = c["flops"] / c["engines"]["keel-f32"]["best_seconds"] / 1e9
                gf = f"{g:.0f} ({100 * g / peak:.0f}%)"
            p(f"| {res['label']} | {c['case']} ({c['mean_tokens']:.0f}) | {c['batch']} | " + " | ".join(cells) +
              f" | {fmt_ratio(v['keel-f32'], v['ort-f32'])} | {fmt_ratio(v['keel-f32'], v['torch-f32'])}"
              f" | {fmt_ratio(v['keel-bf16'], v['ort-f32'])} | {fmt_ratio(v['keel-int8'], v['ort-f32'])} | {gf} |")
    p("")
    p("Rounds per engine and cell: " + "; ".join(
        f"{res['model']}: " + ", ".join(f"{e} {min(len(c['engines'][e]['passes']) for c in res['cells'])}-"
                                        f"{max(len(c['engines'][e]['passes']) for c in res['cells'])}"
                                        for e in engines) for res in results) + ".")
    p("")
    p("### Batch-1 latency (ms, median / p90 over every call)")
    p("")
    p("| model | input | keel f32 | ORT f32 | keel f32 / ORT (median) | keel bf16 | keel int8 | PyTorch f32 |")
    p("|---|---|---|---|---|---|---|---|")
    for res in results:
        for c in res["cells"]:
            if c["batch"] != 1:
                continue
            d = c["engines"]
            f = lambda e: f"{d[e]['median_ms']:.2f} / {d[e]['p90_ms']:.2f}" if e in d else "-"
            ratio = f"{d['keel-f32']['median_ms'] / d['ort-f32']['median_ms']:.2f}x" \
                if "keel-f32" in d and "ort-f32" in d else "n/a"
            p(f"| {res['label']} | {c['case']} ({c['mean_tokens']:.0f}) | {f('keel-f32')} | {f('ort-f32')} | "
              f"{ratio} | {f('keel-bf16')} | {f('keel-int8')} | {f('torch-f32')} |")
    p("")
    p("### Memory (MiB)")
    p("")
    p("RSS before loading, after loading, and after all the runs above; \"weights\" is model.safetensors "
      "(f32) for every engine, and keel's packed linear weights for keel.")
    p("")
    p("| model | engine | weights file | keel packed linears | RSS before load | RSS after load | "
      "after load - before | after runs | after load - before - weights |")
    p("|---|---|---|---|---|---|---|---|---|")
    for res in results:
        for e in engines:
            m = res["memory"].get(e)
            if not m:
                continue
            wfile = next(x["weights_file_bytes"] for k, x in res["memory"].items() if k.startswith("keel-")) / 2**20
            packed = f"{m['packed_weight_bytes'] / 2**20:.1f}" if "packed_weight_bytes" in m else "-"
            delta = m["rss_after_load_mb"] - m["rss_before_mb"]
            p(f"| {res['label']} | {e} | {wfile:.1f} | {packed} | {m['rss_before_mb']:.1f} | "
              f"{m['rss_after_load_mb']:.1f} | {delta:.1f} | {m.get('rss_after_runs_mb', 0):.1f} | "
              f"{m['rss_after_load_mb'] - m['rss_before_mb'] - wfile:+.1f} |")
    p("")
    p("### Targets (issue 4)")
    p("")

    def span(key_fn, cells_filter=lambda c: True):
        xs = [(key_fn(res, c), res["model"], c) for res in results for c in res["cells"] if cells_filter(c)]
        xs = [x for x in xs if x[0] is not None]
        if not xs:
            return "n/a"
        lo = min(xs, key=lambda x: x[0])
        return (f"{lo[0]:.2f}x min ({lo[1]} {lo[2]['case']} b{lo[2]['batch']}), "
                f"{statistics.median(x[0] for x in xs):.2f}x median, {max(x[0] for x in xs):.2f}x max")

    def thr(a, b):
        return lambda res, c: (c["engines"][a]["per_second"] / c["engines"][b]["per_second"]
                               if a in c["engines"] and b in c["engines"] else None)

    def lat(res, c):
        d = c["engines"]
        return d["keel-f32"]["median_ms"] / d["ort-f32"]["median_ms"] if "keel-f32" in d and "ort-f32" in d else None

    p(f"- keel f32 / ORT throughput (target >= 1.3x): {span(thr('keel-f32', 'ort-f32'))}")
    p(f"- keel f32 / PyTorch throughput (target >= 3x): {span(thr('keel-f32', 'torch-f32'))}")
    p(f"- keel batch-1 median latency / ORT's (target <= 0.8x): {span(lat, lambda c: c['batch'] == 1)}")
    p(f"- keel bf16 / ORT f32 (target >= 2x): {span(thr('keel-bf16', 'ort-f32'))}")
    p(f"- keel int8 / ORT f32 (target >= 2x): {span(thr('keel-int8', 'ort-f32'))}")
    return "\n".join(out)


def load_average():
    return open("/proc/loadavg").read().split()[0:3]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--models", default="minilm,bert-base")
    ap.add_argument("--engines", default=",".join(ENGINES))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cell-seconds", type=float, default=4.0,
                    help="an engine stops its rounds of a cell once they add up to this")
    ap.add_argument("--quick", action="store_true", help="half the inputs per pass")
    ap.add_argument("--json", help="also write the raw results here")
    ap.add_argument("--peer-spinning", action="store_true",
                    help="leave ONNX Runtime's and OpenMP's thread spinning at their defaults")
    args = ap.parse_args()
    args.engines = args.engines.split(",")
    if args.peer_spinning:
        PEER_ENV.clear()
    build = Path(args.build).resolve()
    tmp = build / "bench_tmp" / "embed"
    tmp.mkdir(parents=True, exist_ok=True)
    for tool in ["bin/keel", "bin/bench_embed", "bin/bench_gemm"]:
        if not (build / tool).exists():
            sys.exit(f"bench_embed: {build / tool} is missing (ninja -C {build} keel bench_embed bench_gemm)")
    meta = {"command": " ".join(["bench/bench_embed.py"] + sys.argv[1:]),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "threads": args.threads,
            "load_before": " ".join(load_average()), "engines": args.engines,
            "ort": json.loads((PEERS / "onnxruntime-node" / "package.json").read_text())["version"],
            "torch": subprocess.run([PY, "-c", "import torch; print(torch.__version__)"], capture_output=True,
                                    text=True).stdout.strip()}
    t0 = time.time()
    peak = fma_peak(build, args.threads)
    corpus = make_corpus()
    results = []
    peaks = [peak]
    for name in args.models.split(","):
        results.append(bench_model(args, build, tmp, name, corpus, peaks))
    peaks.append(fma_peak(build, args.threads))
    peak = max(peaks)
    meta["peak_probes"] = len(peaks)
    meta["seconds"] = time.time() - t0
    meta["load_after"] = " ".join(load_average())
    if args.json:
        Path(args.json).write_text(json.dumps({"meta": meta, "peak": peak, "results": results}, indent=1))
    print(report(results, peak, meta))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--torch-worker":
        torch_worker(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--export":
        export(sys.argv[2])
    else:
        main()
