// libFuzzer target: config.json text -> typed config -> weight table. Any input
// must give a config or an error; an accepted config must give a sane table.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "formats/hf_config.h"
#include "models/weight_table.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = keel::parse_hf_config(text, "fuzz/config.json");
  if (!config.ok()) return 0;
  auto table = keel::weight_table(*config);
  size_t sum = 0;
  for (const auto& w : table) sum += w.name.size() + w.shape.rank();
  volatile size_t sink = sum;
  (void)sink;
  return 0;
}
