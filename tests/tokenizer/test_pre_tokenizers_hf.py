"""keel's pre-tokenizers against HF tokenizers (Node binding): the same pieces
and code-point offsets for every pre-tokenizer type and option, on varied text,
the shared test corpus, and every Unicode code point; and the same configs
accepted or rejected.

keel side: build/bin/pretokenize_tool (tests/tools/pretokenize_tool.cc).
HF side: tests/tokenizer/hf_pretokenize.js.
"""
import json
import os
import random
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import corpus  # noqa: E402

KEEL_BIN = os.environ.get("KEEL_BIN", os.path.join(HERE, "../../build/bin/keel"))
TOOL = os.environ.get("KEEL_PRETOKENIZE_TOOL",
                      os.path.join(os.path.dirname(KEEL_BIN), "pretokenize_tool"))
PEERS = os.environ.get("KEEL_PEERS", os.path.join(HERE, "../../tools/peers/node_modules"))
NODE = shutil.which("node")

pytestmark = [
    pytest.mark.skipif(not os.path.exists(TOOL), reason=f"{TOOL} not built"),
    pytest.mark.skipif(NODE is None or not os.path.isdir(os.path.join(PEERS, "tokenizers")),
                       reason="node or the HF tokenizers peer is missing"),
]

GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
LLAMA3 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
          r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2 = LLAMA3.replace(r"\p{N}{1,3}", r"\p{N}")
BEHAVIORS = ["Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"]


def split(pattern, behavior="Isolated", invert=False, regex=True):
    return {"type": "Split", "pattern": {"Regex" if regex else "String": pattern},
            "behavior": behavior, "invert": invert}


def byte_level(add_prefix_space, use_regex=True):
    return {"type": "ByteLevel", "add_prefix_space": add_prefix_space, "trim_offsets": True,
            "use_regex": use_regex}


def metaspace(scheme, split_=True, replacement="\u2581"):
    return {"type": "Metaspace", "replacement": replacement, "prepend_scheme": scheme, "split": split_}


CONFIGS = (
    [{"type": "BertPreTokenizer"}, {"type": "Whitespace"}, {"type": "WhitespaceSplit"},
     {"type": "UnicodeScripts"}, {"type": "Digits", "individual_digits": True},
     {"type": "Digits", "individual_digits": False}, {"type": "Punctuation"},
     {"type": "CharDelimiterSplit", "delimiter": " "}, {"type": "CharDelimiterSplit", "delimiter": "é"},
     byte_level(False), byte_level(True), byte_level(False, False), byte_level(True, False),
     metaspace("always"), metaspace("never"), metaspace("first"), metaspace("first", False),
     metaspace("always", False), metaspace("never", True, "_"),
     {"type": "Metaspace", "replacement": "\u2581", "add_prefix_space": True, "str_rep": "\u2581"},
     {"type": "Metaspace", "replacement": "\u2581", "add_prefix_space": False,
      "prepend_scheme": "never"},
     split(GPT2), split(LLAMA3), split(QWEN2), split(LLAMA3, "Removed", True),
     split(QWEN2, "MergedWithNext"), split(GPT2, "Contiguous", True),
     split(r"\s+"), split(r"\p{L}+", "Removed", True), split(""), split("", regex=False),
     split("x*", "Removed"), split(r"(?=a)"), split("a.b", "Removed", regex=False),
     {"type": "Sequence", "pretokenizers": []},
     {"type": "Sequence", "pretokenizers": [{"type": "WhitespaceSplit"}, metaspace("always")]},
     {"type": "Sequence", "pretokenizers": [split(QWEN2), byte_level(False, False)]},
     {"type": "Sequence", "pretokenizers": [split(LLAMA3), byte_level(False, False)]},
     {"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": True},
                                            byte_level(True)]},
     {"type": "Sequence", "pretokenizers": [{"type": "Punctuation", "behavior": "Removed"},
                                            {"type": "UnicodeScripts"}, {"type": "Whitespace"}]},
     {"type": "Sequence", "pretokenizers": [split("'", "MergedWithPrevious", regex=False),
                                            metaspace("first")]}]
    + [{"type": "Punctuation", "behavior": b} for b in BEHAVIORS]
    + [split(" ", b, inv, regex=False) for b in BEHAVIORS for inv in (False, True)]
    + [split(r"\d+|\s", b, inv) for b in BEHAVIORS for inv in (False, True)]
)

