// The values a Jinja template computes with: undefined, none, bool, int,
// float, string, list, dict (insertion-ordered), namespace and callable.
// Lists, dicts and namespaces are shared by reference, as in Python, so
// `ns.x = ...` inside a loop is seen outside it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keel::jinja {

// Raised inside the interpreter; ChatTemplate turns it into a Status.
// line/col are 1-based positions in the template source (0: not known yet).
struct JinjaError {
  std::string message;
  int line = 0;
  int col = 0;
};

struct Value;
using List = std::vector<Value>;
struct Dict;
struct Args;
using Function = std::function<Value(Args&)>;

enum class Kind : uint8_t { Undefined, None, Bool, Int, Float, String, List, Dict, Namespace, Function };

struct Value {
  Kind kind = Kind::Undefined;
  bool b = false;
  int64_t i = 0;
  double f = 0.0;
  std::string s;
  std::shared_ptr<List> list;
  std::shared_ptr<Dict> dict;  // Dict and Namespace
  std::shared_ptr<Function> fn;

  static Value none() { Value v; v.kind = Kind::None; return v; }
  static Value boolean(bool x) { Value v; v.kind = Kind::Bool; v.b = x; return v; }
  static Value integer(int64_t x) { Value v; v.kind = Kind::Int; v.i = x; return v; }
  static Value real(double x) { Value v; v.kind = Kind::Float; v.f = x; return v; }
  static Value string(std::string x) { Value v; v.kind = Kind::String; v.s = std::move(x); return v; }
  static Value make_list(List items = {});
  static Value make_dict();
  static Value make_namespace();
  static Value function(Function f);

  bool is_undefined() const { return kind == Kind::Undefined; }
  bool is_none() const { return kind == Kind::None; }
  bool is_string() const { return kind == Kind::String; }
  bool is_list() const { return kind == Kind::List; }
  bool is_mapping() const { return kind == Kind::Dict || kind == Kind::Namespace; }
  bool is_number() const { return kind == Kind::Int || kind == Kind::Float; }
  double as_double() const { return kind == Kind::Int ? double(i) : kind == Kind::Float ? f : double(b); }

  bool truthy() const;
  // What {{ v }} prints (HF jinja: true/false, floats as 1.0, lists and
  // dicts as JSON; none and undefined print nothing where a block joins them).
  std::string str() const;
  const char* type_name() const;
};

struct Dict {
  std::vector<std::pair<std::string, Value>> items;
  const Value* find(std::string_view key) const;
  void set(std::string key, Value v);
};

struct Args {
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> kw;
  const Value* kwarg(std::string_view name) const;
  // Positional i, else keyword `name`, else nullptr.
  const Value* get(size_t i, std::string_view name) const;
};

// Equality as HF jinja's == (values compare by content; int 1 == float 1.0).
bool values_equal(const Value& a, const Value& b);
// <0, 0, >0 for sorting (numbers, strings, bools); throws for mixed kinds.
int compare_values(const Value& a, const Value& b, bool case_sensitive = true);

struct JsonOptions {
  int indent = -1;  // < 0: one line with ", " and ": "
  bool ensure_ascii = false;
  bool sort_keys = false;
  std::string item_sep;  // empty: default for the indent mode
  std::string key_sep;
};
// tojson as HF jinja writes it (JSON.stringify escapes, Python's separators).
std::string to_json(const Value& v, const JsonOptions& opt = {}, int depth = 0);
// JavaScript's Number.prototype.toString for a double (shortest round trip).
std::string js_number(double x);

}  // namespace keel::jinja
