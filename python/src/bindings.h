// The pieces of the keel._keel module, one file per concept, and the helpers
// they share: turning a failed Status into keel.KeelError and reading Python
// strings as UTF-8 without copying them.
#pragma once

#include <string_view>
#include <vector>

#include <pybind11/pybind11.h>

#include "core/status.h"

namespace keel::python {

namespace py = pybind11;

// keel.KeelError (a RuntimeError): raised for every failed native Status.
class KeelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

void bind_errors(py::module_& m);
void bind_tokenizer(py::module_& m);
void bind_embedder(py::module_& m);

// Throws KeelError(status.message()) when the status failed.
inline void check(const Status& s) {
  if (!s.ok()) throw KeelError(s.message());
}
template <typename T>
T take(Result<T>&& r) {
  if (!r.ok()) throw KeelError(r.error());
  return std::move(r).value();
}

// UTF-8 views of a sequence of Python str, valid while `keep` holds the
// objects (CPython caches the UTF-8 form inside each str; for ASCII strings it
// is the string's own buffer, so nothing is copied). `what` names the argument
// in the error for a non-str element. Needs the GIL; the views may then be read
// without it.
struct Utf8Views {
  std::vector<py::object> keep;
  std::vector<std::string_view> views;
};
Utf8Views utf8_views(const py::handle& texts, const char* what);
// One str as UTF-8 (same caching); TypeError for anything else.
std::string_view utf8_view(const py::handle& text, const char* what);

}  // namespace keel::python
