#!/usr/bin/env bash
# Runs keel's benchmarks. docs/benchmarks.md keeps the figures with the command.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
echo "## Loading (bench_load)"
"$BUILD/bin/bench_load" "$BUILD/bench_tmp" 1024
if [ -x bench/bench_tokenizer.sh ]; then
  echo
  echo "## Tokenizer (bench_tokenizer.sh)"
  bash bench/bench_tokenizer.sh "$BUILD"
fi
if [ -f bench/bench_embed.py ]; then
  echo
  echo "## Embeddings (bench_embed.py)"
  ${KEEL_PYTHON:-/usr/bin/python3} bench/bench_embed.py --build "$BUILD"
fi
echo
echo "## Sampling (bench_sampling)"
"$BUILD/bin/bench_sampling"
echo "## Python package (bench_python.py)"
bash python/install.sh "$BUILD" >/dev/null
"$BUILD/pyenv/bin/python" bench/bench_python.py --build "$BUILD"
echo
echo "## keel serve vs FastAPI + uvicorn + PyTorch (bench_serve.sh)"
DURATION=${DURATION:-10} bash bench/bench_serve.sh "$BUILD"
