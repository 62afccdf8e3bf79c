#include "array_utils.hpp"

#include "npkernels/blas.hpp"
#include "npkernels/conv/conv2d.hpp"
#include "npkernels/conv/conv_backward.hpp"
#include "npkernels/conv/conv_transpose.hpp"
#include "npkernels/conv/im2col.hpp"

#include <pybind11/stl.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>

namespace {

using namespace npk::bind;
namespace conv = npk::conv;
namespace blas = npk::blas;
using Pair     = std::array<std::int64_t, 2>;

// Hyper-parameters far beyond any image keep every index product in int64.
constexpr std::int64_t max_param = std::int64_t{1} << 31;

void require_range(const Pair& v, const char* name, std::int64_t lo) {
    for(const auto e : v) {
        if(e < lo || e > max_param) {
            throw py::value_error(std::string(name) + " must be >= " + std::to_string(lo)
                                  + " (and < 2**31), got (" + std::to_string(v[0]) + ", "
                                  + std::to_string(v[1]) + ")");
        }
    }
}

// floor((in + pad_total - dilation*(k-1) - 1) / stride) + 1, or 0 when no window fits.
std::int64_t out_size(std::int64_t in, std::int64_t pad_total, std::int64_t k, std::int64_t s,
                      std::int64_t d) {
    const std::int64_t span = in + pad_total - d * (k - 1) - 1;
    return span < 0 ? 0 : span / s + 1;
}

conv::Geometry geometry(std::int64_t c, std::int64_t h, std::int64_t w, const Pair& kernel,
                        const Pair& stride, const Pair& padding, const Pair& dilation,
                        std::int64_t out_h, std::int64_t out_w) {
    require_range(kernel, "kernel_size", 1);
    require_range(stride, "stride", 1);
    require_range(padding, "padding", 0);
    require_range(dilation, "dilation", 1);
    return {c,         h,         w,           kernel[0],   kernel[1],   stride[0], stride[1],
            padding[0], padding[1], dilation[0], dilation[1], out_h,     out_w};
}

// SciPy's Fortran ?gemm from its cython_blas capsule. The capsule name is
// Cython's signature string; its scalar typedef (..._s for float, ..._d for
// double) tells the two apart, so a wrong capsule is refused, not called.
template <class T>
blas::GemmFn<T> gemm_from(const py::object& capsule) {
    if(!PyCapsule_CheckExact(capsule.ptr())) {
        throw py::type_error("gemm must be a scipy.linalg.cython_blas capsule");
    }
    const char* name = PyCapsule_GetName(capsule.ptr());
    const std::string want =
        std::is_same_v<T, float> ? "cython_blas_s *" : "cython_blas_d *";
    if(name == nullptr || std::string(name).rfind("void (char *, char *, int *, int *, int *,", 0) != 0
       || std::string(name).find(want) == std::string::npos) {
        throw py::type_error(std::string("gemm must be SciPy's ") + (sizeof(T) == 4 ? "s" : "d")
                             + "gemm capsule, got '" + (name ? name : "") + "'");
    }
    void* p = PyCapsule_GetPointer(capsule.ptr(), name);
    if(p == nullptr) {
        throw py::error_already_set();
    }
    return reinterpret_cast<blas::GemmFn<T>>(p);
}

void raise_if_too_large(bool ok) {
    if(!ok) {
        throw py::value_error("convolution too large for the BLAS's 32-bit sizes");
    }
}

// Allocates out (N, C, H, W), runs kernel(out_ptr) without the GIL, and turns
// its false (a size beyond the BLAS's ints) into ValueError.
template <class T, class Kernel>
py::array run_into(py::ssize_t n, std::int64_t c, const Pair& hw, Kernel&& kernel) {
    c_array<T> out({n, static_cast<py::ssize_t>(c), static_cast<py::ssize_t>(hw[0]),
                    static_cast<py::ssize_t>(hw[1])});
    T* p    = out.mutable_data();
    bool ok = true;
    {
        const py::gil_scoped_release release;
        ok = kernel(p);
    }
    raise_if_too_large(ok);
    return out;
}

py::array im2col(const py::array& x, const Pair& kernel, const Pair& stride, const Pair& padding,
                 const Pair& dilation, int n_threads) {
    return dispatch_float(x, "x", [&](auto tag) -> py::array {
        using T      = decltype(tag);
        const auto a = as_c_array<T>(x, "x");
        require_shape(a, "x", {-1, -1, -1, -1}, "(N, C, H, W)");
        const std::int64_t h = a.shape(2), w = a.shape(3);
        const auto g = geometry(a.shape(1), h, w, kernel, stride, padding, dilation,
                                out_size(h, 2 * padding[0], kernel[0], stride[0], dilation[0]),
                                out_size(w, 2 * padding[1], kernel[1], stride[1], dilation[1]));
        c_array<T> cols({a.shape(0), static_cast<py::ssize_t>(g.channels * g.kernel_area()),
                         static_cast<py::ssize_t>(g.out_area())});
        const T* px = a.data();
        T* pc       = cols.mutable_data();
        {
            const py::gil_scoped_release release;
            conv::im2col(px, a.shape(0), g, pc, n_threads);
        }
        return cols;
    });
}

py::array col2im(const py::array& cols, const Pair& output_size, const Pair& kernel,
                 const Pair& stride, const Pair& padding, const Pair& dilation, int n_threads) {
    return dispatch_float(cols, "cols", [&](auto tag) -> py::array {
        using T      = decltype(tag);
        const auto a = as_c_array<T>(cols, "cols");
        require_shape(a, "cols", {-1, -1, -1}, "(N, C*kH*kW, L)");
        require_range(output_size, "output_size", 0);
        const std::int64_t h = output_size[0], w = output_size[1];
        const std::int64_t area = kernel[0] * kernel[1];
        const auto g = geometry(0, h, w, kernel, stride, padding, dilation,
                                out_size(h, 2 * padding[0], kernel[0], stride[0], dilation[0]),
                                out_size(w, 2 * padding[1], kernel[1], stride[1], dilation[1]));
        if(a.shape(1) % area != 0 || a.shape(2) != g.out_area()) {
            throw py::value_error("cols must have shape (N, C*" + std::to_string(area) + ", "
                                  + std::to_string(g.out_area()) + "), got "
                                  + std::string(py::str(a.attr("shape"))));
        }
        conv::Geometry gc = g;
        gc.channels       = a.shape(1) / area;
        c_array<T> x({a.shape(0), static_cast<py::ssize_t>(gc.channels),
                      static_cast<py::ssize_t>(h), static_cast<py::ssize_t>(w)});
        const T* pc = a.data();
        T* px       = x.mutable_data();
        {
            const py::gil_scoped_release release;
            conv::col2im(pc, a.shape(0), gc, px, n_threads);
        }
        return x;
    });
}

// Shapes shared by the three convolutions: x (N, C, H, W), weight (O, C/groups, kH, kW).
template <class T>
struct ConvArrays {
    c_array<T> x, w;
    std::int64_t groups;

