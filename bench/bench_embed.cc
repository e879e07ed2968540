// keel's side of bench/bench_embed.py: times keel::bert::Embedder in process (no
// JSON or pipe on the timed path), driven by commands on stdin so that the
// coordinator can interleave it with the other engines.
//
//   bench_embed --model DIR --dtype f32|bf16|int8 --threads N --texts FILE
//
// FILE: one JSON object per line, {"case": "short", "text": "..."}. At start the
// program prints one JSON line: RSS before and after loading (from
// /proc/self/statm), the size of model.safetensors, the packed weights' size and
// the load time, and every case's token counts (keel's tokenizer). Then, for
// each stdin line "run <case> <batch> <n>", it embeds the case's first n texts,
// `batch` at a time (tokenized before the clock starts: the timed call is
// Embedder::embed_batch, i.e. forward + pooling + normalization), and prints
// {"seconds": total, "calls": [seconds of each call], "rss_mb": ...}. "quit" ends it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "models/bert/embedder.h"

namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

double rss_mb() {
  long pages = 0, resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return -1;
  if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = -1;
  std::fclose(f);
  return resident * (static_cast<double>(sysconf(_SC_PAGESIZE)) / (1 << 20));
}

int fail(const std::string& message) {
  std::fprintf(stderr, "bench_embed: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model, dtype = "f32", texts_path;
  int threads = 2;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 < argc && a == "--model") model = argv[++i];
    else if (i + 1 < argc && a == "--dtype") dtype = argv[++i];
    else if (i + 1 < argc && a == "--threads") threads = std::atoi(argv[++i]);
    else if (i + 1 < argc && a == "--texts") texts_path = argv[++i];
    else {
      std::fprintf(stderr, "usage: bench_embed --model DIR --dtype f32|bf16|int8 --threads N --texts FILE\n");
      return 2;
    }
  }
  if (model.empty() || texts_path.empty()) return fail("--model and --texts are required");
  keel::bert::EmbedderOptions options;
  options.threads = threads;
  if (dtype == "f32") options.compute = keel::kernels::Compute::F32;
  else if (dtype == "bf16") options.compute = keel::kernels::Compute::BF16;
  else if (dtype == "int8") options.compute = keel::kernels::Compute::I8;
  else return fail("--dtype must be f32, bf16 or int8");

  // The texts, by case, read before the model so that they are not in the RSS delta.
  std::map<std::string, std::vector<std::string>> texts;
  {
    std::ifstream in(texts_path);
    if (!in) return fail("cannot read " + texts_path);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      json j = json::parse(line);
      texts[j.at("case").get<std::string>()].push_back(j.at("text").get<std::string>());
    }
  }

  const double rss_before = rss_mb();
  const auto t0 = Clock::now();
  auto embedder = keel::bert::Embedder::open(model, options);
  if (!embedder.ok()) return fail(embedder.error());
  const double load_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const double rss_after = rss_mb();

  json hello;
  hello["rss_before_mb"] = rss_before;
  hello["rss_after_load_mb"] = rss_after;
  hello["load_seconds"] = load_s;
  hello["packed_weight_bytes"] = embedder->model().packed_weight_bytes();
  std::error_code ec;
  hello["weights_file_bytes"] = std::filesystem::file_size(std::filesystem::path(model) / "model.safetensors", ec);
  hello["threads"] = embedder->pool().num_threads();
  json lengths = json::object();
  for (const auto& [name, list] : texts) {
    std::vector<std::string_view> views(list.begin(), list.end());
    auto packed = embedder->tokenize(views);
    if (!packed.ok()) return fail(packed.error());
    std::vector<uint32_t> lens;
    for (size_t s = 0; s < packed->num_sequences(); ++s) lens.push_back(packed->offsets[s + 1] - packed->offsets[s]);
    lengths[name] = lens;
  }
  hello["lengths"] = lengths;
  std::cout << hello.dump() << std::endl;

  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream cmd(line);
    std::string op, name;
    size_t batch = 0, n = 0;
    cmd >> op;
    if (op == "quit") break;
    if (op != "run" || !(cmd >> name >> batch >> n) || batch == 0 || !texts.count(name)) {
      std::cout << json{{"error", "bad command: " + line}}.dump() << std::endl;
      continue;
    }
    const auto& list = texts[name];
    n = std::min(n, list.size());
    std::vector<keel::bert::PackedBatch> batches;
    for (size_t b = 0; b < n; b += batch) {
      std::vector<std::string_view> views(list.begin() + b, list.begin() + std::min(n, b + batch));
      auto packed = embedder->tokenize(views);
      if (!packed.ok()) return fail(packed.error());
      batches.push_back(std::move(*packed));
    }
    std::vector<double> calls;
    double total = 0, checksum = 0;
    for (const auto& packed : batches) {
      const auto start = Clock::now();
      auto v = embedder->embed_batch(packed);
      const double s = std::chrono::duration<double>(Clock::now() - start).count();
      if (!v.ok()) return fail(v.error());
      checksum += (*v)[0];
      calls.push_back(s);
      total += s;
    }
    std::cout << json{{"seconds", total}, {"calls", calls}, {"rss_mb", rss_mb()}, {"checksum", checksum}}.dump()
              << std::endl;
  }
  return 0;
}
