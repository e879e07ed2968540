#!/usr/bin/env bash
# Runs every libFuzzer target in the sanitizer build for SECONDS each (two at a
# time on two cores), from seeds made by keel's writers plus fuzz/corpus/<name>.
# Prints "fuzz-result <name> ok" or "fuzz-result <name> FAILED" per target and
# libFuzzer's final stats line (executions, coverage).
#   scripts/fuzz.sh <release build> <sanitizer build> <seconds>
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
SAN=${2:-build-san}
SECONDS_EACH=${3:-600}
JOBS=${JOBS:-$(nproc)}
work=$SAN/fuzz
seeds=$work/seeds
mkdir -p "$work"
rm -rf "$seeds"
"$BUILD/bin/make_fuzz_seeds" "$seeds" "$(pwd)/../shared/models" || { echo "fuzz-result seeds FAILED"; exit 1; }

run_one() {
  local bin=$1 name corpus dict log
  name=$(basename "$bin")
  corpus=$work/corpus/$name
  mkdir -p "$corpus" "$work/crashes/$name"
  dict=""
  case $name in
    fuzz_safetensors) dict=-dict=fuzz/safetensors.dict ;;
    fuzz_gguf) dict=-dict=fuzz/gguf.dict ;;
    fuzz_hf_config) dict=-dict=fuzz/hf_config.dict ;;
    fuzz_tokenizer) dict=-dict=fuzz/tokenizer.dict ;;
    fuzz_chat_template) dict=-dict=fuzz/chat_template.dict ;;
  esac
  log=$work/$name.log
  local extra=()
  [ -d "fuzz/corpus/$name" ] && extra+=("fuzz/corpus/$name")
  [ -d "$seeds/$name" ] && extra+=("$seeds/$name")
  "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$work/crashes/$name/" $dict \
    "$corpus" "${extra[@]}" >"$log" 2>&1
  local rc=$?
  local stats
  stats=$(grep -E "^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb)" "$log" | tr '\n' ' ')
  if [ $rc -eq 0 ]; then
    echo "fuzz-result $name ok"
  else
    echo "fuzz-result $name FAILED (exit $rc; see $log)"
    grep -E "ERROR|SUMMARY|runtime error" "$log" | head -5
  fi
  echo "fuzz-stats $name ${SECONDS_EACH}s: $stats"
}
export -f run_one
export work seeds SECONDS_EACH

ls "$SAN"/bin/fuzz_* >/dev/null 2>&1 || { echo "fuzz-result none FAILED (no fuzzers in $SAN/bin)"; exit 1; }
ls "$SAN"/bin/fuzz_* | xargs -P "$JOBS" -I{} bash -c 'run_one {}'
