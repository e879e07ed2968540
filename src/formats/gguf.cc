// GGUF reader: a single pass over the header, metadata and tensor infos that
// validates as it goes. Problems that leave the parse position known (a bad
// key, an unknown tensor type, a misaligned offset ...) are collected and
// parsing goes on; problems that lose the position (a string running past the
// end, an unknown value type, a count that cannot fit) end the parse. Every
// count read from the file is bounded by the bytes left before anything is
// reserved, so hostile files cannot make us allocate more than a small
// multiple of their size. The writer is in gguf_writer.cc.
#include "formats/gguf.h"

#include <algorithm>
#include <bit>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>

#include "core/utf8.h"

namespace keel {

std::string_view gguf_value_type_name(GgufValueType t) {
  switch (t) {
    case GgufValueType::U8: return "u8";
    case GgufValueType::I8: return "i8";
    case GgufValueType::U16: return "u16";
    case GgufValueType::I16: return "i16";
    case GgufValueType::U32: return "u32";
    case GgufValueType::I32: return "i32";
    case GgufValueType::F32: return "f32";
    case GgufValueType::Bool: return "bool";
    case GgufValueType::String: return "string";
    case GgufValueType::Array: return "array";
    case GgufValueType::U64: return "u64";
    case GgufValueType::I64: return "i64";
    case GgufValueType::F64: return "f64";
  }
  return "unknown";
}

// ------------------------------------------------------------------ GgufValue

std::optional<int64_t> GgufValue::as_int() const {
  return std::visit(
      [](const auto& v) -> std::optional<int64_t> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          return v ? 1 : 0;
        } else if constexpr (std::is_same_v<T, uint64_t>) {
          if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
          return static_cast<int64_t>(v);
        } else if constexpr (std::is_integral_v<T>) {
          return static_cast<int64_t>(v);
        } else {
          return std::nullopt;
        }
      },
      value);
}

std::optional<uint64_t> GgufValue::as_uint() const {
  return std::visit(
      [](const auto& v) -> std::optional<uint64_t> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          return v ? 1 : 0;
        } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
          if (v < 0) return std::nullopt;
          return static_cast<uint64_t>(v);
        } else if constexpr (std::is_integral_v<T>) {
          return static_cast<uint64_t>(v);
        } else {
          return std::nullopt;
        }
      },
      value);
}

std::optional<double> GgufValue::as_double() const {
  return std::visit(
      [](const auto& v) -> std::optional<double> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_arithmetic_v<T>) return static_cast<double>(v);
        else return std::nullopt;
      },
      value);
}

std::string GgufValue::to_display_string(size_t max_items) const {
  return std::visit(
      [&](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        char buf[40];
        if constexpr (std::is_same_v<T, std::string>) {
          return "\"" + printable(v) + "\"";
        } else if constexpr (std::is_same_v<T, GgufArray>) {
          std::string s = str_cat("array<", gguf_value_type_name(v.elem_type), ">[",
                                  v.items.size(), "] [");
          for (size_t i = 0; i < v.items.size() && i < max_items; ++i)
            s += (i ? ", " : "") + v.items[i].to_display_string(max_items);
          if (v.items.size() > max_items) s += ", ...";
          return s + "]";
        } else if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, float>) {
          std::snprintf(buf, sizeof(buf), "%.9g", static_cast<double>(v));  // round-trips f32
          return buf;
        } else if constexpr (std::is_same_v<T, double>) {
          std::snprintf(buf, sizeof(buf), "%.17g", v);
          return buf;
        } else {
          return std::to_string(v);  // integers; u8/i8 print as numbers, not chars
        }
      },
      value);
}

// ------------------------------------------------------------------ parsing

