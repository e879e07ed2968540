// `keel make-model`: a Hugging Face-format model directory with a real config and
// tokenizer and seeded random weights (pretrained weights cannot be downloaded
// here). Norm weights are 1, biases 0, everything else N(0, 0.02). The same
// options always give the same bytes: every tensor draws from its own stream,
// seeded by (seed, tensor name), with a portable generator (no std:: distributions,
// whose output differs between standard libraries).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/dtype.h"
#include "core/status.h"

namespace keel {

struct MakeModelOptions {
  std::string config_path;     // a config.json, or a directory holding one
  std::string tokenizer_dir;   // tokenizer.json & co. and sentence-transformers files are copied from here
  std::optional<int64_t> num_layers;  // overrides the config's layer count
  uint64_t seed = 0;
  DType dtype = DType::F32;    // f32, f16 or bf16
  std::string out_dir;
};

// Writes out_dir/config.json (the input config with the layer count and
// torch_dtype updated, everything else kept), out_dir/model.safetensors, and
// copies the tokenizer and sentence-transformers files that exist.
Status make_model(const MakeModelOptions& options);

// Fills `out` with N(0, stddev) values from the stream for (seed, name).
void fill_normal(uint64_t seed, std::string_view name, float stddev, float* out, int64_t n);

}  // namespace keel
