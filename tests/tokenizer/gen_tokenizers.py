#!/usr/bin/env python3
"""Generated tokenizer.json files for the parity test: every normalizer,
pre-tokenizer, model, post-processor and decoder HF tokenizers defines, with
their options (including combinations no shipped model uses), added-token
flags, and truncation/padding settings.

  gen_tokenizers.py <shared_models_dir> <out_dir>   -> <out_dir>/<name>.json, prints the names
  gen_tokenizers.py --fuzz-seeds <shared> <out_dir>  -> the same with small vocabularies
                                                       (fuzz/corpus/fuzz_tokenizer/)

Vocabularies come from the real tokenizers in shared/models (GPT-2 byte-level
BPE, TinyLlama BPE with byte fallback, MiniLM WordPiece, T5 Unigram) or are
built here from the test corpus (a small BPE with continuing-subword prefix /
end-of-word suffix, word- and character-level WordLevel). Deterministic.

Each spec's "covers" line names what it is there to exercise; the parity report
quotes it next to any mismatch.
"""
import collections
import functools
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402

# ---- component builders (HF tokenizer.json spelling) ----


def added(content, id, special=False, single_word=False, lstrip=False, rstrip=False, normalized=None):
    if normalized is None:
        normalized = not special
    return {"id": id, "content": content, "single_word": single_word, "lstrip": lstrip, "rstrip": rstrip,
            "normalized": normalized, "special": special}


def seq_norm(*ns):
    return {"type": "Sequence", "normalizers": list(ns)}


def seq_pre(*ps):
    return {"type": "Sequence", "pretokenizers": list(ps)}


def seq_dec(*ds):
    return {"type": "Sequence", "decoders": list(ds)}


def bert_norm(clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True):
    return {"type": "BertNormalizer", "clean_text": clean_text, "handle_chinese_chars": handle_chinese_chars,
            "strip_accents": strip_accents, "lowercase": lowercase}


def replace(pattern, content, regex=False):
    return {"type": "Replace", "pattern": {"Regex" if regex else "String": pattern}, "content": content}


def split(pattern, behavior, invert=False, regex=True):
    return {"type": "Split", "pattern": {"Regex" if regex else "String": pattern}, "behavior": behavior,
            "invert": invert}


def byte_level(add_prefix_space=False, trim_offsets=True, use_regex=True):
    return {"type": "ByteLevel", "add_prefix_space": add_prefix_space, "trim_offsets": trim_offsets,
            "use_regex": use_regex}


def metaspace(prepend_scheme="always", split=True, replacement="\u2581"):
    return {"type": "Metaspace", "replacement": replacement, "prepend_scheme": prepend_scheme, "split": split}


def template(single, pair, specials):
    """single/pair: lists like ["[CLS]", "$A:0", "[SEP]:1"]; specials: {name: [(token, id), ...]}."""
    def piece(p):
        name, _, tid = p.partition(":")
        tid = int(tid or 0)
        if name in ("$A", "$B"):
            return {"Sequence": {"id": name[1], "type_id": tid}}
        return {"SpecialToken": {"id": name, "type_id": tid}}
    return {"type": "TemplateProcessing", "single": [piece(p) for p in single], "pair": [piece(p) for p in pair],
            "special_tokens": {k: {"id": k, "ids": [i for _, i in v], "tokens": [t for t, _ in v]}
                               for k, v in specials.items()}}


def truncation(max_length, strategy="LongestFirst", stride=0, direction="Right"):
    return {"direction": direction, "max_length": max_length, "strategy": strategy, "stride": stride}


def padding(pad_id, pad_token, fixed=None, direction="Right", multiple=None, pad_type_id=0):
    return {"strategy": {"Fixed": fixed} if fixed is not None else "BatchLongest", "direction": direction,
            "pad_to_multiple_of": multiple, "pad_id": pad_id, "pad_type_id": pad_type_id, "pad_token": pad_token}


def tokenizer(model, normalizer=None, pre_tokenizer=None, post_processor=None, decoder=None,
              added_tokens=(), trunc=None, pad=None):
    return {"version": "1.0", "truncation": trunc, "padding": pad, "added_tokens": list(added_tokens),
            "normalizer": normalizer, "pre_tokenizer": pre_tokenizer, "post_processor": post_processor,
            "decoder": decoder, "model": model}


# ---- vocabularies ----


def load(shared, name):
    with open(os.path.join(shared, name, "tokenizer.json"), encoding="utf-8") as f:
        return json.load(f)


