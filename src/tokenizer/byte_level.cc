#include "tokenizer/byte_level.h"

namespace keel::tok {

namespace {

bool is_self_mapped(unsigned b) {
  return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

struct Tables {
  std::array<char32_t, 256> to_cp{};
  std::array<std::string, 256> to_utf8;
  // Inverse over U+0000..U+01FF (every character of the alphabet is below U+0144);
  // -1 where a character is not in the alphabet.
  std::array<int16_t, 512> from_cp{};

  Tables() {
    from_cp.fill(-1);
    unsigned n = 0;
    for (unsigned b = 0; b < 256; ++b) {
      char32_t cp = is_self_mapped(b) ? b : 256 + n++;
      to_cp[b] = cp;
      from_cp[cp] = static_cast<int16_t>(b);
      std::string& s = to_utf8[b];
      if (cp < 0x80) {
        s.push_back(static_cast<char>(cp));
      } else {
        s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      }
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

char32_t byte_to_unicode(uint8_t b) { return tables().to_cp[b]; }

const std::array<std::string, 256>& byte_to_unicode_utf8() { return tables().to_utf8; }

std::optional<uint8_t> unicode_to_byte(char32_t c) {
  if (c >= 512) return std::nullopt;
  int16_t b = tables().from_cp[c];
  if (b < 0) return std::nullopt;
  return static_cast<uint8_t>(b);
}

void append_byte_level(std::string_view bytes, std::string& out) {
  const auto& t = tables().to_utf8;
  out.reserve(out.size() + bytes.size() * 2);
  for (unsigned char b : bytes) out += t[b];
}

bool byte_level_decode(std::string_view token, std::string& out) {
  const size_t start = out.size();
  size_t i = 0;
  while (i < token.size()) {
    auto c = static_cast<unsigned char>(token[i]);
    char32_t cp;
    if (c < 0x80) {
      cp = c;
      i += 1;
    } else if ((c & 0xE0) == 0xC0 && i + 1 < token.size() &&
               (static_cast<unsigned char>(token[i + 1]) & 0xC0) == 0x80) {
      cp = (char32_t(c & 0x1F) << 6) | (static_cast<unsigned char>(token[i + 1]) & 0x3F);
      i += 2;
    } else {
      // Three- and four-byte characters are all outside the alphabet.
      out.resize(start);
      return false;
    }
    auto b = unicode_to_byte(cp);
    if (!b) {
      out.resize(start);
      return false;
    }
    out.push_back(static_cast<char>(*b));
  }
  return true;
}

}  // namespace keel::tok
