// decoder_tool --model <dir|gguf> [--dtype f32|f16|bf16] < request.json
// Runs keel's decoder forward pass for the Python parity tests. Request:
//   {"prompts": [[ids...], ...], "greedy": N or [N per prompt], "threads": 2}
// Each prompt is prefilled alone (own KV cache), then N greedy tokens are
// decoded, one forward pass per token. Response on stdout:
//   {"logits": [[vocab floats of the prompt's next token], ...],
//    "greedy": [[N ids], ...], "margins": [[top1 - top2 at each greedy step], ...]}
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

#include "core/thread_pool.h"
#include "models/decoder_model.h"

int main(int argc, char** argv) {
  std::string model_path, dtype, kv_type = "f32";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--model") model_path = argv[i + 1];
    else if (a == "--dtype") dtype = argv[i + 1];
    else if (a == "--kv-type") kv_type = argv[i + 1];
  }
  if (model_path.empty()) {
    std::fprintf(stderr, "usage: decoder_tool --model <dir|gguf> [--dtype D] [--kv-type f32|f16] < request.json\n");
    return 2;
  }
  nlohmann::json req;
  try {
    req = nlohmann::json::parse(std::string(std::istreambuf_iterator<char>(std::cin), {}));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "decoder_tool: bad request: %s\n", e.what());
    return 2;
  }
  auto model = keel::load_decoder(model_path, {.dtype = dtype});
  if (!model.ok()) {
    std::fprintf(stderr, "decoder_tool: %s\n", model.status().message().c_str());
    return 1;
  }
  keel::DecoderModel& m = **model;
  keel::ThreadPool pool(req.value("threads", 2));
  const nlohmann::json greedy_field = req.value("greedy", nlohmann::json(0));
  nlohmann::json out = {{"logits", nlohmann::json::array()}, {"greedy", nlohmann::json::array()},
                        {"margins", nlohmann::json::array()}};
  std::vector<float> logits(m.vocab_size());
  size_t index = 0;
  for (const auto& p : req.at("prompts")) {
    const std::vector<int32_t> ids = p.get<std::vector<int32_t>>();
    const int greedy = greedy_field.is_array() ? greedy_field.at(index).get<int>() : greedy_field.get<int>();
    ++index;
    keel::KvCache cache =
        m.new_cache(ids.size() + greedy + 1, kv_type == "f16" ? keel::KvType::F16 : keel::KvType::F32);
    keel::DecoderInput in{&cache, ids};
    if (auto s = m.forward({&in, 1}, logits.data(), &pool); !s.ok()) {
      std::fprintf(stderr, "decoder_tool: %s\n", s.message().c_str());
      return 1;
    }
    out["logits"].push_back(logits);
    nlohmann::json gen = nlohmann::json::array(), margins = nlohmann::json::array();
    for (int g = 0; g < greedy; ++g) {
      size_t best = 0, second = 1;
      if (logits[second] > logits[best]) std::swap(best, second);
      for (size_t i = 2; i < logits.size(); ++i) {
        if (logits[i] > logits[best]) second = best, best = i;
        else if (logits[i] > logits[second]) second = i;
      }
      gen.push_back(best);
      margins.push_back(logits[best] - logits[second]);
      const int32_t next = static_cast<int32_t>(best);
      keel::DecoderInput step{&cache, {&next, 1}};
      if (auto s = m.forward({&step, 1}, logits.data(), &pool); !s.ok()) {
        std::fprintf(stderr, "decoder_tool: %s\n", s.message().c_str());
        return 1;
      }
    }
    out["greedy"].push_back(gen);
    out["margins"].push_back(margins);
  }
  std::cout << out.dump() << "\n";
  return 0;
}
