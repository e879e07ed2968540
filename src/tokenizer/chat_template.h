// Chat templates: renders the Jinja `chat_template` of a Hugging Face
// tokenizer_config.json into the prompt text a chat model expects.
//
// The renderer (src/tokenizer/jinja/) is a Jinja2 subset interpreter that
// follows @huggingface/jinja, the renderer transformers.js uses, byte for
// byte: HF renders with trim_blocks and lstrip_blocks on, undefined variables
// render as "", booleans print as true/false, tojson writes ", " and ": ".
// Template variables: messages, add_generation_prompt, bos_token, eos_token,
// plus anything in the extra JSON object (tools, enable_thinking, ...).
//
// Errors (syntax, raise_exception(msg), type errors, limits) come back as a
// failed Result whose message names the line and column in the template.
// No template or input crashes the process; recursion, output size and loop
// counts are bounded.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"

namespace keel {

struct ChatMessage {
  std::string role;
  std::string content;
};

namespace jinja {
struct Template;  // parsed program (jinja/parser.h)
}

class ChatTemplate {
 public:
  // Reads chat_template, bos_token, eos_token from a tokenizer_config.json
  // (the file, or a model directory holding one). chat_template may be a
  // string or HF's list of {name, template} (the one named "default" is used).
  static Result<ChatTemplate> from_tokenizer_config(const std::string& path);
  static Result<ChatTemplate> from_string(std::string source, std::string bos_token,
                                          std::string eos_token);

  Result<std::string> render(std::span<const ChatMessage> messages,
                             bool add_generation_prompt) const;
  // The general form: messages as a JSON array (content may be a list,
  // tool_calls...), extra template variables as a JSON object.
  Result<std::string> render_json(std::string_view messages_json, bool add_generation_prompt,
                                  std::string_view extra_json = "{}") const;

  const std::string& source() const { return source_; }
  const std::string& bos_token() const { return bos_token_; }
  const std::string& eos_token() const { return eos_token_; }

 private:
  std::string source_;
  std::string bos_token_;
  std::string eos_token_;
  std::shared_ptr<const jinja::Template> program_;
};

}  // namespace keel
