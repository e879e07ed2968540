// keel.Tokenizer and keel.Encoding: tok::Tokenizer / tok::Encoding bound as
// they are. An Encoding's per-token arrays are NumPy views of the C++ vectors
// (read-only, kept alive by the Encoding), so reading them copies nothing.
// encode_batch releases the GIL while it encodes on every core.
#include <Python.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "python/src/bindings.h"
#include "tokenizer/tokenizer.h"

namespace keel::python {
namespace {

using tok::Encoding;
using tok::Tokenizer;

// A read-only NumPy view of `count` rows of `cols` T at `data`, owned by `base`.
template <typename T>
py::array view(const T* data, size_t count, size_t cols, py::handle base) {
  std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(count)};
  std::vector<py::ssize_t> strides{static_cast<py::ssize_t>(sizeof(T) * cols)};
  if (cols > 1) {
    shape.push_back(static_cast<py::ssize_t>(cols));
    strides.push_back(sizeof(T));
  }
  static const T kEmpty{};
  py::array a(py::dtype::of<T>(), shape, strides, count ? data : &kEmpty, base);
  py::detail::array_proxy(a.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return a;
}

template <typename T>
py::array vector_view(const std::vector<T>& v, py::handle base) {
  return view(v.data(), v.size(), 1, base);
}

py::list optional_ids(const std::vector<std::optional<uint32_t>>& v) {
  py::list out(v.size());
  for (size_t i = 0; i < v.size(); ++i)
    PyList_SET_ITEM(out.ptr(), i, v[i] ? PyLong_FromUnsignedLong(*v[i]) : Py_NewRef(Py_None));
  return out;
}

std::vector<uint32_t> token_ids(const py::handle& ids) {
  std::vector<uint32_t> out;
  size_t i = 0;
  for (py::handle v : py::iter(ids)) {
    if (!PyIndex_Check(v.ptr()))
      throw py::type_error(str_cat("ids[", i, "] must be an integer, got ", Py_TYPE(v.ptr())->tp_name));
    const long long x = PyLong_AsLongLong(py::reinterpret_steal<py::object>(PyNumber_Index(v.ptr())).ptr());
    if (x == -1 && PyErr_Occurred()) throw py::error_already_set();
    if (x < 0 || x > static_cast<long long>(UINT32_MAX))
      throw py::value_error(str_cat("ids[", i, "] = ", x, " is not a token id (0..4294967295)"));
    out.push_back(static_cast<uint32_t>(x));
    ++i;
  }
  return out;
}

py::object truncation_dict(const std::optional<tok::TruncationParams>& t) {
  if (!t) return py::none();
  py::dict d;
  d["max_length"] = t->max_length;
  d["stride"] = t->stride;
  d["strategy"] = t->strategy == tok::TruncationStrategy::LongestFirst ? "longest_first"
                  : t->strategy == tok::TruncationStrategy::OnlyFirst  ? "only_first"
                                                                       : "only_second";
  d["direction"] = t->direction == tok::TruncationDirection::Right ? "right" : "left";
  return d;
}

py::object padding_dict(const std::optional<tok::PaddingParams>& p) {
  if (!p) return py::none();
  py::dict d;
  d["length"] = p->fixed_length ? py::object(py::int_(*p->fixed_length)) : py::object(py::none());
  d["direction"] = p->direction == tok::PaddingDirection::Right ? "right" : "left";
  d["pad_to_multiple_of"] =
      p->pad_to_multiple_of ? py::object(py::int_(*p->pad_to_multiple_of)) : py::object(py::none());
  d["pad_id"] = p->pad_id;
  d["pad_type_id"] = p->pad_type_id;
  d["pad_token"] = p->pad_token;
  return d;
}

}  // namespace

void bind_tokenizer(py::module_& m) {
  static_assert(sizeof(std::pair<size_t, size_t>) == 2 * sizeof(size_t), "offsets are read as [n, 2]");

  py::class_<Encoding>(m, "Encoding", R"doc(
The result of encoding one input (or pair), as HF tokenizers' Encoding.

The per-token arrays (ids, type_ids, offsets, attention_mask,
special_tokens_mask) are read-only NumPy views of the native vectors: reading
them copies nothing, and they keep the Encoding alive. Offsets count Unicode
code points of the input (Python string indices).)doc")
      .def_property_readonly(
          "ids", [](py::object self) { return vector_view(self.cast<const Encoding&>().ids, self); },
          "Token ids, uint32 array of shape (n,).")
      .def_property_readonly(
          "type_ids", [](py::object self) { return vector_view(self.cast<const Encoding&>().type_ids, self); },
          "Type (segment) ids, uint32 array of shape (n,).")
      .def_property_readonly(
          "offsets",
          [](py::object self) {
            const auto& o = self.cast<const Encoding&>().offsets;
            return view(reinterpret_cast<const size_t*>(o.data()), o.size(), 2, self);
          },
          "(start, end) code-point offsets into the input, uint64 array of shape (n, 2).")
      .def_property_readonly(
          "attention_mask",
          [](py::object self) { return vector_view(self.cast<const Encoding&>().attention_mask, self); },
          "1 for real tokens, 0 for padding; uint8 array of shape (n,).")
      .def_property_readonly(
          "special_tokens_mask",
          [](py::object self) { return vector_view(self.cast<const Encoding&>().special_tokens_mask, self); },
          "1 for special tokens added by the post-processor; uint8 array of shape (n,).")
      .def_property_readonly(
          "tokens", [](const Encoding& e) { return e.tokens; }, "The tokens as strings (a new list).")
      .def_property_readonly(
          "word_ids", [](const Encoding& e) { return optional_ids(e.word_ids); },
          "The word each token belongs to, None for special tokens.")
      .def_property_readonly(
          "sequence_ids", [](const Encoding& e) { return optional_ids(e.sequence_ids); },
          "Which input (0 or 1) each token came from, None for special tokens.")
      .def_property_readonly(
          "overflowing", [](const Encoding& e) { return e.overflowing; },
          "The windows that truncation cut off (copies), each an Encoding.")
      .def("__len__", &Encoding::size)
      .def("__repr__", [](const Encoding& e) { return str_cat("keel.Encoding(num_tokens=", e.size(), ")"); });

  py::class_<Tokenizer>(m, "Tokenizer", R"doc(
A Hugging Face tokenizer.json (BPE, WordPiece, Unigram; any normalizer,
pre-tokenizer, post-processor and decoder keel supports), encoding exactly as
HF tokenizers does.

    tok = keel.Tokenizer.from_file("all-MiniLM-L6-v2")   # dir, tokenizer.json or .gguf
    enc = tok.encode("Hello world")
    enc.ids, enc.offsets, enc.attention_mask             # NumPy arrays

Native errors raise keel.KeelError with keel's message.)doc")
      .def_static(
          "from_file",
          [](const std::string& path) {
            py::gil_scoped_release nogil;
            return take(Tokenizer::from_file(path));
          },
          py::arg("path"),
          "Loads a tokenizer.json, a directory holding one (with tokenizer_config.json), or a GGUF file.")
      .def_static(
          "from_str",
          [](const std::string& json) { return take(Tokenizer::from_json(json, "<str>")); }, py::arg("json"),
          "Loads a tokenizer from the text of a tokenizer.json.")
      .def(
          "encode",
          [](const Tokenizer& t, py::handle text, py::handle pair, bool add_special_tokens) {
            std::string_view first = utf8_view(text, "text");
            if (pair.is_none()) return take(t.encode(first, add_special_tokens));
            return take(t.encode_pair(first, utf8_view(pair, "pair"), add_special_tokens));
          },
          py::arg("text"), py::arg("pair") = py::none(), py::arg("add_special_tokens") = true,
          "Encodes one text (or a pair of texts) with tokenizer.json's truncation and padding.\n"
          "Holds the GIL (short inputs: releasing it would cost more than it frees).")
      .def(
          "encode_batch",
          [](const Tokenizer& t, py::handle texts, bool add_special_tokens) {
            Utf8Views in = utf8_views(texts, "texts");
            Result<std::vector<Encoding>> encodings = std::vector<Encoding>();
            {
              py::gil_scoped_release nogil;
              if (!in.views.empty()) encodings = t.encode_batch(in.views, add_special_tokens);
            }
            std::vector<Encoding> all = take(std::move(encodings));
            py::list out(all.size());
            for (size_t i = 0; i < all.size(); ++i)
              PyList_SET_ITEM(out.ptr(), i, py::cast(std::move(all[i])).release().ptr());
            return out;
          },
          py::arg("texts"), py::arg("add_special_tokens") = true,
          "Encodes a sequence of str on every core with the GIL released, then pads the\n"
          "batch as tokenizer.json says. One bad input fails the call (KeelError naming its index).")
      .def(
          "decode",
          [](const Tokenizer& t, py::handle ids, bool skip_special_tokens) {
            std::vector<uint32_t> v = token_ids(ids);
            return take(t.decode(v, skip_special_tokens));
          },
          py::arg("ids"), py::arg("skip_special_tokens") = true,
          "The text of a sequence of token ids (a list or a NumPy array).")
      .def("token_to_id", &Tokenizer::token_to_id, py::arg("token"), "The id of a token, or None.")
      .def("id_to_token", &Tokenizer::id_to_token, py::arg("id"), "The token of an id, or None.")
      .def("get_vocab_size", &Tokenizer::vocab_size, py::arg("with_added_tokens") = true)
      .def_property_readonly(
          "truncation", [](const Tokenizer& t) { return truncation_dict(t.truncation()); },
          "The truncation settings as a dict, or None.")
      .def_property_readonly(
          "padding", [](const Tokenizer& t) { return padding_dict(t.padding()); },
          "The padding settings as a dict, or None.")
      .def("no_truncation", [](Tokenizer& t) { t.set_truncation(std::nullopt); }, "Turns truncation off.")
      .def("no_padding", [](Tokenizer& t) { t.set_padding(std::nullopt); }, "Turns padding off.")
      .def(
          "enable_truncation",
          [](Tokenizer& t, size_t max_length, size_t stride) {
            if (max_length == 0) throw py::value_error("max_length must be at least 1");
            tok::TruncationParams p = t.truncation().value_or(tok::TruncationParams{});
            p.max_length = max_length;
            p.stride = stride;
            t.set_truncation(p);
          },
          py::arg("max_length"), py::arg("stride") = 0, "Truncates every encoding to max_length tokens.")
      .def(
          "enable_padding",
          [](Tokenizer& t, std::optional<size_t> length, uint32_t pad_id, uint32_t pad_type_id,
             const std::string& pad_token, std::optional<size_t> pad_to_multiple_of) {
            tok::PaddingParams p;
            p.fixed_length = length;
            p.pad_id = pad_id;
            p.pad_type_id = pad_type_id;
            p.pad_token = pad_token;
            p.pad_to_multiple_of = pad_to_multiple_of;
            t.set_padding(p);
          },
          py::arg("length") = py::none(), py::arg("pad_id") = 0, py::arg("pad_type_id") = 0,
          py::arg("pad_token") = "[PAD]", py::arg("pad_to_multiple_of") = py::none(),
          "Pads to `length`, or to the longest of each encode_batch call when None.");
}

}  // namespace keel::python
