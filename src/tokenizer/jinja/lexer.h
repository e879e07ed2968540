// Jinja lexer: template source -> tokens with 1-based line/column.
//
// Whitespace handling follows @huggingface/jinja, which preprocesses the
// source the way HF's apply_chat_template configures Jinja: one trailing
// newline dropped, lstrip_blocks (spaces/tabs before a {% or {# at the start
// of a line removed) and trim_blocks (the newline right after %} or #}
// removed); then {%- {{- {#- strip whitespace before the tag and -%} -}} -#}
// after it. {% raw %}...{% endraw %} is passed through as text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace keel::jinja {

enum class Tok : uint8_t {
  Text,        // literal template text
  OpenStmt,    // {%
  CloseStmt,   // %}
  OpenExpr,    // {{
  CloseExpr,   // }}
  Name,        // identifiers and keywords
  String,      // string literal, escapes resolved
  Int,
  Float,
  Op,          // ( ) [ ] { } , . : | == != < > <= >= + - ~ * ** / // % =
  Comment,     // {# ... #}: no output; kept so whitespace control sees it as HF does
  End,
};

struct Token {
  Tok type;
  std::string text;
  int line = 1;
  int col = 1;
};

// Throws JinjaError on unterminated tags, strings or comments and on
// characters that are not part of the expression syntax.
std::vector<Token> tokenize(std::string_view source);

}  // namespace keel::jinja
