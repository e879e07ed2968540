#pragma once

#include <cstdint>
#include <string>
#include <utility>

namespace keel::tok {

// A token produced by a model: its id, its string, and its byte range inside the
// sequence the model was given.
struct Token {
  uint32_t id = 0;
  std::string value;
  std::pair<size_t, size_t> offsets;
};

}  // namespace keel::tok
