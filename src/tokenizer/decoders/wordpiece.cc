#include "tokenizer/decoders/decoders.h"

namespace keel::tok {

Status WordPieceDecoder::decode_chain(std::vector<std::string>& tokens) const {
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string& t = tokens[i];
    if (i != 0) {
      if (t.compare(0, prefix_.size(), prefix_) == 0) {
        t.erase(0, prefix_.size());
      } else {
        t.insert(0, 1, ' ');
      }
    }
    if (cleanup_) t = wordpiece_cleanup(t);
  }
  return Status::Ok();
}

Status CtcDecoder::decode_chain(std::vector<std::string>& tokens) const {
  std::vector<std::string> out;
  out.reserve(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i > 0 && tokens[i] == tokens[i - 1]) continue;  // collapse repeats
    std::string t = rust_replace(tokens[i], pad_, "");
    if (cleanup_) t = rust_replace(wordpiece_cleanup(t), delimiter_, " ");
    if (!t.empty()) out.push_back(std::move(t));
  }
  tokens = std::move(out);
  return Status::Ok();
}

}  // namespace keel::tok
