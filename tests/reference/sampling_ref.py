"""HF-style logits processors in PyTorch, written from the definitions in
transformers' generation/logits_process.py (RepetitionPenaltyLogitsProcessor,
TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper,
MinPLogitsWarper) plus OpenAI's frequency/presence penalty, applied in the
order generate() uses: penalties, temperature, top-k, top-p, min-p.

distribution(logits, history, params) -> the probabilities a sampler draws
from (float64 tensor over the vocabulary; removed tokens are 0).
"""
import torch


def repetition_penalty(scores, history, penalty):
    if penalty == 1.0 or len(history) == 0:
        return scores
    ids = torch.tensor(history, dtype=torch.long)
    score = torch.gather(scores, 0, ids)
    score = torch.where(score < 0, score * penalty, score / penalty)
    return scores.scatter(0, ids, score)


def frequency_presence(scores, history, frequency, presence):
    if (frequency == 0.0 and presence == 0.0) or len(history) == 0:
        return scores
    counts = torch.bincount(torch.tensor(history, dtype=torch.long), minlength=scores.shape[0]).to(scores.dtype)
    return scores - counts * frequency - (counts > 0).to(scores.dtype) * presence


def top_k(scores, k):
    if k <= 0:
        return scores
    k = min(k, scores.shape[-1])
    kth = torch.topk(scores, k)[0][..., -1, None]
    return scores.masked_fill(scores < kth, -float("inf"))


def top_p(scores, p):
    if p >= 1.0:
        return scores
    sorted_logits, sorted_idx = torch.sort(scores, descending=False)
    cum = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
    remove_sorted = cum <= (1 - p)
    remove_sorted[..., -1:] = False  # keep at least one
    remove = remove_sorted.scatter(0, sorted_idx, remove_sorted)
    return scores.masked_fill(remove, -float("inf"))


def min_p(scores, mp):
    if mp <= 0.0:
        return scores
    probs = torch.softmax(scores, dim=-1)
    remove = probs < mp * probs.max()
    remove[probs.argmax()] = False
    return scores.masked_fill(remove, -float("inf"))


def distribution(logits, history, params):
    """logits: list of floats; history: token ids (in range); params: dict with
    the SamplingParams field names. Returns a float64 tensor of probabilities."""
    s = torch.tensor(logits, dtype=torch.float64)
    window = history
    n = params.get("penalty_last_n", 0)
    if n > 0:
        window = history[-n:]
    s = repetition_penalty(s, sorted(set(window)), params.get("repetition_penalty", 1.0))
    s = frequency_presence(s, window, params.get("frequency_penalty", 0.0), params.get("presence_penalty", 0.0))
    t = params.get("temperature", 1.0)
    if t == 0.0:
        out = torch.zeros_like(s)
        out[int(torch.argmax(s))] = 1.0
        return out
    s = s / t
    s = top_k(s, params.get("top_k", 0))
    s = top_p(s, params.get("top_p", 1.0))
    s = min_p(s, params.get("min_p", 0.0))
    return torch.softmax(s, dim=-1)
