"""`keel quantize` against llama.cpp's own quantizer and readers.

A Llama-shaped GGUF (f32 weights, synthetic vocabulary, 12 layers so that the
Q4_K_M "use_more_bits" layers 0, 3, 6, 9, 10, 11 differ from the rest; written
last layer first, since llama.cpp counts layers in its own order, not the
file's) is written with gguf-py, and GPT-2-shaped ones (fused attn_qkv, which
where rows are not whole 256-element blocks, Q4_K_M falls back to q5_0 and
Q5_K_M to q5_1). For each target type, keel quantize and llama.cpp's
llama_model_quantize (the prebuilt libllama of node-llama-cpp, through ctypes)
both convert it; then:
  * every tensor has the type llama.cpp chose, and the same bytes (keel's
    quantizers follow ggml's reference ones, and llama.cpp uses those when no
    importance matrix is given);
  * gguf-py (GGUFReader + gguf.quants) dequantizes keel's tensors to within
    the type's error of the source;
  * the source metadata is preserved and general.file_type is llama.cpp's;
  * libllama loads keel's file (llama_model_load_from_file).
"""
import ctypes
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
LLAMA = Path(os.environ.get("KEEL_LLAMA_CPP", REPO / "third_party" / "llama.cpp"))
sys.path.insert(0, str(LLAMA / "gguf-py"))
import gguf  # noqa: E402
from gguf import GGMLQuantizationType as QT  # noqa: E402

KEEL = Path(os.environ.get("KEEL_BIN", REPO / "build" / "bin" / "keel"))
PEERS = Path(os.environ.get("KEEL_PEERS", REPO / "tools" / "peers" / "node_modules"))
LIBDIR = PEERS / "@node-llama-cpp" / "linux-x64" / "bins" / "linux-x64"

FTYPES = {"f32": 0, "f16": 1, "q4_0": 2, "q8_0": 7, "q4_K_M": 15, "q5_K_M": 17, "bf16": 32}
HIDDEN, FFN, LAYERS, HEADS, KV_HEADS, VOCAB = 256, 512, 12, 4, 2, 320


class _Lib:
    """libllama through ctypes. Structs returned / passed by value are held in
    256-byte buffers (larger than the real ones; only the leading fields are
    touched), which the x86-64 calling convention passes in memory."""

    def __init__(self):
        mode = ctypes.RTLD_GLOBAL
        ctypes.CDLL(str(LIBDIR / "libggml-base.so"), mode=mode)
        self.ggml = ctypes.CDLL(str(LIBDIR / "libggml.v0.5.0.so"), mode=mode)
        self.llama = ctypes.CDLL(str(LIBDIR / "libllama.v0.5.0.so"), mode=mode)
        self.ggml.ggml_backend_load_all_from_path.argtypes = [ctypes.c_char_p]
        self.ggml.ggml_backend_load_all_from_path(str(LIBDIR).encode())
        self.llama.llama_backend_init()
        self.llama.llama_model_quantize_default_params.restype = _Blob
        self.llama.llama_model_quantize.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(_Blob)]
        self.llama.llama_model_quantize.restype = ctypes.c_uint32
        self.llama.llama_model_default_params.restype = _Blob
        self.llama.llama_model_load_from_file.argtypes = [ctypes.c_char_p, _Blob]
        self.llama.llama_model_load_from_file.restype = ctypes.c_void_p
        self.llama.llama_model_n_params.argtypes = [ctypes.c_void_p]
        self.llama.llama_model_n_params.restype = ctypes.c_uint64
        self.llama.llama_model_free.argtypes = [ctypes.c_void_p]

    def quantize(self, src: Path, dst: Path, ftype: int):
        p = self.llama.llama_model_quantize_default_params()
        ctypes.c_int32.from_buffer(p, 0).value = 2      # nthread
        ctypes.c_int32.from_buffer(p, 4).value = ftype  # ftype
        rc = self.llama.llama_model_quantize(str(src).encode(), str(dst).encode(), ctypes.byref(p))
        assert rc == 0, f"llama_model_quantize({src}, ftype {ftype}) returned {rc}"

    def n_params(self, path: Path) -> int:
        model = self.llama.llama_model_load_from_file(str(path).encode(), self.llama.llama_model_default_params())
        assert model, f"libllama could not load {path}"
        n = self.llama.llama_model_n_params(model)
        self.llama.llama_model_free(model)
        return n


