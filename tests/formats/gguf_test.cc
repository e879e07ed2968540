// GGUF reader/writer: round trips, llama.cpp's own files, and a malformed
// corpus built byte by byte where every case must fail with a located message.
#include "formats/gguf.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

namespace keel {
namespace {

namespace fs = std::filesystem;

std::string tmp_dir() {
  fs::create_directories(KEEL_TEST_TMP);
  return KEEL_TEST_TMP;
}

std::string llama_cpp_dir() {
  if (const char* env = std::getenv("KEEL_LLAMA_CPP"); env && fs::exists(env)) return env;
  if (fs::exists(KEEL_LLAMA_CPP)) return KEEL_LLAMA_CPP;
  return "/tmp/llcpp";
}

// Exact equality, floats compared by bit pattern (so NaN == NaN).
bool same_value(const GgufValue& a, const GgufValue& b) {
  if (a.type != b.type || a.value.index() != b.value.index()) return false;
  if (auto* fa = std::get_if<float>(&a.value))
    return std::bit_cast<uint32_t>(*fa) == std::bit_cast<uint32_t>(std::get<float>(b.value));
  if (auto* da = std::get_if<double>(&a.value))
    return std::bit_cast<uint64_t>(*da) == std::bit_cast<uint64_t>(std::get<double>(b.value));
  if (auto* aa = a.as_array()) {
    const GgufArray& ab = *b.as_array();
    if (aa->elem_type != ab.elem_type || aa->items.size() != ab.items.size()) return false;
    for (size_t i = 0; i < aa->items.size(); ++i)
      if (!same_value(aa->items[i], ab.items[i])) return false;
    return true;
  }
  return std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, GgufArray>) return false;  // handled above
        else return x == std::get<T>(b.value);
      },
      a.value);
}

// One key per value type, edge values, empty and nested arrays.
std::vector<std::pair<std::string, GgufValue>> all_values() {
  std::vector<std::pair<std::string, GgufValue>> kv;
  auto add = [&](std::string key, GgufValue v) { kv.emplace_back(std::move(key), std::move(v)); };
  add("general.architecture", GgufValue::str("keel-test"));
  add("t.u8", GgufValue::u8(255));
  add("t.i8", GgufValue::i8(-128));
  add("t.u16", GgufValue::u16(65535));
  add("t.i16", GgufValue::i16(-32768));
  add("t.u32", GgufValue::u32(4294967295u));
  add("t.i32", GgufValue::i32(-2147483647 - 1));
  add("t.f32", GgufValue::f32(-1.5e-30f));
  add("t.f32_nan", GgufValue::f32(std::bit_cast<float>(0x7fc00001u)));
  add("t.bool_true", GgufValue::boolean(true));
  add("t.bool_false", GgufValue::boolean(false));
  add("t.str", GgufValue::str("h\xc3\xa9llo \xe2\x96\x81 \xf0\x9f\x98\x80"));
  add("t.str_empty", GgufValue::str(""));
  add("t.str_nul", GgufValue::str(std::string("a\0b", 3)));
  add("t.u64", GgufValue::u64(~uint64_t{0}));
  add("t.i64", GgufValue::i64(INT64_MIN));
  add("t.f64", GgufValue::f64(3.141592653589793));
  add("t.arr_empty", GgufValue::array(GgufValueType::I32, {}));
  add("t.arr_str", GgufValue::array(GgufValueType::String,
                                      {GgufValue::str("a"), GgufValue::str(""), GgufValue::str("ccc")}));
  add("t.arr_f32", GgufValue::array(GgufValueType::F32, {GgufValue::f32(1), GgufValue::f32(-0.0f)}));
  add("t.arr_bool", GgufValue::array(GgufValueType::Bool, {GgufValue::boolean(true), GgufValue::boolean(false)}));
  add("t.arr_nested",
      GgufValue::array(GgufValueType::Array,
                         {GgufValue::array(GgufValueType::U8, {GgufValue::u8(1), GgufValue::u8(2)}),
                          GgufValue::array(GgufValueType::String, {}),
                          GgufValue::array(GgufValueType::Array,
                                           {GgufValue::array(GgufValueType::I64, {GgufValue::i64(-7)})})}));
  add("t.unicode.\xe2\x96\x81key", GgufValue::u32(1));
  return kv;
}

