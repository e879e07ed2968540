// `keel make-model`: a real config and tokenizer plus seeded random weights.
//
// The random numbers are portable and parallel by construction. Each tensor has
// a 64-bit stream key, hash(seed, name). Pair j of its values comes from the
// j-th output of SplitMix64 started at that key (a counter-based generator: the
// output is a hash of key + (j + 1) * golden gamma, so any pair can be computed
// without the ones before it). One 64-bit output gives two normals by
// Box-Muller, with log/sin/cos written here as polynomials in double
// arithmetic rather than taken from libm, whose last bits differ between
// platforms. So a value depends only on (seed, name, index): not on the thread
// count, the chunking, or the standard library.
#include "models/synthetic_model.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <span>

#include <nlohmann/json.hpp>

#include "core/half.h"
#include "core/mmap_file.h"
#include "core/thread_pool.h"
#include "formats/hf_config.h"
#include "formats/safetensors.h"
#include "models/weight_table.h"

namespace keel {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kGamma = 0x9e3779b97f4a7c15ull;  // SplitMix64's increment
constexpr float kInitStddev = 0.02f;                 // transformers' initializer_range
// Values per parallel task and per stack buffer. Only speed depends on these.
constexpr int64_t kTaskElems = int64_t{1} << 18;
constexpr int64_t kBufElems = 4096;

// SplitMix64's output function (Steele, Lea, Flood 2014).
uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t stream_key(uint64_t seed, std::string_view name) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a over the name's bytes
  for (unsigned char ch : name) h = (h ^ ch) * 0x100000001b3ull;
  return mix64(mix64(seed + kGamma) ^ h);
}

// Exact uint64 -> double for x < 2^52, in integer and double operations that
// vectorize with plain SSE2 (which has no 64-bit integer conversion).
inline double small_to_double(uint64_t x) {
  return std::bit_cast<double>(0x4330000000000000ull | x) - 0x1p52;
}

// The N(0, stddev) values of pairs [first, first + m), m <= kBatchPairs,
// into out[0 .. 2m). Box-Muller: from one 64-bit output, u = (hi + 1) / 2^32 in
// (0, 1] and t = lo / 2^32 in [0, 1); the pair is radius * (cos, sin)(2 pi t)
// with radius = sqrt(-2 ln u) * stddev. Written as separate simple loops over a
// batch, with selects as bit masks, so the compiler vectorizes them; every
// operation is an exactly rounded IEEE one, so the result does not depend on it.
constexpr int64_t kBatchPairs = 256;
void normal_pairs(uint64_t key, double stddev, uint64_t first, int64_t m, float* out) {
  uint64_t bits[kBatchPairs];
  double radius[kBatchPairs];
  for (int64_t k = 0; k < m; ++k) bits[k] = mix64(key + (first + k + 1) * kGamma);

  // ln(u): u = mant * 2^e with mant in [sqrt(1/2), sqrt(2)); ln(mant) = 2 atanh(s),
  // s = (mant - 1) / (mant + 1), |s| < 0.172, the series to s^13 good to ~1e-12.
  for (int64_t k = 0; k < m; ++k) {
    const double u = small_to_double((bits[k] >> 32) + 1) * 0x1p-32;
    const uint64_t ub = std::bit_cast<uint64_t>(u);
    const uint64_t mant_bits = (ub & 0xfffffffffffffull) | (uint64_t{1023} << 52);  // [1, 2)
    const uint64_t big = mant_bits > 0x3ff6a09e667f3bcdull ? 1 : 0;  // mant > sqrt(2)
    const double mant = std::bit_cast<double>(mant_bits - (big << 52));  // halved if big
    const double e = small_to_double(((ub >> 52) & 0x7ff) + big) - 1023.0;
    const double s = (mant - 1.0) / (mant + 1.0), s2 = s * s;
    const double p =
        1.0 + s2 * (1.0 / 3 + s2 * (1.0 / 5 + s2 * (1.0 / 7 + s2 * (1.0 / 9 + s2 * (1.0 / 11 + s2 / 13)))));
    const double ln_u = e * 0.6931471805599453 + 2.0 * s * p;
    radius[k] = std::sqrt(-2.0 * ln_u) * stddev;
  }

  // cos and sin of 2 pi t: quadrant q = round(4t), r = 2 pi (t - q/4) in
  // [-pi/4, pi/4] (the subtraction is exact), Taylor series to r^14 (< 1e-13).
  for (int64_t k = 0; k < m; ++k) {
    const uint64_t x = bits[k] & 0xffffffffu;
    const uint64_t q = (x + (uint64_t{1} << 29)) >> 30;  // 0..4
    const double r = (small_to_double(x) - small_to_double(q << 30)) * (0x1p-32 * 6.283185307179586);
    const double r2 = r * r;
    const double sr =
        r * (1.0 + r2 * (-1.0 / 6 + r2 * (1.0 / 120 + r2 * (-1.0 / 5040 + r2 * (1.0 / 362880 +
             r2 * (-1.0 / 39916800 + r2 / 6227020800.0))))));
    const double cr =
        1.0 + r2 * (-0.5 + r2 * (1.0 / 24 + r2 * (-1.0 / 720 + r2 * (1.0 / 40320 + r2 * (-1.0 / 3628800 +
              r2 * (1.0 / 479001600 - r2 / 87178291200.0))))));
    // (cos, sin)(r + q pi/2): odd q swaps the two; q = 1, 2 negate cos; q = 2, 3 negate sin.
    const uint64_t swap = 0 - (q & 1);
    const uint64_t cb = std::bit_cast<uint64_t>(cr), sb = std::bit_cast<uint64_t>(sr);
    const uint64_t c = (cb ^ ((cb ^ sb) & swap)) ^ (((q + 1) & 2) << 62);
    const uint64_t s = (sb ^ ((sb ^ cb) & swap)) ^ ((q & 2) << 62);
    out[2 * k] = static_cast<float>(radius[k] * std::bit_cast<double>(c));
    out[2 * k + 1] = static_cast<float>(radius[k] * std::bit_cast<double>(s));
  }
}

