// HF UnicodeScripts (from SentencePiece): a split starts at every char whose
// script differs from the last char's that had one (' ' and unlisted chars have
// none: "Any"). Like HF, chars before the first char with a script are dropped
// (a leading run of spaces disappears; an all-space split yields nothing).
#include "tokenizer/pre_tokenizers/pre_tokenizers.h"
#include "tokenizer/pre_tokenizers/split_util.h"
#include "tokenizer/pre_tokenizers/unicode_tables.h"
#include "tokenizer/unicode_util.h"

namespace keel::tok {

Status UnicodeScriptsPreTokenizer::pre_tokenize(PreTokenizedString& s) const {
  const UnicodeTables& t = UnicodeTables::get();
  return s.split([&](size_t, NormalizedString&& n) -> Result<std::vector<NormalizedString>> {
    thread_local std::vector<Range> ranges;
    ranges.clear();
    std::string_view text = n.normalized();
    int last = -1;  // no script seen yet
    size_t i = 0;
    while (i < text.size()) {
      const size_t b = i;
      const int script = t.script(decode_utf8(text, i));
      if (script == 0) continue;  // Any
      if (script != last) {
        if (!ranges.empty()) ranges.back().second = b;
        ranges.emplace_back(b, text.size());
      }
      last = script;
    }
    return slice_pieces(n, ranges);
  });
}

}  // namespace keel::tok