void add_all_value_types(GgufWriter& w) {
  for (auto& [k, v] : all_values()) w.set(k, v);
}

// Every dtype GGUF can store, two rows of two blocks each.
std::vector<DType> gguf_dtypes() {
  std::vector<DType> out;
  for (int i = 0; i < kNumDTypes; ++i)
    if (dtype_info(static_cast<DType>(i)).ggml_type != kNoGgmlType) out.push_back(static_cast<DType>(i));
  return out;
}

GgufWriter::Fill pattern_fill(uint32_t seed) {
  return [seed](size_t index, std::span<uint8_t> dst) {
    std::mt19937 rng(seed + static_cast<uint32_t>(index));
    for (uint8_t& b : dst) b = static_cast<uint8_t>(rng());
    return Status::Ok();
  };
}

GgufWriter full_writer() {
  GgufWriter w;
  add_all_value_types(w);
  for (DType t : gguf_dtypes()) {
    const int64_t row = 2 * dtype_info(t).block_elems;
    EXPECT_TRUE(w.add_tensor(str_cat("w.", dtype_name(t)), t, Shape{2, row}).ok());
  }
  EXPECT_TRUE(w.add_tensor("rank1", DType::F32, Shape{5}).ok());
  EXPECT_TRUE(w.add_tensor("rank4", DType::F16, Shape{2, 3, 1, 7}).ok());
  return w;
}

std::vector<uint8_t> to_bytes(const GgufWriter& w, uint32_t seed = 1) {
  Result<std::vector<uint8_t>> r = w.write_to_memory(pattern_fill(seed));
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? *r : std::vector<uint8_t>{};
}

// Rebuilds a writer from a parsed file: same metadata, tensors and data.
std::vector<uint8_t> rewrite(const GgufFile& f) {
  GgufWriter w;
  for (const auto& [k, v] : f.metadata()) w.set(k, v);
  for (const GgufTensorInfo& t : f.tensors()) EXPECT_TRUE(w.add_tensor(t.name, t.dtype, t.shape).ok());
  Result<std::vector<uint8_t>> r = w.write_to_memory([&](size_t i, std::span<uint8_t> dst) {
    std::span<const uint8_t> src = f.bytes(f.tensors()[i]);
    if (src.size() != dst.size()) return Error("size mismatch");
    std::memcpy(dst.data(), src.data(), src.size());
    return Status::Ok();
  });
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? *r : std::vector<uint8_t>{};
}

Result<GgufFile> parse(const std::vector<uint8_t>& b) { return GgufFile::parse(b, "test.gguf"); }

// ------------------------------------------------------------------ round trips