def next_id(vocab_ids):
    return max(vocab_ids) + 1


@functools.lru_cache(maxsize=None)
def training_words(limit):
    """The corpus's most frequent words (\\w+ or punctuation runs), most frequent first."""
    counts = collections.Counter()
    for _, text in corpus.generate():
        counts.update(re.findall(r"\w+|[^\w\s]+", text))
    return tuple(counts.most_common(limit))


def train_bpe(words, merges_wanted, prefix="", suffix="", min_char_count=3):
    """A small, plain BPE trainer (HF BpeTrainer's symbol conventions): a word's
    first symbol is bare, later symbols carry `prefix`, the last carries `suffix`.
    Returns (vocab, merges) where every merge result is in the vocab, as HF needs."""
    char_counts = collections.Counter()
    for w, c in words:
        for ch in w:
            char_counts[ch] += c
    alphabet = {ch for ch, c in char_counts.items() if c >= min_char_count}

    def symbols(w):
        out = []
        for i, ch in enumerate(w):
            s = ch if i == 0 else prefix + ch
            if i == len(w) - 1:
                s += suffix
            out.append(s)
        return out

    seqs, counts = [], []
    vocab = {}
    for w, c in words:
        if all(ch in alphabet for ch in w):
            seqs.append(symbols(w))
            counts.append(c)
    for w in sorted(alphabet):
        for s in (w, prefix + w, w + suffix, prefix + w + suffix):
            vocab.setdefault(s, len(vocab))
    # Pair counts and, per pair, the words holding it; updated after each merge.
    pairs = collections.Counter()
    where = collections.defaultdict(set)
    for i, syms in enumerate(seqs):
        for a, b in zip(syms, syms[1:]):
            pairs[(a, b)] += counts[i]
            where[(a, b)].add(i)
    merges = []
    for _ in range(merges_wanted):
        best = max(((c, p) for p, c in pairs.items() if c > 0), default=None)
        if best is None:
            break
        a, b = best[1]
        new = a + b[len(prefix):]
        merges.append((a, b))
        vocab.setdefault(new, len(vocab))
        for i in sorted(where.pop((a, b), ())):
            syms, c = seqs[i], counts[i]
            for x, y in zip(syms, syms[1:]):
                pairs[(x, y)] -= c
            j, out = 0, []
            while j < len(syms):
                if j + 1 < len(syms) and syms[j] == a and syms[j + 1] == b:
                    out.append(new)
                    j += 2
                else:
                    out.append(syms[j])
                    j += 1
            seqs[i] = out
            for x, y in zip(out, out[1:]):
                pairs[(x, y)] += c
                where[(x, y)].add(i)
        pairs.pop((a, b), None)
    return vocab, merges


# ---- the specs ----


