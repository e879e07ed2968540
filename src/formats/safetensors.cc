// safetensors: strict validating reader (zero-copy over an mmap), streaming
// writer, and sharded checkpoints. The layout is described in safetensors.h.
//
// The header is parsed with nlohmann's SAX interface rather than into a DOM: the
// schema is fixed and shallow, so the handler keeps only what it needs, skips
// anything unexpected with a depth counter (no memory per nesting level), and sees
// duplicate keys, which a DOM would silently merge.
#include "formats/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/utf8.h"

namespace keel {
namespace {

using nlohmann::json;

// Problems past this many are counted, not listed, so that a hostile header
// cannot make the error message itself enormous.
constexpr size_t kMaxProblems = 1000;

uint64_t load_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::string q(std::string_view s) { return str_cat("'", printable(s, 200), "'"); }

// One top-level entry of the header, as far as it could be read.
struct HeaderEntry {
  std::string name;
  bool seen_dtype = false, seen_shape = false, seen_offsets = false;
  std::optional<DType> dtype;
  // shape / data_offsets as read; *_ok turns false on a bad element.
  std::array<int64_t, kMaxDims> dims{};
  size_t n_dims = 0;
  bool dims_ok = true;
  std::array<uint64_t, 2> offsets{};
  size_t n_offsets = 0;
  bool offsets_ok = true;
  bool duplicate = false;

  bool has_range() const { return seen_offsets && offsets_ok && n_offsets == 2 && offsets[0] <= offsets[1]; }
  bool has_shape() const { return seen_shape && dims_ok && n_dims <= kMaxDims; }
  Shape shape() const { return *Shape::from(std::span<const int64_t>(dims.data(), n_dims)); }
};

// Problems in the order found. A problem that belongs to a header entry gets its
// "tensor 'x' bytes [b, e): " prefix when the message is built, once the entry's
// data_offsets are known (they may come after the problem in the JSON).
class Problems {
 public:
  static constexpr size_t kNoEntry = std::numeric_limits<size_t>::max();
  void add(std::string text, size_t entry = kNoEntry) {
    if (items_.size() < kMaxProblems)
      items_.push_back({entry, std::move(text)});
    else
      ++omitted_;
  }
  bool empty() const { return items_.empty(); }
  // Every line starts with `source`, so each stands alone in a log.
  std::string join(const std::string& source, const std::vector<HeaderEntry>& entries) const {
    std::string out;
    for (const auto& [entry, text] : items_) {
      if (!out.empty()) out += '\n';
      out += source + ": ";
      if (entry != kNoEntry) {
        const HeaderEntry& e = entries[entry];
        out += "tensor " + q(e.name);
        if (e.has_range()) out += str_cat(" bytes [", e.offsets[0], ", ", e.offsets[1], ")");
        out += ": ";
      }
      out += text;
    }
    if (omitted_ > 0) out += str_cat("\n", source, ": ... and ", omitted_, " more problems");
    return out;
  }

 private:
  std::vector<std::pair<size_t, std::string>> items_;
  size_t omitted_ = 0;
};

// Checks every string literal of the header for invalid UTF-8, naming the
// literal (nlohmann stops at the first bad byte with a generic message). Returns
// a copy with each invalid byte replaced by '?' so that the rest of the header
// can still be checked, or nothing when the header is clean.
std::optional<std::string> check_header_utf8(std::string_view h, Problems& problems) {
  std::optional<std::string> fixed;
  int depth = 0;
  size_t i = 0;
  while (i < h.size()) {
    char c = h[i];
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') --depth;
    if (c != '"') {
      ++i;
      continue;
    }
    const size_t open = i++;
    while (i < h.size() && h[i] != '"') i += h[i] == '\\' ? 2 : 1;
    const size_t close = std::min(i, h.size());
    i = close + 1;
    std::string_view raw = h.substr(open + 1, close - open - 1);
    size_t bad = find_invalid_utf8(raw);
    if (bad == std::string_view::npos) continue;
    size_t next = i;
    while (next < h.size() && (h[next] == ' ' || h[next] == '\t' || h[next] == '\n' || h[next] == '\r'))
      ++next;
    const bool is_key = next < h.size() && h[next] == ':';
    const char* what = !is_key ? "string" : depth == 1 ? "tensor name" : "key";
    problems.add(str_cat(what, " ", q(raw), " at file bytes [", 8 + open, ", ",
                         8 + std::min(close + 1, h.size()), ") is not valid UTF-8"));
    if (!fixed) fixed.emplace(h);
    // Replace each invalid byte; find_invalid_utf8 points at the start of a bad sequence.
    for (size_t pos = bad; pos != std::string_view::npos;) {
      (*fixed)[open + 1 + pos] = '?';
      size_t rest = find_invalid_utf8(raw.substr(pos + 1));
      pos = rest == std::string_view::npos ? rest : pos + 1 + rest;
    }
  }
  return fixed;
}

// nlohmann SAX handler for the header: {"name": {"dtype", "shape", "data_offsets"},
// ..., "__metadata__": {string: string}}.
class HeaderSax {
 public:
  explicit HeaderSax(Problems& problems) : problems_(problems) {}