TEST(GgufRoundTrip, AllValueTypesAndDtypesAreBitIdentical) {
  GgufWriter w = full_writer();
  std::vector<uint8_t> bytes = to_bytes(w);
  Result<GgufFile> f = parse(bytes);
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->alignment(), 32u);
  EXPECT_EQ(f->data_offset() % 32, 0u);
  EXPECT_EQ(f->file_size(), bytes.size());

  const auto expected = all_values();
  ASSERT_EQ(f->metadata().size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(f->metadata()[i].first, expected[i].first);
    EXPECT_TRUE(same_value(f->metadata()[i].second, expected[i].second)) << expected[i].first;
    EXPECT_EQ(f->find(expected[i].first), &f->metadata()[i].second);
  }
  EXPECT_EQ(*f->find("t.u64")->as_uint(), ~uint64_t{0});
  EXPECT_EQ(*f->find("t.i64")->as_int(), INT64_MIN);
  EXPECT_FALSE(f->find("t.u64")->as_int().has_value());
  EXPECT_FALSE(f->find("t.i8")->as_uint().has_value());
  EXPECT_EQ(*f->find("t.str_nul")->as_string(), std::string("a\0b", 3));
  EXPECT_EQ(*f->find("t.f64")->as_double(), 3.141592653589793);
  EXPECT_TRUE(std::isnan(std::get<float>(f->find("t.f32_nan")->value)));
  const GgufArray* nested = f->find("t.arr_nested")->as_array();
  ASSERT_NE(nested, nullptr);
  ASSERT_EQ(nested->items.size(), 3u);
  EXPECT_EQ(nested->items[1].as_array()->elem_type, GgufValueType::String);
  EXPECT_EQ(*nested->items[2].as_array()->items[0].as_array()->items[0].as_int(), -7);
  EXPECT_EQ(f->find("missing"), nullptr);

  ASSERT_EQ(f->tensors().size(), w.num_tensors());
  for (size_t i = 0; i < w.num_tensors(); ++i) {
    const GgufTensorInfo& a = w.tensor(i);
    const GgufTensorInfo& b = f->tensors()[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.dtype, b.dtype);
    EXPECT_EQ(a.ne, b.ne);
    EXPECT_TRUE(a.shape == b.shape) << a.shape.to_string() << " vs " << b.shape.to_string();
    EXPECT_EQ(a.offset, b.offset);
    EXPECT_EQ(a.nbytes, b.nbytes);
    EXPECT_EQ(b.offset % 32, 0u);
    EXPECT_EQ(f->find_tensor(a.name), &b);
    // Data as fill() produced it.
    std::vector<uint8_t> want(b.nbytes);
    ASSERT_TRUE(pattern_fill(1)(i, want).ok());
    std::span<const uint8_t> got = f->bytes(b);
    EXPECT_TRUE(std::equal(got.begin(), got.end(), want.begin(), want.end())) << a.name;
    ConstTensorView v = f->view(b);
    EXPECT_EQ(v.data, got.data());
    EXPECT_EQ(v.nbytes(), b.nbytes);
  }
  const GgufTensorInfo* r4 = f->find_tensor("rank4");
  ASSERT_NE(r4, nullptr);
  EXPECT_EQ(r4->ne, (std::vector<uint64_t>{7, 1, 3, 2}));

  EXPECT_EQ(rewrite(*f), bytes);
}

TEST(GgufRoundTrip, FileWriteMatchesMemoryAndLeavesNoTmp) {
  GgufWriter w = full_writer();
  const std::string path = tmp_dir() + "/gguf_roundtrip.gguf";
  ASSERT_TRUE(w.write(path, pattern_fill(1)).ok());
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  Result<GgufFile> f = GgufFile::open(path);
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_EQ(f->source(), path);
  std::span<const uint8_t> t0 = f->bytes(f->tensors()[0]);
  EXPECT_EQ(t0.size(), f->tensors()[0].nbytes);
  GgufFile moved = std::move(*f);  // the mapping must survive the move
  EXPECT_EQ(rewrite(moved), to_bytes(w));
}

TEST(GgufRoundTrip, CustomAlignment) {
  for (uint32_t a : {1u, 8u, 64u, 4096u}) {
    GgufWriter w;
    ASSERT_TRUE(w.add_tensor("a", DType::F32, Shape{3}).ok());
    ASSERT_TRUE(w.add_tensor("b", DType::Q8_0, Shape{1, 32}).ok());
    w.set("general.alignment", GgufValue::u32(a));  // after add_tensor: offsets follow
    EXPECT_EQ(w.tensor(1).offset, (12 + a - 1) / a * a);
    std::vector<uint8_t> bytes = to_bytes(w);
    Result<GgufFile> f = parse(bytes);
    ASSERT_TRUE(f.ok()) << f.error();
    EXPECT_EQ(f->alignment(), a);
    EXPECT_EQ(f->data_offset() % a, 0u);
    EXPECT_EQ(f->tensors()[1].offset, w.tensor(1).offset);
    EXPECT_EQ(rewrite(*f), bytes);
  }
}

