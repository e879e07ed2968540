// Runs one pre-tokenizer over strings, for tests/tokenizer/test_pre_tokenizers_hf.py.
//   pretokenize_tool PRE_TOKENIZER_JSON < lines
// PRE_TOKENIZER_JSON is the pre_tokenizer object itself (or @file to read it).
// Each stdin line is a JSON string; each output line is the splits as HF's
// pre_tokenize_str gives them: [[piece, [start, end]], ...] with code-point
// offsets into the input, or {"error": message}. A bad pre-tokenizer prints
// {"error": message} once and exits 1.
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/utf8.h"
#include "tokenizer/components.h"

using nlohmann::json;

namespace {

// Code-point offset of every byte offset of `s` (byte i -> chars before it).
std::vector<size_t> char_offsets(const std::string& s) {
  std::vector<size_t> out(s.size() + 1, 0);
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    out[i] = chars;
    if ((static_cast<unsigned char>(s[i]) & 0xc0) != 0x80) ++chars;
  }
  out[s.size()] = chars;
  return out;
}

json run(const keel::tok::PreTokenizer& pt, const std::string& text) {
  if (!keel::is_valid_utf8(text)) return json{{"error", "invalid UTF-8"}};
  keel::tok::PreTokenizedString s(text);
  auto st = pt.pre_tokenize(s);
  if (!st.ok()) return json{{"error", st.message()}};
  const auto chars = char_offsets(text);
  json out = json::array();
  for (const auto& split : s.splits()) {
    const auto& n = split.normalized;
    // HF get_splits(Original, Char): the piece's span in the input, by original_shift.
    size_t b = n.original_shift(), e = b + n.original().size();
    if (e > text.size()) e = text.size();
    if (b > e) b = e;
    out.push_back(json::array({n.normalized(), json::array({chars[b], chars[e]})}));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: pretokenize_tool PRE_TOKENIZER_JSON|@file < json-lines\n";
    return 2;
  }
  std::string spec = argv[1];
  if (!spec.empty() && spec[0] == '@') {
    std::ifstream f(spec.substr(1));
    std::stringstream ss;
    ss << f.rdbuf();
    spec = ss.str();
  }
  json j = json::parse(spec, nullptr, false);
  if (j.is_discarded()) {
    std::cout << json{{"error", "pre-tokenizer is not valid JSON"}}.dump() << "\n";
    return 1;
  }
  auto pt = keel::tok::make_pre_tokenizer(j, "pre_tokenizer");
  if (!pt.ok()) {
    std::cout << json{{"error", pt.error()}}.dump() << "\n";
    return 1;
  }
  std::string line;
  while (std::getline(std::cin, line)) {
    json in = json::parse(line, nullptr, false);
    json out = in.is_string() ? run(**pt, in.get<std::string>()) : json{{"error", "line is not a JSON string"}};
    std::cout << out.dump(-1, ' ', true, json::error_handler_t::replace) << "\n";
  }
  return 0;
}
