"""A PyTorch BertModel + sentence-transformers pooling, written from the
semantics of transformers' BertModel (post-norm encoder, absolute positions,
exact-erf GELU, additive attention mask of dtype-min on padding) and of
sentence-transformers' Pooling and Normalize modules. It does not use the
transformers package or any keel code. Weights are read with the spec-based
numpy safetensors reader (safetensors_ref.py), f16/bf16 widened to f32.

    model = load("model_dir")                          # BertEmbedder
    emb = model(input_ids, attention_mask, token_type_ids)  # [batch, dim]
    hidden = model.trace(input_ids, attention_mask, token_type_ids)  # {name: tensor}

Pooling and normalization come from modules.json / 1_Pooling/config.json, or
are passed in; a directory without modules.json gets mean pooling and no
normalization (what sentence-transformers builds for a plain HF model).
"""

import json
import math
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import safetensors_ref

POOLING_ORDER = ["cls", "max", "mean", "mean_sqrt_len", "weightedmean", "lasttoken"]
POOLING_KEYS = {"cls": "pooling_mode_cls_token", "max": "pooling_mode_max_tokens",
                "mean": "pooling_mode_mean_tokens", "mean_sqrt_len": "pooling_mode_mean_sqrt_len_tokens",
                "weightedmean": "pooling_mode_weightedmean_tokens", "lasttoken": "pooling_mode_lasttoken"}


class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.word_embeddings = nn.Embedding(c["vocab_size"], h)
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], h)
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], h)
        self.LayerNorm = nn.LayerNorm(h, eps=c["layer_norm_eps"])

    def forward(self, input_ids, token_type_ids):
        # Positions 0..seq-1 in every row (BertEmbeddings' position_ids buffer);
        # cumsum keeps the sequence axis dynamic in the ONNX export.
        position_ids = torch.cumsum(torch.ones_like(input_ids), dim=1) - 1
        x = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        x = x + self.position_embeddings(position_ids)
        return self.LayerNorm(x)


class SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.num_heads = c["num_attention_heads"]
        self.head_dim = h // self.num_heads
        self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)

    def split_heads(self, x):  # [b, s, h] -> [b, heads, s, head_dim]
        b, s, _ = x.shape
        return x.view(b, s, self.num_heads, self.head_dim).permute(0, 2, 1, 3)

    def forward(self, x, additive_mask):
        q, k, v = self.split_heads(self.query(x)), self.split_heads(self.key(x)), self.split_heads(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim) + additive_mask
        probs = torch.softmax(scores, dim=-1)
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3)
        return ctx.reshape(x.shape)


class DenseNorm(nn.Module):
    """BertSelfOutput / BertOutput: LayerNorm(dense(x) + residual)."""

    def __init__(self, n_in, h, eps):
        super().__init__()
        self.dense = nn.Linear(n_in, h)
        self.LayerNorm = nn.LayerNorm(h, eps=eps)

    def forward(self, x, residual):
        return self.LayerNorm(self.dense(x) + residual)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = SelfAttention(c)
        self.output = DenseNorm(c["hidden_size"], c["hidden_size"], c["layer_norm_eps"])


class Intermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])

    def forward(self, x):
        return F.gelu(self.dense(x))  # exact: x * Phi(x), via erf


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c)
        self.output = DenseNorm(c["intermediate_size"], c["hidden_size"], c["layer_norm_eps"])

    def forward(self, x, additive_mask, trace=None, i=0):
        ctx = self.attention.self(x, additive_mask)
        a = self.attention.output(ctx, x)
        inter = self.intermediate(a)
        out = self.output(inter, a)
        if trace is not None:
            trace[f"layer.{i}.context"] = ctx
            trace[f"layer.{i}.attention"] = a
            trace[f"layer.{i}.intermediate"] = inter
            trace[f"layer.{i}.output"] = out
        return out


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([Layer(c) for _ in range(c["num_hidden_layers"])])


def pool(tokens, mask, modes):
    """sentence-transformers Pooling.forward over [b, s, h] with mask [b, s]."""
    m = mask.unsqueeze(-1).to(tokens.dtype)  # [b, s, 1]
    out = []
    for mode in POOLING_ORDER:
        if mode not in modes:
            continue
        if mode == "cls":
            out.append(tokens[:, 0])
        elif mode == "max":
            out.append(torch.where(m > 0, tokens, torch.full_like(tokens, -1e9)).max(dim=1).values)
        elif mode in ("mean", "mean_sqrt_len"):
            total = (tokens * m).sum(dim=1)
            count = torch.clamp(m.sum(dim=1), min=1e-9)
            out.append(total / (count if mode == "mean" else torch.sqrt(count)))
        elif mode == "weightedmean":
            w = (torch.cumsum(torch.ones_like(mask), dim=1).unsqueeze(-1).to(tokens.dtype)) * m
            out.append((tokens * w).sum(dim=1) / torch.clamp(w.sum(dim=1), min=1e-9))
        elif mode == "lasttoken":
            last = mask.sum(dim=1) - 1  # right padding: the last real token
            idx = last.view(-1, 1, 1).expand(-1, 1, tokens.shape[-1])
            out.append(torch.gather(tokens, 1, idx).squeeze(1))
    return torch.cat(out, dim=1)


