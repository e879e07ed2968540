// GGUF v3 writer. The header, metadata and tensor infos are serialized in
// memory (they are small: even a 150k-token vocabulary is a few MB); tensor
// data is then produced one tensor at a time by the caller's fill() and
// streamed out, so writing a multi-GB model holds one tensor in memory.
// The layout matches ggml's gguf_write_out: data section aligned, each tensor
// padded with zeros to the alignment (the last one too).
#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "core/utf8.h"
#include "formats/gguf.h"

namespace keel {
namespace {

class ByteSink {
 public:
  explicit ByteSink(std::vector<uint8_t>& out) : out_(out) {}
  void le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void str(std::string_view s) {
    le(s.size(), 8);
    out_.insert(out_.end(), s.begin(), s.end());
  }
  void value(const GgufValue& v) {
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::string>) {
            str(x);
          } else if constexpr (std::is_same_v<T, GgufArray>) {
            le(static_cast<uint32_t>(x.elem_type), 4);
            le(x.items.size(), 8);
            for (const GgufValue& item : x.items) value(item);
          } else if constexpr (std::is_same_v<T, bool>) {
            le(x ? 1 : 0, 1);
          } else if constexpr (std::is_same_v<T, float>) {
            le(std::bit_cast<uint32_t>(x), 4);
          } else if constexpr (std::is_same_v<T, double>) {
            le(std::bit_cast<uint64_t>(x), 8);
          } else {
            le(static_cast<uint64_t>(x), sizeof(T));  // two's complement bytes for signed
          }
        },
        v.value);
  }
  void pad(uint64_t base, uint32_t alignment) {
    while ((out_.size() - base) % alignment != 0) out_.push_back(0);
  }

 private:
  std::vector<uint8_t>& out_;
};

// The variant's alternative must be the one `type` names (their indices are
// the GGUF type codes), and array items must all have the element type.
// Returns "" if fine, else the problem led by the path to it ("[3]: ...");
// nothing is formatted on the happy path, which may cover 100k+ tokens.
std::string check_value(const GgufValue& v, int depth = 0) {
  if (static_cast<uint32_t>(v.type) > static_cast<uint32_t>(GgufValueType::F64))
    return str_cat(": unknown value type ", static_cast<uint32_t>(v.type));
  if (v.value.index() != static_cast<size_t>(v.type))
    return str_cat(": value declared ", gguf_value_type_name(v.type), " holds a different type");
  if (const GgufArray* a = v.as_array()) {
    if (depth >= 32) return ": arrays nested deeper than 32";
    for (size_t i = 0; i < a->items.size(); ++i) {
      if (a->items[i].type != a->elem_type)
        return str_cat("[", i, "]: ", gguf_value_type_name(a->items[i].type), " item in an array of ",
                       gguf_value_type_name(a->elem_type));
      if (std::string p = check_value(a->items[i], depth + 1); !p.empty())
        return str_cat("[", i, "]", p);
    }
  }
  return {};
}

Result<uint32_t> alignment_of(const std::vector<std::pair<std::string, GgufValue>>& metadata) {
  for (const auto& [key, v] : metadata) {
    if (key != "general.alignment") continue;
    if (v.type != GgufValueType::U32 || !std::holds_alternative<uint32_t>(v.value))
      return Error("general.alignment must be u32, not ", gguf_value_type_name(v.type));
    const uint32_t a = std::get<uint32_t>(v.value);
    if (a == 0 || (a & (a - 1)) != 0)
      return Error("general.alignment ", a, " is not a non-zero power of two");
    return a;
  }
  return kGgufDefaultAlignment;
}

uint64_t align_up(uint64_t x, uint32_t a) { return (x + a - 1) / a * a; }

