"""`keel make-model` against an independent reading of its output.

The model directories keel writes are read with tests/reference/safetensors_ref.py
(a numpy reader written from the safetensors spec), and the tensors are checked
against name/shape lists derived here, in Python, from the config the way
transformers' BertModel / LlamaForCausalLM / GPT2Model lay out their weights;
not from keel's weight table. With torch installed, the weights also load
strictly into torch module trees named like transformers' modules.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SOURCE_DIR = Path(os.environ.get("KEEL_SOURCE_DIR", Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(SOURCE_DIR / "tests" / "reference"))
import safetensors_ref as ref  # noqa: E402

KEEL_BIN = Path(os.environ.get("KEEL_BIN", SOURCE_DIR / "build" / "bin" / "keel"))
MODELS = Path(os.environ.get("KEEL_SHARED_MODELS", SOURCE_DIR.parent / "shared" / "models"))
TMP = Path(os.environ.get("KEEL_TEST_TMP", "/tmp/keel_test_tmp")) / "test_make_model"

MINILM = MODELS / "all-MiniLM-L6-v2"
GPT2 = MODELS / "gpt2"
TINYLLAMA = MODELS / "TinyLlama-1.1B-Chat-v1.0"

TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt",
                   "vocab.json", "merges.txt", "tokenizer.model", "added_tokens.json"]
MODEL_DIR_FILES = ["modules.json", "sentence_bert_config.json", "config_sentence_transformers.json",
                   "1_Pooling/config.json", "generation_config.json"]
TORCH_DTYPE = {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}
ST_DTYPE = {"f32": "F32", "f16": "F16", "bf16": "BF16"}


def make_model(model_dir, out, *args, env=None):
    if not KEEL_BIN.exists():
        pytest.fail(f"{KEEL_BIN} not built (set KEEL_BIN)")
    cmd = [str(KEEL_BIN), "make-model", "--config", str(model_dir), "--tokenizer", str(model_dir),
           "--out", str(out), *map(str, args)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                       env={**os.environ, **(env or {})})
    assert r.returncode == 0, f"{' '.join(cmd)}\n{r.stdout}\n{r.stderr}"
    return out


@pytest.fixture()
def tmp(request):
    """A folder per test, removed after it: the real-width models are large."""
    d = TMP / request.node.name.replace("/", "_")
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    yield d
    shutil.rmtree(d, ignore_errors=True)


# --- expected tensors, from the HF module definitions --------------------------
# Each list holds (name, shape, init) with init "normal", "ones" or "zeros".

def bert_expected(c):
    h, i = c.get("hidden_size", 768), c.get("intermediate_size", 3072)
    out = [("embeddings.word_embeddings.weight", [c.get("vocab_size", 30522), h], "normal"),
           ("embeddings.position_embeddings.weight", [c.get("max_position_embeddings", 512), h], "normal"),
           ("embeddings.token_type_embeddings.weight", [c.get("type_vocab_size", 2), h], "normal"),
           ("embeddings.LayerNorm.weight", [h], "ones"), ("embeddings.LayerNorm.bias", [h], "zeros")]

    def linear(prefix, n_in, n_out):  # nn.Linear: weight [out, in], bias [out]
        return [(f"{prefix}.weight", [n_out, n_in], "normal"), (f"{prefix}.bias", [n_out], "zeros")]

    def layer_norm(prefix):
        return [(f"{prefix}.weight", [h], "ones"), (f"{prefix}.bias", [h], "zeros")]

    for n in range(c.get("num_hidden_layers", 12)):
        p = f"encoder.layer.{n}."
        for proj in ("query", "key", "value"):
            out += linear(p + "attention.self." + proj, h, h)
        out += linear(p + "attention.output.dense", h, h) + layer_norm(p + "attention.output.LayerNorm")
        out += linear(p + "intermediate.dense", h, i) + linear(p + "output.dense", i, h)
        out += layer_norm(p + "output.LayerNorm")
    return out + linear("pooler.dense", h, h)


def llama_expected(c):
    t = c["model_type"]
    h = c.get("hidden_size", 4096)
    heads = c.get("num_attention_heads", 32)
    kv = c.get("num_key_value_heads") or heads
    hd = c.get("head_dim") or h // heads
    inter = c.get("intermediate_size", 11008)
    qkv_bias = t == "qwen2" or (t in ("llama", "qwen3") and c.get("attention_bias", False))
    o_bias = t in ("llama", "qwen3") and c.get("attention_bias", False)
    mlp_bias = t == "llama" and c.get("mlp_bias", False)
    out = [("model.embed_tokens.weight", [c.get("vocab_size", 32000), h], "normal")]

    def linear(name, n_in, n_out, bias):
        return [(name + ".weight", [n_out, n_in], "normal")] + ([(name + ".bias", [n_out], "zeros")] if bias else [])

    for n in range(c.get("num_hidden_layers", 32)):
        p = f"model.layers.{n}."
        out += [(p + "input_layernorm.weight", [h], "ones"), (p + "post_attention_layernorm.weight", [h], "ones")]
        out += linear(p + "self_attn.q_proj", h, heads * hd, qkv_bias)
        out += linear(p + "self_attn.k_proj", h, kv * hd, qkv_bias)
        out += linear(p + "self_attn.v_proj", h, kv * hd, qkv_bias)
        out += linear(p + "self_attn.o_proj", heads * hd, h, o_bias)
        if t == "qwen3":
            out += [(p + "self_attn.q_norm.weight", [hd], "ones"), (p + "self_attn.k_norm.weight", [hd], "ones")]
        for proj, n_in, n_out in (("gate_proj", h, inter), ("up_proj", h, inter), ("down_proj", inter, h)):
            out += linear(p + "mlp." + proj, n_in, n_out, mlp_bias)
    out.append(("model.norm.weight", [h], "ones"))
    if not c.get("tie_word_embeddings", False):
        out.append(("lm_head.weight", [c.get("vocab_size", 32000), h], "normal"))
    return out


def gpt2_expected(c):
    h = c.get("n_embd", 768)
    inner = c.get("n_inner") or 4 * h
    out = [("wte.weight", [c.get("vocab_size", 50257), h], "normal"),
           ("wpe.weight", [c.get("n_positions", 1024), h], "normal")]

    def conv1d(prefix, n_in, n_out):  # transformers' Conv1D stores weight as [in, out]
        return [(f"{prefix}.weight", [n_in, n_out], "normal"), (f"{prefix}.bias", [n_out], "zeros")]

    def ln(prefix):
        return [(f"{prefix}.weight", [h], "ones"), (f"{prefix}.bias", [h], "zeros")]

    for n in range(c.get("n_layer", 12)):
        p = f"h.{n}."
        out += ln(p + "ln_1") + conv1d(p + "attn.c_attn", h, 3 * h) + conv1d(p + "attn.c_proj", h, h)
        out += ln(p + "ln_2") + conv1d(p + "mlp.c_fc", h, inner) + conv1d(p + "mlp.c_proj", inner, h)
    return out + ln("ln_f")


def expected_tensors(config):
    t = config["model_type"]
    if t == "bert":
        return bert_expected(config)
    if t in ("llama", "mistral", "qwen2", "qwen3"):
        return llama_expected(config)
    if t == "gpt2":
        return gpt2_expected(config)
    raise AssertionError(f"no expectation for {t}")


def layer_of(name):
    """The layer index a tensor belongs to; -1 before the layers, big after."""
    parts = name.split(".")
    for i, part in enumerate(parts[:-1]):
        if part in ("layer", "layers", "h") and parts[i + 1].isdigit():
            return int(parts[i + 1])
    head = any(name.startswith(p) for p in ("pooler.", "model.norm.", "lm_head.", "ln_f."))
    return 1 << 30 if head else -1


# --- the checks ------------------------------------------------------------------

def check_model_dir(src, out, dtype, seed_layers=None):
    """Everything make-model promises about `out`, made from `src`."""
    src_config = json.loads((src / "config.json").read_text())
    config_text = (out / "config.json").read_text()
    config = json.loads(config_text)

    # config.json: the input with only the layer count and torch_dtype changed, in key order.
    want = dict(src_config)
    layer_key = "n_layer" if src_config["model_type"] == "gpt2" else "num_hidden_layers"
    if seed_layers is not None:
        want[layer_key] = seed_layers
    want["torch_dtype"] = TORCH_DTYPE[dtype]
    assert config == want
    assert list(config) == list(want), "key order changed"

    # Tokenizer and sentence-transformers files: byte-identical copies of what exists.
    for name in TOKENIZER_FILES + MODEL_DIR_FILES:
        if (src / name).exists():
            assert (out / name).read_bytes() == (src / name).read_bytes(), name
        else:
            assert not (out / name).exists(), name
    assert not (out / "PROVENANCE.md").exists()

    # model.safetensors: exactly the HF tensors, each with its init.
    f = ref.read(out / "model.safetensors")
    assert f.metadata == {"format": "pt"}
    expected = expected_tensors(config)
    got = {name: (t.dtype, t.shape) for name, t in f.tensors.items()}
    assert got == {name: (ST_DTYPE[dtype], shape) for name, shape, _ in expected}
    # Data order: embeddings, then layer by layer, then the head.
    order = [name for name, _ in sorted(f.tensors.items(), key=lambda kv: kv[1].begin)]
    layers = [layer_of(n) for n in order]
    assert layers == sorted(layers), "tensors not stored layer by layer"

    for name, shape, init in expected:
        a = f.tensors[name].array().reshape(-1)
        if init == "ones":
            assert np.all(a == 1.0), name
        elif init == "zeros":
            assert np.all(a == 0.0), name
        else:
            # Statistics on the first 2M values keep big embeddings cheap to check.
            x = a[:2_000_000].astype(np.float64)
            assert np.all(np.isfinite(x)), name
            assert len(np.unique(x[:100_000])) > min(x.size // 10, 100), name  # random, not constant
            if x.size >= 1_000_000:
                assert abs(float(x.mean())) < 2e-4, name
                assert abs(float(x.std()) - 0.02) < 2e-4, name
                assert 4.5 * 0.02 < float(np.abs(x).max()) < 6.7 * 0.02, name
    return f, config


def test_minilm_full(tmp):
    out = make_model(MINILM, tmp / "minilm", "--seed", 1)
    check_model_dir(MINILM, out, "f32")


def test_gpt2_layers_f16(tmp):
    out = make_model(GPT2, tmp / "gpt2", "--seed", 2, "--layers", 3, "--dtype", "f16")
    check_model_dir(GPT2, out, "f16", seed_layers=3)


def test_tinyllama_layers_bf16(tmp):
    out = make_model(TINYLLAMA, tmp / "tinyllama", "--seed", 3, "--layers", 2, "--dtype", "bf16")
    f, config = check_model_dir(TINYLLAMA, out, "bf16", seed_layers=2)
    # GQA shapes: 4 kv heads of 64.
    assert f.tensors["model.layers.1.self_attn.k_proj.weight"].shape == [256, 2048]
    assert f.tensors["lm_head.weight"].shape == [32000, 2048]


def test_small_qwen3(tmp):
    """A Qwen3-shaped config (none is in shared/): q_norm/k_norm, head_dim not hidden/heads."""
    src = tmp / "qwen3_src"
    src.mkdir(parents=True, exist_ok=True)
    (src / "config.json").write_text(json.dumps({
        "architectures": ["Qwen3ForCausalLM"], "attention_bias": False, "head_dim": 32,
        "hidden_size": 64, "intermediate_size": 96, "model_type": "qwen3", "num_attention_heads": 4,
        "num_hidden_layers": 2, "num_key_value_heads": 2, "rms_norm_eps": 1e-06,
        "tie_word_embeddings": True, "torch_dtype": "bfloat16", "vocab_size": 512}, indent=2))
    out = make_model(src, tmp / "qwen3", "--seed", 4)
    f, _ = check_model_dir(src, out, "f32")
    assert f.tensors["model.layers.0.self_attn.q_proj.weight"].shape == [128, 64]
    assert "lm_head.weight" not in f.tensors


def test_same_seed_same_bytes_any_thread_count(tmp):
    a = make_model(MINILM, tmp / "det_a", "--seed", 9, "--layers", 1, "--dtype", "bf16", env={"KEEL_THREADS": "1"})
    b = make_model(MINILM, tmp / "det_b", "--seed", 9, "--layers", 1, "--dtype", "bf16", env={"KEEL_THREADS": "3"})
    c = make_model(MINILM, tmp / "det_c", "--seed", 10, "--layers", 1, "--dtype", "bf16")
    wa = (a / "model.safetensors").read_bytes()
    assert wa == (b / "model.safetensors").read_bytes()
    assert wa != (c / "model.safetensors").read_bytes()
    assert (a / "config.json").read_bytes() == (b / "config.json").read_bytes()


def test_dtypes_are_roundings_of_f32(tmp):
    f32 = ref.read(make_model(MINILM, tmp / "dt_f32", "--seed", 5, "--layers", 1) / "model.safetensors")
    f16 = ref.read(make_model(MINILM, tmp / "dt_f16", "--seed", 5, "--layers", 1, "--dtype", "f16")
                   / "model.safetensors")
    name = "encoder.layer.0.intermediate.dense.weight"
    x = f32.tensors[name].array()
    assert np.array_equal(f16.tensors[name].array(), x.astype(np.float16))  # numpy rounds to nearest even


def test_usage_errors(tmp):
    def run(*args):
        return subprocess.run([str(KEEL_BIN), "make-model", *map(str, args)], capture_output=True, text=True)

    assert run("--help").returncode == 0
    assert run().returncode == 2
    assert run("--config", MINILM, "--out", tmp / "e", "--dtype", "q4").returncode == 2
    assert run("--config", MINILM, "--out", tmp / "e", "--layers", "x").returncode == 2
    r = run("--config", MODELS / "t5-small", "--out", tmp / "e")
    assert r.returncode == 1 and '"t5"' in r.stderr


# --- optional: the weights load strictly into torch modules named like HF's -----

try:
    import torch
except ImportError:
    torch = None


def torch_state(f):
    state = {}
    for name, t in f.tensors.items():
        state[name] = torch.from_numpy(t.array().astype(np.float32).copy())
    return state


@pytest.mark.skipif(torch is None, reason="torch not installed")
def test_torch_bert_loads_and_runs(tmp):
    nn = torch.nn
    out = make_model(MINILM, tmp / "torch_bert", "--seed", 6, "--layers", 2)
    f = ref.read(out / "model.safetensors")
    c = json.loads((out / "config.json").read_text())
    h, heads, eps = c["hidden_size"], c["num_attention_heads"], c["layer_norm_eps"]

    class Embeddings(nn.Module):
        def __init__(self):
            super().__init__()
            self.word_embeddings = nn.Embedding(c["vocab_size"], h)
            self.position_embeddings = nn.Embedding(c["max_position_embeddings"], h)
            self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], h)
            self.LayerNorm = nn.LayerNorm(h, eps=eps)

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.attention = nn.Module()
            self.attention.self = nn.Module()
            for p in ("query", "key", "value"):
                setattr(self.attention.self, p, nn.Linear(h, h))
            self.attention.output = nn.Module()
            self.attention.output.dense = nn.Linear(h, h)
            self.attention.output.LayerNorm = nn.LayerNorm(h, eps=eps)
            self.intermediate = nn.Module()
            self.intermediate.dense = nn.Linear(h, c["intermediate_size"])
            self.output = nn.Module()
            self.output.dense = nn.Linear(c["intermediate_size"], h)
            self.output.LayerNorm = nn.LayerNorm(h, eps=eps)

        def forward(self, x):
            a = self.attention.self
            b, t, _ = x.shape
            split = lambda y: y.view(b, t, heads, h // heads).transpose(1, 2)  # noqa: E731
            q, k, v = split(a.query(x)), split(a.key(x)), split(a.value(x))
            att = torch.softmax(q @ k.transpose(-1, -2) / (h // heads) ** 0.5, dim=-1)
            ctx = (att @ v).transpose(1, 2).reshape(b, t, h)
            x = self.attention.output.LayerNorm(x + self.attention.output.dense(ctx))
            y = self.output.dense(torch.nn.functional.gelu(self.intermediate.dense(x)))
            return self.output.LayerNorm(x + y)

    class Bert(nn.Module):
        def __init__(self):
            super().__init__()
            self.embeddings = Embeddings()
            self.encoder = nn.Module()
            self.encoder.layer = nn.ModuleList([Layer() for _ in range(c["num_hidden_layers"])])
            self.pooler = nn.Module()
            self.pooler.dense = nn.Linear(h, h)

        def forward(self, ids):
            e = self.embeddings
            pos = torch.arange(ids.shape[1])[None]
            x = e.LayerNorm(e.word_embeddings(ids) + e.position_embeddings(pos) +
                            e.token_type_embeddings(torch.zeros_like(ids)))
            for layer in self.encoder.layer:
                x = layer(x)
            return x

    model = Bert()
    model.load_state_dict(torch_state(f), strict=True)
    with torch.no_grad():
        y = model(torch.tensor([[101, 7592, 2088, 102]]))
    assert y.shape == (1, 4, h)
    assert torch.isfinite(y).all()
    # LayerNorm with weight 1, bias 0: each token's features have mean 0, variance 1.
    assert torch.allclose(y.mean(-1), torch.zeros(1, 4), atol=1e-5)


@pytest.mark.skipif(torch is None, reason="torch not installed")
def test_torch_llama_and_gpt2_names_load_strictly(tmp):
    nn = torch.nn
    # skip_init: the same modules without their (slow, here useless) random init.
    linear = lambda n_in, n_out: nn.utils.skip_init(nn.Linear, n_in, n_out, bias=False)  # noqa: E731
    embedding = lambda n, dim: nn.utils.skip_init(nn.Embedding, n, dim)  # noqa: E731
    # Llama: module tree as LlamaForCausalLM names it.
    out = make_model(TINYLLAMA, tmp / "torch_llama", "--seed", 7, "--layers", 1, "--dtype", "f16")
    c = json.loads((out / "config.json").read_text())
    h, hd = c["hidden_size"], c["hidden_size"] // c["num_attention_heads"]
    root = nn.Module()
    root.model = nn.Module()
    root.model.embed_tokens = embedding(c["vocab_size"], h)
    root.model.layers = nn.ModuleList()
    for _ in range(c["num_hidden_layers"]):
        layer = nn.Module()
        layer.self_attn = nn.Module()
        layer.self_attn.q_proj = linear(h, c["num_attention_heads"] * hd)
        layer.self_attn.k_proj = linear(h, c["num_key_value_heads"] * hd)
        layer.self_attn.v_proj = linear(h, c["num_key_value_heads"] * hd)
        layer.self_attn.o_proj = linear(c["num_attention_heads"] * hd, h)
        layer.mlp = nn.Module()
        layer.mlp.gate_proj = linear(h, c["intermediate_size"])
        layer.mlp.up_proj = linear(h, c["intermediate_size"])
        layer.mlp.down_proj = linear(c["intermediate_size"], h)
        layer.input_layernorm = nn.Module()
        layer.input_layernorm.weight = nn.Parameter(torch.empty(h))
        layer.post_attention_layernorm = nn.Module()
        layer.post_attention_layernorm.weight = nn.Parameter(torch.empty(h))
        root.model.layers.append(layer)
    root.model.norm = nn.Module()
    root.model.norm.weight = nn.Parameter(torch.empty(h))
    root.lm_head = linear(h, c["vocab_size"])
    root.load_state_dict(torch_state(ref.read(out / "model.safetensors")), strict=True)

    # GPT-2: Conv1D keeps weight as [in, out], so plain parameters stand in for it.
    out = make_model(GPT2, tmp / "torch_gpt2", "--seed", 8, "--layers", 1)
    c = json.loads((out / "config.json").read_text())
    h = c["n_embd"]

    def conv1d(n_in, n_out):
        m = nn.Module()
        m.weight = nn.Parameter(torch.empty(n_in, n_out))
        m.bias = nn.Parameter(torch.empty(n_out))
        return m

    g = nn.Module()
    g.wte = embedding(c["vocab_size"], h)
    g.wpe = embedding(c["n_positions"], h)
    g.h = nn.ModuleList()
    for _ in range(c["n_layer"]):
        block = nn.Module()
        block.ln_1, block.ln_2 = nn.LayerNorm(h), nn.LayerNorm(h)
        block.attn = nn.Module()
        block.attn.c_attn, block.attn.c_proj = conv1d(h, 3 * h), conv1d(h, h)
        block.mlp = nn.Module()
        block.mlp.c_fc, block.mlp.c_proj = conv1d(h, 4 * h), conv1d(4 * h, h)
        g.h.append(block)
    g.ln_f = nn.LayerNorm(h)
    g.load_state_dict(torch_state(ref.read(out / "model.safetensors")), strict=True)
