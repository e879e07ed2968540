// Each architecture lists its tensors once: HF name, shape, and how a fresh
// model initializes it. Loaders check a checkpoint against this table (every
// missing tensor and wrong shape reported, not just the first) and
// `keel make-model` writes exactly these tensors.
#pragma once

#include <string>
#include <vector>

#include "core/tensor.h"
#include "formats/hf_config.h"

namespace keel {

enum class WeightInit { Normal, Ones, Zeros };  // N(0, 0.02) / norm scales / biases

struct WeightSpec {
  std::string name;  // as in the HF checkpoint, e.g. "encoder.layer.0.attention.self.query.weight"
  Shape shape;       // outermost first, as PyTorch stores it
  WeightInit init = WeightInit::Normal;
  bool required = true;
};

// The tensors of `config`'s architecture, in a stable order (embeddings, then
// layer by layer, then the head).
std::vector<WeightSpec> weight_table(const ModelConfig& config);

}  // namespace keel