// Values [begin, begin + n) of the N(0, stddev) stream `key`, as floats.
void generate_normal(uint64_t key, float stddev, int64_t begin, int64_t n, float* out) {
  float edge[2];
  int64_t i = begin;
  const int64_t end = begin + n;
  if (i < end && (i & 1)) {  // starts on the second value of a pair
    normal_pairs(key, stddev, static_cast<uint64_t>(i / 2), 1, edge);
    *out++ = edge[1], ++i;
  }
  while (end - i >= 2) {
    const int64_t m = std::min(kBatchPairs, (end - i) / 2);
    normal_pairs(key, stddev, static_cast<uint64_t>(i / 2), m, out);
    out += 2 * m, i += 2 * m;
  }
  if (i < end) {  // ends on the first value of a pair
    normal_pairs(key, stddev, static_cast<uint64_t>(i / 2), 1, edge);
    *out = edge[0];
  }
}

// Stores floats as `dtype` (f32 / f16 / bf16) at `dst`, which need not be aligned.
void store(const float* src, int64_t n, DType dtype, uint8_t* dst) {
  if (dtype == DType::F32) {
    std::memcpy(dst, src, static_cast<size_t>(n) * 4);
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t h = dtype == DType::F16 ? f32_to_f16(src[i]) : f32_to_bf16(src[i]);
    std::memcpy(dst + 2 * i, &h, 2);
  }
}

// Fills `dst` (numel values of `dtype`) with what `spec.init` says.
void fill_tensor(const WeightSpec& spec, uint64_t seed, DType dtype, std::span<uint8_t> dst) {
  const int64_t numel = spec.shape.numel();
  const size_t elem = dtype == DType::F32 ? 4 : 2;
  if (spec.init != WeightInit::Normal) {
    const float one = spec.init == WeightInit::Ones ? 1.0f : 0.0f;
    uint8_t pattern[4];
    store(&one, 1, dtype, pattern);
    for (int64_t i = 0; i < numel; ++i) std::memcpy(dst.data() + i * elem, pattern, elem);
    return;
  }
  const uint64_t key = stream_key(seed, spec.name);
  const int64_t tasks = (numel + kTaskElems - 1) / kTaskElems;
  default_thread_pool().parallel_for(tasks, [&](int64_t first, int64_t last) {
    float buf[kBufElems];
    const int64_t stop = std::min(numel, last * kTaskElems);
    for (int64_t i = first * kTaskElems; i < stop; i += kBufElems) {
      const int64_t n = std::min(kBufElems, stop - i);
      generate_normal(key, kInitStddev, i, n, buf);
      store(buf, n, dtype, dst.data() + i * elem);
    }
  });
}

std::string_view torch_dtype_name(DType dtype) {
  return dtype == DType::F16 ? "float16" : dtype == DType::BF16 ? "bfloat16" : "float32";
}

// Copies a file byte for byte. Reading and re-writing (instead of fs::copy_file)
// keeps the copy writable when the source is read-only, so make-model can run
// twice into the same directory.
Status copy_bytes(const fs::path& from, const fs::path& to) {
  auto bytes = read_text_file(from.string());
  if (!bytes.ok()) return bytes.status();
  std::error_code ec;
  fs::create_directories(to.parent_path(), ec);
  if (ec) return Error("cannot create '", to.parent_path().string(), "': ", ec.message());
  return write_text_file(to.string(), *bytes);
}

