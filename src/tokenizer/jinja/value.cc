#include "tokenizer/jinja/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>


namespace keel::jinja {

Value Value::make_list(List items) {
  Value v;
  v.kind = Kind::List;
  v.list = std::make_shared<List>(std::move(items));
  return v;
}
Value Value::make_dict() {
  Value v;
  v.kind = Kind::Dict;
  v.dict = std::make_shared<Dict>();
  return v;
}
Value Value::make_namespace() {
  Value v = make_dict();
  v.kind = Kind::Namespace;
  return v;
}
Value Value::function(Function f) {
  Value v;
  v.kind = Kind::Function;
  v.fn = std::make_shared<Function>(std::move(f));
  return v;
}

bool Value::truthy() const {
  switch (kind) {
    case Kind::Undefined: case Kind::None: return false;
    case Kind::Bool: return b;
    case Kind::Int: return i != 0;
    case Kind::Float: return f != 0.0 && !std::isnan(f);
    case Kind::String: return !s.empty();
    case Kind::List: return !list->empty();
    case Kind::Dict: return !dict->items.empty();
    case Kind::Namespace: case Kind::Function: return true;
  }
  return false;
}

const char* Value::type_name() const {
  switch (kind) {
    case Kind::Undefined: return "undefined";
    case Kind::None: return "none";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "string";
    case Kind::List: return "list";
    case Kind::Dict: return "dict";
    case Kind::Namespace: return "namespace";
    case Kind::Function: return "function";
  }
  return "?";
}

std::string js_number(double x) {
  if (std::isnan(x)) return "NaN";
  if (std::isinf(x)) return x > 0 ? "Infinity" : "-Infinity";
  if (x == 0) return "0";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, x);
  std::string s(buf, r.ptr);
  // to_chars picks the shortest digits; JS uses plain notation for
  // 1e-7 <= |x| < 1e21 and "1e+21" style outside it.
  double ax = std::fabs(x);
  if (ax >= 1e-7 && ax < 1e21) {
    if (s.find('e') != std::string::npos) {
      r = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::fixed);
      s.assign(buf, r.ptr);
    }
    return s;
  }
  r = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific);
  s.assign(buf, r.ptr);
  size_t e = s.find('e');
  if (e != std::string::npos) {
    std::string mant = s.substr(0, e), ex = s.substr(e + 1);
    char sign = '+';
    if (!ex.empty() && (ex[0] == '+' || ex[0] == '-')) { sign = ex[0]; ex = ex.substr(1); }
    while (ex.size() > 1 && ex[0] == '0') ex.erase(0, 1);
    s = mant + "e" + sign + ex;
  }
  return s;
}

std::string Value::str() const {
  switch (kind) {
    case Kind::Undefined: return "";
    case Kind::None: return "null";
    case Kind::Bool: return b ? "true" : "false";
    case Kind::Int: return std::to_string(i);
    case Kind::Float: {
      if (f == 0 && std::signbit(f)) return "-0.0";
      if (std::isfinite(f) && f == std::floor(f) && std::fabs(f) < 1e21) {
        char buf[400];
        std::snprintf(buf, sizeof buf, "%.1f", f);
        return buf;
      }
      return js_number(f);
    }
    case Kind::String: return s;
    case Kind::List: case Kind::Dict: case Kind::Namespace: {
      JsonOptions o;
      return to_json(*this, o);
    }
    case Kind::Function: return "[function]";
  }
  return "";
}

const Value* Dict::find(std::string_view key) const {
  for (const auto& [k, v] : items)
    if (k == key) return &v;
  return nullptr;
}

void Dict::set(std::string key, Value v) {
  for (auto& [k, old] : items)
    if (k == key) { old = std::move(v); return; }
  items.emplace_back(std::move(key), std::move(v));
}

const Value* Args::kwarg(std::string_view name) const {
  for (const auto& [k, v] : kw)
    if (k == name) return &v;
  return nullptr;
}

const Value* Args::get(size_t i, std::string_view name) const {
  if (i < pos.size()) return &pos[i];
  return kwarg(name);
}

bool values_equal(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.kind == Kind::Int && b.kind == Kind::Int) return a.i == b.i;
    return a.as_double() == b.as_double();
  }
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Kind::Undefined: case Kind::None: return true;
    case Kind::Bool: return a.b == b.b;
    case Kind::String: return a.s == b.s;
    // JS compares arrays and objects by identity.
    case Kind::List: return a.list == b.list;
    case Kind::Dict: case Kind::Namespace: return a.dict == b.dict;
    case Kind::Function: return a.fn == b.fn;
    default: return false;
  }
}

