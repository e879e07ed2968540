"""keel inspect, checked against independent readers: the spec-based numpy
safetensors reader in tests/reference and llama.cpp's gguf-py (which also writes
the GGUF file here, so keel reads a file it did not write)."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SOURCE = Path(os.environ["KEEL_SOURCE_DIR"])
sys.path.insert(0, str(SOURCE / "tests" / "reference"))
sys.path.insert(0, str(Path(os.environ["KEEL_LLAMA_CPP"]) / "gguf-py"))
import safetensors_ref  # noqa: E402
import gguf  # noqa: E402

KEEL = os.environ["KEEL_BIN"]
SHARED = Path(os.environ["KEEL_SHARED_MODELS"])
TMP = Path(os.environ["KEEL_TEST_TMP"]) / "inspect"


def inspect(path):
    p = subprocess.run([KEEL, "inspect", str(path), "--json"], capture_output=True, text=True, timeout=120)
    return p.returncode, json.loads(p.stdout), p.stderr


@pytest.fixture(scope="module")
def gpt2_dir():
    out = TMP / "gpt2-1l"
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run([KEEL, "make-model", "--config", str(SHARED / "gpt2" / "config.json"), "--tokenizer",
                    str(SHARED / "gpt2"), "--layers", "1", "--seed", "3", "--dtype", "f16", "--out", str(out)],
                   check=True, timeout=300)
    return out


def test_model_dir_matches_numpy_reader(gpt2_dir):
    rc, report, _ = inspect(gpt2_dir)
    assert rc == 0, report["problems"]
    assert report["architecture"] == "gpt2"
    ref = safetensors_ref.read(gpt2_dir / "model.safetensors")
    assert {t["name"] for t in report["tensors"]} == set(ref.tensors)
    for t in report["tensors"]:
        r = ref.tensors[t["name"]]
        assert t["shape"] == r.shape and t["dtype"] == r.dtype.lower() and t["bytes"] == r.end - r.begin
        assert t["offset"] == 8 + ref.header_size + r.begin
    assert report["parameters"] == sum(int(np.prod(r.shape)) for r in ref.tensors.values())
    assert report["metadata"] == ref.metadata


def test_gguf_written_by_gguf_py():
    TMP.mkdir(parents=True, exist_ok=True)
    path = TMP / "by_gguf_py.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_uint32("llama.block_count", 2)
    w.add_string("general.name", "inspect test")
    w.add_array("some.list", [1, 2, 3])
    a = np.arange(64, dtype=np.float32).reshape(2, 32)
    b = np.ones((3, 4), dtype=np.float16)
    w.add_tensor("token_embd.weight", a)
    w.add_tensor("output_norm.weight", b)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    rc, report, _ = inspect(path)
    assert rc == 0, report["problems"]
    assert report["architecture"] == "llama"
    reader = gguf.GGUFReader(str(path))
    by_name = {t["name"]: t for t in report["tensors"]}
    assert set(by_name) == {t.name for t in reader.tensors}
    for t in reader.tensors:
        k = by_name[t.name]
        assert k["shape"] == list(reversed([int(d) for d in t.shape]))  # gguf-py: innermost first
        assert k["bytes"] == int(t.n_bytes) and k["offset"] == int(t.data_offset)
    assert report["metadata"]["general.name"]["value"] == "inspect test"
    assert report["metadata"]["llama.block_count"] == {"type": "u32", "value": 2}
    assert report["metadata"]["some.list"]["value"] == [1, 2, 3]
    assert report["parameters"] == 64 + 12


def test_broken_files_list_problems_and_exit_1(gpt2_dir):
    TMP.mkdir(parents=True, exist_ok=True)
    whole = (gpt2_dir / "model.safetensors").read_bytes()
    cut = TMP / "cut.safetensors"
    cut.write_bytes(whole[: len(whole) // 2])
    rc, report, _ = inspect(cut)
    assert rc == 1 and report["problems"] and not report["ok"]

    no_config = TMP / "no_config"
    shutil.rmtree(no_config, ignore_errors=True)
    no_config.mkdir()
    shutil.copy(gpt2_dir / "model.safetensors", no_config / "model.safetensors")
    rc, report, _ = inspect(no_config)
    assert rc == 1 and any("config.json" in p for p in report["problems"])

    # Weights that do not fit the config: every mismatch named.
    wrong = TMP / "wrong_layers"
    shutil.rmtree(wrong, ignore_errors=True)
    shutil.copytree(gpt2_dir, wrong)
    cfg = json.loads((wrong / "config.json").read_text())
    cfg["n_layer"] = 2
    (wrong / "config.json").write_text(json.dumps(cfg))
    rc, report, _ = inspect(wrong)
    assert rc == 1
    assert sum("missing tensor 'h.1." in p for p in report["problems"]) == 12

    rc, report, _ = inspect(TMP / "does-not-exist")
    assert rc == 1 and "no such file" in report["problems"][0]
