// HF Split: delimiters from a literal string or a regex, the configured
// behavior, optionally inverted (HF's Invert flips every match flag). A regex
// that is one of the GPT-2 / Llama-3 / Qwen2 pre-tokenization patterns is
// matched by the hand-written scanner instead of PCRE2 (same matches, faster).
#include "tokenizer/pre_tokenizers/pre_tokenizers.h"
#include "tokenizer/pre_tokenizers/split_util.h"

namespace keel::tok {

Result<std::unique_ptr<SplitPreTokenizer>> SplitPreTokenizer::create(std::string pattern, bool is_regex,
                                                                     SplitBehavior behavior,
                                                                     bool invert) {
  std::unique_ptr<SplitPreTokenizer> p(new SplitPreTokenizer(behavior, invert));
  if (is_regex) p->scanner_ = find_bpe_regex(pattern);
  if (p->scanner_) return p;
  if (!is_regex && !pattern.empty()) {
    p->pattern_ = Pattern::literal(std::move(pattern));
    return p;
  }
  // HF compiles a string pattern as an escaped regex; only the empty string
  // behaves differently from a literal search (an empty match at every char).
  auto re = Regex::compile(pattern);
  if (!re.ok()) return re.status();
  p->pattern_ = Pattern::regex(std::make_shared<const Regex>(std::move(*re)));
  return p;
}

Status SplitPreTokenizer::pre_tokenize(PreTokenizedString& s) const {
  return s.split([&](size_t, NormalizedString&& n) -> Result<std::vector<NormalizedString>> {
    thread_local MatchList matches;
    matches.clear();
    if (scanner_) {
      thread_local std::vector<Range> ranges;
      ranges.clear();
      scan_bpe_regex(*scanner_, n.normalized(), ranges);
      // The matches tile the text: Isolated keeps exactly them.
      if (!invert_ && behavior_ == SplitBehavior::Isolated) return slice_pieces(n, ranges);
      if (ranges.empty()) matches.push_back({{0, 0}, false});
      for (const Range& r : ranges) matches.push_back({r, true});
    } else {
      KEEL_RETURN_IF_ERROR(pattern_->find_matches(n.normalized(), matches));
    }
    if (invert_)
      for (auto& m : matches) m.second = !m.second;
    return split_by_matches(n, matches, behavior_);
  });
}

}  // namespace keel::tok
