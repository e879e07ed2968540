// A small argument parser for subcommands: `--flag value`, `--flag=value`,
// boolean flags, positional arguments, and `--` to end the flags. `-h` is
// `--help` when the command declares a "help" flag. Errors are values.
//
//   auto args = Args::parse(argc, argv, {{"config", true}, {"layers", true}, {"help", false}});
//   if (!args.ok()) { usage error: args.error() }
//   if (args->has("help")) ...
//   const std::string* config = args->value("config");            // nullptr if absent
//   Result<std::optional<int64_t>> layers = args->int_value("layers", 1, 4096);
//
// argv[0] is the subcommand's own name and is skipped. A flag given twice is
// an error, as is an unknown flag, a missing value, or a value on a boolean flag.
#pragma once

#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace keel::cli {

struct FlagSpec {
  std::string_view name;  // without the leading "--"
  bool takes_value = true;
};

class Args {
 public:
  static Result<Args> parse(int argc, char** argv, std::initializer_list<FlagSpec> flags) {
    return parse(argc, argv, std::span<const FlagSpec>(flags.begin(), flags.size()));
  }
  static Result<Args> parse(int argc, char** argv, std::span<const FlagSpec> flags) {
    Args out;
    bool flags_done = false;
    for (int i = 1; i < argc; ++i) {
      std::string_view a = argv[i];
      if (flags_done || a.size() < 2 || a[0] != '-') {
        out.positional_.emplace_back(a);
        continue;
      }
      if (a == "--") {
        flags_done = true;
        continue;
      }
      if (a == "-h") a = "--help";
      if (a.substr(0, 2) != "--") return Error("unknown option '", a, "'");
      std::string_view name = a.substr(2);
      std::optional<std::string_view> inline_value;
      if (size_t eq = name.find('='); eq != std::string_view::npos) {
        inline_value = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
      const FlagSpec* spec = nullptr;
      for (const FlagSpec& f : flags)
        if (f.name == name) spec = &f;
      if (!spec) return Error("unknown option '--", name, "'");
      if (out.values_.count(std::string(name))) return Error("option '--", name, "' given twice");
      std::string value;
      if (!spec->takes_value) {
        if (inline_value) return Error("option '--", name, "' takes no value");
      } else if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < argc) {
        value = argv[++i];  // taken as is, even if it starts with '-' (e.g. a negative number)
      } else {
        return Error("option '--", name, "' needs a value");
      }
      out.values_.emplace(std::string(name), std::move(value));
    }
    return out;
  }

  bool has(std::string_view name) const { return values_.find(name) != values_.end(); }
  // The flag's value; nullptr if it was not given ("" for a boolean flag).
  const std::string* value(std::string_view name) const {
    auto it = values_.find(name);
    return it == values_.end() ? nullptr : &it->second;
  }
  std::string value_or(std::string_view name, std::string_view fallback) const {
    const std::string* v = value(name);
    return v ? *v : std::string(fallback);
  }
  // An integer flag in [lo, hi]; nullopt if absent, an error naming the flag if malformed.
  Result<std::optional<int64_t>> int_value(std::string_view name,
                                           int64_t lo = std::numeric_limits<int64_t>::min(),
                                           int64_t hi = std::numeric_limits<int64_t>::max()) const {
    return number<int64_t>(name, lo, hi);
  }
  // A floating-point flag; nullopt if absent, an error naming the flag if malformed.
  Result<std::optional<float>> float_value(std::string_view name) const {
    const std::string* v = value(name);
    if (!v) return std::optional<float>();
    float x = 0.0f;
    const char* end = v->data() + v->size();
    auto [ptr, ec] = std::from_chars(v->data(), end, x);
    if (ec != std::errc() || ptr != end || v->empty())
      return Error("option '--", name, "': expected a number, got '", *v, "'");
    return std::optional<float>(x);
  }
  // An unsigned 64-bit flag (seeds); nullopt if absent.
  Result<std::optional<uint64_t>> uint_value(std::string_view name) const {
    return number<uint64_t>(name, 0, std::numeric_limits<uint64_t>::max());
  }
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  template <typename T>
  Result<std::optional<T>> number(std::string_view name, T lo, T hi) const {
    const std::string* v = value(name);
    if (!v) return std::optional<T>();
    T x{};
    const char* end = v->data() + v->size();
    auto [ptr, ec] = std::from_chars(v->data(), end, x);
    if (ec != std::errc() || ptr != end || v->empty())
      return Error("option '--", name, "': expected an integer, got '", *v, "'");
    if (x < lo || x > hi) return Error("option '--", name, "': ", x, " is outside ", lo, "..", hi);
    return std::optional<T>(x);
  }

  std::map<std::string, std::string, std::less<>> values_;
  std::vector<std::string> positional_;
};

}  // namespace keel::cli
