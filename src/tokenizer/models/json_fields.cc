#include "tokenizer/models/json_fields.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "core/utf8.h"

namespace keel::tok::json_fields {

using nlohmann::json;

const char* type_name(const json& j) { return j.type_name(); }

std::string join(const std::string& path, std::string_view key) {
  std::string out = path;
  out += '.';
  out += key;
  return out;
}

Status expect_object(const json& j, const std::string& path) {
  if (!j.is_object()) return Error(path, ": expected an object, got ", type_name(j));
  return Status::Ok();
}

const json* find(const json& j, std::string_view key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<std::optional<std::string>> opt_string(const json& j, std::string_view key, const std::string& path) {
  const json* v = find(j, key);
  if (!v) return std::optional<std::string>();
  if (!v->is_string()) return Error(join(path, key), ": expected a string, got ", type_name(*v));
  return std::optional<std::string>(v->get<std::string>());
}

Result<std::string> req_string(const json& j, std::string_view key, const std::string& path) {
  auto r = opt_string(j, key, path);
  if (!r.ok()) return r.status();
  if (!r->has_value()) return Error(join(path, key), ": missing required string field");
  return std::move(**r);
}

Result<std::string> string_or(const json& j, std::string_view key, const std::string& path,
                              std::string_view def) {
  auto r = opt_string(j, key, path);
  if (!r.ok()) return r.status();
  if (!r->has_value()) return std::string(def);
  return std::move(**r);
}

Result<bool> bool_or(const json& j, std::string_view key, const std::string& path, bool def) {
  const json* v = find(j, key);
  if (!v) return def;
  if (!v->is_boolean()) return Error(join(path, key), ": expected a boolean, got ", type_name(*v));
  return v->get<bool>();
}

Result<uint64_t> as_uint(const json& v, const std::string& path, uint64_t max) {
  if (v.is_number_unsigned()) {
    uint64_t x = v.get<uint64_t>();
    if (x > max) return Error(path, ": ", x, " is out of range (max ", max, ")");
    return x;
  }
  if (v.is_number_integer()) return Error(path, ": expected an unsigned integer, got ", v.get<int64_t>());
  return Error(path, ": expected an unsigned integer, got ", type_name(v));
}

Result<std::optional<uint64_t>> opt_uint(const json& j, std::string_view key, const std::string& path,
                                         uint64_t max) {
  const json* v = find(j, key);
  if (!v) return std::optional<uint64_t>();
  auto r = as_uint(*v, join(path, key), max);
  if (!r.ok()) return r.status();
  return std::optional<uint64_t>(*r);
}

Result<uint64_t> uint_or(const json& j, std::string_view key, const std::string& path, uint64_t def,
                         uint64_t max) {
  auto r = opt_uint(j, key, path, max);
  if (!r.ok()) return r.status();
  return r->value_or(def);
}

Result<std::optional<double>> opt_number(const json& j, std::string_view key, const std::string& path) {
  const json* v = find(j, key);
  if (!v) return std::optional<double>();
  if (!v->is_number()) return Error(join(path, key), ": expected a number, got ", type_name(*v));
  return std::optional<double>(v->get<double>());
}

// Decodes `s` as exactly one code point; nullopt otherwise.
static std::optional<char32_t> single_char(const std::string& s) {
  if (s.empty() || !is_valid_utf8(s)) return std::nullopt;
  auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  size_t n = b(0) < 0x80 ? 1 : b(0) < 0xE0 ? 2 : b(0) < 0xF0 ? 3 : 4;
  if (s.size() != n) return std::nullopt;
  if (n == 1) return char32_t(b(0));
  char32_t c = b(0) & (0x7F >> n);
  for (size_t i = 1; i < n; ++i) c = (c << 6) | (b(i) & 0x3F);
  return c;
}

Result<char32_t> char_or(const json& j, std::string_view key, const std::string& path, char32_t def) {
  auto r = opt_string(j, key, path);
  if (!r.ok()) return r.status();
  if (!r->has_value()) return def;
  auto c = single_char(**r);
  if (!c) return Error(join(path, key), ": expected a single character, got \"", printable(**r), "\"");
  return *c;
}

Result<char32_t> req_char(const json& j, std::string_view key, const std::string& path) {
  if (!find(j, key)) return Error(join(path, key), ": missing required character field");
  return char_or(j, key, path, 0);
}

void append_utf8(char32_t c, std::string& out) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

}  // namespace keel::tok::json_fields