static std::string lower_ascii(std::string s) {
  for (char& c : s) if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  return s;
}

int compare_values(const Value& a, const Value& b, bool case_sensitive) {
  if (a.is_number() && b.is_number()) {
    double x = a.as_double(), y = b.as_double();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.kind == Kind::Bool && b.kind == Kind::Bool) return int(a.b) - int(b.b);
  if (a.is_string() && b.is_string()) {
    if (case_sensitive) return a.s.compare(b.s) < 0 ? -1 : a.s == b.s ? 0 : 1;
    std::string x = lower_ascii(a.s), y = lower_ascii(b.s);
    return x < y ? -1 : x == y ? 0 : 1;
  }
  throw JinjaError{std::string("cannot compare ") + a.type_name() + " with " + b.type_name()};
}

static void json_string(std::string& out, std::string_view s, bool ensure_ascii) {
  out += '"';
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; ++i; continue;
      case '\\': out += "\\\\"; ++i; continue;
      case '\b': out += "\\b"; ++i; continue;
      case '\f': out += "\\f"; ++i; continue;
      case '\n': out += "\\n"; ++i; continue;
      case '\r': out += "\\r"; ++i; continue;
      case '\t': out += "\\t"; ++i; continue;
      default: break;
    }
    if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
      ++i;
      continue;
    }
    if (!ensure_ascii || c < 0x7f) { out += char(c); ++i; continue; }
    // ensure_ascii: \uXXXX per UTF-16 unit, as HF's makeAsciiSafe.
    size_t len = 1;
    uint32_t cp = c;
    if (c >= 0xf0 && i + 3 < s.size() + 0) { cp = c & 7; len = 4; }
    else if (c >= 0xe0) { cp = c & 15; len = 3; }
    else if (c >= 0xc0) { cp = c & 31; len = 2; }
    if (i + len > s.size()) len = s.size() - i;
    for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 63);
    char buf[16];
    if (cp >= 0x10000) {
      cp -= 0x10000;
      std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
    } else {
      std::snprintf(buf, sizeof buf, "\\u%04x", cp);
    }
    out += buf;
    i += len;
  }
  out += '"';
}

static void json_rec(std::string& out, const Value& v, const JsonOptions& o, int depth) {
  if (depth > 256) throw JinjaError{"tojson: nesting deeper than 256"};
  // Shared sublists can make a small value print exponentially large.
  if (out.size() > (64u << 20)) throw JinjaError{"tojson: output exceeds the size limit"};
  std::string item_sep = o.item_sep, key_sep = o.key_sep;
  if (item_sep.empty()) item_sep = o.indent > 0 ? "," : ", ";
  if (key_sep.empty()) key_sep = ": ";
  switch (v.kind) {
    case Kind::Undefined: case Kind::None: out += "null"; return;
    case Kind::Bool: out += v.b ? "true" : "false"; return;
    case Kind::Int: out += std::to_string(v.i); return;
    case Kind::Float: out += std::isfinite(v.f) ? js_number(v.f) : "null"; return;
    case Kind::String: json_string(out, v.s, o.ensure_ascii); return;
    case Kind::Function: throw JinjaError{"tojson: cannot convert a function to JSON"};
    default: break;
  }
  std::string ind = o.indent > 0 ? std::string(size_t(o.indent), ' ') : "";
  std::string base = "\n";
  for (int d = 0; d < depth; ++d) base += ind;
  std::string child = base + ind;
  bool pretty = o.indent > 0;
  if (v.kind == Kind::List) {
    out += '[';
    for (size_t k = 0; k < v.list->size(); ++k) {
      if (k) out += item_sep;
      if (pretty) out += child;
      json_rec(out, (*v.list)[k], o, depth + 1);
    }
    if (pretty && !v.list->empty()) out += base;
    out += ']';
    return;
  }
  std::vector<const std::pair<std::string, Value>*> entries;
  for (const auto& e : v.dict->items) entries.push_back(&e);
  if (o.sort_keys)
    std::stable_sort(entries.begin(), entries.end(), [](auto* a, auto* b) { return a->first < b->first; });
  out += '{';
  for (size_t k = 0; k < entries.size(); ++k) {
    if (k) out += item_sep;
    if (pretty) out += child;
    json_string(out, entries[k]->first, o.ensure_ascii);
    out += key_sep;
    json_rec(out, entries[k]->second, o, depth + 1);
  }
  if (pretty && !entries.empty()) out += base;
  out += '}';
}

std::string to_json(const Value& v, const JsonOptions& opt, int depth) {
  std::string out;
  json_rec(out, v, opt, depth);
  return out;
}

}  // namespace keel::jinja
