-- wrk script for bench/serve_load.sh: valid embedding requests with malformed
-- ones mixed in (bad JSON, wrong types, unknown model, unknown route), all on
-- keep-alive connections. Counts the statuses seen.
local requests = {}
local function add(method, path, body)
  requests[#requests + 1] = wrk.format(method, path, {["Content-Type"] = "application/json"}, body)
end
for i = 1, 6 do
  add("POST", "/v1/embeddings", '{"model":"demo","input":"load test sentence number ' .. i .. ' for keel"}')
end
add("POST", "/v1/embeddings", '{"model":"demo","input":["two inputs","in one request"]}')
add("POST", "/embed", '{"inputs":"tei shaped request"}')
add("POST", "/v1/embeddings", '{"model":"demo","input":')          -- truncated JSON
add("POST", "/v1/embeddings", '{"model":"demo","input":[1.5, "x"]}')  -- wrong types
add("POST", "/v1/embeddings", '{"model":"nope","input":"x"}')      -- unknown model
add("GET", "/nowhere", nil)                                         -- unknown route

local counter = 0
function request()
  counter = counter + 1
  return requests[(counter % #requests) + 1]
end

local statuses = {}
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  io.write(string.format("requests %d, socket errors: connect %d read %d write %d timeout %d, status errors %d\n",
    summary.requests, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout, summary.errors.status))
  io.write(string.format("latency p50 %.1f ms, p99 %.1f ms\n", latency:percentile(50) / 1000,
    latency:percentile(99) / 1000))
end
