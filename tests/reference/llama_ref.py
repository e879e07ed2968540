"""PyTorch references of Hugging Face's LlamaForCausalLM (and its Mistral,
Qwen2 and Qwen3 variants) and GPT2LMHeadModel forward passes, written from
transformers' semantics (modeling_llama.py, modeling_qwen2.py,
modeling_qwen3.py, modeling_gpt2.py), not from keel's code. Weights come from
the model directory's safetensors through tests/reference/safetensors_ref.py.
Computation is float32 on the CPU, the whole sequence at once (no KV cache).

    model = load("dir")            # config.json + model.safetensors
    logits = model.logits(ids)     # [len(ids), vocab] float32 tensor
    ids = model.greedy(prompt, n)  # n greedy continuation ids
"""

import json
import math
from pathlib import Path

import numpy as np
import torch

import safetensors_ref


def _read_tensors(model_dir):
    f = safetensors_ref.read(str(Path(model_dir) / "model.safetensors"))
    out = {}
    for name, t in f.tensors.items():
        a = t.array()
        if t.dtype == "BF16":
            a = (a.astype(np.uint32) << 16).view(np.float32)
        out[name] = torch.from_numpy(np.array(a, dtype=np.float32))
    return out


def _rms_norm(x, w, eps):
    var = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(var + eps))


def _rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def _inv_freq(c, head_dim):
    base = c.get("rope_theta", 10000.0)
    inv = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
    rs = c.get("rope_scaling") or c.get("rope_parameters")
    kind = (rs or {}).get("rope_type", (rs or {}).get("type"))
    if kind in (None, "default"):
        return inv
    if kind == "linear":
        return inv / rs["factor"]
    if kind == "llama3":  # transformers' _compute_llama3_parameters
        factor, low, high = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
        old = rs["original_max_position_embeddings"]
        low_wl, high_wl = old / low, old / high
        wavelen = 2 * math.pi / inv
        out = torch.where(wavelen > low_wl, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * out / factor + smooth * out
        medium = ~(wavelen < high_wl) * ~(wavelen > low_wl)
        return torch.where(medium, smoothed, out)
    raise ValueError(f"rope type {kind} not in the reference")


def _causal_attention(q, k, v, scale):
    # q: [heads, T, hd], k/v: [heads, T, hd]
    t = q.shape[1]
    s = torch.matmul(q, k.transpose(1, 2)) * scale
    mask = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)
    s = s.masked_fill(mask, float("-inf"))
    return torch.matmul(torch.softmax(s, dim=-1), v)


class Llama:
    def __init__(self, model_dir):
        self.c = c = json.loads((Path(model_dir) / "config.json").read_text())
        self.w = _read_tensors(model_dir)
        self.mt = c.get("model_type", "llama")
        self.h = c["hidden_size"]
        self.nh = c["num_attention_heads"]
        self.nkv = c.get("num_key_value_heads") or self.nh
        self.hd = c.get("head_dim") or self.h // self.nh
        self.eps = c.get("rms_norm_eps", 1e-6)
        self.layers = c["num_hidden_layers"]
        self.inv_freq = _inv_freq(c, self.hd)

    def logits(self, ids):
        w, nh, nkv, hd = self.w, self.nh, self.nkv, self.hd
        t = len(ids)
        x = w["model.embed_tokens.weight"][torch.tensor(ids, dtype=torch.long)]
        pos = torch.arange(t, dtype=torch.float32)
        freqs = torch.outer(pos, self.inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos(), emb.sin()  # [T, hd]

        def lin(name, y):
            out = y @ w[name + ".weight"].T
            if name + ".bias" in w:
                out = out + w[name + ".bias"]
            return out

        for i in range(self.layers):
            p = f"model.layers.{i}."
            hn = _rms_norm(x, w[p + "input_layernorm.weight"], self.eps)
            q = lin(p + "self_attn.q_proj", hn).view(t, nh, hd)
            k = lin(p + "self_attn.k_proj", hn).view(t, nkv, hd)
            v = lin(p + "self_attn.v_proj", hn).view(t, nkv, hd)
            if self.mt == "qwen3":
                q = _rms_norm(q, w[p + "self_attn.q_norm.weight"], self.eps)
                k = _rms_norm(k, w[p + "self_attn.k_norm.weight"], self.eps)
            q, k, v = q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1)  # [heads, T, hd]
            q = q * cos + _rotate_half(q) * sin
            k = k * cos + _rotate_half(k) * sin
            rep = nh // nkv
            k = k.repeat_interleave(rep, dim=0)
            v = v.repeat_interleave(rep, dim=0)
            a = _causal_attention(q, k, v, 1.0 / math.sqrt(hd)).transpose(0, 1).reshape(t, nh * hd)
            x = x + lin(p + "self_attn.o_proj", a)
            hn = _rms_norm(x, w[p + "post_attention_layernorm.weight"], self.eps)
            g = lin(p + "mlp.gate_proj", hn)
            u = lin(p + "mlp.up_proj", hn)
            x = x + lin(p + "mlp.down_proj", torch.nn.functional.silu(g) * u)
        x = _rms_norm(x, w["model.norm.weight"], self.eps)
        head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
        return x @ head.T

    def greedy(self, prompt, n):
        ids = list(prompt)
        for _ in range(n):
            ids.append(int(torch.argmax(self.logits(ids)[-1])))
        return ids[len(prompt):]


def _gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def _layer_norm(x, g, b, eps):
    return torch.nn.functional.layer_norm(x, (x.shape[-1],), g, b, eps)


class Gpt2:
    def __init__(self, model_dir):
        self.c = c = json.loads((Path(model_dir) / "config.json").read_text())
        w = _read_tensors(model_dir)
        self.w = {k[len("transformer."):] if k.startswith("transformer.") else k: v for k, v in w.items()}
        self.h = c.get("n_embd", 768)
        self.nh = c.get("n_head", 12)
        self.layers = c.get("n_layer", 12)
        self.eps = c.get("layer_norm_epsilon", 1e-5)

    def logits(self, ids):
        w, h, nh = self.w, self.h, self.nh
        hd = h // nh
        t = len(ids)
        x = w["wte.weight"][torch.tensor(ids, dtype=torch.long)] + w["wpe.weight"][:t]

        def conv1d(name, y):  # Conv1D: y @ W[in, out] + b
            return y @ w[name + ".weight"] + w[name + ".bias"]

        for i in range(self.layers):
            p = f"h.{i}."
            hn = _layer_norm(x, w[p + "ln_1.weight"], w[p + "ln_1.bias"], self.eps)
            q, k, v = conv1d(p + "attn.c_attn", hn).split(h, dim=-1)
            q, k, v = (z.view(t, nh, hd).transpose(0, 1) for z in (q, k, v))
            a = _causal_attention(q, k, v, 1.0 / math.sqrt(hd)).transpose(0, 1).reshape(t, h)
            x = x + conv1d(p + "attn.c_proj", a)
            hn = _layer_norm(x, w[p + "ln_2.weight"], w[p + "ln_2.bias"], self.eps)
            x = x + conv1d(p + "mlp.c_proj", _gelu_new(conv1d(p + "mlp.c_fc", hn)))
        x = _layer_norm(x, w["ln_f.weight"], w["ln_f.bias"], self.eps)
        return x @ w["wte.weight"].T

    greedy = Llama.greedy


def load(model_dir):
    c = json.loads((Path(model_dir) / "config.json").read_text())
    return Gpt2(model_dir) if c.get("model_type") == "gpt2" else Llama(model_dir)
