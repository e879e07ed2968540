"""Tokenizers embedded in GGUF files (`keel tokenize --tokenizer x.gguf`) against
llama.cpp's vocab tests.

llama.cpp's models/ggml-vocab-<name>.gguf hold only tokenizer.ggml.* metadata;
beside each, .gguf.inp has the inputs (separated by "\\n__ggml_vocab_test__\\n")
and .gguf.out the ids HF tokenizers gave the original model for them
(convert_hf_to_gguf_update.py: tokenizer.encode(text, add_special_tokens=False)).
tests/test-tokenizer-0.cpp reads both into a map text -> ids (a repeated input
keeps its last ids) and tokenizes with add_special=false, parse_special=false;
--no-special is keel's add_special_tokens=False. (None of the inputs contains a
special token's text, so parse_special makes no difference.)

Detokenizing: test-tokenizer-0 only prints it. Where the pipeline is lossless
-- byte-level BPE and SentencePiece with byte fallback -- decode(encode(text))
must give the text back (qwen2 normalizes to NFC first, so NFC(text));
test-tokenizer-1-spm's sweeps (every token, every code point) run on llama-spm.
BERT lowercases and drops spacing, so its decode is compared with HF's
WordPiece decoder written out below from tokenizers' decoders/wordpiece.rs.
"""
import json
import os
import subprocess
import sys
import unicodedata

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.abspath(os.path.join(HERE, "..", ".."))
KEEL_BIN = os.environ.get("KEEL_BIN", os.path.join(SOURCE, "build", "bin", "keel"))
LLAMA_CPP = os.environ.get("KEEL_LLAMA_CPP", os.path.join(SOURCE, "third_party", "llama.cpp"))
MODELS = os.path.join(LLAMA_CPP, "models")

# Every vocab there with .inp/.out (the files without them have nothing to
# compare with).
VOCABS = ["llama-spm", "llama-bpe", "gpt-2", "bert-bge", "qwen2", "phi-3", "qwen35", "mpt", "starcoder",
          "refact", "command-r", "falcon", "deepseek-llm", "deepseek-coder", "gemma-4"]
# Normalization the pipeline applies (None: the text comes back as it is).
LOSSLESS = {"llama-spm": None, "phi-3": None, "llama-bpe": None, "gpt-2": None, "qwen2": "NFC", "qwen35": None,
            "mpt": "NFC", "starcoder": None, "refact": None, "command-r": "NFC", "falcon": None,
            "deepseek-llm": None, "deepseek-coder": None, "gemma-4": None}

SEP = "\n__ggml_vocab_test__\n"


def vocab_path(name):
    path = os.path.join(MODELS, f"ggml-vocab-{name}.gguf")
    assert os.path.isfile(path), f"{path} not found (KEEL_LLAMA_CPP={LLAMA_CPP})"
    return path


def read_cases(name):
    """test-tokenizer-0.cpp's read_tests: {text: [ids]}."""
    path = vocab_path(name)
    with open(path + ".inp", "rb") as f:
        raw = f.read().decode("utf-8")
    inputs = []
    pos = 0
    while pos < len(raw):
        nxt = raw.find(SEP, pos)
        if nxt < 0:
            inputs.append(raw[pos:])
            break
        inputs.append(raw[pos:nxt])
        pos = nxt + len(SEP)
    with open(path + ".out", "rb") as f:
        out_raw = f.read().decode("ascii")
    outputs = out_raw.split("\n")
    if out_raw.endswith("\n"):
        outputs.pop()
    assert len(inputs) == len(outputs), f"{name}: {len(inputs)} inputs but {len(outputs)} outputs"
    assert len(inputs) > 20
    cases = {}
    for text, line in zip(inputs, outputs):
        cases[text] = [int(t) for t in line.strip().split(" ") if t]
    return cases


def keel_lines(args, lines):
    assert os.access(KEEL_BIN, os.X_OK), f"keel binary not found at KEEL_BIN={KEEL_BIN}"
    stdin = "".join(line + "\n" for line in lines).encode("utf-8")
    p = subprocess.run([KEEL_BIN, *args], input=stdin, capture_output=True, timeout=600)
    # Only "\n" ends a line: decoded text may hold U+2028 and the like unescaped.
    out = [json.loads(l) for l in p.stdout.decode("utf-8").split("\n")[:-1]]
    assert p.returncode == 0, (p.stderr.decode("utf-8", "replace"), [o for o in out if "error" in o][:5])
    assert len(out) == len(lines)
    return out