namespace {

constexpr char kMagic[4] = {'G', 'G', 'U', 'F'};
// Fewest bytes one entry can take; counts are bounded by remaining / these.
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;              // empty key, type, 1-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;  // empty name, n_dims = 0, type, offset
constexpr int kMaxArrayDepth = 32;       // nesting deeper than this is hostile, not data
constexpr size_t kMaxReportedProblems = 100;

// Scalar size of a value type, 0 for string / array / unknown.
uint64_t scalar_size(uint32_t t) {
  switch (static_cast<GgufValueType>(t)) {
    case GgufValueType::U8: case GgufValueType::I8: case GgufValueType::Bool: return 1;
    case GgufValueType::U16: case GgufValueType::I16: return 2;
    case GgufValueType::U32: case GgufValueType::I32: case GgufValueType::F32: return 4;
    case GgufValueType::U64: case GgufValueType::I64: case GgufValueType::F64: return 8;
    default: return 0;
  }
}

// Minimum encoded size of one value of type t (t must be known).
uint64_t min_value_bytes(uint32_t t) {
  if (t == static_cast<uint32_t>(GgufValueType::String)) return 8;      // length, no bytes
  if (t == static_cast<uint32_t>(GgufValueType::Array)) return 4 + 8;   // elem type, count
  return scalar_size(t);
}

bool known_value_type(uint32_t t) { return t <= static_cast<uint32_t>(GgufValueType::F64); }

// What a parse produces; GgufFile::parse moves it into the file object.
struct Parsed {
  uint32_t version = 0;
  uint32_t alignment = kGgufDefaultAlignment;
  uint64_t data_offset = 0;
  std::vector<std::pair<std::string, GgufValue>> metadata;
  std::vector<GgufTensorInfo> tensors;
};

class Parser {
 public:
  Parser(std::span<const uint8_t> bytes, const std::string& source)
      : p_(bytes.data()), size_(bytes.size()), source_(source) {}

  // Runs the whole parse into `out`; returns the collected problems (empty if valid).
  std::vector<std::string> run(Parsed& out);

 private:
  uint64_t remaining() const { return size_ - pos_; }
  void problem(uint64_t at, const std::string& what) {
    ++n_problems_;
    if (problems_.size() < kMaxReportedProblems)
      problems_.push_back(str_cat(source_, ": byte ", at, ": ", what));
  }
  // A problem after which the position in the file is unknown.
  bool fatal(uint64_t at, const std::string& what) {
    problem(at, what);
    return false;
  }
  // Messages name `ctx` (a key or tensor) plus the array indices being read
  // and `what`; they are only built when something is wrong, since the happy
  // path reads hundreds of thousands of vocabulary items.
  std::string label(std::string_view ctx, std::string_view what = {}) const {
    std::string s(ctx);
    for (uint64_t i : path_) s += str_cat("[", i, "]");
    return s.append(what);
  }
  bool need(uint64_t n, std::string_view ctx, std::string_view what = {}) {
    if (n <= remaining()) return true;
    return fatal(pos_, str_cat(label(ctx, what), " needs ", n, " bytes but only ", remaining(),
                               " remain before end of file (size ", size_, ")"));
  }
  uint64_t le(int n) {  // caller checked need(n)
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | p_[pos_ + i];
    pos_ += n;
    return v;
  }
  bool u32(uint32_t& v, std::string_view ctx, std::string_view what = {}) {
    if (!need(4, ctx, what)) return false;
    v = static_cast<uint32_t>(le(4));
    return true;
  }
  bool u64(uint64_t& v, std::string_view ctx, std::string_view what = {}) {
    if (!need(8, ctx, what)) return false;
    v = le(8);
    return true;
  }
  bool string(std::string& s, std::string_view ctx, std::string_view what) {
    uint64_t len = 0;
    const uint64_t at = pos_;
    if (remaining() < 8) return need(8, ctx, str_cat(what, " length"));
    len = le(8);
    if (len > remaining())
      return fatal(at, str_cat(label(ctx, what), " length ", len, " runs past end of file (",
                               remaining(), " bytes remain)"));
    s.assign(reinterpret_cast<const char*>(p_ + pos_), static_cast<size_t>(len));
    pos_ += len;
    return true;
  }
  bool value(uint32_t type, GgufValue& out, std::string_view ctx, int depth);
  bool header(Parsed& out, uint64_t& n_tensors, uint64_t& n_kv);
  bool kv(Parsed& out, uint64_t index);
  bool tensor_info(Parsed& out, uint64_t index, uint32_t alignment);
  void check_data(Parsed& out);

