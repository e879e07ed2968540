#!/usr/bin/env bash
# The main job. Makes the demo model on first run (the real all-MiniLM-L6-v2 config
# and tokenizer from ../shared/models with seeded random weights), then runs it.
# Then it starts `keel serve` on it (PORT, default 8080; KEEL_SERVE_ARGS adds flags).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
KEEL=$BUILD/bin/keel
SHARED=$(pwd)/../shared/models
DEMO=$BUILD/demo/all-MiniLM-L6-v2
if [ ! -f "$DEMO/model.safetensors" ]; then
  echo "run: making the demo model in $DEMO"
  "$KEEL" make-model --config "$SHARED/all-MiniLM-L6-v2/config.json" \
    --tokenizer "$SHARED/all-MiniLM-L6-v2" --seed 1 --dtype f32 --out "$DEMO"
fi
PORT=${PORT:-8080}
cat <<EOT
run: starting keel serve on http://127.0.0.1:$PORT (model "all-MiniLM-L6-v2"); Ctrl-C stops it.
Try, from another shell:
  curl -s localhost:$PORT/v1/embeddings -H 'Content-Type: application/json' \\
       -d '{"model": "all-MiniLM-L6-v2", "input": ["hello world", "keel serves embeddings"]}'
  curl -s localhost:$PORT/embed -d '{"inputs": "hello world"}'
  curl -s localhost:$PORT/tokenize -d '{"inputs": "hello world"}'
  curl -s localhost:$PORT/v1/models;  curl -s localhost:$PORT/metrics
EOT
exec "$KEEL" serve --model "$DEMO" --port "$PORT" ${KEEL_SERVE_ARGS:-}
