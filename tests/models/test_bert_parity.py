"""`keel embed` against two independent implementations of the same model:

1. tests/reference/bert_ref.py, a PyTorch BertModel + sentence-transformers
   pooling written from their semantics (run in this process), and
2. ONNX Runtime (npm onnxruntime-node) running torch.onnx.export of that module.

Both get their token ids from HF tokenizers (node, tests/reference/hf_encode_ids.js);
keel tokenizes with its own tokenizer, so the comparison is end to end. The
models are `keel make-model` directories with real configs and tokenizers from
../shared/models. make-model's weights (norms 1, biases 0, N(0, 0.02)) give
near-uniform attention and untested bias paths, so every model here is tweaked
first, by this file, in its stored dtype: LayerNorm gammas U(0.5, 1.5), every
bias and beta N(0, 0.05), query and key weights x4 (peaked attention). The test
also checks that different inputs get clearly different embeddings, so the
tolerances below actually discriminate.

Tolerances (issue 4): f32 cosine >= 0.99999 and max |diff| <= 1e-4 per
embedding; bf16 and int8 compute cosine >= 0.999.
"""

import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

SOURCE_DIR = Path(os.environ.get("KEEL_SOURCE_DIR", Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(SOURCE_DIR / "tests" / "reference"))
import bert_ref  # noqa: E402
import safetensors_ref  # noqa: E402

KEEL_BIN = Path(os.environ.get("KEEL_BIN", SOURCE_DIR / "build" / "bin" / "keel"))
MODELS = Path(os.environ.get("KEEL_SHARED_MODELS", SOURCE_DIR.parent / "shared" / "models"))
PEERS = Path(os.environ.get("KEEL_PEERS", SOURCE_DIR / "tools" / "peers" / "node_modules"))
TMP = Path(os.environ.get("KEEL_TEST_TMP", "/tmp/keel_test_tmp")) / "test_bert_parity"
MINILM = MODELS / "all-MiniLM-L6-v2"
REF = SOURCE_DIR / "tests" / "reference"
THREADS = 2

torch.set_num_threads(THREADS)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --- models ------------------------------------------------------------------

def to_bytes(a, dtype):
    a = np.ascontiguousarray(a, dtype=np.float32)
    if dtype == "F32":
        return a.astype("<f4").tobytes()
    if dtype == "F16":
        return a.astype("<f2").tobytes()
    if dtype == "BF16":  # round to nearest even
        u = a.view("<u4").astype(np.uint64)
        return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype("<u2").tobytes()
    raise ValueError(dtype)


def tweak_weights(model_dir, seed):
    """Rewrites model.safetensors with weights that make the comparison meaningful."""
    path = Path(model_dir) / "model.safetensors"
    f = safetensors_ref.read(str(path))
    rng = np.random.default_rng(seed)
    out = {}
    for name, t in f.tensors.items():
        a = np.array(t.array(), dtype=np.float32)
        if name.endswith("LayerNorm.weight"):
            a = rng.uniform(0.5, 1.5, a.shape)
        elif name.endswith(".bias"):
            a = rng.normal(0.0, 0.05, a.shape)
        elif name.endswith("attention.self.query.weight") or name.endswith("attention.self.key.weight"):
            a = a * 4.0
        out[name] = (t.dtype, t.shape, to_bytes(a, t.dtype))
    safetensors_ref.write(str(path), out, f.metadata)


def make_model(out, config=MINILM, layers=None, dtype="f32", seed=1, max_seq_length=512, **overrides):
    """A tweaked synthetic model; `overrides` change config.json fields first."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    src = config
    if overrides:
        c = json.loads((MINILM / "config.json").read_text())
        c.update(overrides)
        src = TMP / (out.name + "_config.json")
        src.write_text(json.dumps(c, indent=2))
    cmd = [str(KEEL_BIN), "make-model", "--config", str(src), "--tokenizer", str(MINILM), "--out", str(out),
           "--seed", str(seed), "--dtype", dtype]
    if layers:
        cmd += ["--layers", str(layers)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"{' '.join(cmd)}\n{r.stdout}\n{r.stderr}"
    tweak_weights(out, seed)
    (out / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": max_seq_length,
                                                               "do_lower_case": False}))
    return out


# --- inputs ------------------------------------------------------------------

def vocab_words():
    words = []
    for line in (MINILM / "vocab.txt").read_text(encoding="utf-8").splitlines():
        if line.isascii() and line.isalpha() and len(line) >= 2:
            words.append(line)
    return words


EXTRAS = ["café", "naïve", "日本語", "Привет", "😀", "3.14", "e-mail", "(x)", "don't", "#1", "über", "ÉCOLE"]


def corpus(n, seed, max_words=640, min_words=0, long_share=None):
    """n texts in shuffled order with word counts log-uniform in [1, max_words]
    (plus the empty string and one-word texts); ~1 token per word, so lengths
    run from 2 tokens ([CLS] [SEP]) to the 512-token truncation."""
    rnd = random.Random(seed)
    words = vocab_words()
    counts = [0, 1, 2, 510, 511, 512, 700]  # edges: empty, tiny, exactly at and past 512
    while len(counts) < n:
        counts.append(int(round(np.exp(rnd.uniform(np.log(max(min_words, 1)), np.log(max_words))))))
    rnd.shuffle(counts)
    texts = []
    for c in counts[:n]:
        ws = [rnd.choice(EXTRAS) if rnd.random() < 0.05 else rnd.choice(words) for _ in range(c)]
        if ws and rnd.random() < 0.3:
            ws[0] = ws[0].capitalize()
        texts.append(" ".join(ws) + ("." if c and rnd.random() < 0.5 else ""))
    return texts


def write_lines(path, texts):
    Path(path).write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in texts), encoding="utf-8")


def hf_ids(model_dir, texts, max_length, name):
    src, dst = TMP / f"{name}_texts.jsonl", TMP / f"{name}_ids.jsonl"
    write_lines(src, texts)
    r = subprocess.run(["node", str(REF / "hf_encode_ids.js"), str(PEERS), str(Path(model_dir) / "tokenizer.json"),
                        str(max_length), str(src), str(dst)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in dst.read_text().splitlines()]


# --- engines -----------------------------------------------------------------

def keel_embed(model_dir, texts, dtype="f32", batch=32, extra=()):
    t0 = time.time()
    cmd = [str(KEEL_BIN), "embed", "--model", str(model_dir), "--dtype", dtype, "--threads", str(THREADS),
           "--batch", str(batch), *extra]
    data = "".join(json.dumps(t, ensure_ascii=False) + "\n" for t in texts)
    r = subprocess.run(cmd, input=data, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"{' '.join(cmd)}\n{r.stderr[-3000:]}"
    lines = r.stdout.splitlines()
    assert len(lines) == len(texts)
    log(f"keel {dtype} {Path(model_dir).name}: {time.time() - t0:.1f} s")
    return np.array([json.loads(line) for line in lines], dtype=np.float32)


def torch_embed(model_dir, ids, by_length=True, **kw):
    t0 = time.time()
    model = bert_ref.load(model_dir, **kw)
    out = bert_ref.embed(model, ids, batch=16, by_length=by_length)
    log(f"torch {Path(model_dir).name}: {time.time() - t0:.1f} s")
    return out, model


def ort_embed(model, ids, name):
    t0 = time.time()
    onnx_path, ids_path, out_path = TMP / f"{name}.onnx", TMP / f"{name}_ort_ids.jsonl", TMP / f"{name}_ort.f32"
    bert_ref.export_onnx(model, onnx_path)
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]["ids"]))  # less padding, same results
    ids_path.write_text("".join(json.dumps(ids[i]) + "\n" for i in order))
    r = subprocess.run(["node", str(REF / "ort_embed.js"), str(PEERS), str(onnx_path), str(ids_path),
                        str(out_path), "16", str(THREADS)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    dim = json.loads(r.stdout)["dim"]
    log(f"onnxruntime {name}: {time.time() - t0:.1f} s (export included)")
    onnx_path.unlink()
    out = np.empty((len(ids), dim), dtype=np.float32)
    out[order] = np.fromfile(out_path, dtype="<f4").reshape(len(ids), dim)
    return out


# --- comparisons -------------------------------------------------------------

def cosines(a, b):
    num = (a.astype(np.float64) * b).sum(1)
    return num / (np.linalg.norm(a.astype(np.float64), axis=1) * np.linalg.norm(b.astype(np.float64), axis=1))


def assert_close(keel, ref, lengths, what, min_cos=0.99999, max_abs=1e-4):
    assert keel.shape == ref.shape, f"{what}: shapes {keel.shape} vs {ref.shape}"
    cos = cosines(keel, ref)
    diff = np.abs(keel - ref).max(axis=1)
    log(f"{what}: min cosine {cos.min():.8f}, max |diff| {diff.max():.2e} over {len(cos)} inputs")
    bad = [i for i in range(len(cos)) if not (cos[i] >= min_cos and (max_abs is None or diff[i] <= max_abs))]
    assert not bad, (f"{what}: {len(bad)} of {len(cos)} embeddings differ; first: input {bad[0]} "
                     f"({lengths[bad[0]]} tokens) cosine {cos[bad[0]]:.8f} max |diff| {diff[bad[0]]:.3e}")


def assert_discriminating(ref, texts, what):
    """Different inputs must be far apart compared with the tolerance, or the
    parity check could pass for a wrong model."""
    unit = ref / np.linalg.norm(ref, axis=1, keepdims=True)
    sim = unit @ unit.T
    distinct = np.array([[texts[i] != texts[j] for j in range(len(texts))] for i in range(len(texts))])
    worst = sim[distinct].max()
    log(f"{what}: largest cosine between embeddings of different inputs {worst:.4f}, "
        f"median {np.median(sim[distinct]):.4f}")
    assert worst < 0.999, f"{what}: two different inputs have embeddings with cosine {worst:.6f}"


@pytest.fixture(scope="module")
def tmp():
    TMP.mkdir(parents=True, exist_ok=True)
    if not KEEL_BIN.exists():
        pytest.fail(f"{KEEL_BIN} not built (set KEEL_BIN)")
    return TMP


def run_parity(tmp, name, model_dir, texts, dtypes, int8_min_cos=0.999):
    ids = hf_ids(model_dir, texts, 512, name)
    lengths = [len(e["ids"]) for e in ids]
    assert min(lengths) == 2 and max(lengths) == 512, (min(lengths), max(lengths))
    ref, model = torch_embed(model_dir, ids)
    assert_discriminating(ref, texts, name)
    ort = ort_embed(model, ids, name)
    assert_close(ort, ref, lengths, f"{name}: onnxruntime vs torch")  # the two references agree
    keel = keel_embed(model_dir, texts, "f32")
    assert_close(keel, ref, lengths, f"{name}: keel f32 vs torch")
    assert_close(keel, ort, lengths, f"{name}: keel f32 vs onnxruntime")
    for dtype in dtypes:
        low = keel_embed(model_dir, texts, dtype)
        min_cos = int8_min_cos if dtype == "int8" else 0.999
        assert_close(low, ref, lengths, f"{name}: keel {dtype} vs torch", min_cos=min_cos, max_abs=None)
        assert_close(low, ort, lengths, f"{name}: keel {dtype} vs onnxruntime", min_cos=min_cos, max_abs=None)


def test_minilm_parity(tmp):
    """all-MiniLM-L6-v2's config (6 layers, hidden 384, 12 heads), 210 inputs."""
    model_dir = make_model(tmp / "minilm", seed=11)
    try:
        run_parity(tmp, "minilm", model_dir, corpus(210, seed=1), ["bf16", "int8"])
    finally:
        shutil.rmtree(model_dir, ignore_errors=True)


def test_bert_base_parity(tmp):
    """A bert-base-sized model (hidden 768, 12 layers, 12 heads, intermediate 3072),
    200 inputs; mostly short so the test stays within make test's budget."""
    model_dir = make_model(tmp / "bert_base", seed=12, hidden_size=768, num_hidden_layers=12,
                           num_attention_heads=12, intermediate_size=3072)
    texts = corpus(200, seed=2, max_words=64)  # plus the 510..700-word edge cases
    try:
        run_parity(tmp, "bert_base", model_dir, texts, ["bf16", "int8"])
    finally:
        shutil.rmtree(model_dir, ignore_errors=True)


# --- pooling, stored dtypes, truncation, trace, errors: a small 2-layer model --

POOL_TEXTS = ["", "a", "Hello world!", "The quick brown fox jumps over the lazy dog.",
              "naïve café 日本語 😀 don't stop", " ".join(["token"] * 300)]  # the last one is truncated


@pytest.fixture(scope="module")
def small(tmp):
    return make_model(tmp / "small", layers=2, seed=21, max_seq_length=128)


def set_pipeline(model_dir, modes, normalize):
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
    if normalize:
        modules.append({"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"})
    (Path(model_dir) / "modules.json").write_text(json.dumps(modules))
    pooling = {"word_embedding_dimension": 384, **{bert_ref.POOLING_KEYS[m]: (m in modes) for m in bert_ref.POOLING_ORDER}}
    (Path(model_dir) / "1_Pooling" / "config.json").write_text(json.dumps(pooling))


@pytest.mark.parametrize("modes", [("cls",), ("max",), ("mean",), ("lasttoken",), ("mean_sqrt_len",),
                                   ("weightedmean",), ("cls", "max", "mean")])
@pytest.mark.parametrize("normalize", [False, True])
def test_pooling_modes(small, modes, normalize):
    set_pipeline(small, modes, normalize)
    texts = POOL_TEXTS + corpus(26, seed=5, max_words=200)
    ids = hf_ids(small, texts, 128, "pool")
    lengths = [len(e["ids"]) for e in ids]
    assert max(lengths) == 128
    # Batches in input order: padding and masks of very different lengths.
    ref, _ = torch_embed(small, ids, by_length=False, pooling=modes, normalize=normalize)
    assert ref.shape[1] == 384 * len(modes)
    if normalize:
        assert np.allclose(np.linalg.norm(ref, axis=1), 1.0, atol=1e-5)
    keel = keel_embed(small, texts, batch=7)
    assert_close(keel, ref, lengths, f"pooling {'+'.join(modes)} normalize={normalize}")


def test_plain_hf_dir_defaults(small, tmp):
    """No modules.json: mean pooling, no normalization, truncation at
    min(max_position_embeddings, tokenizer_config's model_max_length) = 512."""
    plain = tmp / "plain"
    if plain.exists():
        shutil.rmtree(plain)
    plain.mkdir()
    for name in ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "vocab.txt"]:
        shutil.copy(small / name, plain / name)
    texts = POOL_TEXTS + [" ".join(["word"] * 700)]
    ids = hf_ids(plain, texts, 512, "plain")
    assert max(len(e["ids"]) for e in ids) == 512
    ref, _ = torch_embed(plain, ids)
    assert not np.allclose(np.linalg.norm(ref, axis=1), 1.0, atol=1e-3)  # really unnormalized
    keel = keel_embed(plain, texts)
    assert_close(keel, ref, [len(e["ids"]) for e in ids], "plain HF dir")


