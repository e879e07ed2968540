// Builds a Decoder from its tokenizer.json object (first version: every type is
// reported as not yet implemented; the real dispatch follows).
#include <nlohmann/json.hpp>

#include "tokenizer/components.h"

namespace keel::tok {

Result<std::unique_ptr<Decoder>> make_decoder(const nlohmann::json& j, const std::string& path) {
  return Error(path, ": not implemented yet");
}

}  // namespace keel::tok
