// load_decoder: picks the architecture from config.json or the GGUF's
// general.architecture.
#include <filesystem>

#include "formats/gguf.h"
#include "formats/hf_config.h"
#include "models/decoder_model.h"
#include "models/gpt2/gpt2_model.h"
#include "models/llama/llama_model.h"

namespace keel {

Result<std::unique_ptr<DecoderModel>> load_decoder(const std::string& path, const DecoderLoadOptions& options) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    auto mc = load_hf_config(path);
    if (!mc.ok()) return mc.status();
    if (mc->llama()) {
      auto m = llama::LlamaModel::from_hf(path, options);
      if (!m.ok()) return m.status();
      return std::unique_ptr<DecoderModel>(std::move(m).value());
    }
    if (mc->gpt2()) {
      auto m = gpt2::Gpt2Model::from_hf(path, options);
      if (!m.ok()) return m.status();
      return std::unique_ptr<DecoderModel>(std::move(m).value());
    }
    return Error(path, ": a ", mc->model_type, " model is not a decoder (llama, mistral, qwen2, qwen3, gpt2)");
  }
  auto f = GgufFile::open(path);
  if (!f.ok()) return f.status();
  auto file = std::make_shared<const GgufFile>(std::move(f).value());
  const GgufValue* arch = file->find("general.architecture");
  const std::string* name = arch ? arch->as_string() : nullptr;
  if (name && (*name == "llama" || *name == "qwen2" || *name == "qwen3")) {
    auto m = llama::LlamaModel::from_gguf(file);
    if (!m.ok()) return m.status();
    return std::unique_ptr<DecoderModel>(std::move(m).value());
  }
  if (name && *name == "gpt2") {
    auto m = gpt2::Gpt2Model::from_gguf(file);
    if (!m.ok()) return m.status();
    return std::unique_ptr<DecoderModel>(std::move(m).value());
  }
  return Error(path, ": GGUF architecture '", name ? *name : std::string("?"),
               "' is not supported (llama, qwen2, qwen3, gpt2)");
}

}  // namespace keel
