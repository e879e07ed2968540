#!/usr/bin/env bash
# Bounded load test of keel serve (loopback only): wrk with CONNECTIONS keep-alive
# connections (default 1000) for SECONDS (default 20, at most 60), valid and
# malformed requests mixed (bench/serve_load.lua). Checks that the server is
# alive afterwards, that every request it read got an answer (in-flight back to
# 0), and prints RSS before, at peak and after.
#   bash bench/serve_load.sh [build] ; CONNECTIONS=1000 SECONDS=20 THREADS=2
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
KEEL=$BUILD/bin/keel
CONNECTIONS=${CONNECTIONS:-1000}
DURATION=${SECONDS_LOAD:-20}
[ "$DURATION" -le 60 ] || DURATION=60
DEMO=$BUILD/demo/all-MiniLM-L6-v2
if [ ! -f "$DEMO/model.safetensors" ]; then
  "$KEEL" make-model --config ../shared/models/all-MiniLM-L6-v2/config.json \
    --tokenizer ../shared/models/all-MiniLM-L6-v2 --seed 1 --dtype f32 --out "$DEMO" >/dev/null
fi
log=$(mktemp)
"$KEEL" serve --model "$DEMO" --served-name demo --port 0 --threads "${THREADS:-2}" 2>"$log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 200); do grep -q "ready" "$log" && break; sleep 0.05; done
port=$(sed -n 's/.*listening on http:\/\/[0-9.]*:\([0-9]*\).*/\1/p' "$log")
url=http://127.0.0.1:$port
rss() { awk '/VmRSS/ {print $2 / 1024 " MB"}' /proc/$pid/status; }
curl -sf "$url/v1/embeddings" -d '{"input":"warm up"}' >/dev/null
echo "keel serve pid $pid on $url; RSS before: $(rss)"
peak=0
( while kill -0 $pid 2>/dev/null; do
    r=$(awk '/VmRSS/ {print $2}' /proc/$pid/status 2>/dev/null || echo 0); [ "$r" -gt "$peak" ] && peak=$r
    echo "$peak" > "$log.peak"; sleep 0.2; done ) &
watcher=$!
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 30s -s bench/serve_load.lua "$url" | sed 's/^/wrk: /'
# Requests wrk left queued (its connections are gone) still complete: wait for them.
for _ in $(seq 600); do
  n=$(curl -s "$url/metrics" | sed -n 's/^keel_requests_in_flight //p')
  [ "$n" = 0 ] && break; sleep 0.1
done
sleep 1
kill $watcher 2>/dev/null || true
echo "RSS peak: $(( $(cat "$log.peak") / 1024 )) MB; after the backlog drained: $(rss)"
curl -s "$url/metrics" | grep -E '^keel_requests_(total|in_flight)' | sed 's/^/metrics: /'
curl -sf "$url/health" >/dev/null && echo "alive: /health 200"
kill -TERM $pid; wait $pid && echo "exit 0 after SIGTERM"
rm -f "$log.peak"
