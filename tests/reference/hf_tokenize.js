#!/usr/bin/env node
// The reference side of keel's tokenizer parity test: runs HF tokenizers (the
// Rust library through its Node binding) over the corpus and writes what it
// returns, in the same JSON-lines format as `keel tokenize` / `keel detokenize`.
//
//   node hf_tokenize.js <node_modules> <tokenizer.json> <in_dir> <out_dir> [single|nospecial|nopad]
//
// <in_dir> holds corpus.jsonl (one JSON string per line) and pairs.jsonl (one
// JSON [a, b] per line). Writes to <out_dir>:
//   single.jsonl          encode(text)                       (tokenizer.json's truncation/padding)
//   nospecial.jsonl       encode(text, addSpecialTokens=false)
//   batch.jsonl           encodeBatch(chunk) over chunks of 16 lines (padding to each chunk's longest)
//   pair.jsonl            encode(a, b)
//   pair_nospecial.jsonl  encode(a, b, addSpecialTokens=false)
//   nopad.jsonl           encode(text) with truncation and padding disabled (only written when
//                         tokenizer.json has truncation or padding: otherwise it is single.jsonl)
//   decode_in.jsonl       id arrays to decode: the ids of single.jsonl, then seeded random arrays
//   decode.jsonl          decode(ids, skipSpecialTokens=false), one JSON string per line
//   decode_skip.jsonl     decode(ids, skipSpecialTokens=true)
//   info.json             {vocab_size, max_id, has_truncation, has_padding}
// A call that throws writes {"error": message} on its line (keel must fail there too).
// With a mode as 5th argument only that mode's file is written (pairs.jsonl unused).
'use strict';
const fs = require('fs');
const path = require('path');

function usage() {
  process.stderr.write('usage: hf_tokenize.js <node_modules> <tokenizer.json> <in_dir> <out_dir> [mode]\n');
  process.exit(2);
}

function readJsonLines(file) {
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => JSON.parse(l));
}

// Same shape as keel's CLI output (cli/cmd_tokenize.cc).
function encodingJson(e) {
  return {
    ids: e.getIds(),
    tokens: e.getTokens(),
    offsets: e.getOffsets(),
    attention_mask: e.getAttentionMask(),
    type_ids: e.getTypeIds(),
    special_tokens_mask: e.getSpecialTokensMask(),
    word_ids: e.getWordIds().map((w) => (w === undefined ? null : w)),
    overflowing: e.getOverflowing().map(encodingJson),
  };
}

// Runs fn over items with a bounded number of calls in flight (the binding runs
// them on libuv's threads), keeping the input order.
async function mapLimited(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i], i);
      } catch (err) {
        out[i] = { error: String(err && err.message ? err.message : err) };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function writeLines(file, values) {
  fs.writeFileSync(file, values.map((v) => JSON.stringify(v)).join('\n') + (values.length ? '\n' : ''));
}

// mulberry32: a tiny seeded PRNG, so the random decode inputs are the same every run.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function main() {
  const [modules, tokPath, inDir, outDir, only] = process.argv.slice(2);
  if (!outDir) usage();
  const { Tokenizer } = require(path.join(modules, 'tokenizers'));
  const json = fs.readFileSync(tokPath, 'utf8');
  let tok;
  try {
    tok = Tokenizer.fromString(json);
  } catch (err) {
    process.stderr.write(`HF tokenizers cannot load ${tokPath}: ${err.message}\n`);
    process.exit(3);
  }
  const cfg = JSON.parse(json);
  const corpus = readJsonLines(path.join(inDir, 'corpus.jsonl'));
  fs.mkdirSync(outDir, { recursive: true });
  const limit = 64;
  const enc = (opts) => async (x) => encodingJson(await tok.encode(x, null, opts));
  const encPair = (opts) => async (p) => encodingJson(await tok.encode(p[0], p[1], opts));

  if (only) {  // one encode mode over corpus.jsonl only (test_hf_parity.py's minimizer)
    if (only === 'nopad') {
      tok.disableTruncation();
      tok.disablePadding();
    }
    const add = only !== 'nospecial';
    writeLines(path.join(outDir, `${only}.jsonl`), await mapLimited(corpus, limit, enc({ addSpecialTokens: add })));
    return;
  }
  const pairs = readJsonLines(path.join(inDir, 'pairs.jsonl'));
  const single = await mapLimited(corpus, limit, enc({ addSpecialTokens: true }));
  writeLines(path.join(outDir, 'single.jsonl'), single);
  writeLines(path.join(outDir, 'nospecial.jsonl'), await mapLimited(corpus, limit, enc({ addSpecialTokens: false })));
  // encodeBatch over chunks of 16 (batch padding, the multi-threaded path).
  const chunks = [];
  for (let i = 0; i < corpus.length; i += 16) chunks.push(corpus.slice(i, i + 16));
  const batched = await mapLimited(chunks, 4, async (c) => (await tok.encodeBatch(c)).map(encodingJson));
  writeLines(path.join(outDir, 'batch.jsonl'),
             batched.flatMap((r, i) => (r.error ? chunks[i].map(() => r) : r)));
  writeLines(path.join(outDir, 'pair.jsonl'), await mapLimited(pairs, limit, encPair({ addSpecialTokens: true })));
  writeLines(path.join(outDir, 'pair_nospecial.jsonl'),
             await mapLimited(pairs, limit, encPair({ addSpecialTokens: false })));

  // Decode inputs: what encode produced, then random ids (some out of range).
  const vocab = tok.getVocab(true);
  let maxId = 0;
  for (const k in vocab) maxId = Math.max(maxId, vocab[k]);
  const addedIds = (cfg.added_tokens || []).map((t) => t.id);
  const rand = rng(1234);
  const decodeIn = single.filter((e) => !e.error).map((e) => e.ids);
  for (let i = 0; i < 1000; ++i) {
    const n = Math.floor(rand() * 24);
    const ids = [];
    for (let j = 0; j < n; ++j) {
      const r = rand();
      if (r < 0.15 && ids.length) ids.push(ids[ids.length - 1]);  // repeats (CTC collapses them)
      else if (r < 0.25 && addedIds.length) ids.push(addedIds[Math.floor(rand() * addedIds.length)]);
      else if (r < 0.4) ids.push(Math.floor(rand() * Math.min(maxId + 1, 300)));  // bytes, short pieces
      else ids.push(Math.floor(rand() * (maxId + 1)));
    }
    decodeIn.push(ids);
  }
  writeLines(path.join(outDir, 'decode_in.jsonl'), decodeIn);
  writeLines(path.join(outDir, 'decode.jsonl'), await mapLimited(decodeIn, limit, (ids) => tok.decode(ids, false)));
  writeLines(path.join(outDir, 'decode_skip.jsonl'), await mapLimited(decodeIn, limit, (ids) => tok.decode(ids, true)));

  if (cfg.truncation != null || cfg.padding != null) {
    tok.disableTruncation();
    tok.disablePadding();
    writeLines(path.join(outDir, 'nopad.jsonl'), await mapLimited(corpus, limit, enc({ addSpecialTokens: true })));
  }

  fs.writeFileSync(path.join(outDir, 'info.json'), JSON.stringify({
    vocab_size: tok.getVocabSize(true),
    max_id: maxId,
    has_truncation: cfg.truncation != null,
    has_padding: cfg.padding != null,
  }));
}

main().catch((err) => {
  process.stderr.write(`hf_tokenize.js: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
