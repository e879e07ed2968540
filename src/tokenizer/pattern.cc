// Regex on PCRE2 (JIT-compiled), and HF's Pattern::find_matches for the three
// pattern kinds.
//
// HF tokenizers builds its regexes with Oniguruma (the `onig` feature, on in the
// Python and Node bindings). Differences that matter and how they are bridged:
//  - \s \w \d and POSIX classes are Unicode-aware in Oniguruma: PCRE2_UCP.
//  - Empty matches: Oniguruma's find_iter (rust-onig FindMatches) yields an empty
//    match unless it ends where the previous match ended; then it retries one
//    char further. find_all reproduces that loop exactly.
//  - Unicode version: Oniguruma's tables are newer than PCRE2's here, so \p{L},
//    \p{N} and \p{P} (and \P{..}) are rewritten into explicit classes of the
//    code points HF tokenizers itself puts in them (measured, see
//    pre_tokenizers/unicode_tables.h).
#include "tokenizer/pattern.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cstdio>
#include <cstring>
#include <mutex>

#include "tokenizer/pre_tokenizers/unicode_tables.h"
#include "tokenizer/unicode_util.h"

namespace keel::tok {

namespace {

// One match_data and one JIT stack per thread, shared by every Regex: a match
// needs only one ovector pair, and the JIT stack is reused between calls.
struct ThreadMatchState {
  pcre2_match_data* md = nullptr;
  pcre2_jit_stack* stack = nullptr;
  pcre2_match_context* ctx = nullptr;
  ThreadMatchState() {
    md = pcre2_match_data_create(1, nullptr);
    stack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, nullptr);
    ctx = pcre2_match_context_create(nullptr);
    if (ctx && stack) pcre2_jit_stack_assign(ctx, nullptr, stack);
  }
  ~ThreadMatchState() {
    if (ctx) pcre2_match_context_free(ctx);
    if (stack) pcre2_jit_stack_free(stack);
    if (md) pcre2_match_data_free(md);
  }
};

ThreadMatchState& thread_state() {
  thread_local ThreadMatchState state;
  return state;
}

// The class bit of a property name Oniguruma and PCRE2 both know (0 if keel has
// no measured table for it).
uint8_t property_bit(std::string_view name) {
  if (name == "L" || name == "Letter") return kLetter;
  if (name == "N" || name == "Number") return kNumber;
  if (name == "P" || name == "Punctuation") return kOnigPunct;
  return 0;
}

// Class contents "\x{a}-\x{b}..." for every code point (surrogates excluded)
// whose class has `bit`, or with `negated` every one whose class has not.
const std::string& class_ranges(uint8_t bit, bool negated) {
  static std::string cache[4][2];
  static std::once_flag once[4][2];
  const int slot = bit == kLetter ? 0 : bit == kNumber ? 1 : bit == kOnigPunct ? 2 : 3;
  std::call_once(once[slot][negated], [&] {
    const UnicodeTables& t = UnicodeTables::get();
    auto in = [&](uint32_t c) {
      return (c < 0xd800 || c > 0xdfff) && ((t.classes(c) & bit) != 0) != negated;
    };
    std::string out;
    char buf[40];
    for (uint32_t c = 0; c < 0x110000; ++c) {
      if (!in(c)) continue;
      const uint32_t first = c;
      while (c + 1 < 0x110000 && in(c + 1)) ++c;
      if (first == c) std::snprintf(buf, sizeof buf, "\\x{%X}", first);
      else std::snprintf(buf, sizeof buf, "\\x{%X}-\\x{%X}", first, c);
      out += buf;
    }
    cache[slot][negated] = std::move(out);
  });
  return cache[slot][negated];
}

// A property as PCRE2 pattern text: inside a class its ranges, outside a class.
void append_class(std::string& out, uint8_t bit, bool negated, bool in_class) {
  if (!in_class) out += '[';
  out += class_ranges(bit, negated);
  if (!in_class) out += ']';
}

// Rewrites Oniguruma (Ruby syntax) escapes PCRE2 reads differently: \p{X} /
// \P{X} / \p{^X} for the properties above and \s / \S become explicit classes
// of the code points HF tokenizers puts in them, \pX without braces is a literal
// letter, \h / \H are hex digits.
std::string rewrite_properties(std::string_view pattern) {
  std::string out;
  out.reserve(pattern.size());
  bool in_class = false;
  size_t i = 0;
  while (i < pattern.size()) {
    char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      char e = pattern[i + 1];
      if (e == 'Q') {  // \Q...\E is literal
        size_t end = pattern.find("\\E", i + 2);
        size_t stop = end == std::string_view::npos ? pattern.size() : end + 2;
        out.append(pattern.substr(i, stop - i));
        i = stop;
        continue;
      }
      if (e == 'p' || e == 'P') {
        if (i + 2 >= pattern.size() || pattern[i + 2] != '{') {
          // Oniguruma's Ruby syntax has no one-letter \pL: it is the letter p.
          out += e;
          i += 2;
          continue;
        }
        size_t close = pattern.find('}', i + 3);
        if (close == std::string_view::npos) { out += pattern.substr(i); break; }
        std::string_view name = pattern.substr(i + 3, close - (i + 3));
        const size_t stop = close + 1;
        bool negated = e == 'P';
        if (!name.empty() && name[0] == '^') { negated = !negated; name.remove_prefix(1); }
        if (uint8_t bit = property_bit(name)) append_class(out, bit, negated, in_class);
        else out.append(pattern.substr(i, stop - i));
        i = stop;
        continue;
      }
      if (e == 's' || e == 'S') {  // Oniguruma's \s (PCRE2's adds U+180E)
        append_class(out, kSpace, e == 'S', in_class);
        i += 2;
        continue;
      }
      if (e == 'h' || e == 'H') {  // Oniguruma: a hex digit (PCRE2: horizontal space)
        if (!in_class) out += '[';
        out += e == 'h' ? "0-9a-fA-F" : "\\x{0}-\\x{2F}\\x{3A}-\\x{40}\\x{47}-\\x{60}\\x{67}-\\x{D7FF}\\x{E000}-\\x{10FFFF}";
        if (!in_class) out += ']';
        i += 2;
        continue;
      }
      out.append(pattern.substr(i, 2));
      i += 2;
      continue;
    }
    if (in_class) {
      if (c == '[' && i + 1 < pattern.size() && pattern[i + 1] == ':') {  // [:alpha:]
        size_t close = pattern.find(":]", i + 2);
        if (close != std::string_view::npos) {
          out.append(pattern.substr(i, close + 2 - i));
          i = close + 2;
          continue;
        }
      }
      if (c == ']') in_class = false;
      out += c;
      ++i;
      continue;
    }
    if (c == '[') {
      in_class = true;
      out += c;
      ++i;
      // A ']' right after '[' or '[^' is a literal.
      if (i < pattern.size() && pattern[i] == '^') { out += '^'; ++i; }
      if (i < pattern.size() && pattern[i] == ']') { out += ']'; ++i; }
      continue;
    }
    out += c;
    ++i;
  }
  return out;
}

}  // namespace

