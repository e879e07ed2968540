// Builds a post-processor from tokenizer.json's "post_processor" object,
// reproducing HF's untagged deserialization (see make_any): Roberta (sep, cls,
// trim_offsets and add_prefix_space all present), Bert (sep, cls), ByteLevel
// (with its type), Template (single, pair, special_tokens), Sequence (with its
// type), first match wins.
#include <nlohmann/json.hpp>

#include "core/utf8.h"
#include "tokenizer/components.h"
#include "tokenizer/models/json_fields.h"
#include "tokenizer/post_processors/post_processors.h"

namespace keel::tok {

namespace jf = json_fields;
using nlohmann::json;

namespace {

using ProcPtr = std::unique_ptr<EncodingsProcessor>;

// ["[SEP]", 102]
Result<SpecialTokenRef> token_pair(const json& j, std::string_view key, const std::string& path) {
  const json* v = jf::find(j, key);
  std::string here = jf::join(path, key);
  if (!v) return Error(here, ": missing required field");
  if (!v->is_array() || v->size() != 2 || !(*v)[0].is_string())
    return Error(here, ": expected [token (string), id], got ", v->dump().substr(0, 80));
  auto id = jf::as_uint((*v)[1], here + "[1]", UINT32_MAX);
  if (!id.ok()) return id.status();
  return SpecialTokenRef{(*v)[0].get<std::string>(), static_cast<uint32_t>(*id)};
}

Result<ProcPtr> make_bert(const json& j, const std::string& path) {
  auto sep = token_pair(j, "sep", path);
  if (!sep.ok()) return sep.status();
  auto cls = token_pair(j, "cls", path);
  if (!cls.ok()) return cls.status();
  return ProcPtr(new BertProcessing(std::move(*sep), std::move(*cls)));
}

// HF's deserializer has no defaults for trim_offsets / add_prefix_space.
Result<ProcPtr> make_roberta(const json& j, const std::string& path) {
  auto sep = token_pair(j, "sep", path);
  if (!sep.ok()) return sep.status();
  auto cls = token_pair(j, "cls", path);
  if (!cls.ok()) return cls.status();
  for (const char* key : {"trim_offsets", "add_prefix_space"})
    if (!jf::find(j, key)) return Error(jf::join(path, key), ": missing required field");
  auto trim = jf::bool_or(j, "trim_offsets", path, true);
  if (!trim.ok()) return trim.status();
  auto aps = jf::bool_or(j, "add_prefix_space", path, true);
  if (!aps.ok()) return aps.status();
  return ProcPtr(new RobertaProcessing(std::move(*sep), std::move(*cls), *trim, *aps));
}

Result<ProcPtr> make_byte_level(const json& j, const std::string& path) {
  bool v[2];
  const char* keys[2] = {"trim_offsets", "add_prefix_space"};
  for (int k = 0; k < 2; ++k) {
    if (!jf::find(j, keys[k])) return Error(jf::join(path, keys[k]), ": missing required field");
    auto b = jf::bool_or(j, keys[k], path, false);
    if (!b.ok()) return b.status();
    v[k] = *b;
  }
  auto use_regex = jf::bool_or(j, "use_regex", path, true);
  if (!use_regex.ok()) return use_regex.status();
  return ProcPtr(new ByteLevelProcessing(v[0], v[1]));
}

// {"Sequence": {"id": "A", "type_id": 0}} or {"SpecialToken": {"id": "[CLS]", "type_id": 0}}
Result<std::vector<TemplatePiece>> parse_template(const json& j, std::string_view key, const std::string& path) {
  const json* v = jf::find(j, key);
  std::string here = jf::join(path, key);
  if (!v) return Error(here, ": missing required field");
  if (!v->is_array()) return Error(here, ": expected an array of pieces, got ", v->type_name());
  std::vector<TemplatePiece> pieces;
  for (size_t i = 0; i < v->size(); ++i) {
    const json& p = (*v)[i];
    std::string ppath = str_cat(here, "[", i, "]");
    if (!p.is_object() || p.size() != 1)
      return Error(ppath, ": expected {\"Sequence\": {...}} or {\"SpecialToken\": {...}}, got ", p.dump().substr(0, 80));
    const std::string& kind = p.begin().key();
    const json& body = p.begin().value();
    std::string bpath = jf::join(ppath, kind);
    if (!body.is_object()) return Error(bpath, ": expected an object, got ", body.type_name());
    auto id = jf::req_string(body, "id", bpath);
    if (!id.ok()) return id.status();
    auto type_id = jf::opt_uint(body, "type_id", bpath, UINT32_MAX);
    if (!type_id.ok()) return type_id.status();
    if (!type_id->has_value()) return Error(jf::join(bpath, "type_id"), ": missing required field");
    TemplatePiece piece;
    piece.type_id = static_cast<uint32_t>(**type_id);
    if (kind == "Sequence") {
      if (*id != "A" && *id != "B")
        return Error(jf::join(bpath, "id"), ": expected \"A\" or \"B\", got \"", printable(*id), "\"");
      piece.is_sequence = true;
      piece.sequence = *id == "B" ? 1 : 0;
    } else if (kind == "SpecialToken") {
      piece.is_sequence = false;
      piece.special = std::move(*id);
    } else {
      return Error(ppath, ": unknown piece kind \"", printable(kind), "\" (expected Sequence or SpecialToken)");
    }
    pieces.push_back(std::move(piece));
  }
  return pieces;
}

Result<ProcPtr> make_template(const json& j, const std::string& path) {
  auto single = parse_template(j, "single", path);
  if (!single.ok()) return single.status();
  auto pair = parse_template(j, "pair", path);
  if (!pair.ok()) return pair.status();
  const json* st = jf::find(j, "special_tokens");
  std::string spath = jf::join(path, "special_tokens");
  if (!st) return Error(spath, ": missing required field");
  if (!st->is_object()) return Error(spath, ": expected an object, got ", st->type_name());
  std::map<std::string, TemplateSpecialToken> specials;
  for (auto it = st->begin(); it != st->end(); ++it) {
    std::string tpath = str_cat(spath, "[\"", printable(it.key(), 40), "\"]");
    const json& t = it.value();
    if (!t.is_object()) return Error(tpath, ": expected an object {id, ids, tokens}, got ", t.type_name());
    auto id = jf::req_string(t, "id", tpath);
    if (!id.ok()) return id.status();
    const json* ids = jf::find(t, "ids");
    const json* toks = jf::find(t, "tokens");
    if (!ids || !ids->is_array()) return Error(jf::join(tpath, "ids"), ": expected an array of ids");
    if (!toks || !toks->is_array()) return Error(jf::join(tpath, "tokens"), ": expected an array of strings");
    TemplateSpecialToken tok;
    for (size_t k = 0; k < ids->size(); ++k) {
      auto v = jf::as_uint((*ids)[k], str_cat(jf::join(tpath, "ids"), "[", k, "]"), UINT32_MAX);
      if (!v.ok()) return v.status();
      tok.ids.push_back(static_cast<uint32_t>(*v));
    }
    for (size_t k = 0; k < toks->size(); ++k) {
      if (!(*toks)[k].is_string()) return Error(jf::join(tpath, "tokens"), "[", k, "]: expected a string");
      tok.tokens.push_back((*toks)[k].get<std::string>());
    }
    // HF accepts mismatched lengths and then builds an inconsistent encoding;
    // refusing is the only safe answer.
    if (tok.ids.size() != tok.tokens.size())
      return Error(tpath, ": ids (", tok.ids.size(), ") and tokens (", tok.tokens.size(),
                   ") must have the same length");
    specials[it.key()] = std::move(tok);
  }
  return ProcPtr(new TemplateProcessing(std::move(*single), std::move(*pair), std::move(specials)));
}

Result<ProcPtr> make_any(const json& j, const std::string& path);

Result<ProcPtr> make_sequence(const json& j, const std::string& path) {
  const json* list = jf::find(j, "processors");
  std::string lpath = jf::join(path, "processors");
  if (!list) return Error(lpath, ": missing required field");
  if (!list->is_array()) return Error(lpath, ": expected an array, got ", list->type_name());
  std::vector<ProcPtr> procs;
  for (size_t i = 0; i < list->size(); ++i) {
    auto p = make_any((*list)[i], str_cat(lpath, "[", i, "]"));
    if (!p.ok()) return p.status();
    procs.push_back(std::move(*p));
  }
  return ProcPtr(new SequenceProcessing(std::move(procs)));
}

Result<ProcPtr> make_any(const json& j, const std::string& path) {
  KEEL_RETURN_IF_ERROR(jf::expect_object(j, path));
  const json* tj = jf::find(j, "type");
  const std::string type = tj && tj->is_string() ? tj->get<std::string>() : "";
  // HF tries each form in this order and keeps the first that deserializes.
  // Only ByteLevel and Sequence check "type"; Roberta, Bert and Template ignore
  // it, so e.g. {"type": "RobertaProcessing", "sep", "cls"} (no trim_offsets /
  // add_prefix_space) is a BertProcessing there, and here.
  auto roberta = make_roberta(j, path);
  if (roberta.ok()) return roberta;
  auto bert = make_bert(j, path);
  if (bert.ok()) return bert;
  if (type == "ByteLevel") return make_byte_level(j, path);
  auto tpl = make_template(j, path);
  if (tpl.ok()) return tpl;
  if (type == "Sequence") return make_sequence(j, path);
  // Nothing matched: explain in terms of the declared type.
  if (type == "TemplateProcessing") return tpl.status();
  if (type == "BertProcessing" || type == "RobertaProcessing") return bert.status();
  if (!type.empty())
    return Error(jf::join(path, "type"), ": unknown post-processor type \"", printable(type),
                 "\" (expected TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel or Sequence)");
  return Error(path, ": post-processor has no \"type\" and is neither Roberta, Bert nor Template (as Template: ",
               tpl.error(), ")");
}

}  // namespace

Result<std::unique_ptr<PostProcessor>> make_post_processor(const json& j, const std::string& path) {
  auto p = make_any(j, path);
  if (!p.ok()) return p.status();
  return std::unique_ptr<PostProcessor>(std::move(*p));
}

}  // namespace keel::tok
