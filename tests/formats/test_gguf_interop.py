"""keel's GGUF reader/writer and quantization against llama.cpp's own code.

References (independent of keel):
  * gguf-py (llama.cpp/gguf-py): GGUFReader, GGUFWriter, gguf.quants
  * ggml's C reference quantizers (ggml/src/ggml-quants.c), compiled here
    with the system C compiler when one is available
keel is driven through tests/tools/gguf_tool (see its header for the
subcommands and the formula of the interop file's tensor data).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]


def _llama_cpp() -> Path:
    for cand in (os.environ.get("KEEL_LLAMA_CPP"), REPO / "third_party" / "llama.cpp", "/tmp/llcpp"):
        if cand and (Path(cand) / "gguf-py" / "gguf").is_dir():
            return Path(cand)
    pytest.skip("no llama.cpp checkout (set KEEL_LLAMA_CPP)", allow_module_level=True)


LLAMA = _llama_cpp()
sys.path.insert(0, str(LLAMA / "gguf-py"))
import gguf  # noqa: E402
from gguf import GGMLQuantizationType as QT  # noqa: E402
from gguf import GGUFValueType as VT  # noqa: E402

TOOL = Path(os.environ.get("KEEL_BIN", REPO / "build" / "bin" / "keel")).parent / "gguf_tool"
if not TOOL.exists():
    pytest.skip(f"{TOOL} not built", allow_module_level=True)

TYPE_CODES = {"u8": 0, "i8": 1, "u16": 2, "i16": 3, "u32": 4, "i32": 5, "f32": 6, "bool": 7,
              "string": 8, "array": 9, "u64": 10, "i64": 11, "f64": 12}
QTYPES = {"q8_0": QT.Q8_0, "q4_0": QT.Q4_0, "q4_K": QT.Q4_K, "q6_K": QT.Q6_K, "bf16": QT.BF16}


@pytest.fixture(scope="module")
def tmp():
    base = os.environ.get("KEEL_TEST_TMP")
    if base:
        os.makedirs(base, exist_ok=True)
    d = tempfile.mkdtemp(prefix="gguf_interop_", dir=base)
    yield Path(d)
    shutil.rmtree(d, ignore_errors=True)


def tool(*args) -> str:
    r = subprocess.run([str(TOOL), *map(str, args)], capture_output=True, text=True)
    assert r.returncode == 0, f"gguf_tool {' '.join(map(str, args))} failed:\n{r.stderr}"
    return r.stdout


def tool_json(*args):
    return json.loads(tool(*args))


# ---------------------------------------------------------------- canonical values
# Both sides are brought to one form: ints / bools as Python values, floats as
# ("f32"|"f64", bit pattern), strings as bytes, arrays as (elem_code, [items]).

def canon_keel(type_name: str, v):
    t = TYPE_CODES[type_name]
    if t == VT.STRING:
        return bytes.fromhex(v["hex"]) if isinstance(v, dict) else v.encode("utf-8")
    if t == VT.ARRAY:
        elem = v["elem_type"]
        return (TYPE_CODES[elem], [canon_keel(elem, item) for item in v["items"]])
    if t in (VT.FLOAT32, VT.FLOAT64):
        f = float(v)  # also parses "nan", "inf", "-inf"
        if t == VT.FLOAT32:
            return ("f32", int(np.array([f], dtype=np.float32).view(np.uint32)[0]))
        return ("f64", int(np.array([f], dtype=np.float64).view(np.uint64)[0]))
    if t == VT.BOOL:
        return bool(v)
    return int(v)


def canon_parts(parts, i, vtype):
    """Decodes one value from a gguf-py ReaderField's parts starting at index i."""
    vtype = int(vtype)
    if vtype == VT.STRING:
        return bytes(parts[i + 1]), i + 2
    if vtype == VT.ARRAY:
        elem, n = int(parts[i][0]), int(parts[i + 1][0])
        i += 2
        items = []
        for _ in range(n):
            item, i = canon_parts(parts, i, elem)
            items.append(item)
        return (elem, items), i
    x = parts[i][0]
    if vtype == VT.FLOAT32:
        return ("f32", int(np.array([x], dtype=np.float32).view(np.uint32)[0])), i + 1
    if vtype == VT.FLOAT64:
        return ("f64", int(np.array([x], dtype=np.float64).view(np.uint64)[0])), i + 1
    if vtype == VT.BOOL:
        return bool(x), i + 1
    return int(x), i + 1