// Packs the tensors back to back, each starting on the alignment.
void assign_offsets(std::vector<GgufTensorInfo>& tensors,
                    const std::vector<std::pair<std::string, GgufValue>>& metadata) {
  Result<uint32_t> a = alignment_of(metadata);  // an invalid one fails later, in write()
  const uint32_t alignment = a.ok() ? *a : kGgufDefaultAlignment;
  uint64_t offset = 0;
  for (GgufTensorInfo& t : tensors) {
    t.offset = offset;
    offset = align_up(offset + t.nbytes, alignment);
  }
}

// Header, metadata, tensor infos and the padding before the data section.
Result<std::vector<uint8_t>> serialize_head(const std::vector<std::pair<std::string, GgufValue>>& metadata,
                                            const std::vector<GgufTensorInfo>& tensors,
                                            uint32_t alignment) {
  for (const auto& [key, v] : metadata) {
    if (key.empty()) return Error("empty metadata key");
    if (!is_valid_utf8(key)) return Error("metadata key '", printable(key), "' is not valid UTF-8");
    if (std::string p = check_value(v); !p.empty()) return Error("key '", printable(key), "'", p);
  }
  std::vector<uint8_t> out;
  ByteSink sink(out);
  sink.le(0x46554747, 4);  // "GGUF"
  sink.le(3, 4);
  sink.le(tensors.size(), 8);
  sink.le(metadata.size(), 8);
  for (const auto& [key, v] : metadata) {
    sink.str(key);
    sink.le(static_cast<uint32_t>(v.type), 4);
    sink.value(v);
  }
  for (const GgufTensorInfo& t : tensors) {
    sink.str(t.name);
    sink.le(t.ne.size(), 4);
    for (uint64_t d : t.ne) sink.le(d, 8);
    sink.le(dtype_info(t.dtype).ggml_type, 4);
    sink.le(t.offset, 8);  // set by assign_offsets() for this alignment
  }
  sink.pad(0, alignment);
  return out;
}

// Streams tensor data to `write(bytes)` one tensor at a time.
template <typename Write>
Status write_data(const std::vector<GgufTensorInfo>& tensors, uint32_t alignment,
                  const GgufWriter::Fill& fill, Write&& write) {
  std::vector<uint8_t> buf;
  static const uint8_t kZeros[256] = {};
  for (size_t i = 0; i < tensors.size(); ++i) {
    const GgufTensorInfo& t = tensors[i];
    // Zeroed each time so a fill() that skips bytes still writes deterministic files.
    buf.assign(static_cast<size_t>(t.nbytes), 0);
    KEEL_RETURN_IF_ERROR(fill(i, std::span<uint8_t>(buf)).with_context(str_cat("tensor '", t.name, "'")));
    KEEL_RETURN_IF_ERROR(write(buf.data(), buf.size()));
    for (uint64_t pad = align_up(t.nbytes, alignment) - t.nbytes; pad > 0;) {
      const size_t n = pad < sizeof(kZeros) ? static_cast<size_t>(pad) : sizeof(kZeros);
      KEEL_RETURN_IF_ERROR(write(kZeros, n));
      pad -= n;
    }
  }
  return Status::Ok();
}

}  // namespace

void GgufWriter::set(std::string key, GgufValue value) {
  const bool relayout = key == "general.alignment";
  auto it = std::find_if(metadata_.begin(), metadata_.end(), [&](const auto& kv) { return kv.first == key; });
  if (it != metadata_.end()) it->second = std::move(value);
  else metadata_.emplace_back(std::move(key), std::move(value));
  if (relayout) assign_offsets(tensors_, metadata_);
}