@pytest.mark.parametrize("dtype", ["f16", "bf16"])
def test_stored_dtypes(tmp, dtype):
    """f16 and bf16 checkpoints: converted to f32 at load, so f32 tolerances hold."""
    model_dir = make_model(tmp / f"small_{dtype}", layers=2, seed=22, dtype=dtype)
    f = safetensors_ref.read(str(model_dir / "model.safetensors"))
    assert {t.dtype for t in f.tensors.values()} == {dtype.upper()}
    texts = POOL_TEXTS + corpus(20, seed=6, max_words=300)
    ids = hf_ids(model_dir, texts, 512, f"stored_{dtype}")
    ref, _ = torch_embed(model_dir, ids)
    keel = keel_embed(model_dir, texts, batch=5)
    assert_close(keel, ref, [len(e["ids"]) for e in ids], f"{dtype} checkpoint")


def test_trace_every_layer(small, tmp):
    """--trace dumps each named hidden state; each matches the reference's."""
    set_pipeline(small, ("mean",), True)
    texts = ["Hello world!", "a", "The quick brown fox jumps over the lazy dog. " * 5]
    ids = hf_ids(small, texts, 128, "trace")
    trace_path = tmp / "trace.safetensors"
    keel_embed(small, texts, extra=["--trace", str(trace_path)])
    got = {name: t.array() for name, t in safetensors_ref.read(str(trace_path)).tensors.items()}
    model = bert_ref.load(small)
    ids_t, mask, types = bert_ref.padded([e["ids"] for e in ids])
    with torch.no_grad():
        want = model.trace(ids_t, mask, types)
    names = ["embeddings"] + [f"layer.{i}.{s}" for i in range(2)
                              for s in ("context", "attention", "intermediate", "output")]
    for name in names:
        ref = want[name].numpy()
        packed = np.concatenate([ref[i, :len(e["ids"])] for i, e in enumerate(ids)])  # drop the padding
        k = got[f"0/{name}"]
        assert k.shape == packed.shape, (name, k.shape, packed.shape)
        diff = np.abs(k - packed).max()
        assert diff < 1e-4, f"trace '{name}': max |diff| {diff:.3e}"
    assert got["0/pooled"].shape == (3, 384)
    assert "0/layer.1.qkv" in got


