"""What the keel serve tests share: a seeded 2-layer MiniLM (the real config and
tokenizer) made with `keel make-model`, and a `keel serve` process on a free
loopback port whose stderr is kept for the assertions' messages."""
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import requests

KEEL = os.environ["KEEL_BIN"]
SHARED = Path(os.environ["KEEL_SHARED_MODELS"])


def make_minilm(out, seed):
    if not (out / "model.safetensors").exists():
        subprocess.run([KEEL, "make-model", "--config", str(SHARED / "all-MiniLM-L6-v2" / "config.json"),
                        "--tokenizer", str(SHARED / "all-MiniLM-L6-v2"), "--layers", "2", "--seed", str(seed),
                        "--dtype", "f32", "--out", str(out)], check=True, timeout=300, capture_output=True)
    return out


class Server:
    def __init__(self, *args, models, threads=1):
        cmd = [KEEL, "serve", "--port", "0", "--threads", str(threads)]
        for m in models:
            cmd += ["--model", str(m)]
        self.proc = subprocess.Popen(cmd + list(args), stderr=subprocess.PIPE, text=True)
        self.log = []
        deadline = time.time() + 120
        while True:
            line = self.proc.stderr.readline()
            assert line, "keel serve exited: " + "".join(self.log)
            self.log.append(line)
            m = re.search(r"listening on http://[\d.]+:(\d+)", line)
            if m:
                self.port = int(m.group(1))
            if "keel serve: ready" in line:
                break
            assert time.time() < deadline
        self.url = f"http://127.0.0.1:{self.port}"
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self):
        for line in self.proc.stderr:
            self.log.append(line)

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=60)
        self._reader.join(timeout=10)
        return rc

    def post(self, path, body, **kw):
        return requests.post(self.url + path, json=body, timeout=120, **kw)

    def metric(self, name):
        text = requests.get(self.url + "/metrics", timeout=30).text
        m = re.search(r"^" + re.escape(name) + r" (\S+)$", text, re.M)
        return float(m.group(1)) if m else None