Status GgufWriter::add_tensor(std::string name, DType dtype, Shape shape) {
  const std::string where = str_cat("tensor '", printable(name), "'");
  if (name.empty()) return Error("empty tensor name");
  if (name.size() > kGgufMaxNameBytes)
    return Error(where, ": name is ", name.size(), " bytes, longer than the ", kGgufMaxNameBytes,
                 " GGML allows");
  if (!is_valid_utf8(name)) return Error(where, ": name is not valid UTF-8");
  for (const GgufTensorInfo& t : tensors_)
    if (t.name == name) return Error(where, ": duplicate tensor name");
  if (shape.rank() < 1 || shape.rank() > static_cast<int>(kGgufMaxDims))
    return Error(where, ": rank ", shape.rank(), " is outside 1..", kGgufMaxDims);
  const DTypeInfo& info = dtype_info(dtype);
  if (info.ggml_type == kNoGgmlType) return Error(where, ": GGUF cannot store dtype ", info.name);
  for (int64_t d : shape.dims())
    if (d <= 0) return Error(where, ": shape ", shape.to_string(), " has a dimension <= 0");
  Result<uint64_t> numel = shape.checked_numel();
  if (!numel.ok()) return numel.status().with_context(where);
  const int64_t row = shape[shape.rank() - 1];
  if (row % info.block_elems != 0)
    return Error(where, ": row length ", row, " is not a whole number of ", info.name, " blocks of ",
                 info.block_elems);
  Result<uint64_t> nbytes = dtype_row_bytes(dtype, *numel);
  if (!nbytes.ok()) return nbytes.status().with_context(where);

  GgufTensorInfo t;
  t.name = std::move(name);
  t.dtype = dtype;
  t.shape = shape;
  for (int i = shape.rank() - 1; i >= 0; --i) t.ne.push_back(static_cast<uint64_t>(shape[i]));
  t.nbytes = *nbytes;
  tensors_.push_back(std::move(t));
  assign_offsets(tensors_, metadata_);
  return Status::Ok();
}

Result<std::vector<uint8_t>> GgufWriter::write_to_memory(const Fill& fill) const {
  Result<uint32_t> alignment = alignment_of(metadata_);
  if (!alignment.ok()) return alignment.status();
  Result<std::vector<uint8_t>> out = serialize_head(metadata_, tensors_, *alignment);
  if (!out.ok()) return out;
  std::vector<uint8_t>& bytes = *out;
  Status st = write_data(tensors_, *alignment, fill, [&](const uint8_t* p, size_t n) {
    bytes.insert(bytes.end(), p, p + n);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return out;
}

Status GgufWriter::write(const std::string& path, const Fill& fill) const {
  Result<uint32_t> alignment = alignment_of(metadata_);
  if (!alignment.ok()) return alignment.status().with_context(str_cat("writing ", path));
  Result<std::vector<uint8_t>> head = serialize_head(metadata_, tensors_, *alignment);
  if (!head.ok()) return head.status().with_context(str_cat("writing ", path));

  // Written beside the target and renamed, so a reader never sees half a file.
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return Error("cannot create '", tmp, "': ", std::strerror(errno));
  // Whole 4 MiB writes at 4 MiB offsets: the page cache then holds the file in
  // 2 MiB folios (on file systems with large folios), which a reader's mapping
  // covers with huge TLB entries (see MappedFile::open). stdio's default 4 KiB
  // buffer split the tensors into folios of every size.
  std::vector<char> buf(size_t{4} << 20);
  std::setvbuf(f, buf.data(), _IOFBF, buf.size());
  auto write_bytes = [&](const uint8_t* p, size_t n) -> Status {
    if (n > 0 && std::fwrite(p, 1, n, f) != n)
      return Error("error writing '", tmp, "': ", std::strerror(errno));
    return Status::Ok();
  };
  Status st = write_bytes(head->data(), head->size());
  if (st.ok()) st = write_data(tensors_, *alignment, fill, write_bytes);
  if (std::fclose(f) != 0 && st.ok()) st = Error("error closing '", tmp, "': ", std::strerror(errno));
  if (st.ok() && std::rename(tmp.c_str(), path.c_str()) != 0)
    st = Error("cannot rename '", tmp, "' to '", path, "': ", std::strerror(errno));
  if (!st.ok()) std::remove(tmp.c_str());
  return st;
}

}  // namespace keel
