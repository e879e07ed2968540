// llama.cpp's per-architecture GGUF metadata ("<arch>.<key>"), read with the
// checks every decoder loader needs: integers present and positive, reals
// that are numbers. Internal to models/.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "formats/gguf.h"
#include "models/decoder_common.h"

namespace keel::decoder {

class GgufMeta {
 public:
  GgufMeta(const GgufFile& f, std::string arch) : f_(f), arch_(std::move(arch)) {}
  const GgufValue* find(std::string_view key) const { return f_.find(str_cat(arch_, ".", key)); }
  Result<int64_t> integer(std::string_view key, std::optional<int64_t> fallback = std::nullopt) const {
    const GgufValue* v = find(key);
    if (!v) {
      if (fallback) return *fallback;
      return Error(f_.source(), ": missing metadata key '", arch_, ".", key, "'");
    }
    auto i = v->as_int();
    if (!i || *i <= 0) return Error(f_.source(), ": '", arch_, ".", key, "' must be a positive integer");
    return *i;
  }
  // integer() into *out.
  Status read(std::string_view key, int64_t* out, std::optional<int64_t> fallback = std::nullopt) const {
    auto v = integer(key, fallback);
    if (!v.ok()) return v.status();
    *out = *v;
    return Status::Ok();
  }
  Result<double> real(std::string_view key, double fallback) const {
    const GgufValue* v = find(key);
    if (!v) return fallback;
    auto d = v->as_double();
    if (!d) return Error(f_.source(), ": '", arch_, ".", key, "' must be a number");
    return *d;
  }

 private:
  const GgufFile& f_;
  std::string arch_;
};

// Generation stops at tokenizer.ggml.eos_token_id and, when it differs,
// eot_token_id; *bos is bos_token_id or left as it was.
inline void gguf_special_ids(const GgufFile& f, std::vector<int32_t>* eos, int32_t* bos) {
  if (const GgufValue* e = f.find("tokenizer.ggml.eos_token_id"); e && e->as_int())
    eos->push_back(static_cast<int32_t>(*e->as_int()));
  if (const GgufValue* e = f.find("tokenizer.ggml.eot_token_id"); e && e->as_int() &&
      (eos->empty() || (*eos)[0] != *e->as_int()))
    eos->push_back(static_cast<int32_t>(*e->as_int()));
  if (const GgufValue* b = f.find("tokenizer.ggml.bos_token_id"); b && b->as_int())
    *bos = static_cast<int32_t>(*b->as_int());
}

// The file's tensors by GGUF name, for a WeightLoader (keeps the file alive).
inline TensorLookup gguf_tensors(std::shared_ptr<const GgufFile> file) {
  return [file = std::move(file)](std::string_view name) -> std::optional<ConstTensorView> {
    const GgufTensorInfo* t = file->find_tensor(name);
    if (!t) return std::nullopt;
    return file->view(*t);
  };
}

}  // namespace keel::decoder