def gguf_py_metadata(reader):
    """[(key, type_code, canonical value)] in file order, without the GGUF.* pseudo fields."""
    out = []
    for key, field in reader.fields.items():
        if key.startswith("GGUF."):
            continue
        vtype = int(field.parts[2][0])
        value, end = canon_parts(field.parts, 3, vtype)
        assert end == len(field.parts), key
        out.append((key, vtype, value))
    return out


def keel_metadata(entries):
    return [(e["key"], TYPE_CODES[e["type"]], canon_keel(e["type"], e["value"])) for e in entries]


def assert_same_metadata(keel, ref):
    assert [k for k, _, _ in keel] == [k for k, _, _ in ref]
    for (k, t1, v1), (_, t2, v2) in zip(keel, ref):
        assert t1 == t2, k
        assert v1 == v2, k


# ---------------------------------------------------------------- interop file data

def source_values(seed: int, t: int, n: int) -> np.ndarray:
    """The f32 source of tensor t in gguf_tool's interop file (formula in gguf_tool.cc)."""
    i = np.arange(n, dtype=np.uint64)
    h = (i * np.uint64(2654435761) + np.uint64(seed * 40503) + np.uint64(t * 977)) & np.uint64(0xFFFFFFFF)
    u = (h >> np.uint64(8)).astype(np.float32) / np.float32(16777216.0) * np.float32(2.0) - np.float32(1.0)
    exp = ((i // np.uint64(32)) % np.uint64(5)).astype(np.int32) - 2
    return np.ldexp(u, exp).astype(np.float32), h


def expected_tensor_bytes(ggml_type: int, ne, seed: int, t: int):
    """The bytes gguf-py / numpy produce for tensor t, or None for K-quants (no gguf-py quantizer)."""
    n = int(np.prod(ne))
    x, h = source_values(seed, t, n)
    shape = tuple(reversed([int(d) for d in ne]))
    if ggml_type in (QT.I8, QT.I16, QT.I32, QT.I64):
        width = {QT.I8: 1, QT.I16: 2, QT.I32: 4, QT.I64: 8}[ggml_type]
        with np.errstate(over="ignore"):
            g = h * np.uint64(0x9E3779B97F4A7C15)
        return g.astype("<u8").view(np.uint8).reshape(n, 8)[:, :width].tobytes()
    if ggml_type == QT.F64:
        return x.astype(np.float64).tobytes()
    if ggml_type == QT.F32:
        return x.tobytes()
    if ggml_type == QT.F16:
        return x.astype(np.float16).tobytes()
    if ggml_type in (QT.BF16, QT.Q8_0, QT.Q4_0):
        return gguf.quants.quantize(x.reshape(shape), QT(ggml_type)).tobytes()
    return None


@pytest.fixture(scope="module", params=[3, 4], ids=["seed3_align64", "seed4_align32"])
def keel_file(request, tmp):
    path = tmp / f"keel_{request.param}.gguf"
    written = tool_json("write", path, request.param)
    return request.param, path, written


def test_gguf_py_reads_keel_file(keel_file):
    seed, path, written = keel_file
    reader = gguf.GGUFReader(path)
    assert int(reader.fields["GGUF.version"].parts[0][0]) == 3
    align = next(e["value"] for e in written["metadata"] if e["key"] == "general.alignment")
    assert reader.alignment == align
    assert reader.data_offset % align == 0
    assert_same_metadata(keel_metadata(written["metadata"]), gguf_py_metadata(reader))
    # contents() flattens nested arrays; it must still see the right leaves.
    assert reader.fields["a.nested_str"].contents() == ["x", "yz", ""]
    assert reader.fields["a.string"].contents() == ["a", "", "été"]
    assert reader.fields["general.name"].contents() == "gguf ▁interop 🦙"

    assert [t.name for t in reader.tensors] == [t["name"] for t in written["tensors"]]
    checked = 0
    for t_index, (rt, wt) in enumerate(zip(reader.tensors, written["tensors"])):
        assert int(rt.tensor_type) == wt["ggml_type"], rt.name
        assert [int(d) for d in rt.shape] == wt["ne"], rt.name
        assert rt.n_bytes == wt["nbytes"], rt.name
        assert (rt.data_offset - reader.data_offset) % align == 0, rt.name
        want = expected_tensor_bytes(wt["ggml_type"], wt["ne"], seed, t_index)
        got = rt.data.tobytes()
        assert len(got) == wt["nbytes"]
        if want is not None:
            assert got == want, f"{rt.name}: keel's bytes differ from gguf-py/numpy's"
            checked += 1
        else:
            # K-quants: gguf-py cannot quantize; its dequantization must recover the source.
            x, _ = source_values(seed, t_index, int(np.prod(wt["ne"])))
            y = gguf.quants.dequantize(rt.data, rt.tensor_type).reshape(-1)
            amax = np.abs(x.reshape(-1, 256)).max(axis=1).repeat(256)
            tol = {QT.Q4_K: 0.1, QT.Q6_K: 0.025}[rt.tensor_type]
            assert np.all(np.abs(y - x) <= tol * amax), rt.name
    assert checked == 12


def test_keel_dump_of_keel_file_matches_gguf_py(keel_file):
    """keel's reader + dequantize_row vs gguf-py's reader + gguf.quants.dequantize, bit for bit."""
    _, path, written = keel_file
    dump = tool_json("dump", path)
    reader = gguf.GGUFReader(path)
    assert dump["version"] == 3
    assert dump["data_offset"] == reader.data_offset
    assert_same_metadata(keel_metadata(dump["metadata"]), gguf_py_metadata(reader))
    for kt, rt in zip(dump["tensors"], reader.tensors, strict=True):
        assert kt["name"] == rt.name
        assert kt["offset"] + dump["data_offset"] == rt.data_offset
        assert bytes.fromhex(kt["data_hex"]) == rt.data.tobytes()
        if "f32_hex" not in kt:
            assert kt["dtype"] in ("f64", "i8", "i16", "i32", "i64")
            continue
        keel_f32 = np.frombuffer(bytes.fromhex(kt["f32_hex"]), dtype=np.float32)
        ref = gguf.quants.dequantize(rt.data, rt.tensor_type).astype(np.float32).reshape(-1)
        assert keel_f32.tobytes() == ref.tobytes(), f"{rt.name}: max abs diff {np.abs(keel_f32 - ref).max()}"


def test_keel_reads_gguf_py_file(tmp):
    """A file written by gguf-py's GGUFWriter, with tensors in every dtype both know."""
    rng = np.random.default_rng(5)
    path = tmp / "gguf_py.gguf"
    w = gguf.GGUFWriter(path, arch="pytest")
    w.add_uint8("p.u8", 7)
    w.add_int16("p.i16", -5)
    w.add_uint64("p.u64", 2**63 + 5)
    w.add_float32("p.f32", 1.25)
    w.add_float64("p.f64", -1e-200)
    w.add_bool("p.bool", False)
    w.add_string("p.str", "ünïcödé")
    w.add_array("p.arr_str", ["a", "bb", ""])
    w.add_key_value("p.arr_u16", [1, 2, 3], VT.ARRAY, sub_type=VT.UINT16)
    w.add_key_value("p.nested", [[1, 2], [3]], VT.ARRAY, sub_type=VT.ARRAY)
    x = rng.standard_normal((4, 256)).astype(np.float32)
    w.add_tensor("f32", x)
    w.add_tensor("f16", x.astype(np.float16))
    w.add_tensor("f64", x.astype(np.float64))
    w.add_tensor("i32", rng.integers(-1000, 1000, (3, 5), dtype=np.int32))
    w.add_tensor("i8", rng.integers(-100, 100, (7,), dtype=np.int8))
    for qt in (QT.BF16, QT.Q8_0, QT.Q4_0):
        w.add_tensor(qt.name.lower(), gguf.quants.quantize(x, qt), raw_dtype=qt)
    # K-quant blocks from gguf-py have no quantizer: random bytes with sane f16 scales.
    for qt, size, d_at in ((QT.Q4_K, 144, (0, 2)), (QT.Q6_K, 210, (208,))):
        blocks = rng.integers(0, 256, (4, size), dtype=np.uint8)
        for at in d_at:
            blocks[:, at:at + 2] = np.full((4, 1), np.float16(0.01)).view(np.uint8)
        w.add_tensor(qt.name, blocks.reshape(4, -1), raw_dtype=qt)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    dump = tool_json("dump", path)
    reader = gguf.GGUFReader(path)
    assert_same_metadata(keel_metadata(dump["metadata"]), gguf_py_metadata(reader))
    assert dump["data_offset"] == reader.data_offset
    assert len(dump["tensors"]) == len(reader.tensors) == 10
    for kt, rt in zip(dump["tensors"], reader.tensors):
        assert kt["name"] == rt.name
        assert kt["ggml_type"] == int(rt.tensor_type)
        assert kt["ne"] == [int(d) for d in rt.shape]
        assert kt["shape"] == list(reversed(kt["ne"]))
        assert kt["nbytes"] == rt.n_bytes
        assert bytes.fromhex(kt["data_hex"]) == rt.data.tobytes()
        if "f32_hex" in kt:
            ref = gguf.quants.dequantize(rt.data, rt.tensor_type).astype(np.float32).reshape(-1)
            assert bytes.fromhex(kt["f32_hex"]) == ref.tobytes(), rt.name


def test_keel_rejects_big_endian_gguf_py_file(tmp):
    path = tmp / "big_endian.gguf"
    w = gguf.GGUFWriter(path, arch="pytest", endianess=gguf.GGUFEndian.BIG)
    w.add_uint32("x", 1)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    r = subprocess.run([str(TOOL), "dump", str(path)], capture_output=True, text=True)
    assert r.returncode != 0
    assert "big-endian GGUF files are not supported" in r.stderr


ALL_VOCAB_FILES = sorted((LLAMA / "models").glob("ggml-vocab-*.gguf"))
# gguf-py's reader needs ~7 s per MB of vocabulary, so by default a few files
# cover the shapes that matter: SPM (f32 scores, i32 types, bools), BPE with
# merges, WordPiece, and the one GGUF v2 file. The C++ test reads all of them;
# KEEL_GGUF_ALL_VOCAB=1 compares all of them here too.
DEFAULT_VOCAB = {"ggml-vocab-llama-spm", "ggml-vocab-gpt-2", "ggml-vocab-bert-bge", "ggml-vocab-aquila"}
VOCAB_FILES = [p for p in ALL_VOCAB_FILES if os.environ.get("KEEL_GGUF_ALL_VOCAB") or p.stem in DEFAULT_VOCAB]


@pytest.mark.parametrize("path", VOCAB_FILES, ids=[p.stem for p in VOCAB_FILES])
def test_llama_cpp_vocab_file(path):
    dump = tool_json("dump", path)
    reader = gguf.GGUFReader(path)
    assert dump["version"] == int(reader.fields["GGUF.version"].parts[0][0])
    assert dump["alignment"] == reader.alignment
    assert dump["data_offset"] == reader.data_offset
    keel, ref = keel_metadata(dump["metadata"]), gguf_py_metadata(reader)
    assert_same_metadata(keel, ref)
    tokens = dict((k, v) for k, _, v in keel)["tokenizer.ggml.tokens"]
    assert len(tokens[1]) > 1000
    assert len(dump["tensors"]) == len(reader.tensors)
    for kt, rt in zip(dump["tensors"], reader.tensors):
        assert (kt["name"], kt["ggml_type"], kt["ne"]) == (rt.name, int(rt.tensor_type), [int(d) for d in rt.shape])


def test_found_vocab_files():
    assert len(ALL_VOCAB_FILES) >= 10
    assert len(VOCAB_FILES) >= 4


# ---------------------------------------------------------------- quantization

def hard_blocks(n_blocks: int, rng) -> np.ndarray:
    """Blocks of 32 meant to catch rounding differences."""
    b = rng.standard_normal((n_blocks, 32)).astype(np.float32)
    b *= np.float32(10.0) ** rng.integers(-6, 5, (n_blocks, 1)).astype(np.float32)
    b[0] = 0                                             # all zeros
    b[1] = np.arange(32, dtype=np.float32) - 16          # max magnitude negative
    b[2] = np.where(np.arange(32) % 2, 1, -1) * np.float32(3.0)  # +-max tie: first wins (q4_0)
    b[3] = np.arange(-127, 129, 8, dtype=np.float32)[:32] + np.float32(0.5)  # x.5 ties (q8_0 d = 1)
    b[3, 0] = 127
    b[4] = np.float32(1e-40)                             # denormals
    b[5] = np.float32(60000.0)                           # all equal, large
    b[6] = -b[5]
    b[7] = np.float32(2.0) ** -20 * (np.arange(32) - 15.5)  # scale underflows f16 in q8_0
    return b


def quantize_with_keel(tmp, dtype: str, x: np.ndarray) -> bytes:
    src, dst = tmp / f"q_{dtype}.f32", tmp / f"q_{dtype}.bin"
    x.astype(np.float32).tofile(src)
    tool("quantize", dtype, src, dst)
    return dst.read_bytes()


def dequantize_with_keel(tmp, dtype: str, data: bytes) -> np.ndarray:
    src, dst = tmp / f"d_{dtype}.bin", tmp / f"d_{dtype}.f32"
    src.write_bytes(data)
    tool("dequantize", dtype, src, dst)
    return np.fromfile(dst, dtype=np.float32)


@pytest.mark.parametrize("dtype", ["q8_0", "q4_0", "bf16"])
def test_quantize_bytes_match_gguf_py(tmp, dtype):
    x = hard_blocks(2048, np.random.default_rng(1))
    if dtype == "bf16":
        x[8] = np.float32(np.nan)
        x[9, :4] = [np.inf, -np.inf, -0.0, 3.4028235e38]
    keel = quantize_with_keel(tmp, dtype, x)
    with np.errstate(all="ignore"):  # the hostile blocks overflow 1/d on purpose
        ref = gguf.quants.quantize(x, QTYPES[dtype]).tobytes()
    assert len(keel) == len(ref)
    n_diff = sum(a != b for a, b in zip(keel, ref))
    assert n_diff == 0, f"{dtype}: {n_diff} of {len(ref)} bytes differ from gguf-py"


def test_f16_matches_numpy(tmp):
    x = hard_blocks(256, np.random.default_rng(2))
    x[8, :6] = [65504, 65519.99, 65520, -1e-8, 6e-8, np.inf]
    with np.errstate(over="ignore"):
        ref = x.astype(np.float16).tobytes()
    assert quantize_with_keel(tmp, "f16", x) == ref


@pytest.mark.parametrize("dtype", ["q8_0", "q4_0", "q4_K", "q6_K", "bf16"])
def test_dequantize_matches_gguf_py(tmp, dtype):
    """Random block bytes (scales kept finite) decoded by both: bit-identical floats."""
    qt = QTYPES[dtype]
    block_elems, block_bytes = gguf.GGML_QUANT_SIZES[qt]
    rng = np.random.default_rng(3)
    blocks = rng.integers(0, 256, (512, block_bytes), dtype=np.uint8)
    scale_at = {"q8_0": [0], "q4_0": [0], "q4_K": [0, 2], "q6_K": [208], "bf16": []}[dtype]
    for at in scale_at:
        d = (rng.standard_normal(512) * 10.0 ** rng.integers(-4, 3, 512)).astype(np.float16)
        blocks[:, at:at + 2] = d.view(np.uint8).reshape(512, 2)
    if dtype == "bf16":  # avoid NaN payload comparisons: clear exponents of all-ones
        v = blocks.view(np.uint16)
        v[(v & 0x7F80) == 0x7F80] &= 0xBFFF
    keel = dequantize_with_keel(tmp, dtype, blocks.tobytes())
    ref = gguf.quants.dequantize(blocks.reshape(-1), qt).astype(np.float32).reshape(-1)
    assert keel.shape == ref.shape
    diff = np.abs(keel.astype(np.float64) - ref.astype(np.float64)).max()
    assert keel.tobytes() == ref.tobytes(), f"{dtype}: max abs diff {diff}"


# ---------------------------------------------------------------- ggml's C reference

REF_MAIN = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define GGML_COMMON_DECL_C
#include "ggml-common.h"
#include "ggml-quants.h"
int main(int argc, char** argv) {
  FILE* f = fopen(argv[2], "rb"); fseek(f, 0, SEEK_END); long n = ftell(f) / 4; fseek(f, 0, SEEK_SET);
  float* x = malloc(n * 4); if (fread(x, 4, n, f) != (size_t)n) return 1; fclose(f);
  size_t bytes; void* y;
  if (!strcmp(argv[1], "q4_K")) { bytes = n / 256 * sizeof(block_q4_K); y = malloc(bytes); quantize_row_q4_K_ref(x, y, n); }
  else if (!strcmp(argv[1], "q6_K")) { bytes = n / 256 * sizeof(block_q6_K); y = malloc(bytes); quantize_row_q6_K_ref(x, y, n); }
  else if (!strcmp(argv[1], "q8_0")) { bytes = n / 32 * sizeof(block_q8_0); y = malloc(bytes); quantize_row_q8_0_ref(x, y, n); }
  else if (!strcmp(argv[1], "q4_0")) { bytes = n / 32 * sizeof(block_q4_0); y = malloc(bytes); quantize_row_q4_0_ref(x, y, n); }
  else return 2;
  FILE* o = fopen(argv[3], "wb"); fwrite(y, 1, bytes, o); fclose(o);
  return 0;
}
"""
# The ggml symbols ggml-quants.c references outside the reference quantizers.
REF_STUBS = r"""
#include <stdio.h>
#include <stdlib.h>
void ggml_abort(const char* file, int line, const char* fmt, ...) { fprintf(stderr, "abort %s:%d\n", file, line); abort(); }
size_t ggml_row_size(int type, long ne) { abort(); }
const char* ggml_type_name(int type) { return "?"; }
size_t ggml_type_size(int type) { abort(); }
"""


@pytest.fixture(scope="module")
def ggml_ref(tmp):
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    src = LLAMA / "ggml" / "src" / "ggml-quants.c"
    if not cc or not src.exists():
        pytest.skip("no C compiler or ggml sources for the C reference")
    (tmp / "ref_main.c").write_text(REF_MAIN)
    (tmp / "ref_stubs.c").write_text(REF_STUBS)
    exe = tmp / "ggml_ref"
    # NDEBUG as in ggml's release builds: nearest_int() asserts |x| <= 2^22,
    # which the hostile blocks below (denormal scales) exceed on purpose.
    r = subprocess.run([cc, "-O2", "-DNDEBUG", "-std=gnu11", "-w", f"-I{LLAMA / 'ggml' / 'include'}", f"-I{LLAMA / 'ggml' / 'src'}",
                        str(tmp / "ref_main.c"), str(tmp / "ref_stubs.c"), str(src), "-lm", "-o", str(exe)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot build ggml's reference quantizers: {r.stderr[-2000:]}")
    return exe


@pytest.mark.parametrize("dtype", ["q4_K", "q6_K", "q8_0", "q4_0"])
def test_quantize_bytes_match_ggml_c_reference(tmp, ggml_ref, dtype):
    rng = np.random.default_rng(4)
    x = hard_blocks(8 * 256, rng).reshape(-1)  # 256 super-blocks of 256
    # Super-blocks with structure the K-quant fit must handle identically.
    sb = x.reshape(-1, 256)
    sb[10] = np.abs(sb[10])                      # one-signed: min is 0
    sb[11] = -np.abs(sb[11]) - 1                 # all negative
    sb[12] = rng.standard_normal(256).astype(np.float32) * np.float32(1e-3) + 5
    sb[13, ::2] = 0                              # sparse
    keel = quantize_with_keel(tmp, dtype, x)
    src, dst = tmp / f"ref_{dtype}.f32", tmp / f"ref_{dtype}.bin"
    x.tofile(src)
    subprocess.run([str(ggml_ref), dtype, str(src), str(dst)], check=True)
    ref = dst.read_bytes()
    assert len(keel) == len(ref)
    n_diff = sum(a != b for a, b in zip(keel, ref))
    assert n_diff == 0, f"{dtype}: {n_diff} of {len(ref)} bytes differ from ggml's C reference"