def encode(name, texts, special=False):
    args = ["tokenize", "--tokenizer", vocab_path(name)] + ([] if special else ["--no-special"])
    return [o["ids"] for o in keel_lines(args, [json.dumps(t) for t in texts])]


def decode(name, id_lists, skip_special=False):
    args = ["detokenize", "--tokenizer", vocab_path(name)] + (["--skip-special"] if skip_special else [])
    return keel_lines(args, [json.dumps(ids) for ids in id_lists])


def report(bad, what):
    return f"{len(bad)} {what}:\n" + "\n".join(repr(b) for b in bad[:20])


@pytest.mark.parametrize("name", VOCABS)
def test_ids_match_hf_tokenizers(name):
    cases = read_cases(name)
    texts = list(cases)
    got = encode(name, texts)
    bad = [(t, cases[t], g) for t, g in zip(texts, got) if g != cases[t]]
    assert not bad, report(bad, "cases differ (text, expected, keel)")


@pytest.mark.parametrize("name", sorted(LOSSLESS))
def test_detokenize_gives_the_text_back(name):
    texts = list(read_cases(name))
    form = LOSSLESS[name]
    want = [unicodedata.normalize(form, t) if form else t for t in texts]
    got = decode(name, encode(name, texts))
    bad = [(w, g) for w, g in zip(want, got) if w != g]
    assert not bad, report(bad, "texts do not come back (want, keel)")


def gguf_tokens(name):
    sys.path.insert(0, os.path.join(LLAMA_CPP, "gguf-py"))
    try:
        import gguf
    finally:
        sys.path.pop(0)
    r = gguf.GGUFReader(vocab_path(name))
    f = r.fields["tokenizer.ggml.tokens"]
    types = r.fields["tokenizer.ggml.token_type"].contents()
    return [f.contents(i) for i in range(len(f.data))], types


def hf_wordpiece_decode(tokens):
    """tokenizers decoders/wordpiece.rs, prefix "##", cleanup: decode_chain
    cleans each token on its own (so "y", "'", "all" stay "y ' all")."""
    out = []
    for i, t in enumerate(tokens):
        if i != 0:
            t = t[2:] if t.startswith("##") else " " + t
        for a, b in [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                     (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")]:
            t = t.replace(a, b)
        out.append(t)
    return "".join(out)


def wordpiece_token(t, token_type):
    """llama.cpp's converter stores control tokens as they are, "##x" as "x" and
    other tokens as "\u2581x" ("[unused0]"-style ones as they are, in older files)."""
    if token_type == 3 or (t.startswith("[") and t.endswith("]")):
        return t
    return t[1:] if t.startswith("\u2581") else "##" + t


def test_bert_detokenize_is_hf_wordpiece_decoding():
    cases = read_cases("bert-bge")
    gguf_texts, types = gguf_tokens("bert-bge")
    ids = list(cases.values())
    want = [hf_wordpiece_decode([wordpiece_token(gguf_texts[i], types[i]) for i in x]) for x in ids]
    got = decode("bert-bge", ids)
    bad = [(w, g) for w, g in zip(want, got) if w != g]
    assert not bad, report(bad, "decodes differ (HF WordPiece, keel)")
    assert "hello world" in got


def test_llama_spm_every_token_round_trips():
    """test-tokenizer-1-spm: each token's text (specials shown) tokenizes
    (specials parsed) and detokenizes back to itself."""
    n = len(gguf_tokens("llama-spm")[0])
    pieces = decode("llama-spm", [[i] for i in range(n)])
    again = decode("llama-spm", encode("llama-spm", pieces))
    bad = [(i, p, a) for i, (p, a) in enumerate(zip(pieces, again)) if p != a]
    assert not bad, report(bad, "tokens do not round-trip (id, text, again)")


def test_llama_spm_every_code_point_round_trips():
    """test-tokenizer-1-spm: every code point but surrogates, the unassigned
    planes 4..14 and U+2581 (which decodes as a space)."""
    cps = [c for c in range(0x110000)
           if not (0xD800 <= c <= 0xDFFF or 0x40000 <= c <= 0xE0000 or c == 0x2581)]
    texts = [chr(c) for c in cps]
    got = decode("llama-spm", encode("llama-spm", texts))
    bad = [(hex(c), g) for c, t, g in zip(cps, texts, got) if t != g]
    assert not bad, report(bad, "code points do not round-trip (code point, keel)")
