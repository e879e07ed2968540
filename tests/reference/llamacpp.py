"""llama.cpp as an independent engine for keel's decoder tests.

Compiles tests/reference/llamacpp_logits.c against third_party/llama.cpp's
llama.h and the prebuilt libllama / libggml that node-llama-cpp ships
(@node-llama-cpp/linux-x64: CPU backends chosen per CPU at run time), then runs
prompts through it: next-token logits of the last position and greedy
continuations, CPU only.

    ref = LlamaCpp(tmp_dir)
    out = ref.run("model.gguf", [[1, 2, 3], [1, 5]], greedy=16, threads=2)
    out["logits"][i], out["greedy"][i], out["margins"][i]
"""

import os
import subprocess
from pathlib import Path

import numpy as np

SOURCE_DIR = Path(os.environ.get("KEEL_SOURCE_DIR", Path(__file__).resolve().parents[2]))
PEERS = Path(os.environ.get("KEEL_PEERS", SOURCE_DIR / "tools" / "peers" / "node_modules"))
LLAMA_CPP = Path(os.environ.get("KEEL_LLAMA_CPP", SOURCE_DIR / "third_party" / "llama.cpp"))
BINS = PEERS / "@node-llama-cpp" / "linux-x64" / "bins" / "linux-x64"


class LlamaCpp:
    def __init__(self, tmp):
        tmp = Path(tmp)
        tmp.mkdir(parents=True, exist_ok=True)
        self.exe = tmp / "llamacpp_logits"
        src = Path(__file__).with_name("llamacpp_logits.c")
        if not self.exe.exists() or self.exe.stat().st_mtime < src.stat().st_mtime:
            cmd = ["cc", "-O2", "-o", str(self.exe), str(src),
                   "-I", str(LLAMA_CPP / "include"), "-I", str(LLAMA_CPP / "ggml" / "include"),
                   str(BINS / "libllama.v0.5.0.so"), str(BINS / "libggml.v0.5.0.so"),
                   str(BINS / "libggml-base.so"), f"-Wl,-rpath,{BINS}"]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError(f"building the llama.cpp reference failed:\n{' '.join(cmd)}\n{r.stderr}")

    def run(self, gguf, prompts, greedy=0, threads=2):
        text = "".join(" ".join(str(t) for t in p) + "\n" for p in prompts)
        r = subprocess.run([str(self.exe), str(BINS), str(gguf), str(threads), str(greedy)], input=text,
                           capture_output=True, text=True, timeout=900)
        if r.returncode != 0:
            raise RuntimeError(f"llama.cpp failed on {gguf}:\n{r.stderr}")
        out = {"logits": [], "greedy": [], "margins": []}
        for line in r.stdout.splitlines():
            key, _, rest = line.partition(" ")
            if key == "logits":
                out["logits"].append(np.array(rest.split(), dtype=np.float32))
            elif key == "greedy":
                out["greedy"].append([int(x) for x in rest.split()])
            elif key == "margins":
                out["margins"].append([float(x) for x in rest.split()])
        assert len(out["logits"]) == len(prompts), r.stderr
        return out
