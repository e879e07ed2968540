// Jinja parser: tokens -> Template (ast.h). Throws JinjaError naming the
// line and column of the offending token. Nesting is bounded so hostile
// input cannot overflow the stack.
#pragma once

#include <memory>
#include <string_view>

#include "tokenizer/jinja/ast.h"

namespace keel::jinja {

std::unique_ptr<Template> parse(std::string_view source);

}  // namespace keel::jinja
