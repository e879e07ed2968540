// Typed access to tokenizer.json fields with errors that name the JSON path
// ("model.vocab[\"a\"]: expected an unsigned integer, got string"). Shared by the
// model, post-processor and decoder factories. Missing and null fields are
// treated alike (serde's Option semantics): the default is used.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "core/status.h"

namespace keel::tok::json_fields {

// "object", "string", ... for messages.
const char* type_name(const nlohmann::json& j);
// path + "." + key
std::string join(const std::string& path, std::string_view key);

Status expect_object(const nlohmann::json& j, const std::string& path);
// The field if present and not null, else nullptr.
const nlohmann::json* find(const nlohmann::json& j, std::string_view key);

Result<std::optional<std::string>> opt_string(const nlohmann::json& j, std::string_view key,
                                              const std::string& path);
Result<std::string> req_string(const nlohmann::json& j, std::string_view key, const std::string& path);
Result<std::string> string_or(const nlohmann::json& j, std::string_view key, const std::string& path,
                              std::string_view def);
Result<bool> bool_or(const nlohmann::json& j, std::string_view key, const std::string& path, bool def);
Result<std::optional<uint64_t>> opt_uint(const nlohmann::json& j, std::string_view key,
                                         const std::string& path, uint64_t max = UINT64_MAX);
Result<uint64_t> uint_or(const nlohmann::json& j, std::string_view key, const std::string& path,
                         uint64_t def, uint64_t max = UINT64_MAX);
Result<std::optional<double>> opt_number(const nlohmann::json& j, std::string_view key,
                                         const std::string& path);
// A string holding exactly one Unicode scalar (serde's `char`).
Result<char32_t> req_char(const nlohmann::json& j, std::string_view key, const std::string& path);
Result<char32_t> char_or(const nlohmann::json& j, std::string_view key, const std::string& path,
                         char32_t def);
// Value `v` itself (at `path`) as an unsigned integer <= max.
Result<uint64_t> as_uint(const nlohmann::json& v, const std::string& path, uint64_t max = UINT64_MAX);

// UTF-8 encoding of one code point, appended to out.
void append_utf8(char32_t c, std::string& out);

}  // namespace keel::tok::json_fields
