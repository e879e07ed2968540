// Tokenizer::from_gguf on small GGUF files written with GgufWriter: the three
// kinds on toy vocabularies (expected ids worked out by hand from llama.cpp's
// algorithms: SentencePiece merges by score, WordPiece longest match), then
// malformed tokenizer.ggml.* metadata, which must give an error naming the key
// (and every problem found), never a crash. The real vocabularies are checked
// against HF tokenizers by test_llama_vocab.py.
#include "tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "formats/gguf.h"

namespace keel::tok {
namespace {

using V = GgufValue;
using T = GgufValueType;

V strs(const std::vector<std::string>& items) {
  std::vector<V> v;
  for (const auto& s : items) v.push_back(V::str(s));
  return V::array(T::String, std::move(v));
}
V f32s(const std::vector<float>& items) {
  std::vector<V> v;
  for (float f : items) v.push_back(V::f32(f));
  return V::array(T::F32, std::move(v));
}
V i32s(const std::vector<int32_t>& items) {
  std::vector<V> v;
  for (int32_t i : items) v.push_back(V::i32(i));
  return V::array(T::I32, std::move(v));
}

// Metadata in insertion order; set() replaces, erase() drops.
struct Meta {
  std::vector<std::pair<std::string, V>> kv;
  Meta& set(const std::string& k, V v) {
    for (auto& [key, value] : kv)
      if (key == k) {
        value = std::move(v);
        return *this;
      }
    kv.emplace_back(k, std::move(v));
    return *this;
  }
  Meta& erase(const std::string& k) {
    std::erase_if(kv, [&](const auto& p) { return p.first == k; });
    return *this;
  }
};

std::vector<uint8_t> gguf_bytes(const Meta& m) {
  GgufWriter w;
  for (const auto& [k, v] : m.kv) w.set(k, v);
  auto bytes = w.write_to_memory([](size_t, std::span<uint8_t>) { return Status::Ok(); });
  EXPECT_TRUE(bytes.ok()) << bytes.error();
  return bytes.ok() ? *bytes : std::vector<uint8_t>();
}

Result<Tokenizer> load(const Meta& m) {
  const std::vector<uint8_t> bytes = gguf_bytes(m);
  auto file = GgufFile::parse(bytes, "tok.gguf");
  if (!file.ok()) return file.status();
  return Tokenizer::from_gguf(*file);
}

// The error of a load that must fail.
std::string load_error(const Meta& m) {
  auto t = load(m);
  EXPECT_FALSE(t.ok());
  return t.ok() ? std::string() : t.error();
}

#define EXPECT_HAS(haystack, needle) \
  EXPECT_NE((haystack).find(needle), std::string::npos) << "'" << (haystack) << "' lacks '" << (needle) << "'"

const std::string kSp = "\u2581";

// SentencePiece: the scores make "▁hello" by ▁h, ll, ▁he, llo, ▁hello.
Meta spm() {
  Meta m;
  m.set("tokenizer.ggml.model", V::str("llama"));
  m.set("tokenizer.ggml.tokens", strs({"<unk>", "<s>", "</s>", kSp, "h", "e", "l", "o", kSp + "h", "ll",
                                        kSp + "he", "llo", kSp + "hello", "<0x21>", "ab", "bc", "a", "b", "c"}));
  m.set("tokenizer.ggml.scores", f32s({0, 0, 0, -10, -10, -10, -10, -10, -1, -2, -3, -4, -5, 0, -7, -7, -9, -9, -9}));
  m.set("tokenizer.ggml.token_type", i32s({2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 6, 1, 1, 1, 1, 1}));
  m.set("tokenizer.ggml.bos_token_id", V::u32(1));
  m.set("tokenizer.ggml.eos_token_id", V::u32(2));
  m.set("tokenizer.ggml.unknown_token_id", V::u32(0));
  return m;
}

Meta gpt2() {
  Meta m;
  m.set("tokenizer.ggml.model", V::str("gpt2"));
  m.set("tokenizer.ggml.pre", V::str("gpt-2"));
  m.set("tokenizer.ggml.tokens", strs({"h", "e", "l", "o", "\u0120", "he", "ll", "hell", "hello", "\u0120h",
                                        "<|endoftext|>"}));
  m.set("tokenizer.ggml.token_type", i32s({1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3}));
  m.set("tokenizer.ggml.merges", strs({"h e", "l l", "he ll", "hell o", "\u0120 h"}));
  m.set("tokenizer.ggml.eos_token_id", V::u32(10));
  return m;
}

// WordPiece as llama.cpp's converter stores it: "##s" as "s", "hello" as "▁hello".
Meta bert() {
  Meta m;
  m.set("tokenizer.ggml.model", V::str("bert"));
  m.set("tokenizer.ggml.pre", V::str("bert-bge"));
  m.set("tokenizer.ggml.tokens", strs({"[PAD]", "[UNK]", "[CLS]", "[SEP]", kSp + "hello", kSp + "world", "s"}));
  m.set("tokenizer.ggml.token_type", i32s({3, 3, 3, 3, 1, 1, 1}));
  m.set("tokenizer.ggml.unknown_token_id", V::u32(1));
  m.set("tokenizer.ggml.cls_token_id", V::u32(2));
  m.set("tokenizer.ggml.seperator_token_id", V::u32(3));
  m.set("tokenizer.ggml.padding_token_id", V::u32(0));
  return m;
}

std::vector<uint32_t> ids(const Tokenizer& t, std::string_view text, bool special = false) {
  auto e = t.encode(text, special);
  EXPECT_TRUE(e.ok()) << e.error();
  return e.ok() ? e->ids : std::vector<uint32_t>();
}

TEST(GgufTokenizer, SentencePieceMergesByScore) {
  auto t = load(spm());
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ(ids(*t, "hello"), (std::vector<uint32_t>{12}));
  // add_bos defaults to true for llama vocabularies; bos is <s>.
  EXPECT_EQ(ids(*t, "hello", true), (std::vector<uint32_t>{1, 12}));
  // "!" is no piece: its byte token. "é" has neither: unk, and two unks fuse.
  EXPECT_EQ(ids(*t, "hello!"), (std::vector<uint32_t>{12, 13}));
  auto e = t->encode("héé", false);
  ASSERT_TRUE(e.ok()) << e.error();
  EXPECT_EQ(e->ids, (std::vector<uint32_t>{8, 0}));
  // The prepended "▁" takes the first char's offsets; offsets count chars.
  EXPECT_EQ(e->offsets, (std::vector<std::pair<size_t, size_t>>{{0, 1}, {1, 3}}));
  // Control tokens in the text are the tokens.
  EXPECT_EQ(ids(*t, "hello</s>"), (std::vector<uint32_t>{12, 2}));
  auto d = t->decode(std::vector<uint32_t>{1, 12, 13}, true);
  ASSERT_TRUE(d.ok()) << d.error();
  EXPECT_EQ(*d, "hello!");
}

TEST(GgufTokenizer, SentencePieceTiesGoToTheLeftmostPair) {
  // "ab" and "bc" score alike: the left pair merges first, leaving "c".
  auto t = load(spm().set("tokenizer.ggml.add_space_prefix", V::boolean(false)));
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ(ids(*t, "abc"), (std::vector<uint32_t>{14, 18}));
  // A better-scoring right pair wins.
  Meta m = spm().set("tokenizer.ggml.add_space_prefix", V::boolean(false));
  m.set("tokenizer.ggml.scores", f32s({0, 0, 0, -10, -10, -10, -10, -10, -1, -2, -3, -4, -5, 0, -7, -6, -9, -9, -9}));
  auto u = load(m);
  ASSERT_TRUE(u.ok()) << u.error();
  EXPECT_EQ(ids(*u, "abc"), (std::vector<uint32_t>{16, 15}));
}

TEST(GgufTokenizer, ByteLevelBpe) {
  auto t = load(gpt2());
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ(ids(*t, "hello"), (std::vector<uint32_t>{8}));
  EXPECT_EQ(ids(*t, "hello h<|endoftext|>"), (std::vector<uint32_t>{8, 9, 10}));
  // gpt2 vocabularies add nothing by default.
  EXPECT_EQ(ids(*t, "hello", true), (std::vector<uint32_t>{8}));
  auto t2 = load(gpt2().set("tokenizer.ggml.add_eos_token", V::boolean(true)));
  ASSERT_TRUE(t2.ok()) << t2.error();
  EXPECT_EQ(ids(*t2, "hello", true), (std::vector<uint32_t>{8, 10}));
}

TEST(GgufTokenizer, Gemma4BpeOverSpacedText) {
  Meta m;
  m.set("tokenizer.ggml.model", V::str("gemma4"));
  m.set("tokenizer.ggml.tokens", strs({"<pad>", "<eos>", "<bos>", "<unk>", kSp, "h", "e", "l", "o", "he", "ll", "hell",
                                        "hello", kSp + "hello", "<0x21>"}));
  m.set("tokenizer.ggml.token_type", i32s({3, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 6}));
  m.set("tokenizer.ggml.merges", strs({"h e", "l l", "he ll", "hell o", kSp + " hello"}));
  m.set("tokenizer.ggml.bos_token_id", V::u32(2));
  m.set("tokenizer.ggml.unknown_token_id", V::u32(3));
  m.set("tokenizer.ggml.add_bos_token", V::boolean(true));
  auto t = load(m);
  ASSERT_TRUE(t.ok()) << t.error();
  // No pre-tokenizer: the merges run over "hello▁hello!" whole; "!" falls back
  // to its byte token.
  EXPECT_EQ(ids(*t, "hello hello!", true), (std::vector<uint32_t>{2, 12, 13, 14}));
  auto d = t->decode(std::vector<uint32_t>{2, 12, 13, 14}, true);
  ASSERT_TRUE(d.ok()) << d.error();
  EXPECT_EQ(*d, "hello hello!");
  EXPECT_HAS(load_error(m.erase("tokenizer.ggml.merges")), "key 'tokenizer.ggml.merges': missing");
}

TEST(GgufTokenizer, WordPieceWithThePhantomSpaceUndone) {
  auto t = load(bert());
  ASSERT_TRUE(t.ok()) << t.error();
  auto e = t->encode("Hello worlds", true);
  ASSERT_TRUE(e.ok()) << e.error();
  EXPECT_EQ(e->ids, (std::vector<uint32_t>{2, 4, 5, 6, 3}));
  EXPECT_EQ(e->tokens, (std::vector<std::string>{"[CLS]", "hello", "world", "##s", "[SEP]"}));
  EXPECT_EQ(ids(*t, "hellos xyz"), (std::vector<uint32_t>{4, 6, 1}));
  auto p = t->encode_pair("hello", "world", true);
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->ids, (std::vector<uint32_t>{2, 4, 3, 5, 3}));
  EXPECT_EQ(p->type_ids, (std::vector<uint32_t>{0, 0, 0, 1, 1}));
  // Without normalizer.lowercase = false the text is lowercased; with it, not.
  auto u = load(bert().set("tokenizer.ggml.normalizer.lowercase", V::boolean(false)));
  ASSERT_TRUE(u.ok()) << u.error();
  EXPECT_EQ(ids(*u, "Hello hello"), (std::vector<uint32_t>{1, 4}));
}

TEST(GgufTokenizer, FromFileTakesAGgufPath) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(KEEL_TEST_TMP) / "gguf_tokenizer_test";
  fs::create_directories(dir);
  GgufWriter w;
  for (const auto& [k, v] : spm().kv) w.set(k, v);
  const auto noop = [](size_t, std::span<uint8_t>) { return Status::Ok(); };
  // By extension, and by the magic under another name.
  for (const char* name : {"vocab.gguf", "vocab.bin"}) {
    const std::string path = (dir / name).string();
    ASSERT_TRUE(w.write(path, noop).ok());
    auto t = Tokenizer::from_file(path);
    ASSERT_TRUE(t.ok()) << t.error();
    EXPECT_EQ(ids(*t, "hello"), (std::vector<uint32_t>{12}));
  }
  auto missing = Tokenizer::from_file((dir / "missing.gguf").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_HAS(missing.error(), "missing.gguf");
}

TEST(GgufTokenizer, MissingKeys) {
  EXPECT_HAS(load_error(spm().erase("tokenizer.ggml.model")), "key 'tokenizer.ggml.model': missing");
  EXPECT_HAS(load_error(spm().erase("tokenizer.ggml.tokens")), "key 'tokenizer.ggml.tokens': missing");
  EXPECT_HAS(load_error(spm().erase("tokenizer.ggml.scores")), "key 'tokenizer.ggml.scores': missing");
  EXPECT_HAS(load_error(gpt2().erase("tokenizer.ggml.merges")), "key 'tokenizer.ggml.merges': missing");
  EXPECT_HAS(load_error(gpt2().erase("tokenizer.ggml.pre")), "key 'tokenizer.ggml.pre': missing");
  // bert's default unk id (100) is past this vocabulary.
  EXPECT_HAS(load_error(bert().erase("tokenizer.ggml.unknown_token_id")), "tokenizer.ggml.unknown_token_id");
  // token_type is optional: every token is then normal.
  EXPECT_TRUE(load(spm().erase("tokenizer.ggml.token_type")).ok());
}

TEST(GgufTokenizer, WrongTypes) {
  EXPECT_HAS(load_error(spm().set("tokenizer.ggml.model", V::u32(1))),
             "key 'tokenizer.ggml.model': expected a string, got u32");
  EXPECT_HAS(load_error(spm().set("tokenizer.ggml.tokens", V::str("hello"))),
             "key 'tokenizer.ggml.tokens': expected an array of string, got string");
  EXPECT_HAS(load_error(spm().set("tokenizer.ggml.tokens", i32s({1, 2}))),
             "key 'tokenizer.ggml.tokens': expected an array of string, got an array of i32");
  EXPECT_HAS(load_error(spm().set("tokenizer.ggml.scores", strs(std::vector<std::string>(19, "x")))),
             "key 'tokenizer.ggml.scores': expected an array of numbers");
  EXPECT_HAS(load_error(spm().set("tokenizer.ggml.token_type", f32s(std::vector<float>(19, 1)))),
             "key 'tokenizer.ggml.token_type': expected an array of integers");
  EXPECT_HAS(load_error(gpt2().set("tokenizer.ggml.merges", i32s({1}))),
             "key 'tokenizer.ggml.merges': expected an array of string");
  EXPECT_HAS(load_error(spm().set("tokenizer.ggml.bos_token_id", V::str("1"))),
             "key 'tokenizer.ggml.bos_token_id': expected a token id (u32), got string");
  EXPECT_HAS(load_error(spm().set("tokenizer.ggml.eos_token_id", V::f32(2))),
             "key 'tokenizer.ggml.eos_token_id': expected a token id (u32), got f32");
  EXPECT_HAS(load_error(spm().set("tokenizer.ggml.add_bos_token", V::u8(1))),
             "key 'tokenizer.ggml.add_bos_token': expected a bool, got u8");
  EXPECT_HAS(load_error(gpt2().set("tokenizer.ggml.pre", strs({"gpt-2"}))),
             "key 'tokenizer.ggml.pre': expected a string");
  // Other integer widths are fine for ids and types, integers for scores.
  EXPECT_TRUE(load(spm().set("tokenizer.ggml.bos_token_id", V::i64(1))).ok());
  EXPECT_TRUE(load(spm().set("tokenizer.ggml.scores", i32s(std::vector<int32_t>(19, 0)))).ok());
}

TEST(GgufTokenizer, LengthMismatches) {
  EXPECT_HAS(load_error(spm().set("tokenizer.ggml.scores", f32s({0, 0, 0}))),
             "key 'tokenizer.ggml.scores': has 3 items but tokenizer.ggml.tokens has 19");
  EXPECT_HAS(load_error(spm().set("tokenizer.ggml.token_type", i32s(std::vector<int32_t>(20, 1)))),
             "key 'tokenizer.ggml.token_type': has 20 items but tokenizer.ggml.tokens has 19");
  // Every problem is reported, one per line.
  const std::string both = load_error(
      spm().set("tokenizer.ggml.scores", f32s({0})).set("tokenizer.ggml.token_type", i32s({1})));
  EXPECT_HAS(both, "tok.gguf: key 'tokenizer.ggml.scores': has 1 items");
  EXPECT_HAS(both, "\ntok.gguf: key 'tokenizer.ggml.token_type': has 1 items");
  EXPECT_HAS(load_error(spm().set("tokenizer.ggml.tokens", strs({}))), "key 'tokenizer.ggml.tokens': has no tokens");
}

TEST(GgufTokenizer, OutOfRangeSpecialIds) {
  EXPECT_HAS(load_error(spm().set("tokenizer.ggml.bos_token_id", V::u32(19))),
             "key 'tokenizer.ggml.bos_token_id': token id 19 is out of range: the vocabulary has 19 tokens");
  EXPECT_HAS(load_error(spm().set("tokenizer.ggml.unknown_token_id", V::u32(UINT32_MAX))),
             "key 'tokenizer.ggml.unknown_token_id': token id 4294967295 is not in 0..2147483647");
  EXPECT_HAS(load_error(bert().set("tokenizer.ggml.seperator_token_id", V::i32(-1))),
             "key 'tokenizer.ggml.seperator_token_id': token id -1 is not in 0..");
  // A flag needs its token: gpt2 vocabularies have no default bos.
  EXPECT_HAS(load_error(gpt2().set("tokenizer.ggml.add_bos_token", V::boolean(true))),
             "key 'tokenizer.ggml.add_bos_token': is true but there is no such token (tokenizer.ggml.bos_token_id)");
}

TEST(GgufTokenizer, BadValues) {
  EXPECT_HAS(load_error(spm().set("tokenizer.ggml.model", V::str("t5"))),
             "key 'tokenizer.ggml.model': unknown tokenizer model \"t5\"");
  EXPECT_HAS(load_error(gpt2().set("tokenizer.ggml.pre", V::str("frobnicate"))),
             "key 'tokenizer.ggml.pre': unknown pre-tokenizer \"frobnicate\" (keel knows gpt-2, llama-bpe");
  EXPECT_HAS(load_error(spm().set("tokenizer.ggml.token_type",
                                  i32s({2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 9, 1, 1, 1, 1, 1}))),
             "key 'tokenizer.ggml.token_type': item 13: unknown token type 9 (expected 0..6)");
  Meta nan = spm();
  nan.set("tokenizer.ggml.scores", f32s({0, 0, 0, -10, -10, -10, -10, -10, NAN, -2, -3, -4, -5, 0, -7, -7, -9, -9, -9}));
  EXPECT_HAS(load_error(nan), "key 'tokenizer.ggml.scores': item 8: score nan is not a finite f32");
  EXPECT_HAS(load_error(spm().set("tokenizer.ggml.tokens", strs({"<unk>", "\xff", "x", "y", "z", "a", "b", "c", "d",
                                                                  "e", "f", "g", "h", "i", "j", "k", "l", "m", "n"}))),
             "key 'tokenizer.ggml.tokens': item 1: \"\\xff\" is not valid UTF-8 (byte 0)");
  EXPECT_HAS(load_error(gpt2().set("tokenizer.ggml.merges", strs({"h e", "hello"}))),
             "key 'tokenizer.ggml.merges': item 1: \"hello\" is not \"left right\"");
  EXPECT_HAS(load_error(gpt2().set("tokenizer.ggml.merges", strs({"h x"}))),
             "tok.gguf: tokenizer.ggml.merges[0]: merge token \"x\" is not in the vocabulary");
  // Empty tokens are renamed as llama.cpp does.
  auto t = load(spm().set("tokenizer.ggml.tokens", strs({"<unk>", "<s>", "</s>", kSp, "h", "e", "l", "o", kSp + "h",
                                                         "ll", kSp + "he", "llo", kSp + "hello", "", "ab", "bc", "a",
                                                         "b", "c"})));
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ(t->id_to_token(13), "[EMPTY_13]");
}

TEST(GgufTokenizer, NotAGgufFile) {
  auto t = Tokenizer::from_gguf(std::string("/nonexistent/dir/model.gguf"));
  ASSERT_FALSE(t.ok());
  EXPECT_HAS(t.error(), "/nonexistent/dir/model.gguf");
  std::vector<uint8_t> bytes = gguf_bytes(spm());
  bytes.resize(bytes.size() / 2);
  auto f = GgufFile::parse(bytes, "half.gguf");
  EXPECT_FALSE(f.ok());
}

// Every key of each kind replaced by values of every type, and every key
// dropped: a load either works or fails naming that key; none crashes.
TEST(GgufTokenizer, EveryKeyWithEveryWrongValue) {
  const std::vector<V> values = {
      V::u8(7),          V::i32(-3),     V::u32(1u << 30), V::f32(0.5f),          V::boolean(true),
      V::str("llama"),   V::str(""),     strs({}),         strs({"a b", "\xc3"}), f32s({1, 2}),
      i32s({1, 99, -1}), V::array(T::Array, {strs({"x"})}),
  };
  for (const Meta& base : {spm(), gpt2(), bert()}) {
    for (size_t k = 0; k < base.kv.size(); ++k) {
      const std::string key = base.kv[k].first;
      std::vector<Meta> variants;
      variants.push_back(Meta(base).erase(key));
      for (const V& v : values) variants.push_back(Meta(base).set(key, v));
      for (size_t i = 0; i < variants.size(); ++i) {
        auto t = load(variants[i]);
        if (t.ok()) {
          auto e = t->encode("hello worlds h\xc3\xa9!", true);
          EXPECT_TRUE(e.ok() || !e.error().empty());
          continue;
        }
        // The kind decides which other keys are required, so another kind
        // can fail on one of those.
        if (key == "tokenizer.ggml.model") {
          EXPECT_HAS(t.error(), "key 'tokenizer.ggml.");
          continue;
        }
        // Merges are checked against the tokens: a bad token list can show
        // up as a merge naming an unknown token.
        if (key == "tokenizer.ggml.tokens" && t.error().find("tokenizer.ggml.merges") != std::string::npos) continue;
        EXPECT_HAS(t.error(), key) << " (variant " << i << ")";
      }
    }
  }
}

// Every vocab file llama.cpp ships loads and encodes, or fails saying which
// key keel cannot read (their ids are checked by test_llama_vocab.py): aquila
// and gpt-neox lack tokenizer.ggml.pre, nomic-bert-moe is a t5 (Unigram) vocab.
TEST(GgufTokenizer, LlamaCppVocabFiles) {
  namespace fs = std::filesystem;
  const std::map<std::string, std::string> fails = {
      {"aquila", "key 'tokenizer.ggml.pre': missing"},
      {"gpt-neox", "key 'tokenizer.ggml.pre': missing"},
      {"nomic-bert-moe", "key 'tokenizer.ggml.model': unknown tokenizer model \"t5\""},
  };
  size_t loaded = 0, seen = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(KEEL_LLAMA_CPP) / "models")) {
    const std::string file = entry.path().filename().string();
    if (file.rfind("ggml-vocab-", 0) != 0 || entry.path().extension() != ".gguf") continue;
    const std::string name = file.substr(11, file.size() - 11 - 5);
    ++seen;
    auto t = Tokenizer::from_gguf(entry.path().string());
    if (auto it = fails.find(name); it != fails.end()) {
      ASSERT_FALSE(t.ok()) << name;
      EXPECT_HAS(t.error(), it->second);
      continue;
    }
    ASSERT_TRUE(t.ok()) << name << ": " << t.error();
    auto e = t->encode("Hello world! h\u00e9llo \u4f60\u597d <s>", true);
    ASSERT_TRUE(e.ok()) << name << ": " << e.error();
    EXPECT_GE(e->ids.size(), 4u) << name;
    ++loaded;
  }
  EXPECT_EQ(seen, 19u);
  EXPECT_EQ(loaded, 16u);
}

}  // namespace
}  // namespace keel::tok
