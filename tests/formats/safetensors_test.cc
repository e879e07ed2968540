// safetensors: bit-identical round trips (every dtype, metadata, empty and scalar
// tensors, sharded checkpoints) and a malformed corpus built byte by byte, where
// every case must fail with a message naming the problem and never crash.
#include "formats/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

namespace keel {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path scratch(const std::string& name) {
  fs::path dir = fs::path(KEEL_TEST_TMP) / "safetensors" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::vector<uint8_t> read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary);
  out << s;
}

// A file image: 8-byte little-endian `n` (the header's size unless given), the
// header text, then `data` bytes of a pattern.
std::vector<uint8_t> image(const std::string& header, size_t data, std::optional<uint64_t> n = {}) {
  const uint64_t len = n.value_or(header.size());
  std::vector<uint8_t> out(8 + header.size() + data);
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(len >> (8 * i));
  std::memcpy(out.data() + 8, header.data(), header.size());
  for (size_t i = 0; i < data; ++i) out[8 + header.size() + i] = static_cast<uint8_t>(i * 7 + 1);
  return out;
}

// The byte pattern tests fill tensor k with.
uint8_t pattern(size_t k, size_t i) { return static_cast<uint8_t>(i * 131 + k * 17 + 7); }

SafetensorsWriter::Fill pattern_fill() {
  return [](size_t k, std::span<uint8_t> dst) {
    for (size_t i = 0; i < dst.size(); ++i) dst[i] = pattern(k, i);
    return Status::Ok();
  };
}

std::vector<DType> safetensors_dtypes() {
  std::vector<DType> out;
  for (int i = 0; i < kNumDTypes; ++i)
    if (!dtype_info(static_cast<DType>(i)).safetensors_name.empty()) out.push_back(static_cast<DType>(i));
  return out;
}

// Every dtype as [3, 5], a scalar, and two empty tensors.
SafetensorsWriter every_dtype_writer() {
  SafetensorsWriter w;
  for (DType t : safetensors_dtypes()) EXPECT_TRUE(w.add(str_cat("t.", dtype_name(t)), t, {3, 5}).ok());
  EXPECT_TRUE(w.add("scalar", DType::F32, {}).ok());
  EXPECT_TRUE(w.add("empty.2d", DType::F16, {0, 4}).ok());
  EXPECT_TRUE(w.add("empty.1d", DType::U8, {0}).ok());
  w.set_metadata("format", "pt");
  w.set_metadata("note", "ünïcödé ✓");
  return w;
}

// Writes what `f` holds back out through the writer, in its offset order.
Status rewrite(const SafetensorsFile& f, const std::string& path) {
  SafetensorsWriter w;
  for (const auto& t : f.tensors()) KEEL_RETURN_IF_ERROR(w.add(t.name, t.dtype, t.shape));
  for (const auto& [k, v] : f.metadata()) w.set_metadata(k, v);
  return w.write(path, [&](size_t i, std::span<uint8_t> dst) {
    auto src = f.bytes(f.tensors()[i]);
    std::memcpy(dst.data(), src.data(), src.size());
    return Status::Ok();
  });
}

std::string parse_error(const std::vector<uint8_t>& bytes, std::string source = "t.safetensors") {
  auto r = SafetensorsFile::parse(bytes, std::move(source));
  EXPECT_FALSE(r.ok());
  return r.ok() ? std::string() : r.error();
}

