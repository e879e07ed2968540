#!/usr/bin/env bash
# Runs keel's benchmarks; docs/benchmarks.md holds the figures with this command.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
echo "## Loading (bench_load)"
"$BUILD/bin/bench_load" "$BUILD/bench_tmp" 1024
