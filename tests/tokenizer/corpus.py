#!/usr/bin/env python3
"""The tokenizer test corpus: a fixed, generated list of strings.

Deterministic (seeded PRNG, no files read), so keel and HF tokenizers always see
the same text and the reference outputs can be cached by content hash.

  corpus.py                      -> the parity corpus, one JSON string per line
  corpus.py --bench-text MB      -> ~MB megabytes of raw text lines for the benchmark
  import corpus; corpus.generate() / corpus.bench_lines(mb)

Categories (each string is tagged so a mismatch report can say what kind of text
broke): English prose, source code, numbers and dates, whitespace runs, accents
and combining marks, CJK, Thai, Arabic, Hebrew, Devanagari, other scripts with
case quirks, emoji (ZWJ, skin tones, flags, keycaps), very long words, control
and invisible characters, special-token strings embedded in text, random code
points, and mixes of all of these.
"""
import json
import random
import sys

SEED = 20240611

WORDS = """the of and to in is was for on that with as by at from it his an were are which
this be or has had not but first one their its new after who they have her she two been
other when there all during into school time may years more most only over city some world
would where later up such used many can state about national out known university united
then made however under american use being three through year before because system while
both team film series group following day within called number against three area each
people government well between music season since high several part second work still
public south main house american development near based including became around life north
early well family four government however war company political english king history
language children small music form often late end among without river played found last
women like major around line local will did any different while much long right see five
river named several although according take very place under another considered old even
quick brown fox jumps lazy dog hello world tokenizer encoding decoding transformer model
attention layer embedding vector matrix inference runtime kernel thread memory buffer
don't can't won't it's I'm you're we've they'll she'd he's let's o'clock rock'n'roll""".split()

NAMES = ["Alice", "Bob", "Carol", "Dave", "Eve", "Mallory", "Zoë", "José", "François", "Søren",
         "Łukasz", "Ægir", "Nguyễn", "Müller", "O'Brien", "McDonald", "van der Berg", "DÉJÀ VU",
         "NASA", "HTTP", "JSON", "iPhone", "eBay", "GPT-2", "BERT", "T5", "LLaMA", "TinyLlama"]

CODE = [
    "def f(x):\n    return x * 2 + 1\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += a[i] * b[i];\n}",
    "const {Tokenizer} = require('tokenizers');\nconst t = Tokenizer.fromFile(path);",
    "if (x != nullptr && x->size() >= 16) { return Error(\"too big: \", x->size()); }",
    "SELECT id, name FROM users WHERE age >= 21 AND name LIKE '%son' ORDER BY id DESC;",
    "#include <vector>\n#include <string_view>\nusing namespace std;",
    "class Foo(Bar):\n    \"\"\"Docstring.\"\"\"\n    def __init__(self, *args, **kwargs):\n        super().__init__(*args, **kwargs)",
    "x = [i**2 for i in range(10) if i % 3 == 0]  # squares",
    "fn main() { let v: Vec<u32> = (0..10).map(|x| x * x).collect(); println!(\"{:?}\", v); }",
    "<div class=\"row\"><span id='a1'>Hello&nbsp;world &amp; co.</span></div>",
    "{\"key\": [1, 2.5, -3e10, true, null], \"nested\": {\"a\": \"b\\n\"}}",
    "git commit -m \"fix: handle \\\\r\\\\n\" && make -j8 test 2>&1 | tee log.txt",
    "a+=b;c-=d;e*=f;g/=h;i%=j;k<<=1;l>>=2;m&=n;o|=p;q^=r;s&&t||!u",
    "    \t  indented();\n\t\t\tdeeper();\r\n  back();",
    "/* comment */ // another\n# shell comment\n-- sql comment\n<!-- html -->",
    "std::unordered_map<std::string, std::vector<std::pair<int, float>>> m;",
    "print(f\"{name!r:>10} = {value:.3f}\")",
    "$ echo $HOME ~/bin/*.sh ${PATH//:/ } `date +%Y-%m-%d`",
    "regex = r'^(?P<user>[\\w.+-]+)@(?P<host>[\\w-]+\\.[\\w.]+)$'",
    "0x7fffffff 0b1010 0o755 1_000_000 3.14f 2.5e-3 .5 5. 1e+9 NaN -inf",
]

