// Filters, tests, methods and global functions, following @huggingface/jinja
// where it defines them (e.g. strip() ignores its argument there, length
// counts UTF-16 units, booleans print as true/false) and Python's Jinja
// otherwise.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>

#include "tokenizer/jinja/evaluator.h"

namespace keel::jinja {
namespace {

bool is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

std::string trim_start(std::string s) {
  size_t i = 0;
  while (i < s.size() && is_space(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}
std::string trim_end(std::string s) {
  while (!s.empty() && is_space(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}
std::string trim(std::string s) { return trim_start(trim_end(std::move(s))); }

std::string ascii_upper(std::string s) {
  for (char& c : s) if (c >= 'a' && c <= 'z') c = char(c - 'a' + 'A');
  return s;
}
std::string ascii_lower(std::string s) {
  for (char& c : s) if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  return s;
}
bool is_word_char(unsigned char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
// /\b\w/g upper-cased, as HF's titleCase.
std::string title_case(std::string s) {
  for (size_t i = 0; i < s.size(); ++i) {
    bool prev = i > 0 && is_word_char(static_cast<unsigned char>(s[i - 1]));
    if (!prev && s[i] >= 'a' && s[i] <= 'z') s[i] = char(s[i] - 'a' + 'A');
  }
  return s;
}

// JavaScript string length: UTF-16 code units.
int64_t utf16_length(const std::string& s) {
  int64_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c & 0xc0) == 0x80) continue;
    n += c >= 0xf0 ? 2 : 1;
  }
  return n;
}

std::vector<std::string> utf8_chars(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    size_t j = i + 1;
    while (j < s.size() && (static_cast<unsigned char>(s[j]) & 0xc0) == 0x80) ++j;
    out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string replace_all(const std::string& s, const std::string& from, const std::string& to, int64_t count) {
  if (count == 0) return s;
  int64_t left = count < 0 ? INT64_MAX : count;
  std::string out;
  if (from.empty()) {  // inserts between characters, as Python and JS do
    auto chars = utf8_chars(s);
    for (size_t k = 0; k <= chars.size(); ++k) {
      if (left > 0) { out += to; --left; }
      if (k < chars.size()) out += chars[k];
    }
    return out;
  }
  size_t pos = 0;
  while (left > 0) {
    size_t f = s.find(from, pos);
    if (f == std::string::npos) break;
    out.append(s, pos, f - pos);
    out += to;
    pos = f + from.size();
    --left;
  }
  out.append(s, pos, std::string::npos);
  return out;
}

const std::string& need_string(const Value* v, const char* what) {
  if (!v || !v->is_string()) throw JinjaError{std::string(what) + " must be a string"};
  return v->s;
}
int64_t int_arg(const Value* v, int64_t dflt, const char* what) {
  if (!v || v->is_none()) return dflt;
  if (v->kind != Kind::Int) throw JinjaError{std::string(what) + " must be an integer"};
  return v->i;
}
bool bool_arg(const Value* v, bool dflt) { return v ? v->truthy() : dflt; }

// item.attr with dotted paths ("function.name").
Value get_attr_path(const Value& item, const std::string& path) {
  Value cur = item;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (cur.is_mapping()) {
      const Value* v = cur.dict->find(part);
      cur = v ? *v : Value();
    } else if (cur.is_list() && !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit)) {
      size_t i = std::strtoull(part.c_str(), nullptr, 10);
      cur = i < cur.list->size() ? (*cur.list)[i] : Value();
    } else {
      return Value();
    }
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

Value python_split(const std::string& s, const Value* sep, int64_t maxsplit) {
  List parts;
  if (!sep || sep->is_none()) {
    size_t i = 0;
    while (true) {
      while (i < s.size() && is_space(static_cast<unsigned char>(s[i]))) ++i;
      if (i >= s.size()) break;
      if (maxsplit >= 0 && int64_t(parts.size()) >= maxsplit) {
        parts.push_back(Value::string(s.substr(i)));
        break;
      }
      size_t j = i;
      while (j < s.size() && !is_space(static_cast<unsigned char>(s[j]))) ++j;
      parts.push_back(Value::string(s.substr(i, j - i)));
      i = j;
    }
    return Value::make_list(std::move(parts));
  }
  const std::string& d = need_string(sep, "split() separator");
  if (d.empty()) throw JinjaError{"split(): empty separator"};
  size_t pos = 0;
  while (true) {
    size_t f = s.find(d, pos);
    if (f == std::string::npos || (maxsplit >= 0 && int64_t(parts.size()) >= maxsplit)) {
      parts.push_back(Value::string(s.substr(pos)));
      break;
    }
    parts.push_back(Value::string(s.substr(pos, f - pos)));
    pos = f + d.size();
  }
  return Value::make_list(std::move(parts));
}

// str.format with {} / {0} / {name} fields.
std::string python_format(const std::string& fmt, Args& a) {
  std::string out;
  size_t auto_idx = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    char c = fmt[i];
    if (c == '{' && i + 1 < fmt.size() && fmt[i + 1] == '{') { out += '{'; ++i; continue; }
    if (c == '}' && i + 1 < fmt.size() && fmt[i + 1] == '}') { out += '}'; ++i; continue; }
    if (c != '{') { out += c; continue; }
    size_t end = fmt.find('}', i);
    if (end == std::string::npos) throw JinjaError{"format(): single '{' in format string"};
    std::string field = fmt.substr(i + 1, end - i - 1);
    size_t colon = field.find(':');
    if (colon != std::string::npos) field = field.substr(0, colon);
    const Value* v = nullptr;
    if (field.empty()) v = auto_idx < a.pos.size() ? &a.pos[auto_idx++] : nullptr;
    else if (std::all_of(field.begin(), field.end(), ::isdigit)) {
      size_t k = std::strtoull(field.c_str(), nullptr, 10);
      v = k < a.pos.size() ? &a.pos[k] : nullptr;
    } else {
      v = a.kwarg(field);
    }
    if (!v) throw JinjaError{"format(): no argument for field {" + field + "}"};
    out += v->str();
    i = end;
  }
  return out;
}

Value bound(Function f) { return Value::function(std::move(f)); }

Value string_method(const std::string& s, const std::string& name) {
  if (name == "upper") return bound([s](Args&) { return Value::string(ascii_upper(s)); });
  if (name == "lower") return bound([s](Args&) { return Value::string(ascii_lower(s)); });
  if (name == "strip") return bound([s](Args&) { return Value::string(trim(s)); });
  if (name == "lstrip") return bound([s](Args&) { return Value::string(trim_start(s)); });
  if (name == "rstrip") return bound([s](Args&) { return Value::string(trim_end(s)); });
  if (name == "title") return bound([s](Args&) { return Value::string(title_case(s)); });
  if (name == "capitalize")
    return bound([s](Args&) {
      std::string r = s;
      if (!r.empty() && r[0] >= 'a' && r[0] <= 'z') r[0] = char(r[0] - 'a' + 'A');
      return Value::string(r);
    });
  if (name == "startswith" || name == "endswith") {
    bool start = name == "startswith";
    return bound([s, start](Args& a) {
      if (a.pos.empty()) throw JinjaError{std::string(start ? "startswith" : "endswith") + "() needs an argument"};
      auto check = [&](const std::string& p) {
        return p.size() <= s.size() && (start ? s.compare(0, p.size(), p) == 0 : s.compare(s.size() - p.size(), p.size(), p) == 0);
      };
      const Value& p = a.pos[0];
      if (p.is_string()) return Value::boolean(check(p.s));
      if (p.is_list()) {
        for (const Value& x : *p.list) {
          if (!x.is_string()) throw JinjaError{"startswith/endswith tuple elements must be strings"};
          if (check(x.s)) return Value::boolean(true);
        }
        return Value::boolean(false);
      }
      throw JinjaError{"startswith/endswith argument must be a string or tuple of strings"};
    });
  }
  if (name == "split")
    return bound([s](Args& a) { return python_split(s, a.get(0, "sep"), int_arg(a.get(1, "maxsplit"), -1, "maxsplit")); });
  if (name == "replace")
    return bound([s](Args& a) {
      if (a.pos.size() < 2) throw JinjaError{"replace() needs two arguments"};
      return Value::string(replace_all(s, need_string(&a.pos[0], "replace() old"), need_string(&a.pos[1], "replace() new"),
                                       int_arg(a.get(2, "count"), -1, "replace() count")));
    });
  if (name == "format") return bound([s](Args& a) { return Value::string(python_format(s, a)); });
  if (name == "find")
    return bound([s](Args& a) {
      size_t f = s.find(need_string(a.get(0, "sub"), "find() argument"));
      return Value::integer(f == std::string::npos ? -1 : int64_t(f));
    });
  if (name == "count")
    return bound([s](Args& a) {
      const std::string& sub = need_string(a.get(0, "sub"), "count() argument");
      if (sub.empty()) return Value::integer(int64_t(utf8_chars(s).size()) + 1);
      int64_t n = 0;
      for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
      return Value::integer(n);
    });
  if (name == "join")
    return bound([s](Args& a) {
      const Value* items = a.get(0, "iterable");
      if (!items || !items->is_list()) throw JinjaError{"join() expects a list"};
      std::string out;
      for (size_t k = 0; k < items->list->size(); ++k) {
        if (k) out += s;
        out += (*items->list)[k].str();
      }
      return Value::string(out);
    });
  if (name == "isdigit" || name == "isalpha" || name == "isspace" || name == "isalnum") {
    return bound([s, name](Args&) {
      if (s.empty()) return Value::boolean(false);
      for (unsigned char c : s) {
        bool ok = name == "isdigit" ? (c >= '0' && c <= '9')
                  : name == "isspace" ? is_space(c)
                  : name == "isalpha" ? ((c | 32) >= 'a' && (c | 32) <= 'z')
                                      : (is_word_char(c) && c != '_');
        if (!ok) return Value::boolean(false);
      }
      return Value::boolean(true);
    });
  }
  if (name == "length") return Value::integer(utf16_length(s));
  return Value();
}

}  // namespace

Value builtin_member(const Value& obj, const std::string& name) {
  if (obj.is_string()) return string_method(obj.s, name);
  if (obj.is_list()) {
    if (name == "length") return Value::integer(int64_t(obj.list->size()));
    return Value();
  }
  if (obj.kind == Kind::Dict) {
    auto d = obj.dict;
    if (name == "get")
      return bound([d](Args& a) {
        if (a.pos.empty() || !a.pos[0].is_string()) throw JinjaError{"get() key must be a string"};
        if (const Value* v = d->find(a.pos[0].s)) return *v;
        return a.pos.size() > 1 ? a.pos[1] : Value::none();
      });
    if (name == "items")
      return bound([d](Args&) {
        List items;
        for (const auto& [k, v] : d->items) items.push_back(Value::make_list({Value::string(k), v}));
        return Value::make_list(std::move(items));
      });
    if (name == "keys")
      return bound([d](Args&) {
        List items;
        for (const auto& kv : d->items) items.push_back(Value::string(kv.first));
        return Value::make_list(std::move(items));
      });
    if (name == "values")
      return bound([d](Args&) {
        List items;
        for (const auto& kv : d->items) items.push_back(kv.second);
        return Value::make_list(std::move(items));
      });
  }
  return Value();
}

bool apply_test(Evaluator& ev, const std::string& name, const Value& v, Args& a, const Expr& at) {
  (void)ev;
  (void)at;
  auto arg = [&]() -> const Value& {
    if (a.pos.empty()) throw JinjaError{"test '" + name + "' needs an argument"};
    return a.pos[0];
  };
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "boolean") return v.kind == Kind::Bool;
  if (name == "false") return v.kind == Kind::Bool && !v.b;
  if (name == "true") return v.kind == Kind::Bool && v.b;
  if (name == "string") return v.is_string();
  if (name == "number") return v.is_number();
  if (name == "integer") return v.kind == Kind::Int;
  if (name == "float") return v.kind == Kind::Float;
  if (name == "mapping") return v.kind == Kind::Dict;
  if (name == "iterable") return v.is_list() || v.is_string() || v.kind == Kind::Dict;
  if (name == "sequence") return v.is_list() || v.is_string() || v.kind == Kind::Dict;
  if (name == "callable") return v.kind == Kind::Function;
  if (name == "lower") return v.is_string() && ascii_lower(v.s) == v.s;
  if (name == "upper") return v.is_string() && ascii_upper(v.s) == v.s;
  if (name == "odd" || name == "even") {
    if (v.kind != Kind::Int) throw JinjaError{"test '" + name + "' needs an integer, got " + v.type_name()};
    return (v.i % 2 != 0) == (name == "odd");
  }
  if (name == "divisibleby") {
    const Value& d = arg();
    if (v.kind != Kind::Int || d.kind != Kind::Int || d.i == 0) throw JinjaError{"divisibleby needs nonzero integers"};
    return d.i == -1 || v.i % d.i == 0;
  }
  if (name == "eq" || name == "equalto" || name == "==") return values_equal(v, arg());
  if (name == "ne" || name == "!=") return !values_equal(v, arg());
  if (name == "sameas") return values_equal(v, arg()) && v.kind == arg().kind;
  if (name == "lt" || name == "lessthan" || name == "<") return compare_values(v, arg()) < 0;
  if (name == "le" || name == "<=") return compare_values(v, arg()) <= 0;
  if (name == "gt" || name == "greaterthan" || name == ">") return compare_values(v, arg()) > 0;
  if (name == "ge" || name == ">=") return compare_values(v, arg()) >= 0;
  if (name == "in") {
    const Value& c = arg();
    if (c.is_list()) return std::any_of(c.list->begin(), c.list->end(), [&](const Value& x) { return values_equal(x, v); });
    if (c.is_string() && v.is_string()) return c.s.find(v.s) != std::string::npos;
    if (c.is_mapping() && v.is_string()) return c.dict->find(v.s) != nullptr;
    return false;
  }
  if (name == "escaped") return false;
  throw JinjaError{"unknown test '" + name + "'"};
}

Value apply_filter(Evaluator& ev, const std::string& name, Value v, Args& a, const Expr& at) {
  if (name == "safe") return v;
  if (name == "default" || name == "d") {
    Value dflt = a.pos.size() > 0 ? a.pos[0] : Value::string("");
    bool boolean = bool_arg(a.get(1, "boolean"), false);
    if (v.is_undefined() || (boolean && !v.truthy())) return dflt;
    return v;
  }
  if (name == "tojson") {
    JsonOptions o;
    if (const Value* ind = a.get(0, "indent"); ind && !ind->is_none()) {
      if (ind->kind != Kind::Int) throw JinjaError{"tojson: indent must be an integer"};
      o.indent = int(std::clamp<int64_t>(ind->i, -1, 64));
    }
    o.ensure_ascii = bool_arg(a.kwarg("ensure_ascii"), false);
    o.sort_keys = bool_arg(a.kwarg("sort_keys"), false);
    if (const Value* sep = a.kwarg("separators"); sep && !sep->is_none()) {
      if (!sep->is_list() || sep->list->size() != 2 || !(*sep->list)[0].is_string() || !(*sep->list)[1].is_string())
        throw JinjaError{"tojson: separators must be a pair of strings"};
      o.item_sep = (*sep->list)[0].s;
      o.key_sep = (*sep->list)[1].s;
      if (o.item_sep.empty()) o.item_sep = "\x01";  // keep "" distinct from "use the default"
    }
    std::string j = to_json(v, o);
    if (o.item_sep == "\x01") j = replace_all(j, "\x01", "", -1);
    ev.check_size(j.size());
    return Value::string(std::move(j));
  }
  if (name == "length" || name == "count") {
    if (v.is_string()) return Value::integer(utf16_length(v.s));
    if (v.is_list()) return Value::integer(int64_t(v.list->size()));
    if (v.is_mapping()) return Value::integer(int64_t(v.dict->items.size()));
    if (v.is_undefined()) return Value::integer(0);
    throw JinjaError{std::string("length: ") + v.type_name() + " has no length"};
  }
  if (name == "string") {
    if (v.is_string()) return v;
    return Value::string(v.str());
  }
  if (name == "list") {
    if (v.is_list()) return v;
    List items;
    if (v.is_string()) for (auto& c : utf8_chars(v.s)) items.push_back(Value::string(c));
    else if (v.is_mapping()) for (auto& kv : v.dict->items) items.push_back(Value::string(kv.first));
    else if (!v.is_undefined()) throw JinjaError{std::string("list: cannot convert ") + v.type_name()};
    return Value::make_list(std::move(items));
  }
  if (name == "first" || name == "last") {
    bool first = name == "first";
    if (v.is_list()) {
      if (v.list->empty()) return Value();
      return first ? v.list->front() : v.list->back();
    }
    if (v.is_string()) {
      auto cs = utf8_chars(v.s);
      if (cs.empty()) return Value();
      return Value::string(first ? cs.front() : cs.back());
    }
    throw JinjaError{"filter '" + name + "' needs a list or string, got " + v.type_name()};
  }
  if (name == "reverse") {
    if (v.is_list()) {
      List items(v.list->rbegin(), v.list->rend());
      return Value::make_list(std::move(items));
    }
    if (v.is_string()) {
      auto cs = utf8_chars(v.s);
      std::string r;
      for (auto it = cs.rbegin(); it != cs.rend(); ++it) r += *it;
      return Value::string(r);
    }
    throw JinjaError{std::string("reverse: cannot reverse ") + v.type_name()};
  }
  if (name == "join") {
    std::string sep = a.get(0, "d") ? need_string(a.get(0, "d"), "join separator") : "";
    if (const Value* s2 = a.kwarg("separator")) sep = need_string(s2, "join separator");
    const Value* attr = a.kwarg("attribute");
    List items;
    if (v.is_list()) items = *v.list;
    else if (v.is_string()) for (auto& c : utf8_chars(v.s)) items.push_back(Value::string(c));
    else throw JinjaError{std::string("join: cannot join ") + v.type_name()};
    std::string out;
    for (size_t k = 0; k < items.size(); ++k) {
      if (k) out += sep;
      Value x = attr ? get_attr_path(items[k], attr->str()) : items[k];
      if (!x.is_none() && !x.is_undefined()) out += x.str();
      ev.check_size(out.size());
    }
    return Value::string(out);
  }
  if (name == "unique") {
    if (!v.is_list()) throw JinjaError{"unique needs a list"};
    List out;
    for (const Value& x : *v.list) {
      bool seen = false;
      for (const Value& y : out) seen = seen || (x.kind == y.kind && values_equal(x, y));
      if (!seen) out.push_back(x);
    }
    return Value::make_list(std::move(out));
  }
  if (name == "sort") {
    if (!v.is_list()) throw JinjaError{"sort needs a list"};
    bool reverse = bool_arg(a.get(0, "reverse"), false);
    bool cs = bool_arg(a.get(1, "case_sensitive"), false);
    const Value* attr = a.get(2, "attribute");
    List items = *v.list;
    std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
      Value xa = attr && !attr->is_none() ? get_attr_path(x, attr->str()) : x;
      Value ya = attr && !attr->is_none() ? get_attr_path(y, attr->str()) : y;
      int c = compare_values(xa, ya, cs);
      return reverse ? c > 0 : c < 0;
    });
    return Value::make_list(std::move(items));
  }
  if (name == "dictsort") {
    if (!v.is_mapping()) throw JinjaError{"dictsort needs a dict"};
    bool cs = bool_arg(a.get(0, "case_sensitive"), false);
    bool by_value = a.get(1, "by") && a.get(1, "by")->str() == "value";
    bool reverse = bool_arg(a.get(2, "reverse"), false);
    List items;
    for (const auto& [k, x] : v.dict->items) items.push_back(Value::make_list({Value::string(k), x}));
    std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
      int c = compare_values((*x.list)[by_value], (*y.list)[by_value], cs);
      return reverse ? c > 0 : c < 0;
    });
    return Value::make_list(std::move(items));
  }
  if (name == "items") {
    if (v.is_undefined()) return Value::make_list();
    if (!v.is_mapping()) throw JinjaError{std::string("items needs a dict, got ") + v.type_name()};
    List items;
    for (const auto& [k, x] : v.dict->items) items.push_back(Value::make_list({Value::string(k), x}));
    return Value::make_list(std::move(items));
  }
  if (name == "upper" || name == "lower" || name == "title" || name == "capitalize" || name == "trim") {
    if (!v.is_string()) throw JinjaError{"filter '" + name + "' needs a string, got " + v.type_name()};
    if (name == "trim") return Value::string(trim(v.s));
    Value m = string_method(v.s, name);
    Args none;
    return (*m.fn)(none);
  }
  if (name == "replace") {
    if (!v.is_string()) throw JinjaError{"replace needs a string"};
    Value m = string_method(v.s, "replace");
    return (*m.fn)(a);
  }
  if (name == "indent") {
    if (!v.is_string()) throw JinjaError{"indent needs a string"};
    int64_t width = int_arg(a.get(0, "width"), 4, "indent width");
    if (width < 0 || width > 1024) throw JinjaError{"indent width out of range"};
    bool first = bool_arg(a.get(1, "first"), false), blank = bool_arg(a.get(2, "blank"), false);
    std::string pad(size_t(width), ' '), out;
    size_t start = 0, line = 0;
    while (true) {
      size_t nl = v.s.find('\n', start);
      std::string part = v.s.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
      if (line > 0) out += '\n';
      if (!((!first && line == 0) || (!blank && part.empty()))) out += pad;
      out += part;
      ev.check_size(out.size());
      if (nl == std::string::npos) break;
      start = nl + 1;
      ++line;
    }
    return Value::string(out);
  }
  if (name == "int" || name == "float") {
    bool is_int = name == "int";
    Value dflt = a.pos.size() > 0 ? a.pos[0] : (is_int ? Value::integer(0) : Value::real(0));
    if (v.kind == Kind::Int) return is_int ? v : Value::real(double(v.i));
    if (v.kind == Kind::Float) return is_int ? Value::integer(int64_t(std::clamp(std::trunc(v.f), -9.2e18, 9.2e18))) : v;
    if (v.kind == Kind::Bool) return is_int ? Value::integer(v.b) : Value::real(v.b);
    if (v.is_string()) {
      std::string t = trim(v.s);
      char* end = nullptr;
      if (is_int) {
        long long x = std::strtoll(t.c_str(), &end, 10);
        return end == t.c_str() ? dflt : Value::integer(x);
      }
      double x = std::strtod(t.c_str(), &end);
      return end == t.c_str() ? dflt : Value::real(x);
    }
    throw JinjaError{"filter '" + name + "' cannot convert " + v.type_name()};
  }
  if (name == "abs") {
    if (v.kind == Kind::Int) return Value::integer(v.i == INT64_MIN ? v.i : std::llabs(v.i));
    if (v.kind == Kind::Float) return Value::real(std::fabs(v.f));
    throw JinjaError{"abs needs a number"};
  }
  if (name == "round") {
    if (!v.is_number()) throw JinjaError{"round needs a number"};
    int64_t prec = std::clamp<int64_t>(int_arg(a.get(0, "precision"), 0, "round precision"), 0, 15);
    double p = std::pow(10.0, double(prec));
    return Value::real(std::round(v.as_double() * p) / p);
  }
  if (name == "sum" || name == "max" || name == "min") {
    if (!v.is_list()) throw JinjaError{"filter '" + name + "' needs a list"};
    if (name == "sum") {
      Value acc = Value::integer(0);
      for (const Value& x : *v.list) {
        if (!x.is_number()) throw JinjaError{"sum needs numbers"};
        acc = acc.kind == Kind::Int && x.kind == Kind::Int ? Value::integer(acc.i + x.i) : Value::real(acc.as_double() + x.as_double());
      }
      return acc;
    }
    if (v.list->empty()) return Value();
    Value best = v.list->front();
    for (const Value& x : *v.list) {
      int c = compare_values(x, best, false);
      if ((name == "max" && c > 0) || (name == "min" && c < 0)) best = x;
    }
    return best;
  }
  if (name == "wordcount") {
    if (!v.is_string()) throw JinjaError{"wordcount needs a string"};
    return Value::integer(int64_t(python_split(v.s, nullptr, -1).list->size()));
  }
  if (name == "escape" || name == "e") {
    std::string s = v.str(), out;
    for (char c : s) {
      switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&#34;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
      }
    }
    return Value::string(out);
  }
  if (name == "map") {
    if (!v.is_list()) throw JinjaError{"map needs a list"};
    List out;
    if (const Value* attr = a.kwarg("attribute")) {
      const Value* dflt = a.kwarg("default");
      for (const Value& x : *v.list) {
        Value r = get_attr_path(x, attr->str());
        out.push_back(r.is_undefined() && dflt ? *dflt : r);
      }
      return Value::make_list(std::move(out));
    }
    if (a.pos.empty() || !a.pos[0].is_string()) throw JinjaError{"map needs a filter name or attribute="};
    std::string f = a.pos[0].s;
    Args rest;
    rest.pos.assign(a.pos.begin() + 1, a.pos.end());
    rest.kw = a.kw;
    for (const Value& x : *v.list) {
      ev.step();
      Args copy = rest;
      out.push_back(apply_filter(ev, f, x, copy, at));
    }
    return Value::make_list(std::move(out));
  }
  if (name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr") {
    if (!v.is_list()) throw JinjaError{"filter '" + name + "' needs a list"};
    bool by_attr = name == "selectattr" || name == "rejectattr";
    bool keep_if = name == "select" || name == "selectattr";
    size_t first = by_attr ? 1 : 0;
    if (by_attr && (a.pos.empty() || !a.pos[0].is_string())) throw JinjaError{"filter '" + name + "' needs an attribute name"};
    std::string test = a.pos.size() > first ? a.pos[first].str() : "";
    Args targs;
    if (a.pos.size() > first + 1) targs.pos.assign(a.pos.begin() + long(first) + 1, a.pos.end());
    List out;
    for (const Value& x : *v.list) {
      ev.step();
      Value subject = by_attr ? get_attr_path(x, a.pos[0].s) : x;
      bool r = test.empty() ? subject.truthy() : apply_test(ev, test, subject, targs, at);
      if (r == keep_if) out.push_back(x);
    }
    return Value::make_list(std::move(out));
  }
  if (name == "attr") {
    if (a.pos.empty()) throw JinjaError{"attr needs a name"};
    if (v.is_mapping()) {
      const Value* r = v.dict->find(a.pos[0].str());
      return r ? *r : Value();
    }
    return builtin_member(v, a.pos[0].str());
  }
  if (name == "batch") {
    if (!v.is_list()) throw JinjaError{"batch needs a list"};
    int64_t n = int_arg(a.get(0, "linecount"), 1, "batch size");
    if (n <= 0) throw JinjaError{"batch size must be positive"};
    List out;
    for (size_t k = 0; k < v.list->size(); k += size_t(n))
      out.push_back(Value::make_list(List(v.list->begin() + long(k), v.list->begin() + long(std::min(v.list->size(), k + size_t(n))))));
    return Value::make_list(std::move(out));
  }
  throw JinjaError{"unknown filter '" + name + "'"};
}