TEST(GgufRoundTrip, EmptyFileAndReplacedKey) {
  GgufWriter w;
  w.set("a", GgufValue::u32(1));
  w.set("b", GgufValue::u32(2));
  w.set("a", GgufValue::str("x"));  // replaced in place, order kept
  std::vector<uint8_t> bytes = to_bytes(w);
  Result<GgufFile> f = parse(bytes);
  ASSERT_TRUE(f.ok()) << f.error();
  ASSERT_EQ(f->metadata().size(), 2u);
  EXPECT_EQ(f->metadata()[0].first, "a");
  EXPECT_EQ(*f->metadata()[0].second.as_string(), "x");
  EXPECT_TRUE(f->tensors().empty());
  EXPECT_TRUE(parse(to_bytes(GgufWriter())).ok());
}

TEST(GgufRoundTrip, ReadsVersion2) {
  std::vector<uint8_t> bytes = to_bytes(full_writer());
  bytes[4] = 2;
  Result<GgufFile> f = parse(bytes);
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_EQ(f->version(), 2u);
}

TEST(GgufValue, DisplayStrings) {
  EXPECT_EQ(GgufValue::u8(200).to_display_string(), "200");
  EXPECT_EQ(GgufValue::i8(-3).to_display_string(), "-3");
  EXPECT_EQ(GgufValue::boolean(true).to_display_string(), "true");
  EXPECT_EQ(GgufValue::f32(0.1f).to_display_string(), "0.100000001");
  EXPECT_EQ(GgufValue::str("a\nb").to_display_string(), "\"a\\x0ab\"");
  GgufValue arr = GgufValue::array(GgufValueType::U32, {GgufValue::u32(1), GgufValue::u32(2), GgufValue::u32(3)});
  EXPECT_EQ(arr.to_display_string(2), "array<u32>[3] [1, 2, ...]");
  EXPECT_EQ(gguf_value_type_name(GgufValueType::F64), "f64");
  EXPECT_EQ(*GgufValue::boolean(true).as_int(), 1);
  EXPECT_FALSE(GgufValue::str("1").as_int().has_value());
  EXPECT_EQ(*GgufValue::u16(7).as_double(), 7.0);
}

// ------------------------------------------------------------------ writer errors

TEST(GgufWriter, RejectsBadTensors) {
  GgufWriter w;
  ASSERT_TRUE(w.add_tensor("x", DType::F32, Shape{4}).ok());
  auto err = [&](std::string name, DType t, Shape s) {
    Status st = w.add_tensor(std::move(name), t, s);
    EXPECT_FALSE(st.ok());
    return st.message();
  };
  EXPECT_NE(err("x", DType::F32, Shape{4}).find("duplicate"), std::string::npos);
  EXPECT_NE(err(std::string(64, 'n'), DType::F32, Shape{4}).find("longer than the 63"), std::string::npos);
  EXPECT_TRUE(w.add_tensor(std::string(63, 'n'), DType::F32, Shape{4}).ok());
  EXPECT_NE(err("r5", DType::F32, Shape{1, 1, 1, 1, 1}).find("rank 5"), std::string::npos);
  EXPECT_NE(err("r0", DType::F32, Shape{}).find("rank 0"), std::string::npos);
  EXPECT_NE(err("u8", DType::U8, Shape{4}).find("cannot store dtype u8"), std::string::npos);
  EXPECT_NE(err("q", DType::Q4_K, Shape{2, 128}).find("not a whole number of q4_K blocks"), std::string::npos);
  EXPECT_NE(err("z", DType::F32, Shape{0, 4}).find("<= 0"), std::string::npos);
  EXPECT_NE(err("bad\xff", DType::F32, Shape{4}).find("UTF-8"), std::string::npos);
  EXPECT_NE(err("big", DType::F32, Shape{1 << 30, 1 << 30, 1 << 30}).find("overflow"), std::string::npos);
}

