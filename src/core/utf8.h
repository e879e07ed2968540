// UTF-8 validation (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
#pragma once

#include <cstddef>
#include <string_view>

namespace keel {

// Returns the byte offset of the first invalid sequence, or npos if `s` is valid.
size_t find_invalid_utf8(std::string_view s);
inline bool is_valid_utf8(std::string_view s) { return find_invalid_utf8(s) == std::string_view::npos; }

// For error messages: `s` with non-printable and invalid bytes as \xNN, cut to `max_len`.
std::string printable(std::string_view s, size_t max_len = 80);

}  // namespace keel
