// Replace (HF normalizers/replace.rs): a literal or a regex, every match
// replaced by `content` taken verbatim.
#include "tokenizer/normalizers/normalizers.h"

namespace keel::tok {

Result<std::unique_ptr<ReplaceNormalizer>> ReplaceNormalizer::create(std::string pattern, bool is_regex,
                                                                     std::string content) {
  // HF compiles a String pattern as an escaped regex, so an empty one matches
  // the empty string at every char boundary (content inserted everywhere); a
  // literal Pattern of "" would match nothing, so that case goes through the
  // regex engine too.
  if (!is_regex && !pattern.empty())
    return std::unique_ptr<ReplaceNormalizer>(
        new ReplaceNormalizer(Pattern::literal(std::move(pattern)), std::move(content)));
  auto re = Regex::compile(pattern);
  if (!re.ok()) return re.status();
  auto shared = std::make_shared<const Regex>(std::move(*re));
  return std::unique_ptr<ReplaceNormalizer>(
      new ReplaceNormalizer(Pattern::regex(std::move(shared)), std::move(content)));
}

Status ReplaceNormalizer::normalize(NormalizedString& s) const { return s.replace(pattern_, content_); }

}  // namespace keel::tok
