-- wrk script for bench/bench_serve.sh: the same POST body (KEEL_BENCH_BODY)
-- every time; prints one machine-readable line at the end.
wrk.method = "POST"
wrk.body = os.getenv("KEEL_BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"
local bad = 0
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f errors=%d\n", summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout + summary.errors.status))
end
