// Reads tokenizer.json with simdjson, which validates the whole text (syntax,
// UTF-8, escapes) at GB/s, instead of nlohmann's DOM parser, which spends
// ~300 ms building and freeing a DOM of 300k strings for a 150k-token BPE
// (Qwen3). The model's vocab and merges go to ModelBulk as views; everything
// else -- the small objects the factories read -- is copied into an nlohmann
// DOM, so the factories and their error messages are unchanged.
#pragma once

#include <memory>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tokenizer/models/model_bulk.h"

namespace keel::tok {

class FastJson {
 public:
  FastJson();
  ~FastJson();
  FastJson(const FastJson&) = delete;
  FastJson& operator=(const FastJson&) = delete;

  // False when simdjson rejects `text`. That includes a few forms nlohmann
  // accepts (a UTF-8 byte order mark, integers beyond 64 bits, nesting deeper
  // than 1024), and a text that may hold the number -0 (read as 0 by
  // simdjson), so the caller then parses with nlohmann, which either accepts
  // the text or says what is wrong with it.
  // `readable_past_end`: allocated bytes after the text; with kPadding or more
  // the text is parsed in place, else copied into a padded buffer first.
  bool parse(std::string_view text, size_t readable_past_end = 0);
  static constexpr size_t kPadding = 64;  // SIMDJSON_PADDING (checked in fast_json.cc)

  // After a successful parse: the document, less what `bulk` holds. Numbers keep
  // nlohmann's kinds (unsigned for integers >= 0, integer below, float).
  nlohmann::json root;
  // Views into this object's buffers; valid until the next parse().
  ModelBulk bulk;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace keel::tok
