"""keel serve cold start: process start to the first 200 from /v1/embeddings.

The clock starts just before the process is spawned and stops when the first
200 has been read. keel's stderr is a pipe read up to the "listening" line
(the socket is bound; models still loading) and the "ready" line (models
loaded), then the POST is sent (and repeated every millisecond on the same
connection should it still get a 503). Prints one line per start, the
time to "listening" beside the total, and the median.
  /usr/bin/python3 bench/cold_start.py --keel build/bin/keel --model DIR [--starts 5] [--dtype f32]
"""
import argparse
import http.client
import json
import re
import statistics
import subprocess
import sys
import time


def once(keel, model, dtype, threads):
    t0 = time.perf_counter()
    p = subprocess.Popen([keel, "serve", "--model", model, "--served-name", "m", "--port", "0",
                          "--threads", str(threads), "--dtype", dtype],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        port, seen = None, []
        for line in p.stderr:
            seen.append(line)
            m = re.search(r"listening on http://[0-9.]+:(\d+)", line)
            if m:
                port = int(m.group(1))
                break
        if port is None:
            sys.exit("keel serve exited before listening:\n" + "".join(seen))
        t_listen = time.perf_counter()
        # keel serve listens while its models load (503 until then) and prints
        # "ready" once they are loaded.
        for line in p.stderr:
            seen.append(line)
            if "keel serve: ready" in line:
                break
        else:
            sys.exit("keel serve exited before ready:\n" + "".join(seen))
        t_ready = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            conn.request("POST", "/v1/embeddings", body=json.dumps({"input": "cold start"}),
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            body = r.read()
            if r.status != 503:
                break
            time.sleep(0.001)
        t1 = time.perf_counter()
        if r.status != 200:
            sys.exit(f"first /v1/embeddings answered {r.status}: {body[:200]!r}")
        return (t1 - t0) * 1e3, (t_listen - t0) * 1e3, (t_ready - t0) * 1e3
    finally:
        p.terminate()
        p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keel", default="build/bin/keel")
    ap.add_argument("--model", required=True)
    ap.add_argument("--starts", type=int, default=5)
    ap.add_argument("--dtype", default="f32")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    totals = []
    for _ in range(a.starts):
        total, listen, ready = once(a.keel, a.model, a.dtype, a.threads)
        totals.append(total)
        print(f"keel {a.dtype}: cold start {total:.0f} ms (listening after {listen:.0f} ms, "
              f"model loaded after {ready:.0f} ms)", flush=True)
    print(f"keel {a.dtype}: cold start median {statistics.median(totals):.0f} ms of {a.starts} starts "
          f"(min {min(totals):.0f}, max {max(totals):.0f})")


if __name__ == "__main__":
    main()
