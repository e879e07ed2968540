#include "core/utf8.h"
#include "tokenizer/decoders/decoders.h"

namespace keel::tok {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "<0xAB>" -> 0xAB. Mirrors Rust's u8::from_str_radix on the two chars after
// "<0x", which also accepts "+F".
bool parse_byte_token(const std::string& t, unsigned char& byte) {
  if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return false;
  int hi = hex_digit(t[3]), lo = hex_digit(t[4]);
  if (t[3] == '+' && lo >= 0) {
    byte = static_cast<unsigned char>(lo);
    return true;
  }
  if (hi < 0 || lo < 0) return false;
  byte = static_cast<unsigned char>(hi * 16 + lo);
  return true;
}

void flush(std::string& pending, std::vector<std::string>& out) {
  if (pending.empty()) return;
  if (is_valid_utf8(pending)) {
    out.push_back(pending);
  } else {
    for (size_t i = 0; i < pending.size(); ++i) out.emplace_back("\xEF\xBF\xBD");
  }
  pending.clear();
}

}  // namespace

Status ByteFallbackDecoder::decode_chain(std::vector<std::string>& tokens) const {
  std::vector<std::string> out;
  out.reserve(tokens.size());
  std::string pending;
  for (std::string& t : tokens) {
    unsigned char b;
    if (parse_byte_token(t, b)) {
      pending += static_cast<char>(b);
    } else {
      flush(pending, out);
      out.push_back(std::move(t));
    }
  }
  flush(pending, out);
  tokens = std::move(out);
  return Status::Ok();
}

}  // namespace keel::tok
