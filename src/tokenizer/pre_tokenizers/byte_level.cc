// HF ByteLevel pre-tokenizer: per split, prepend ' ' (add_prefix_space, unless
// the split starts with a space), cut with the GPT-2 regex (use_regex; the
// hand-written scanner), then replace every byte by its byte-level char. The
// first byte of a char takes the char's place and the others are insertions,
// as HF's transform, so offsets still point at the whole original char.
#include "tokenizer/byte_level.h"

#include "tokenizer/pre_tokenizers/pre_tokenizers.h"
#include "tokenizer/pre_tokenizers/split_util.h"
#include "tokenizer/unicode_util.h"

namespace keel::tok {

Status ByteLevelPreTokenizer::pre_tokenize(PreTokenizedString& s) const {
  KEEL_RETURN_IF_ERROR(s.split([&](size_t, NormalizedString&& n) -> Result<std::vector<NormalizedString>> {
    if (add_prefix_space_ && (n.normalized().empty() || n.normalized()[0] != ' ')) n.prepend(" ");
    if (!use_regex_) {
      std::vector<NormalizedString> one;
      one.push_back(std::move(n));
      return one;
    }
    thread_local std::vector<Range> ranges;
    ranges.clear();
    scan_bpe_regex(BpeRegex::kGpt2, n.normalized(), ranges);
    return slice_pieces(n, ranges);
  }));
  return s.normalize([](NormalizedString& n) -> Status {
    thread_local std::vector<CharChange> changes;
    changes.clear();
    const std::string& text = n.normalized();
    changes.reserve(text.size());
    size_t i = 0;
    while (i < text.size()) {
      const size_t len = utf8_char_len(static_cast<unsigned char>(text[i]));
      for (size_t k = 0; k < len && i + k < text.size(); ++k)
        changes.push_back({byte_to_unicode(static_cast<uint8_t>(text[i + k])), k > 0 ? 1 : 0});
      i += len;
    }
    n.transform(changes, 0);
    return Status::Ok();
  });
}

}  // namespace keel::tok