SPECIALS = ["[CLS]", "[SEP]", "[PAD]", "[MASK]", "[UNK]", "<s>", "</s>", "<unk>", "<pad>",
            "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>", "<extra_id_0>",
            "<extra_id_99>", "<mask>", "<|fim_prefix|>", "<tool_call>",
            # added tokens of the generated tokenizers (tests/tokenizer/gen_tokenizers.py)
            "<special_a>", "<special_b>", "<word>", "<lstrip>", "<rstrip>", "<both>", "yes", "HELLO",
            "<norm>", "@@mark@@", "ab", "\u2581tok", " spaced "]

SCRIPTS = {
    "accents": ["café", "cafe\u0301", "naïve", "naı\u0308ve", "Crème brûlée", "Ångström", "ﬁnancial ﬂow",
                "résumé", "Tiếng Việt có dấu", "a\u0300\u0301\u0302\u0303\u0304", "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̔ͮ̇͐̇",
                "ñ n\u0303 Ñ N\u0303", "ǅungla ǈ ǋ", "Ａｂｃ１２３", "x² H₂O ½ ① ™ ℃ ㎏", "ẞ straße STRASSE",
                "İstanbul ıi İI", "ΟΔΟΣ Σίσυφος ὈΔΥΣΣΕΎΣ", "Ǆ ǆ", "ḱṷṓn", "Å Å Å", "ﬀ ﬃ ﬄ ﬅ",
                "\u0041\u030a\u0301", "e\u0301\u0301\u0301", "\u0301leading combining", "Ꭰ ꭰ"],
    "cjk": ["你好，世界！", "我喜欢编程和机器学习。", "東京は日本の首都です。", "ひらがな カタカナ 漢字",
            "한국어 텍스트입니다", "ㄱㄴㄷ ᄀᄁ 가각", "中文English混合text", "「引用」『二重』【括弧】",
            "第一章　始まり", "ｶﾀｶﾅ ﾊﾝｶｸ", "𠀀𠀁𪚥 (CJK Ext B)", "〇一二三四五六七八九十百千万",
            "今日は2024年3月15日です", "北京市海淀区中关村大街27号"],
    "thai": ["สวัสดีครับ", "ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ", "กรุงเทพมหานคร อมรรัตนโกสินทร์",
             "๑๒๓๔๕ บาท", "น้ำ ก็ ไม่ ได้"],
    "arabic": ["مرحبا بالعالم", "اللُّغَةُ العَرَبِيَّةُ", "السلام عليكم ورحمة الله", "١٢٣٤٥٦٧٨٩٠",
               "ﻻ ﷺ ﷽", "كتب الطالب 3 كتب في 2023", "عربي English مختلط"],
    "hebrew": ["שלום עולם", "בְּרֵאשִׁית בָּרָא אֱלֹהִים", "עברית ו-English ביחד", "ﬠ ﬡ ﭏ"],
    "devanagari": ["नमस्ते दुनिया", "हिन्दी भाषा", "क्षत्रिय ज्ञान श्री", "संस्कृतम् ॐ", "१२३ रुपये",
                   "मैं ठीक हूँ।", "क़ ख़ ग़ क\u093c"],
    "other": ["Привет, мир! ЁЖИК", "Γειά σου Κόσμε", "Բարեւ աշխարհ", "გამარჯობა", "ሰላም ዓለም",
              "ᚠᚢᚦᚨᚱᚲ", "ⴰⵣⵓⵍ", "Xin chào", "Türkçe ğüşıöç", "ꙮ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕄𝕒𝕥𝕙 𝟙𝟚𝟛",
              "ᏣᎳᎩ", "ኢትዮጵያ", "ײַדיש", "ܐܪܡܝܐ", "ދިވެހި", "ភាសាខ្មែរ", "ພາສາລາວ", "မြန်မာ",
              "සිංහල", "தமிழ்", "తెలుగు", "ಕನ್ನಡ", "മലയാളം", "ગુજરાતી", "ਪੰਜਾਬੀ", "বাংলা", "ଓଡ଼ିଆ",
              "བོད་ཡིག", "ᠮᠣᠩᠭᠣᠯ"],
    "emoji": ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇺🇸🇯🇵🇫🇷", "1️⃣ #️⃣ *️⃣", "❤️ ❤", "🧑🏿‍🚀",
              "👩🏻‍❤️‍💋‍👨🏼", "🤷‍♀️", "🐈‍⬛", "☺️☺", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "I ❤️ NY 🗽!!!", "😂😂😂🤣🤣",
              "emoji👍in🎉words", "🫠🫶🏾🪿"],
    "control": ["a\x00b", "\x01\x02\x03", "tab\there", "bell\x07", "esc \x1b[31mred\x1b[0m", "del\x7f",
                "zero\u200bwidth", "zwj\u200dzwnj\u200c", "\ufeffBOM at start", "soft\u00adhyphen",
                "line\u2028sep\u2029para", "nel\u0085x", "repl \ufffd char", "pua \ue000\U000F0000",
                "nonchar \uffff \U0010FFFF", "rtl \u202eevil\u202c mark\u200f", "vs\ufe0f\ufe0e",
                "\x0b\x0c vertical tab form feed", "c1 \x80\x9f", "nbsp\u00a0here", "\u3000ideographic space",
                "thin\u2009space\u202fnarrow", "en\u2002em\u2003", "ogham\u1680space", "mongolian\u180evs",
                "word\u2060joiner", "interlinear \ufff9a\ufffab\ufffb", "tag \U000E0041\U000E007F"],
}

