#!/usr/bin/env node
// Token ids from HF tokenizers (the Rust library through its Node binding), as
// sentence-transformers feeds a BERT model: special tokens added, truncation at
// max_length (special tokens included), no padding.
//
//   node hf_encode_ids.js <node_modules> <tokenizer.json> <max_length> <in.jsonl> <out.jsonl>
//
// in.jsonl: one JSON string per line. out.jsonl: one JSON object per line,
// {"ids": [...], "type_ids": [...]}.
'use strict';
const fs = require('fs');
const path = require('path');

async function main() {
  const [modules, tokPath, maxLength, inPath, outPath] = process.argv.slice(2);
  if (!outPath) {
    process.stderr.write('usage: hf_encode_ids.js <node_modules> <tokenizer.json> <max_length> <in.jsonl> <out.jsonl>\n');
    process.exit(2);
  }
  const { Tokenizer } = require(path.resolve(modules, 'tokenizers'));
  const tok = Tokenizer.fromString(fs.readFileSync(tokPath, 'utf8'));
  tok.setTruncation(Number(maxLength));
  tok.disablePadding();
  const lines = fs.readFileSync(inPath, 'utf8').split('\n').filter((l) => l.length > 0);
  const out = [];
  for (const line of lines) {
    const e = await tok.encode(JSON.parse(line), null, { addSpecialTokens: true });
    out.push(JSON.stringify({ ids: e.getIds(), type_ids: e.getTypeIds() }));
  }
  fs.writeFileSync(outPath, out.join('\n') + '\n');
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