  const uint8_t* p_;
  uint64_t size_;
  uint64_t pos_ = 0;
  const std::string& source_;
  std::vector<std::string> problems_;
  size_t n_problems_ = 0;
  std::vector<uint64_t> kv_at_, tensor_at_;  // where each entry starts, for messages
  std::map<std::string, size_t, std::less<>> seen_keys_, seen_names_;
  std::vector<uint64_t> path_;  // indices of the array items being read
};

bool Parser::value(uint32_t type, GgufValue& out, std::string_view ctx, int depth) {
  const uint64_t at = pos_;
  out.type = static_cast<GgufValueType>(type);
  switch (out.type) {
    case GgufValueType::U8: if (!need(1, ctx)) return false; out.value = static_cast<uint8_t>(le(1)); return true;
    case GgufValueType::I8: if (!need(1, ctx)) return false; out.value = static_cast<int8_t>(le(1)); return true;
    case GgufValueType::U16: if (!need(2, ctx)) return false; out.value = static_cast<uint16_t>(le(2)); return true;
    case GgufValueType::I16: if (!need(2, ctx)) return false; out.value = static_cast<int16_t>(le(2)); return true;
    case GgufValueType::U32: if (!need(4, ctx)) return false; out.value = static_cast<uint32_t>(le(4)); return true;
    case GgufValueType::I32: if (!need(4, ctx)) return false; out.value = static_cast<int32_t>(le(4)); return true;
    case GgufValueType::U64: if (!need(8, ctx)) return false; out.value = le(8); return true;
    case GgufValueType::I64: if (!need(8, ctx)) return false; out.value = static_cast<int64_t>(le(8)); return true;
    case GgufValueType::F32:
      if (!need(4, ctx)) return false;
      out.value = std::bit_cast<float>(static_cast<uint32_t>(le(4)));
      return true;
    case GgufValueType::F64:
      if (!need(8, ctx)) return false;
      out.value = std::bit_cast<double>(le(8));
      return true;
    case GgufValueType::Bool: {
      if (!need(1, ctx)) return false;
      const uint64_t b = le(1);
      if (b > 1) problem(at, str_cat(label(ctx), ": bool value ", b, " is not 0 or 1"));
      out.value = b != 0;
      return true;
    }
    case GgufValueType::String: {
      std::string s;
      if (!string(s, ctx, ": string value")) return false;
      out.value = std::move(s);
      return true;
    }
    case GgufValueType::Array: {
      if (depth >= kMaxArrayDepth)
        return fatal(at, str_cat(label(ctx), ": arrays nested deeper than ", kMaxArrayDepth));
      uint32_t elem = 0;
      uint64_t count = 0;
      if (!u32(elem, ctx, ": array element type")) return false;
      if (!known_value_type(elem))
        return fatal(at, str_cat(label(ctx), ": unknown array element type ", elem));
      if (!u64(count, ctx, ": array count")) return false;
      const uint64_t min_bytes = min_value_bytes(elem);
      if (count > remaining() / min_bytes)
        return fatal(at + 4, str_cat(label(ctx), ": array count ", count, " of ",
                                     gguf_value_type_name(static_cast<GgufValueType>(elem)),
                                     " cannot fit in the ", remaining(),
                                     " bytes remaining (each needs at least ", min_bytes, ")"));
      GgufArray arr;
      arr.elem_type = static_cast<GgufValueType>(elem);
      arr.items.resize(static_cast<size_t>(count));
      path_.push_back(0);
      for (uint64_t i = 0; i < count; ++i) {
        path_.back() = i;
        if (!value(elem, arr.items[i], ctx, depth + 1)) return false;
      }
      path_.pop_back();
      out.value = std::move(arr);
      return true;
    }
  }
  return fatal(at, str_cat(label(ctx), ": unknown value type ", type));
}

bool Parser::header(Parsed& out, uint64_t& n_tensors, uint64_t& n_kv) {
  if (size_ < 4) return fatal(0, str_cat("file of ", size_, " bytes is too small for the GGUF magic"));
  if (std::memcmp(p_, kMagic, 4) != 0) {
    const std::string found(reinterpret_cast<const char*>(p_), 4);
    if (found == "FUGG")
      return fatal(0, "magic is byte-swapped ('FUGG'): big-endian GGUF files are not supported");
    return fatal(0, str_cat("bad magic '", printable(found), "': not a GGUF file (expected 'GGUF')"));
  }
  pos_ = 4;
  uint32_t version = 0;
  if (!u32(version, "version")) return false;
  const uint32_t swapped = __builtin_bswap32(version);
  if ((version & 0xffffu) == 0 && swapped >= 1 && swapped <= 3)
    return fatal(4, str_cat("version reads ", version, " (byte-swapped ", swapped,
                            "): big-endian GGUF files are not supported, only little-endian"));
  if (version == 1)
    return fatal(4, "GGUF version 1 is not supported (its counts are 32-bit); keel reads v2 and v3");
  if (version != 2 && version != 3)
    return fatal(4, str_cat("unsupported GGUF version ", version, "; keel reads v2 and v3"));
  out.version = version;
  if (!u64(n_tensors, "tensor count") || !u64(n_kv, "metadata count")) return false;
  // Bound both counts by the bytes left so nothing absurd is reserved.
  bool ok = true;
  if (n_kv > remaining() / kMinKvBytes)
    ok = fatal(16, str_cat("metadata count ", n_kv, " cannot fit in the ", remaining(),
                           " bytes remaining (each entry needs at least ", kMinKvBytes, ")"));
  if (n_tensors > remaining() / kMinTensorInfoBytes)
    ok = fatal(8, str_cat("tensor count ", n_tensors, " cannot fit in the ", remaining(),
                          " bytes remaining (each tensor info needs at least ",
                          kMinTensorInfoBytes, ")"));
  if (ok && n_kv * kMinKvBytes + n_tensors * kMinTensorInfoBytes > remaining())
    ok = fatal(8, str_cat("tensor count ", n_tensors, " and metadata count ", n_kv,
                          " cannot both fit in the ", remaining(), " bytes remaining"));
  return ok;
}

bool Parser::kv(Parsed& out, uint64_t index) {
  const uint64_t at = pos_;
  std::string key;
  if (!string(key, str_cat("metadata entry ", index), " key")) return false;
  const std::string name = str_cat("key '", printable(key), "'");
  if (key.empty()) problem(at, str_cat("metadata entry ", index, ": empty key"));
  if (size_t bad = find_invalid_utf8(key); bad != std::string::npos)
    problem(at, str_cat(name, ": key is not valid UTF-8 (bad byte at index ", bad, ")"));
  uint32_t type = 0;
  const uint64_t type_at = pos_;
  if (!u32(type, name, ": value type")) return false;
  if (!known_value_type(type)) return fatal(type_at, str_cat(name, ": unknown value type ", type));
  GgufValue v;
  if (!value(type, v, name, 0)) return false;
  if (auto it = seen_keys_.find(key); it != seen_keys_.end()) {
    problem(at, str_cat(name, ": duplicate key (first at byte ", kv_at_[it->second], ")"));
  } else {
    seen_keys_.emplace(key, out.metadata.size());
  }
  kv_at_.push_back(at);
  out.metadata.emplace_back(std::move(key), std::move(v));
  return true;
}

bool Parser::tensor_info(Parsed& out, uint64_t index, uint32_t alignment) {
  const uint64_t at = pos_;
  GgufTensorInfo t;
  if (!string(t.name, str_cat("tensor info ", index), " name")) return false;
  const std::string name = str_cat("tensor '", printable(t.name), "'");
  if (t.name.empty()) problem(at, str_cat("tensor info ", index, ": empty name"));
  if (t.name.size() > kGgufMaxNameBytes)
    problem(at, str_cat(name, ": name is ", t.name.size(), " bytes, longer than the ",
                        kGgufMaxNameBytes, " GGML allows"));
  if (size_t bad = find_invalid_utf8(t.name); bad != std::string::npos)
    problem(at, str_cat(name, ": name is not valid UTF-8 (bad byte at index ", bad, ")"));
  if (auto it = seen_names_.find(t.name); it != seen_names_.end())
    problem(at, str_cat(name, ": duplicate tensor name (first at byte ", tensor_at_[it->second], ")"));
  else
    seen_names_.emplace(t.name, out.tensors.size());

  uint32_t n_dims = 0;
  const uint64_t dims_at = pos_;
  if (!u32(n_dims, name, ": n_dims")) return false;
  bool shape_ok = true;
  if (n_dims == 0 || n_dims > kGgufMaxDims) {
    problem(dims_at, str_cat(name, ": n_dims ", n_dims, " is outside 1..", kGgufMaxDims));
    shape_ok = false;
    if (n_dims > remaining() / 8)
      return fatal(dims_at, str_cat(name, ": ", n_dims, " dims run past end of file"));
  }
  t.ne.resize(n_dims);
  for (uint32_t d = 0; d < n_dims; ++d)
    if (!u64(t.ne[d], str_cat(name, ": ne[", d, "]"))) return false;
  uint32_t ggml_type = 0;
  const uint64_t type_at = pos_;
  if (!u32(ggml_type, name, ": type") || !u64(t.offset, name, ": data offset")) return false;

  uint64_t numel = 1;
  for (uint32_t d = 0; d < n_dims && shape_ok; ++d) {
    if (t.ne[d] == 0) {
      problem(dims_at, str_cat(name, ": ne[", d, "] is zero"));
      shape_ok = false;
    } else if (__builtin_mul_overflow(numel, t.ne[d], &numel) ||
               numel > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      problem(dims_at, str_cat(name, ": element count overflows (dims ", t.ne[0], " x ... x ",
                               t.ne[d], ")"));
      shape_ok = false;
    }
  }
  Result<DType> dtype = dtype_from_ggml(ggml_type);
  if (!dtype.ok()) problem(type_at, str_cat(name, ": ", dtype.error()));
  if (shape_ok && dtype.ok()) {
    t.dtype = *dtype;
    const DTypeInfo& info = dtype_info(t.dtype);
    if (t.ne[0] % info.block_elems != 0) {
      problem(dims_at, str_cat(name, ": row length ne[0] = ", t.ne[0], " is not a whole number of ",
                               info.name, " blocks of ", info.block_elems));
    } else if (Result<uint64_t> nbytes = dtype_row_bytes(t.dtype, numel); !nbytes.ok()) {
      problem(dims_at, str_cat(name, ": ", nbytes.error()));
    } else {
      t.nbytes = *nbytes;
      int64_t dims[kGgufMaxDims];
      for (uint32_t d = 0; d < n_dims; ++d) dims[d] = static_cast<int64_t>(t.ne[n_dims - 1 - d]);
      t.shape = *Shape::from({dims, n_dims});  // cannot fail: rank <= 4, dims > 0
    }
  }
  if (t.offset % alignment != 0)
    problem(type_at + 4, str_cat(name, ": data offset ", t.offset, " is not a multiple of the alignment ",
                                 alignment));
  tensor_at_.push_back(at);
  out.tensors.push_back(std::move(t));
  return true;
}

// Data ranges: inside the file and disjoint. Runs once all infos are read.
void Parser::check_data(Parsed& out) {
  const uint64_t data_size = out.data_offset <= size_ ? size_ - out.data_offset : 0;
  std::vector<size_t> order;
  for (size_t i = 0; i < out.tensors.size(); ++i) {
    const GgufTensorInfo& t = out.tensors[i];
    if (t.nbytes == 0) continue;  // shape or type already reported
    if (t.offset > data_size || t.nbytes > data_size - t.offset) {
      problem(tensor_at_[i], str_cat("tensor '", printable(t.name), "': data [", t.offset, ", ",
                                     t.offset, " + ", t.nbytes, ") lies outside the data section of ",
                                     data_size, " bytes starting at byte ", out.data_offset));
      continue;
    }
    order.push_back(i);
  }
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return out.tensors[a].offset < out.tensors[b].offset;
  });
  // Compare each range with the one reaching furthest so far: catches every
  // tensor that starts inside an earlier one.
  size_t furthest = 0;
  for (size_t k = 0; k < order.size(); ++k) {
    const GgufTensorInfo& cur = out.tensors[order[k]];
    if (k > 0) {
      const GgufTensorInfo& prev = out.tensors[furthest];
      if (cur.offset < prev.offset + prev.nbytes)
        problem(tensor_at_[order[k]],
                str_cat("tensor '", printable(cur.name), "': data [", cur.offset, ", ",
                        cur.offset + cur.nbytes, ") overlaps tensor '", printable(prev.name), "' [",
                        prev.offset, ", ", prev.offset + prev.nbytes, ")"));
    }
    if (k == 0 || cur.offset + cur.nbytes > out.tensors[furthest].offset + out.tensors[furthest].nbytes)
      furthest = order[k];
  }
}

