"""Shared helpers of the keel Python package tests: the CLI to compare with, the
real tokenizers in ../shared/models, and small random models made by `keel make-model`.

The package must be importable: ctest runs these files with <build>/pyenv/bin/python,
where python/install.sh (the ctest fixture py_keel_install) has installed it.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SOURCE = Path(os.environ.get("KEEL_SOURCE_DIR", Path(__file__).resolve().parents[2]))
KEEL = os.environ.get("KEEL_BIN", str(SOURCE / "build" / "bin" / "keel"))
SHARED = Path(os.environ.get("KEEL_SHARED_MODELS", SOURCE.parent / "shared" / "models"))
TMP = Path(os.environ.get("KEEL_TEST_TMP", SOURCE / "build" / "test_tmp")) / "python"
TOKENIZERS = ["all-MiniLM-L6-v2", "gpt2", "TinyLlama-1.1B-Chat-v1.0", "t5-small"]

sys.path.insert(0, str(SOURCE / "tests" / "tokenizer"))


def keel_cli(*args, stdin="", check=True):
    assert os.access(KEEL, os.X_OK), f"keel binary not found at KEEL_BIN={KEEL}"
    p = subprocess.run([KEEL, *args], input=stdin, capture_output=True, text=True, timeout=600)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def json_lines(values):
    return "".join(json.dumps(v) + "\n" for v in values)


def make_model(name, seed, layers=2):
    """A random BERT with all-MiniLM-L6-v2's config and tokenizer (weights made at test time)."""
    out = TMP / name
    if not (out / "model.safetensors").exists():
        TMP.mkdir(parents=True, exist_ok=True)
        keel_cli("make-model", "--config", str(SHARED / "all-MiniLM-L6-v2" / "config.json"),
                 "--tokenizer", str(SHARED / "all-MiniLM-L6-v2"), "--layers", str(layers), "--seed", str(seed),
                 "--dtype", "f32", "--out", str(out))
    return out


@pytest.fixture(scope="session")
def tiny_model():
    return make_model("py-mini-2l", 11)