// The input config with the layer count and torch_dtype replaced, key order kept.
Result<std::string> output_config(const std::string& text, const std::string& source,
                                  const ModelConfig& parsed, const MakeModelOptions& options) {
  using OrderedJson = nlohmann::ordered_json;
  try {
    OrderedJson j = OrderedJson::parse(text);  // parse_hf_config accepted it already
    if (options.num_layers) {
      // GPT-2 may spell n_layer as num_hidden_layers (attribute_map); update what is there.
      std::vector<const char*> keys;
      if (parsed.arch == Architecture::Gpt2) {
        for (const char* k : {"n_layer", "num_hidden_layers"})
          if (j.contains(k)) keys.push_back(k);
        if (keys.empty()) keys.push_back("n_layer");
      } else {
        keys.push_back("num_hidden_layers");
      }
      for (const char* k : keys) j[k] = *options.num_layers;
    }
    j["torch_dtype"] = torch_dtype_name(options.dtype);
    if (j.contains("dtype")) j["dtype"] = torch_dtype_name(options.dtype);  // transformers >= 4.56
    return j.dump(2) + "\n";
  } catch (const std::exception& e) {
    return Error(source, ": ", e.what());
  }
}

constexpr const char* kTokenizerFiles[] = {
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt",
    "vocab.json",     "merges.txt",            "tokenizer.model",         "added_tokens.json"};
// sentence-transformers' pipeline description and the generation defaults.
constexpr const char* kModelDirFiles[] = {
    "modules.json", "sentence_bert_config.json", "config_sentence_transformers.json",
    "1_Pooling/config.json", "generation_config.json"};

}  // namespace

void fill_normal(uint64_t seed, std::string_view name, float stddev, float* out, int64_t n) {
  if (n <= 0) return;
  const uint64_t key = stream_key(seed, name);
  const int64_t tasks = (n + kTaskElems - 1) / kTaskElems;
  default_thread_pool().parallel_for(tasks, [&](int64_t first, int64_t last) {
    const int64_t begin = first * kTaskElems, end = std::min(n, last * kTaskElems);
    generate_normal(key, stddev, begin, end - begin, out + begin);
  });
}

Status make_model(const MakeModelOptions& options) {
  if (options.dtype != DType::F32 && options.dtype != DType::F16 && options.dtype != DType::BF16)
    return Error("make-model: dtype must be f32, f16 or bf16, got ", dtype_name(options.dtype));
  if (options.out_dir.empty()) return Error("make-model: no output directory");
  std::error_code ec;
  const fs::path config_file = fs::is_directory(options.config_path, ec)
                                   ? fs::path(options.config_path) / "config.json"
                                   : fs::path(options.config_path);
  const fs::path config_dir = config_file.has_parent_path() ? config_file.parent_path() : fs::path(".");
  const fs::path tokenizer_dir = options.tokenizer_dir.empty() ? config_dir : fs::path(options.tokenizer_dir);
  if (!fs::is_directory(tokenizer_dir, ec))
    return Error("make-model: tokenizer directory '", tokenizer_dir.string(), "' does not exist");

  // The output config must itself parse, and the weights follow it.
  auto text = read_text_file(config_file.string());
  if (!text.ok()) return text.status();
  auto input = parse_hf_config(*text, config_file.string());
  if (!input.ok()) return input.status();
  if (options.num_layers && (*options.num_layers < 1 || *options.num_layers > 4096))
    return Error("make-model: --layers must be in 1..4096, got ", *options.num_layers);
  auto out_text = output_config(*text, config_file.string(), *input, options);
  if (!out_text.ok()) return out_text.status();
  auto config = parse_hf_config(*out_text, "output config.json");
  if (!config.ok()) return config.status();

  const fs::path out_dir(options.out_dir);
  fs::create_directories(out_dir, ec);
  if (ec) return Error("cannot create '", out_dir.string(), "': ", ec.message());
  KEEL_RETURN_IF_ERROR(write_text_file((out_dir / "config.json").string(), *out_text));

  const std::vector<WeightSpec> table = weight_table(*config);
  SafetensorsWriter writer;
  for (const WeightSpec& w : table) KEEL_RETURN_IF_ERROR(writer.add(w.name, options.dtype, w.shape));
  writer.set_metadata("format", "pt");
  KEEL_RETURN_IF_ERROR(writer.write((out_dir / "model.safetensors").string(),
                                    [&](size_t i, std::span<uint8_t> dst) -> Status {
                                      const size_t elem = options.dtype == DType::F32 ? 4 : 2;
                                      const uint64_t want = table[i].shape.numel() * elem;
                                      if (dst.size() != want)
                                        return Error("internal: tensor '", table[i].name, "' got ",
                                                     dst.size(), " bytes, expected ", want);
                                      fill_tensor(table[i], options.seed, options.dtype, dst);
                                      return Status::Ok();
                                    }));

  for (const char* name : kTokenizerFiles)
    if (fs::is_regular_file(tokenizer_dir / name, ec))
      KEEL_RETURN_IF_ERROR(copy_bytes(tokenizer_dir / name, out_dir / name));
  // These may sit with the tokenizer or with the config; the tokenizer dir wins.
  for (const char* name : kModelDirFiles) {
    for (const fs::path& dir : {tokenizer_dir, config_dir}) {
      if (fs::is_regular_file(dir / name, ec)) {
        KEEL_RETURN_IF_ERROR(copy_bytes(dir / name, out_dir / name));
        break;
      }
    }
  }
  return Status::Ok();
}

}  // namespace keel
