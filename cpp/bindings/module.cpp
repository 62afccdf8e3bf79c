#include "array_utils.hpp"

#include "npkernels/buffer.hpp"

// One declaration and one call per kernel family (cpp/bindings/<family>.cpp).
void register_conv(py::module_& m);
void register_detection(py::module_& m);
void register_metrics(py::module_& m);
void register_neighbors(py::module_& m);
void register_norm(py::module_& m);
void register_pool(py::module_& m);
void register_roi(py::module_& m);

PYBIND11_MODULE(_core, m, py::mod_gil_not_used()) {
    m.doc() = "Compiled kernels of npkernels (internal: call the npkernels package).";
    register_conv(m);
    register_detection(m);
    register_metrics(m);
    register_neighbors(m);
    register_norm(m);
    register_pool(m);
    register_roi(m);
    m.def("_release_scratch_cache", [] { return npk::detail::large_block_cache().release(); },
          "Free the large scratch blocks kept for reuse; returns their bytes.");
}