def specs(shared):
    gpt2 = load(shared, "gpt2")
    llama = load(shared, "TinyLlama-1.1B-Chat-v1.0")
    bert = load(shared, "all-MiniLM-L6-v2")
    t5 = load(shared, "t5-small")
    out = {}

    def add(name, covers, tok):
        tok["_covers"] = covers  # stripped before writing; kept in the index
        out[name] = tok

    # -- byte-level BPE (GPT-2 vocab and merges) --
    gv, gm = gpt2["model"]["vocab"], gpt2["model"]["merges"]
    eot = gv["<|endoftext|>"]
    g_next = next_id(gv.values())

    def gpt2_model(**kw):
        m = {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
             "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
             "vocab": gv, "merges": gm}
        m.update(kw)
        return m

    g_added = [added("<|endoftext|>", eot, special=True),
               added("<special_a>", g_next, special=True),
               added("<word>", g_next + 1, single_word=True),
               added("<lstrip>", g_next + 2, special=True, lstrip=True),
               added("<rstrip>", g_next + 3, special=True, rstrip=True),
               added("<both>", g_next + 4, lstrip=True, rstrip=True, normalized=False),
               added("yes", gv["yes"]),
               added(" spaced ", g_next + 5, normalized=False),
               added("ab", g_next + 6, special=True, single_word=True, normalized=True)]
    add("bl_prefix_space", "ByteLevel pre-tokenizer add_prefix_space; ByteLevel post-processor trim_offsets; "
        "added tokens: special, single_word, lstrip, rstrip, normalized true/false, token also in vocab",
        tokenizer(gpt2_model(), pre_tokenizer=byte_level(add_prefix_space=True),
                  post_processor=byte_level(trim_offsets=True), decoder=byte_level(), added_tokens=g_added))
    g_rob = [added("<s>", g_next, special=True), added("</s>", g_next + 1, special=True),
             added("<pad>", g_next + 2, special=True), added("<mask>", g_next + 3, special=True, lstrip=True)]
    add("bl_roberta_noregex", "ByteLevel use_regex=false; RobertaProcessing trim_offsets+add_prefix_space; "
        "lstrip <mask>; BatchLongest padding",
        tokenizer(gpt2_model(), pre_tokenizer=byte_level(use_regex=False),
                  post_processor={"type": "RobertaProcessing", "sep": ["</s>", g_next + 1], "cls": ["<s>", g_next],
                                  "trim_offsets": True, "add_prefix_space": True},
                  decoder=byte_level(), added_tokens=g_rob, pad=padding(g_next + 2, "<pad>")))
    add("bl_roberta_notrim", "RobertaProcessing without trim_offsets; ByteLevel pre add_prefix_space, trim_offsets=false",
        tokenizer(gpt2_model(), pre_tokenizer=byte_level(add_prefix_space=True, trim_offsets=False),
                  post_processor={"type": "RobertaProcessing", "sep": ["</s>", g_next + 1], "cls": ["<s>", g_next],
                                  "trim_offsets": False, "add_prefix_space": False},
                  decoder=byte_level(), added_tokens=g_rob))
    add("bl_merges_array_ignore", "BPE merges as [a, b] arrays, ignore_merges; TemplateProcessing with a "
        "two-id special token and type ids; NFKC",
        tokenizer(gpt2_model(merges=[m.split(" ", 1) for m in gm], ignore_merges=True),
                  normalizer={"type": "NFKC"}, pre_tokenizer=byte_level(),
                  post_processor=template(["<bos>", "$A:0"], ["<bos>", "$A:0", "<|endoftext|>:1", "$B:1"],
                                          {"<bos>": [("<|endoftext|>", eot), ("<|endoftext|>", eot)],
                                           "<|endoftext|>": [("<|endoftext|>", eot)]}),
                  decoder=byte_level(), added_tokens=[added("<|endoftext|>", eot, special=True)]))
    add("bl_split_lowercase", "Split regex (llama-3 pattern) + ByteLevel use_regex=false; Lowercase normalizer with "
        "a normalized added token in upper case; Replace (string)",
        tokenizer(gpt2_model(),
                  normalizer=seq_norm({"type": "Lowercase"}, replace("\u2019", "'")),
                  pre_tokenizer=seq_pre(split(r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?"
                                              r"[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+", "Isolated"),
                                        byte_level(use_regex=False)),
                  post_processor=byte_level(trim_offsets=False), decoder=byte_level(),
                  added_tokens=[added("<|endoftext|>", eot, special=True), added("HELLO", g_next),
                                added("<norm>", g_next + 1, normalized=True)]))
    add("bl_trunc_stride", "truncation LongestFirst max 16 stride 4 (overflowing); BatchLongest padding left "
        "to a multiple of 8 with pad_type_id; ByteLevel + TemplateProcessing in a post-processor Sequence",
        tokenizer(gpt2_model(), pre_tokenizer=byte_level(),
                  post_processor={"type": "Sequence", "processors": [
                      byte_level(trim_offsets=True),
                      template(["$A:0", "<|endoftext|>:0"], ["$A:0", "<|endoftext|>:0", "$B:1", "<|endoftext|>:1"],
                               {"<|endoftext|>": [("<|endoftext|>", eot)]})]},
                  decoder=byte_level(), added_tokens=[added("<|endoftext|>", eot, special=True)],
                  trunc=truncation(16, stride=4),
                  pad=padding(eot, "<|endoftext|>", direction="Left", multiple=8, pad_type_id=3)))
    # OnlyFirst/OnlySecond keep stride 0: with a stride HF panics (encoding.rs "stride must be
    # strictly less than max_len") whenever the other sequence leaves fewer tokens than the stride.
    add("bl_trunc_only_first_left", "truncation OnlyFirst, direction Left, max 20; Fixed padding 24",
        tokenizer(gpt2_model(), pre_tokenizer=byte_level(add_prefix_space=True),
                  post_processor=template(["<|endoftext|>", "$A"], ["<|endoftext|>", "$A", "<|endoftext|>", "$B:1"],
                                          {"<|endoftext|>": [("<|endoftext|>", eot)]}),
                  decoder=byte_level(), added_tokens=[added("<|endoftext|>", eot, special=True)],
                  trunc=truncation(20, strategy="OnlyFirst", direction="Left"),
                  pad=padding(eot, "<|endoftext|>", fixed=24)))
    add("bl_trunc_only_second", "truncation OnlySecond max 24; no padding",
        tokenizer(gpt2_model(), pre_tokenizer=byte_level(), decoder=byte_level(),
                  added_tokens=[added("<|endoftext|>", eot, special=True)],
                  trunc=truncation(24, strategy="OnlySecond")))

    # -- SentencePiece-style BPE (TinyLlama: byte_fallback, fuse_unk) --
    lv, lm = llama["model"]["vocab"], llama["model"]["merges"]

    def llama_model(**kw):
        m = dict(llama["model"])
        m.update(kw)
        return m

    l_special = [added("<unk>", 0, special=True), added("<s>", 1, special=True), added("</s>", 2, special=True)]
    l_tmpl = template(["<s>", "$A"], ["<s>", "$A", "</s>", "<s>:1", "$B:1"],
                      {"<s>": [("<s>", 1)], "</s>": [("</s>", 2)]})
    l_dec = seq_dec(replace("\u2581", " "), {"type": "ByteFallback"}, {"type": "Fuse"},
                    {"type": "Strip", "content": " ", "start": 1, "stop": 0})
    add("llama_metaspace_first", "Metaspace pre-tokenizer prepend_scheme=first split=false; Metaspace decoder; "
        "byte_fallback",
        tokenizer(llama_model(), pre_tokenizer=metaspace("first", split=False), post_processor=l_tmpl,
                  decoder=metaspace("first", split=False), added_tokens=l_special))
    add("llama_metaspace_always_split", "Metaspace always + split; decoder Sequence(ByteFallback, Metaspace)",
        tokenizer(llama_model(), pre_tokenizer=metaspace("always", split=True), post_processor=l_tmpl,
                  decoder=seq_dec({"type": "ByteFallback"}, metaspace("always")), added_tokens=l_special))
    add("llama_metaspace_never", "Metaspace prepend_scheme=never; Strip decoder with stop (per token) and start 2",
        tokenizer(llama_model(), pre_tokenizer=metaspace("never", split=True),
                  # HF's Strip panics when a token is shorter than start + stop or when stop > 0
                  # meets an empty token (Fuse of nothing), so stop is used per token, before Fuse.
                  decoder=seq_dec({"type": "Strip", "content": "\u2581", "start": 0, "stop": 1},
                                  replace("\u2581", " "), {"type": "ByteFallback"}, {"type": "Fuse"},
                                  {"type": "Strip", "content": " ", "start": 2, "stop": 0}),
                  added_tokens=l_special))
    add("llama_unk_fuse", "BPE without byte_fallback, fuse_unk; Prepend + Replace normalizers",
        tokenizer(llama_model(byte_fallback=False, fuse_unk=True),
                  normalizer=seq_norm({"type": "Prepend", "prepend": "\u2581"}, replace(" ", "\u2581")),
                  post_processor=l_tmpl, decoder=l_dec, added_tokens=l_special))
    add("llama_unk_nofuse", "BPE without byte_fallback or fuse_unk; NFD",
        tokenizer(llama_model(byte_fallback=False, fuse_unk=False),
                  normalizer=seq_norm({"type": "NFD"}, {"type": "Prepend", "prepend": "\u2581"},
                                      replace(" ", "\u2581")),
                  decoder=l_dec, added_tokens=l_special))
    ln = next_id(lv.values())
    add("llama_added_flags_pad_left", "added tokens lstrip/rstrip/single_word around Prepend/Replace normalizers; "
        "Fixed padding left; LongestFirst truncation 32",
        tokenizer(llama_model(),
                  normalizer=seq_norm({"type": "Prepend", "prepend": "\u2581"}, replace(" ", "\u2581")),
                  post_processor=l_tmpl, decoder=l_dec,
                  added_tokens=l_special + [added("<|im_start|>", ln, special=True),
                                            added("<|im_end|>", ln + 1, special=True, rstrip=True),
                                            added("<think>", ln + 2, lstrip=True, normalized=False),
                                            added("<word>", ln + 3, single_word=True),
                                            added("\u2581tok", ln + 4)],
                  trunc=truncation(32), pad=padding(0, "<unk>", fixed=40, direction="Left")))

    # -- BPE trained here: continuing_subword_prefix / end_of_word_suffix --
    words = training_words(2500)
    v, m = train_bpe(words, 500, prefix="##")
    v.setdefault("[UNK]", len(v))
    add("bpe_subword_prefix", "BPE continuing_subword_prefix '##' with unk_token; Whitespace; WordPiece decoder; "
        "BertProcessing",
        tokenizer({"type": "BPE", "dropout": None, "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                   "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                   "vocab": v, "merges": [f"{a} {b}" for a, b in m]},
                  pre_tokenizer={"type": "Whitespace"},
                  post_processor={"type": "BertProcessing", "sep": ["[SEP]", len(v)], "cls": ["[CLS]", len(v) + 1]},
                  decoder={"type": "WordPiece", "prefix": "##", "cleanup": False},
                  added_tokens=[added("[UNK]", v["[UNK]"], special=True), added("[SEP]", len(v), special=True),
                                added("[CLS]", len(v) + 1, special=True)]))
    v, m = train_bpe([(w.lower(), c) for w, c in words], 500, suffix="</w>")
    v.setdefault("<unk>", len(v))
    add("bpe_word_suffix", "BPE end_of_word_suffix '</w>', fuse_unk; NFD+StripAccents+Lowercase; WhitespaceSplit; "
        "BPEDecoder",
        tokenizer({"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                   "end_of_word_suffix": "</w>", "fuse_unk": True, "byte_fallback": False, "ignore_merges": False,
                   "vocab": v, "merges": [f"{a} {b}" for a, b in m]},
                  normalizer=seq_norm({"type": "NFD"}, {"type": "StripAccents"}, {"type": "Lowercase"}),
                  pre_tokenizer={"type": "WhitespaceSplit"},
                  decoder={"type": "BPEDecoder", "suffix": "</w>"},
                  added_tokens=[added("<unk>", v["<unk>"], special=True)]))
    v, m = train_bpe(words, 400, prefix="@@", suffix="</w>")
    for w, _ in words[:300]:  # whole words, so ignore_merges has something to find
        v.setdefault(w + "</w>", len(v))
    v.setdefault("<unk>", len(v))
    add("bpe_prefix_suffix_ignore", "BPE prefix '@@' + suffix '</w>' + ignore_merges, merges as arrays; "
        "Punctuation + Digits pre-tokenizers; decoder Sequence(Replace regex, BPEDecoder)",
        tokenizer({"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": "@@",
                   "end_of_word_suffix": "</w>", "fuse_unk": False, "byte_fallback": False, "ignore_merges": True,
                   "vocab": v, "merges": [[a, b] for a, b in m]},
                  pre_tokenizer=seq_pre({"type": "WhitespaceSplit"}, {"type": "Punctuation", "behavior": "Isolated"},
                                        {"type": "Digits", "individual_digits": False}),
                  decoder=seq_dec(replace("@@", "", regex=True), {"type": "BPEDecoder", "suffix": "</w>"}),
                  added_tokens=[added("<unk>", v["<unk>"], special=True)]))

    # -- WordPiece (MiniLM's uncased vocab) --
    bv = bert["model"]["vocab"]

    def wp_model(vocab=bv, prefix="##", max_chars=100):
        return {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": prefix,
                "max_input_chars_per_word": max_chars, "vocab": vocab}

    b_added = [added(t, bv[t], special=True, normalized=False) for t in ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]]
    b_post = {"type": "BertProcessing", "sep": ["[SEP]", bv["[SEP]"]], "cls": ["[CLS]", bv["[CLS]"]]}
    b_dec = {"type": "WordPiece", "prefix": "##", "cleanup": True}
    add("wp_cased_whitespace", "BertNormalizer lowercase=false strip_accents=false; Whitespace; BertProcessing; "
        "WordPiece decoder cleanup=false",
        tokenizer(wp_model(), normalizer=bert_norm(lowercase=False, strip_accents=False),
                  pre_tokenizer={"type": "Whitespace"}, post_processor=b_post,
                  decoder={"type": "WordPiece", "prefix": "##", "cleanup": False}, added_tokens=b_added))
    add("wp_strip_accents_punct", "BertNormalizer strip_accents=true lowercase=false clean_text=false "
        "handle_chinese_chars=false; WhitespaceSplit+Punctuation(Isolated)+Digits(individual); max chars 12",
        tokenizer(wp_model(max_chars=12),
                  normalizer=bert_norm(clean_text=False, handle_chinese_chars=False, strip_accents=True,
                                       lowercase=False),
                  pre_tokenizer=seq_pre({"type": "WhitespaceSplit"}, {"type": "Punctuation", "behavior": "Isolated"},
                                        {"type": "Digits", "individual_digits": True}),
                  post_processor=b_post, decoder=b_dec, added_tokens=b_added))
    at_vocab = {("@@" + k[2:] if k.startswith("##") else k): i for k, i in bv.items()}
    add("wp_prefix_at_scripts", "WordPiece prefix '@@'; NFD+Lowercase+StripAccents+Strip; UnicodeScripts; "
        "Fixed padding 64 left; truncation 48 stride 8",
        tokenizer(wp_model(vocab=at_vocab, prefix="@@"),
                  normalizer=seq_norm({"type": "NFD"}, {"type": "Lowercase"}, {"type": "StripAccents"},
                                      {"type": "Strip", "strip_left": True, "strip_right": True}),
                  pre_tokenizer=seq_pre({"type": "WhitespaceSplit"}, {"type": "UnicodeScripts"}),
                  post_processor=b_post, decoder={"type": "WordPiece", "prefix": "@@", "cleanup": True},
                  added_tokens=b_added, trunc=truncation(48, stride=8),
                  pad=padding(bv["[PAD]"], "[PAD]", fixed=64, direction="Left")))
    for behavior in ["Removed", "MergedWithPrevious", "MergedWithNext", "Contiguous"]:
        add(f"wp_punct_{behavior.lower()}", f"Punctuation behavior {behavior}; NFKD + Lowercase + Strip(right only)",
            tokenizer(wp_model(),
                      normalizer=seq_norm({"type": "NFKD"}, {"type": "Lowercase"},
                                          {"type": "Strip", "strip_left": False, "strip_right": True}),
                      pre_tokenizer=seq_pre({"type": "Whitespace"}, {"type": "Punctuation", "behavior": behavior}),
                      post_processor=b_post, decoder=b_dec, added_tokens=b_added))
    add("wp_split_string_behaviors", "Split with String patterns: Removed, Isolated, MergedWithPrevious, "
        "MergedWithNext, Contiguous, invert; CharDelimiterSplit; Digits(grouped)",
        tokenizer(wp_model(), normalizer=bert_norm(),
                  pre_tokenizer=seq_pre(split(" ", "Removed", regex=False),
                                        split(",", "Isolated", regex=False),
                                        split(".", "MergedWithPrevious", regex=False),
                                        split("-", "MergedWithNext", regex=False),
                                        split("e", "Contiguous", regex=False, invert=True),
                                        {"type": "CharDelimiterSplit", "delimiter": "/"},
                                        {"type": "Digits", "individual_digits": False}),
                  post_processor=b_post, decoder=b_dec, added_tokens=b_added))
    add("wp_split_regex_behaviors", "Split with Regex patterns, every behavior, invert true/false",
        tokenizer(wp_model(), normalizer=bert_norm(strip_accents=False),
                  pre_tokenizer=seq_pre(split(r"\s+", "Removed"),
                                        split(r"\p{P}+", "Isolated"),
                                        split(r"[0-9]", "Contiguous"),
                                        split(r"[aeiou]", "MergedWithPrevious", invert=True),
                                        split(r"(?i)th", "MergedWithNext"),
                                        split(r"\p{L}{1,5}", "Isolated", invert=True)),
                  post_processor=b_post, decoder=b_dec, added_tokens=b_added))
    add("wp_split_unicode_props", "Split regexes with Unicode properties in and out of classes: "
        "[^\\p{L}\\p{N}], \\P{N}, \\pL, \\p{^P}, [\\p{P}\\s], \\Q..\\E; Replace regex \\p{N}",
        tokenizer(wp_model(), normalizer=seq_norm({"type": "Replace", "pattern": {"Regex": r"\p{N}"}, "content": "7"},
                                                  {"type": "Lowercase"}),
                  pre_tokenizer=seq_pre(split(r"[^\p{L}\p{N}\s]+", "Isolated"),
                                        split(r"\P{N}\pL", "MergedWithNext"),
                                        split(r"\p{^P}{3}", "Isolated", invert=True),
                                        split(r"[\p{P}\s]", "Removed"),
                                        split(r"\Q\p{L}\E|[\]\p{Letter}]{4}", "Isolated")),
                  post_processor=b_post, decoder=b_dec, added_tokens=b_added))
    add("wp_bert_pair_trunc", "BertNormalizer+BertPreTokenizer+TemplateProcessing; truncation LongestFirst 20 "
        "direction Left stride 5; BatchLongest padding to a multiple of 16",
        tokenizer(wp_model(), normalizer=bert_norm(), pre_tokenizer={"type": "BertPreTokenizer"},
                  post_processor=template(["[CLS]", "$A", "[SEP]"], ["[CLS]", "$A", "[SEP]", "$B:1", "[SEP]:1"],
                                          {"[CLS]": [("[CLS]", 101)], "[SEP]": [("[SEP]", 102)]}),
                  decoder=b_dec, added_tokens=b_added + [added("<special_b>", len(bv), special=True)],
                  trunc=truncation(20, direction="Left", stride=5),
                  pad=padding(0, "[PAD]", multiple=16, pad_type_id=1)))

    # -- Unigram (T5's SentencePiece vocab) --
    tv = t5["model"]["vocab"]
    pcm = t5["normalizer"]
    t_added = [added("<pad>", 0, special=True), added("</s>", 1, special=True), added("<unk>", 2, special=True)]

    def uni_model(vocab=tv, byte_fallback=False, unk_id=2):
        return {"type": "Unigram", "unk_id": unk_id, "vocab": vocab, "byte_fallback": byte_fallback}

    t_post = template(["$A", "</s>"], ["$A", "</s>", "$B:1", "</s>:1"], {"</s>": [("</s>", 1)]})
    add("uni_nmt_metaspace_first", "Unigram; Nmt + NFKC + Replace(regex) normalizers; Metaspace first+split",
        tokenizer(uni_model(), normalizer=seq_norm({"type": "Nmt"}, {"type": "NFKC"}, replace(" {2,}", " ", regex=True)),
                  pre_tokenizer=metaspace("first", split=True), post_processor=t_post,
                  decoder=metaspace("first", split=True), added_tokens=t_added))
    byte_vocab = tv + [[f"<0x{b:02X}>", 0.0] for b in range(256)]
    add("uni_byte_fallback", "Unigram byte_fallback; Precompiled charsmap; decoder Replace+ByteFallback+Fuse+Strip",
        tokenizer(uni_model(vocab=byte_vocab, byte_fallback=True), normalizer=pcm,
                  pre_tokenizer=metaspace("always", split=True), post_processor=t_post,
                  decoder=seq_dec(replace("\u2581", " "), {"type": "ByteFallback"}, {"type": "Fuse"},
                                  {"type": "Strip", "content": " ", "start": 1, "stop": 0}),
                  added_tokens=t_added))
    add("uni_nfkd_never_trunc", "Unigram; NFKD+Lowercase; Metaspace never, split=false; WhitespaceSplit; "
        "truncation OnlySecond 30; pair template with type ids",
        tokenizer(uni_model(), normalizer=seq_norm({"type": "NFKD"}, {"type": "Lowercase"}),
                  pre_tokenizer=seq_pre({"type": "WhitespaceSplit"}, metaspace("never", split=False)),
                  post_processor=template(["$A", "</s>"], ["<extra_id_0>", "$A", "</s>", "$B:1", "</s>:1"],
                                          {"</s>": [("</s>", 1)], "<extra_id_0>": [("<extra_id_0>", 32099)]}),
                  decoder=metaspace("never", split=False), added_tokens=t_added,
                  trunc=truncation(30, strategy="OnlySecond")))
    add("uni_precompiled_nfc_added", "Unigram; Sequence(Precompiled, NFC, Replace); Metaspace always no split; "
        "added tokens (normalized, single_word); padding Fixed 48",
        tokenizer(uni_model(), normalizer=seq_norm(pcm, {"type": "NFC"}, replace("``", "\"")),
                  pre_tokenizer=metaspace("always", split=False), post_processor=t_post,
                  decoder=metaspace("always", split=False),
                  added_tokens=t_added + [added("<special_a>", len(tv), special=True),
                                          added("<word>", len(tv) + 1, single_word=True),
                                          added("<extra_id_0>", 32099, special=True)],
                  pad=padding(0, "<pad>", fixed=48)))

    # -- WordLevel: words from the corpus; characters with a CTC decoder --
    wl = {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "[PAD]": 3}
    for w, _ in training_words(3000):
        wl.setdefault(w.lower(), len(wl))
    add("wl_words_nodecoder", "WordLevel with unk; Lowercase; Whitespace; no decoder (tokens joined by spaces); "
        "TemplateProcessing",
        tokenizer({"type": "WordLevel", "vocab": wl, "unk_token": "[UNK]"}, normalizer={"type": "Lowercase"},
                  pre_tokenizer={"type": "Whitespace"},
                  post_processor=template(["[CLS]", "$A", "[SEP]"], ["[CLS]", "$A", "[SEP]", "$B:1", "[SEP]:1"],
                                          {"[CLS]": [("[CLS]", 1)], "[SEP]": [("[SEP]", 2)]}),
                  added_tokens=[added(t, wl[t], special=True) for t in ["[UNK]", "[CLS]", "[SEP]", "[PAD]"]]))
    chars = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4}
    for ch in "abcdefghijklmnopqrstuvwxyz'0123456789éèàüöäçñ.,!?-":
        chars.setdefault(ch, len(chars))
    c_added = [added(t, chars[t], special=True) for t in ["<pad>", "<s>", "</s>", "<unk>"]]
    add("wl_chars_ctc", "WordLevel characters; Lowercase + Replace(' ' -> '|'); Split(regex any char, Isolated); "
        "CTC decoder with cleanup",
        tokenizer({"type": "WordLevel", "vocab": chars, "unk_token": "<unk>"},
                  normalizer=seq_norm({"type": "Lowercase"}, replace(" ", "|")),
                  pre_tokenizer=split(r"[\s\S]", "Isolated"),
                  decoder={"type": "CTC", "pad_token": "<pad>", "word_delimiter_token": "|", "cleanup": True},
                  added_tokens=c_added))
    add("wl_chars_ctc_nocleanup", "CTC decoder cleanup=false; NFC + Strip(left only); Split regex MergedWithNext",
        tokenizer({"type": "WordLevel", "vocab": chars, "unk_token": "<unk>"},
                  normalizer=seq_norm({"type": "NFC"}, {"type": "Strip", "strip_left": True, "strip_right": False},
                                      replace(" ", "|")),
                  pre_tokenizer=split(r"[\s\S]", "MergedWithNext"),
                  decoder={"type": "CTC", "pad_token": "<pad>", "word_delimiter_token": "|", "cleanup": False},
                  added_tokens=c_added))
    return out


