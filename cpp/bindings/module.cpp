#include "array_utils.hpp"

void register_conv(py::module_& m);
void register_metrics(py::module_& m); // one line per kernel family

PYBIND11_MODULE(_core, m, py::mod_gil_not_used()) {
    m.doc() = "Compiled kernels of npkernels (internal: call the npkernels package).";
    register_conv(m);
    register_metrics(m);
}
