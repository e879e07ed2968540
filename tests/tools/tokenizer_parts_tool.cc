// Drives keel's tokenizer models, decoders and post-processors one at a time, so
// tests/tokenizer/test_models_hf.py can compare each with HF tokenizers.
//
//   tokenizer_parts_tool < request.json > response.json
//
// request:  {"cases": [case, ...]}, each case one of
//   {"model": {...}, "texts": ["...", ...]}
//       -> {"results": [{"ids": [...], "tokens": [...], "offsets": [[b0, b1], ...]} | {"error": "..."}]}
//          (offsets are byte offsets in the text: the whole text is one split)
//   {"decoder": {...}, "token_lists": [["tok", ...], ...]}
//       -> {"results": ["joined decode_chain output" | {"error": "..."}]}
//   {"post_processor": {...}, "inputs": [{"a": [tok, ...], "b": [tok, ...] | null, "add_special": bool}]}
//       tok = {"id": n, "token": "...", "offsets": [c0, c1], "word": n} (code points, as the
//       pipeline hands them over); a's type ids are 0, b's 1
//       -> {"results": [{"ids", "tokens", "offsets", "type_ids", "special_tokens_mask",
//                        "attention_mask", "word_ids", "sequence_ids", "overflowing": [...]} | {"error": "..."}]}
// A component that fails to build answers {"load_error": "..."} for its case.
#include <iostream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

#include "tokenizer/components.h"

using nlohmann::json;
using namespace keel::tok;

namespace {

json encoding_json(const Encoding& e) {
  json out;
  out["ids"] = e.ids;
  out["tokens"] = e.tokens;
  json offs = json::array();
  for (auto [a, b] : e.offsets) offs.push_back({a, b});
  out["offsets"] = offs;
  out["type_ids"] = e.type_ids;
  out["special_tokens_mask"] = e.special_tokens_mask;
  out["attention_mask"] = e.attention_mask;
  json words = json::array();
  for (const auto& w : e.word_ids) words.push_back(w ? json(*w) : json(nullptr));
  out["word_ids"] = words;
  json seqs = json::array();
  for (const auto& q : e.sequence_ids) seqs.push_back(q ? json(*q) : json(nullptr));
  out["sequence_ids"] = seqs;
  json ov = json::array();
  for (const Encoding& o : e.overflowing) ov.push_back(encoding_json(o));
  out["overflowing"] = ov;
  return out;
}

Encoding encoding_from(const json& toks, uint32_t type_id) {
  Encoding e;
  for (const json& t : toks) {
    e.ids.push_back(t.at("id").get<uint32_t>());
    e.tokens.push_back(t.at("token").get<std::string>());
    e.offsets.emplace_back(t.at("offsets")[0].get<size_t>(), t.at("offsets")[1].get<size_t>());
    e.type_ids.push_back(type_id);
    e.special_tokens_mask.push_back(0);
    e.attention_mask.push_back(1);
    e.word_ids.push_back(t.contains("word") && !t["word"].is_null() ? std::optional<uint32_t>(t["word"].get<uint32_t>())
                                                                    : std::nullopt);
    e.sequence_ids.push_back(std::nullopt);
  }
  return e;
}

json run_model(const json& c) {
  auto model = make_model(c["model"], "model");
  if (!model.ok()) return {{"load_error", model.error()}};
  json results = json::array();
  for (const json& t : c["texts"]) {
    std::vector<Token> toks;
    keel::Status s = (*model)->tokenize(t.get<std::string>(), toks);
    if (!s.ok()) {
      results.push_back({{"error", s.message()}});
      continue;
    }
    json r{{"ids", json::array()}, {"tokens", json::array()}, {"offsets", json::array()}};
    for (const Token& tok : toks) {
      r["ids"].push_back(tok.id);
      r["tokens"].push_back(tok.value);
      r["offsets"].push_back({tok.offsets.first, tok.offsets.second});
    }
    results.push_back(r);
  }
  return {{"results", results}, {"vocab_size", (*model)->vocab_size()}};
}

json run_decoder(const json& c) {
  auto dec = make_decoder(c["decoder"], "decoder");
  if (!dec.ok()) return {{"load_error", dec.error()}};
  json results = json::array();
  for (const json& list : c["token_lists"]) {
    std::vector<std::string> toks = list.get<std::vector<std::string>>();
    keel::Status s = (*dec)->decode_chain(toks);
    if (!s.ok()) {
      results.push_back({{"error", s.message()}});
      continue;
    }
    std::string joined;
    for (const auto& t : toks) joined += t;
    results.push_back(joined);
  }
  return {{"results", results}};
}

json run_post(const json& c) {
  auto pp = make_post_processor(c["post_processor"], "post_processor");
  if (!pp.ok()) return {{"load_error", pp.error()}};
  json results = json::array();
  for (const json& in : c["inputs"]) {
    Encoding a = encoding_from(in["a"], 0);
    std::optional<Encoding> b;
    if (in.contains("b") && !in["b"].is_null()) b = encoding_from(in["b"], 1);
    bool is_pair = b.has_value();
    auto r = (*pp)->process(std::move(a), std::move(b), in.value("add_special", true));
    if (!r.ok()) {
      results.push_back({{"error", r.error()}});
      continue;
    }
    json e = encoding_json(*r);
    e["added_tokens"] = (*pp)->added_tokens(is_pair);
    results.push_back(e);
  }
  return {{"results", results}};
}

}  // namespace

int main() {
  std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  json req = json::parse(input, nullptr, false);
  if (req.is_discarded() || !req.contains("cases")) {
    std::cerr << "tokenizer_parts_tool: expected {\"cases\": [...]} on stdin\n";
    return 2;
  }
  json out = json::array();
  for (const json& c : req["cases"]) {
    try {
      if (c.contains("model")) {
        out.push_back(run_model(c));
      } else if (c.contains("decoder")) {
        out.push_back(run_decoder(c));
      } else if (c.contains("post_processor")) {
        out.push_back(run_post(c));
      } else {
        out.push_back({{"load_error", "case has no model, decoder or post_processor"}});
      }
    } catch (const std::exception& e) {  // malformed request (not keel's input)
      out.push_back({{"load_error", std::string("bad request: ") + e.what()}});
    }
  }
  std::cout << out.dump() << "\n";
  return 0;
}
