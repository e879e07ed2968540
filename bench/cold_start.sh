#!/usr/bin/env bash
# keel serve cold start: process start to the first 200 from /v1/embeddings,
# the way bench_serve.sh's start_keel measures it, repeated.
#   bash bench/cold_start.sh [build] [starts] [dtype]   # defaults: build 4 f32
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
STARTS=${2:-4}
DTYPE=${3:-f32}
KEEL=$BUILD/bin/keel
DEMO=$BUILD/demo/all-MiniLM-L6-v2
if [ ! -f "$DEMO/model.safetensors" ]; then
  "$KEEL" make-model --config ../shared/models/all-MiniLM-L6-v2/config.json \
    --tokenizer ../shared/models/all-MiniLM-L6-v2 --seed 1 --dtype f32 --out "$DEMO" >/dev/null
fi
now_ms() { date +%s%3N; }
for _ in $(seq "$STARTS"); do
  log=$(mktemp)
  t0=$(now_ms)
  "$KEEL" serve --model "$DEMO" --served-name m --port 0 --threads 2 --dtype "$DTYPE" 2>"$log" &
  pid=$!
  until grep -q listening "$log"; do
    kill -0 $pid 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.002
  done
  url=http://127.0.0.1:$(sed -n 's/.*listening on http:\/\/[0-9.]*:\([0-9]*\).*/\1/p' "$log")
  until curl -sf "$url/v1/embeddings" -d '{"input":"cold start"}' >/dev/null 2>&1; do sleep 0.002; done
  echo "keel $DTYPE: cold start $(( $(now_ms) - t0 )) ms"
  kill $pid; wait $pid 2>/dev/null || true
  rm -f "$log"
done
