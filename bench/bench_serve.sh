#!/usr/bin/env bash
# keel serve vs FastAPI + uvicorn (2 workers) + PyTorch (bench/serve_baseline.py)
# serving the same model (the demo MiniLM), same machine, same run. Both get the
# very same OpenAI /v1/embeddings requests with token-id input (short ~8 tokens,
# medium 64 tokens), driven by wrk at concurrency 1, 16 and 256 for DURATION s.
# keel runs at f32 (same precision) and at DTYPES' other precisions.
#   bash bench/bench_serve.sh [build]   # DURATION=10 DTYPES="f32 int8"
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
KEEL=$BUILD/bin/keel
DURATION=${DURATION:-10}
DTYPES=${DTYPES:-"f32 int8"}
PY=${KEEL_PYTHON:-/usr/bin/python3}  # Debian's, with torch, fastapi, uvicorn
DEMO=$BUILD/demo/all-MiniLM-L6-v2
if [ ! -f "$DEMO/model.safetensors" ]; then
  "$KEEL" make-model --config ../shared/models/all-MiniLM-L6-v2/config.json \
    --tokenizer ../shared/models/all-MiniLM-L6-v2 --seed 1 --dtype f32 --out "$DEMO" >/dev/null
fi
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done' EXIT

start_keel() {  # dtype -> sets URL, PID once the server answers
  local log; log=$(mktemp)
  "$KEEL" serve --model "$DEMO" --served-name m --port 0 --threads 2 --dtype "$1" 2>"$log" &
  PID=$!; pids+=($PID)
  until grep -q listening "$log"; do sleep 0.005; done
  URL=http://127.0.0.1:$(sed -n 's/.*listening on http:\/\/[0-9.]*:\([0-9]*\).*/\1/p' "$log")
  until curl -sf "$URL/v1/embeddings" -d '{"input":"cold start"}' >/dev/null 2>&1; do sleep 0.002; done
  rm -f "$log"
}
rss_mb() { local t=0; for p in "$@"; do t=$(( t + $(awk '/VmRSS/ {print $2}' /proc/$p/status) )); done; echo $(( t / 1024 )); }

# The token ids both servers get (from keel's /tokenize, special tokens included).
start_keel f32
ids() { curl -s "$URL/tokenize" -d "{\"inputs\": $(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1")}" |
        python3 -c 'import json,sys; print(json.dumps([t["id"] for t in json.load(sys.stdin)[0]][:'"$2"']))'; }
SHORT=$(ids "how do I reset my password" 64)
MEDIUM=$(ids "$(printf 'the quick brown fox jumps over the lazy dog %.0s' $(seq 8))" 64)
kill $PID; wait $PID 2>/dev/null || true

run_wrk() {  # name url
  for input in short medium; do
    body="{\"model\":\"m\",\"input\":$([ $input = short ] && echo "$SHORT" || echo "$MEDIUM")}"
    for c in 1 16 256; do
      t=$(( c < 2 ? 1 : 2 ))
      # wrk stops with up to c requests in flight, which the Python service
      # still computes after the connections close (keel drops them as 499
      # since it watches for clients leaving); one request answered first means
      # that backlog is gone (both serve in arrival order) and the next cell
      # measures its own load only (without it, keel's medium c=1 p99 once read
      # 125 ms-3.8 s: the short c=256 cell's queue).
      curl -s -m 60 "$2/v1/embeddings" -H 'Content-Type: application/json' -d "$body" >/dev/null || true
      line=$(KEEL_BENCH_BODY=$body wrk -t$t -c$c -d${DURATION}s --timeout 30s -s bench/bench_serve.lua "$2/v1/embeddings" | grep RESULT)
      echo "$1 input=$input concurrency=$c ${line#RESULT }"
    done
  done
}

echo "## FastAPI + uvicorn (2 workers) + PyTorch $($PY -c 'import torch; print(torch.__version__)')"
KEEL_BASELINE_MODEL=$DEMO $PY -m uvicorn --app-dir bench --workers 2 --port 8091 --log-level warning \
  serve_baseline:app &
pids+=($!); UV=$!
until curl -sf localhost:8091/v1/embeddings -H 'Content-Type: application/json' -d "{\"input\":$SHORT}" >/dev/null 2>&1; do sleep 0.2; done
run_wrk python http://127.0.0.1:8091
echo "python RSS (all processes): $(rss_mb $UV $(pgrep -P $UV)) MB"
kill $UV; wait $UV 2>/dev/null || true

for d in $DTYPES; do
  echo "## keel serve --dtype $d"
  # Process start to the first 200 from /v1/embeddings (bench/cold_start.py).
  $PY bench/cold_start.py --keel "$KEEL" --model "$DEMO" --starts 3 --dtype "$d" | tail -1
  start_keel "$d"
  run_wrk "keel-$d" "$URL"
  echo "keel-$d RSS: $(rss_mb $PID) MB"
  kill $PID; wait $PID 2>/dev/null || true
done