void add_builtin_globals(Scope& scope) {
  scope.vars["raise_exception"] = Value::function([](Args& a) -> Value {
    throw JinjaError{"raise_exception: " + (a.pos.empty() ? std::string() : a.pos[0].str())};
  });
  scope.vars["range"] = Value::function([](Args& a) {
    if (a.pos.empty() || a.pos.size() > 3) throw JinjaError{"range() takes 1 to 3 integers"};
    for (const Value& x : a.pos) if (x.kind != Kind::Int) throw JinjaError{"range() arguments must be integers"};
    int64_t start = 0, stop = 0, st = 1;
    if (a.pos.size() == 1) stop = a.pos[0].i;
    else { start = a.pos[0].i; stop = a.pos[1].i; }
    if (a.pos.size() == 3) st = a.pos[2].i;
    if (st == 0) throw JinjaError{"range() step must not be zero"};
    List out;
    for (int64_t i = start; st > 0 ? i < stop : i > stop; i += st) {
      if (out.size() >= 1'000'000) throw JinjaError{"range() longer than 1000000"};
      out.push_back(Value::integer(i));
      if ((st > 0 && i > INT64_MAX - st) || (st < 0 && i < INT64_MIN - st)) break;
    }
    return Value::make_list(std::move(out));
  });
  scope.vars["namespace"] = Value::function([](Args& a) {
    Value ns = Value::make_namespace();
    if (a.pos.size() > 1) throw JinjaError{"namespace() takes at most one positional argument"};
    if (a.pos.size() == 1) {
      const Value& src = a.pos[0];
      if (src.is_mapping()) {
        for (const auto& [k, x] : src.dict->items) ns.dict->set(k, x);
      } else {
        throw JinjaError{"namespace() positional argument must be a dict"};
      }
    }
    for (const auto& [k, x] : a.kw) ns.dict->set(k, x);
    return ns;
  });
  scope.vars["strftime_now"] = Value::function([](Args& a) {
    if (a.pos.empty() || !a.pos[0].is_string()) throw JinjaError{"strftime_now() needs a format string"};
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[256];
    size_t n = std::strftime(buf, sizeof buf, a.pos[0].s.c_str(), &tm);
    return Value::string(std::string(buf, n));
  });
  scope.vars["dict"] = Value::function([](Args& a) {
    Value d = Value::make_dict();
    for (const auto& [k, x] : a.kw) d.dict->set(k, x);
    return d;
  });
}

}  // namespace keel::jinja
