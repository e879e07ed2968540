// libFuzzer target: SafetensorsFile::parse on arbitrary bytes must return a value
// or an error, never crash, and every view it hands out must lie inside the input.
#include <cstddef>
#include <cstdint>

#include "formats/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = keel::SafetensorsFile::parse({data, size}, "fuzz.safetensors");
  if (!file.ok()) return 0;
  uint32_t sum = 0;
  for (const auto& t : file->tensors()) {
    auto bytes = file->bytes(t);
    if (!bytes.empty()) sum += bytes.front() + bytes.back();  // ASan checks the range
    (void)file->view(t).nbytes();
  }
  for (const auto& [k, v] : file->metadata()) sum += k.size() + v.size();
  volatile uint32_t sink = sum;
  (void)sink;
  return 0;
}