TEST(SafetensorsRoundTrip, AllDtypesBitIdentical) {
  const fs::path path = scratch("all_dtypes") / "model.safetensors";
  SafetensorsWriter w = every_dtype_writer();
  ASSERT_TRUE(w.write(path, pattern_fill()).ok());
  EXPECT_FALSE(fs::exists(path.string() + ".tmp"));

  auto f = SafetensorsFile::open(path);
  ASSERT_TRUE(f.ok()) << f.error();
  ASSERT_EQ(f->tensors().size(), w.size());
  EXPECT_EQ(f->header_size() % 8, 0u);
  EXPECT_EQ(f->file_size(), read_bytes(path).size());
  for (size_t k = 0; k < w.size(); ++k) {
    const SafetensorsTensor& want = w.tensor(k);
    const SafetensorsTensor* got = f->find(want.name);
    ASSERT_NE(got, nullptr) << want.name;
    EXPECT_EQ(got->dtype, want.dtype);
    EXPECT_EQ(got->shape, want.shape);
    EXPECT_EQ(got->begin, want.begin);
    EXPECT_EQ(got->nbytes(), want.nbytes());
    auto bytes = f->bytes(*got);
    for (size_t i = 0; i < bytes.size(); ++i) ASSERT_EQ(bytes[i], pattern(k, i)) << want.name << " byte " << i;
    ConstTensorView v = f->view(*got);
    EXPECT_EQ(v.data, static_cast<const void*>(bytes.data()));
    EXPECT_EQ(v.nbytes(), got->nbytes());
  }
  EXPECT_EQ(f->find("scalar")->nbytes(), 4u);
  EXPECT_EQ(f->find("scalar")->shape.rank(), 0);
  EXPECT_EQ(f->find("empty.2d")->nbytes(), 0u);
  EXPECT_EQ(f->find("missing"), nullptr);
  // tensors() is in offset order.
  for (size_t i = 1; i < f->tensors().size(); ++i)
    EXPECT_LE(f->tensors()[i - 1].end, f->tensors()[i].begin);
}

TEST(SafetensorsRoundTrip, RewriteFromReadIsByteIdentical) {
  const fs::path dir = scratch("rewrite");
  ASSERT_TRUE(every_dtype_writer().write(dir / "a.safetensors", pattern_fill()).ok());
  auto a = SafetensorsFile::open(dir / "a.safetensors");
  ASSERT_TRUE(a.ok()) << a.error();
  ASSERT_TRUE(rewrite(*a, dir / "b.safetensors").ok());
  EXPECT_EQ(read_bytes(dir / "a.safetensors"), read_bytes(dir / "b.safetensors"));
}

TEST(SafetensorsRoundTrip, MetadataPreserved) {
  const fs::path path = scratch("metadata") / "m.safetensors";
  ASSERT_TRUE(every_dtype_writer().write(path, pattern_fill()).ok());
  auto f = SafetensorsFile::open(path);
  ASSERT_TRUE(f.ok()) << f.error();
  std::map<std::string, std::string> want = {{"format", "pt"}, {"note", "ünïcödé ✓"}};
  EXPECT_EQ(f->metadata(), want);
}

TEST(SafetensorsRoundTrip, HeaderLayoutLikeHf) {
  const fs::path path = scratch("layout") / "m.safetensors";
  SafetensorsWriter w;
  ASSERT_TRUE(w.add("z", DType::F32, {2}).ok());
  ASSERT_TRUE(w.add("a", DType::BF16, {3}).ok());
  w.set_metadata("format", "pt");
  ASSERT_TRUE(w.write(path, pattern_fill()).ok());
  auto bytes = read_bytes(path);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  std::string header(bytes.begin() + 8, bytes.begin() + 8 + n);
  // Compact JSON, metadata first, declaration order, space padding to 8.
  const std::string want =
      R"({"__metadata__":{"format":"pt"},"z":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("a":{"dtype":"BF16","shape":[3],"data_offsets":[8,14]}})";
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ(header.substr(0, want.size()), want);
  EXPECT_EQ(header.substr(want.size()), std::string(n - want.size(), ' '));
  EXPECT_EQ(bytes.size(), 8 + n + 14);
}

TEST(SafetensorsRoundTrip, NoTensors) {
  const fs::path path = scratch("none") / "m.safetensors";
  SafetensorsWriter w;
  ASSERT_TRUE(w.write(path, pattern_fill()).ok());
  EXPECT_EQ(read_bytes(path).size(), 16u);  // length + "{}" padded to 8
  auto f = SafetensorsFile::open(path);
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_TRUE(f->tensors().empty());
}

