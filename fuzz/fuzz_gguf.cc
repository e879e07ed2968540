// libFuzzer target: GgufFile::parse on arbitrary bytes must return a value or an
// error, never crash, and every tensor it describes must lie inside the input.
#include <cstddef>
#include <cstdint>

#include "formats/gguf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = keel::GgufFile::parse({data, size}, "fuzz.gguf");
  if (!file.ok()) return 0;
  size_t sum = 0;
  for (const auto& [key, value] : file->metadata()) sum += key.size() + value.to_display_string().size();
  for (const auto& t : file->tensors()) {
    auto bytes = file->bytes(t);
    if (!bytes.empty()) sum += bytes.front() + bytes.back();  // ASan checks the range
    sum += file->view(t).shape.rank();
  }
  volatile size_t sink = sum;
  (void)sink;
  return 0;
}