class _Blob(ctypes.Structure):
    _fields_ = [("raw", ctypes.c_uint8 * 256)]


@pytest.fixture(scope="module")
def lib():
    if not (LIBDIR / "libllama.v0.5.0.so").exists():
        pytest.fail(f"no prebuilt libllama in {LIBDIR} (npm peers not installed?)")
    return _Lib()


@pytest.fixture(scope="module")
def tmp():
    base = os.environ.get("KEEL_TEST_TMP")
    if base:
        os.makedirs(base, exist_ok=True)
    d = tempfile.mkdtemp(prefix="quantize_", dir=base)
    yield Path(d)
    shutil.rmtree(d, ignore_errors=True)


def write_source(path: Path, tied: bool, hidden: int = HIDDEN, seed: int = 0):
    rng = np.random.default_rng(seed)
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("keel quantize test")
    w.add_context_length(256)
    w.add_embedding_length(hidden)
    w.add_block_count(LAYERS)
    w.add_feed_forward_length(FFN)
    w.add_head_count(HEADS)
    w.add_head_count_kv(KV_HEADS)
    w.add_rope_dimension_count(hidden // HEADS)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(VOCAB)
    w.add_file_type(0)
    w.add_string("keel.test.note", "preserved?")
    w.add_array("keel.test.ints", [3, 1, 4, 1, 5])
    # A SentencePiece-style vocabulary: specials, the 256 byte tokens, words.
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    tokens += [f"\u2581w{i}" for i in range(VOCAB - len(tokens))]
    types = [2, 3, 3] + [6] * 256 + [1] * (VOCAB - 259)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores([-float(i) for i in range(VOCAB)])
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)

    def t(name, *shape, scale=0.05):
        w.add_tensor(name, (rng.standard_normal(shape) * scale).astype(np.float32))

    kv = hidden // HEADS * KV_HEADS
    t("token_embd.weight", VOCAB, hidden)
    for i in reversed(range(LAYERS)):
        w.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(hidden, np.float32))
        t(f"blk.{i}.attn_q.weight", hidden, hidden)
        t(f"blk.{i}.attn_k.weight", kv, hidden)
        t(f"blk.{i}.attn_v.weight", kv, hidden)
        t(f"blk.{i}.attn_output.weight", hidden, hidden)
        w.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(hidden, np.float32))
        t(f"blk.{i}.ffn_gate.weight", FFN, hidden)
        t(f"blk.{i}.ffn_up.weight", FFN, hidden)
        t(f"blk.{i}.ffn_down.weight", hidden, FFN)
    w.add_tensor("output_norm.weight", np.ones(hidden, np.float32))
    if not tied:
        t("output.weight", VOCAB, hidden)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def write_gpt2_source(path: Path, hidden: int, seed: int = 1):
    """A GPT-2-shaped GGUF: fused attn_qkv (counted with attn_v by the K_M
    recipes), biases, learned positions, tied head."""
    rng = np.random.default_rng(seed)
    w = gguf.GGUFWriter(str(path), "gpt2")
    w.add_name("keel quantize gpt2 test")
    w.add_context_length(128)
    w.add_embedding_length(hidden)
    w.add_block_count(LAYERS)
    w.add_feed_forward_length(4 * hidden)
    w.add_head_count(HEADS)
    w.add_layer_norm_eps(1e-5)
    w.add_file_type(0)
    # A byte-level BPE vocabulary: the 256 byte symbols, a few merges.
    symbols = [chr(c) for c in range(0x21, 0x7f)] + [chr(c) for c in range(0xa1, 0xad)] + \
        [chr(c) for c in range(0xae, 0x100)]
    symbols += [chr(0x100 + i) for i in range(256 - len(symbols))]
    merges = [f"{a} {b}" for a, b in zip("tha", "hen")]
    tokens = symbols + [m.replace(" ", "") for m in merges]
    tokens += [f"w{i}" for i in range(VOCAB - 1 - len(tokens))] + ["<|endoftext|>"]
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types([1] * (VOCAB - 1) + [3])
    w.add_token_merges(merges)
    w.add_bos_token_id(VOCAB - 1)
    w.add_eos_token_id(VOCAB - 1)

    def t(name, *shape, scale=0.05):
        w.add_tensor(name, (rng.standard_normal(shape) * scale).astype(np.float32))

    t("token_embd.weight", VOCAB, hidden)
    t("position_embd.weight", 128, hidden)
    for i in range(LAYERS):
        for norm in ("attn_norm", "ffn_norm"):
            w.add_tensor(f"blk.{i}.{norm}.weight", np.ones(hidden, np.float32))
            w.add_tensor(f"blk.{i}.{norm}.bias", np.zeros(hidden, np.float32))
        t(f"blk.{i}.attn_qkv.weight", 3 * hidden, hidden)
        t(f"blk.{i}.attn_qkv.bias", 3 * hidden)
        t(f"blk.{i}.attn_output.weight", hidden, hidden)
        t(f"blk.{i}.attn_output.bias", hidden)
        t(f"blk.{i}.ffn_up.weight", 4 * hidden, hidden)
        t(f"blk.{i}.ffn_up.bias", 4 * hidden)
        t(f"blk.{i}.ffn_down.weight", hidden, 4 * hidden)
        t(f"blk.{i}.ffn_down.bias", hidden)
    w.add_tensor("output_norm.weight", np.ones(hidden, np.float32))
    w.add_tensor("output_norm.bias", np.zeros(hidden, np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def keel_quantize(src: Path, dst: Path, ftype: str):
    r = subprocess.run([str(KEEL), "quantize", str(src), str(dst), "--type", ftype, "--threads", "2"],
                       capture_output=True, text=True)
    return r


def field_value(reader, key):
    f = reader.fields[key]
    if f.types[0] == gguf.GGUFValueType.ARRAY:
        if f.types[-1] == gguf.GGUFValueType.STRING:
            return [bytes(f.parts[i]).decode() for i in f.data]
        return [f.parts[i].tolist()[0] for i in f.data]
    if f.types[0] == gguf.GGUFValueType.STRING:
        return bytes(f.parts[f.data[0]]).decode()
    return f.parts[f.data[0]].tolist()[0]


# Largest |error| per element of each type on N(0, 0.05) weights, relative to
# the row's max |w| (generous: the dequantized bytes are also compared with
# llama.cpp's exactly; this checks gguf-py's reading of them).
REL_TOL = {QT.F32: 0, QT.F16: 1e-3, QT.BF16: 8e-3, QT.Q8_0: 1e-2, QT.Q6_K: 3e-2, QT.Q4_0: 0.13, QT.Q4_K: 0.13,
           QT.Q5_0: 0.07, QT.Q5_1: 0.04, QT.Q5_K: 0.07}


@pytest.mark.parametrize("tied", [False, True], ids=["untied", "tied"])
@pytest.mark.parametrize("ftype", ["q4_K_M", "q5_K_M", "q8_0", "q4_0", "f16", "bf16", "f32"])
def test_quantize_matches_llama_cpp(lib, tmp, ftype, tied):
    src = tmp / f"src_{'tied' if tied else 'untied'}.gguf"
    if not src.exists():
        write_source(src, tied)
    ours, ref = tmp / f"keel_{ftype}_{tied}.gguf", tmp / f"llama_{ftype}_{tied}.gguf"
    r = keel_quantize(src, ours, ftype)
    assert r.returncode == 0, r.stderr
    lib.quantize(src, ref, FTYPES[ftype])

    rs, rk, rl = gguf.GGUFReader(str(src)), gguf.GGUFReader(str(ours)), gguf.GGUFReader(str(ref))
    kinds = compare_tensors(rs, rk, rl)
    if ftype.endswith("_K_M"):
        # The recipe really is mixed: q6_K output (or tied token_embd) and
        # use_more_bits layers, q4_K / q5_K elsewhere.
        base = "Q4_K" if ftype == "q4_K_M" else "Q5_K"
        assert ("attn_v", "Q6_K") in kinds and ("attn_v", base) in kinds
        assert ("ffn_down", "Q6_K") in kinds and ("ffn_down", base) in kinds
        assert ("token_embd", "Q6_K" if tied else base) in kinds

    # Metadata: everything from the source, in order, file_type replaced.
    for key in rs.fields:
        if key.startswith("GGUF.") or key == "general.file_type":
            continue
        assert key in rk.fields, f"metadata {key} lost"
        assert field_value(rk, key) == field_value(rs, key), key
    assert field_value(rk, "general.file_type") == FTYPES[ftype] == field_value(rl, "general.file_type")

    assert lib.n_params(ours) == lib.n_params(src)


def compare_tensors(rs, rk, rl):
    """keel's tensors (rk) against llama.cpp's (rl): the same names, types and
    bytes, and gguf-py's dequantization of keel's within REL_TOL of the source
    (rs). Returns the set of (tensor kind, type) seen."""
    ref_tensors = {t.name: t for t in rl.tensors}
    src_tensors = {t.name: t for t in rs.tensors}
    assert [t.name for t in rk.tensors] == [t.name for t in rs.tensors]
    kinds = set()
    for t in rk.tensors:
        lt = ref_tensors[t.name]
        assert t.tensor_type == lt.tensor_type, f"{t.name}: keel {t.tensor_type.name}, llama.cpp {lt.tensor_type.name}"
        kinds.add((t.name.split(".")[-2], t.tensor_type.name))
        assert list(t.shape) == list(lt.shape), t.name
        assert bytes(t.data.tobytes()) == bytes(lt.data.tobytes()), f"{t.name} ({t.tensor_type.name}): bytes differ"
        # gguf-py's dequantization of keel's bytes vs the f32 source.
        s = np.asarray(src_tensors[t.name].data, dtype=np.float32).reshape(-1, int(t.shape[0]))
        d = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32).reshape(s.shape)
        amax = np.abs(s).max(axis=1, keepdims=True)
        err = np.abs(d - s) / np.maximum(amax, 1e-30)
        assert err.max() <= REL_TOL[t.tensor_type], f"{t.name}: max error {err.max():.3g} of the row max"
    return kinds


# hidden 256: attn_qkv in attn_v's place; hidden 96: no row of the
# attention is whole 256-element blocks, so llama.cpp's fallbacks apply
# (q4_K -> q5_0, q5_K -> q5_1, q6_K -> q8_0).
@pytest.mark.parametrize("hidden", [256, 96])
@pytest.mark.parametrize("ftype", ["q4_K_M", "q5_K_M"])
def test_quantize_gpt2_matches_llama_cpp(lib, tmp, ftype, hidden):
    src = tmp / f"gpt2_{hidden}.gguf"
    if not src.exists():
        write_gpt2_source(src, hidden)
    ours, ref = tmp / f"keel_gpt2_{ftype}_{hidden}.gguf", tmp / f"llama_gpt2_{ftype}_{hidden}.gguf"
    r = keel_quantize(src, ours, ftype)
    assert r.returncode == 0, r.stderr
    lib.quantize(src, ref, FTYPES[ftype])
    rs, rk, rl = gguf.GGUFReader(str(src)), gguf.GGUFReader(str(ours)), gguf.GGUFReader(str(ref))
    kinds = compare_tensors(rs, rk, rl)
    base = {"q4_K_M": ("Q4_K", "Q5_0"), "q5_K_M": ("Q5_K", "Q5_1")}[ftype][hidden == 96]
    assert {("attn_qkv", base), ("attn_output", base)} <= kinds
    assert ("attn_qkv", "Q8_0" if hidden == 96 else "Q6_K") in kinds
    assert lib.n_params(ours) == lib.n_params(src)


def test_quantize_errors(tmp):
    src = tmp / "src_untied.gguf"
    if not src.exists():
        write_source(src, tied=False)
    r = keel_quantize(src, tmp / "x.gguf", "q3_K")
    assert r.returncode == 2 and "q3_K" in r.stderr
    r = keel_quantize(tmp / "missing.gguf", tmp / "x.gguf", "q8_0")
    assert r.returncode == 1 and "missing.gguf" in r.stderr
    # A source tensor of a type keel cannot read: the error names it, and no
    # output file is left behind.
    src = tmp / "q3_K_source.gguf"
    w = gguf.GGUFWriter(str(src), "llama")
    w.add_tensor("blk.0.attn_q.weight", np.zeros((4, 110), np.uint8), raw_dtype=QT.Q3_K)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    r = keel_quantize(src, tmp / "x.gguf", "q8_0")
    assert r.returncode == 1 and "blk.0.attn_q.weight" in r.stderr and "q3_K" in r.stderr, r.stderr
    assert not (tmp / "x.gguf").exists()
