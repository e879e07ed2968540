#include "tokenizer/byte_level.h"

#include "tokenizer/decoders/decoders.h"

namespace keel::tok {

Status ByteLevelDecoder::decode_chain(std::vector<std::string>& tokens) const {
  std::string bytes;
  for (const std::string& t : tokens) {
    if (!byte_level_decode(t, bytes)) bytes += t;
  }
  tokens.assign(1, utf8_lossy(bytes));
  return Status::Ok();
}

}  // namespace keel::tok
