#!/usr/bin/env node
// The HF side of tests/tokenizer/test_models_hf.py: runs one model, decoder or
// post-processor at a time through HF tokenizers (Rust, via its Node binding).
//
//   node hf_tokenizer_parts.js <node_modules> < request.json > response.json
//
// request: {"cases": [case, ...]}, each case one of
//   {"model": {...}, "texts": [...]}
//       a tokenizer with only this model (no normalizer, no pre-tokenizer: each
//       text is one split) -> {"results": [{"ids", "tokens", "offsets"} | {"error"}]}
//       (offsets in code points, as the bindings report them)
//   {"decoder": {...}, "token_lists": [[...], ...]}
//       a WordLevel vocab of the tokens + this decoder; decode(ids, false)
//       -> {"results": ["..." | {"error"}]}
//   {"post_processor": {...}, "vocab": {...}, "inputs": [{"a_text", "b_text" | null, "add_special"}]}
//       Split on "|" (removed) + WordLevel(vocab) + this post-processor
//       -> {"results": [{"ids", "tokens", "offsets", "type_ids", "special_tokens_mask",
//                        "attention_mask", "word_ids", "overflowing"} | {"error"}]}
// A component HF refuses to load answers {"load_error": "..."}.
'use strict';
const fs = require('fs');
const path = require('path');

const modules = process.argv[2];
if (!modules) {
  process.stderr.write('usage: hf_tokenizer_parts.js <node_modules> < request.json\n');
  process.exit(2);
}
const { Tokenizer } = require(path.join(modules, 'tokenizers'));

function base(parts) {
  return Object.assign({
    version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null,
    pre_tokenizer: null, post_processor: null, decoder: null,
  }, parts);
}

function encodingJson(e) {
  return {
    ids: e.getIds(),
    tokens: e.getTokens(),
    offsets: e.getOffsets(),
    type_ids: e.getTypeIds(),
    special_tokens_mask: e.getSpecialTokensMask(),
    attention_mask: e.getAttentionMask(),
    word_ids: e.getWordIds().map((w) => (w === undefined ? null : w)),
    overflowing: e.getOverflowing().map(encodingJson),
  };
}

function load(json) {
  try {
    return { tok: Tokenizer.fromString(JSON.stringify(json)) };
  } catch (err) {
    return { error: String(err) };
  }
}

async function runModel(c) {
  const { tok, error } = load(base({ model: c.model }));
  if (error) return { load_error: error };
  const results = [];
  for (const text of c.texts) {
    try {
      const e = await tok.encode(text, null, { addSpecialTokens: false });
      results.push({ ids: e.getIds(), tokens: e.getTokens(), offsets: e.getOffsets() });
    } catch (err) {
      results.push({ error: String(err) });
    }
  }
  return { results, vocab_size: tok.getVocabSize(false) };
}

async function runDecoder(c) {
  const vocab = {};
  let n = 0;
  for (const list of c.token_lists) for (const t of list) if (!(t in vocab)) vocab[t] = n++;
  if (n === 0) vocab['<unk>'] = n++;
  const { tok, error } = load(base({ decoder: c.decoder, model: { type: 'WordLevel', vocab, unk_token: '<unk>' } }));
  if (error) return { load_error: error };
  const results = [];
  for (const list of c.token_lists) {
    try {
      results.push(await tok.decode(list.map((t) => vocab[t]), false));
    } catch (err) {
      results.push({ error: String(err) });
    }
  }
  return { results };
}

async function runPost(c) {
  const pre = { type: 'Split', pattern: { String: '|' }, behavior: 'Removed', invert: false };
  const { tok, error } = load(base({
    pre_tokenizer: pre, post_processor: c.post_processor, truncation: c.truncation || null,
    model: { type: 'WordLevel', vocab: c.vocab, unk_token: '<unk>' },
  }));
  if (error) return { load_error: error };
  const results = [];
  for (const inp of c.inputs) {
    try {
      const e = await tok.encode(inp.a_text, inp.b_text, { addSpecialTokens: inp.add_special });
      results.push(encodingJson(e));
    } catch (err) {
      results.push({ error: String(err) });
    }
  }
  return { results };
}

(async () => {
  const req = JSON.parse(fs.readFileSync(0, 'utf8'));
  const out = [];
  for (const c of req.cases) {
    if (c.model !== undefined) out.push(await runModel(c));
    else if (c.decoder !== undefined) out.push(await runDecoder(c));
    else if (c.post_processor !== undefined) out.push(await runPost(c));
    else out.push({ load_error: 'case has no model, decoder or post_processor' });
  }
  process.stdout.write(JSON.stringify(out) + '\n');
})();
