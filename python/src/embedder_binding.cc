// keel.Embedder: bert::Embedder behind a lock. embed() allocates the (n, dim)
// float32 result while it holds the GIL, then releases the GIL and runs the
// batches; each batch's pooled rows are copied into the result once (n x dim
// floats; the hidden states never leave native memory).
#include <cstring>
#include <memory>
#include <mutex>
#include <string>

#include <pybind11/numpy.h>

#include "models/bert/embedder.h"
#include "python/src/bindings.h"

namespace keel::python {
namespace {

class PyEmbedder {
 public:
  PyEmbedder(const std::string& model_dir, const std::string& dtype, int threads, size_t batch_size)
      : dtype_(dtype), batch_size_(batch_size) {
    bert::EmbedderOptions options;
    if (dtype == "f32") options.compute = kernels::Compute::F32;
    else if (dtype == "bf16") options.compute = kernels::Compute::BF16;
    else if (dtype == "int8") options.compute = kernels::Compute::I8;
    else throw py::value_error("dtype must be 'f32', 'bf16' or 'int8', got '" + dtype + "'");
    if (batch_size == 0) throw py::value_error("batch_size must be at least 1");
    options.threads = threads;
    Result<bert::Embedder> e = Error("not loaded");
    {
      py::gil_scoped_release nogil;
      e = bert::Embedder::open(model_dir, options);
    }
    embedder_ = std::make_unique<bert::Embedder>(take(std::move(e)));
  }

  size_t dim() const { return embedder_->dim(); }

  py::array_t<float> embed(py::handle texts) {
    Utf8Views in = utf8_views(texts, "texts");
    const size_t n = in.views.size(), d = dim();
    py::array_t<float> out({n, d});  // allocated with the GIL; filled without it
    float* rows = out.mutable_data();
    Status status;
    {
      py::gil_scoped_release nogil;
      std::lock_guard<std::mutex> lock(mu_);  // bert::Embedder: one caller at a time
      status = embed_into(in.views, rows);
    }
    check(status);
    return out;
  }

  const std::string& dtype() const { return dtype_; }
  size_t batch_size() const { return batch_size_; }
  size_t max_seq_length() const { return embedder_->sentence_config().max_seq_length; }
  bool normalize() const { return embedder_->sentence_config().normalize; }
  int threads() { return embedder_->pool().num_threads(); }

 private:
  // texts in batches of batch_size_, as `keel embed --batch` does; rows: [n, dim].
  Status embed_into(std::span<const std::string_view> texts, float* rows) {
    const size_t d = dim();
    for (size_t start = 0; start < texts.size(); start += batch_size_) {
      auto batch = texts.subspan(start, std::min(batch_size_, texts.size() - start));
      Result<std::vector<float>> v = embedder_->embed(batch);
      if (!v.ok()) {
        // Name the culprit with its index in `texts` (the batch error counts from the batch).
        for (size_t i = 0; i < batch.size(); ++i) {
          Result<std::vector<float>> one = embedder_->embed(batch.subspan(i, 1));
          if (!one.ok()) return Error("texts[", start + i, "]: ", one.error());
        }
        return v.status();
      }
      std::memcpy(rows + start * d, v->data(), v->size() * sizeof(float));
    }
    return Status::Ok();
  }

  std::unique_ptr<bert::Embedder> embedder_;
  std::string dtype_;
  size_t batch_size_;
  std::mutex mu_;
};

}  // namespace

void bind_embedder(py::module_& m) {
  py::class_<PyEmbedder>(m, "Embedder", R"doc(
Sentence embeddings from a Hugging Face / sentence-transformers BERT-family
directory (config.json, model.safetensors, tokenizer.json, and modules.json /
1_Pooling if present), exactly as `keel embed --model DIR` computes them.

    emb = keel.Embedder("all-MiniLM-L6-v2", dtype="f32")
    vectors = emb.embed(["hello", "world"])    # numpy float32, shape (2, emb.dim)

dtype: compute type of the linear layers, "f32", "bf16" or "int8".
threads: native threads (0 = every core). batch_size: texts per forward pass.
The GIL is released while the model runs; one embed() runs at a time per
Embedder (others wait, without the GIL).)doc")
      .def(py::init<const std::string&, const std::string&, int, size_t>(), py::arg("model_dir"),
           py::arg("dtype") = "f32", py::arg("threads") = 0, py::arg("batch_size") = 32)
      .def("embed", &PyEmbedder::embed, py::arg("texts"),
           "Embeds a sequence of str: a float32 array of shape (len(texts), dim), filled by native\n"
           "code with the GIL released. A text that cannot be embedded raises KeelError naming\n"
           "its index (texts[i]: ...).")
      .def_property_readonly("dim", &PyEmbedder::dim, "Embedding size.")
      .def_property_readonly("dtype", &PyEmbedder::dtype)
      .def_property_readonly("batch_size", &PyEmbedder::batch_size)
      .def_property_readonly("threads", &PyEmbedder::threads, "Native threads used by embed().")
      .def_property_readonly("max_seq_length", &PyEmbedder::max_seq_length,
                             "Inputs are truncated to this many tokens.")
      .def_property_readonly("normalize", &PyEmbedder::normalize, "Whether rows are L2-normalized.")
      .def("__repr__", [](const PyEmbedder& e) {
        return str_cat("keel.Embedder(dim=", e.dim(), ", dtype='", e.dtype(), "')");
      });
}

}  // namespace keel::python
