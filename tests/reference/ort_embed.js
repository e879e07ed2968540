#!/usr/bin/env node
// Runs an ONNX export of tests/reference/bert_ref.py's model (inputs input_ids,
// attention_mask, token_type_ids: int64 [batch, seq]; output embeddings: float32
// [batch, dim]) with ONNX Runtime's CPU provider (npm onnxruntime-node).
//
//   node ort_embed.js <node_modules> <model.onnx> <ids.jsonl> <out.f32> <batch> <threads> [repeat]
//
// ids.jsonl: one {"ids": [...], "type_ids": [...]} per line. Inputs are taken in
// file order, `batch` at a time, right-padded with 0 to the batch's longest
// (mask 0 on the padding), as a Python caller of sentence-transformers would.
// Writes the embeddings as raw little-endian float32 [inputs, dim] to out.f32 and
// prints {"dim": D, "seconds": S, "load_seconds": L} (S: the run time of the best of
// `repeat` passes, default 1).
'use strict';
const fs = require('fs');
const path = require('path');

async function main() {
  const [modules, modelPath, idsPath, outPath, batchArg, threadsArg, repeatArg] = process.argv.slice(2);
  if (!threadsArg) {
    process.stderr.write('usage: ort_embed.js <node_modules> <model.onnx> <ids.jsonl> <out.f32> <batch> <threads> [repeat]\n');
    process.exit(2);
  }
  const ort = require(path.resolve(modules, 'onnxruntime-node'));
  const t0 = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: Number(threadsArg),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const loadSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const inputs = fs.readFileSync(idsPath, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l));
  const batch = Number(batchArg);
  const repeat = Number(repeatArg || 1);
  let best = Infinity;
  let chunks = [];
  let dim = 0;
  for (let r = 0; r < repeat; ++r) {
    chunks = [];
    const start = process.hrtime.bigint();
    for (let b = 0; b < inputs.length; b += batch) {
      const group = inputs.slice(b, b + batch);
      const seq = Math.max(...group.map((e) => e.ids.length));
      const n = group.length;
      const ids = new BigInt64Array(n * seq);
      const mask = new BigInt64Array(n * seq);
      const types = new BigInt64Array(n * seq);
      group.forEach((e, i) => {
        e.ids.forEach((id, j) => {
          ids[i * seq + j] = BigInt(id);
          mask[i * seq + j] = 1n;
          types[i * seq + j] = BigInt(e.type_ids[j]);
        });
      });
      const feeds = {
        input_ids: new ort.Tensor('int64', ids, [n, seq]),
        attention_mask: new ort.Tensor('int64', mask, [n, seq]),
        token_type_ids: new ort.Tensor('int64', types, [n, seq]),
      };
      const out = (await session.run(feeds)).embeddings;
      dim = out.dims[1];
      chunks.push(Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength));
    }
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
  }
  fs.writeFileSync(outPath, Buffer.concat(chunks));
  process.stdout.write(JSON.stringify({ dim, seconds: best, load_seconds: loadSeconds }) + '\n');
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
