"""keel serve under a bounded load test: wrk (Debian) with 1,000 keep-alive
connections for 10 s on loopback, valid requests with malformed ones mixed in
(bench/serve_load.lua: truncated JSON, wrong types, unknown model, unknown
route). The server must not crash, every request wrk sent must get an answer
(no socket errors, no timeouts), the requests left in flight when wrk hangs up
must be settled, and memory must come back near its baseline."""
import os
import re
import resource
import signal
import subprocess
import threading
import time
from pathlib import Path

import requests

KEEL = os.environ["KEEL_BIN"]
SOURCE = Path(os.environ["KEEL_SOURCE_DIR"])
SHARED = Path(os.environ["KEEL_SHARED_MODELS"])
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
    model = TMP / "minilm"
    subprocess.run([KEEL, "make-model", "--config", str(SHARED / "all-MiniLM-L6-v2" / "config.json"),
                    "--tokenizer", str(SHARED / "all-MiniLM-L6-v2"), "--layers", "2", "--seed", "7",
                    "--dtype", "f32", "--out", str(model)], check=True, timeout=300, capture_output=True)
    proc = subprocess.Popen([KEEL, "serve", "--model", str(model), "--served-name", "demo", "--port", "0",
                             "--threads", "2"], stderr=subprocess.PIPE, text=True)
    log = []
    try:
        port = None
        while True:
            line = proc.stderr.readline()
            assert line, "keel serve exited: " + "".join(log)
            log.append(line)
            if m := re.search(r"listening on http://[\d.]+:(\d+)", line):
                port = int(m.group(1))
            if "keel serve: ready" in line:
                break
        threading.Thread(target=lambda: log.extend(proc.stderr), daemon=True).start()
        url = f"http://127.0.0.1:{port}"
        r = requests.post(url + "/v1/embeddings", json={"input": "warm up"}, timeout=60)
        assert r.status_code == 200, r.text
        before = rss_mb(proc.pid)

        wrk = subprocess.run(["wrk", "-t2", "-c1000", "-d10s", "--timeout", "30s", "-s",
                              str(SOURCE / "bench" / "serve_load.lua"), url],
                             capture_output=True, text=True, timeout=120, preexec_fn=raise_nofile)
        assert wrk.returncode == 0, wrk.stdout + wrk.stderr
        m = re.search(r"requests (\d+), socket errors: connect (\d+) read (\d+) write (\d+) timeout (\d+)", wrk.stdout)
        assert m, wrk.stdout
        sent, connect, read, write, timeout = map(int, m.groups())
        assert (connect, read, write, timeout) == (0, 0, 0, 0), wrk.stdout
        assert sent > 1000, wrk.stdout
        peak = rss_mb(proc.pid)

        # wrk hangs up with requests in flight: each is settled, computed or
        # dropped (499), and the server is idle again.
        deadline = time.time() + 60
        while True:
            statuses, in_flight = metrics(url)
            if in_flight == 0:
                break
            assert time.time() < deadline, (statuses, in_flight)
            time.sleep(0.1)
        assert proc.poll() is None, "".join(log)
        assert sum(statuses.values()) >= sent, (statuses, sent)
        assert set(statuses) <= {200, 400, 404, 429, 499}, statuses  # nothing 5xx
        assert statuses[200] > 0 and statuses[400] > 0 and statuses[404] > 0, statuses
        assert statuses.get(499, 0) <= 1000, statuses  # at most one per connection

        time.sleep(1)  # the scheduler hands freed memory back after 200 ms idle
        after = rss_mb(proc.pid)
        assert after <= before + 48, f"RSS before {before:.0f} MB, peak {peak:.0f}, after {after:.0f}"
        assert requests.get(url + "/health", timeout=30).status_code == 200
        r = requests.post(url + "/v1/embeddings", json={"input": ["after the load", "still right"]}, timeout=60)
        assert r.status_code == 200 and len(r.json()["data"]) == 2
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=60)
    assert rc == 0, "".join(log)
