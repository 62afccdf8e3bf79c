#include "array_utils.hpp"

#include <pybind11/stl.h>

#include "npkernels/pool/adaptive_pool.hpp"
#include "npkernels/pool/avg_pool.hpp"
#include "npkernels/pool/lp_pool.hpp"
#include "npkernels/pool/max_pool.hpp"

#include <array>
#include <cmath>
#include <cstdint>
#include <string>

namespace {

using namespace npk::bind;
namespace pool = npk::pool;
using Pair = std::array<std::int64_t, 2>;

std::string pair_str(const Pair& p) {
    return "(" + std::to_string(p[0]) + ", " + std::to_string(p[1]) + ")";
}

void require_nchw(const py::array& x, const char* name) {
    require_shape(x, name, {-1, -1, -1, -1}, "(N, C, H, W)");
    if(x.shape(1) < 1 || x.shape(2) < 1 || x.shape(3) < 1) {
        throw py::value_error(std::string(name) + " must have C, H, W >= 1, got "
                              + std::string(py::str(x.attr("shape"))));
    }
}

// The safety net of a direct _core call: the window arguments PyTorch accepts,
// and the output size computed here (the Python layer has already reported
// any of this with its full message).
pool::Geometry geometry(std::int64_t planes, std::int64_t height, std::int64_t width,
                        const Pair& k, const Pair& s, const Pair& p, const Pair& d,
                        bool ceil_mode) {
    for(int i = 0; i < 2; ++i) {
        if(k[i] < 1 || s[i] < 1 || d[i] < 1 || p[i] < 0 || p[i] > k[i] / 2) {
            throw py::value_error("invalid pooling window: kernel_size " + pair_str(k) + ", stride "
                                  + pair_str(s) + ", padding " + pair_str(p) + ", dilation "
                                  + pair_str(d));
        }
    }
    const std::int64_t oh = pool::output_size(height, k[0], s[0], p[0], d[0], ceil_mode);
    const std::int64_t ow = pool::output_size(width, k[1], s[1], p[1], d[1], ceil_mode);
    if(oh < 1 || ow < 1) {
        throw py::value_error("Output size is too small: input (" + std::to_string(height) + ", "
                              + std::to_string(width) + ") gives (" + std::to_string(oh) + ", "
                              + std::to_string(ow) + ")");
    }
    return {planes, {height, k[0], s[0], p[0], d[0], oh}, {width, k[1], s[1], p[1], d[1], ow}};
}

template <class T>
c_array<T> new_nchw(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w) {
    return c_array<T>(std::vector<py::ssize_t>{n, c, h, w});
}

using Shape4 = std::array<std::int64_t, 4>;

// input_shape of a backward: N >= 0, C, H, W >= 1; returns (H, W).
Pair input_hw(const Shape4& shape) {
    if(shape[0] < 0 || shape[1] < 1 || shape[2] < 1 || shape[3] < 1) {
        throw py::value_error("input_shape must be (N, C, H, W) with N >= 0 and C, H, W >= 1, got ("
                              + std::to_string(shape[0]) + ", " + std::to_string(shape[1]) + ", "
                              + std::to_string(shape[2]) + ", " + std::to_string(shape[3]) + ")");
    }
    return {shape[2], shape[3]};
}

// The outputs of a max pooling: values, and indices when asked (else a null pointer).
template <class T>
struct MaxOutputs {
    c_array<T> y;
    c_array<std::int64_t> idx;
    T* values;
    std::int64_t* indices;
    MaxOutputs(std::int64_t n, std::int64_t c, std::int64_t oh, std::int64_t ow, bool with_indices)
        : y(new_nchw<T>(n, c, oh, ow)),
          idx(new_nchw<std::int64_t>(with_indices ? n : 0, c, oh, ow)),
          values(y.mutable_data()), indices(with_indices ? idx.mutable_data() : nullptr) {}
    py::object result() const {
        if(indices != nullptr) {
            return py::make_tuple(y, idx);
        }
        return y;
    }
};

py::object max_pool2d(const py::array& x, const Pair& k, const Pair& s, const Pair& p,
                      const Pair& d, bool ceil_mode, bool return_indices, int n_threads) {
    return dispatch_float(x, "x", [&](auto tag) -> py::object {
        using T      = decltype(tag);
        const auto a = as_c_array<T>(x, "x");
        require_nchw(a, "x");
        const std::int64_t n = a.shape(0), c = a.shape(1);
        const pool::Geometry g = geometry(n * c, a.shape(2), a.shape(3), k, s, p, d, ceil_mode);
        MaxOutputs<T> out(n, c, g.h.out, g.w.out, return_indices);
        const T* px = a.data();
        {
            const py::gil_scoped_release release;
            pool::max_pool2d_forward(px, g, out.values, out.indices, n_threads);
        }
        return out.result();
    });
}

py::array max_pool2d_backward(const py::array& grad_output, const py::array& indices,
                              const Shape4& input_shape, int n_threads) {
    return dispatch_float(grad_output, "grad_output", [&](auto tag) -> py::array {
        using T       = decltype(tag);
        const auto go = as_c_array<T>(grad_output, "grad_output");
        const auto ix = as_c_array<std::int64_t>(indices, "indices");
        input_hw(input_shape);
        require_shape(go, "grad_output", {input_shape[0], input_shape[1], -1, -1},
                      "(N, C, oH, oW) of input_shape");
        require_shape(ix, "indices", {go.shape(0), go.shape(1), go.shape(2), go.shape(3)},
                      "that of grad_output");
        const std::int64_t planes = input_shape[0] * input_shape[1];
        const std::int64_t in_plane = input_shape[2] * input_shape[3];
        const std::int64_t out_plane = go.shape(2) * go.shape(3);
        auto gi = new_nchw<T>(input_shape[0], input_shape[1], input_shape[2], input_shape[3]);
        const T* pg = go.data();
        const std::int64_t* pi = ix.data();
        T* pout = gi.mutable_data();
        std::int64_t bad = -1;
        {
            const py::gil_scoped_release release;
            bad = pool::max_pool2d_backward(pg, pi, planes, out_plane, in_plane, pout, n_threads);
        }
        if(bad >= 0) {
            throw py::value_error("indices must be in [0, H*W) = [0, " + std::to_string(in_plane)
                                  + "), got " + std::to_string(pi[bad]) + " at flat position "
                                  + std::to_string(bad));
        }
        return gi;
    });
}

pool::AvgOptions avg_options(bool count_include_pad, std::int64_t divisor_override) {
    return {count_include_pad, divisor_override};
}

py::array avg_pool2d(const py::array& x, const Pair& k, const Pair& s, const Pair& p,
                     bool ceil_mode, bool count_include_pad, std::int64_t divisor_override,
                     int n_threads) {
    return dispatch_float(x, "x", [&](auto tag) -> py::array {
        using T      = decltype(tag);
        const auto a = as_c_array<T>(x, "x");
        require_nchw(a, "x");
        const std::int64_t n = a.shape(0), c = a.shape(1);
        const pool::Geometry g
            = geometry(n * c, a.shape(2), a.shape(3), k, s, p, {1, 1}, ceil_mode);
        const pool::AvgOptions opt = avg_options(count_include_pad, divisor_override);
        auto y = new_nchw<T>(n, c, g.h.out, g.w.out);
        const T* px = a.data();
        T* pout     = y.mutable_data();
        {
            const py::gil_scoped_release release;
            pool::avg_pool2d_forward(px, g, opt, pout, n_threads);
        }
        return y;
    });
}

py::array avg_pool2d_backward(const py::array& grad_output,
                              const Shape4& input_shape, const Pair& k,
                              const Pair& s, const Pair& p, bool ceil_mode, bool count_include_pad,
                              std::int64_t divisor_override, int n_threads) {
    return dispatch_float(grad_output, "grad_output", [&](auto tag) -> py::array {
        using T       = decltype(tag);
        const auto go = as_c_array<T>(grad_output, "grad_output");
        const Pair hw = input_hw(input_shape);
        const pool::Geometry g = geometry(input_shape[0] * input_shape[1], hw[0], hw[1], k, s, p,
                                          {1, 1}, ceil_mode);
        require_shape(go, "grad_output", {input_shape[0], input_shape[1], g.h.out, g.w.out},
                      "(N, C, oH, oW) of the forward");
        const pool::AvgOptions opt = avg_options(count_include_pad, divisor_override);
        auto gi = new_nchw<T>(input_shape[0], input_shape[1], hw[0], hw[1]);
        const T* pg = go.data();
        T* pout     = gi.mutable_data();
        {
            const py::gil_scoped_release release;
            pool::avg_pool2d_backward(pg, g, opt, pout, n_threads);
        }
        return gi;
    });
}

void require_norm_type(double norm_type) {
    if(!(std::isfinite(norm_type) && norm_type != 0.0)) {
        throw py::value_error("norm_type must be finite and non-zero here, got "
                              + std::to_string(norm_type));
    }
}

py::array lp_pool2d(const py::array& x, double norm_type, const Pair& k, const Pair& s,
                    bool ceil_mode, int n_threads) {
    require_norm_type(norm_type);
    return dispatch_float(x, "x", [&](auto tag) -> py::array {
        using T      = decltype(tag);
        const auto a = as_c_array<T>(x, "x");
        require_nchw(a, "x");
        const std::int64_t n = a.shape(0), c = a.shape(1);
        const pool::Geometry g = geometry(n * c, a.shape(2), a.shape(3), k, s, {0, 0}, {1, 1},
                                          ceil_mode);
        auto y = new_nchw<T>(n, c, g.h.out, g.w.out);
        const T* px = a.data();
        T* pout     = y.mutable_data();
        {
            const py::gil_scoped_release release;
            pool::lp_pool2d_forward(px, g, norm_type, pout, n_threads);
        }
        return y;
    });
}

py::array lp_pool2d_backward(const py::array& grad_output, const py::array& x, double norm_type,
                             const Pair& k, const Pair& s, bool ceil_mode, int n_threads) {
    require_norm_type(norm_type);
    return dispatch_float(x, "x", [&](auto tag) -> py::array {
        using T       = decltype(tag);
        const auto a  = as_c_array<T>(x, "x");
        const auto go = as_c_array<T>(grad_output, "grad_output");
        require_nchw(a, "x");
        const std::int64_t n = a.shape(0), c = a.shape(1);
        const pool::Geometry g = geometry(n * c, a.shape(2), a.shape(3), k, s, {0, 0}, {1, 1},
                                          ceil_mode);
        require_shape(go, "grad_output", {n, c, g.h.out, g.w.out}, "(N, C, oH, oW) of the forward");
        auto gi = new_nchw<T>(n, c, a.shape(2), a.shape(3));
        const T* px = a.data();
        const T* pg = go.data();
        T* pout     = gi.mutable_data();
        {
            const py::gil_scoped_release release;
            pool::lp_pool2d_backward(pg, px, g, norm_type, pout, n_threads);
        }
        return gi;
    });
}

pool::AdaptiveGeometry adaptive_geometry(std::int64_t n, std::int64_t c, const Pair& in,
                                         const Pair& out) {
    if(out[0] < 0 || out[1] < 0) {
        throw py::value_error("output_size must be >= 0, got " + pair_str(out));
    }
    return {n * c, in[0], in[1], out[0], out[1]};
}

py::object adaptive_max_pool2d(const py::array& x, const Pair& output_size, bool return_indices,
                               int n_threads) {
    return dispatch_float(x, "x", [&](auto tag) -> py::object {
        using T      = decltype(tag);
        const auto a = as_c_array<T>(x, "x");
        require_nchw(a, "x");
        const std::int64_t n = a.shape(0), c = a.shape(1);
        const auto g = adaptive_geometry(n, c, {a.shape(2), a.shape(3)}, output_size);
        MaxOutputs<T> out(n, c, g.out_h, g.out_w, return_indices);
        const T* px = a.data();
        {
            const py::gil_scoped_release release;
            pool::adaptive_max_pool2d_forward(px, g, out.values, out.indices, n_threads);
        }
        return out.result();
    });
}

py::array adaptive_avg_pool2d(const py::array& x, const Pair& output_size, int n_threads) {
    return dispatch_float(x, "x", [&](auto tag) -> py::array {
        using T      = decltype(tag);
        const auto a = as_c_array<T>(x, "x");
        require_nchw(a, "x");
        const std::int64_t n = a.shape(0), c = a.shape(1);
        const auto g = adaptive_geometry(n, c, {a.shape(2), a.shape(3)}, output_size);
        auto y       = new_nchw<T>(n, c, g.out_h, g.out_w);
        const T* px  = a.data();
        T* pout      = y.mutable_data();
        {
            const py::gil_scoped_release release;
            pool::adaptive_avg_pool2d_forward(px, g, pout, n_threads);
        }
        return y;
    });
}

py::array adaptive_avg_pool2d_backward(const py::array& grad_output,
                                       const Shape4& input_shape,
                                       int n_threads) {
    return dispatch_float(grad_output, "grad_output", [&](auto tag) -> py::array {
        using T       = decltype(tag);
        const auto go = as_c_array<T>(grad_output, "grad_output");
        const Pair hw = input_hw(input_shape);
        require_shape(go, "grad_output", {input_shape[0], input_shape[1], -1, -1},
                      "(N, C, oH, oW) of input_shape");
        const auto g  = adaptive_geometry(input_shape[0], input_shape[1], hw,
                                          {go.shape(2), go.shape(3)});
        auto gi       = new_nchw<T>(input_shape[0], input_shape[1], hw[0], hw[1]);
        const T* pg   = go.data();
        T* pout       = gi.mutable_data();
        {
            const py::gil_scoped_release release;
            pool::adaptive_avg_pool2d_backward(pg, g, pout, n_threads);
        }
        return gi;
    });
}

} // namespace