TEST(SafetensorsRoundTrip, ReadsHandWrittenHeader) {
  // Keys in any order, entries not in offset order, whitespace and trailing spaces.
  auto bytes = image(
      "{ \"b\" : {\"data_offsets\": [8, 12], \"shape\": [2], \"dtype\": \"I16\"},\n"
      "  \"a\": {\"shape\": [2, 1], \"dtype\": \"F32\", \"data_offsets\": [0, 8]},"
      " \"e\": {\"dtype\": \"U8\", \"shape\": [0], \"data_offsets\": [12, 12]}}      ",
      12);
  auto f = SafetensorsFile::parse(bytes, "hand");
  ASSERT_TRUE(f.ok()) << f.error();
  ASSERT_EQ(f->tensors().size(), 3u);
  EXPECT_EQ(f->tensors()[0].name, "a");
  EXPECT_EQ(f->tensors()[1].name, "b");
  EXPECT_EQ(f->tensors()[2].name, "e");
  EXPECT_EQ(f->find("b")->dtype, DType::I16);
  EXPECT_TRUE(f->metadata().empty());
}

TEST(SafetensorsWriter, RejectsBadDeclarations) {
  SafetensorsWriter w;
  ASSERT_TRUE(w.add("a", DType::F32, {2}).ok());
  EXPECT_NE(w.add("a", DType::F32, {2}).message().find("duplicate tensor name 'a'"), std::string::npos);
  EXPECT_NE(w.add("q", DType::Q4_0, {32}).message().find("cannot be stored in safetensors"), std::string::npos);
  EXPECT_NE(w.add("__metadata__", DType::F32, {1}).message().find("reserved"), std::string::npos);
  EXPECT_NE(w.add("neg", DType::F32, {2, -1}).message().find("negative"), std::string::npos);
  EXPECT_NE(w.add("big", DType::F32, {int64_t{1} << 62, 8}).message().find("overflow"), std::string::npos);
  EXPECT_NE(w.add("bad\xff", DType::F32, {1}).message().find("not valid UTF-8"), std::string::npos);
  EXPECT_EQ(w.size(), 1u);
}

TEST(SafetensorsWriter, FillErrorLeavesNoFile) {
  const fs::path dir = scratch("fill_error");
  SafetensorsWriter w;
  ASSERT_TRUE(w.add("a", DType::F32, {2}).ok());
  ASSERT_TRUE(w.add("b", DType::F32, {2}).ok());
  Status s = w.write(dir / "m.safetensors", [](size_t i, std::span<uint8_t>) {
    return i == 1 ? Error("no data for b") : Status::Ok();
  });
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("tensor 'b': no data for b"), std::string::npos) << s.message();
  EXPECT_FALSE(fs::exists(dir / "m.safetensors"));
  EXPECT_FALSE(fs::exists(dir / "m.safetensors.tmp"));
}

TEST(SafetensorsWriter, UnwritablePathNamesIt) {
  SafetensorsWriter w;
  Status s = w.write("/nonexistent-dir/m.safetensors", pattern_fill());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind("/nonexistent-dir/m.safetensors: ", 0), 0u) << s.message();
}

// ---------------------------------------------------------------------------
// Sharded checkpoints

// Five 100-byte tensors and one of 400, sharded at 250 bytes:
// [a b] [c d] [big] [e].
SafetensorsWriter shard_writer() {
  SafetensorsWriter w;
  for (const char* name : {"a", "b", "c", "d"}) EXPECT_TRUE(w.add(name, DType::U8, {10, 10}).ok());
  EXPECT_TRUE(w.add("big", DType::F32, {100}).ok());
  EXPECT_TRUE(w.add("e", DType::U8, {100}).ok());
  w.set_metadata("format", "pt");
  return w;
}