  std::vector<HeaderEntry> entries;
  std::map<std::string, std::string> metadata;
  bool json_failed = false;  // syntax error, or the header is not an object

  bool null() { return scalar(Kind::Null); }
  bool boolean(bool) { return scalar(Kind::Bool); }
  bool number_integer(json::number_integer_t v) {
    // nlohmann reports non-negative literals as unsigned; "-0" arrives here.
    if (v >= 0) return scalar(Kind::Uint, static_cast<uint64_t>(v));
    return scalar(Kind::Int, 0, v);
  }
  bool number_unsigned(json::number_unsigned_t v) { return scalar(Kind::Uint, v); }
  bool number_float(json::number_float_t, const std::string& text) {
    return scalar(Kind::Float, 0, 0, &text);
  }
  bool string(std::string& s) { return scalar(Kind::String, 0, 0, &s); }
  bool binary(json::binary_t&) { return scalar(Kind::Binary); }  // never from JSON text
  bool start_object(size_t) { return start(true); }
  bool start_array(size_t) { return start(false); }
  bool end_object() { return end(); }
  bool end_array() { return end(); }
  bool key(std::string& k);
  bool parse_error(size_t position, const std::string&, const json::exception& e) {
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at ..." -> "parse error at ..."
    if (auto p = what.find("] "); p != std::string::npos) what.erase(0, p + 2);
    problems_.add(str_cat("header is not valid JSON (near file offset ", 8 + (position ? position - 1 : 0),
                          "): ", printable(what, 300)));
    json_failed = true;
    return false;
  }

 private:
  enum class Kind { Null, Bool, Int, Uint, Float, String, Binary, Object, Array };
  enum class Frame : uint8_t { Top, Tensor, Metadata, Shape, Offsets };
  // What the next value is, given the enclosing frame and key.
  enum class Slot { Entry, MetadataObject, Dtype, Shape, Offsets, MetaValue, Dim, Offset, Skip };

  static const char* kind_name(Kind k) {
    switch (k) {
      case Kind::Null: return "null";
      case Kind::Bool: return "a boolean";
      case Kind::Int:
      case Kind::Uint:
      case Kind::Float: return "a number";
      case Kind::String: return "a string";
      case Kind::Binary: return "binary";
      case Kind::Object: return "an object";
      case Kind::Array: return "an array";
    }
    return "?";
  }

  Slot slot() const {
    if (skip_value_) return Slot::Skip;
    switch (frames_.back()) {
      case Frame::Top: return key_ == "__metadata__" ? Slot::MetadataObject : Slot::Entry;
      case Frame::Tensor: return key_ == "dtype" ? Slot::Dtype : key_ == "shape" ? Slot::Shape : Slot::Offsets;
      case Frame::Metadata: return Slot::MetaValue;
      case Frame::Shape: return Slot::Dim;
      case Frame::Offsets: return Slot::Offset;
    }
    return Slot::Skip;
  }
  size_t cur() const { return entries.size() - 1; }
  void entry_problem(std::string text) { problems_.add(std::move(text), cur()); }
  void not_object(Kind k) {
    problems_.add(str_cat("header is ", kind_name(k), ", not a JSON object"));
    json_failed = true;
  }

  bool scalar(Kind k, uint64_t u = 0, int64_t i = 0, const std::string* s = nullptr);
  bool start(bool object);
  bool end();
  void finish_entry();