WS = [" ", "  ", "   ", "    ", "\t", "\t\t", "\n", "\n\n", "\r\n", "\r", " \n ", "\u00a0", "\u3000",
      "\u2009", "\u200b", " \t\n", "        ", "\n\n\n\n", "\u0085", "\u2028"]


def _prose(r):
    n = r.randint(3, 25)
    words = []
    for i in range(n):
        w = r.choice(WORDS) if r.random() > 0.1 else r.choice(NAMES)
        if i == 0 or r.random() < 0.05:
            w = w[:1].upper() + w[1:]
        if r.random() < 0.02:
            w = w.upper()
        words.append(w)
        if r.random() < 0.08:
            words[-1] += r.choice([",", ";", ":", " -", " —", "…", "!?"])
    s = " ".join(words) + r.choice([".", "!", "?", "...", "", ".\"", "')", "."])
    if r.random() < 0.2:
        s = '"' + s + '" said ' + r.choice(NAMES) + "."
    return s


def _number(r):
    k = r.randint(0, 14)
    if k == 0:
        return f"{r.randint(1900, 2100)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"
    if k == 1:
        return f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}"
    if k == 2:
        return f"{r.uniform(-1e6, 1e6):.{r.randint(0, 8)}f}"
    if k == 3:
        return f"{r.randint(0, 10**r.randint(1, 12)):,}"
    if k == 4:
        return f"${r.randint(0, 9999)}.{r.randint(0, 99):02d}"
    if k == 5:
        return f"+1 ({r.randint(200, 999)}) {r.randint(100, 999)}-{r.randint(1000, 9999)}"
    if k == 6:
        return f"{r.random():.3e}"
    if k == 7:
        return str(r.randint(0, 10**r.randint(1, 40)))
    if k == 8:
        return f"{r.randint(1, 31)}/{r.randint(1, 12)}/{r.randint(0, 99):02d}"
    if k == 9:
        return f"{r.randint(0, 100)}% of {r.randint(1, 1000)}"
    if k == 10:
        return f"v{r.randint(0, 9)}.{r.randint(0, 20)}.{r.randint(0, 99)}-rc{r.randint(1, 5)}"
    if k == 11:
        return f"{r.randint(1, 255)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(0, 255)}:{r.randint(1, 65535)}"
    if k == 12:
        return r.choice(["March 15, 2024", "15 mars 2024", "2024年3月15日", "Mon, 01 Jan 2024 00:00:00 GMT",
                         "1st 2nd 3rd 4th 21st", "Q3 FY2023", "1970-01-01T00:00:00.000Z", "½ ¾ ⅓"])
    if k == 13:
        return "".join(r.choice("0123456789") for _ in range(r.randint(1, 30)))
    return f"{r.randint(-99, 99)} + {r.randint(0, 99)} = {r.randint(-99, 199)}; π≈3.14159, e≈2.71828"


