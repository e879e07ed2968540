// keel._keel: the native half of the `keel` Python package. The bindings call
// keel's C++ API directly (no C ABI in between); every native error (a failed
// Status / Result) becomes keel.KeelError carrying the native message.
#include <pybind11/pybind11.h>

#include "python/src/bindings.h"

namespace py = pybind11;

PYBIND11_MODULE(_keel, m) {
  m.doc() = "keel's native module: Tokenizer, Encoding and Embedder bound from the C++ API.";
  m.attr("__version__") = KEEL_VERSION;
  keel::python::bind_errors(m);
  keel::python::bind_tokenizer(m);
  keel::python::bind_embedder(m);
}
