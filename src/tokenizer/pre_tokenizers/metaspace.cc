// HF Metaspace: every ' ' becomes the replacement char, which is then prepended
// (Always: unless the split already starts with it; First: the same, but only
// for the split that starts at offset 0 of the input, i.e. original_shift 0,
// as HF checks; Never), and with `split` each replacement char starts a new
// piece (MergedWithNext).
#include "tokenizer/pre_tokenizers/pre_tokenizers.h"
#include "tokenizer/pre_tokenizers/split_util.h"
#include "tokenizer/unicode_util.h"

namespace keel::tok {

MetaspacePreTokenizer::MetaspacePreTokenizer(char32_t replacement, PrependScheme scheme, bool split)
    : replacement_(replacement), scheme_(scheme), split_(split) {
  append_utf8(replacement_utf8_, replacement);
}

Status MetaspacePreTokenizer::pre_tokenize(PreTokenizedString& s) const {
  static const Pattern kSpace = Pattern::literal(" ");
  return s.split([&](size_t, NormalizedString&& n) -> Result<std::vector<NormalizedString>> {
    if (n.normalized().find(' ') != std::string::npos)
      KEEL_RETURN_IF_ERROR(n.replace(kSpace, replacement_utf8_));
    const bool starts = n.normalized().compare(0, replacement_utf8_.size(), replacement_utf8_) == 0;
    if (!starts && (scheme_ == PrependScheme::Always ||
                    (scheme_ == PrependScheme::First && n.original_shift() == 0)))
      n.prepend(replacement_utf8_);
    if (!split_) {
      std::vector<NormalizedString> one;
      one.push_back(std::move(n));
      return one;
    }
    thread_local MatchList matches;
    const char32_t r = replacement_;
    char_matches(n.normalized(), [r](char32_t c) { return c == r; }, matches);
    return split_by_matches(n, matches, SplitBehavior::MergedWithNext);
  });
}

}  // namespace keel::tok
