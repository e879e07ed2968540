// HF tokenizers' pre-tokenizers through the Node binding, for
// test_pre_tokenizers_hf.py. stdin: {"pre_tokenizer": {...}, "strings": [...]}.
// stdout: {"error": msg} if HF rejects the pre-tokenizer, else
// {"results": [[[piece, [start, end]], ...] per string]} with code-point offsets
// (HF's pre_tokenize_str: OffsetReferential::Original, OffsetType::Char).
const path = require('path');
const peers = process.env.KEEL_PEERS || path.join(__dirname, '../../tools/peers/node_modules');
const {Tokenizer} = require(path.join(peers, 'tokenizers'));

let input = '';
process.stdin.on('data', d => { input += d; });
process.stdin.on('end', () => {
  const req = JSON.parse(input);
  const j = {version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null,
             pre_tokenizer: req.pre_tokenizer, post_processor: null, decoder: null,
             model: {type: 'WordLevel', vocab: {'<unk>': 0}, unk_token: '<unk>'}};
  let pt;
  try {
    pt = Tokenizer.fromString(JSON.stringify(j)).getPreTokenizer();
  } catch (e) {
    process.stdout.write(JSON.stringify({error: String(e)}));
    return;
  }
  const results = req.strings.map(s => pt.preTokenizeString(s));
  process.stdout.write(JSON.stringify({results}));
});