VARIED = [
    "", " ", "  ", "\n", "\t\t", "a", "Hello world", "Hello  world", " Hello", "Hello ", "  lead and trail  ",
    "Hello, my friend! How's it going? I'm fine; you'll see: we'd've done it.",
    "'s 'S 'ſ 'rE 'LL 've 'x ''s '", "don't DON'T I'M", "x's\n's", "a'b'c", "' s", "'ss", "'", "''",
    "line1\nline2\r\nline3\n\n\nend", " \n \n x", "a \n b", "tab\there\t\tthere", "\r\n\r\n", "x\n",
    "trailing space \n", "mixed\u00a0nbsp\u3000ideographic\u2003em\u2028ls\u0085nel",
    "12345 67 8.9 1,000,000 ٣٤٥ １２３ x² ½ Ⅻ 〇 ٠١٢٣", "abc123def 123abc", "a1b2c3",
    "café naïve résumé Ångström", "cafe\u0301 e\u0301\u0301 \u0301x", "Straße İstanbul ΟΔΟΣ",
    "日本語の文章です。漢字とひらがなとカタカナ、ーー", "中文句子，还有标点！“引号”", "한국어 문장입니다.",
    "Русский текст, ελληνικά; עברית! العربية؟ हिन्दी। ภาษาไทย", "Apples are りんご 林檎",
    "😀👍🏽 👨‍👩‍👧 🇫🇷 1️⃣ ❤️", "emoji😀word 😀😀 😀,", "<|endoftext|> <s>hi</s> [CLS] x [SEP]",
    "http://example.com/path?q=1&r=2#frag", "user@example.com", "C++ & C# -> λx.x; f(x)=x**2",
    "▁already▁meta ▁x", "__init__ foo_bar", "x" * 300, " " * 50 + "x", "ab" * 40 + " " + "cd" * 40,
    "\u200b\u200c\u200d\ufeff zero width", "\x00\x01\x7f control", "ǅungla ǈ", "Ａｂｃ",
    "-- ... !!! ??? ,,, ;;; --- ___", "(parens) [brackets] {braces} <angles>", "«guillemets» ‹x›",
]


def all_code_point_strings():
    cps = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    rng = random.Random(5)
    out = []
    for i in range(0, len(cps), 1500):
        chunk = [chr(c) for c in cps[i:i + 1500]]
        # Interleave spaces, letters and digits so every char is seen next to each kind.
        mixed = []
        for ch in chunk:
            mixed.append(ch)
            r = rng.random()
            if r < 0.15:
                mixed.append(" ")
            elif r < 0.2:
                mixed.append("a")
            elif r < 0.25:
                mixed.append("1")
            elif r < 0.28:
                mixed.append("'")
        out.append("".join(mixed))
    return out


def random_strings(n, seed):
    pool = list(" \n\r\t'sStTlLvVmMdDrReE.,!?-_0123456789") * 3 + list(
        "aZé\u0301ſ²½٣１日本ひカー한Жλא١😀👍🏽\u200d\u00a0\u3000\u2028\u0085▁") + ["  ", "\n\n", "'s", " '"]
    rng = random.Random(seed)
    return ["".join(rng.choice(pool) for _ in range(rng.randint(0, 25))) for _ in range(n)]


def corpus_strings():
    return [s for _, s in corpus.generate() if not any(0xD800 <= ord(c) <= 0xDFFF for c in s)]


def run_hf(pre_tokenizer, strings):
    req = json.dumps({"pre_tokenizer": pre_tokenizer, "strings": strings})
    out = subprocess.run([NODE, os.path.join(HERE, "hf_pretokenize.js")], input=req.encode(),
                         capture_output=True, check=True, env={**os.environ, "KEEL_PEERS": PEERS})
    return json.loads(out.stdout)


def run_keel(pre_tokenizer, strings):
    inp = "".join(json.dumps(s) + "\n" for s in strings)
    out = subprocess.run([TOOL, json.dumps(pre_tokenizer)], input=inp.encode(), capture_output=True)
    lines = [l for l in out.stdout.decode().split("\n") if l]
    if out.returncode != 0:
        return json.loads(lines[0]) if lines else {"error": out.stderr.decode()}
    return {"results": [json.loads(l) for l in lines]}


