#include "tokenizer/jinja/lexer.h"

#include <cstdint>

#include "tokenizer/jinja/value.h"

namespace keel::jinja {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_word(char c) { return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

// The preprocessed text and, for each of its bytes, the offset it came from.
struct Source {
  std::string text;
  std::vector<uint32_t> origin;
};

Source preprocess(std::string_view src) {
  if (!src.empty() && src.back() == '\n') src.remove_suffix(1);
  // lstrip_blocks: /^[ \t]*({[#%-])/gm -> "$1"
  Source a;
  a.text.reserve(src.size());
  a.origin.reserve(src.size());
  size_t i = 0;
  while (i < src.size()) {
    bool line_start = i == 0 || src[i - 1] == '\n' || src[i - 1] == '\r';
    if (line_start) {
      size_t j = i;
      while (j < src.size() && (src[j] == ' ' || src[j] == '\t')) ++j;
      if (j + 1 < src.size() && src[j] == '{' && (src[j + 1] == '#' || src[j + 1] == '%' || src[j + 1] == '-'))
        i = j;
    }
    a.text += src[i];
    a.origin.push_back(uint32_t(i));
    ++i;
  }
  // trim_blocks: /([#%-]})\n/g -> "$1"
  Source b;
  b.text.reserve(a.text.size());
  b.origin.reserve(a.text.size());
  for (size_t k = 0; k < a.text.size(); ++k) {
    if (a.text[k] == '\n' && k >= 2 && a.text[k - 1] == '}' &&
        (a.text[k - 2] == '#' || a.text[k - 2] == '%' || a.text[k - 2] == '-'))
      continue;
    b.text += a.text[k];
    b.origin.push_back(a.origin[k]);
  }
  b.origin.push_back(uint32_t(src.size()));
  return b;
}

class Lexer {
 public:
  explicit Lexer(std::string_view original) : orig_(original), src_(preprocess(original)) {}

  std::vector<Token> run() {
    const std::string& s = src_.text;
    while (pos_ < s.size()) {
      // Text up to the next {{, {% or {#.
      size_t start = pos_;
      while (pos_ < s.size() && !(s[pos_] == '{' && pos_ + 1 < s.size() &&
                                  (s[pos_ + 1] == '%' || s[pos_ + 1] == '{' || s[pos_ + 1] == '#')))
        ++pos_;
      if (pos_ > start) push(Tok::Text, s.substr(start, pos_ - start), start);
      if (pos_ >= s.size()) break;
      char kind = s[pos_ + 1];
      size_t tag_start = pos_;
      pos_ += 2;
      bool strip_before = pos_ < s.size() && s[pos_] == '-';
      if (strip_before) {
        ++pos_;
        strip_trailing_text();
      }
      if (kind == '#') {
        size_t end = s.find("#}", pos_);
        if (end == std::string::npos) fail("unterminated comment", tag_start);
        bool strip_after = end > pos_ && s[end - 1] == '-';
        push(Tok::Comment, "", tag_start);
        pos_ = end + 2;
        if (strip_after) skip_space();
        continue;
      }
      if (kind == '%' && try_raw(tag_start)) continue;
      push(kind == '%' ? Tok::OpenStmt : Tok::OpenExpr, kind == '%' ? "{%" : "{{", tag_start);
      lex_tag(kind == '%' ? Tok::CloseStmt : Tok::CloseExpr, tag_start);
    }
    push(Tok::End, "", s.size());
    return std::move(out_);
  }

 private:
  [[noreturn]] void fail(const std::string& msg, size_t at) {
    auto [line, col] = line_col(at);
    throw JinjaError{msg, line, col};
  }

  std::pair<int, int> line_col(size_t at) const {
    size_t o = src_.origin[at < src_.origin.size() ? at : src_.origin.size() - 1];
    int line = 1, col = 1;
    for (size_t k = 0; k < o && k < orig_.size(); ++k) {
      if (orig_[k] == '\n') { ++line; col = 1; } else { ++col; }
    }
    return {line, col};
  }

  void push(Tok t, std::string text, size_t at) {
    auto [line, col] = line_col(at);
    out_.push_back(Token{t, std::move(text), line, col});
  }

  void strip_trailing_text() {
    if (out_.empty() || out_.back().type != Tok::Text) return;
    std::string& t = out_.back().text;
    while (!t.empty() && is_space(t.back())) t.pop_back();
    if (t.empty()) out_.pop_back();
  }

  void skip_space() {
    while (pos_ < src_.text.size() && is_space(src_.text[pos_])) ++pos_;
  }