TEST(GgufWriter, RejectsBadMetadataAndPropagatesFillErrors) {
  {
    GgufWriter w;
    w.set("general.alignment", GgufValue::u32(48));
    Result<std::vector<uint8_t>> r = w.write_to_memory(pattern_fill(0));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().find("power of two"), std::string::npos);
    w.set("general.alignment", GgufValue::u64(32));
    EXPECT_NE(w.write_to_memory(pattern_fill(0)).error().find("must be u32"), std::string::npos);
  }
  {
    GgufWriter w;
    w.set("mixed", GgufValue::array(GgufValueType::U8, {GgufValue::u8(1), GgufValue::i8(1)}));
    EXPECT_NE(w.write_to_memory(pattern_fill(0)).error().find("i8 item in an array of u8"), std::string::npos);
  }
  {
    GgufWriter w;
    w.set("lying", GgufValue{GgufValueType::U32, std::string("x")});
    EXPECT_NE(w.write_to_memory(pattern_fill(0)).error().find("holds a different type"), std::string::npos);
  }
  {
    GgufWriter w;
    ASSERT_TRUE(w.add_tensor("t", DType::F32, Shape{4}).ok());
    const std::string path = tmp_dir() + "/gguf_fill_error.gguf";
    fs::remove(path);
    Status st = w.write(path, [](size_t, std::span<uint8_t>) { return Error("source went away"); });
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find("tensor 't': source went away"), std::string::npos) << st.message();
    EXPECT_FALSE(fs::exists(path));
    EXPECT_FALSE(fs::exists(path + ".tmp"));
    EXPECT_FALSE(w.write("/nonexistent-dir/x.gguf", pattern_fill(0)).ok());
  }
}

// ------------------------------------------------------------------ llama.cpp's files

TEST(GgufLlamaCpp, ReadsEveryVocabFileAndRewritesItsBytes) {
  const fs::path dir = fs::path(llama_cpp_dir()) / "models";
  if (!fs::exists(dir)) GTEST_SKIP() << "no llama.cpp checkout at " << dir;
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("ggml-vocab-", 0) != 0 || e.path().extension() != ".gguf") continue;
    ++n;
    Result<GgufFile> f = GgufFile::open(e.path().string());
    ASSERT_TRUE(f.ok()) << f.error();
    ASSERT_NE(f->find("general.architecture"), nullptr) << name;
    const GgufValue* tokens = f->find("tokenizer.ggml.tokens");
    ASSERT_NE(tokens, nullptr) << name;
    EXPECT_GT(tokens->as_array()->items.size(), 1000u) << name;
    // keel writes v3 and always pads the data section; otherwise the bytes match.
    std::vector<uint8_t> again = rewrite(*f);
    std::vector<uint8_t> orig(fs::file_size(e.path()));
    std::ifstream(e.path(), std::ios::binary).read(reinterpret_cast<char*>(orig.data()), orig.size());
    if (f->version() == 2) orig[4] = 3;
    ASSERT_GE(again.size(), orig.size()) << name;
    EXPECT_TRUE(std::equal(orig.begin(), orig.end(), again.begin())) << name;
    EXPECT_TRUE(std::all_of(again.begin() + orig.size(), again.end(), [](uint8_t b) { return b == 0; }));
  }
  EXPECT_GE(n, 10);
  Result<GgufFile> spm = GgufFile::open((dir / "ggml-vocab-llama-spm.gguf").string());
  ASSERT_TRUE(spm.ok());
  EXPECT_EQ(*spm->find("general.architecture")->as_string(), "llama");
  EXPECT_EQ(spm->find("tokenizer.ggml.tokens")->as_array()->items.size(), 32000u);
  EXPECT_EQ(spm->find("tokenizer.ggml.scores")->as_array()->elem_type, GgufValueType::F32);
}

// ------------------------------------------------------------------ malformed corpus

