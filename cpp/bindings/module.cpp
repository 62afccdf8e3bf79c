#include "array_utils.hpp"

void register_metrics(py::module_& m); // one line per kernel family
void register_roi(py::module_& m);

PYBIND11_MODULE(_core, m, py::mod_gil_not_used()) {
    m.doc() = "Compiled kernels of npkernels (internal: call the npkernels package).";
    register_metrics(m);
    register_roi(m);
}