  // {% raw %} ... {% endraw %}: everything between is text. pos_ is just
  // past "{%" (and a "-").
  bool try_raw(size_t tag_start) {
    const std::string& s = src_.text;
    size_t p = pos_;
    while (p < s.size() && is_space(s[p])) ++p;
    if (s.compare(p, 3, "raw") != 0 || (p + 3 < s.size() && is_word(s[p + 3]))) return false;
    p += 3;
    while (p < s.size() && is_space(s[p])) ++p;
    bool strip_inner_start = p < s.size() && s[p] == '-';
    if (strip_inner_start) ++p;
    if (s.compare(p, 2, "%}") != 0) fail("expected %} after raw", p);
    p += 2;
    if (strip_inner_start) while (p < s.size() && is_space(s[p])) ++p;
    // Find {%-? endraw -?%}
    size_t q = p;
    while (true) {
      q = s.find("{%", q);
      if (q == std::string::npos) fail("missing {% endraw %} for this raw block", tag_start);
      size_t r = q + 2;
      bool strip = r < s.size() && s[r] == '-';
      if (strip) ++r;
      while (r < s.size() && is_space(s[r])) ++r;
      if (s.compare(r, 6, "endraw") == 0) {
        r += 6;
        while (r < s.size() && is_space(s[r])) ++r;
        bool strip_after = r < s.size() && s[r] == '-';
        if (strip_after) ++r;
        if (s.compare(r, 2, "%}") == 0) {
          std::string body = s.substr(p, q - p);
          if (strip) while (!body.empty() && is_space(body.back())) body.pop_back();
          if (!body.empty()) push(Tok::Text, body, p);
          pos_ = r + 2;
          if (strip_after) skip_space();
          // Keep the last token a non-text one so the next text is separate.
          return true;
        }
      }
      q += 2;
    }
  }

  void lex_tag(Tok close, size_t tag_start) {
    const std::string& s = src_.text;
    int braces = 0;
    while (true) {
      skip_space();
      if (pos_ >= s.size()) fail(close == Tok::CloseStmt ? "unterminated {% tag" : "unterminated {{ expression", tag_start);
      size_t at = pos_;
      char c = s[pos_];
      char n = pos_ + 1 < s.size() ? s[pos_ + 1] : '\0';
      char n2 = pos_ + 2 < s.size() ? s[pos_ + 2] : '\0';
      if (c == '-' && ((n == '%' && n2 == '}' && close == Tok::CloseStmt) ||
                       (n == '}' && n2 == '}' && close == Tok::CloseExpr && braces == 0))) {
        pos_ += 3;
        push(close, close == Tok::CloseStmt ? "%}" : "}}", at);
        skip_space();
        return;
      }
      if (close == Tok::CloseStmt && c == '%' && n == '}') {
        pos_ += 2;
        push(close, "%}", at);
        return;
      }
      if (close == Tok::CloseExpr && braces == 0 && c == '}' && n == '}') {
        pos_ += 2;
        push(close, "}}", at);
        return;
      }
      if (c == '\'' || c == '"') {
        push(Tok::String, lex_string(c), at);
        continue;
      }
      if (is_digit(c)) {
        size_t st = pos_;
        while (pos_ < s.size() && is_digit(s[pos_])) ++pos_;
        bool is_float = false;
        if (pos_ + 1 < s.size() && s[pos_] == '.' && is_digit(s[pos_ + 1]) &&
            !(out_.size() && out_.back().type == Tok::Op && out_.back().text == ".")) {
          is_float = true;
          ++pos_;
          while (pos_ < s.size() && is_digit(s[pos_])) ++pos_;
        }
        push(is_float ? Tok::Float : Tok::Int, s.substr(st, pos_ - st), at);
        continue;
      }
      if (is_word(c)) {
        size_t st = pos_;
        while (pos_ < s.size() && is_word(s[pos_])) ++pos_;
        push(Tok::Name, s.substr(st, pos_ - st), at);
        continue;
      }
      static const char* const kOps[] = {"**", "//", "==", "!=", "<=", ">=", "(", ")", "[", "]", "{", "}", ",",
                                         ".",  ":",  "|",  "<",  ">",  "+",  "-", "~", "*", "/", "%", "="};
      bool matched = false;
      for (const char* op : kOps) {
        size_t len = op[1] ? 2 : 1;
        if (s.compare(pos_, len, op) == 0) {
          if (op[0] == '{' ) ++braces;
          if (op[0] == '}' && braces > 0) --braces;
          push(Tok::Op, op, at);
          pos_ += len;
          matched = true;
          break;
        }
      }
      if (!matched) fail(std::string("unexpected character '") + c + "' in tag", at);
    }
  }

  std::string lex_string(char quote) {
    const std::string& s = src_.text;
    size_t start = pos_;
    ++pos_;
    std::string out;
    while (true) {
      if (pos_ >= s.size()) fail("unterminated string literal", start);
      char c = s[pos_++];
      if (c == quote) return out;
      if (c != '\\') { out += c; continue; }
      if (pos_ >= s.size()) fail("unterminated string literal", start);
      char e = s[pos_++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case 'x': case 'u': {
          size_t len = e == 'x' ? 2 : 4;
          uint32_t cp = 0;
          for (size_t k = 0; k < len; ++k) {
            char h = pos_ < s.size() ? s[pos_] : '\0';
            int d = is_digit(h) ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10 : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
            if (d < 0) fail(std::string("invalid \\") + e + " escape in string literal", pos_);
            cp = cp * 16 + uint32_t(d);
            ++pos_;
          }
          // Encode as UTF-8 (lone surrogates as their 3-byte form).
          if (cp < 0x80) out += char(cp);
          else if (cp < 0x800) { out += char(0xc0 | (cp >> 6)); out += char(0x80 | (cp & 63)); }
          else { out += char(0xe0 | (cp >> 12)); out += char(0x80 | ((cp >> 6) & 63)); out += char(0x80 | (cp & 63)); }
          break;
        }
        default: fail(std::string("unexpected escape \\") + e + " in string literal", pos_ - 2);
      }
    }
  }

  std::string_view orig_;
  Source src_;
  size_t pos_ = 0;
  std::vector<Token> out_;
};

}  // namespace

std::vector<Token> tokenize(std::string_view source) { return Lexer(source).run(); }

}  // namespace keel::jinja
