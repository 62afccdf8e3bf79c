#include "array_utils.hpp"

#include "npkernels/norm/batch_norm.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace {

using namespace npk::bind;
namespace norm = npk::norm;

norm::Layout layout(const py::array& x) {
    require_shape(x, "x", {-1, -1, -1}, "(N, C, S)");
    return {x.shape(0), x.shape(1), x.shape(2)};
}

// An optional per-channel (C,) array of T (gamma, beta): null when None.
template <class T>
std::optional<c_array<T>> per_channel(const py::object& obj, const char* name, std::int64_t c) {
    if(obj.is_none()) {
        return std::nullopt;
    }
    auto a = as_c_array<T>(as_array(obj, name), name);
    require_same_length(a, name, c);
    return a;
}

template <class T>
const T* data_or_null(const std::optional<c_array<T>>& a) {
    return a ? a->data() : nullptr;
}

py::tuple batch_norm_forward(const py::array& x, const py::object& gamma, const py::object& beta,
                             double eps, int n_threads) {
    return dispatch_float(x, "x", [&](auto tag) {
        using T      = decltype(tag);
        const auto a = as_c_array<T>(x, "x");
        const norm::Layout l = layout(a);
        if(l.count() < 1) {
            throw py::value_error("x must have at least one value per channel, got shape "
                                  + std::string(py::str(a.attr("shape"))));
        }
        const auto g = per_channel<T>(gamma, "gamma", l.c);
        const auto b = per_channel<T>(beta, "beta", l.c);
        c_array<T> y(std::vector<py::ssize_t>{l.n, l.c, l.s});
        c_array<T> mean({l.c}), invstd({l.c});
        c_array<double> var({l.c});
        const T* px = a.data();
        const T *pg = data_or_null(g), *pb = data_or_null(b);
        T *py_ = y.mutable_data(), *pm = mean.mutable_data(), *pi = invstd.mutable_data();
        double* pv = var.mutable_data();
        {
            const py::gil_scoped_release release;
            norm::batch_norm_forward(px, l, pg, pb, eps, py_, pm, pi, pv, n_threads);
        }
        return py::make_tuple(y, mean, invstd, var);
    });
}

py::array batch_norm_eval(const py::array& x, const py::array& mean, const py::array& var,
                          const py::object& gamma, const py::object& beta, double eps,
                          int n_threads) {
    return dispatch_float(x, "x", [&](auto tag) -> py::array {
        using T      = decltype(tag);
        const auto a = as_c_array<T>(x, "x");
        const norm::Layout l = layout(a);
        const auto m = as_c_array<T>(mean, "running_mean");
        const auto v = as_c_array<T>(var, "running_var");
        require_same_length(m, "running_mean", l.c);
        require_same_length(v, "running_var", l.c);
        const auto g = per_channel<T>(gamma, "gamma", l.c);
        const auto b = per_channel<T>(beta, "beta", l.c);
        c_array<T> y(std::vector<py::ssize_t>{l.n, l.c, l.s});
        const T *px = a.data(), *pm = m.data(), *pv = v.data();
        const T *pg = data_or_null(g), *pb = data_or_null(b);
        T* py_ = y.mutable_data();
        {
            const py::gil_scoped_release release;
            norm::batch_norm_eval(px, l, pm, pv, pg, pb, eps, py_, n_threads);
        }
        return y;
    });
}

py::tuple batch_norm_backward(const py::array& grad_y, const py::array& x, const py::object& gamma,
                              const py::array& mean, const py::array& invstd, int n_threads) {
    return dispatch_float(x, "x", [&](auto tag) {
        using T       = decltype(tag);
        const auto a  = as_c_array<T>(x, "x");
        const norm::Layout l = layout(a);
        const auto gy = as_c_array<T>(grad_y, "grad_y");
        require_shape(gy, "grad_y", {l.n, l.c, l.s}, "that of x");
        const auto m  = as_c_array<T>(mean, "mean");
        const auto is = as_c_array<T>(invstd, "invstd");
        require_same_length(m, "mean", l.c);
        require_same_length(is, "invstd", l.c);
        const auto g = per_channel<T>(gamma, "gamma", l.c);
        c_array<T> gx(std::vector<py::ssize_t>{l.n, l.c, l.s});
        c_array<T> gg({l.c}), gb({l.c});
        const T *pgy = gy.data(), *px = a.data(), *pm = m.data(), *pis = is.data();
        const T* pg = data_or_null(g);
        T *pgx = gx.mutable_data(), *pgg = gg.mutable_data(), *pgb = gb.mutable_data();
        {
            const py::gil_scoped_release release;
            norm::batch_norm_backward(pgy, px, l, pg, pm, pis, pgx, pgg, pgb, n_threads);
        }
        return py::make_tuple(gx, gg, gb);
    });
}

} // namespace

void register_norm(py::module_& m) {
    m.def("batch_norm_forward", &batch_norm_forward, "x"_a, "gamma"_a, "beta"_a, "eps"_a,
          py::kw_only(), "n_threads"_a,
          "Internal; x is (N, C, S). Returns (y, mean, invstd, unbiased variance as float64). "
          "See npkernels.norm.batch_norm_forward.");
    m.def("batch_norm_eval", &batch_norm_eval, "x"_a, "running_mean"_a, "running_var"_a,
          "gamma"_a, "beta"_a, "eps"_a, py::kw_only(), "n_threads"_a,
          "Internal; x is (N, C, S). See npkernels.norm.batch_norm.");
    m.def("batch_norm_backward", &batch_norm_backward, "grad_y"_a, "x"_a, "gamma"_a, "mean"_a,
          "invstd"_a, py::kw_only(), "n_threads"_a,
          "Internal; x is (N, C, S). See npkernels.norm.batch_norm_backward.");
}