TEST(SafetensorsSharded, RoundTrip) {
  const fs::path dir = scratch("sharded");
  SafetensorsWriter w = shard_writer();
  ASSERT_TRUE(w.write_sharded(dir, "model", 250, pattern_fill()).ok());
  for (int k = 1; k <= 4; ++k)
    EXPECT_TRUE(fs::exists(dir / str_cat("model-0000", k, "-of-00004.safetensors"))) << k;

  json index = json::parse(read_bytes(dir / "model.safetensors.index.json"));
  EXPECT_EQ(index["metadata"]["total_size"], 900);  // a number, as in transformers' files
  EXPECT_EQ(index["weight_map"]["a"], "model-00001-of-00004.safetensors");
  EXPECT_EQ(index["weight_map"]["d"], "model-00002-of-00004.safetensors");
  EXPECT_EQ(index["weight_map"]["big"], "model-00003-of-00004.safetensors");
  EXPECT_EQ(index["weight_map"]["e"], "model-00004-of-00004.safetensors");

  for (const std::string& path : {dir.string(), (dir / "model.safetensors.index.json").string()}) {
    auto ckpt = SafetensorsCheckpoint::open(path);
    ASSERT_TRUE(ckpt.ok()) << ckpt.error();
    EXPECT_EQ(ckpt->files().size(), 4u);
    EXPECT_EQ(ckpt->total_tensor_bytes(), 900u);
    EXPECT_EQ(ckpt->metadata().at("total_size"), "900");
    ASSERT_EQ(ckpt->entries().size(), w.size());
    EXPECT_EQ(ckpt->entries()[0].tensor->name, "a");  // sorted by name
    EXPECT_EQ(ckpt->entries()[1].tensor->name, "b");
    EXPECT_EQ(ckpt->entries()[2].tensor->name, "big");
    for (size_t k = 0; k < w.size(); ++k) {
      const auto* e = ckpt->find(w.tensor(k).name);
      ASSERT_NE(e, nullptr);
      EXPECT_EQ(e->file->metadata().at("format"), "pt");
      ConstTensorView v = ckpt->view(*e);
      EXPECT_EQ(v.shape, w.tensor(k).shape);
      auto bytes = e->file->bytes(*e->tensor);
      ASSERT_EQ(bytes.size(), w.tensor(k).nbytes());
      for (size_t i = 0; i < bytes.size(); ++i) ASSERT_EQ(bytes[i], pattern(k, i));
    }
    EXPECT_EQ(ckpt->find("nope"), nullptr);
  }
}

TEST(SafetensorsSharded, OneShardWhenEverythingFits) {
  const fs::path dir = scratch("one_shard");
  ASSERT_TRUE(shard_writer().write_sharded(dir, "model", 1 << 20, pattern_fill()).ok());
  EXPECT_TRUE(fs::exists(dir / "model-00001-of-00001.safetensors"));
  auto ckpt = SafetensorsCheckpoint::open(dir);
  ASSERT_TRUE(ckpt.ok()) << ckpt.error();
  EXPECT_EQ(ckpt->files().size(), 1u);
}

TEST(SafetensorsCheckpoint, OpensFileAndDirectory) {
  const fs::path dir = scratch("single");
  ASSERT_TRUE(shard_writer().write(dir / "model.safetensors", pattern_fill()).ok());
  for (const fs::path& p : {dir, dir / "model.safetensors"}) {
    auto ckpt = SafetensorsCheckpoint::open(p);
    ASSERT_TRUE(ckpt.ok()) << ckpt.error();
    EXPECT_EQ(ckpt->entries().size(), 6u);
    EXPECT_EQ(ckpt->metadata().at("format"), "pt");
  }
  // An index next to model.safetensors wins.
  ASSERT_TRUE(shard_writer().write_sharded(dir, "model", 250, pattern_fill()).ok());
  auto ckpt = SafetensorsCheckpoint::open(dir);
  ASSERT_TRUE(ckpt.ok()) << ckpt.error();
  EXPECT_EQ(ckpt->files().size(), 4u);
}

TEST(SafetensorsCheckpoint, EmptyDirectoryIsAnError) {
  const fs::path dir = scratch("empty_dir");
  auto ckpt = SafetensorsCheckpoint::open(dir);
  ASSERT_FALSE(ckpt.ok());
  EXPECT_NE(ckpt.error().find("neither model.safetensors.index.json nor model.safetensors"), std::string::npos);
  auto missing = SafetensorsCheckpoint::open((dir / "nope.safetensors").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().rfind((dir / "nope.safetensors").string() + ": ", 0), 0u) << missing.error();
}

// Writes a sharded checkpoint, then replaces its index with `index_text`.
std::string index_error(const std::string& name, const std::function<std::string(json&)>& edit) {
  const fs::path dir = scratch(name);
  EXPECT_TRUE(shard_writer().write_sharded(dir, "model", 250, pattern_fill()).ok());
  json index = json::parse(read_bytes(dir / "model.safetensors.index.json"));
  write_bytes(dir / "model.safetensors.index.json", edit(index));
  auto ckpt = SafetensorsCheckpoint::open(dir);
  EXPECT_FALSE(ckpt.ok());
  return ckpt.ok() ? "" : ckpt.error();
}