class BertEmbedder(nn.Module):
    def __init__(self, config, pooling=("mean",), normalize=False):
        super().__init__()
        c = {"vocab_size": 30522, "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
             "intermediate_size": 3072, "max_position_embeddings": 512, "type_vocab_size": 2,
             "layer_norm_eps": 1e-12, "hidden_act": "gelu", **config}
        if c["hidden_act"] != "gelu":
            raise ValueError(f"hidden_act {c['hidden_act']} not implemented in the reference")
        self.config = c
        self.embeddings = Embeddings(c)
        self.encoder = Encoder(c)
        self.pooling = tuple(pooling)
        self.normalize = normalize

    def encode(self, input_ids, attention_mask, token_type_ids, trace=None):
        # transformers' get_extended_attention_mask: 0 where attended, dtype-min on padding.
        additive = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
        x = self.embeddings(input_ids, token_type_ids)
        if trace is not None:
            trace["embeddings"] = x
        for i, layer in enumerate(self.encoder.layer):
            x = layer(x, additive, trace, i)
        return x

    def forward(self, input_ids, attention_mask, token_type_ids):
        x = self.encode(input_ids, attention_mask, token_type_ids)
        e = pool(x, attention_mask, self.pooling)
        return F.normalize(e, p=2.0, dim=1) if self.normalize else e

    def trace(self, input_ids, attention_mask, token_type_ids):
        t = {}
        x = self.encode(input_ids, attention_mask, token_type_ids, t)
        t["pooled"] = pool(x, attention_mask, self.pooling)
        return t


def read_pipeline(model_dir):
    """(pooling modes, normalize) from the sentence-transformers files."""
    model_dir = Path(model_dir)
    modules_path = model_dir / "modules.json"
    if not modules_path.exists():
        return ("mean",), False
    modes, normalize = (), False
    for m in json.loads(modules_path.read_text()):
        kind = m["type"].rsplit(".", 1)[-1]
        if kind == "Pooling":
            pc = json.loads((model_dir / m["path"] / "config.json").read_text())
            modes = tuple(mode for mode in POOLING_ORDER if pc.get(POOLING_KEYS[mode], False))
        elif kind == "Normalize":
            normalize = True
    return modes, normalize


def load(model_dir, pooling=None, normalize=None):
    model_dir = Path(model_dir)
    config = json.loads((model_dir / "config.json").read_text())
    modes, norm = read_pipeline(model_dir)
    model = BertEmbedder(config, pooling if pooling is not None else modes,
                         norm if normalize is None else normalize)
    f = safetensors_ref.read(str(model_dir / "model.safetensors"))
    state = {}
    for name, t in f.tensors.items():
        if name.startswith("pooler."):
            continue  # BertPooler: not used by sentence embeddings
        state[name] = torch.from_numpy(np.array(t.array(), dtype=np.float32))
    model.load_state_dict(state, strict=True)
    model.eval()
    return model


def padded(batch_ids, batch_types=None):
    """Right-pads lists of ids into int64 (ids, mask, type_ids) tensors."""
    seq = max(len(x) for x in batch_ids)
    ids = torch.zeros(len(batch_ids), seq, dtype=torch.int64)
    mask = torch.zeros_like(ids)
    types = torch.zeros_like(ids)
    for i, x in enumerate(batch_ids):
        ids[i, :len(x)] = torch.tensor(x, dtype=torch.int64)
        mask[i, :len(x)] = 1
        if batch_types is not None:
            types[i, :len(x)] = torch.tensor(batch_types[i], dtype=torch.int64)
    return ids, mask, types


def embed(model, inputs, batch=16, by_length=True):
    """inputs: list of id lists (or {"ids", "type_ids"}); returns float32 numpy [n, dim]
    in input order. by_length batches inputs of similar length together (less
    padding, same results); otherwise batches follow the input order."""
    order = list(range(len(inputs)))
    if by_length:
        order.sort(key=lambda i: len(inputs[i]["ids"] if isinstance(inputs[i], dict) else inputs[i]))
    out = [None] * len(inputs)
    with torch.no_grad():
        for b in range(0, len(order), batch):
            group = [inputs[i] for i in order[b:b + batch]]
            ids_list = [g["ids"] if isinstance(g, dict) else g for g in group]
            types_list = [g["type_ids"] if isinstance(g, dict) else [0] * len(g) for g in group]
            for i, row in zip(order[b:b + batch], model(*padded(ids_list, types_list)).numpy()):
                out[i] = row
    return np.stack(out)


def export_onnx(model, path, opset=17):
    """torch.onnx.export with dynamic batch and sequence axes."""
    ids, mask, types = padded([[101, 2023, 102], [101, 102]])
    axes = {0: "batch", 1: "sequence"}
    torch.onnx.export(model, (ids, mask, types), str(path), opset_version=opset,
                      input_names=["input_ids", "attention_mask", "token_type_ids"],
                      output_names=["embeddings"],
                      dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                                    "embeddings": {0: "batch"}})
