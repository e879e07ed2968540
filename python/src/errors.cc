// keel.KeelError: every failed native Status, with keel's message.
#include <Python.h>

#include "python/src/bindings.h"

namespace keel::python {

void bind_errors(py::module_& m) {
  static py::exception<KeelError> error(m, "KeelError", PyExc_RuntimeError);
  error.doc() = "A native keel error; str(e) is keel's message (what was wrong and where).";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const KeelError& e) {
      PyErr_SetString(error.ptr(), e.what());
    }
  });
}

}  // namespace keel::python
