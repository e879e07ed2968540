// Test driver for tests/tokenizer/test_normalizers_hf.py: applies normalizers
// from tokenizer.json fragments to texts and prints what HF's bindings would
// report, so the Python test can diff keel against HF tokenizers (node).
//
// stdin:  first line: a JSON array of normalizer objects (tokenizer.json form);
//         then one JSON object per line: {"n": <index into the array>, "text": "..."}
// stdout: one JSON object per text line: {"normalized": "...", "offsets": [[b, e], ...]}
//         with, for each normalized char, the original range it maps to in code
//         points; or {"error": "..."} (a normalizer that failed to load gives its
//         error for every text that uses it).
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/utf8.h"
#include "tokenizer/components.h"

namespace {

using nlohmann::json;

// Code-point index of every byte offset of s (size + 1 entries).
std::vector<size_t> char_index(const std::string& s) {
  std::vector<size_t> idx(s.size() + 1);
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    idx[i] = n;
    if ((static_cast<unsigned char>(s[i]) & 0xc0) != 0x80) idx[i] = n++;
  }
  // Continuation bytes map to the char they belong to; the end maps to the count.
  for (size_t i = 0; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xc0) == 0x80) idx[i] = i > 0 ? idx[i - 1] : 0;
  idx[s.size()] = n;
  return idx;
}

using Loaded = keel::Result<std::unique_ptr<keel::tok::Normalizer>>;

json run(const std::vector<Loaded>& normalizers, const json& req) {
  const size_t n = req.at("n").get<size_t>();
  if (n >= normalizers.size()) return {{"error", "bad request: normalizer index out of range"}};
  const Loaded& norm = normalizers[n];
  if (!norm.ok()) return {{"error", norm.error()}};
  const std::string text = req.at("text").get<std::string>();
  if (!keel::is_valid_utf8(text)) return {{"error", "invalid UTF-8"}};
  keel::tok::NormalizedString s(text);
  if (auto st = (*norm)->normalize(s); !st.ok()) return {{"error", st.message()}};
  const auto idx = char_index(s.original());
  json offsets = json::array();
  const std::string& out = s.normalized();
  size_t i = 0;
  while (i < out.size()) {
    size_t j = i + 1;
    while (j < out.size() && (static_cast<unsigned char>(out[j]) & 0xc0) == 0x80) ++j;
    auto r = s.to_original({i, j});
    if (r && r->first <= r->second && r->second <= s.original().size())
      offsets.push_back({idx[r->first], idx[r->second]});
    else
      offsets.push_back(nullptr);
    i = j;
  }
  return {{"normalized", out}, {"offsets", offsets}};
}

}  // namespace

int main() {
  std::string line;
  std::vector<Loaded> normalizers;
  if (std::getline(std::cin, line)) {
    try {
      json list = json::parse(line);
      for (size_t i = 0; i < list.size(); ++i)
        normalizers.push_back(keel::tok::make_normalizer(list.at(i), "normalizer"));
    } catch (const std::exception& e) {
      std::cerr << "bad normalizer list: " << e.what() << "\n";
      return 2;
    }
  }
  while (std::getline(std::cin, line)) {
    json out;
    try {
      out = run(normalizers, json::parse(line));
    } catch (const std::exception& e) {
      out = {{"error", std::string("bad request: ") + e.what()}};
    }
    std::cout << out.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  }
  return 0;
}