    ConvArrays(const py::array& x_, const char* x_name, const py::array& w_, std::int64_t groups_)
        : x(as_c_array<T>(x_, x_name)), w(as_c_array<T>(w_, "weight")), groups(groups_) {
        require_shape(x, x_name, {-1, -1, -1, -1}, "(N, C, H, W)");
        require_shape(w, "weight", {-1, -1, -1, -1}, "(O, C/groups, kH, kW)");
        if(groups < 1 || w.shape(0) % groups != 0) {
            throw py::value_error("groups must be >= 1 and divide weight.shape[0], got "
                                  + std::to_string(groups));
        }
    }
    Pair kernel() const { return {w.shape(2), w.shape(3)}; }
    // conv2d's rule: C = weight.shape[1] * groups.
    void require_conv_channels() const {
        if(x.shape(1) != w.shape(1) * groups) {
            throw py::value_error("x must have weight.shape[1] * groups = "
                                  + std::to_string(w.shape(1) * groups) + " channels, got "
                                  + std::to_string(x.shape(1)));
        }
    }
};

template <class T>
const T* bias_data(const py::object& bias, std::int64_t n, std::optional<c_array<T>>& keep) {
    if(bias.is_none()) {
        return nullptr;
    }
    keep = as_c_array<T>(as_array(bias, "bias"), "bias");
    require_same_length(*keep, "bias", n);
    return keep->data();
}

py::array conv2d(const py::array& x, const py::array& weight, const py::object& bias,
                 const Pair& stride, const Pair& padding, const Pair& output_hw,
                 const Pair& dilation, std::int64_t groups, const py::object& gemm,
                 int n_threads) {
    return dispatch_float(x, "x", [&](auto tag) -> py::array {
        using T = decltype(tag);
        const ConvArrays<T> in(x, "x", weight, groups);
        in.require_conv_channels();
        require_range(output_hw, "output size", 0);
        std::optional<c_array<T>> b;
        const T* pb = bias_data<T>(bias, in.w.shape(0), b);
        const auto fn = gemm_from<T>(gemm);
        const conv::Conv cv{in.x.shape(0), groups, in.w.shape(0),
                            geometry(in.x.shape(1), in.x.shape(2), in.x.shape(3), in.kernel(),
                                     stride, padding, dilation, output_hw[0], output_hw[1])};
        const T *px = in.x.data(), *pw = in.w.data();
        return run_into<T>(in.x.shape(0), in.w.shape(0), output_hw, [&](T* y) {
            return conv::conv2d_forward<T>(px, pw, pb, cv, fn, y, n_threads);
        });
    });
}

py::tuple conv2d_backward(const py::array& grad_output, const py::array& x,
                          const py::array& weight, const Pair& stride, const Pair& padding,
                          const Pair& dilation, std::int64_t groups, bool need_input,
                          bool need_weight, bool need_bias, const py::object& gemm,
                          int n_threads) {
    return dispatch_float(x, "x", [&](auto tag) -> py::tuple {
        using T = decltype(tag);
        const ConvArrays<T> in(x, "x", weight, groups);
        const auto dy = as_c_array<T>(grad_output, "grad_output");
        in.require_conv_channels();
        require_shape(dy, "grad_output", {in.x.shape(0), in.w.shape(0), -1, -1},
                      "(N, O, Ho, Wo)");
        const auto fn = gemm_from<T>(gemm);
        const conv::Conv cv{in.x.shape(0), groups, in.w.shape(0),
                            geometry(in.x.shape(1), in.x.shape(2), in.x.shape(3), in.kernel(),
                                     stride, padding, dilation, dy.shape(2), dy.shape(3))};
        py::object gi = py::none(), gw = py::none(), gb = py::none();
        T *pgi = nullptr, *pgw = nullptr, *pgb = nullptr;
        if(need_input) {
            c_array<T> a({in.x.shape(0), in.x.shape(1), in.x.shape(2), in.x.shape(3)});
            pgi = a.mutable_data();
            gi  = a;
        }
        if(need_weight) {
            c_array<T> a({in.w.shape(0), in.w.shape(1), in.w.shape(2), in.w.shape(3)});
            pgw = a.mutable_data();
            gw  = a;
        }
        if(need_bias) {
            c_array<T> a({in.w.shape(0)});
            pgb = a.mutable_data();
            gb  = a;
        }
        const T *pdy = dy.data(), *px = in.x.data(), *pw = in.w.data();
        bool ok      = true;
        {
            const py::gil_scoped_release release;
            ok = conv::conv2d_backward<T>(pdy, px, pw, cv, fn, pgi, pgw, pgb, n_threads);
        }
        raise_if_too_large(ok);
        return py::make_tuple(gi, gw, gb);
    });
}

py::array conv_transpose2d(const py::array& x, const py::array& weight, const py::object& bias,
                           const Pair& stride, const Pair& padding, const Pair& output_hw,
                           const Pair& dilation, std::int64_t groups, const py::object& gemm,
                           int n_threads) {
    return dispatch_float(x, "x", [&](auto tag) -> py::array {
        using T = decltype(tag);
        const ConvArrays<T> in(x, "x", weight, groups);
        if(in.x.shape(1) != in.w.shape(0)) {
            throw py::value_error("x must have weight.shape[0] = " + std::to_string(in.w.shape(0))
                                  + " channels, got " + std::to_string(in.x.shape(1)));
        }
        require_range(output_hw, "output size", 0);
        const std::int64_t c_out = in.w.shape(1) * groups;
        std::optional<c_array<T>> b;
        const T* pb   = bias_data<T>(bias, c_out, b);
        const auto fn = gemm_from<T>(gemm);
        const conv::Conv cv{in.x.shape(0), groups, in.w.shape(0),
                            geometry(c_out, output_hw[0], output_hw[1], in.kernel(), stride,
                                     padding, dilation, in.x.shape(2), in.x.shape(3))};
        const T *px = in.x.data(), *pw = in.w.data();
        return run_into<T>(in.x.shape(0), c_out, output_hw, [&](T* y) {
            return conv::conv_transpose2d<T>(px, pw, pb, cv, fn, y, n_threads);
        });
    });
}

// Row-major C = op(A) op(B) through blas::gemm, with a small `piece` to test
// the int-size splitting on small matrices. For tests only.
py::array gemm_rowmajor(const py::array& a, const py::array& b, bool trans_a, bool trans_b,
                        std::int64_t piece, const py::object& gemm) {
    return dispatch_float(a, "a", [&](auto tag) -> py::array {
        using T       = decltype(tag);
        const auto pa = as_c_array<T>(a, "a");
        const auto pb = as_c_array<T>(b, "b");
        require_shape(pa, "a", {-1, -1}, "(m, k)");
        require_shape(pb, "b", {-1, -1}, "(k, n)");
        const std::int64_t m = trans_a ? pa.shape(1) : pa.shape(0);
        const std::int64_t k = trans_a ? pa.shape(0) : pa.shape(1);
        const std::int64_t n = trans_b ? pb.shape(0) : pb.shape(1);
        if((trans_b ? pb.shape(1) : pb.shape(0)) != k || piece < 1) {
            throw py::value_error("gemm: inner dimensions differ or piece < 1");
        }
        const auto fn = gemm_from<T>(gemm);
        c_array<T> c({static_cast<py::ssize_t>(m), static_cast<py::ssize_t>(n)});
        const T *xa = pa.data(), *xb = pb.data();
        T* xc = c.mutable_data();
        {
            const py::gil_scoped_release release;
            blas::gemm<T>(fn, trans_a, trans_b, m, n, k, T(1), xa, pa.shape(1), xb, pb.shape(1),
                          T(0), xc, n, piece);
        }
        return c;
    });
}

} // namespace

