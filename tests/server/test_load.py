"""keel serve under a bounded load test: wrk (Debian) with 1,000 keep-alive
connections for 10 s on loopback, valid requests with malformed ones mixed in
(bench/serve_load.lua: truncated JSON, wrong types, unknown model, unknown
route). The server must not crash, every request wrk sent must get an answer
(no socket errors, no timeouts), the requests left in flight when wrk hangs up
must be settled, and memory must come back near its baseline."""
import os
import re
import resource
import subprocess
import time
from pathlib import Path

import requests

from serve_test_util import Server, make_minilm

SOURCE = Path(os.environ["KEEL_SOURCE_DIR"])
TMP = Path(os.environ["KEEL_TEST_TMP"]) / "load"


def rss_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def metrics(url):
    text = requests.get(url + "/metrics", timeout=30).text
    statuses = {}  # summed over routes
    for m in re.finditer(r'^keel_requests_total\{route="[^"]*",status="(\d+)"\} (\S+)$', text, re.M):
        statuses[int(m.group(1))] = statuses.get(int(m.group(1)), 0) + float(m.group(2))
    in_flight = float(re.search(r"^keel_requests_in_flight (\S+)$", text, re.M).group(1))
    return statuses, in_flight


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def test_1000_connections_with_malformed_requests():
    TMP.mkdir(parents=True, exist_ok=True)
    s = Server("--served-name", "demo", models=[make_minilm(TMP / "minilm", 7)], threads=2)
    try:
        url = s.url
        r = requests.post(url + "/v1/embeddings", json={"input": "warm up"}, timeout=60)
        assert r.status_code == 200, r.text
        before = rss_mb(s.proc.pid)

        wrk = subprocess.run(["wrk", "-t2", "-c1000", "-d10s", "--timeout", "30s", "-s",
                              str(SOURCE / "bench" / "serve_load.lua"), url],
                             capture_output=True, text=True, timeout=120, preexec_fn=raise_nofile)
        assert wrk.returncode == 0, wrk.stdout + wrk.stderr
        m = re.search(r"requests (\d+), socket errors: connect (\d+) read (\d+) write (\d+) timeout (\d+)", wrk.stdout)
        assert m, wrk.stdout
        sent, connect, read, write, timeout = map(int, m.groups())
        assert (connect, read, write, timeout) == (0, 0, 0, 0), wrk.stdout
        assert sent > 1000, wrk.stdout
        peak = rss_mb(s.proc.pid)

        # wrk hangs up with requests in flight: each is settled, computed or
        # dropped (499), and the server is idle again.
        deadline = time.time() + 60
        while True:
            statuses, in_flight = metrics(url)
            if in_flight == 0:
                break
            assert time.time() < deadline, (statuses, in_flight)
            time.sleep(0.1)
        assert s.proc.poll() is None, "".join(s.log)
        assert sum(statuses.values()) >= sent, (statuses, sent)
        assert set(statuses) <= {200, 400, 404, 429, 499}, statuses  # nothing 5xx
        assert statuses[200] > 0 and statuses[400] > 0 and statuses[404] > 0, statuses
        assert statuses.get(499, 0) <= 1000, statuses  # at most one per connection

        time.sleep(1)  # the scheduler hands freed memory back after 200 ms idle
        after = rss_mb(s.proc.pid)
        assert after <= before + 48, f"RSS before {before:.0f} MB, peak {peak:.0f}, after {after:.0f}"
        assert requests.get(url + "/health", timeout=30).status_code == 200
        r = requests.post(url + "/v1/embeddings", json={"input": ["after the load", "still right"]}, timeout=60)
        assert r.status_code == 200 and len(r.json()["data"]) == 2
    finally:
        rc = s.stop()
    assert rc == 0, "".join(s.log)