// Little-endian byte builder for hand-made files.
struct Raw {
  std::vector<uint8_t> b;
  Raw& le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
    return *this;
  }
  Raw& u32(uint32_t v) { return le(v, 4); }
  Raw& u64(uint64_t v) { return le(v, 8); }
  Raw& str(std::string_view s) {
    u64(s.size());
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Raw& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    b.insert(b.end(), {'G', 'G', 'U', 'F'});
    return u32(version).u64(n_tensors).u64(n_kv);
  }
  Raw& kv_u32(std::string_view key, uint32_t v) { return str(key).u32(4).u32(v); }
  Raw& tensor(std::string_view name, std::vector<uint64_t> ne, uint32_t type, uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(ne.size()));
    for (uint64_t d : ne) u64(d);
    return u32(type).u64(offset);
  }
  Raw& pad(size_t a = 32) {
    while (b.size() % a) b.push_back(0);
    return *this;
  }
  Raw& zeros(size_t n) {
    b.insert(b.end(), n, 0);
    return *this;
  }
};

// Parses and expects failure with every `needles` substring in the message.
void expect_error(const std::vector<uint8_t>& bytes, std::initializer_list<std::string_view> needles) {
  Result<GgufFile> f = parse(bytes);
  ASSERT_FALSE(f.ok()) << "parsed a malformed file; wanted: " << *needles.begin();
  for (std::string_view n : needles)
    EXPECT_NE(f.error().find(n), std::string::npos) << "want '" << n << "' in:\n" << f.error();
  EXPECT_NE(f.error().find("test.gguf: byte "), std::string::npos) << f.error();
}

TEST(GgufMalformed, HeaderProblems) {
  expect_error({}, {"too small for the GGUF magic"});
  expect_error({'G', 'G', 'U'}, {"too small"});
  expect_error({'G', 'G', 'M', 'L', 3, 0, 0, 0}, {"byte 0: bad magic 'GGML'"});
  expect_error({'F', 'U', 'G', 'G', 0, 0, 0, 3}, {"big-endian"});
  expect_error({'G', 'G', 'U', 'F', 0, 0, 0, 3}, {"byte 4:", "big-endian GGUF files are not supported"});
  expect_error({'G', 'G', 'U', 'F', 3, 0}, {"version needs 4 bytes"});
  expect_error(Raw().header(0, 0, 1).b, {"GGUF version 1 is not supported"});
  expect_error(Raw().header(0, 0, 4).b, {"unsupported GGUF version 4"});
  expect_error(Raw().header(uint64_t{1} << 60, 0).b,
               {"tensor count 1152921504606846976 cannot fit"});
  expect_error(Raw().header(0, ~uint64_t{0}).zeros(100).b, {"metadata count 18446744073709551615 cannot fit"});
  expect_error(Raw().header(3, 3).zeros(100).b, {"cannot both fit"});
  expect_error(Raw().u32(0x46554747).u32(3).u64(0).b, {"metadata count needs 8 bytes"});
}

TEST(GgufMalformed, MetadataProblems) {
  expect_error(Raw().header(0, 1).u64(1000).zeros(20).b, {"byte 24:", "metadata entry 0 key length 1000 runs past end"});
  expect_error(Raw().header(0, 1).str("k").u32(8).u64(50).zeros(10).b,
               {"key 'k': string value length 50 runs past end of file (10 bytes remain)"});
  expect_error(Raw().header(0, 2).kv_u32("ok", 1).kv_u32("bad\xc3(", 2).b,
               {"byte 42: key 'bad\\xc3(': key is not valid UTF-8 (bad byte at index 3)"});
  expect_error(Raw().header(0, 1).str("k").u32(13).u32(0).b, {"byte 33: key 'k': unknown value type 13"});
  expect_error(Raw().header(0, 1).str("k").u32(9).u32(99).u64(0).b, {"key 'k': unknown array element type 99"});
  expect_error(Raw().header(0, 1).str("k").u32(9).u32(4).u64(uint64_t{1} << 62).zeros(64).b,
               {"key 'k': array count 4611686018427387904 of u32 cannot fit"});
  expect_error(Raw().header(0, 1).str("k").u32(9).u32(8).u64(2).str("a").u64(99).b,
               {"key 'k'[1]: string value length 99 runs past end"});
  expect_error(Raw().header(0, 2).kv_u32("dup", 1).kv_u32("dup", 2).b,
               {"byte 43: key 'dup': duplicate key (first at byte 24)"});
  expect_error(Raw().header(0, 1).str("b").u32(7).le(2, 1).b, {"key 'b': bool value 2 is not 0 or 1"});
  expect_error(Raw().header(0, 1).str("").u32(4).u32(0).b, {"metadata entry 0: empty key"});
  expect_error(Raw().header(0, 1).str("k").u32(4).b, {"byte 37: key 'k' needs 4 bytes but only 0 remain"});
  // Arrays nested 40 deep: rejected before the recursion gets deep.
  Raw deep;
  deep.header(0, 1).str("deep").u32(9);
  for (int i = 0; i < 40; ++i) deep.u32(9).u64(1);
  deep.u32(4).u64(0);
  expect_error(deep.b, {"arrays nested deeper than 32"});
}