def _long_word(r):
    k = r.randint(0, 9)
    if k == 0:
        return r.choice("abcxyz") * r.randint(50, 400)
    if k == 1:
        return "Pneumonoultramicroscopicsilicovolcanoconiosis" * r.randint(1, 6)
    if k == 2:
        return "https://example.com/" + "/".join(r.choice(WORDS) for _ in range(r.randint(5, 30))) + "?q=1&r=2#frag"
    if k == 3:
        abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        return "".join(r.choice(abc) for _ in range(r.randint(64, 600))) + "=="
    if k == 4:
        return "".join(r.choice("你好世界中文字符测试编码") for _ in range(r.randint(30, 300)))
    if k == 5:
        return "".join(r.choice(WORDS).capitalize() for _ in range(r.randint(10, 40)))
    if k == 6:
        return "-" * r.randint(20, 200) + " " + "=" * r.randint(20, 100)
    if k == 7:
        return "😀" * r.randint(10, 100)
    if k == 8:
        return "".join(r.choice("éàüöçñ") for _ in range(r.randint(90, 130)))
    return "a" + "\u0301" * r.randint(10, 120)


def _whitespace(r):
    parts = []
    for _ in range(r.randint(1, 8)):
        parts.append(r.choice(WS) * r.randint(1, 3))
        if r.random() < 0.7:
            parts.append(r.choice(WORDS))
    return "".join(parts)


