// Test driver for tests/runtime/test_sampling_hf.py: keel's sampling
// distribution (Sampler::distribution) for a batch of cases.
//
//   sampling_tool <cases.json> <out.json>
//
// cases.json: [{"logits": [...], "history": [...], "params": {SamplingParams
// fields}}]. out.json: one [[id, prob], ...] list per case.
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "runtime/sampling.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: sampling_tool <cases.json> <out.json>\n";
    return 2;
  }
  std::ifstream in(argv[1]);
  std::stringstream ss;
  ss << in.rdbuf();
  auto cases = nlohmann::json::parse(ss.str(), nullptr, false);
  if (cases.is_discarded() || !cases.is_array()) {
    std::cerr << argv[1] << ": not a JSON array\n";
    return 1;
  }
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : cases) {
    const auto& p = c["params"];
    keel::SamplingParams sp;
    sp.temperature = p.value("temperature", sp.temperature);
    sp.top_k = p.value("top_k", sp.top_k);
    sp.top_p = p.value("top_p", sp.top_p);
    sp.min_p = p.value("min_p", sp.min_p);
    sp.repetition_penalty = p.value("repetition_penalty", sp.repetition_penalty);
    sp.frequency_penalty = p.value("frequency_penalty", sp.frequency_penalty);
    sp.presence_penalty = p.value("presence_penalty", sp.presence_penalty);
    sp.penalty_last_n = p.value("penalty_last_n", sp.penalty_last_n);
    if (auto st = keel::validate(sp); !st.ok()) {
      std::cerr << st.message() << "\n";
      return 1;
    }
    auto logits = c["logits"].get<std::vector<float>>();
    auto history = c["history"].get<std::vector<int32_t>>();
    keel::Sampler s(sp);
    nlohmann::json d = nlohmann::json::array();
    for (const auto& tp : s.distribution(logits.data(), logits.size(), history)) d.push_back({tp.id, tp.prob});
    out.push_back(d);
  }
  std::ofstream(argv[2]) << out.dump();
  return 0;
}