TEST(GgufMalformed, AlignmentProblems) {
  expect_error(Raw().header(0, 1).kv_u32("general.alignment", 48).b,
               {"byte 24: key 'general.alignment': 48 is not a non-zero power of two"});
  expect_error(Raw().header(0, 1).kv_u32("general.alignment", 0).b, {"0 is not a non-zero power of two"});
  expect_error(Raw().header(0, 1).str("general.alignment").u32(10).u64(32).b,
               {"general.alignment': type is u64, must be u32"});
}

// A valid one-tensor file around tensor info `t`, then the data.
std::vector<uint8_t> one_tensor(std::string_view name, std::vector<uint64_t> ne, uint32_t type,
                                uint64_t offset, size_t data = 128) {
  return Raw().header(1, 0).tensor(name, std::move(ne), type, offset).pad().zeros(data).b;
}

TEST(GgufMalformed, TensorInfoProblems) {
  ASSERT_TRUE(parse(one_tensor("t", {4, 2}, 0, 0)).ok());
  expect_error(one_tensor("t", {}, 0, 0), {"byte 33: tensor 't': n_dims 0 is outside 1..4"});
  expect_error(one_tensor("t", {1, 1, 1, 1, 1}, 0, 0), {"tensor 't': n_dims 5 is outside 1..4"});
  expect_error(Raw().header(1, 0).str("t").u32(0xffffffff).zeros(40).b,
               {"n_dims 4294967295 is outside", "dims run past end of file"});
  expect_error(one_tensor("t", {4, 0}, 0, 0), {"tensor 't': ne[1] is zero"});
  expect_error(one_tensor("t", {uint64_t{1} << 32, uint64_t{1} << 32}, 0, 0), {"tensor 't': element count overflows"});
  expect_error(one_tensor("t", {uint64_t{1} << 63}, 0, 0), {"element count overflows"});
  expect_error(one_tensor("t", {uint64_t{1} << 62}, 0, 0), {"overflow"});  // bytes overflow
  expect_error(one_tensor("t", {33}, 8, 0), {"tensor 't': row length ne[0] = 33 is not a whole number of q8_0 blocks of 32"});
  expect_error(one_tensor("t", {4}, 16, 0), {"byte 45: tensor 't': unsupported GGML type IQ2_XXS (16)"});
  expect_error(one_tensor("t", {4}, 99, 0), {"unsupported GGML type unknown (99)"});
  expect_error(one_tensor("t", {4}, 0, 16), {"byte 49: tensor 't': data offset 16 is not a multiple of the alignment 32"});
  expect_error(one_tensor("t", {64}, 0, 0, 100), {"tensor 't': data [0, 0 + 256) lies outside the data section of 100 bytes"});
  expect_error(one_tensor("t", {4}, 0, ~uint64_t{0} - 31), {"lies outside the data section"});
  expect_error(one_tensor(std::string(64, 'n'), {4}, 0, 0), {"name is 64 bytes, longer than the 63"});
  expect_error(one_tensor("bad\xff", {4}, 0, 0), {"tensor 'bad\\xff': name is not valid UTF-8"});
  expect_error(one_tensor("", {4}, 0, 0), {"tensor info 0: empty name"});
  expect_error(Raw().header(1, 0).str("t").u32(1).u64(4).u32(0).b, {"tensor 't': data offset needs 8 bytes"});
}

