#!/usr/bin/env bash
# The main job. Makes the demo model on first run (the real all-MiniLM-L6-v2 config
# and tokenizer from ../shared/models with seeded random weights), then runs it.
# Until `keel serve` lands this shows the model with `keel inspect`.
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
exec "$KEEL" inspect "$DEMO"
