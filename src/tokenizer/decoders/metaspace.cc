#include "tokenizer/decoders/decoders.h"
#include "tokenizer/models/json_fields.h"

namespace keel::tok {

Status MetaspaceDecoder::decode_chain(std::vector<std::string>& tokens) const {
  std::string rep;
  json_fields::append_utf8(replacement_, rep);
  for (size_t i = 0; i < tokens.size(); ++i) {
    // In the first token every replacement char is dropped (HF drops them all,
    // not only the leading one) when a prefix was prepended.
    const bool drop = i == 0 && scheme_ != PrependScheme::Never;
    std::string& t = tokens[i];
    if (t.find(rep) == std::string::npos) continue;
    t = rust_replace(t, rep, drop ? "" : " ");
  }
  return Status::Ok();
}

}  // namespace keel::tok