std::vector<std::string> Parser::run(Parsed& out) {
  uint64_t n_tensors = 0, n_kv = 0;
  bool ok = header(out, n_tensors, n_kv);
  out.metadata.reserve(ok ? static_cast<size_t>(n_kv) : 0);
  for (uint64_t i = 0; ok && i < n_kv; ++i) ok = kv(out, i);

  // general.alignment must be a u32 power of two (as ggml and gguf-py require).
  uint32_t alignment = kGgufDefaultAlignment;
  if (auto it = seen_keys_.find("general.alignment"); ok && it != seen_keys_.end()) {
    const GgufValue& v = out.metadata[it->second].second;
    const uint64_t at = kv_at_[it->second];
    if (v.type != GgufValueType::U32) {
      problem(at, str_cat("key 'general.alignment': type is ", gguf_value_type_name(v.type),
                          ", must be u32"));
    } else if (uint32_t a = std::get<uint32_t>(v.value); a == 0 || (a & (a - 1)) != 0) {
      problem(at, str_cat("key 'general.alignment': ", a, " is not a non-zero power of two"));
    } else {
      alignment = a;
    }
  }
  out.alignment = alignment;

  if (ok) out.tensors.reserve(static_cast<size_t>(n_tensors));
  for (uint64_t i = 0; ok && i < n_tensors; ++i) ok = tensor_info(out, i, alignment);
  if (ok) {
    // The data section starts at the next multiple of the alignment. With no
    // tensors, writers may end the file before that padding: not an error.
    out.data_offset = (pos_ + alignment - 1) / alignment * alignment;
    check_data(out);
  }
  if (n_problems_ > problems_.size())
    problems_.push_back(str_cat(source_, ": ... and ", n_problems_ - problems_.size(),
                                " more problems"));
  return std::move(problems_);
}

}  // namespace

