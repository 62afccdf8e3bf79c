#include "array_utils.hpp"

#include "npkernels/detection/roi_align.hpp"
#include "npkernels/detection/roi_common.hpp"
#include "npkernels/detection/roi_pool.hpp"

#include <cstdint>
#include <new>
#include <string>

namespace {

using namespace npk::bind;
namespace det = npk::detection;

void require_non_negative(std::int64_t v, const char* name) {
    if(v < 0) {
        throw py::value_error(std::string(name) + " must be >= 0, got " + std::to_string(v));
    }
}

// Memory safety depends on every batch index being a valid image.
template <class T>
void require_valid_rois(const c_array<T>& rois, std::int64_t n_batch) {
    const std::int64_t bad = det::find_bad_roi(rois.data(), rois.shape(0), n_batch);
    if(bad >= 0) {
        throw py::value_error("boxes must be finite with a batch index in [0, "
                              + std::to_string(n_batch) + "), got row " + std::to_string(bad));
    }
}

// A gradient with respect to an (N, C, H, W) input.
template <class T>
c_array<T> grad_input_array(std::int64_t batch, py::ssize_t channels, std::int64_t height,
                            std::int64_t width) {
    require_non_negative(batch, "batch");
    require_non_negative(height, "height");
    require_non_negative(width, "width");
    return c_array<T>({static_cast<py::ssize_t>(batch), channels, static_cast<py::ssize_t>(height),
                       static_cast<py::ssize_t>(width)});
}

det::RoiAlignParams align_params(std::int64_t pooled_h, std::int64_t pooled_w,
                                 std::int64_t sampling_ratio, bool aligned) {
    require_non_negative(pooled_h, "pooled_height");
    require_non_negative(pooled_w, "pooled_width");
    return {pooled_h, pooled_w, sampling_ratio, aligned};
}

// The forward inputs, checked: an (N, C, H, W) map and (K, 5) ROIs valid for it;
// pooled<U>() allocates a (K, C, PH, PW) output.
template <class T>
struct ForwardInputs {
    c_array<T> x, r;
    std::int64_t n = 0, c = 0, h = 0, w = 0, k = 0;

    ForwardInputs(const py::array& input, const py::array& rois, std::int64_t pooled_h,
                  std::int64_t pooled_w)
        : x(as_c_array<T>(input, "input")), r(as_c_array<T>(rois, "rois")) {
        require_shape(x, "input", {-1, -1, -1, -1}, "(N, C, H, W)");
        require_shape(r, "rois", {-1, 5}, "(K, 5)");
        require_non_negative(pooled_h, "pooled_height");
        require_non_negative(pooled_w, "pooled_width");
        require_valid_rois(r, x.shape(0));
        n = x.shape(0), c = x.shape(1), h = x.shape(2), w = x.shape(3), k = r.shape(0);
    }

