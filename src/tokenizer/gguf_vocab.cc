#include "tokenizer/gguf_vocab.h"

#include <cmath>
#include <string_view>

#include "core/utf8.h"
#include "formats/gguf.h"

namespace keel::tok {

namespace {

constexpr std::string_view kModel = "tokenizer.ggml.model";
constexpr std::string_view kPre = "tokenizer.ggml.pre";
constexpr std::string_view kTokens = "tokenizer.ggml.tokens";
constexpr std::string_view kScores = "tokenizer.ggml.scores";
constexpr std::string_view kTypes = "tokenizer.ggml.token_type";
constexpr std::string_view kMerges = "tokenizer.ggml.merges";

// Items reported per array before the rest are only counted.
constexpr size_t kMaxItemProblems = 5;

bool is_integer_type(GgufValueType t) {
  switch (t) {
    case GgufValueType::U8: case GgufValueType::I8: case GgufValueType::U16: case GgufValueType::I16:
    case GgufValueType::U32: case GgufValueType::I32: case GgufValueType::U64: case GgufValueType::I64:
      return true;
    default:
      return false;
  }
}
bool is_number_type(GgufValueType t) {
  return is_integer_type(t) || t == GgufValueType::F32 || t == GgufValueType::F64;
}

std::string describe(const GgufValue& v) {
  if (const GgufArray* a = v.as_array())
    return str_cat("an array of ", gguf_value_type_name(a->elem_type), " (", a->items.size(), " items)");
  return std::string(gguf_value_type_name(v.type));
}

// Collects problems, each naming its key.
class Checker {
 public:
  explicit Checker(const GgufFile& f) : f_(f) {}

  void problem(std::string_view key, std::string_view what) {
    problems_.push_back(str_cat(f_.source(), ": key '", key, "': ", what));
  }
  bool ok() const { return problems_.empty(); }
  Status status() const {
    std::string all;
    for (const std::string& p : problems_) {
      if (!all.empty()) all += '\n';
      all += p;
    }
    return Error(all);
  }

  std::optional<std::string> string(std::string_view key, bool required) {
    const GgufValue* v = f_.find(key);
    if (!v) {
      if (required) problem(key, "missing");
      return std::nullopt;
    }
    if (const std::string* s = v->as_string()) return *s;
    problem(key, str_cat("expected a string, got ", describe(*v)));
    return std::nullopt;
  }

  std::optional<bool> boolean(std::string_view key) {
    const GgufValue* v = f_.find(key);
    if (!v) return std::nullopt;
    if (const bool* b = std::get_if<bool>(&v->value)) return *b;
    problem(key, str_cat("expected a bool, got ", describe(*v)));
    return std::nullopt;
  }

  // An array whose items are `want` (a description) per `item_ok`; nullptr
  // (and a problem if required) otherwise.
  const GgufArray* array(std::string_view key, bool required, const char* want, bool (*item_ok)(GgufValueType)) {
    const GgufValue* v = f_.find(key);
    if (!v) {
      if (required) problem(key, "missing");
      return nullptr;
    }
    const GgufArray* a = v->as_array();
    if (!a || !item_ok(a->elem_type)) {
      problem(key, str_cat("expected an array of ", want, ", got ", describe(*v)));
      return nullptr;
    }
    return a;
  }

  // A token id: an unsigned integer below n_tokens (when the tokens are known).
  std::optional<uint32_t> id(std::string_view key, std::optional<size_t> n_tokens) {
    const GgufValue* v = f_.find(key);
    if (!v) return std::nullopt;
    if (!is_integer_type(v->type)) {
      problem(key, str_cat("expected a token id (u32), got ", describe(*v)));
      return std::nullopt;
    }
    std::optional<int64_t> i = v->as_int();
    if (!i || *i < 0 || *i > INT32_MAX) {
      problem(key, str_cat("token id ", v->to_display_string(), " is not in 0..", INT32_MAX));
      return std::nullopt;
    }
    if (n_tokens && static_cast<uint64_t>(*i) >= *n_tokens) {
      problem(key, str_cat("token id ", *i, " is out of range: the vocabulary has ", *n_tokens, " tokens"));
      return std::nullopt;
    }
    return static_cast<uint32_t>(*i);
  }

 private:
  const GgufFile& f_;
  std::vector<std::string> problems_;
};

// "... and N more" after kMaxItemProblems item problems of one array.
class ItemProblems {
 public:
  ItemProblems(Checker& c, std::string_view key) : c_(c), key_(key) {}
  ~ItemProblems() {
    if (n_ > kMaxItemProblems) c_.problem(key_, str_cat(n_ - kMaxItemProblems, " more items with problems"));
  }
  void add(size_t index, std::string_view what) {
    if (++n_ <= kMaxItemProblems) c_.problem(key_, str_cat("item ", index, ": ", what));
  }
  size_t count() const { return n_; }

