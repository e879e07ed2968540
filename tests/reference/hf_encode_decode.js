#!/usr/bin/env node
// HF tokenizers (the Rust library through its Node binding) over a list of
// strings, truncation and padding off, for test_gguf_vs_hf.py:
//
//   node hf_encode_decode.js <node_modules> <tokenizer.json> <in.jsonl> <out.jsonl>
//
// <in.jsonl> holds one JSON string per line; each output line is
//   {"special": {ids, tokens, offsets}, "nospecial": {ids, tokens, offsets},
//    "decoded": decode(nospecial ids, skipSpecialTokens=false),
//    "decoded_skip": decode(special ids, skipSpecialTokens=true)}
// or {"error": message} where HF throws.
'use strict';
const fs = require('fs');
const path = require('path');

async function main() {
  const [modules, tokPath, inPath, outPath] = process.argv.slice(2);
  if (!outPath) {
    process.stderr.write('usage: hf_encode_decode.js <node_modules> <tokenizer.json> <in.jsonl> <out.jsonl>\n');
    process.exit(2);
  }
  const { Tokenizer } = require(path.join(modules, 'tokenizers'));
  const tok = Tokenizer.fromString(fs.readFileSync(tokPath, 'utf8'));
  tok.disableTruncation();
  tok.disablePadding();
  const lines = fs.readFileSync(inPath, 'utf8').split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  const texts = lines.map((l) => JSON.parse(l));
  const enc = (e) => ({ ids: e.getIds(), tokens: e.getTokens(), offsets: e.getOffsets() });
  const out = new Array(texts.length);
  let next = 0;
  async function worker() {
    while (next < texts.length) {
      const i = next++;
      try {
        const special = await tok.encode(texts[i], null, { addSpecialTokens: true });
        const nospecial = await tok.encode(texts[i], null, { addSpecialTokens: false });
        out[i] = {
          special: enc(special),
          nospecial: enc(nospecial),
          decoded: await tok.decode(nospecial.getIds(), false),
          decoded_skip: await tok.decode(special.getIds(), true),
        };
      } catch (err) {
        out[i] = { error: String(err && err.message ? err.message : err) };
      }
    }
  }
  await Promise.all(Array.from({ length: 32 }, worker));
  fs.writeFileSync(outPath, out.map((v) => JSON.stringify(v)).join('\n') + (out.length ? '\n' : ''));
}

main().catch((err) => {
  process.stderr.write(`hf_encode_decode.js: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
