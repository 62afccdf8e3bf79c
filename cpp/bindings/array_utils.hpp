#pragma once
// Helpers shared by every binding file. cpp/bindings/ is the only C++ that
// sees Python types; the kernels under cpp/include/ know nothing of them.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace py = pybind11;
using namespace pybind11::literals;

namespace npk::bind {

template <class T>
using c_array = py::array_t<T, py::array::c_style>;

inline std::string dtype_name(const py::array& arr) { return py::str(arr.dtype()); }

// The Python layer has already converted the input; this is the safety net
// that stops a direct call into _core from reading memory of the wrong type
// or layout.
template <class T>
c_array<T> as_c_array(const py::array& arr, const char* name) {
    if(!py::isinstance<c_array<T>>(arr)) {
        throw py::type_error(std::string(name) + " must be a C-contiguous "
                             + std::string(py::str(py::dtype::of<T>())) + " array, got "
                             + dtype_name(arr)
                             + (arr.flags() & py::array::c_style ? "" : " (not C-contiguous)"));
    }
    return py::reinterpret_borrow<c_array<T>>(arr);
}

// An ndarray argument as such: TypeError for anything else (no conversion).
inline py::array as_array(const py::object& obj, const char* name) {
    if(!py::isinstance<py::array>(obj)) {
        throw py::type_error(std::string(name) + " must be a NumPy array, got "
                             + std::string(py::str(py::type::of(obj).attr("__name__"))));
    }
    return py::reinterpret_borrow<py::array>(obj);
}

// ValueError unless arr.shape matches dims (-1 = any length), e.g. "(N,)".
inline void require_shape(const py::array& arr, const char* name,
                          std::initializer_list<py::ssize_t> dims, const char* expected) {
    bool ok        = arr.ndim() == static_cast<py::ssize_t>(dims.size());
    py::ssize_t ax = 0;
    for(const auto d : dims) {
        ok = ok && (d < 0 || arr.shape(ax) == d);
        ++ax;
    }
    if(!ok) {
        throw py::value_error(std::string(name) + " must have shape " + expected + ", got "
                              + std::string(py::str(arr.attr("shape"))));
    }
}

inline void require_same_length(const py::array& arr, const char* name, py::ssize_t n) {
    if(arr.ndim() != 1 || arr.shape(0) != n) {
        throw py::value_error(std::string(name) + " must have shape (" + std::to_string(n)
                              + ",), got " + std::string(py::str(arr.attr("shape"))));
    }
}

// Calls fn(T{}) with T the first of Ts whose NumPy dtype `arr` has.
template <class... Ts, class Fn>
auto dispatch(const py::array& arr, const char* name, const char* expected, Fn&& fn) {
    using First = std::tuple_element_t<0, std::tuple<Ts...>>;
    std::optional<decltype(fn(First{}))> result;
    ((!result && py::isinstance<py::array_t<Ts>>(arr) ? (void)result.emplace(fn(Ts{})) : (void)0),
     ...);
    if(!result) {
        throw py::type_error(std::string(name) + " must be " + expected + ", got "
                             + dtype_name(arr));
    }
    return std::move(*result);
}

template <class Fn>
auto dispatch_float(const py::array& arr, const char* name, Fn&& fn) {
    return dispatch<float, double>(arr, name, "float32 or float64", std::forward<Fn>(fn));
}

// Moves a vector into a 1-D array without copying its elements.
template <class T>
py::array_t<T> to_array(std::vector<T>&& v) {
    auto* owner = new std::vector<T>(std::move(v));
    py::capsule release(owner, [](void* p) { delete static_cast<std::vector<T>*>(p); });
    return py::array_t<T>({static_cast<py::ssize_t>(owner->size())}, owner->data(), release);
}

// Raises MemoryError with a message naming the argument to change (pybind11 only turns a
// bare std::bad_alloc into an unexplained MemoryError). Call it with the GIL held.
[[noreturn]] inline void raise_memory_error(const std::string& msg) {
    PyErr_SetString(PyExc_MemoryError, msg.c_str());
    throw py::error_already_set();
}

} // namespace npk::bind