def shrink(tok, keep=400):
    """The same tokenizer with a small vocabulary (ids < keep, merges among them) and
    no Precompiled charsmap: a fuzz seed well under libFuzzer's -max_len."""
    tok = json.loads(json.dumps(tok))
    m = tok["model"]
    if m["type"] == "Unigram":
        m["vocab"] = m["vocab"][:keep] + [p for p in m["vocab"] if p[0].startswith("<0x")]
        m["unk_id"] = min(m["unk_id"], len(m["vocab"]) - 1)
    elif m["type"] == "WordPiece":  # BERT: specials < 110, common words from ~2000, ## pieces at the end
        m["vocab"] = {k: i for k, i in m["vocab"].items() if i < 110 or 1996 <= i < 2500 or i >= 29900}
    else:
        needed = {m.get("unk_token")} | {t["content"] for t in tok["added_tokens"]}
        m["vocab"] = {k: i for k, i in m["vocab"].items() if i < keep or k in needed}
    if m["type"] == "BPE":
        kept = []
        prefix = m.get("continuing_subword_prefix") or ""
        for merge in m["merges"]:
            a, b = merge.split(" ", 1) if isinstance(merge, str) else merge
            if a in m["vocab"] and b in m["vocab"] and a + b[len(prefix):] in m["vocab"]:
                kept.append(merge)
        m["merges"] = kept

    def drop_precompiled(n):
        if isinstance(n, dict):
            if n.get("type") == "Precompiled":
                return {"type": "NFKC"}
            if n.get("type") == "Sequence" and "normalizers" in n:
                n["normalizers"] = [drop_precompiled(x) for x in n["normalizers"]]
        return n
    tok["normalizer"] = drop_precompiled(tok["normalizer"])
    return tok


def main(argv):
    fuzz_seeds = len(argv) == 3 and argv[0] == "--fuzz-seeds"
    if fuzz_seeds:
        argv = argv[1:]
    if len(argv) != 2:
        sys.stderr.write("usage: gen_tokenizers.py [--fuzz-seeds] <shared_models_dir> <out_dir>\n")
        return 2
    shared, out_dir = argv
    os.makedirs(out_dir, exist_ok=True)
    index = {}
    for name, tok in specs(shared).items():
        index[name] = tok.pop("_covers")
        if fuzz_seeds:
            tok = shrink(tok)
        with open(os.path.join(out_dir, name + ".json"), "w", encoding="utf-8") as f:
            json.dump(tok, f, ensure_ascii=False, indent=None if not fuzz_seeds else 0)
        print(name)
    if not fuzz_seeds:
        with open(os.path.join(out_dir, "index.json"), "w", encoding="utf-8") as f:
            json.dump(index, f, ensure_ascii=False, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