void register_conv(py::module_& m) {
    m.def("im2col", &im2col, "Internal; see npkernels.conv.im2col.", "x"_a, "kernel_size"_a,
          "stride"_a, "padding"_a, "dilation"_a, py::kw_only(), "n_threads"_a);
    m.def("col2im", &col2im, "Internal; see npkernels.conv.col2im.", "cols"_a, "output_size"_a,
          "kernel_size"_a, "stride"_a, "padding"_a, "dilation"_a, py::kw_only(), "n_threads"_a);
    m.def("conv2d", &conv2d, "Internal; see npkernels.conv.conv2d.", "x"_a, "weight"_a, "bias"_a,
          "stride"_a, "padding"_a, "output_hw"_a, "dilation"_a, "groups"_a, "gemm"_a,
          py::kw_only(), "n_threads"_a);
    m.def("conv2d_backward", &conv2d_backward, "Internal; see npkernels.conv.conv2d_backward.",
          "grad_output"_a, "x"_a, "weight"_a, "stride"_a, "padding"_a, "dilation"_a, "groups"_a,
          "need_input"_a, "need_weight"_a, "need_bias"_a, "gemm"_a, py::kw_only(), "n_threads"_a);
    m.def("conv_transpose2d", &conv_transpose2d, "Internal; see npkernels.conv.conv_transpose2d.",
          "x"_a, "weight"_a, "bias"_a, "stride"_a, "padding"_a, "output_hw"_a, "dilation"_a,
          "groups"_a, "gemm"_a, py::kw_only(), "n_threads"_a);
    m.def("gemm", &gemm_rowmajor, "Internal: blas::gemm, for tests.", "a"_a, "b"_a, "trans_a"_a,
          "trans_b"_a, "piece"_a, "gemm"_a);
}