void register_pool(py::module_& m) {
    m.def("max_pool2d", &max_pool2d, "x"_a, "kernel_size"_a, "stride"_a, "padding"_a,
          "dilation"_a, "ceil_mode"_a, "return_indices"_a, py::kw_only(), "n_threads"_a,
          "Internal; see npkernels.pool.max_pool2d.");
    m.def("max_pool2d_backward", &max_pool2d_backward, "grad_output"_a, "indices"_a,
          "input_shape"_a, py::kw_only(), "n_threads"_a,
          "Internal; see npkernels.pool.max_pool2d_backward.");
    m.def("avg_pool2d", &avg_pool2d, "x"_a, "kernel_size"_a, "stride"_a, "padding"_a,
          "ceil_mode"_a, "count_include_pad"_a, "divisor_override"_a, py::kw_only(), "n_threads"_a,
          "Internal; see npkernels.pool.avg_pool2d (divisor_override 0 = none).");
    m.def("avg_pool2d_backward", &avg_pool2d_backward, "grad_output"_a, "input_shape"_a,
          "kernel_size"_a, "stride"_a, "padding"_a, "ceil_mode"_a, "count_include_pad"_a,
          "divisor_override"_a, py::kw_only(), "n_threads"_a,
          "Internal; see npkernels.pool.avg_pool2d_backward.");
    m.def("lp_pool2d", &lp_pool2d, "x"_a, "norm_type"_a, "kernel_size"_a, "stride"_a,
          "ceil_mode"_a, py::kw_only(), "n_threads"_a,
          "Internal; finite norm_type only. See npkernels.pool.lp_pool2d.");
    m.def("lp_pool2d_backward", &lp_pool2d_backward, "grad_output"_a, "x"_a, "norm_type"_a,
          "kernel_size"_a, "stride"_a, "ceil_mode"_a, py::kw_only(), "n_threads"_a,
          "Internal; finite norm_type only. See npkernels.pool.lp_pool2d_backward.");
    m.def("adaptive_avg_pool2d", &adaptive_avg_pool2d, "x"_a, "output_size"_a, py::kw_only(),
          "n_threads"_a, "Internal; see npkernels.pool.adaptive_avg_pool2d.");
    m.def("adaptive_max_pool2d", &adaptive_max_pool2d, "x"_a, "output_size"_a,
          "return_indices"_a, py::kw_only(), "n_threads"_a,
          "Internal; see npkernels.pool.adaptive_max_pool2d.");
    m.def("adaptive_avg_pool2d_backward", &adaptive_avg_pool2d_backward, "grad_output"_a,
          "input_shape"_a, py::kw_only(), "n_threads"_a,
          "Internal; see npkernels.pool.adaptive_avg_pool2d_backward.");
}