def compare(pre_tokenizer, strings):
    hf = run_hf(pre_tokenizer, strings)
    keel = run_keel(pre_tokenizer, strings)
    assert "error" not in hf, hf
    assert "error" not in keel, keel
    assert len(keel["results"]) == len(strings)
    bad = []
    for s, h, k in zip(strings, hf["results"], keel["results"]):
        h = [[p, list(o)] for p, o in h]
        if h != k:
            bad.append((s, h, k))
    assert not bad, (f"{len(bad)}/{len(strings)} strings differ for {json.dumps(pre_tokenizer)}; first: "
                     f"{json.dumps(bad[0], ensure_ascii=False)[:3000]}")


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: json.dumps(c, ensure_ascii=True)[:120])
def test_varied_and_random(config):
    compare(config, VARIED + random_strings(300, 11))


CORPUS_CONFIGS = [{"type": "BertPreTokenizer"}, {"type": "Whitespace"}, {"type": "UnicodeScripts"},
                  {"type": "Digits", "individual_digits": False}, {"type": "Punctuation"},
                  byte_level(False), byte_level(True), metaspace("first"), split(GPT2), split(LLAMA3),
                  split(QWEN2), {"type": "Sequence", "pretokenizers": [
                      {"type": "WhitespaceSplit"}, metaspace("always")]}]


@pytest.mark.parametrize("config", CORPUS_CONFIGS, ids=lambda c: json.dumps(c, ensure_ascii=True)[:120])
def test_corpus(config):
    compare(config, corpus_strings())


EXHAUSTIVE = [{"type": "BertPreTokenizer"}, {"type": "Whitespace"}, {"type": "WhitespaceSplit"},
              {"type": "UnicodeScripts"}, {"type": "Digits", "individual_digits": True},
              {"type": "Punctuation"}, byte_level(True), split(LLAMA3), split(QWEN2)]


@pytest.mark.parametrize("config", EXHAUSTIVE, ids=lambda c: json.dumps(c, ensure_ascii=True)[:80])
def test_every_code_point(config):
    compare(config, all_code_point_strings())


BAD_CONFIGS = [
    ({"type": "ByteLevel"}, "add_prefix_space"),
    ({"type": "ByteLevel", "add_prefix_space": True}, "trim_offsets"),
    ({"type": "ByteLevel", "add_prefix_space": 1, "trim_offsets": True}, "add_prefix_space"),
    ({"type": "Metaspace"}, "replacement"),
    ({"type": "Metaspace", "replacement": "ab"}, "replacement"),
    ({"type": "Metaspace", "replacement": ""}, "replacement"),
    ({"type": "Metaspace", "replacement": "_", "add_prefix_space": False}, "add_prefix_space"),
    ({"type": "Metaspace", "replacement": "_", "prepend_scheme": "sometimes"}, "prepend_scheme"),
    ({"type": "Digits"}, "individual_digits"),
    ({"type": "Punctuation", "behavior": "removed"}, "behavior"),
    ({"type": "Split", "pattern": {"String": " "}, "behavior": "Removed"}, "invert"),
    ({"type": "Split", "pattern": {"Regex": "("}, "behavior": "Removed", "invert": False}, "pattern"),
    ({"type": "Split", "pattern": {"Foo": " "}, "behavior": "Removed", "invert": False}, "pattern"),
    ({"type": "Split", "pattern": " ", "behavior": "Removed", "invert": False}, "pattern"),
    ({"type": "CharDelimiterSplit"}, "delimiter"),
    ({"type": "CharDelimiterSplit", "delimiter": "ab"}, "delimiter"),
    ({"type": "Sequence"}, "pretokenizers"),
    ({"type": "Sequence", "pretokenizers": [{"type": "Nope"}]}, "pretokenizers[0]"),
    ({"type": "Sequence", "pretokenizers": {}}, "pretokenizers"),
    ({"type": "Bogus"}, "Bogus"),
    ({}, "type"),
    ({"type": 3}, "type"),
]


@pytest.mark.parametrize("config,where", BAD_CONFIGS, ids=lambda c: json.dumps(c)[:80])
def test_rejected_like_hf(config, where):
    hf = run_hf(config, [])
    assert "error" in hf, f"HF accepts {config}"
    keel = run_keel(config, [])
    assert "error" in keel, f"keel accepts {config}"
    assert where in keel["error"] and "pre_tokenizer" in keel["error"], keel["error"]


def test_nesting_limit_is_an_error_not_a_crash():
    config = {"type": "WhitespaceSplit"}
    for _ in range(200):
        config = {"type": "Sequence", "pretokenizers": [config]}
    keel = run_keel(config, ["a b"])
    assert "error" in keel and "nested" in keel["error"]
