// Builds a pre-tokenizer from its tokenizer.json object, accepting and
// rejecting exactly what HF tokenizers' serde definitions do: required fields
// are required (ByteLevel's add_prefix_space and trim_offsets, Digits'
// individual_digits, Split's pattern/behavior/invert, ...), defaults are HF's
// (use_regex true, Punctuation Isolated, Metaspace prepend_scheme "always" and
// split true), unknown fields are ignored. Errors name the JSON path.
#include <nlohmann/json.hpp>

#include "core/utf8.h"
#include "tokenizer/components.h"
#include "tokenizer/pre_tokenizers/pre_tokenizers.h"
#include "tokenizer/unicode_util.h"

namespace keel::tok {

namespace {

using nlohmann::json;

// Sequence nests; deeper than this is surely hostile and would exhaust the stack.
constexpr int kMaxDepth = 64;

// nlohmann names the JSON kinds as serde does ("null", "object", "number", ...).
const char* type_name(const json& j) { return j.type_name(); }

std::string field_path(const std::string& path, std::string_view key) { return str_cat(path, ".", key); }

// A bool field; `def` when absent (nullopt def = required). null is an error
// unless `null_is_default` (serde's Option<bool>).
Result<bool> get_bool(const json& j, const char* key, const std::string& path, std::optional<bool> def,
                      bool null_is_default = false) {
  auto it = j.find(key);
  if (it == j.end() || (it->is_null() && null_is_default)) {
    if (def) return *def;
    return Error(field_path(path, key), ": missing (expected a boolean)");
  }
  if (!it->is_boolean()) return Error(field_path(path, key), ": expected a boolean, got ", type_name(*it));
  return it->get<bool>();
}

Result<std::string> get_string(const json& j, const char* key, const std::string& path) {
  auto it = j.find(key);
  if (it == j.end()) return Error(field_path(path, key), ": missing (expected a string)");
  if (!it->is_string()) return Error(field_path(path, key), ": expected a string, got ", type_name(*it));
  return it->get<std::string>();
}

// serde `char`: a string of exactly one Unicode scalar.
Result<char32_t> get_char(const json& j, const char* key, const std::string& path) {
  auto s = get_string(j, key, path);
  if (!s.ok()) return s.status();
  if (!is_valid_utf8(*s)) return Error(field_path(path, key), ": not valid UTF-8");
  size_t i = 0;
  char32_t c = s->empty() ? 0 : decode_utf8(*s, i);
  if (s->empty() || i != s->size())
    return Error(field_path(path, key), ": expected a single character, got \"", printable(*s), "\"");
  return c;
}

Result<SplitBehavior> parse_behavior(const json& j, const char* key, const std::string& path,
                                     std::optional<SplitBehavior> def) {
  auto it = j.find(key);
  if (it == j.end()) {
    if (def) return *def;
    return Error(field_path(path, key), ": missing (expected a split behavior)");
  }
  if (it->is_string()) {
    const auto& v = it->get_ref<const std::string&>();
    if (v == "Removed") return SplitBehavior::Removed;
    if (v == "Isolated") return SplitBehavior::Isolated;
    if (v == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
    if (v == "MergedWithNext") return SplitBehavior::MergedWithNext;
    if (v == "Contiguous") return SplitBehavior::Contiguous;
  }
  return Error(field_path(path, key), ": expected one of Removed, Isolated, MergedWithPrevious, "
               "MergedWithNext, Contiguous, got ", it->is_string() ? "\"" + printable(it->get<std::string>()) + "\""
                                                   : std::string(type_name(*it)));
}

template <typename T>
Result<std::unique_ptr<PreTokenizer>> ok(std::unique_ptr<T> p) {
  return std::unique_ptr<PreTokenizer>(std::move(p));
}

Result<std::unique_ptr<PreTokenizer>> make(const json& j, const std::string& path, int depth);

Result<std::unique_ptr<PreTokenizer>> make_split(const json& j, const std::string& path) {
  const std::string ppath = field_path(path, "pattern");
  auto it = j.find("pattern");
  if (it == j.end()) return Error(ppath, ": missing (expected {\"String\": ...} or {\"Regex\": ...})");
  if (!it->is_object() || it->size() != 1 || !it->begin().value().is_string() ||
      (it->begin().key() != "String" && it->begin().key() != "Regex"))
    return Error(ppath, ": expected {\"String\": \"...\"} or {\"Regex\": \"...\"}");
  const bool is_regex = it->begin().key() == "Regex";
  std::string pattern = it->begin().value().get<std::string>();
  if (!is_valid_utf8(pattern)) return Error(ppath, ": not valid UTF-8");
  auto behavior = parse_behavior(j, "behavior", path, std::nullopt);
  if (!behavior.ok()) return behavior.status();
  auto invert = get_bool(j, "invert", path, std::nullopt);
  if (!invert.ok()) return invert.status();
  auto p = SplitPreTokenizer::create(std::move(pattern), is_regex, *behavior, *invert);
  if (!p.ok()) return p.status().with_context(ppath);
  return ok(std::move(*p));
}

Result<std::unique_ptr<PreTokenizer>> make_metaspace(const json& j, const std::string& path) {
  auto replacement = get_char(j, "replacement", path);
  if (!replacement.ok()) return replacement.status();
  PrependScheme scheme = PrependScheme::Always;
  if (auto it = j.find("prepend_scheme"); it != j.end()) {
    const std::string v = it->is_string() ? it->get<std::string>() : "";
    if (v == "always") scheme = PrependScheme::Always;
    else if (v == "never") scheme = PrependScheme::Never;
    else if (v == "first") scheme = PrependScheme::First;
    else
      return Error(field_path(path, "prepend_scheme"), ": expected \"always\", \"never\" or \"first\", got ",
                   it->is_string() ? "\"" + printable(v) + "\"" : std::string(type_name(*it)));
  }
  // Legacy field: add_prefix_space false means "never" and must not contradict
  // a prepend_scheme given alongside it.
  auto add_prefix_space = get_bool(j, "add_prefix_space", path, true, true);
  if (!add_prefix_space.ok()) return add_prefix_space.status();
  if (!*add_prefix_space) {
    if (scheme != PrependScheme::Never)
      return Error(field_path(path, "add_prefix_space"),
                   ": add_prefix_space does not match declared prepend_scheme");
    scheme = PrependScheme::Never;
  }
  auto split = get_bool(j, "split", path, true, true);
  if (!split.ok()) return split.status();
  return ok(std::make_unique<MetaspacePreTokenizer>(*replacement, scheme, *split));
}

Result<std::unique_ptr<PreTokenizer>> make(const json& j, const std::string& path, int depth) {
  if (depth > kMaxDepth) return Error(path, ": pre-tokenizers nested deeper than ", kMaxDepth);
  if (!j.is_object()) return Error(path, ": expected a pre-tokenizer object, got ", type_name(j));
  auto t = j.find("type");
  if (t == j.end()) return Error(path, ": missing \"type\"");
  if (!t->is_string()) return Error(path, ".type: expected a string, got ", type_name(*t));
  const std::string& type = t->get_ref<const std::string&>();

  if (type == "BertPreTokenizer") return ok(std::make_unique<BertPreTokenizer>());
  if (type == "Whitespace") return ok(std::make_unique<WhitespacePreTokenizer>());
  if (type == "WhitespaceSplit") return ok(std::make_unique<WhitespaceSplitPreTokenizer>());
  if (type == "UnicodeScripts") return ok(std::make_unique<UnicodeScriptsPreTokenizer>());
  if (type == "ByteLevel") {
    auto add_prefix_space = get_bool(j, "add_prefix_space", path, std::nullopt);
    if (!add_prefix_space.ok()) return add_prefix_space.status();
    auto trim_offsets = get_bool(j, "trim_offsets", path, std::nullopt);
    if (!trim_offsets.ok()) return trim_offsets.status();
    auto use_regex = get_bool(j, "use_regex", path, true);
    if (!use_regex.ok()) return use_regex.status();
    return ok(std::make_unique<ByteLevelPreTokenizer>(*add_prefix_space, *trim_offsets, *use_regex));
  }
  if (type == "Split") return make_split(j, path);
  if (type == "Metaspace") return make_metaspace(j, path);
  if (type == "Punctuation") {
    auto behavior = parse_behavior(j, "behavior", path, SplitBehavior::Isolated);
    if (!behavior.ok()) return behavior.status();
    return ok(std::make_unique<PunctuationPreTokenizer>(*behavior));
  }
  if (type == "Digits") {
    auto individual = get_bool(j, "individual_digits", path, std::nullopt);
    if (!individual.ok()) return individual.status();
    return ok(std::make_unique<DigitsPreTokenizer>(*individual));
  }
  if (type == "CharDelimiterSplit") {
    auto delimiter = get_char(j, "delimiter", path);
    if (!delimiter.ok()) return delimiter.status();
    return ok(std::make_unique<CharDelimiterSplitPreTokenizer>(*delimiter));
  }
  if (type == "Sequence") {
    const std::string ipath = field_path(path, "pretokenizers");
    auto it = j.find("pretokenizers");
    if (it == j.end()) return Error(ipath, ": missing (expected an array of pre-tokenizers)");
    if (!it->is_array()) return Error(ipath, ": expected an array, got ", type_name(*it));
    std::vector<std::unique_ptr<PreTokenizer>> items;
    items.reserve(it->size());
    for (size_t i = 0; i < it->size(); ++i) {
      auto item = make((*it)[i], str_cat(ipath, "[", i, "]"), depth + 1);
      if (!item.ok()) return item.status();
      items.push_back(std::move(*item));
    }
    return ok(std::make_unique<SequencePreTokenizer>(std::move(items)));
  }
  return Error(path, ".type: unknown pre-tokenizer type \"", printable(type),
               "\" (expected BertPreTokenizer, ByteLevel, Whitespace, WhitespaceSplit, Split, Metaspace, "
               "Punctuation, Digits, UnicodeScripts, CharDelimiterSplit or Sequence)");
}

}  // namespace

Result<std::unique_ptr<PreTokenizer>> make_pre_tokenizer(const nlohmann::json& j, const std::string& path) {
  return make(j, path, 0);
}

}  // namespace keel::tok