  Problems& problems_;
  std::vector<Frame> frames_;  // at most Top, Tensor, Shape: skipped values do not push
  size_t skip_ = 0;            // depth inside a container being skipped
  bool skip_value_ = false;    // the next value belongs to a rejected key
  std::string key_;            // the last key read in the innermost object
  bool seen_metadata_ = false;
  std::set<std::string, std::less<>> metadata_keys_;
};

bool HeaderSax::key(std::string& k) {
  if (skip_ > 0) return true;
  key_ = k;
  switch (frames_.back()) {
    case Frame::Top:
      if (k == "__metadata__") {
        if (seen_metadata_) {
          problems_.add("duplicate key '__metadata__'");
          skip_value_ = true;
        }
        seen_metadata_ = true;
      }
      break;  // duplicate tensor names are found once the header is read
    case Frame::Tensor: {
      HeaderEntry& e = entries.back();
      bool* seen = k == "dtype" ? &e.seen_dtype : k == "shape" ? &e.seen_shape
                 : k == "data_offsets" ? &e.seen_offsets : nullptr;
      if (seen == nullptr) {
        entry_problem(str_cat("unknown key ", q(k), " (expected dtype, shape, data_offsets)"));
        skip_value_ = true;
      } else if (*seen) {
        entry_problem(str_cat("duplicate key ", q(k)));
        skip_value_ = true;
      }
      if (seen) *seen = true;
      break;
    }
    case Frame::Metadata:
      if (!metadata_keys_.insert(k).second) {
        problems_.add(str_cat("__metadata__: duplicate key ", q(k)));
        skip_value_ = true;
      }
      break;
    default: break;  // arrays have no keys
  }
  return true;
}

bool HeaderSax::start(bool object) {
  const Kind k = object ? Kind::Object : Kind::Array;
  if (skip_ > 0) {
    ++skip_;
    return true;
  }
  if (frames_.empty()) {
    if (!object) {
      not_object(k);
      return false;
    }
    frames_.push_back(Frame::Top);
    return true;
  }
  const Slot s = slot();
  skip_value_ = false;  // this value is the one it was about
  switch (s) {
    case Slot::Entry:
      entries.emplace_back();
      entries.back().name = key_;
      if (object) {
        frames_.push_back(Frame::Tensor);
        return true;
      }
      entry_problem("entry is an array, not an object with dtype, shape, data_offsets");
      break;
    case Slot::MetadataObject:
      if (object) {
        frames_.push_back(Frame::Metadata);
        return true;
      }
      problems_.add("__metadata__ must be an object of strings, not an array");
      break;
    case Slot::Shape:
      if (!object) {
        frames_.push_back(Frame::Shape);
        return true;
      }
      entries.back().dims_ok = false;
      entry_problem("shape must be an array of integers, not an object");
      break;
    case Slot::Offsets:
      if (!object) {
        frames_.push_back(Frame::Offsets);
        return true;
      }
      entries.back().offsets_ok = false;
      entry_problem("data_offsets must be an array of two integers, not an object");
      break;
    case Slot::Dtype:
    case Slot::MetaValue:
    case Slot::Dim:
    case Slot::Offset: scalar(k); break;  // reports the wrong type
    case Slot::Skip: break;
  }
  skip_ = 1;
  return true;
}

bool HeaderSax::end() {
  if (skip_ > 0) {
    --skip_;
    return true;
  }
  const Frame f = frames_.back();
  frames_.pop_back();
  if (f == Frame::Tensor) finish_entry();
  if (f == Frame::Shape && entries.back().n_dims > kMaxDims)
    entry_problem(str_cat("shape has rank ", entries.back().n_dims, ", more than ", kMaxDims));
  if (f == Frame::Offsets) {
    const HeaderEntry& e = entries.back();
    if (e.n_offsets != 2)
      entry_problem(str_cat("data_offsets has ", e.n_offsets, " elements, expected 2"));
    else if (e.offsets_ok && e.offsets[0] > e.offsets[1])
      entry_problem(str_cat("data_offsets [", e.offsets[0], ", ", e.offsets[1], "] begin after they end"));
  }
  return true;
}

void HeaderSax::finish_entry() {
  const HeaderEntry& e = entries.back();
  if (!e.seen_dtype) entry_problem("missing 'dtype'");
  if (!e.seen_shape) entry_problem("missing 'shape'");
  if (!e.seen_offsets) entry_problem("missing 'data_offsets'");
}

bool HeaderSax::scalar(Kind k, uint64_t u, int64_t i, const std::string* s) {
  if (skip_ > 0) return true;
  if (frames_.empty()) {
    not_object(k);
    return false;
  }
  const Slot slot_now = slot();
  skip_value_ = false;  // this value is the one it was about
  const bool is_uint = k == Kind::Uint;
  // The literal as written, for messages about numbers.
  const std::string text = k == Kind::Int ? std::to_string(i)
                         : k == Kind::Float && s ? printable(*s, 40)
                         : std::string(kind_name(k));
  switch (slot_now) {
    case Slot::Entry:
      entries.emplace_back();
      entries.back().name = key_;
      entry_problem(str_cat("entry is ", kind_name(k), ", not an object with dtype, shape, data_offsets"));
      break;
    case Slot::MetadataObject:
      problems_.add(str_cat("__metadata__ must be an object of strings, not ", kind_name(k)));
      break;
    case Slot::Dtype:
      if (k != Kind::String) {
        entry_problem(str_cat("dtype must be a string, not ", kind_name(k)));
      } else if (auto d = dtype_from_safetensors(*s); d.ok()) {
        entries.back().dtype = *d;
      } else {
        entry_problem(str_cat("unknown dtype ", q(*s)));
      }
      break;
    case Slot::Shape:
      entries.back().dims_ok = false;
      entry_problem(str_cat("shape must be an array of integers, not ", kind_name(k)));
      break;
    case Slot::Offsets:
      entries.back().offsets_ok = false;
      entry_problem(str_cat("data_offsets must be an array of two integers, not ", kind_name(k)));
      break;
    case Slot::MetaValue:
      if (k == Kind::String)
        metadata[key_] = *s;
      else
        problems_.add(str_cat("__metadata__ value for key ", q(key_), " must be a string, not ",
                              kind_name(k)));
      break;
    case Slot::Dim: {
      HeaderEntry& e = entries.back();
      const size_t idx = e.n_dims++;
      if (is_uint && u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        if (idx < kMaxDims) e.dims[idx] = static_cast<int64_t>(u);
        break;
      }
      e.dims_ok = false;
      if (is_uint)
        entry_problem(str_cat("shape dimension ", idx, " is ", u, ", which overflows a 64-bit signed size"));
      else if (k == Kind::Int)
        entry_problem(str_cat("shape dimension ", idx, " is negative (", i, ")"));
      else if (k == Kind::Float)
        entry_problem(str_cat("shape dimension ", idx, " is ", text, ", not a non-negative integer"));
      else
        entry_problem(str_cat("shape dimension ", idx, " is ", kind_name(k), ", not a non-negative integer"));
      break;
    }
    case Slot::Offset: {
      HeaderEntry& e = entries.back();
      const size_t idx = e.n_offsets++;
      if (is_uint) {
        if (idx < 2) e.offsets[idx] = u;
        break;
      }
      e.offsets_ok = false;
      if (k == Kind::Int || k == Kind::Float)
        entry_problem(str_cat("data_offsets element ", idx, " is ", text, ", not an unsigned 64-bit integer"));
      else
        entry_problem(str_cat("data_offsets element ", idx, " is ", kind_name(k), ", not an integer"));
      break;
    }
    case Slot::Skip: break;
  }
  return true;
}

// Cross-checks of a syntactically valid header against the data section: unique
// names, byte sizes, and the HF tiling rule (sorted by offset, each tensor begins
// where the previous ended, the last ends at the end of the file).
void check_layout(std::vector<HeaderEntry>& entries, uint64_t data_size, Problems& problems) {
  std::map<std::string_view, size_t> first;
  for (size_t i = 0; i < entries.size(); ++i) {
    auto [it, inserted] = first.emplace(entries[i].name, i);
    if (!inserted) {
      entries[i].duplicate = true;
      problems.add("duplicate tensor name", i);
    }
  }
  std::vector<size_t> placed;  // entries with a usable byte range
  for (size_t i = 0; i < entries.size(); ++i) {
    HeaderEntry& e = entries[i];
    if (e.duplicate || !e.has_range()) continue;
    placed.push_back(i);
    if (!e.dtype || !e.has_shape()) continue;
    const Shape shape = e.shape();
    auto numel = shape.checked_numel();
    if (!numel.ok()) {
      problems.add(numel.error(), i);
      continue;
    }
    auto bytes = dtype_row_bytes(*e.dtype, *numel);
    if (!bytes.ok()) {
      problems.add(str_cat("shape ", shape.to_string(), ": ", bytes.error()), i);
      continue;
    }
    const uint64_t have = e.offsets[1] - e.offsets[0];
    if (*bytes != have)
      problems.add(str_cat("dtype ", dtype_info(*e.dtype).safetensors_name, " x shape ", shape.to_string(),
                           " needs ", *bytes, " bytes, but the range holds ", have),
                   i);
  }
  std::stable_sort(placed.begin(), placed.end(), [&](size_t a, size_t b) {
    return entries[a].offsets < entries[b].offsets;
  });
  uint64_t covered = 0;          // every byte below this belongs to some tensor
  const HeaderEntry* reach = nullptr;  // the tensor that ends at `covered`
  for (size_t i : placed) {
    const HeaderEntry& e = entries[i];
    const auto [begin, end] = e.offsets;
    if (end > data_size)
      problems.add(str_cat("runs past the end of the data section, which is ", data_size, " bytes"), i);
    if (begin > covered)
      problems.add(str_cat("gap: data bytes [", covered, ", ", begin, ") before it belong to no tensor"), i);
    else if (begin < covered)
      problems.add(str_cat("overlaps tensor ", q(reach->name), " bytes [", reach->offsets[0], ", ",
                           reach->offsets[1], ")"),
                   i);
    if (end > covered) {
      covered = end;
      reach = &e;
    }
  }
  if (covered < data_size) {
    if (reach != nullptr)
      problems.add(str_cat("data bytes [", covered, ", ", data_size, ") after tensor ", q(reach->name),
                           " belong to no tensor (the tensors must end at the end of the file)"));
    else if (placed.empty() && entries.empty())
      problems.add(str_cat("data section has ", data_size, " bytes but the header lists no tensors"));
    else
      problems.add(str_cat("data bytes [0, ", data_size, ") belong to no tensor"));
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// SafetensorsFile

Result<SafetensorsFile> SafetensorsFile::parse(std::span<const uint8_t> bytes, std::string source) {
  const uint64_t size = bytes.size();
  if (size < 8)
    return Error(source, ": file is ", size, " bytes, too short for the 8-byte header length");
  const uint64_t n = load_le64(bytes.data());
  if (n > kMaxSafetensorsHeader)
    return Error(source, ": header length ", n, " exceeds the limit of ", kMaxSafetensorsHeader, " bytes");
  if (n > size - 8)
    return Error(source, ": header length ", n, " runs past the end of the file (", size, " bytes, so at most ",
                 size - 8, " bytes of header)");

  Problems problems;
  std::string_view header(reinterpret_cast<const char*>(bytes.data()) + 8, n);
  std::optional<std::string> fixed = check_header_utf8(header, problems);
  if (fixed) header = *fixed;

  HeaderSax sax(problems);
  if (size_t nul = header.find('\0'); nul != std::string_view::npos) {
    // nlohmann's lexer takes a NUL byte for the end of input and would accept
    // "{}\0junk"; JSON allows NUL nowhere, so refuse it here.
    problems.add(str_cat("header is not valid JSON: NUL byte at file offset ", 8 + nul));
    sax.json_failed = true;
  } else {
    try {
      json::sax_parse(header.begin(), header.end(), &sax);
    } catch (const std::exception& e) {  // nlohmann reports through parse_error; this is a backstop
      problems.add(str_cat("header could not be parsed: ", e.what()));
      sax.json_failed = true;
    }
  }
  if (!sax.json_failed) check_layout(sax.entries, size - 8 - n, problems);
  if (!problems.empty()) return Status::Error(problems.join(source, sax.entries));

  SafetensorsFile f;
  f.bytes_ = bytes;
  f.source_ = std::move(source);
  f.header_size_ = n;
  f.metadata_ = std::move(sax.metadata);
  f.tensors_.reserve(sax.entries.size());
  for (const HeaderEntry& e : sax.entries)
    f.tensors_.push_back({e.name, *e.dtype, e.shape(), e.offsets[0], e.offsets[1]});
  std::stable_sort(f.tensors_.begin(), f.tensors_.end(), [](const auto& a, const auto& b) {
    return std::pair(a.begin, a.end) < std::pair(b.begin, b.end);
  });
  for (size_t i = 0; i < f.tensors_.size(); ++i) f.index_.emplace(f.tensors_[i].name, i);
  return f;
}

Result<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  auto mapped = MappedFile::open(path);
  if (!mapped.ok()) return Error(path, ": ", mapped.error());
  auto file = std::make_unique<MappedFile>(std::move(*mapped));
  auto parsed = parse(file->bytes(), path);
  if (!parsed.ok()) return parsed.status();
  parsed->file_ = std::move(file);  // the mapping's address does not move with it
  return parsed;
}

const SafetensorsTensor* SafetensorsFile::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

std::span<const uint8_t> SafetensorsFile::bytes(const SafetensorsTensor& t) const {
  return bytes_.subspan(data_offset() + t.begin, t.nbytes());
}

ConstTensorView SafetensorsFile::view(const SafetensorsTensor& t) const {
  return {t.dtype, t.shape, bytes_.data() + data_offset() + t.begin};
}

// ---------------------------------------------------------------------------
// SafetensorsWriter

Status SafetensorsWriter::add(std::string name, DType dtype, Shape shape) {
  if (name == "__metadata__") return Error("tensor name '__metadata__' is reserved for metadata");
  if (!is_valid_utf8(name)) return Error("tensor name ", q(name), " is not valid UTF-8");
  if (names_.count(name)) return Error("duplicate tensor name ", q(name));
  const DTypeInfo& info = dtype_info(dtype);
  if (info.safetensors_name.empty())
    return Error("tensor ", q(name), ": dtype ", info.name, " cannot be stored in safetensors");
  for (int64_t d : shape.dims())
    if (d < 0) return Error("tensor ", q(name), ": negative dimension in shape ", shape.to_string());
  auto numel = shape.checked_numel();
  if (!numel.ok()) return Error("tensor ", q(name), ": ", numel.error());
  auto bytes = dtype_row_bytes(dtype, *numel);
  if (!bytes.ok()) return Error("tensor ", q(name), ": ", bytes.error());
  const uint64_t begin = tensors_.empty() ? 0 : tensors_.back().end;
  uint64_t end = 0;
  if (__builtin_add_overflow(begin, *bytes, &end))
    return Error("tensor ", q(name), ": total data size overflows 64 bits");
  names_.insert(name);
  tensors_.push_back({std::move(name), dtype, shape, begin, end});
  return Status::Ok();
}

namespace {

// The header JSON, compact like serde_json's, "__metadata__" first, tensors in
// declaration order, padded with spaces to a multiple of 8 bytes. Assembled by
// hand around nlohmann's string escaping because ordered_json's object insert is a
// linear search, quadratic for checkpoints with many tensors.
Result<std::string> build_header(const std::vector<SafetensorsTensor>& tensors,
                                 const std::map<std::string, std::string>& metadata) {
  for (const auto& [k, v] : metadata)
    if (!is_valid_utf8(k) || !is_valid_utf8(v))
      return Error("metadata entry ", q(k), " is not valid UTF-8");
  std::string h = "{";
  if (!metadata.empty()) h += "\"__metadata__\":" + json(metadata).dump();
  for (const auto& t : tensors) {
    json shape = json::array();
    for (int64_t d : t.shape.dims()) shape.push_back(d);
    if (h.size() > 1) h += ',';
    h += json(t.name).dump();
    h += str_cat(":{\"dtype\":\"", dtype_info(t.dtype).safetensors_name, "\",\"shape\":", shape.dump(),
                 ",\"data_offsets\":[", t.begin, ",", t.end, "]}");
  }
  h += '}';
  h.append((8 - h.size() % 8) % 8, ' ');
  return h;
}

// write(2) until done; false with errno set on failure.
bool write_all(int fd, const uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, std::min<size_t>(n, size_t{1} << 30));
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Staging size for the data: consecutive small tensors are packed into one
// write; a tensor larger than this gets a buffer of its own size (fill() needs it
// whole).
constexpr uint64_t kWriteChunk = uint64_t{64} << 20;

}  // namespace

Status SafetensorsWriter::write(const std::string& path, const Fill& fill) const {
  auto header = build_header(tensors_, metadata_);
  if (!header.ok()) return header.status().with_context(path);
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Error(path, ": cannot create '", tmp, "': ", std::strerror(errno));
  auto fail = [&](Status s) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  };

  const uint64_t total = tensors_.empty() ? 0 : tensors_.back().end;
  uint64_t largest = 0;
  for (const auto& t : tensors_) largest = std::max(largest, t.nbytes());
  const uint64_t cap = std::max(largest, std::min(total, kWriteChunk));
  const uint64_t prefix = 8 + header->size();
  // Zeroed once, so bytes a sloppy fill() leaves alone are at least deterministic.
  std::unique_ptr<uint8_t[]> buf(new (std::nothrow) uint8_t[std::max(cap, prefix)]());
  if (!buf) return fail(Error(path, ": cannot allocate a ", cap, "-byte write buffer"));

  uint64_t used = 0;
  auto flush = [&]() {
    bool ok = write_all(fd, buf.get(), used);
    used = 0;
    return ok;
  };
  const uint64_t n = header->size();
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<uint8_t>(n >> (8 * i));
  std::memcpy(buf.get() + 8, header->data(), n);
  used = prefix;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const SafetensorsTensor& t = tensors_[i];
    if (used + t.nbytes() > cap && used > 0 && !flush())
      return fail(Error(path, ": error writing '", tmp, "': ", std::strerror(errno)));
    Status s = fill(i, std::span<uint8_t>(buf.get() + used, t.nbytes()));
    if (!s.ok()) return fail(s.with_context(str_cat(path, ": tensor ", q(t.name))));
    used += t.nbytes();
  }
  if (!flush()) return fail(Error(path, ": error writing '", tmp, "': ", std::strerror(errno)));
  // No fsync: the rename makes the file appear whole to readers, which is what
  // callers need; durability across power loss would cost seconds per GB.
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return Error(path, ": error closing '", tmp, "': ", std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return Error(path, ": cannot rename '", tmp, "': ", std::strerror(e));
  }
  return Status::Ok();
}

Status SafetensorsWriter::write_sharded(const std::string& dir, const std::string& stem,
                                        uint64_t max_shard_bytes, const Fill& fill) const {
  // Greedy in declaration order, as transformers' split_torch_state_dict_into_shards.
  std::vector<std::vector<size_t>> shards(1);
  uint64_t shard_bytes = 0;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const uint64_t b = tensors_[i].nbytes();
    if (!shards.back().empty() && (b > max_shard_bytes || shard_bytes + b > max_shard_bytes)) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().push_back(i);
    shard_bytes += b;
  }
  const size_t count = shards.size();
  auto shard_name = [&](size_t k) {
    char num[64];
    std::snprintf(num, sizeof num, "-%05zu-of-%05zu", k + 1, count);
    return stem + num + ".safetensors";
  };

  json weight_map = json::object();
  uint64_t total = 0;
  for (size_t k = 0; k < count; ++k) {
    SafetensorsWriter shard;
    shard.metadata_ = metadata_;
    for (size_t i : shards[k]) {
      const SafetensorsTensor& t = tensors_[i];
      KEEL_RETURN_IF_ERROR(shard.add(t.name, t.dtype, t.shape));
      weight_map[t.name] = shard_name(k);
      total += t.nbytes();
    }
    const std::vector<size_t>& global = shards[k];
    KEEL_RETURN_IF_ERROR(shard.write((std::filesystem::path(dir) / shard_name(k)).string(),
                                     [&](size_t i, std::span<uint8_t> dst) { return fill(global[i], dst); }));
  }
  // Like transformers' save_pretrained: sorted keys, indent 2, trailing newline.
  json index = {{"metadata", {{"total_size", total}}}, {"weight_map", std::move(weight_map)}};
  return write_text_file((std::filesystem::path(dir) / (stem + ".safetensors.index.json")).string(),
                         index.dump(2) + "\n");
}

}  // namespace keel
