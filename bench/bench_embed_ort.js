#!/usr/bin/env node
// ONNX Runtime's side of bench/bench_embed.py (npm onnxruntime-node, CPU provider):
// the same stdin protocol as bench/bench_embed.cc.
//
//   node bench_embed_ort.js <node_modules> <model.onnx> <ids.jsonl> <threads>
//
// ids.jsonl: one {"case": ..., "ids": [...], "type_ids": [...]} per line. The
// model is tests/reference/bert_ref.py's ONNX export (inputs input_ids,
// attention_mask, token_type_ids: int64 [batch, seq]; output embeddings). A
// batch is right-padded to its longest input (mask 0 on the padding), as a
// Python caller of sentence-transformers would; the tensors are built before the
// clock starts, so the timed part is session.run. Prints one JSON line at start
// (RSS before / after creating the session), then one per "run <case> <batch> <n>".
'use strict';
const fs = require('fs');
const path = require('path');
const readline = require('readline');

function rssMb() {
  return process.memoryUsage().rss / (1 << 20);
}

async function main() {
  const [modules, modelPath, idsPath, threadsArg] = process.argv.slice(2);
  if (!threadsArg) {
    process.stderr.write('usage: bench_embed_ort.js <node_modules> <model.onnx> <ids.jsonl> <threads>\n');
    process.exit(2);
  }
  const ort = require(path.resolve(modules, 'onnxruntime-node'));
  const cases = {};
  for (const line of fs.readFileSync(idsPath, 'utf8').split('\n')) {
    if (!line) continue;
    const e = JSON.parse(line);
    (cases[e.case] = cases[e.case] || []).push(e);
  }
  const rssBefore = rssMb();
  const t0 = process.hrtime.bigint();
  const options = {
    intraOpNumThreads: Number(threadsArg),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  // KEEL_ORT_SPINNING=0: intra-op threads block instead of spinning between runs.
  if (process.env.KEEL_ORT_SPINNING) {
    options.extra = { session: { intra_op: { allow_spinning: process.env.KEEL_ORT_SPINNING } } };
  }
  const session = await ort.InferenceSession.create(modelPath, options);
  const loadSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(JSON.stringify({ rss_before_mb: rssBefore, rss_after_load_mb: rssMb(),
                                        load_seconds: loadSeconds, version: ort.env.versions.common }) + '\n');

  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    const [op, name, batchArg, nArg] = line.trim().split(/\s+/);
    if (op === 'quit') break;
    const list = cases[name];
    const batch = Number(batchArg);
    if (op !== 'run' || !list || !(batch > 0)) {
      process.stdout.write(JSON.stringify({ error: `bad command: ${line}` }) + '\n');
      continue;
    }
    const n = Math.min(Number(nArg), list.length);
    const feedsList = [];
    for (let b = 0; b < n; b += batch) {
      const group = list.slice(b, Math.min(n, b + batch));
      const seq = Math.max(...group.map((e) => e.ids.length));
      const rows = group.length;
      const ids = new BigInt64Array(rows * seq);
      const mask = new BigInt64Array(rows * seq);
      const types = new BigInt64Array(rows * seq);
      group.forEach((e, i) => {
        e.ids.forEach((id, j) => {
          ids[i * seq + j] = BigInt(id);
          mask[i * seq + j] = 1n;
          types[i * seq + j] = BigInt(e.type_ids[j]);
        });
      });
      feedsList.push({
        input_ids: new ort.Tensor('int64', ids, [rows, seq]),
        attention_mask: new ort.Tensor('int64', mask, [rows, seq]),
        token_type_ids: new ort.Tensor('int64', types, [rows, seq]),
      });
    }
    const calls = [];
    let total = 0;
    let checksum = 0;
    for (const feeds of feedsList) {
      const start = process.hrtime.bigint();
      const out = (await session.run(feeds)).embeddings;
      const s = Number(process.hrtime.bigint() - start) / 1e9;
      checksum += out.data[0];
      calls.push(s);
      total += s;
    }
    process.stdout.write(JSON.stringify({ seconds: total, calls, rss_mb: rssMb(), checksum }) + '\n');
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
