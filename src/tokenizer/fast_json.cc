#include "tokenizer/fast_json.h"

#include <cstdint>
#include <string>

#include <simdjson.h>

namespace keel::tok {

namespace dom = simdjson::dom;
using nlohmann::json;

static_assert(FastJson::kPadding >= simdjson::SIMDJSON_PADDING);

struct FastJson::Impl {
  dom::parser parser;
};

namespace {

// simdjson element -> nlohmann value with the kinds nlohmann's own parser gives
// (an object repeating a key keeps the last value, as nlohmann does).
json to_nlohmann(dom::element e) {
  switch (e.type()) {
    case dom::element_type::ARRAY: {
      json out = json::array();
      auto& items = out.get_ref<json::array_t&>();
      const dom::array a = e.get_array().value_unsafe();
      items.reserve(a.size());
      for (dom::element x : a) items.push_back(to_nlohmann(x));
      return out;
    }
    case dom::element_type::OBJECT: {
      json out = json::object();
      auto& fields = out.get_ref<json::object_t&>();
      const dom::object obj = e.get_object().value_unsafe();
      for (dom::key_value_pair kv : obj)
        fields.insert_or_assign(std::string(kv.key), to_nlohmann(kv.value));
      return out;
    }
    case dom::element_type::INT64: {
      const int64_t v = e.get_int64().value_unsafe();
      if (v >= 0) return json(static_cast<uint64_t>(v));
      return json(v);
    }
    case dom::element_type::UINT64:
      return json(e.get_uint64().value_unsafe());
    case dom::element_type::DOUBLE:
      return json(e.get_double().value_unsafe());
    case dom::element_type::STRING:
      return json(std::string(e.get_string().value_unsafe()));
    case dom::element_type::BOOL:
      return json(e.get_bool().value_unsafe());
    case dom::element_type::NULL_VALUE:
      return json(nullptr);
  }
  return json(nullptr);
}

// {token: id}, every id an integer in [0, UINT32_MAX]; false for anything else.
bool read_vocab(dom::element e, std::vector<std::pair<std::string_view, uint32_t>>& out) {
  dom::object obj;
  if (e.get_object().get(obj) != simdjson::SUCCESS) return false;
  out.reserve(obj.size());
  for (dom::key_value_pair kv : obj) {
    // Integers above INT64_MAX are UINT64, so INT64 covers every valid id.
    if (kv.value.type() != dom::element_type::INT64) return false;
    const int64_t id = kv.value.get_int64().value_unsafe();
    if (id < 0 || id > int64_t(UINT32_MAX)) return false;
    out.emplace_back(kv.key, static_cast<uint32_t>(id));
  }
  return true;
}

// ["a b", ...] or [["a", "b"], ...], judged by the first entry as the BPE
// parser does; false for anything else (including a string without exactly
// one space), which the BPE parser then reports.
bool read_merges(dom::element e, std::vector<std::pair<std::string_view, std::string_view>>& out) {
  dom::array arr;
  if (e.get_array().get(arr) != simdjson::SUCCESS) return false;
  out.reserve(arr.size());
  const bool strings = arr.size() > 0 && (*arr.begin()).type() == dom::element_type::STRING;
  for (dom::element m : arr) {
    if (strings) {
      std::string_view s;
      if (m.get_string().get(s) != simdjson::SUCCESS) return false;
      if (s.starts_with("#version")) continue;
      const size_t sp = s.find(' ');
      if (sp == std::string_view::npos || s.find(' ', sp + 1) != std::string_view::npos) return false;
      out.emplace_back(s.substr(0, sp), s.substr(sp + 1));
    } else {
      dom::array pair;
      if (m.get_array().get(pair) != simdjson::SUCCESS || pair.size() != 2) return false;
      std::string_view a, b;
      if (pair.at(0).get_string().get(a) != simdjson::SUCCESS) return false;
      if (pair.at(1).get_string().get(b) != simdjson::SUCCESS) return false;
      out.emplace_back(a, b);
    }
  }
  return true;
}

// Whether `text` may hold the number -0: "-0" then a delimiter (or the end).
// simdjson reads it as the integer 0, nlohmann as a signed integer and serde as
// -0.0, so as an id it is rejected; such texts go to nlohmann. A string holding
// such bytes ("-0,") only costs the slow path.
bool may_have_negative_zero(std::string_view text) {
  for (size_t p = text.find("-0"); p != std::string_view::npos; p = text.find("-0", p + 1)) {
    if (p + 2 == text.size()) return true;
    switch (text[p + 2]) {
      case ',': case ']': case '}': case ' ': case '\t': case '\n': case '\r':
        return true;
      default:
        break;
    }
  }
  return false;
}

// The "model" object, its vocab and merges moved to `bulk` when well formed.
json model_to_nlohmann(dom::object model, ModelBulk& bulk) {
  json out = json::object();
  auto& fields = out.get_ref<json::object_t&>();
  for (dom::key_value_pair kv : model) {
    if (kv.key == "vocab") {
      // A repeated key: the last one wins, in bulk as in the DOM.
      bulk.vocab.emplace();
      if (read_vocab(kv.value, *bulk.vocab)) {
        fields.insert_or_assign("vocab", json::object());
        continue;
      }
      bulk.vocab.reset();
    } else if (kv.key == "merges") {
      bulk.merges.emplace();
      if (read_merges(kv.value, *bulk.merges)) {
        fields.insert_or_assign("merges", json::array());
        continue;
      }
      bulk.merges.reset();
    }
    fields.insert_or_assign(std::string(kv.key), to_nlohmann(kv.value));
  }
  return out;
}

}  // namespace

FastJson::FastJson() : impl_(std::make_unique<Impl>()) {}
FastJson::~FastJson() = default;

bool FastJson::parse(std::string_view text, size_t readable_past_end) {
  root = json();
  bulk = ModelBulk{};
  if (may_have_negative_zero(text)) return false;
  dom::element doc;
  if (impl_->parser.parse(text.data(), text.size(), readable_past_end < kPadding).get(doc) != simdjson::SUCCESS) return false;
  dom::object top;
  if (doc.get_object().get(top) != simdjson::SUCCESS) {
    root = to_nlohmann(doc);
    return true;
  }
  root = json::object();
  auto& fields = root.get_ref<json::object_t&>();
  for (dom::key_value_pair kv : top) {
    dom::object model;
    if (kv.key == "model" && kv.value.get_object().get(model) == simdjson::SUCCESS) {
      bulk = ModelBulk{};
      fields.insert_or_assign("model", model_to_nlohmann(model, bulk));
    } else {
      if (kv.key == "model") bulk = ModelBulk{};
      fields.insert_or_assign(std::string(kv.key), to_nlohmann(kv.value));
    }
  }
  return true;
}

}  // namespace keel::tok