def run_keel(args, stdin=""):
    return subprocess.run([str(KEEL_BIN), "embed", *map(str, args)], input=stdin, capture_output=True,
                          text=True, timeout=120)


def test_bad_lines_are_named(small):
    set_pipeline(small, ("mean",), True)
    r = run_keel(["--model", small, "--threads", 1, "--batch", 2],
                 '"ok"\nnot json\n42\n"\\ud800 lone surrogate"\n"fine too"\n')
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert len(lines) == 5
    assert isinstance(json.loads(lines[0]), list) and isinstance(json.loads(lines[4]), list)
    assert json.loads(lines[1])["error"].startswith("line 2: not valid JSON")
    assert json.loads(lines[2])["error"].startswith("line 3: expected a JSON string")
    assert "line 4" in json.loads(lines[3])["error"]
    assert "line 2" in r.stderr and "line 3" in r.stderr


def test_bad_model_dirs(small, tmp):
    missing = run_keel(["--model", tmp / "no_such_dir"])
    assert missing.returncode == 1 and "no_such_dir" in missing.stderr

    broken = tmp / "broken"
    if broken.exists():
        shutil.rmtree(broken)
    shutil.copytree(small, broken)
    modules = json.loads((broken / "modules.json").read_text())
    modules.insert(2, {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"})
    (broken / "modules.json").write_text(json.dumps(modules))
    r = run_keel(["--model", broken], '"x"\n')
    assert r.returncode == 1 and "sentence_transformers.models.Dense" in r.stderr and "modules.json" in r.stderr

    set_pipeline(broken, ("mean",), False)
    (broken / "1_Pooling" / "config.json").write_text('{"pooling_mode_mean_tokens": "yes"}')
    r = run_keel(["--model", broken], '"x"\n')
    assert r.returncode == 1 and "pooling_mode_mean_tokens" in r.stderr

    set_pipeline(broken, ("mean",), False)
    c = json.loads((broken / "config.json").read_text())
    c["intermediate_size"] = 1000  # the checkpoint says 1536
    (broken / "config.json").write_text(json.dumps(c))
    r = run_keel(["--model", broken], '"x"\n')
    assert r.returncode == 1 and "encoder.layer.0.intermediate.dense.weight" in r.stderr
    assert "encoder.layer.1.output.dense.weight" in r.stderr  # every mismatch, not just the first

    r = run_keel(["--model", small, "--dtype", "f64"])
    assert r.returncode == 2 and "--dtype" in r.stderr
