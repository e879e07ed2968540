// HF BertPreTokenizer: split on whitespace (removed), then isolate every
// punctuation char. Done in one pass: the pieces are the runs of other chars
// and each punctuation char alone, which is what the two HF splits leave.
#include "tokenizer/pre_tokenizers/pre_tokenizers.h"
#include "tokenizer/pre_tokenizers/split_util.h"
#include "tokenizer/pre_tokenizers/unicode_tables.h"
#include "tokenizer/unicode_util.h"

namespace keel::tok {

Status BertPreTokenizer::pre_tokenize(PreTokenizedString& s) const {
  const UnicodeTables& t = UnicodeTables::get();
  return s.split([&](size_t, NormalizedString&& n) -> Result<std::vector<NormalizedString>> {
    thread_local std::vector<Range> ranges;
    ranges.clear();
    std::string_view text = n.normalized();
    size_t start = 0, i = 0;
    while (i < text.size()) {
      const size_t b = i;
      const uint8_t cls = t.classes(decode_utf8(text, i));
      if (cls & (kSpace | kPunct)) {
        if (start < b) ranges.emplace_back(start, b);
        if (cls & kPunct) ranges.emplace_back(b, i);
        start = i;
      }
    }
    if (start < text.size()) ranges.emplace_back(start, text.size());
    return slice_pieces(n, ranges);
  });
}

}  // namespace keel::tok