def _special(r):
    sp = r.choice(SPECIALS)
    k = r.randint(0, 11)
    w1, w2 = r.choice(WORDS), r.choice(WORDS)
    if k == 0:
        return f"{w1} {sp} {w2}"
    if k == 1:
        return f"{w1}{sp}{w2}"
    if k == 2:
        return f"{sp}{w1} {w2}"
    if k == 3:
        return f"{w1} {w2}{sp}"
    if k == 4:
        return f"{sp}{sp} {sp}"
    if k == 5:
        return f"  {sp}  {w1}\n{sp}\t{w2}  "
    if k == 6:
        return sp[:-1] + " " + sp[1:] + " " + sp[: len(sp) // 2]  # partial matches
    if k == 7:
        return f"{w1} {sp.lower()} {sp.upper()} {w2}"
    if k == 8:
        return f"<|im_start|>user\n{_prose(r)}<|im_end|>\n<|im_start|>assistant\n{_prose(r)}<|im_end|>"
    if k == 9:
        return f"[CLS] {_prose(r)} [SEP] {_prose(r)} [SEP]"
    if k == 10:
        return f"<s>[INST] {_prose(r)} [/INST] {_prose(r)}</s>"
    return " ".join(r.choice(SPECIALS) for _ in range(r.randint(2, 6)))


def _random_codepoints(r):
    blocks = [(0x20, 0x7E), (0xA0, 0x24F), (0x300, 0x36F), (0x370, 0x52F), (0x590, 0x6FF),
              (0x900, 0x97F), (0xE00, 0xE7F), (0x1100, 0x11FF), (0x1E00, 0x1FFF), (0x2000, 0x206F),
              (0x2100, 0x22FF), (0x3000, 0x30FF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0xF900, 0xFAFF),
              (0xFB00, 0xFDFF), (0xFE00, 0xFFFD), (0x1F300, 0x1FAFF), (0x10000, 0x10FFF),
              (0x1D400, 0x1D7FF), (0x20000, 0x2A6DF), (0xE0000, 0xE007F), (0x0, 0x1F)]
    out = []
    for _ in range(r.randint(1, 40)):
        lo, hi = r.choice(blocks)
        out.append(chr(r.randint(lo, hi)))
    return "".join(out)


def _script(r, name):
    items = SCRIPTS[name]
    n = r.randint(1, 3)
    sep = r.choice([" ", "", ", ", "\n", " - "])
    return sep.join(r.choice(items) for _ in range(n))


def _mixed(r):
    gens = [_prose, _number, _whitespace, _special, lambda r: r.choice(CODE),
            lambda r: _script(r, r.choice(list(SCRIPTS)))]
    return r.choice(["", " ", "\n", " | "]).join(r.choice(gens)(r) for _ in range(r.randint(2, 5)))


# (tag, generator, count)
PLAN = [
    ("prose", _prose, 1100),
    ("code", lambda r: r.choice(CODE) if r.random() < 0.5 else "\n".join(r.sample(CODE, r.randint(2, 4))), 400),
    ("numbers", lambda r: " ".join(_number(r) for _ in range(r.randint(1, 4))), 400),
    ("whitespace", _whitespace, 350),
    ("accents", lambda r: _script(r, "accents") if r.random() < 0.6 else f"{_prose(r)} {_script(r, 'accents')}", 300),
    ("cjk", lambda r: _script(r, "cjk"), 250),
    ("thai", lambda r: _script(r, "thai"), 120),
    ("arabic", lambda r: _script(r, "arabic"), 150),
    ("hebrew", lambda r: _script(r, "hebrew"), 100),
    ("devanagari", lambda r: _script(r, "devanagari"), 120),
    ("other_scripts", lambda r: _script(r, "other"), 200),
    ("emoji", lambda r: _script(r, "emoji") if r.random() < 0.5 else f"{_prose(r)} {_script(r, 'emoji')}", 250),
    ("long_words", _long_word, 150),
    ("control", lambda r: _script(r, "control") if r.random() < 0.6 else f"{_prose(r)}{_script(r, 'control')}", 250),
    ("special_tokens", _special, 500),
    ("random_codepoints", _random_codepoints, 350),
    ("mixed", _mixed, 500),
]

FIXED = ["", " ", "  ", "\n", "\t", "a", "A", ".", "[CLS]", "<s>", "</s>", "<|endoftext|>", "<|im_start|>",
         " <s> ", "Hello world", "Hello  world", " Hello world ", "hello\nworld", "▁", "▁▁x", "##", "##ing",
         "Ġ", "Ċ", "<0x41>", "\u2581hello", "é", "e\u0301", "\U0001F600", "\x00", "\ufeff"]


def generate():
    """Returns [(tag, text)], deterministic: the same list on every run and machine."""
    r = random.Random(SEED)
    out = [("fixed", s) for s in FIXED]
    out += [("ascii_char", chr(c)) for c in range(0x20, 0x7F)]
    for tag, gen, count in PLAN:
        out += [(tag, gen(r)) for _ in range(count)]
    # A few multi-kilobyte documents (truncation, stride, long inputs).
    for _ in range(12):
        out.append(("long_doc", "\n\n".join(_mixed(r) + " " + _prose(r) for _ in range(r.randint(5, 16)))))
    return out


def bench_lines(megabytes):
    """Raw text lines (no newlines inside) totalling ~`megabytes` MB: mostly English prose
    and code, with some numbers and other scripts, like a typical mixed workload."""
    r = random.Random(SEED + 1)
    target = int(megabytes * 1_000_000)
    lines, size = [], 0
    while size < target:
        k = r.random()
        if k < 0.6:
            s = " ".join(_prose(r) for _ in range(r.randint(2, 8)))
        elif k < 0.75:
            s = " ".join(r.choice(CODE) for _ in range(r.randint(1, 3)))
        elif k < 0.85:
            s = _prose(r) + " " + " ".join(_number(r) for _ in range(3))
        else:
            s = _prose(r) + " " + _script(r, r.choice(["accents", "cjk", "other", "emoji", "arabic"]))
        s = " ".join(s.split())  # one line, single spaces
        lines.append(s)
        size += len(s.encode()) + 1
    return lines


def main(argv):
    if len(argv) >= 2 and argv[0] == "--bench-text":
        for line in bench_lines(float(argv[1])):
            sys.stdout.write(line + "\n")
        return 0
    for _, s in generate():
        sys.stdout.write(json.dumps(s, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
