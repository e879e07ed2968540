// Test driver for tests/tokenizer/test_chat_template.py: renders chat
// templates with keel's ChatTemplate for a batch of cases.
//
//   chat_template_tool <cases.json> <out.json>
//
// cases.json: [{"config": <tokenizer_config.json>} or {"template": <.jinja file>,
//   "bos_token": "...", "eos_token": "..."}, plus "messages": [...],
//   "add_generation_prompt": bool, "extra": {...}]
// out.json: one entry per case, {"ok": true, "text": "..."} or
// {"ok": false, "error": "..."}.
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tokenizer/chat_template.h"

using nlohmann::ordered_json;

static std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: chat_template_tool <cases.json> <out.json>\n";
    return 2;
  }
  ordered_json cases = ordered_json::parse(read_file(argv[1]), nullptr, false);
  if (cases.is_discarded() || !cases.is_array()) {
    std::cerr << argv[1] << ": not a JSON array\n";
    return 1;
  }
  ordered_json out = ordered_json::array();
  for (const auto& c : cases) {
    keel::Result<keel::ChatTemplate> tpl = keel::Status::Error("no template");
    if (c.contains("config")) {
      tpl = keel::ChatTemplate::from_tokenizer_config(c["config"].get<std::string>());
    } else {
      tpl = keel::ChatTemplate::from_string(read_file(c["template"].get<std::string>()), c.value("bos_token", ""),
                                            c.value("eos_token", ""));
    }
    ordered_json r;
    if (!tpl.ok()) {
      r["ok"] = false;
      r["error"] = tpl.error();
    } else {
      std::string extra = c.contains("extra") ? c["extra"].dump() : "{}";
      auto text = tpl->render_json(c["messages"].dump(), c.value("add_generation_prompt", false), extra);
      if (text.ok()) {
        r["ok"] = true;
        r["text"] = *text;
      } else {
        r["ok"] = false;
        r["error"] = text.error();
      }
    }
    out.push_back(r);
  }
  std::ofstream(argv[2], std::ios::binary) << out.dump(1, ' ', false, ordered_json::error_handler_t::replace);
  return 0;
}
