#!/usr/bin/env bash
# keel serve cold start: process start to the first 200 from /v1/embeddings
# (bench/cold_start.py: stderr read as a pipe up to "ready", then the request),
# on the demo MiniLM.
#   bash bench/cold_start.sh [build] [starts] [dtype]   # defaults: build 5 f32
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
STARTS=${2:-5}
DTYPE=${3:-f32}
KEEL=$BUILD/bin/keel
DEMO=$BUILD/demo/all-MiniLM-L6-v2
if [ ! -f "$DEMO/model.safetensors" ]; then
  "$KEEL" make-model --config ../shared/models/all-MiniLM-L6-v2/config.json \
    --tokenizer ../shared/models/all-MiniLM-L6-v2 --seed 1 --dtype f32 --out "$DEMO" >/dev/null
fi
exec "${KEEL_PYTHON:-/usr/bin/python3}" bench/cold_start.py --keel "$KEEL" --model "$DEMO" --starts "$STARTS" --dtype "$DTYPE"
