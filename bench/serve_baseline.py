"""The baseline keel serve replaces: FastAPI + uvicorn + PyTorch serving the same
model (tests/reference/bert_ref.py, a PyTorch BertModel + sentence-transformers
pooling) behind OpenAI's /v1/embeddings, token-id input only (Python has no HF
tokenizers package here). Run with two uvicorn workers, one torch thread each:

  KEEL_BASELINE_MODEL=build/demo/all-MiniLM-L6-v2 python3 -m uvicorn --app-dir bench \
      --workers 2 --port 8091 serve_baseline:app
"""
import os
import sys
from pathlib import Path

import torch
from fastapi import FastAPI, HTTPException, Request

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "reference"))
import bert_ref  # noqa: E402

torch.set_num_threads(int(os.environ.get("KEEL_BASELINE_THREADS", "1")))
MODEL = bert_ref.load(os.environ["KEEL_BASELINE_MODEL"]).eval()
app = FastAPI()


@app.post("/v1/embeddings")
async def embeddings(request: Request):
    body = await request.json()
    ids = body.get("input")
    if not isinstance(ids, list) or not ids:
        raise HTTPException(400, "input must be token ids")
    batch = ids if isinstance(ids[0], list) else [ids]
    input_ids, mask, types = bert_ref.padded(batch)
    with torch.inference_mode():
        out = MODEL(input_ids, mask, types)
    data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(out.tolist())]
    n = sum(len(s) for s in batch)
    return {"object": "list", "data": data, "model": body.get("model", ""),
            "usage": {"prompt_tokens": n, "total_tokens": n}}
