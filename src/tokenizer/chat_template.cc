#include "tokenizer/chat_template.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "tokenizer/jinja/evaluator.h"
#include "tokenizer/jinja/parser.h"

namespace keel {
namespace {

using nlohmann::ordered_json;
using jinja::Value;

// JSON -> template value. Numbers with an integral value become ints, as
// JavaScript's JSON.parse gives HF jinja (1.0 prints as 1).
Value from_json(const ordered_json& j, int depth = 0) {
  if (depth > 200) throw jinja::JinjaError{"JSON input nested deeper than 200"};
  switch (j.type()) {
    case ordered_json::value_t::null: return Value::none();
    case ordered_json::value_t::boolean: return Value::boolean(j.get<bool>());
    case ordered_json::value_t::number_integer: return Value::integer(j.get<int64_t>());
    case ordered_json::value_t::number_unsigned: {
      uint64_t u = j.get<uint64_t>();
      return u <= uint64_t(INT64_MAX) ? Value::integer(int64_t(u)) : Value::real(double(u));
    }
    case ordered_json::value_t::number_float: {
      double d = j.get<double>();
      if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) return Value::integer(int64_t(d));
      return Value::real(d);
    }
    case ordered_json::value_t::string: return Value::string(j.get<std::string>());
    case ordered_json::value_t::array: {
      jinja::List items;
      for (const auto& x : j) items.push_back(from_json(x, depth + 1));
      return Value::make_list(std::move(items));
    }
    case ordered_json::value_t::object: {
      Value d = Value::make_dict();
      for (auto it = j.begin(); it != j.end(); ++it) d.dict->set(it.key(), from_json(it.value(), depth + 1));
      return d;
    }
    default: return Value();
  }
}

std::string format_error(const jinja::JinjaError& e) {
  if (e.line > 0) return str_cat("chat template line ", e.line, " column ", e.col, ": ", e.message);
  return "chat template: " + e.message;
}

// bos_token / eos_token are a string or an AddedToken object {"content": ...}.
std::string token_text(const ordered_json& cfg, const char* key) {
  auto it = cfg.find(key);
  if (it == cfg.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object()) {
    auto c = it->find("content");
    if (c != it->end() && c->is_string()) return c->get<std::string>();
  }
  return "";
}

Result<std::string> render_with(const jinja::Template& program, Value messages, bool add_generation_prompt,
                                const std::string& bos, const std::string& eos, const ordered_json* extra) {
  try {
    std::unordered_map<std::string, Value> globals;
    globals["messages"] = std::move(messages);
    globals["add_generation_prompt"] = Value::boolean(add_generation_prompt);
    globals["bos_token"] = Value::string(bos);
    globals["eos_token"] = Value::string(eos);
    if (extra)
      for (auto it = extra->begin(); it != extra->end(); ++it) globals[it.key()] = from_json(it.value());
    return jinja::render(program, globals);
  } catch (const jinja::JinjaError& e) {
    return Error(format_error(e));
  } catch (const std::bad_alloc&) {
    return Error("chat template: out of memory while rendering");
  }
}

}  // namespace

Result<ChatTemplate> ChatTemplate::from_string(std::string source, std::string bos_token, std::string eos_token) {
  ChatTemplate t;
  try {
    t.program_ = jinja::parse(source);
  } catch (const jinja::JinjaError& e) {
    return Error(format_error(e));
  }
  t.source_ = std::move(source);
  t.bos_token_ = std::move(bos_token);
  t.eos_token_ = std::move(eos_token);
  return t;
}

Result<ChatTemplate> ChatTemplate::from_tokenizer_config(const std::string& path) {
  std::filesystem::path p(path);
  std::error_code ec;
  if (std::filesystem::is_directory(p, ec)) p /= "tokenizer_config.json";
  std::ifstream in(p, std::ios::binary);
  if (!in) return Error("cannot open ", p.string());
  std::stringstream ss;
  ss << in.rdbuf();
  ordered_json cfg = ordered_json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (cfg.is_discarded() || !cfg.is_object()) return Error(p.string(), ": not a JSON object");
  auto it = cfg.find("chat_template");
  if (it == cfg.end() || it->is_null()) return Error(p.string(), ": no chat_template");
  std::string source;
  if (it->is_string()) {
    source = it->get<std::string>();
  } else if (it->is_array()) {
    // [{"name": "default", "template": "..."}, {"name": "tool_use", ...}]
    for (const auto& e : *it) {
      if (e.is_object() && e.value("name", "") == "default" && e.contains("template") && e["template"].is_string())
        source = e["template"].get<std::string>();
    }
    if (source.empty()) return Error(p.string(), ": chat_template list has no entry named \"default\"");
  } else {
    return Error(p.string(), ": chat_template must be a string or a list");
  }
  auto r = from_string(std::move(source), token_text(cfg, "bos_token"), token_text(cfg, "eos_token"));
  if (!r.ok()) return r.status().with_context(p.string());
  return r;
}

Result<std::string> ChatTemplate::render(std::span<const ChatMessage> messages, bool add_generation_prompt) const {
  jinja::List items;
  for (const ChatMessage& m : messages) {
    Value d = Value::make_dict();
    d.dict->set("role", Value::string(m.role));
    d.dict->set("content", Value::string(m.content));
    items.push_back(std::move(d));
  }
  return render_with(*program_, Value::make_list(std::move(items)), add_generation_prompt, bos_token_, eos_token_,
                     nullptr);
}

Result<std::string> ChatTemplate::render_json(std::string_view messages_json, bool add_generation_prompt,
                                              std::string_view extra_json) const {
  ordered_json msgs = ordered_json::parse(messages_json, nullptr, false);
  if (msgs.is_discarded() || !msgs.is_array()) return Error("chat template: messages must be a JSON array");
  ordered_json extra = ordered_json::parse(extra_json.empty() ? std::string_view("{}") : extra_json, nullptr, false);
  if (extra.is_discarded() || !extra.is_object()) return Error("chat template: extra variables must be a JSON object");
  Value messages;
  try {
    messages = from_json(msgs);
  } catch (const jinja::JinjaError& e) {
    return Error(format_error(e));
  }
  return render_with(*program_, std::move(messages), add_generation_prompt, bos_token_, eos_token_, &extra);
}

}  // namespace keel