TEST(SafetensorsCheckpoint, WeightMapCheckedBothWaysAllReported) {
  std::string err = index_error("mismatch", [](json& index) {
    auto& wm = index["weight_map"];
    wm.erase("a");                                       // in a shard, not listed
    wm["ghost"] = "model-00001-of-00004.safetensors";    // listed, in no shard
    wm["c"] = "model-00001-of-00004.safetensors";        // listed in the wrong shard
    return index.dump();
  });
  EXPECT_NE(err.find("tensor 'a' in 'model-00001-of-00004.safetensors' is not listed in weight_map"),
            std::string::npos) << err;
  EXPECT_NE(err.find("weight_map lists tensor 'ghost' in 'model-00001-of-00004.safetensors', which does not "
                     "contain it"),
            std::string::npos) << err;
  EXPECT_NE(err.find("weight_map lists tensor 'c' in 'model-00001-of-00004.safetensors' but it is in "
                     "'model-00002-of-00004.safetensors'"),
            std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 2) << err;
}

TEST(SafetensorsCheckpoint, TensorListedTwice) {
  std::string err = index_error("listed_twice", [](json& index) {
    std::string text = index.dump();
    const std::string entry = R"("a":"model-00001-of-00004.safetensors")";
    return text.replace(text.find(entry), entry.size(), entry + "," + entry);
  });
  EXPECT_NE(err.find("weight_map lists tensor 'a' more than once"), std::string::npos) << err;
}

TEST(SafetensorsCheckpoint, ShardNamesMustStayInTheDirectory) {
  for (const char* bad : {"../model-00001-of-00004.safetensors", "/etc/passwd", "sub/x.safetensors", ".."}) {
    std::string err = index_error("escape", [&](json& index) {
      index["weight_map"]["a"] = bad;
      return index.dump();
    });
    EXPECT_NE(err.find("must be a file name in the index's directory"), std::string::npos) << err;
  }
}

TEST(SafetensorsCheckpoint, MissingShardAndBadIndex) {
  std::string err = index_error("missing_shard", [](json& index) {
    index["weight_map"]["a"] = "gone.safetensors";
    return index.dump();
  });
  EXPECT_NE(err.find("gone.safetensors"), std::string::npos) << err;
  EXPECT_NE(err.find("cannot open"), std::string::npos) << err;
  EXPECT_NE(index_error("not_json", [](json&) { return std::string("{oops"); }).find("not valid JSON"),
            std::string::npos);
  EXPECT_NE(index_error("no_map", [](json&) { return std::string("{}"); }).find("'weight_map' is missing"),
            std::string::npos);
  EXPECT_NE(index_error("deep", [](json&) { return std::string(100000, '['); }).find("nested"),
            std::string::npos);
}

TEST(SafetensorsCheckpoint, TensorInTwoShards) {
  const fs::path dir = scratch("two_shards");
  ASSERT_TRUE(shard_writer().write_sharded(dir, "model", 250, pattern_fill()).ok());
  SafetensorsWriter w;  // shard 2 again, now also holding 'a'
  for (const char* name : {"c", "d", "a"}) ASSERT_TRUE(w.add(name, DType::U8, {10, 10}).ok());
  ASSERT_TRUE(w.write(dir / "model-00002-of-00004.safetensors", pattern_fill()).ok());
  auto ckpt = SafetensorsCheckpoint::open(dir);
  ASSERT_FALSE(ckpt.ok());
  EXPECT_NE(ckpt.error().find("tensor 'a' is in both 'model-00001-of-00004.safetensors' and "
                              "'model-00002-of-00004.safetensors'"),
            std::string::npos)
      << ckpt.error();
}

TEST(SafetensorsCheckpoint, BrokenShardIsReported) {
  const fs::path dir = scratch("broken_shard");
  ASSERT_TRUE(shard_writer().write_sharded(dir, "model", 250, pattern_fill()).ok());
  fs::resize_file(dir / "model-00002-of-00004.safetensors", 50);
  auto ckpt = SafetensorsCheckpoint::open(dir);
  ASSERT_FALSE(ckpt.ok());
  EXPECT_NE(ckpt.error().find("model-00002-of-00004.safetensors: "), std::string::npos) << ckpt.error();
}

