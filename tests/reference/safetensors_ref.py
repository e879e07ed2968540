"""An independent safetensors reader and writer in plain Python + numpy, written
from the format description (https://github.com/huggingface/safetensors), not
from keel's code. Tests use it to check files keel writes and to make files for
keel to read.

Layout: 8-byte little-endian header length N, N bytes of UTF-8 JSON
    {"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [b, e]}, ...}
then the data section; offsets are relative to its start. HF's rules, which
read() enforces: N <= 100,000,000; unique names; known dtypes; the byte range
matches dtype x shape; sorted by offset the tensors tile the data section exactly.
"""

import json
import struct
from dataclasses import dataclass

import numpy as np

MAX_HEADER = 100_000_000

# safetensors dtype -> (bytes per element, numpy dtype to view the bytes as).
# BF16 and the F8 types have no numpy dtype: they are viewed as raw integers.
DTYPES = {
    "F64": (8, "<f8"), "F32": (4, "<f4"), "F16": (2, "<f2"), "BF16": (2, "<u2"),
    "I64": (8, "<i8"), "I32": (4, "<i4"), "I16": (2, "<i2"), "I8": (1, "i1"),
    "U64": (8, "<u8"), "U32": (4, "<u4"), "U16": (2, "<u2"), "U8": (1, "u1"),
    "BOOL": (1, "u1"), "F8_E4M3": (1, "u1"), "F8_E5M2": (1, "u1"),
}


class SafetensorsError(ValueError):
    pass


@dataclass
class Tensor:
    dtype: str
    shape: list
    begin: int
    end: int
    data: bytes

    def array(self):
        """The values as numpy; BF16 widened to float32, F8 left as raw bytes."""
        size, np_dtype = DTYPES[self.dtype]
        a = np.frombuffer(self.data, dtype=np_dtype).reshape(self.shape)
        if self.dtype == "BF16":
            return (a.astype(np.uint32) << 16).view(np.float32)
        if self.dtype == "BOOL":
            return a.astype(bool)
        return a


@dataclass
class File:
    header_size: int
    header_text: str
    keys: list  # top-level keys in file order
    metadata: dict
    tensors: dict  # name -> Tensor


def _no_duplicates(pairs):
    seen = {}
    for k, v in pairs:
        if k in seen:
            raise SafetensorsError(f"duplicate key {k!r}")
        seen[k] = v
    return seen


def parse(buf):
    if len(buf) < 8:
        raise SafetensorsError("file shorter than 8 bytes")
    (n,) = struct.unpack("<Q", buf[:8])
    if n > MAX_HEADER:
        raise SafetensorsError("header too large")
    if 8 + n > len(buf):
        raise SafetensorsError("header past end of file")
    text = buf[8:8 + n].decode("utf-8")  # raises on invalid UTF-8
    header = json.loads(text, object_pairs_hook=_no_duplicates)
    if not isinstance(header, dict):
        raise SafetensorsError("header is not an object")
    keys = list(header)  # dicts keep the file's order
    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise SafetensorsError("__metadata__ must map strings to strings")
    data = buf[8 + n:]
    tensors = {}
    for name, info in header.items():
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise SafetensorsError(f"{name}: bad entry {info!r}")
        dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if dtype not in DTYPES:
            raise SafetensorsError(f"{name}: unknown dtype {dtype!r}")
        if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
            raise SafetensorsError(f"{name}: bad shape {shape!r}")
        if (not isinstance(offsets, list) or len(offsets) != 2 or
                not all(type(o) is int and o >= 0 for o in offsets) or offsets[0] > offsets[1]):
            raise SafetensorsError(f"{name}: bad data_offsets {offsets!r}")
        need = DTYPES[dtype][0] * int(np.prod(shape, dtype=object))
        if offsets[1] - offsets[0] != need:
            raise SafetensorsError(f"{name}: {dtype} x {shape} needs {need} bytes")
        tensors[name] = Tensor(dtype, shape, offsets[0], offsets[1], bytes(data[offsets[0]:offsets[1]]))
    end = 0
    for name, t in sorted(tensors.items(), key=lambda kv: (kv[1].begin, kv[1].end)):
        if t.begin != end:
            raise SafetensorsError(f"{name}: begins at {t.begin}, previous tensor ended at {end}")
        end = t.end
    if end != len(data):
        raise SafetensorsError(f"tensors cover {end} of {len(data)} data bytes")
    return File(n, text, keys, metadata, tensors)


def read(path):
    with open(path, "rb") as f:
        return parse(f.read())


def encode(tensors, metadata=None):
    """File bytes laid out like HF's safetensors.serialize: tensors sorted by
    element size (largest first) then name, compact JSON with "__metadata__"
    first, padded with spaces to a multiple of 8. `tensors` maps a name to
    (dtype, shape, raw bytes)."""
    order = sorted(tensors, key=lambda name: (-DTYPES[tensors[name][0]][0], name))
    header = {}
    if metadata:
        header["__metadata__"] = dict(metadata)
    offset = 0
    for name in order:
        dtype, shape, raw = tensors[name]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(tensors[name][2] for name in order)


def write(path, tensors, metadata=None):
    with open(path, "wb") as f:
        f.write(encode(tensors, metadata))


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"
