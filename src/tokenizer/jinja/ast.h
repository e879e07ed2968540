// The parsed form of a Jinja template: expressions and statements.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/jinja/value.h"

namespace keel::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

enum class ExprKind : uint8_t {
  Literal,   // value
  Name,      // name
  List,      // kids
  Dict,      // kids: key0, value0, key1, value1, ...
  Attr,      // kids[0].name
  Index,     // kids[0][kids[1]]
  Slice,     // kids[0][kids[1]:kids[2]:kids[3]] (null kids are omitted bounds)
  Call,      // kids[0](kids[1..], kwargs)
  Filter,    // kids[0] | name(kids[1..], kwargs)
  Test,      // kids[0] is [not] name(kids[1..])
  Unary,     // op kids[0]: "not", "-", "+"
  Binary,    // kids[0] op kids[1]
  Ternary,   // kids[1] if kids[0] else kids[2] (kids[2] may be null)
};

struct Expr {
  ExprKind kind;
  int line = 0, col = 0;
  Value value;
  std::string name;  // Name, Attr, Filter, Test; op for Unary/Binary
  bool negated = false;  // Test: "is not"
  std::vector<ExprPtr> kids;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class StmtKind : uint8_t { Text, Output, If, For, Set, Macro, CallBlock, FilterBlock, Break, Continue };

struct Stmt {
  StmtKind kind;
  int line = 0, col = 0;
  std::string text;                  // Text
  ExprPtr expr;                      // Output, For (iterable), Set (value), CallBlock (the call), FilterBlock (filter chain on a placeholder)
  std::vector<std::pair<ExprPtr, Body>> branches;  // If: (condition, body)...; condition null for else
  std::vector<std::string> targets;  // For: loop variables; Set: names (several: unpacking); Macro: name
  std::string attr;                  // Set: ns.attr assignment target attribute (targets[0] is ns)
  ExprPtr cond;                      // For: `if` filter
  Body body, else_body;              // For, Set (block form), Macro, CallBlock, FilterBlock
  std::vector<std::pair<std::string, ExprPtr>> params;  // Macro / CallBlock caller params with defaults
  bool recursive = false;
};

struct Template {
  Body body;
};

}  // namespace keel::jinja