 private:
  Checker& c_;
  std::string_view key_;
  size_t n_ = 0;
};

bool is_string_type(GgufValueType t) { return t == GgufValueType::String; }

// True if the array was read (its items may still have problems).
bool read_tokens(Checker& c, GgufVocab& v) {
  const GgufArray* a = c.array(kTokens, true, "string", is_string_type);
  if (!a) return false;
  if (a->items.empty()) {
    c.problem(kTokens, "has no tokens");
    return false;
  }
  if (a->items.size() > INT32_MAX) {
    c.problem(kTokens, str_cat(a->items.size(), " tokens is more than token ids can number"));
    return false;
  }
  ItemProblems bad(c, kTokens);
  v.tokens.reserve(a->items.size());
  for (size_t i = 0; i < a->items.size(); ++i) {
    const std::string* s = a->items[i].as_string();
    std::string text = s ? *s : std::string();
    const size_t invalid = find_invalid_utf8(text);
    if (invalid != std::string_view::npos) {
      bad.add(i, str_cat("\"", printable(text, 40), "\" is not valid UTF-8 (byte ", invalid, ")"));
      text.clear();
    }
    if (text.empty()) text = str_cat("[EMPTY_", i, "]");
    v.tokens.push_back(std::move(text));
  }
  return true;
}

// A per-token array must have exactly one item per token.
bool same_length(Checker& c, std::string_view key, const GgufArray& a, const GgufVocab& v) {
  if (a.items.size() == v.tokens.size()) return true;
  c.problem(key, str_cat("has ", a.items.size(), " items but ", kTokens, " has ", v.tokens.size()));
  return false;
}

void read_scores(Checker& c, GgufVocab& v, bool have_tokens) {
  const bool required = v.kind == GgufTokenizerKind::Llama;
  const GgufArray* a = c.array(kScores, required && have_tokens, "numbers (f32)", is_number_type);
  if (!a || !have_tokens || !same_length(c, kScores, *a, v)) return;
  ItemProblems bad(c, kScores);
  v.scores.reserve(a->items.size());
  for (size_t i = 0; i < a->items.size(); ++i) {
    const double d = a->items[i].as_double().value_or(NAN);
    const float f = static_cast<float>(d);
    if (!std::isfinite(f)) bad.add(i, str_cat("score ", d, " is not a finite f32"));
    v.scores.push_back(f);
  }
}

void read_types(Checker& c, GgufVocab& v, bool have_tokens) {
  v.types.assign(v.tokens.size(), GgufTokenType::Normal);
  const GgufArray* a = c.array(kTypes, false, "integers (i32)", is_integer_type);
  if (!a || !have_tokens || !same_length(c, kTypes, *a, v)) return;
  ItemProblems bad(c, kTypes);
  for (size_t i = 0; i < a->items.size(); ++i) {
    const std::optional<int64_t> t = a->items[i].as_int();
    if (!t || *t < 0 || *t > static_cast<int64_t>(GgufTokenType::Byte)) {
      bad.add(i, str_cat("unknown token type ", a->items[i].to_display_string(), " (expected 0..6)"));
      continue;
    }
    v.types[i] = static_cast<GgufTokenType>(*t);
  }
}

void read_merges(Checker& c, GgufVocab& v) {
  const GgufArray* a = c.array(kMerges, true, "string", is_string_type);
  if (!a) return;
  ItemProblems bad(c, kMerges);
  v.merges.reserve(a->items.size());
  for (size_t i = 0; i < a->items.size(); ++i) {
    const std::string* s = a->items[i].as_string();
    // llama.cpp splits at the first space after the first byte.
    const size_t space = s && !s->empty() ? s->find(' ', 1) : std::string::npos;
    if (space == std::string::npos) {
      bad.add(i, str_cat("\"", printable(s ? *s : std::string(), 40), "\" is not \"left right\""));
      continue;
    }
    v.merges.emplace_back(s->substr(0, space), s->substr(space + 1));
  }
}

}  // namespace

Result<GgufVocab> read_gguf_vocab(const GgufFile& file) {
  Checker c(file);
  GgufVocab v;
  v.source = file.source();

  std::optional<std::string> kind = c.string(kModel, true);
  bool kind_ok = false;
  if (kind) {
    v.kind_name = *kind;
    kind_ok = true;
    if (*kind == "llama") v.kind = GgufTokenizerKind::Llama;
    else if (*kind == "gpt2") v.kind = GgufTokenizerKind::Gpt2;
    else if (*kind == "bert") v.kind = GgufTokenizerKind::Bert;
    else if (*kind == "gemma4") v.kind = GgufTokenizerKind::Gemma4;
    else {
      kind_ok = false;
      c.problem(kModel, str_cat("unknown tokenizer model \"", printable(*kind),
                                "\" (keel reads llama (SentencePiece), gpt2 (byte-level BPE), bert (WordPiece) and gemma4)"));
    }
  }
  if (std::optional<std::string> pre = c.string(kPre, false)) v.pre = *pre;

  const bool have_tokens = read_tokens(c, v);
  if (kind_ok) {
    read_scores(c, v, have_tokens);
    read_types(c, v, have_tokens);
    if (v.kind == GgufTokenizerKind::Gpt2 || v.kind == GgufTokenizerKind::Gemma4) read_merges(c, v);
  }

  const std::optional<size_t> n = have_tokens ? std::optional<size_t>(v.tokens.size()) : std::nullopt;
  auto bos = c.id("tokenizer.ggml.bos_token_id", n);
  auto eos = c.id("tokenizer.ggml.eos_token_id", n);
  auto unk = c.id("tokenizer.ggml.unknown_token_id", n);
  auto sep = c.id("tokenizer.ggml.seperator_token_id", n);  // sic, llama.cpp's spelling
  auto pad = c.id("tokenizer.ggml.padding_token_id", n);
  auto cls = c.id("tokenizer.ggml.cls_token_id", n);
  auto mask = c.id("tokenizer.ggml.mask_token_id", n);
  auto add_bos = c.boolean("tokenizer.ggml.add_bos_token");
  auto add_eos = c.boolean("tokenizer.ggml.add_eos_token");
  auto add_sep = c.boolean("tokenizer.ggml.add_sep_token");
  auto add_space_prefix = c.boolean("tokenizer.ggml.add_space_prefix");
  auto lowercase = c.boolean("tokenizer.ggml.normalizer.lowercase");
  auto strip_accents = c.boolean("tokenizer.ggml.normalizer.strip_accents");
  if (!c.ok()) return c.status();

  // llama.cpp's defaults per kind, where the file is silent.
  auto dflt = [&](std::optional<uint32_t> id, uint32_t fallback) -> std::optional<uint32_t> {
    if (id) return id;
    if (fallback < v.tokens.size()) return fallback;
    return std::nullopt;
  };
  bool dflt_bos = false, dflt_sep = false;
  switch (v.kind) {
    case GgufTokenizerKind::Llama:
      bos = dflt(bos, 1);
      eos = dflt(eos, 2);
      unk = dflt(unk, 0);
      dflt_bos = true;
      break;
    case GgufTokenizerKind::Bert:
      bos = dflt(bos ? bos : cls, 101);
      unk = dflt(unk, 100);
      sep = dflt(sep, 102);
      pad = dflt(pad, 0);
      mask = dflt(mask, 103);
      dflt_bos = dflt_sep = true;
      break;
    case GgufTokenizerKind::Gpt2:
    case GgufTokenizerKind::Gemma4:
      break;
  }
  v.bos = bos, v.eos = eos, v.unk = unk, v.sep = sep, v.pad = pad, v.mask = mask;
  // A flag the file sets needs its token; a default one is dropped without it.
  auto flag = [&](std::optional<bool> set, bool dflt_on, std::optional<uint32_t> id, std::string_view key,
                  std::string_view id_key) {
    if (set && *set && !id) c.problem(key, str_cat("is true but there is no such token (", id_key, ")"));
    return set ? *set : dflt_on && id.has_value();
  };
  v.add_bos = flag(add_bos, dflt_bos, v.bos, "tokenizer.ggml.add_bos_token", "tokenizer.ggml.bos_token_id");
  v.add_eos = flag(add_eos, false, v.eos, "tokenizer.ggml.add_eos_token", "tokenizer.ggml.eos_token_id");
  v.add_sep = flag(add_sep, dflt_sep, v.sep, "tokenizer.ggml.add_sep_token", "tokenizer.ggml.seperator_token_id");
  v.add_space_prefix = add_space_prefix.value_or(true);
  v.lowercase = lowercase.value_or(true);
  v.strip_accents = strip_accents.value_or(v.lowercase);
  if (!c.ok()) return c.status();
  return v;
}

}  // namespace keel::tok