    template <class U>
    c_array<U> pooled(std::int64_t pooled_h, std::int64_t pooled_w) const {
        return c_array<U>({static_cast<py::ssize_t>(k), static_cast<py::ssize_t>(c),
                           static_cast<py::ssize_t>(pooled_h), static_cast<py::ssize_t>(pooled_w)});
    }
};

// Runs an ROI Align kernel. Its workspace (per-thread tables of bilinear samples, sized in a
// serial pre-pass from the boxes, before any parallel region; a channels-last copy of the
// input for many boxes) is the one allocation the caller cannot bound exactly beforehand,
// so its std::bad_alloc becomes a MemoryError naming what to lower.
template <class Kernel>
void sample_table_or_raise(Kernel&& kernel) {
    try {
        kernel();
    } catch(const std::bad_alloc&) {
        raise_memory_error("sampling_ratio / output_size: the workspace of roi_align (the "
                           "bilinear samples of the largest ROI) does not fit in memory; "
                           "lower sampling_ratio or output_size");
    }
}

py::array roi_align(const py::array& input, const py::array& rois, double spatial_scale,
                    std::int64_t pooled_h, std::int64_t pooled_w, std::int64_t sampling_ratio,
                    bool aligned, int n_threads) {
    return dispatch_float(input, "input", [&](auto tag) -> py::array {
        using T      = decltype(tag);
        const ForwardInputs<T> in(input, rois, pooled_h, pooled_w);
        const det::RoiAlignParams p = align_params(pooled_h, pooled_w, sampling_ratio, aligned);
        c_array<T> out              = in.template pooled<T>(pooled_h, pooled_w);
        const T* px                 = in.x.data();
        const T* pr                 = in.r.data();
        T* po                       = out.mutable_data();
        sample_table_or_raise([&] {
            const py::gil_scoped_release release; // only raw pointers from here on
            det::roi_align_forward(px, in.n, in.c, in.h, in.w, pr, in.k,
                                   static_cast<T>(spatial_scale), p, po, n_threads);
        });
        return out;
    });
}

py::array roi_align_backward(const py::array& grad_output, const py::array& rois,
                             std::int64_t batch, std::int64_t height, std::int64_t width,
                             double spatial_scale, std::int64_t sampling_ratio, bool aligned,
                             int n_threads) {
    return dispatch_float(grad_output, "grad_output", [&](auto tag) -> py::array {
        using T      = decltype(tag);
        const auto g = as_c_array<T>(grad_output, "grad_output");
        const auto r = as_c_array<T>(rois, "rois");
        require_shape(g, "grad_output", {-1, -1, -1, -1}, "(K, C, PH, PW)");
        require_shape(r, "rois", {g.shape(0), 5}, "(K, 5)");
        c_array<T> out = grad_input_array<T>(batch, g.shape(1), height, width);
        const det::RoiAlignParams p = align_params(g.shape(2), g.shape(3), sampling_ratio, aligned);
        require_valid_rois(r, batch);
        const py::ssize_t k = r.shape(0), c = g.shape(1);
        const T* pg = g.data();
        const T* pr = r.data();
        T* po       = out.mutable_data();
        sample_table_or_raise([&] {
            const py::gil_scoped_release release;
            det::roi_align_backward(pg, pr, k, batch, c, height, width,
                                    static_cast<T>(spatial_scale), p, po, n_threads);
        });
        return out;
    });
}

py::tuple roi_pool(const py::array& input, const py::array& rois, double spatial_scale,
                   std::int64_t pooled_h, std::int64_t pooled_w, int n_threads) {
    return dispatch_float(input, "input", [&](auto tag) -> py::tuple {
        using T = decltype(tag);
        const ForwardInputs<T> in(input, rois, pooled_h, pooled_w);
        c_array<T> out            = in.template pooled<T>(pooled_h, pooled_w);
        c_array<std::int64_t> arg = in.template pooled<std::int64_t>(pooled_h, pooled_w);
        const T* px               = in.x.data();
        const T* pr               = in.r.data();
        T* po                     = out.mutable_data();
        std::int64_t* pa          = arg.mutable_data();
        {
            const py::gil_scoped_release release;
            det::roi_pool_forward(px, in.n, in.c, in.h, in.w, pr, in.k,
                                  static_cast<T>(spatial_scale), pooled_h, pooled_w, po, pa,
                                  n_threads);
        }
        return py::make_tuple(out, arg);
    });
}

py::array roi_pool_backward(const py::array& grad_output, const py::array& argmax,
                            const py::array& rois, std::int64_t batch, std::int64_t height,
                            std::int64_t width, int n_threads) {
    return dispatch_float(grad_output, "grad_output", [&](auto tag) -> py::array {
        using T      = decltype(tag);
        const auto g = as_c_array<T>(grad_output, "grad_output");
        const auto a = as_c_array<std::int64_t>(argmax, "argmax");
        const auto r = as_c_array<T>(rois, "rois");
        require_shape(g, "grad_output", {-1, -1, -1, -1}, "(K, C, PH, PW)");
        require_shape(a, "argmax", {g.shape(0), g.shape(1), g.shape(2), g.shape(3)},
                      "equal to grad_output's");
        require_shape(r, "rois", {g.shape(0), 5}, "(K, 5)");
        c_array<T> out = grad_input_array<T>(batch, g.shape(1), height, width);
        require_valid_rois(r, batch);
        const py::ssize_t k = r.shape(0), c = g.shape(1);
        const std::int64_t bins = g.shape(2) * g.shape(3);
        const std::int64_t* pa  = a.data();
        const T* pg             = g.data();
        const T* pr             = r.data();
        T* po                   = out.mutable_data();
        std::int64_t bad        = -1;
        {
            const py::gil_scoped_release release;
            bad = det::roi_pool_backward(pg, pa, pr, k, batch, c, height, width, bins, po,
                                         n_threads);
        }
        if(bad >= 0) {
            throw py::value_error("argmax must be in [-1, " + std::to_string(height * width)
                                  + "), got " + std::to_string(pa[bad]) + " at index "
                                  + std::to_string(bad));
        }
        return out;
    });
}

} // namespace

void register_roi(py::module_& m) {
    m.def("roi_align", &roi_align, "input"_a, "rois"_a, "spatial_scale"_a, "pooled_height"_a,
          "pooled_width"_a, "sampling_ratio"_a, "aligned"_a, py::kw_only(), "n_threads"_a,
          "Internal; see npkernels.detection.roi_align.");
    m.def("roi_align_backward", &roi_align_backward, "grad_output"_a, "rois"_a, "batch"_a,
          "height"_a, "width"_a, "spatial_scale"_a, "sampling_ratio"_a, "aligned"_a,
          py::kw_only(), "n_threads"_a, "Internal; see npkernels.detection.roi_align_backward.");
    m.def("roi_pool", &roi_pool, "input"_a, "rois"_a, "spatial_scale"_a, "pooled_height"_a,
          "pooled_width"_a, py::kw_only(), "n_threads"_a,
          "Internal; returns (output, argmax). See npkernels.detection.roi_pool.");
    m.def("roi_pool_backward", &roi_pool_backward, "grad_output"_a, "argmax"_a, "rois"_a,
          "batch"_a, "height"_a, "width"_a, py::kw_only(), "n_threads"_a,
          "Internal; see npkernels.detection.roi_pool_backward.");
}
