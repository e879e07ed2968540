#!/usr/bin/env node
// HF tokenizers' side of bench/bench_tokenizer.sh: encode throughput of the Node
// binding (the Rust library) on the same text keel gets.
//
//   node hf_tokenizer_bench.js <node_modules> <tokenizer.json> <text file> single|batch [seconds]
//
// single: `await tokenizer.encode(line)` for every line, one after another (one
//         encode in flight, so one core does the tokenizing);
// batch:  `await tokenizer.encodeBatch(lines)` (Rust's rayon pool, every core).
// Padding and truncation are off. Repeats whole passes for at least `seconds`
// (default 1) and prints "X.XX MB/s" (10^6 input bytes per second) on stdout and
// "load X.X ms" plus details on stderr.
'use strict';
const fs = require('fs');
const path = require('path');

async function main() {
  const [modules, tokPath, textPath, mode, secondsArg] = process.argv.slice(2);
  if (!mode || !['single', 'batch'].includes(mode)) {
    process.stderr.write('usage: hf_tokenizer_bench.js <node_modules> <tokenizer.json> <file> single|batch [seconds]\n');
    process.exit(2);
  }
  const minSeconds = Number(secondsArg || 1);
  const { Tokenizer } = require(path.join(modules, 'tokenizers'));
  const t0 = process.hrtime.bigint();
  const tok = Tokenizer.fromFile(tokPath);
  const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
  tok.disablePadding();
  tok.disableTruncation();
  const lines = fs.readFileSync(textPath, 'utf8').split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  let bytes = 0;
  for (const l of lines) bytes += Buffer.byteLength(l, 'utf8');

  const start = process.hrtime.bigint();
  let passes = 0;
  let tokens = 0;
  let seconds = 0;
  do {
    if (mode === 'single') {
      for (const l of lines) tokens += (await tok.encode(l)).getLength();
    } else {
      for (const e of await tok.encodeBatch(lines)) tokens += e.getLength();
    }
    ++passes;
    seconds = Number(process.hrtime.bigint() - start) / 1e9;
  } while (seconds < minSeconds);
  process.stdout.write(`${((bytes * passes) / 1e6 / seconds).toFixed(2)} MB/s\n`);
  process.stderr.write(`load ${loadMs.toFixed(1)} ms; ${lines.length} lines, ${(bytes / 1e6).toFixed(2)} MB, ` +
                       `${passes} passes, ${tokens / passes} tokens/pass, ${seconds.toFixed(3)} s\n`);
}

main().catch((err) => {
  process.stderr.write(`hf_tokenizer_bench.js: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