// ------------------------------------------------------------------ GgufFile

Result<GgufFile> GgufFile::parse(std::span<const uint8_t> bytes, std::string source) {
  Parsed parts;
  std::vector<std::string> problems = Parser(bytes, source).run(parts);
  if (!problems.empty()) {
    std::string msg;
    for (const std::string& p : problems) msg += (msg.empty() ? "" : "\n") + p;
    return Status::Error(std::move(msg));
  }
  GgufFile f;
  f.bytes_ = bytes;
  f.source_ = std::move(source);
  f.version_ = parts.version;
  f.alignment_ = parts.alignment;
  f.data_offset_ = parts.data_offset;
  f.metadata_ = std::move(parts.metadata);
  f.tensors_ = std::move(parts.tensors);
  for (size_t i = 0; i < f.metadata_.size(); ++i) f.kv_index_.emplace(f.metadata_[i].first, i);
  for (size_t i = 0; i < f.tensors_.size(); ++i) f.tensor_index_.emplace(f.tensors_[i].name, i);
  return f;
}

Result<GgufFile> GgufFile::open(const std::string& path) {
  Result<MappedFile> mapped = MappedFile::open(path);
  if (!mapped.ok()) return mapped.status();
  auto file = std::make_unique<MappedFile>(std::move(*mapped));
  // The span points into the mapping, which stays put when the unique_ptr moves.
  Result<GgufFile> parsed = parse(file->bytes(), path);
  if (!parsed.ok()) return parsed.status();
  parsed->file_ = std::move(file);
  return parsed;
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &metadata_[it->second].second;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

std::span<const uint8_t> GgufFile::bytes(const GgufTensorInfo& t) const {
  return bytes_.subspan(static_cast<size_t>(data_offset_ + t.offset), static_cast<size_t>(t.nbytes));
}

void GgufFile::drop_resident() const {
  if (file_) file_->drop_resident();
}

ConstTensorView GgufFile::view(const GgufTensorInfo& t) const {
  return ConstTensorView{t.dtype, t.shape, bytes(t).data()};
}

}  // namespace keel
