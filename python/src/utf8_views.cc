// UTF-8 views of Python str arguments, read in place (no copy) so that the
// native code can use them after the GIL is released.
#include <Python.h>

#include "python/src/bindings.h"

namespace keel::python {

std::string_view utf8_view(const py::handle& text, const char* what) {
  if (!PyUnicode_Check(text.ptr()))
    throw py::type_error(str_cat(what, " must be str, got ", Py_TYPE(text.ptr())->tp_name));
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(text.ptr(), &size);
  if (!data) throw py::error_already_set();  // e.g. lone surrogates: UnicodeEncodeError
  return std::string_view(data, static_cast<size_t>(size));
}

Utf8Views utf8_views(const py::handle& texts, const char* what) {
  if (PyUnicode_Check(texts.ptr()) || PyBytes_Check(texts.ptr()))
    throw py::type_error(str_cat(what, " must be a sequence of str, not a single string"));
  Utf8Views out;
  // Any iterable; lists and tuples are read in place.
  py::object seq = PyList_Check(texts.ptr()) || PyTuple_Check(texts.ptr())
                       ? py::reinterpret_borrow<py::object>(texts)
                       : py::object(py::list(py::reinterpret_borrow<py::object>(texts)));
  const size_t n = py::len(seq);
  out.keep.reserve(n);
  out.views.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    py::object item = py::reinterpret_borrow<py::object>(
        PyList_Check(seq.ptr()) ? PyList_GET_ITEM(seq.ptr(), i) : PyTuple_GET_ITEM(seq.ptr(), i));
    if (!PyUnicode_Check(item.ptr()))
      throw py::type_error(str_cat(what, "[", i, "] must be str, got ", Py_TYPE(item.ptr())->tp_name));
    out.views.push_back(utf8_view(item, what));
    out.keep.push_back(std::move(item));
  }
  return out;
}

}  // namespace keel::python
