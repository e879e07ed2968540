#!/usr/bin/env bash
# Runs every test suite and prints one summary line: "N passed, N failed".
#   1. ctest in the Release build: C++ unit tests and the Python tests that compare
#      keel with independent implementations.
#   2. ctest in the sanitizer build: the C++ unit tests under ASan + UBSan.
#   3. a short run of every libFuzzer target (FUZZ_SMOKE_SECONDS each, default 20).
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
SAN=${2:-build-san}
SMOKE=${FUZZ_SMOKE_SECONDS:-20}
JOBS=${JOBS:-$(nproc)}
passed=0
failed=0
log_dir=$BUILD/test_logs
mkdir -p "$log_dir"

# Adds a ctest run's counts ("N% tests passed, F tests failed out of T").
run_ctest() {
  local dir=$1 label=$2 log=$log_dir/ctest_$2.log
  echo "== ctest ($label)"
  df -h "$dir" >"$log" 2>&1
  (cd "$dir" && ctest -j "$JOBS" --output-on-failure --timeout 1200) >>"$log" 2>&1
  # The models and outputs the tests wrote (the Python tests remove theirs as
  # they finish; tests/run_pytest.sh) are not needed by the next stage.
  [ "${KEEL_KEEP_TEST_TMP:-0}" = 1 ] || rm -rf "$dir/test_tmp"
  grep -E "^[0-9]+% tests passed" "$log" || true
  grep -A3 -E "The following tests FAILED" "$log" | head -40 || true
  local line total fail
  line=$(grep -E "tests passed, [0-9]+ tests? failed out of [0-9]+" "$log" | tail -1)
  if [ -z "$line" ]; then
    echo "ctest ($label) did not finish; see $log"; tail -30 "$log"
    failed=$((failed + 1)); return
  fi
  total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
  fail=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
  passed=$((passed + total - fail)); failed=$((failed + fail))
  if [ "$fail" -gt 0 ]; then
    grep -B2 -A25 -E "\*\*\*Failed|FAILED|Error" "$log" | head -150
  fi
}

run_ctest "$BUILD" release
run_ctest "$SAN" sanitizers

echo "== fuzz smoke (${SMOKE}s each)"
if bash scripts/fuzz.sh "$BUILD" "$SAN" "$SMOKE" >"$log_dir/fuzz.log" 2>&1; then :; fi
while read -r name result; do
  if [ "$result" = ok ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  echo "fuzz $name: $result"
done < <(grep -E "^fuzz-result " "$log_dir/fuzz.log" | cut -d' ' -f2-)
if ! grep -q "^fuzz-result " "$log_dir/fuzz.log"; then
  echo "fuzzers did not run; see $log_dir/fuzz.log"; tail -20 "$log_dir/fuzz.log"; failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