struct Regex::Impl {
  pcre2_code* code = nullptr;
  bool jit = false;
  ~Impl() {
    if (code) pcre2_code_free(code);
  }
};

Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;
Regex::~Regex() = default;

Result<Regex> Regex::compile(std::string_view pattern) {
  int err = 0;
  PCRE2_SIZE err_off = 0;
  // Oniguruma's default (Ruby) syntax: ^ and $ are line anchors.
  const uint32_t options = PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE;
  const std::string rewritten = rewrite_properties(pattern);
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(rewritten.data()),
                                   rewritten.size(), options, &err, &err_off, nullptr);
  if (!code && rewritten != pattern) {  // report the error at its place in the original
    pcre2_code* orig = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                     options, &err, &err_off, nullptr);
    if (orig) pcre2_code_free(orig);
  }
  if (!code) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(err, buf, sizeof(buf));
    return Error("invalid regex '", pattern, "' at offset ", err_off, ": ",
                 reinterpret_cast<const char*>(buf));
  }
  Regex re;
  re.impl_ = std::make_unique<Impl>();
  re.impl_->code = code;
  re.impl_->jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  re.pattern_ = std::string(pattern);
  return re;
}

Status Regex::find_all(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const {
  if (!impl_ || !impl_->code) return Error("regex not compiled");
  ThreadMatchState& ts = thread_state();
  if (!ts.md) return Error("out of memory creating regex match data");
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  const size_t len = text.size();
  size_t last_end = 0;
  bool have_last = false;
  size_t last_match_end = 0;
  while (last_end <= len) {
    // Input was validated as UTF-8 once at the API boundary.
    int rc = impl_->jit ? pcre2_jit_match(impl_->code, subject, len, last_end, PCRE2_NO_UTF_CHECK,
                                          ts.md, ts.ctx)
                        : pcre2_match(impl_->code, subject, len, last_end, PCRE2_NO_UTF_CHECK,
                                      ts.md, ts.ctx);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT)  // deep backtracking: the interpreter copes
      rc = pcre2_match(impl_->code, subject, len, last_end, PCRE2_NO_UTF_CHECK, ts.md, nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      PCRE2_UCHAR buf[256];
      pcre2_get_error_message(rc, buf, sizeof(buf));
      return Error("regex '", pattern_, "' failed: ", reinterpret_cast<const char*>(buf));
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(ts.md);
    size_t s = ov[0], e = ov[1];
    if (s > e) {  // \K in a lookahead can do this; treat as empty at e
      s = e;
    }
    if (s == e && have_last && last_match_end == e) {
      // An empty match right where the previous match ended: skip one char.
      last_end += last_end < len ? utf8_char_len(static_cast<unsigned char>(text[last_end])) : 1;
      continue;
    }
    out.emplace_back(s, e);
    last_end = e;
    have_last = true;
    last_match_end = e;
  }
  return Status::Ok();
}

Pattern Pattern::literal(std::string s) {
  Pattern p;
  p.kind_ = Kind::Literal;
  p.literal_ = std::move(s);
  return p;
}

Pattern Pattern::predicate(std::function<bool(char32_t)> f) {
  Pattern p;
  p.kind_ = Kind::Predicate;
  p.predicate_ = std::move(f);
  return p;
}

Pattern Pattern::regex(std::shared_ptr<const Regex> re) {
  Pattern p;
  p.kind_ = Kind::Regex;
  p.regex_ = std::move(re);
  return p;
}

Status Pattern::find_matches(std::string_view text,
                             std::vector<std::pair<std::pair<size_t, size_t>, bool>>& out) const {
  out.clear();
  switch (kind_) {
    case Kind::Literal: {
      if (literal_.empty()) {
        // HF returns (0, number of chars) here, in chars although every other
        // range is in bytes; kept for parity.
        size_t chars = 0;
        for (unsigned char c : text) chars += (c & 0xc0) != 0x80;
        out.push_back({{0, chars}, false});
        return Status::Ok();
      }
      if (text.empty()) {
        out.push_back({{0, 0}, false});
        return Status::Ok();
      }
      size_t prev = 0;
      size_t pos = text.find(literal_);
      while (pos != std::string_view::npos) {
        if (pos != prev) out.push_back({{prev, pos}, false});
        out.push_back({{pos, pos + literal_.size()}, true});
        prev = pos + literal_.size();
        pos = text.find(literal_, prev);
      }
      if (prev != text.size()) out.push_back({{prev, text.size()}, false});
      return Status::Ok();
    }
    case Kind::Predicate: {
      if (text.empty()) {
        out.push_back({{0, 0}, false});
        return Status::Ok();
      }
      size_t last_offset = 0;
      size_t i = 0;
      while (i < text.size()) {
        size_t b = i;
        char32_t c = decode_utf8(text, i);
        if (predicate_(c)) {
          if (last_offset < b) out.push_back({{last_offset, b}, false});
          out.push_back({{b, i}, true});
          last_offset = i;
        }
      }
      if (text.size() > last_offset) out.push_back({{last_offset, text.size()}, false});
      return Status::Ok();
    }
    case Kind::Regex: {
      if (text.empty()) {
        out.push_back({{0, 0}, false});
        return Status::Ok();
      }
      if (!regex_) return Error("pattern has no regex");
      thread_local std::vector<std::pair<size_t, size_t>> found;
      found.clear();
      KEEL_RETURN_IF_ERROR(regex_->find_all(text, found));
      size_t prev = 0;
      for (auto [s, e] : found) {
        if (prev != s) out.push_back({{prev, s}, false});
        out.push_back({{s, e}, true});
        prev = e;
      }
      if (prev != text.size()) out.push_back({{prev, text.size()}, false});
      return Status::Ok();
    }
  }
  return Status::Ok();
}

}  // namespace keel::tok
