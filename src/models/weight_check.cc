#include "models/weight_check.h"

#include <unordered_set>

namespace keel {

WeightCheck check_weights(const std::vector<WeightSpec>& table,
                          const std::function<std::optional<Shape>(std::string_view)>& shape_of,
                          const std::vector<std::string>& names) {
  WeightCheck check;
  std::unordered_set<std::string_view> expected;
  for (const auto& spec : table) {
    expected.insert(spec.name);
    std::optional<Shape> shape = shape_of(spec.name);
    if (!shape) {
      if (spec.required) check.errors.push_back(str_cat("missing tensor '", spec.name, "' ", spec.shape.to_string()));
      continue;
    }
    if (!(*shape == spec.shape))
      check.errors.push_back(str_cat("tensor '", spec.name, "' has shape ", shape->to_string(),
                                     ", the config implies ", spec.shape.to_string()));
  }
  for (const auto& name : names)
    if (!expected.contains(name)) check.notes.push_back(str_cat("unused tensor '", name, "'"));
  return check;
}

}  // namespace keel
