// Checks a checkpoint's tensors against an architecture's weight table and
// reports every problem at once (llama.cpp's create_tensor / CTranslate2's
// build_optional_layer, done as a pass over the table).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "models/weight_table.h"

namespace keel {

struct WeightCheck {
  std::vector<std::string> errors;  // missing required tensors, wrong shapes
  std::vector<std::string> notes;   // tensors the architecture does not use
  bool ok() const { return errors.empty(); }
};

// `shape_of(name)` returns the checkpoint's shape for `name`, or nullopt if absent;
// `names` lists every tensor in the checkpoint.
WeightCheck check_weights(const std::vector<WeightSpec>& table,
                          const std::function<std::optional<Shape>(std::string_view)>& shape_of,
                          const std::vector<std::string>& names);

}  // namespace keel
