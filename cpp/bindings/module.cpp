#include "array_utils.hpp"

void register_metrics(py::module_& m); // one line per kernel family
void register_norm(py::module_& m);
void register_pool(py::module_& m);
void register_neighbors(py::module_& m);

PYBIND11_MODULE(_core, m, py::mod_gil_not_used()) {
    m.doc() = "Compiled kernels of npkernels (internal: call the npkernels package).";
    register_metrics(m);
    register_norm(m);
    register_pool(m);
    register_neighbors(m);
}