// ---------------------------------------------------------------------------
// Malformed files

struct MalformedCase {
  const char* name;
  std::vector<uint8_t> bytes;
  const char* expect;  // a distinctive part of the error message
};

std::string entry(const std::string& name, const std::string& dtype, const std::string& shape, uint64_t b,
                  uint64_t e) {
  return str_cat("\"", name, "\":{\"dtype\":\"", dtype, "\",\"shape\":", shape, ",\"data_offsets\":[", b, ",", e,
                 "]}");
}

std::vector<MalformedCase> malformed_cases() {
  const std::string a8 = entry("a", "F32", "[2]", 0, 8);
  std::vector<MalformedCase> c = {
      {"too_short", {1, 0, 0, 0, 0}, "too short for the 8-byte header length"},
      {"length_over_cap", image("{}", 0, kMaxSafetensorsHeader + 1), "exceeds the limit of 100000000"},
      {"length_max_u64", image("{}", 0, ~uint64_t{0}), "exceeds the limit"},
      {"length_past_eof", image("{}", 0, 1000), "header length 1000 runs past the end of the file"},
      {"empty_header", image("", 0), "not valid JSON"},
      {"not_json", image("{not json}", 0), "header is not valid JSON"},
      {"trailing_garbage", image("{} x", 0), "not valid JSON"},
      {"nul_padding", image(std::string("{}\0\0", 4), 0), "not valid JSON"},
      {"json_array", image("[1, 2]", 0), "header is an array, not a JSON object"},
      {"json_string", image("\"x\"", 0), "header is a string, not a JSON object"},
      {"entry_not_object", image("{\"a\": 5}", 0), "tensor 'a': entry is a number, not an object"},
      {"entry_array", image("{\"a\": [1]}", 0), "tensor 'a': entry is an array"},
      {"overlap", image("{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 4, 12) + "}", 12),
       "tensor 'b' bytes [4, 12): overlaps tensor 'a' bytes [0, 8)"},
      {"gap", image("{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[1]", 8, 12) + "}", 12),
       "tensor 'b' bytes [8, 12): gap: data bytes [4, 8) before it belong to no tensor"},
      {"trailing_data", image("{" + a8 + "}", 12), "data bytes [8, 12) after tensor 'a' belong to no tensor"},
      {"data_without_tensors", image("{}", 8), "data section has 8 bytes but the header lists no tensors"},
      {"out_of_range", image("{" + entry("a", "F32", "[4]", 0, 16) + "}", 8),
       "tensor 'a' bytes [0, 16): runs past the end of the data section, which is 8 bytes"},
      {"size_mismatch", image("{" + entry("a.weight", "F32", "[2, 2]", 0, 24) + "}", 24),
       "t.safetensors: tensor 'a.weight' bytes [0, 24): dtype F32 x shape [2, 2] needs 16 bytes"},
      {"numel_overflow", image("{" + entry("a", "U8", "[4294967296, 4294967296]", 0, 0) + "}", 0),
       "element count overflows 64 bits"},
      {"bytes_overflow", image("{" + entry("a", "F32", "[2305843009213693952, 4]", 0, 0) + "}", 0),
       "overflow 64-bit byte size"},
      {"dim_over_i64", image("{" + entry("a", "U8", "[9223372036854775808]", 0, 0) + "}", 0),
       "shape dimension 0 is 9223372036854775808, which overflows"},
      {"dim_over_u64", image("{" + entry("a", "U8", "[99999999999999999999]", 0, 0) + "}", 0),
       "not a non-negative integer"},
      {"dim_huge_float", image("{" + entry("a", "U8", "[1e400]", 0, 0) + "}", 0), "not valid JSON"},
      {"negative_dim", image("{" + entry("a", "F32", "[3, -2]", 0, 0) + "}", 0),
       "tensor 'a' bytes [0, 0): shape dimension 1 is negative (-2)"},
      {"float_dim", image("{" + entry("a", "F32", "[1.5]", 0, 0) + "}", 0), "dimension 0 is 1.5, not a"},
      {"string_dim", image("{" + entry("a", "F32", "[\"2\"]", 0, 0) + "}", 0), "dimension 0 is a string"},
      {"rank_9", image("{" + entry("a", "U8", "[1,1,1,1,1,1,1,1,1]", 0, 1) + "}", 1), "rank 9, more than 8"},
      {"shape_not_array", image("{" + entry("a", "U8", "5", 0, 1) + "}", 1), "shape must be an array"},
      {"offsets_one", image("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0]}}", 1),
       "data_offsets has 1 elements, expected 2"},
      {"offsets_reversed", image("{" + entry("a", "U8", "[0]", 8, 4) + "}", 8), "begin after they end"},
      {"offsets_negative", image("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[-1,0]}}", 1),
       "data_offsets element 0 is -1, not an unsigned 64-bit integer"},
      {"offsets_object", image("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":{}}}", 1),
       "data_offsets must be an array of two integers, not an object"},
      {"bad_utf8_name", image("{" + entry("a\xff", "U8", "[1]", 0, 1) + "}", 1),
       "tensor name 'a\\xff' at file bytes [9, 13) is not valid UTF-8"},
      {"bad_utf8_overlong", image("{" + entry("\xc0\xaf", "U8", "[1]", 0, 1) + "}", 1), "is not valid UTF-8"},
      {"bad_utf8_metadata", image("{\"__metadata__\":{\"k\":\"v\xed\xa0\x80\"}}", 0),
       "string 'v\\xed\\xa0\\x80' at file bytes"},
      {"lone_surrogate_escape", image("{" + entry("\\ud800", "U8", "[1]", 0, 1) + "}", 1), "not valid JSON"},
      {"unknown_dtype", image("{" + entry("a", "F33", "[1]", 0, 4) + "}", 4), "unknown dtype 'F33'"},
      {"quantized_dtype", image("{" + entry("a", "q4_0", "[32]", 0, 18) + "}", 18), "unknown dtype 'q4_0'"},
      {"dtype_not_string", image("{\"a\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4),
       "dtype must be a string, not a number"},
      {"duplicate_name", image("{" + a8 + "," + a8 + "}", 8), "tensor 'a' bytes [0, 8): duplicate tensor name"},
      {"duplicate_field", image("{\"a\":{\"dtype\":\"U8\",\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1),
       "duplicate key 'dtype'"},
      {"unknown_field", image("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"foo\":[[1]]}}", 1),
       "tensor 'a' bytes [0, 1): unknown key 'foo'"},
      {"missing_offsets", image("{\"a\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1), "tensor 'a': missing 'data_offsets'"},
      {"metadata_not_string", image("{\"__metadata__\":{\"k\":1}}", 0),
       "__metadata__ value for key 'k' must be a string, not a number"},
      {"metadata_nested", image("{\"__metadata__\":{\"k\":{\"x\":\"y\"}}}", 0), "must be a string, not an object"},
      {"metadata_not_object", image("{\"__metadata__\":[]}", 0), "__metadata__ must be an object of strings"},
      {"metadata_duplicate_key", image("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0),
       "__metadata__: duplicate key 'k'"},
      {"metadata_twice", image("{\"__metadata__\":{},\"__metadata__\":{}}", 0), "duplicate key '__metadata__'"},
      {"deep_array_header", image(std::string(100000, '['), 0), "header is an array"},
      {"deep_unknown_value", image("{\"a\":{\"x\":" + std::string(100000, '[') + std::string(100000, ']') + "}}", 0),
       "unknown key 'x'"},
      {"deep_unclosed_object", image("{\"a\":{\"x\":" + std::string(50000, '{'), 0), "not valid JSON"},
  };
  return c;
}

class SafetensorsMalformed : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(SafetensorsMalformed, FailsNamingTheProblem) {
  const MalformedCase& c = GetParam();
  std::string err = parse_error(c.bytes);
  EXPECT_NE(err.find(c.expect), std::string::npos) << "expected: " << c.expect << "\ngot: " << err;
  EXPECT_EQ(err.rfind("t.safetensors: ", 0), 0u) << err;
  EXPECT_LT(err.size(), 2000u) << err;
}

INSTANTIATE_TEST_SUITE_P(Corpus, SafetensorsMalformed, ::testing::ValuesIn(malformed_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(SafetensorsMalformedFile, TruncatedAtEveryByte) {
  const fs::path path = scratch("truncate") / "m.safetensors";
  ASSERT_TRUE(every_dtype_writer().write(path, pattern_fill()).ok());
  const std::vector<uint8_t> full = read_bytes(path);
  ASSERT_TRUE(SafetensorsFile::parse(full, "full").ok());
  uint64_t n = 0;
  std::memcpy(&n, full.data(), 8);
  for (size_t len = 0; len < full.size(); ++len) {
    std::vector<uint8_t> cut(full.begin(), full.begin() + len);
    std::string err = parse_error(cut);
    const char* expect = len < 8 ? "too short" : len < 8 + n ? "runs past the end of the file"
                                                             : "runs past the end of the data section";
    ASSERT_NE(err.find(expect), std::string::npos) << "length " << len << ": " << err;
  }
}

TEST(SafetensorsMalformedFile, ReportsEveryProblem) {
  auto bytes = image("{\"__metadata__\":{\"k\":7}," + entry("a", "F99", "[1]", 0, 4) + "," +
                         entry("b", "F32", "[-1]", 4, 8) + "," + entry("c", "F32", "[2]", 8, 16) + "," +
                         entry("d", "F32", "[2]", 12, 20) + "," + entry("e", "F32", "[3]", 20, 24) + "}",
                     24);
  std::string err = parse_error(bytes, "multi.safetensors");
  for (const char* want : {"__metadata__ value for key 'k' must be a string", "tensor 'a' bytes [0, 4): unknown dtype 'F99'",
                           "tensor 'b' bytes [4, 8): shape dimension 0 is negative (-1)",
                           "tensor 'd' bytes [12, 20): overlaps tensor 'c' bytes [8, 16)",
                           "tensor 'e' bytes [20, 24): dtype F32 x shape [3] needs 12 bytes, but the range holds 4"})
    EXPECT_NE(err.find(want), std::string::npos) << "missing: " << want << "\nin: " << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 4) << err;
  // Every line names the file.
  std::istringstream lines(err);
  for (std::string line; std::getline(lines, line);) EXPECT_EQ(line.rfind("multi.safetensors: ", 0), 0u) << line;
}

TEST(SafetensorsMalformedFile, ProblemListIsCapped) {
  std::string header = "{";
  for (int i = 0; i < 5000; ++i) header += str_cat(i ? "," : "", entry(str_cat("t", i), "X", "[0]", 0, 0));
  std::string err = parse_error(image(header + "}", 0));
  EXPECT_NE(err.find("... and 4000 more problems"), std::string::npos) << err.substr(err.size() - 200);
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1000);
}

// A cheap in-process fuzz: random mutations of a valid file either parse or fail
// with a message; the sanitizer builds turn any memory error into a failure.
TEST(SafetensorsMalformedFile, RandomMutationsNeverCrash) {
  const fs::path path = scratch("mutate") / "m.safetensors";
  ASSERT_TRUE(every_dtype_writer().write(path, pattern_fill()).ok());
  const std::vector<uint8_t> full = read_bytes(path);
  std::mt19937_64 rng(1234);
  const char* tokens[] = {"{", "}", "[", "]", "\"", ",", ":", "-1", "1e9", "0", "\xff", " ", "\"F32\"", "null"};
  int parsed_ok = 0;
  for (int iter = 0; iter < 5000; ++iter) {
    std::vector<uint8_t> b = full;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t pos = rng() % b.size();
      switch (rng() % 4) {
        case 0: b[pos] = static_cast<uint8_t>(rng()); break;
        case 1: b.erase(b.begin() + pos); break;
        case 2: {
          const char* t = tokens[rng() % std::size(tokens)];
          b.insert(b.begin() + pos, t, t + std::strlen(t));
          break;
        }
        case 3: b[pos % 8] = static_cast<uint8_t>(rng()); break;  // the length
      }
      if (b.empty()) b.push_back(0);
    }
    auto r = SafetensorsFile::parse(b, "mutant");
    if (r.ok()) {
      ++parsed_ok;
      for (const auto& t : r->tensors()) ASSERT_LE(r->data_offset() + t.end, r->file_size());
    } else {
      ASSERT_FALSE(r.error().empty());
    }
  }
  EXPECT_LT(parsed_ok, 5000);
}

}  // namespace
}  // namespace keel
