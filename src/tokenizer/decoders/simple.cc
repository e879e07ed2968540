// The small decoders: BPEDecoder, Fuse, Strip, Replace, Sequence.
#include "tokenizer/decoders/decoders.h"
#include "tokenizer/models/json_fields.h"

namespace keel::tok {

Status BpeDecoder::decode_chain(std::vector<std::string>& tokens) const {
  for (size_t i = 0; i < tokens.size(); ++i)
    tokens[i] = rust_replace(tokens[i], suffix_, i + 1 == tokens.size() ? "" : " ");
  return Status::Ok();
}

Status FuseDecoder::decode_chain(std::vector<std::string>& tokens) const {
  std::string all;
  for (const std::string& t : tokens) all += t;
  tokens.assign(1, std::move(all));
  return Status::Ok();
}

namespace {

// Code point boundaries of a (valid UTF-8) token.
void char_starts(const std::string& t, std::vector<size_t>& starts) {
  starts.clear();
  for (size_t i = 0; i < t.size(); ++i)
    if ((static_cast<unsigned char>(t[i]) & 0xC0) != 0x80) starts.push_back(i);
}

}  // namespace

Status StripDecoder::decode_chain(std::vector<std::string>& tokens) const {
  std::string c;
  json_fields::append_utf8(content_, c);
  std::vector<size_t> starts;
  for (std::string& t : tokens) {
    char_starts(t, starts);
    const size_t n = starts.size();
    auto char_at = [&](size_t k) {
      size_t end = k + 1 < n ? starts[k + 1] : t.size();
      return std::string_view(t).substr(starts[k], end - starts[k]);
    };
    size_t start_cut = 0;
    for (size_t k = 0; k < std::min(start_, n) && char_at(k) == c; ++k) start_cut = k + 1;
    size_t stop_cut = n;
    for (size_t k = 0; k < std::min(stop_, n) && char_at(n - k - 1) == c; ++k) stop_cut = n - k - 1;
    // HF panics when the two cuts cross (e.g. "  " with start 2, stop 1); the
    // token is then simply emptied here.
    if (stop_cut <= start_cut) {
      t.clear();
      continue;
    }
    size_t a = start_cut < n ? starts[start_cut] : t.size();
    size_t b = stop_cut < n ? starts[stop_cut] : t.size();
    t = t.substr(a, b - a);
  }
  return Status::Ok();
}

Status ReplaceDecoder::decode_chain(std::vector<std::string>& tokens) const {
  if (!regex_) {
    for (std::string& t : tokens)
      // An empty token has no matches, even for an empty pattern (HF's find_matches).
      if (!t.empty() && (literal_.empty() || t.find(literal_) != std::string::npos))
        t = rust_replace(t, literal_, content_);
    return Status::Ok();
  }
  Pattern pattern = Pattern::regex(regex_);
  std::vector<std::pair<std::pair<size_t, size_t>, bool>> matches;
  for (std::string& t : tokens) {
    KEEL_RETURN_IF_ERROR(pattern.find_matches(t, matches));
    std::string out;
    for (const auto& [range, is_match] : matches) {
      if (is_match) {
        out += content_;
      } else {
        out.append(t, range.first, range.second - range.first);
      }
    }
    t = std::move(out);
  }
  return Status::Ok();
}

Status SequenceDecoder::decode_chain(std::vector<std::string>& tokens) const {
  for (const auto& d : decoders_) KEEL_RETURN_IF_ERROR(d->decode_chain(tokens));
  return Status::Ok();
}

}  // namespace keel::tok
