// Generates src/tokenizer/pre_tokenizers/unicode_tables_data.cc: the character
// classes and scripts keel's pre-tokenizers need, measured on HF tokenizers
// itself (the Node binding in tools/peers), so keel agrees with it on every code
// point whatever Unicode version each of its dependencies was built with:
//   letter   Oniguruma \p{L}       (ByteLevel / Split regexes)
//   number   Oniguruma \p{N}
//   space    Oniguruma \s  (= Rust char::is_whitespace, checked equal)
//   punct    HF is_punc: ASCII punctuation or unicode_categories P*
//   numeric  Rust char::is_numeric (Digits)
//   word     Rust regex crate \w   (Whitespace pre-tokenizer)
//   punct_p  Oniguruma \p{P}       (user Split / Replace regexes)
//   script   the UnicodeScripts pre-tokenizer's script (Hiragana, Katakana and
//            U+30FC already folded into Han, ' ' as Any), as an opaque class id
//
// Usage: node tests/tools/gen_pre_tokenizer_unicode_tables.js > src/tokenizer/pre_tokenizers/unicode_tables_data.cc
const path = require('path');
const peers = process.env.KEEL_PEERS || path.join(__dirname, '../../tools/peers/node_modules');
const {Tokenizer} = require(path.join(peers, 'tokenizers'));

function pre(pt) {
  const j = {version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null,
             pre_tokenizer: pt, post_processor: null, decoder: null,
             model: {type: 'WordLevel', vocab: {'<unk>': 0}, unk_token: '<unk>'}};
  return Tokenizer.fromString(JSON.stringify(j)).getPreTokenizer();
}
const ALL = [];
for (let c = 0; c <= 0x10ffff; c++) if (c < 0xd800 || c > 0xdfff) ALL.push(c);
const CHUNK = 32768;

// Code points a Removed-behavior pre-tokenizer deletes from a string of all chars.
function removed(pt) {
  const out = new Set();
  for (let s = 0; s < ALL.length; s += CHUNK) {
    const chunk = ALL.slice(s, s + CHUNK);
    const keep = new Uint8Array(chunk.length);
    for (const [, [b, e]] of pt.preTokenizeString(String.fromCodePoint(...chunk)))
      for (let i = b; i < e; i++) keep[i] = 1;
    chunk.forEach((c, i) => { if (!keep[i]) out.add(c); });
  }
  return out;
}
// For each c, pre-tokenize (prefix + c) pairs: 'removed' if c is in no piece,
// 'joined' if c shares the prefix's piece, 'separate' otherwise.
function paired(pt, prefix) {
  const res = {removed: new Set(), joined: new Set(), separate: new Set()};
  const cands = ALL.filter(c => c !== prefix.codePointAt(0));
  for (let s = 0; s < cands.length; s += CHUNK) {
    const chunk = cands.slice(s, s + CHUNK);
    const cover = new Int32Array(chunk.length * 2).fill(-1);
    const str = chunk.map(c => prefix + String.fromCodePoint(c)).join('');
    pt.preTokenizeString(str).forEach(([, [b, e]], k) => { for (let i = b; i < e; i++) cover[i] = k; });
    chunk.forEach((c, i) => {
      const a = cover[2 * i], b = cover[2 * i + 1];
      res[b < 0 ? 'removed' : a === b ? 'joined' : 'separate'].add(c);
    });
  }
  return res;
}
const regex = r => pre({type: 'Split', pattern: {Regex: r}, behavior: 'Removed', invert: false});

const letter = removed(regex('\\p{L}'));
const number = removed(regex('\\p{N}'));
const punct_p = removed(regex('\\p{P}'));
const space = removed(regex('\\s'));
const rustSpace = removed(pre({type: 'WhitespaceSplit'}));
const punct = removed(pre({type: 'Punctuation', behavior: 'Removed'}));
const numeric = paired(pre({type: 'Digits', individual_digits: true}), 'x').separate;
const ws = paired(pre({type: 'Whitespace'}), 'b');
const word = ws.joined; word.add('b'.codePointAt(0));
for (const c of ALL) if (space.has(c) !== rustSpace.has(c) || space.has(c) !== ws.removed.has(c))
  throw new Error('whitespace sets differ at U+' + c.toString(16));

// Scripts. Any: no split next to either a Latin or a Greek letter.
const scriptsPt = pre({type: 'UnicodeScripts'});
const lat = paired(scriptsPt, 'a'), gre = paired(scriptsPt, 'α');
const script = new Map();  // cp -> class id (0 = Any)
const real = ALL.filter(c => lat.separate.has(c) || gre.separate.has(c));
// Runs of equal script among the non-Any chars, then one representative per run
// compared against one representative per class found so far.
const runs = [];
for (let s = 0; s < real.length; s += CHUNK) {
  const chunk = real.slice(s, s + CHUNK);
  const pieces = scriptsPt.preTokenizeString(String.fromCodePoint(...chunk));
  for (const [, [b, e]] of pieces) runs.push(chunk.slice(b, e));
}
const reps = [];  // reps[k]: a char of class k+1
for (const run of runs) {
  const r = run[0];
  let cls = 0;
  if (reps.length) {
    const str = reps.map(x => String.fromCodePoint(r, x)).join('');
    const starts = new Set(scriptsPt.preTokenizeString(str).map(([, [b]]) => b));
    const k = reps.findIndex((x, i) => !starts.has(2 * i + 1));
    if (k >= 0) cls = k + 1;
  }
  if (!cls) { reps.push(r); cls = reps.length; }
  for (const c of run) script.set(c, cls);
}
if (reps.length > 255) throw new Error('too many scripts');

const BIT = {letter: 1, number: 2, space: 4, punct: 8, numeric: 16, word: 32, punct_p: 64};
const sets = {letter, number, space, punct, numeric, word, punct_p};
function ranges(valueOf) {
  const out = [];
  for (const c of ALL) {
    const v = valueOf(c);
    if (!v) continue;
    const last = out[out.length - 1];
    if (last && last[1] === c - 1 && last[2] === v) last[1] = c; else out.push([c, c, v]);
  }
  return out;
}
const classRanges = ranges(c => { let v = 0; for (const k in BIT) if (sets[k].has(c)) v |= BIT[k]; return v; });
const scriptRanges = ranges(c => script.get(c) || 0);
const hex = v => '0x' + v.toString(16).toUpperCase();
const body = rs => rs.map(([a, b, v]) => `{${hex(a)}, ${hex(b)}, ${v}}`).join(',\n    ')
  .replace(/((?:[^\n]*\n){1})/g, '$1');
console.log(`// Generated by tests/tools/gen_pre_tokenizer_unicode_tables.js from HF tokenizers
// ${require(path.join(peers, 'tokenizers/package.json')).version} (measured through its Node binding). Do not edit.
#include "tokenizer/pre_tokenizers/unicode_tables.h"

namespace keel::tok::unicode_data {

// Inclusive code point ranges and their class bits (see unicode_tables.h).
const CodeRange kClassRanges[] = {
    ${body(classRanges)}};
const size_t kClassRangeCount = sizeof(kClassRanges) / sizeof(kClassRanges[0]);

// Inclusive ranges and their UnicodeScripts class (1..${reps.length}); absent = Any.
const CodeRange kScriptRanges[] = {
    ${body(scriptRanges)}};
const size_t kScriptRangeCount = sizeof(kScriptRanges) / sizeof(kScriptRanges[0]);

}  // namespace keel::tok::unicode_data`);
console.error(`classes: ${classRanges.length} ranges; scripts: ${reps.length} classes, ${scriptRanges.length} ranges`);
