"""keel's safetensors reader and writer against an independent numpy
implementation (tests/reference/safetensors_ref.py): files keel writes must
read back under the spec with the documented pattern values (see
tests/tools/safetensors_tool.cc), and files written the way HF does must read
in keel with the same names, dtypes, shapes, offsets and bytes."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SOURCE_DIR = Path(os.environ.get("KEEL_SOURCE_DIR", Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(SOURCE_DIR / "tests" / "reference"))
import safetensors_ref as ref  # noqa: E402

KEEL_BIN = Path(os.environ.get("KEEL_BIN", SOURCE_DIR / "build" / "bin" / "keel"))
TOOL = KEEL_BIN.parent / "safetensors_tool"


def tool(*args, ok=True):
    if not TOOL.exists():
        pytest.fail(f"{TOOL} not built (set KEEL_BIN to build/bin/keel)")
    r = subprocess.run([str(TOOL), *map(str, args)], capture_output=True, text=True, timeout=120)
    if ok:
        assert r.returncode == 0, r.stderr
    return r


# --- The pattern keel writes, recomputed from its description -----------------

PATTERN_DTYPES = ["F32", "F16", "BF16", "F64", "I8", "U8", "I16", "U16", "I32", "U32", "I64", "U64",
                  "BOOL", "F8_E4M3", "F8_E5M2"]  # keel's DType order
PATTERN_TENSORS = ([(f"pattern.{d.lower()}", d, [3, 5]) for d in PATTERN_DTYPES] +
                   [("scalar", "F32", []), ("empty", "F16", [0, 4]), ("empty.bool", "BOOL", [2, 0, 3])])
PATTERN_METADATA = {"format": "pt", "keel.pattern": "v1", "unicode": "ünïcödé ✓"}


def expected_values(dtype, shape):
    n = int(np.prod(shape, dtype=np.int64))
    j = np.arange(n, dtype=np.uint64)
    if dtype in ("F64", "F32", "F16", "BF16"):
        v = ((5 * j) % 64).astype(np.float64) * 0.25 - 8.0
        return v.reshape(shape)
    if dtype == "BOOL":
        return (j % 3 == 0).reshape(shape)
    if dtype.startswith("F8"):
        return ((37 * j + 5) % 256).astype(np.uint8).reshape(shape)
    size, np_dtype = ref.DTYPES[dtype]
    # Python ints: no silent wrap-around to get wrong.
    words = [(int(x) * 0x9E3779B97F4A7C15 + 0x0123456789ABCDEF) % 2**64 for x in j]
    low = np.array([w % 2 ** (8 * size) for w in words], dtype=np.uint64)
    return low.astype(f"<u{size}").view(np_dtype).reshape(shape)


def check_pattern_tensor(name, t):
    want_dtype, want_shape = {n: (d, s) for n, d, s in PATTERN_TENSORS}[name]
    assert t.dtype == want_dtype and t.shape == want_shape, name
    got, want = t.array(), expected_values(t.dtype, t.shape)
    if t.dtype in ("F64", "F32", "F16", "BF16"):
        np.testing.assert_array_equal(got.astype(np.float64), want, err_msg=name)
    else:
        np.testing.assert_array_equal(got, want, err_msg=name)


def test_keel_written_file_matches_spec(tmp_path):
    path = tmp_path / "pattern.safetensors"
    tool("write-pattern", path)
    f = ref.read(path)
    # HF layout: length multiple of 8, space padding, __metadata__ first, then the
    # tensors in declaration order, back to back from offset 0.
    assert f.header_size % 8 == 0
    json_text = f.header_text.rstrip(" ")
    assert json_text.endswith("}") and len(f.header_text) - len(json_text) < 8
    assert json.dumps(json.loads(json_text), separators=(",", ":"), ensure_ascii=False) == json_text  # compact
    assert f.header_text.startswith('{"__metadata__":')
    assert f.keys == ["__metadata__"] + [n for n, _, _ in PATTERN_TENSORS]
    assert f.metadata == PATTERN_METADATA
    offset = 0
    for name, _, _ in PATTERN_TENSORS:
        t = f.tensors[name]
        assert t.begin == offset, name
        offset = t.end
        check_pattern_tensor(name, t)
    assert path.stat().st_size == 8 + f.header_size + offset


def test_keel_written_shards_match_spec(tmp_path):
    max_bytes = 100
    tool("write-pattern-sharded", tmp_path, "model", max_bytes)
    index = json.loads((tmp_path / "model.safetensors.index.json").read_text())
    sizes = {n: ref.DTYPES[d][0] * int(np.prod(s, dtype=np.int64)) for n, d, s in PATTERN_TENSORS}
    # Greedy split in declaration order; a tensor over the limit gets its own shard.
    groups, current = [[]], 0
    for name, _, _ in PATTERN_TENSORS:
        if groups[-1] and current + sizes[name] > max_bytes:
            groups.append([])
            current = 0
        groups[-1].append(name)
        current += sizes[name]
    count = len(groups)
    assert count > 3
    assert index["metadata"] == {"total_size": sum(sizes.values())}
    assert isinstance(index["metadata"]["total_size"], int)
    want_map = {name: f"model-{k + 1:05d}-of-{count:05d}.safetensors"
                for k, g in enumerate(groups) for name in g}
    assert index["weight_map"] == want_map
    shard_files = sorted(p.name for p in tmp_path.glob("*.safetensors"))
    assert shard_files == sorted(set(want_map.values()))
    assert all(re.fullmatch(r"model-\d{5}-of-\d{5}\.safetensors", s) for s in shard_files)
    seen = set()
    for shard in shard_files:
        f = ref.read(tmp_path / shard)
        assert f.metadata == PATTERN_METADATA
        for name, t in f.tensors.items():
            assert want_map[name] == shard
            check_pattern_tensor(name, t)
            seen.add(name)
    assert seen == set(want_map)


# --- Files written the HF way, read by keel --------------------------------------

def random_tensors(seed):
    rng = np.random.default_rng(seed)
    out = {}
    for i, dtype in enumerate(ref.DTYPES):
        shape = [int(x) for x in rng.integers(1, 5, size=int(rng.integers(0, 4)))]
        size = ref.DTYPES[dtype][0] * int(np.prod(shape, dtype=np.int64))
        out[f"layers.{i}.{dtype.lower()}"] = (dtype, shape, rng.integers(0, 256, size, dtype=np.uint8).tobytes())
    out["zero.sized"] = ("F32", [4, 0], b"")
    out["scalar"] = ("I64", [], np.array([-7], dtype="<i8").tobytes())
    out["名前.ünïcode"] = ("F16", [2], np.array([1.5, -2], dtype="<f2").tobytes())
    out['quote"and\\slash\n'] = ("U8", [1], b"\x07")
    return out


def check_dump(dump, files_by_name, tensors):
    got = {t["name"]: t for t in dump["tensors"]}
    assert sorted(got) == sorted(tensors)
    assert [t["name"] for t in dump["tensors"]] == sorted(tensors, key=lambda s: s.encode())
    for name, (dtype, shape, raw) in tensors.items():
        t = got[name]
        f = files_by_name[t["file"]]
        assert (t["dtype"], t["shape"]) == (dtype, shape), name
        assert (t["begin"], t["end"]) == (f.tensors[name].begin, f.tensors[name].end), name
        assert t["fnv1a64"] == ref.fnv1a64(raw), name


def test_keel_reads_hf_style_file(tmp_path):
    tensors = random_tensors(1)
    metadata = {"format": "pt", "note": "written by the numpy reference"}
    path = tmp_path / "model.safetensors"
    ref.write(path, tensors, metadata)
    dump = json.loads(tool("dump", path).stdout)
    assert dump["metadata"] == metadata
    assert dump["files"][0]["header_size"] == ref.read(path).header_size
    assert dump["files"][0]["file_size"] == path.stat().st_size
    check_dump(dump, {"model.safetensors": ref.read(path)}, tensors)
    # The directory form finds model.safetensors.
    by_dir = json.loads(tool("dump", tmp_path).stdout)
    assert (by_dir["tensors"], by_dir["metadata"]) == (dump["tensors"], dump["metadata"])


def test_keel_copy_is_byte_identical(tmp_path):
    # keel writes tensors in the order it read them (by offset) and metadata in
    # key order, so an HF-layout file with sorted metadata comes back unchanged.
    src, dst = tmp_path / "in.safetensors", tmp_path / "out.safetensors"
    ref.write(src, random_tensors(2), {"a": "1", "b": "ü", "format": "pt"})
    tool("copy", src, dst)
    assert dst.read_bytes() == src.read_bytes()


def test_keel_reads_hf_style_sharded_checkpoint(tmp_path):
    tensors = random_tensors(3)
    names = sorted(tensors)
    shards = [names[0::3], names[1::3], names[2::3]]
    weight_map, files = {}, {}
    for k, group in enumerate(shards):
        shard = f"model-{k + 1:05d}-of-00003.safetensors"
        ref.write(tmp_path / shard, {n: tensors[n] for n in group}, {"format": "pt"})
        files[shard] = ref.read(tmp_path / shard)
        weight_map.update({n: shard for n in group})
    total = sum(len(raw) for _, _, raw in tensors.values())
    # As transformers' save_pretrained writes it.
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
    for target in (tmp_path, tmp_path / "model.safetensors.index.json"):
        dump = json.loads(tool("dump", target).stdout)
        assert dump["metadata"] == {"total_size": str(total)}
        assert len(dump["files"]) == 3
        check_dump(dump, files, tensors)


# --- Broken files: the reference and keel both refuse them ------------------------

def raw_file(header, data=b""):
    text = json.dumps(header).encode() if not isinstance(header, bytes) else header
    return len(text).to_bytes(8, "little") + text + data


def entry(dtype, shape, b, e):
    return {"dtype": dtype, "shape": shape, "data_offsets": [b, e]}


BROKEN = {
    "overlap": (raw_file({"a": entry("F32", [2], 0, 8), "b": entry("F32", [2], 4, 12)}, bytes(12)),
                "overlaps tensor 'a'"),
    "gap": (raw_file({"a": entry("F32", [1], 0, 4), "b": entry("F32", [1], 8, 12)}, bytes(12)), "gap"),
    "trailing": (raw_file({"a": entry("F32", [1], 0, 4)}, bytes(8)), "belong to no tensor"),
    "size": (raw_file({"a": entry("F32", [3], 0, 8)}, bytes(8)), "needs 12 bytes"),
    "dtype": (raw_file({"a": entry("F31", [1], 0, 4)}, bytes(4)), "unknown dtype 'F31'"),
    "duplicate": (raw_file(b'{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},'
                           b'"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', bytes(1)),
                  "duplicate tensor name"),
    "metadata": (raw_file({"__metadata__": {"k": 1}}), "must be a string"),
    "utf8": (raw_file(b'{"a\xfe":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', bytes(1)),
             "is not valid UTF-8"),
    "header_past_end": (raw_file({})[:9], "runs past the end of the file"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_both_readers_reject(tmp_path, case):
    data, message = BROKEN[case]
    with pytest.raises((ref.SafetensorsError, UnicodeDecodeError)):
        ref.parse(data)
    path = tmp_path / f"{case}.safetensors"
    path.write_bytes(data)
    r = tool("dump", path, ok=False)
    assert r.returncode == 1
    assert message in r.stderr, r.stderr
    assert r.stderr.startswith(str(path) + ": ")
