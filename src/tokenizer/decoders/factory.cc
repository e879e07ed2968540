// Builds a decoder from tokenizer.json's "decoder" object. Required fields are
// those HF's serde definitions require. Without "type", HF's untagged fallback
// is reproduced: the first of BPEDecoder {suffix}, WordPiece {prefix, cleanup},
// CTC {pad_token, word_delimiter_token, cleanup}, Replace {pattern, content},
// Strip {content, start, stop} whose fields are all present wins.
#include <nlohmann/json.hpp>

#include "core/utf8.h"
#include "tokenizer/components.h"
#include "tokenizer/decoders/decoders.h"
#include "tokenizer/models/json_fields.h"

namespace keel::tok {

namespace jf = json_fields;
using nlohmann::json;

namespace {

using DecoderPtr = std::unique_ptr<Decoder>;

Result<DecoderPtr> make_replace(const json& j, const std::string& path) {
  const json* p = jf::find(j, "pattern");
  if (!p) return Error(jf::join(path, "pattern"), ": missing required field");
  std::string ppath = jf::join(path, "pattern");
  if (!p->is_object() || p->size() != 1)
    return Error(ppath, ": expected {\"String\": ...} or {\"Regex\": ...}, got ", p->dump().substr(0, 80));
  auto content = jf::req_string(j, "content", path);
  if (!content.ok()) return content.status();
  auto lit = jf::opt_string(*p, "String", ppath);
  if (!lit.ok()) return lit.status();
  if (lit->has_value()) return DecoderPtr(new ReplaceDecoder(std::move(**lit), nullptr, std::move(*content)));
  auto re = jf::opt_string(*p, "Regex", ppath);
  if (!re.ok()) return re.status();
  if (!re->has_value()) return Error(ppath, ": expected a \"String\" or \"Regex\" key");
  auto compiled = Regex::compile(**re);
  if (!compiled.ok()) return compiled.status().with_context(jf::join(ppath, "Regex"));
  auto shared = std::make_shared<const Regex>(std::move(*compiled));
  return DecoderPtr(new ReplaceDecoder("", std::move(shared), std::move(*content)));
}

Result<DecoderPtr> make_strip(const json& j, const std::string& path) {
  auto content = jf::req_char(j, "content", path);
  if (!content.ok()) return content.status();
  auto start = jf::opt_uint(j, "start", path);
  if (!start.ok()) return start.status();
  auto stop = jf::opt_uint(j, "stop", path);
  if (!stop.ok()) return stop.status();
  if (!start->has_value()) return Error(jf::join(path, "start"), ": missing required field");
  if (!stop->has_value()) return Error(jf::join(path, "stop"), ": missing required field");
  return DecoderPtr(new StripDecoder(*content, static_cast<size_t>(std::min<uint64_t>(**start, SIZE_MAX)),
                                     static_cast<size_t>(std::min<uint64_t>(**stop, SIZE_MAX))));
}

Result<bool> req_bool(const json& j, std::string_view key, const std::string& path) {
  if (!jf::find(j, key)) return Error(jf::join(path, key), ": missing required field");
  return jf::bool_or(j, key, path, false);
}

Result<DecoderPtr> make_wordpiece(const json& j, const std::string& path) {
  auto prefix = jf::req_string(j, "prefix", path);
  if (!prefix.ok()) return prefix.status();
  auto cleanup = req_bool(j, "cleanup", path);
  if (!cleanup.ok()) return cleanup.status();
  return DecoderPtr(new WordPieceDecoder(std::move(*prefix), *cleanup));
}

Result<DecoderPtr> make_ctc(const json& j, const std::string& path) {
  auto pad = jf::req_string(j, "pad_token", path);
  if (!pad.ok()) return pad.status();
  auto delim = jf::req_string(j, "word_delimiter_token", path);
  if (!delim.ok()) return delim.status();
  auto cleanup = req_bool(j, "cleanup", path);
  if (!cleanup.ok()) return cleanup.status();
  return DecoderPtr(new CtcDecoder(std::move(*pad), std::move(*delim), *cleanup));
}

Result<DecoderPtr> make_bpe(const json& j, const std::string& path) {
  auto suffix = jf::req_string(j, "suffix", path);
  if (!suffix.ok()) return suffix.status();
  return DecoderPtr(new BpeDecoder(std::move(*suffix)));
}

Result<DecoderPtr> make_metaspace(const json& j, const std::string& path) {
  auto rep = jf::req_char(j, "replacement", path);
  if (!rep.ok()) return rep.status();
  auto scheme_s = jf::string_or(j, "prepend_scheme", path, "always");
  if (!scheme_s.ok()) return scheme_s.status();
  PrependScheme scheme;
  if (*scheme_s == "always") {
    scheme = PrependScheme::Always;
  } else if (*scheme_s == "first") {
    scheme = PrependScheme::First;
  } else if (*scheme_s == "never") {
    scheme = PrependScheme::Never;
  } else {
    return Error(jf::join(path, "prepend_scheme"), ": unknown scheme \"", printable(*scheme_s),
                 "\" (expected first, never or always)");
  }
  auto split = jf::bool_or(j, "split", path, true);
  if (!split.ok()) return split.status();
  // Legacy field: add_prefix_space false is only consistent with "never".
  auto aps = jf::bool_or(j, "add_prefix_space", path, true);
  if (!aps.ok()) return aps.status();
  if (!*aps && scheme != PrependScheme::Never)
    return Error(jf::join(path, "add_prefix_space"), ": false does not match prepend_scheme \"", *scheme_s, "\"");
  return DecoderPtr(new MetaspaceDecoder(*rep, scheme));
}

Result<DecoderPtr> make_byte_level(const json& j, const std::string& path) {
  // Only the decoding matters here, but HF requires these fields.
  for (const char* key : {"add_prefix_space", "trim_offsets"}) {
    auto b = req_bool(j, key, path);
    if (!b.ok()) return b.status();
  }
  auto use_regex = jf::bool_or(j, "use_regex", path, true);
  if (!use_regex.ok()) return use_regex.status();
  return DecoderPtr(new ByteLevelDecoder());
}

Result<DecoderPtr> make_sequence(const json& j, const std::string& path) {
  const json* list = jf::find(j, "decoders");
  std::string lpath = jf::join(path, "decoders");
  if (!list) return Error(lpath, ": missing required field");
  if (!list->is_array()) return Error(lpath, ": expected an array, got ", list->type_name());
  std::vector<DecoderPtr> decoders;
  for (size_t i = 0; i < list->size(); ++i) {
    auto d = make_decoder((*list)[i], str_cat(lpath, "[", i, "]"));
    if (!d.ok()) return d.status();
    decoders.push_back(std::move(*d));
  }
  return DecoderPtr(new SequenceDecoder(std::move(decoders)));
}

}  // namespace

Result<std::unique_ptr<Decoder>> make_decoder(const json& j, const std::string& path) {
  KEEL_RETURN_IF_ERROR(jf::expect_object(j, path));
  auto type = jf::opt_string(j, "type", path);
  if (!type.ok()) return type.status();
  if (type->has_value()) {
    const std::string& t = **type;
    if (t == "ByteLevel") return make_byte_level(j, path);
    if (t == "ByteFallback") return DecoderPtr(new ByteFallbackDecoder());
    if (t == "WordPiece") return make_wordpiece(j, path);
    if (t == "Metaspace") return make_metaspace(j, path);
    if (t == "BPEDecoder") return make_bpe(j, path);
    if (t == "Fuse") return DecoderPtr(new FuseDecoder());
    if (t == "Strip") return make_strip(j, path);
    if (t == "Replace") return make_replace(j, path);
    if (t == "CTC") return make_ctc(j, path);
    if (t == "Sequence") return make_sequence(j, path);
    return Error(jf::join(path, "type"), ": unknown decoder type \"", printable(t),
                 "\" (expected ByteLevel, ByteFallback, WordPiece, Metaspace, BPEDecoder, Fuse, Strip, Replace, "
                 "CTC or Sequence)");
  }
  // HF's untagged fallback (the decoders whose serde form has no type tag).
  if (auto d = make_bpe(j, path); d.ok()) return d;
  if (auto d = make_wordpiece(j, path); d.ok()) return d;
  if (auto d = make_ctc(j, path); d.ok()) return d;
  if (auto d = make_replace(j, path); d.ok()) return d;
  if (auto d = make_strip(j, path); d.ok()) return d;
  return Error(path, ": decoder has no \"type\" and its fields match no decoder");
}

}  // namespace keel::tok
