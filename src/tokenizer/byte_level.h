// GPT-2's byte-level alphabet (HF tokenizers' bytes_char / CHAR_BYTES): every
// byte 0..255 gets a printable Unicode character so byte strings can live in a
// text vocabulary. Bytes that are already printable Latin-1 ('!'..'~',
// U+00A1..U+00AC, U+00AE..U+00FF) map to themselves; the other 68 bytes map, in
// byte order, to U+0100..U+0143 (so ' ' -> 'Ġ' U+0120, '\n' -> 'Ċ' U+010A).
//
// Used by the ByteLevel pre-tokenizer (bytes -> chars), the ByteLevel decoder
// (chars -> bytes) and the ByteLevel post-processor (trimming 'Ġ').
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace keel::tok {

// The character for byte b, as a code point.
char32_t byte_to_unicode(uint8_t b);
// The same characters, UTF-8 encoded (1 or 2 bytes each), indexed by byte.
const std::array<std::string, 256>& byte_to_unicode_utf8();
// The byte whose character is c; nullopt if c is not in the alphabet.
std::optional<uint8_t> unicode_to_byte(char32_t c);

// Appends the byte-level form of `bytes` (each byte -> its character, UTF-8) to out.
void append_byte_level(std::string_view bytes, std::string& out);

// Decodes one byte-level token (UTF-8 text of alphabet characters) into the raw
// bytes it stands for, appended to out. Returns false, leaving out untouched,
// if the token holds a character outside the alphabet (HF's ByteLevel decoder
// then keeps the token's own bytes) or is not valid UTF-8.
bool byte_level_decode(std::string_view token, std::string& out);

}  // namespace keel::tok
