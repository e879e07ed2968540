// Builds a normalizer from its tokenizer.json object, accepting and rejecting
// what HF tokenizers 0.23's serde definitions do: with a "type", that type's
// fields are required (BertNormalizer's clean_text / handle_chinese_chars /
// lowercase, Strip's strip_left / strip_right, Replace's pattern / content ...)
// and must have the right JSON type (null is no bool); strip_accents may be
// null or absent (= follow lowercase); unknown fields are ignored. Without a
// "type" (or with "type": null) the object is recognised by its fields, trying
// the variants in HF's order. Errors name the JSON path; where HF panics (a bad
// precompiled_charsmap) keel returns an error too.
#include <nlohmann/json.hpp>

#include "core/utf8.h"
#include "tokenizer/components.h"
#include "tokenizer/normalizers/normalizers.h"

namespace keel::tok {

namespace {

using nlohmann::json;

// Sequence nests; deeper than this is surely hostile and would exhaust the stack.
constexpr int kMaxDepth = 64;

// nlohmann names the JSON kinds as serde does ("null", "object", "number", ...).
const char* type_name(const json& j) { return j.type_name(); }

std::string at(const std::string& path, std::string_view key) { return str_cat(path, ".", key); }

Result<bool> req_bool(const json& j, const char* key, const std::string& path) {
  auto it = j.find(key);
  if (it == j.end()) return Error(at(path, key), ": missing (expected a boolean)");
  if (!it->is_boolean()) return Error(at(path, key), ": expected a boolean, got ", type_name(*it));
  return it->get<bool>();
}

Result<std::string> req_string(const json& j, const char* key, const std::string& path) {
  auto it = j.find(key);
  if (it == j.end()) return Error(at(path, key), ": missing (expected a string)");
  if (!it->is_string()) return Error(at(path, key), ": expected a string, got ", type_name(*it));
  std::string s = it->get<std::string>();
  if (size_t bad = find_invalid_utf8(s); bad != std::string::npos)
    return Error(at(path, key), ": not valid UTF-8 (byte ", bad, ")");
  return s;
}

// RFC 4648 base64 with padding (the STANDARD engine HF decodes with).
Result<std::string> decode_base64(std::string_view in, const std::string& path) {
  auto val = [](unsigned char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (in.size() % 4 != 0) return Error(path, ": invalid base64 (length ", in.size(), " is not a multiple of 4)");
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      unsigned char c = in[i + k];
      if (c == '=' && i + 4 == in.size() && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      v[k] = val(c);
      if (v[k] < 0 || pad > 0) return Error(path, ": invalid base64 at byte ", i + k);
    }
    uint32_t n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out.push_back(static_cast<char>(n >> 16));
    if (pad < 2) out.push_back(static_cast<char>((n >> 8) & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(n & 0xff));
  }
  return out;
}

using Made = Result<std::unique_ptr<Normalizer>>;

template <typename T>
Made made(std::unique_ptr<T> p) {
  return std::unique_ptr<Normalizer>(std::move(p));
}

Made make(const json& j, const std::string& path, int depth);

Made make_bert(const json& j, const std::string& path) {
  BertNormalizerOptions o;
  auto clean = req_bool(j, "clean_text", path);
  if (!clean.ok()) return clean.status();
  auto chinese = req_bool(j, "handle_chinese_chars", path);
  if (!chinese.ok()) return chinese.status();
  auto lower = req_bool(j, "lowercase", path);
  if (!lower.ok()) return lower.status();
  o.clean_text = *clean;
  o.handle_chinese_chars = *chinese;
  o.lowercase = *lower;
  if (auto it = j.find("strip_accents"); it != j.end() && !it->is_null()) {
    if (!it->is_boolean())
      return Error(at(path, "strip_accents"), ": expected a boolean or null, got ", type_name(*it));
    o.strip_accents = it->get<bool>();
  }
  return made(std::make_unique<BertNormalizer>(o));
}

Made make_strip(const json& j, const std::string& path) {
  auto left = req_bool(j, "strip_left", path);
  if (!left.ok()) return left.status();
  auto right = req_bool(j, "strip_right", path);
  if (!right.ok()) return right.status();
  return made(std::make_unique<StripNormalizer>(*left, *right));
}

Made make_sequence(const json& j, const std::string& path, int depth) {
  const std::string npath = at(path, "normalizers");
  auto it = j.find("normalizers");
  if (it == j.end()) return Error(npath, ": missing (expected an array of normalizers)");
  if (!it->is_array()) return Error(npath, ": expected an array, got ", type_name(*it));
  std::vector<std::unique_ptr<Normalizer>> steps;
  steps.reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) {
    auto step = make((*it)[i], str_cat(npath, "[", i, "]"), depth + 1);
    if (!step.ok()) return step.status();
    steps.push_back(std::move(*step));
  }
  return made(std::make_unique<SequenceNormalizer>(std::move(steps)));
}

Made make_precompiled(const json& j, const std::string& path) {
  const std::string cpath = at(path, "precompiled_charsmap");
  auto it = j.find("precompiled_charsmap");
  if (it == j.end()) return Error(cpath, ": missing (expected a base64 string)");
  if (!it->is_string()) return Error(cpath, ": expected a base64 string, got ", type_name(*it));
  auto bytes = decode_base64(it->get_ref<const std::string&>(), cpath);
  if (!bytes.ok()) return bytes.status();
  auto map = PrecompiledCharsmap::parse(*bytes);
  if (!map.ok()) return map.status().with_context(cpath);
  return made(std::make_unique<PrecompiledNormalizer>(std::move(*map)));
}

Made make_replace(const json& j, const std::string& path) {
  const std::string ppath = at(path, "pattern");
  auto it = j.find("pattern");
  if (it == j.end()) return Error(ppath, ": missing (expected {\"String\": ...} or {\"Regex\": ...})");
  if (!it->is_object() || it->size() != 1 ||
      (it->begin().key() != "String" && it->begin().key() != "Regex"))
    return Error(ppath, ": expected {\"String\": \"...\"} or {\"Regex\": \"...\"}");
  const bool is_regex = it->begin().key() == "Regex";
  auto pattern = req_string(*it, is_regex ? "Regex" : "String", ppath);
  if (!pattern.ok()) return pattern.status();
  auto content = req_string(j, "content", path);
  if (!content.ok()) return content.status();
  auto r = ReplaceNormalizer::create(std::move(*pattern), is_regex, std::move(*content));
  if (!r.ok()) return r.status().with_context(ppath);
  return made(std::move(*r));
}

Made make_prepend(const json& j, const std::string& path) {
  auto prepend = req_string(j, "prepend", path);
  if (!prepend.ok()) return prepend.status();
  return made(std::make_unique<PrependNormalizer>(std::move(*prepend)));
}

Made make_typed(const json& j, const std::string& type, const std::string& path, int depth) {
  if (type == "BertNormalizer") return make_bert(j, path);
  if (type == "Strip") return make_strip(j, path);
  if (type == "StripAccents") return made(std::make_unique<StripAccentsNormalizer>());
  if (type == "NFC") return made(std::make_unique<UnicodeNormalizer>(UnicodeForm::NFC));
  if (type == "NFD") return made(std::make_unique<UnicodeNormalizer>(UnicodeForm::NFD));
  if (type == "NFKC") return made(std::make_unique<UnicodeNormalizer>(UnicodeForm::NFKC));
  if (type == "NFKD") return made(std::make_unique<UnicodeNormalizer>(UnicodeForm::NFKD));
  if (type == "Sequence") return make_sequence(j, path, depth);
  if (type == "Lowercase") return made(std::make_unique<LowercaseNormalizer>());
  if (type == "Nmt") return made(std::make_unique<NmtNormalizer>());
  if (type == "Precompiled") return make_precompiled(j, path);
  if (type == "Replace") return make_replace(j, path);
  if (type == "Prepend") return make_prepend(j, path);
  if (type == "ByteLevel") return made(std::make_unique<ByteLevelNormalizer>());
  return Error(at(path, "type"), ": unknown normalizer type \"", printable(type),
               "\" (expected BertNormalizer, Strip, StripAccents, NFC, NFD, NFKC, NFKD, Sequence, "
               "Lowercase, Nmt, Precompiled, Replace, Prepend or ByteLevel)");
}

// HF's untagged fallback: the first variant, in NormalizerWrapper order, whose
// fields all parse. Unit variants (NFC, Lowercase ...) need their "type".
Made make_untagged(const json& j, const std::string& path, int depth) {
  // The first failure of a variant whose fields are present explains best why
  // nothing matched.
  std::optional<Status> why;
  auto attempt = [&](Made r) -> std::optional<Made> {
    if (r.ok()) return r;
    if (!why) why = r.status();
    return std::nullopt;
  };
  if (j.contains("clean_text") || j.contains("handle_chinese_chars") || j.contains("lowercase"))
    if (auto r = attempt(make_bert(j, path))) return std::move(*r);
  if (j.contains("strip_left") || j.contains("strip_right"))
    if (auto r = attempt(make_strip(j, path))) return std::move(*r);
  if (j.contains("normalizers"))
    if (auto r = attempt(make_sequence(j, path, depth))) return std::move(*r);
  if (j.contains("precompiled_charsmap"))
    if (auto r = attempt(make_precompiled(j, path))) return std::move(*r);
  if (j.contains("pattern") || j.contains("content"))
    if (auto r = attempt(make_replace(j, path))) return std::move(*r);
  if (j.contains("prepend"))
    if (auto r = attempt(make_prepend(j, path))) return std::move(*r);
  if (why) return why->with_context(str_cat(path, ": no \"type\" and no normalizer's fields fit"));
  return Error(path, ": no \"type\" and the fields match no normalizer");
}

Made make(const json& j, const std::string& path, int depth) {
  if (depth > kMaxDepth) return Error(path, ": normalizers nested deeper than ", kMaxDepth);
  if (!j.is_object()) return Error(path, ": expected a normalizer object, got ", type_name(j));
  auto it = j.find("type");
  if (it == j.end() || it->is_null()) return make_untagged(j, path, depth);
  if (!it->is_string()) return Error(at(path, "type"), ": expected a string, got ", type_name(*it));
  return make_typed(j, it->get_ref<const std::string&>(), path, depth);
}

}  // namespace

Result<std::unique_ptr<Normalizer>> make_normalizer(const nlohmann::json& j, const std::string& path) {
  // nlohmann only throws on misuse; keep any surprise from crossing the API.
  try {
    return make(j, path, 0);
  } catch (const std::exception& e) {
    return Error(path, ": ", e.what());
  }
}

}  // namespace keel::tok
