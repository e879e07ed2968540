// libFuzzer target: chat template source (+ messages JSON + extra JSON) ->
// rendered text or an error. Input: template [\0 messages_json [\0 extra_json]];
// the length's parity picks add_generation_prompt. Any input must give text or
// an error, never a crash, hang or runaway memory.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tokenizer/chat_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view tpl = in, messages = R"([{"role":"system","content":"sys"},{"role":"user","content":"hi é"},)"
                                        R"({"role":"assistant","content":"ok","tool_calls":[{"function":{"name":"f","arguments":{"a":1}}}]}])",
                   extra = R"({"tools":[{"type":"function","function":{"name":"f"}}],"enable_thinking":false})";
  if (size_t z = in.find('\0'); z != std::string_view::npos) {
    tpl = in.substr(0, z);
    std::string_view rest = in.substr(z + 1);
    size_t z2 = rest.find('\0');
    messages = rest.substr(0, z2);
    extra = z2 == std::string_view::npos ? std::string_view("{}") : rest.substr(z2 + 1);
  }
  auto t = keel::ChatTemplate::from_string(std::string(tpl), "<s>", "</s>");
  if (!t.ok()) return 0;
  auto r = t->render_json(messages, size % 2 == 1, extra);
  volatile size_t sink = r.ok() ? r->size() : r.error().size();
  (void)sink;
  return 0;
}