TEST(GgufMalformed, TensorDataProblems) {
  // Overlap: b starts inside a; c inside a as well (a reaches furthest).
  std::vector<uint8_t> overlap = Raw()
                                     .header(3, 0)
                                     .tensor("a", {64}, 0, 0)
                                     .tensor("b", {8}, 0, 64)
                                     .tensor("c", {8}, 0, 128)
                                     .pad()
                                     .zeros(512)
                                     .b;
  expect_error(overlap, {"tensor 'b': data [64, 96) overlaps tensor 'a' [0, 256)",
                         "tensor 'c': data [128, 160) overlaps tensor 'a' [0, 256)"});
  expect_error(Raw().header(2, 0).tensor("a", {8}, 0, 0).tensor("a", {8}, 0, 32).pad().zeros(64).b,
               {"tensor 'a': duplicate tensor name (first at byte 24)"});
  // Adjacent tensors are fine.
  EXPECT_TRUE(parse(Raw().header(2, 0).tensor("a", {8}, 0, 0).tensor("b", {8}, 0, 32).pad().zeros(64).b).ok());
}

TEST(GgufMalformed, ReportsEveryProblemOnItsOwnLine) {
  std::vector<uint8_t> bytes = Raw()
                                   .header(3, 2)
                                   .kv_u32("k", 1)
                                   .kv_u32("k", 2)
                                   .tensor("x", {4}, 16, 0)
                                   .tensor("y", {0}, 0, 32)
                                   .tensor("z", {4}, 0, 7)
                                   .pad()
                                   .zeros(64)
                                   .b;
  Result<GgufFile> f = parse(bytes);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(std::count(f.error().begin(), f.error().end(), '\n'), 3) << f.error();
  for (std::string_view n : {"duplicate key", "IQ2_XXS", "ne[0] is zero", "not a multiple of the alignment"})
    EXPECT_NE(f.error().find(n), std::string::npos) << n;
}

TEST(GgufMalformed, EveryTruncationFails) {
  GgufWriter w;
  w.set("a", GgufValue::str("xy"));
  w.set("n", GgufValue::array(GgufValueType::Array, {GgufValue::array(GgufValueType::U16, {GgufValue::u16(5)})}));
  ASSERT_TRUE(w.add_tensor("t", DType::Q8_0, Shape{2, 32}).ok());
  ASSERT_TRUE(w.add_tensor("u", DType::F16, Shape{3}).ok());
  std::vector<uint8_t> bytes = to_bytes(w);
  ASSERT_TRUE(parse(bytes).ok());
  Result<GgufFile> full = parse(bytes);
  const GgufTensorInfo& last = full->tensors().back();
  const size_t end = full->data_offset() + last.offset + last.nbytes;
  for (size_t n = 0; n < end; ++n) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + n);
    Result<GgufFile> f = parse(cut);
    EXPECT_FALSE(f.ok()) << "prefix of " << n << " bytes parsed";
    if (!f.ok()) {
      EXPECT_NE(f.error().find("byte "), std::string::npos);
    }
  }
  // Only the zero padding after the last tensor may be cut.
  for (size_t n = end; n <= bytes.size(); ++n)
    EXPECT_TRUE(parse(std::vector<uint8_t>(bytes.begin(), bytes.begin() + n)).ok()) << n;
}

TEST(GgufMalformed, RandomMutationsNeverCrash) {
  std::vector<uint8_t> bytes = to_bytes(full_writer());
  std::mt19937 rng(1234);
  int failures = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<uint8_t> m = bytes;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % m.size();
      switch (rng() % 3) {
        case 0: m[at] = static_cast<uint8_t>(rng()); break;
        case 1: m[at] ^= static_cast<uint8_t>(1u << (rng() % 8)); break;
        default: m.resize(at); break;
      }
      if (m.empty()) break;
    }
    if (!parse(m).ok()) ++failures;
  }
  EXPECT_GT(failures, 1000);
}

}  // namespace
}  // namespace keel
