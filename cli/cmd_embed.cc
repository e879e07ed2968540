// keel embed --model <dir> [--dtype f32|bf16|int8] [--threads N] [--batch N] [--trace FILE]
// Sentence embeddings of JSON-lines input: one JSON string per line in, one
// JSON array of floats per line out, in input order.
#include <charconv>
#include <cstring>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/commands.h"
#include "formats/safetensors.h"
#include "models/bert/embedder.h"

namespace keel::cli {
namespace {

using json = nlohmann::json;

constexpr const char* kUsage =
    "usage: keel embed --model <dir> [--dtype f32|bf16|int8] [--threads N] [--batch N]\n"
    "                  [--trace FILE]\n"
    "\n"
    "Reads one JSON string per line on stdin and writes its sentence embedding as one\n"
    "JSON array of floats per line on stdout, in input order. The model directory is a\n"
    "Hugging Face BERT-family model (config.json, model.safetensors, tokenizer.json),\n"
    "with sentence-transformers' modules.json / 1_Pooling / sentence_bert_config.json\n"
    "if present (pooling, normalization, max_seq_length); without them: mean pooling,\n"
    "no normalization. A line that is not a JSON string gives {\"error\":\"line N: ...\"}\n"
    "on its output line; the other lines are still processed and the exit code is 1.\n"
    "\n"
    "  --model    model directory\n"
    "  --dtype    compute type of the linear layers: f32 (default), bf16 or int8\n"
    "             (int8: weights quantized per output row, activations per token)\n"
    "  --threads  threads (default 0 = every core)\n"
    "  --batch    lines per forward pass (default 32); sequences of any lengths are\n"
    "             packed together without padding\n"
    "  --trace    write every layer's hidden states to FILE (safetensors, f32), named\n"
    "             '<batch>/embeddings', '<batch>/layer.<i>.<step>', '<batch>/pooled'\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "keel embed: %s\nrun 'keel embed --help' for the options\n", message.c_str());
  return 2;
}

void append_float(std::string& out, float v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);  // shortest round-trip form
  out.append(buf, end);
}

struct TracedTensor {
  std::string name;
  size_t rows, cols;
  std::vector<float> data;
};

}  // namespace

int cmd_embed(int argc, char** argv) {
  auto args = Args::parse(argc, argv, {{"model"}, {"dtype"}, {"threads"}, {"batch"}, {"trace"}, {"help", false}});
  if (!args.ok()) return usage_error(args.error());
  if (args->has("help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!args->positional().empty()) return usage_error("unexpected argument '" + args->positional().front() + "'");
  if (!args->value("model")) return usage_error("--model is required");
  bert::EmbedderOptions options;
  const std::string dtype = args->value_or("dtype", "f32");
  if (dtype == "f32") options.compute = kernels::Compute::F32;
  else if (dtype == "bf16") options.compute = kernels::Compute::BF16;
  else if (dtype == "int8") options.compute = kernels::Compute::I8;
  else return usage_error("--dtype must be f32, bf16 or int8, got '" + dtype + "'");
  auto threads = args->int_value("threads", 0, 1024);
  if (!threads.ok()) return usage_error(threads.error());
  options.threads = static_cast<int>(threads->value_or(0));
  auto batch_size = args->int_value("batch", 1, 1 << 20);
  if (!batch_size.ok()) return usage_error(batch_size.error());
  const size_t max_batch = static_cast<size_t>(batch_size->value_or(32));
  const std::string* trace_path = args->value("trace");

  auto embedder = bert::Embedder::open(*args->value("model"), options);
  if (!embedder.ok()) {
    std::fprintf(stderr, "keel embed: %s\n", embedder.error().c_str());
    return 1;
  }

  std::vector<TracedTensor> traced;
  size_t batch_index = 0;
  bert::TraceFn trace;
  if (trace_path) {
    trace = [&](std::string_view name, int layer, const float* x, size_t rows, size_t cols) {
      std::string full = str_cat(batch_index, "/");
      if (layer >= 0) full += str_cat("layer.", layer, ".");
      full += name;
      traced.push_back({std::move(full), rows, cols, std::vector<float>(x, x + rows * cols)});
    };
  }

  // Lines of the current batch: the text, or the error for that line.
  struct Line {
    size_t number;
    std::string text;
    std::string error;
  };
  std::vector<Line> lines;
  bool any_error = false;
  std::string out;

  auto flush = [&]() {
    std::vector<std::string_view> texts;
    for (const Line& l : lines)
      if (l.error.empty()) texts.push_back(l.text);
    Result<std::vector<float>> vectors = std::vector<float>();
    if (!texts.empty()) vectors = embedder->embed(texts, trace);
    ++batch_index;
    if (!vectors.ok() && texts.size() > 1) {
      // Find the culprit(s): embed the batch's lines one by one.
      for (Line& l : lines) {
        if (!l.error.empty()) continue;
        std::string_view one[] = {l.text};
        auto v = embedder->embed(one);
        if (!v.ok()) l.error = v.error();
      }
      texts.clear();
      for (const Line& l : lines)
        if (l.error.empty()) texts.push_back(l.text);
      vectors = texts.empty() ? Result<std::vector<float>>(std::vector<float>()) : embedder->embed(texts);
    }
    const size_t dim = embedder->dim();
    size_t k = 0;
    out.clear();
    for (Line& l : lines) {
      if (l.error.empty() && !vectors.ok()) l.error = vectors.error();
      if (!l.error.empty()) {
        any_error = true;
        const std::string msg = str_cat("line ", l.number, ": ", l.error);
        std::fprintf(stderr, "keel embed: %s\n", msg.c_str());
        out += json{{"error", msg}}.dump() + "\n";
        continue;
      }
      const float* v = vectors->data() + (k++) * dim;
      out += '[';
      for (size_t j = 0; j < dim; ++j) {
        if (j) out += ',';
        append_float(out, v[j]);
      }
      out += "]\n";
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    lines.clear();
  };

  std::string raw;
  size_t number = 0;
  while (std::getline(std::cin, raw)) {
    ++number;
    Line line{number, {}, {}};
    json j = json::parse(raw, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) line.error = "not valid JSON (expected a JSON string)";
    else if (!j.is_string()) line.error = str_cat("expected a JSON string, got a JSON ", j.type_name());
    else line.text = j.get<std::string>();
    lines.push_back(std::move(line));
    if (lines.size() == max_batch) flush();
  }
  if (!lines.empty()) flush();

  if (trace_path) {
    SafetensorsWriter writer;
    for (const auto& t : traced) {
      if (Status s = writer.add(t.name, DType::F32, Shape{static_cast<int64_t>(t.rows), static_cast<int64_t>(t.cols)});
          !s.ok()) {
        std::fprintf(stderr, "keel embed: --trace: %s\n", s.message().c_str());
        return 1;
      }
    }
    Status s = writer.write(*trace_path, [&](size_t i, std::span<uint8_t> dst) {
      std::memcpy(dst.data(), traced[i].data.data(), dst.size());
      return Status::Ok();
    });
    if (!s.ok()) {
      std::fprintf(stderr, "keel embed: --trace: %s\n", s.message().c_str());
      return 1;
    }
  }
  return any_error ? 1 : 0;
}

}  // namespace keel::cli
