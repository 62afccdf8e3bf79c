#include "array_utils.hpp"

#include "npkernels/detection/box_iou.hpp"
#include "npkernels/detection/nms.hpp"
#include "npkernels/detection/soft_nms.hpp"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using namespace npk::bind;
namespace det = npk::detection;

std::string value_text(double v) {
    return std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf";
}

template <class T>
c_array<T> boxes_arg(const py::array& arr, const char* name) {
    auto b = as_c_array<T>(arr, name);
    require_shape(b, name, {-1, 4}, "(N, 4)");
    return b;
}

// ValueError naming the first non-finite box (checked with the GIL released).
template <class T>
void check_finite_boxes(const c_array<T>& b, const char* name, int n_threads) {
    const T* pb      = b.data();
    const std::int64_t n = b.shape(0);
    std::int64_t row = -1;
    {
        const py::gil_scoped_release release;
        row = det::first_non_finite_row(pb, n, n_threads);
    }
    if(row >= 0) {
        double v = 0.0;
        for(int k = 0; k < 4; ++k) {
            if(!std::isfinite(pb[4 * row + k])) {
                v = static_cast<double>(pb[4 * row + k]);
                break;
            }
        }
        throw py::value_error(std::string(name) + " must be finite, got " + value_text(v)
                              + " in row " + std::to_string(row));
    }
}

// NMS scores: NaN has no place in the order (infinities do).
template <class T>
void check_scores(const c_array<T>& s, bool finite, int n_threads) {
    const T* ps      = s.data();
    const std::int64_t n = s.shape(0);
    std::int64_t bad = -1;
    {
        const py::gil_scoped_release release;
        bad = finite ? det::first_non_finite(ps, n, n_threads) : det::first_nan(ps, n, n_threads);
    }
    if(bad >= 0) {
        if(!finite) {
            throw py::value_error("scores must not contain NaN, got NaN at index "
                                  + std::to_string(bad));
        }
        throw py::value_error("scores must be finite, got " + value_text(ps[bad]) + " at index "
                              + std::to_string(bad));
    }
}

double threshold_arg(double t) {
    if(std::isnan(t)) {
        throw py::value_error("iou_threshold must not be NaN, got nan");
    }
    return t;
}

template <class T>
py::array box_area(const py::array& boxes, int n_threads) {
    const auto b = boxes_arg<T>(boxes, "boxes");
    check_finite_boxes(b, "boxes", n_threads);
    const py::ssize_t n = b.shape(0);
    c_array<T> out({n});
    const T* pb = b.data();
    T* po       = out.mutable_data();
    {
        const py::gil_scoped_release release; // only raw pointers from here on
        det::box_area(pb, n, po, n_threads);
    }
    return out;
}

enum class Pairwise { iou, giou };

template <class T>
py::array pairwise(const py::array& boxes1, const py::array& boxes2, Pairwise kind, int n_threads) {
    const auto a = boxes_arg<T>(boxes1, "boxes1");
    const auto b = boxes_arg<T>(boxes2, "boxes2");
    check_finite_boxes(a, "boxes1", n_threads);
    check_finite_boxes(b, "boxes2", n_threads);
    const py::ssize_t n = a.shape(0), m = b.shape(0);
    c_array<T> out({n, m});
    std::vector<T> b_area(static_cast<std::size_t>(m));
    const T* pa = a.data();
    const T* pb = b.data();
    T* po       = out.mutable_data();
    {
        const py::gil_scoped_release release;
        if(kind == Pairwise::iou) {
            det::box_iou(pa, n, pb, m, b_area.data(), po, n_threads);
        } else {
            det::generalized_box_iou(pa, n, pb, m, b_area.data(), po, n_threads);
        }
    }
    return out;
}

template <class T>
py::array giou_loss(const py::array& boxes1, const py::array& boxes2, double eps, int n_threads) {
    const auto a = boxes_arg<T>(boxes1, "boxes1");
    const auto b = boxes_arg<T>(boxes2, "boxes2");
    if(b.shape(0) != a.shape(0)) {
        throw py::value_error("boxes2 must have shape (" + std::to_string(a.shape(0))
                              + ", 4) like boxes1, got " + std::string(py::str(b.attr("shape"))));
    }
    check_finite_boxes(a, "boxes1", n_threads);
    check_finite_boxes(b, "boxes2", n_threads);
    const py::ssize_t n = a.shape(0);
    c_array<T> out({n});
    const T* pa = a.data();
    const T* pb = b.data();
    T* po       = out.mutable_data();
    {
        const py::gil_scoped_release release;
        det::generalized_box_iou_loss(pa, pb, n, static_cast<T>(eps), po, n_threads);
    }
    return out;
}

// Boxes, scores (and idxs) of a suppression call, checked.
template <class T>
struct Suppression {
    c_array<T> boxes;
    c_array<T> scores;
    std::optional<c_array<std::int64_t>> idxs;

    Suppression(const py::array& b, const py::array& s, const py::object& i, bool finite_scores,
                int n_threads)
        : boxes(boxes_arg<T>(b, "boxes")), scores(as_c_array<T>(s, "scores")) {
        require_same_length(scores, "scores", boxes.shape(0));
        if(!i.is_none()) {
            idxs = as_c_array<std::int64_t>(as_array(i, "idxs"), "idxs");
            require_same_length(*idxs, "idxs", boxes.shape(0));
        }
        check_finite_boxes(boxes, "boxes", n_threads);
        check_scores(scores, finite_scores, n_threads);
    }
    std::int64_t n() const { return boxes.shape(0); }
};

template <class T>
py::array nms(const py::array& boxes, const py::array& scores, const py::object& idxs,
              double iou_threshold, int n_threads) {
    const double thr = threshold_arg(iou_threshold);
    const Suppression<T> in(boxes, scores, idxs, false, n_threads);
    std::vector<std::int64_t> keep;
    {
        const py::gil_scoped_release release;
        keep = in.idxs ? det::batched_nms(in.boxes.data(), in.scores.data(), in.idxs->data(),
                                          in.n(), thr, n_threads)
                       : det::nms(in.boxes.data(), in.scores.data(), in.n(), thr, n_threads);
    }
    return to_array(std::move(keep));
}

det::SoftMethod soft_method(const std::string& method) {
    if(method == "linear") {
        return det::SoftMethod::linear;
    }
    if(method == "gaussian") {
        return det::SoftMethod::gaussian;
    }
    if(method == "naive") {
        return det::SoftMethod::naive;
    }
    throw py::value_error("method must be one of 'linear', 'gaussian', 'naive', got '" + method
                          + "'");
}

template <class T>
py::tuple soft_nms(const py::array& boxes, const py::array& scores, const py::object& idxs,
                   double iou_threshold, double sigma, double min_score, const std::string& method,
                   int n_threads) {
    const det::SoftParams<T> prm{soft_method(method), static_cast<T>(threshold_arg(iou_threshold)),
                                 static_cast<T>(sigma), static_cast<T>(min_score)};
    if(!(prm.sigma > T(0))) {
        throw py::value_error("sigma must be > 0, got " + std::to_string(sigma));
    }
    if(std::isnan(min_score)) {
        throw py::value_error("min_score must not be NaN, got nan");
    }
    const Suppression<T> in(boxes, scores, idxs, true, n_threads);
    const py::ssize_t n = in.n();
    c_array<std::int64_t> keep({n});
    c_array<T> kept({n});
    std::int64_t* pk = keep.mutable_data();
    T* ps            = kept.mutable_data();
    std::int64_t count = 0;
    {
        const py::gil_scoped_release release;
        count = in.idxs ? det::batched_soft_nms(in.boxes.data(), in.scores.data(), in.idxs->data(),
                                                n, prm, pk, ps, n_threads)
                        : det::soft_nms(in.boxes.data(), in.scores.data(), n, prm, pk, ps,
                                        n_threads);
    }
    keep.resize({static_cast<py::ssize_t>(count)});
    kept.resize({static_cast<py::ssize_t>(count)});
    return py::make_tuple(keep, kept);
}

} // namespace

void register_detection(py::module_& m) {
    m.def(
        "box_area",
        [](const py::array& boxes, int n_threads) {
            return dispatch_float(boxes, "boxes", [&](auto tag) {
                return box_area<decltype(tag)>(boxes, n_threads);
            });
        },
        "boxes"_a, py::kw_only(), "n_threads"_a, "Internal; see npkernels.detection.box_area.");
    m.def(
        "box_iou",
        [](const py::array& boxes1, const py::array& boxes2, int n_threads) {
            return dispatch_float(boxes1, "boxes1", [&](auto tag) {
                return pairwise<decltype(tag)>(boxes1, boxes2, Pairwise::iou, n_threads);
            });
        },
        "boxes1"_a, "boxes2"_a, py::kw_only(), "n_threads"_a,
        "Internal; see npkernels.detection.box_iou.");
    m.def(
        "generalized_box_iou",
        [](const py::array& boxes1, const py::array& boxes2, int n_threads) {
            return dispatch_float(boxes1, "boxes1", [&](auto tag) {
                return pairwise<decltype(tag)>(boxes1, boxes2, Pairwise::giou, n_threads);
            });
        },
        "boxes1"_a, "boxes2"_a, py::kw_only(), "n_threads"_a,
        "Internal; see npkernels.detection.generalized_box_iou.");
    m.def(
        "generalized_box_iou_loss",
        [](const py::array& boxes1, const py::array& boxes2, double eps, int n_threads) {
            return dispatch_float(boxes1, "boxes1", [&](auto tag) {
                return giou_loss<decltype(tag)>(boxes1, boxes2, eps, n_threads);
            });
        },
        "boxes1"_a, "boxes2"_a, "eps"_a, py::kw_only(), "n_threads"_a,
        "Internal; element-wise loss (no reduction). See npkernels.detection.");
    m.def(
        "nms",
        [](const py::array& boxes, const py::array& scores, const py::object& idxs,
           double iou_threshold, int n_threads) {
            return dispatch_float(boxes, "boxes", [&](auto tag) {
                return nms<decltype(tag)>(boxes, scores, idxs, iou_threshold, n_threads);
            });
        },
        "boxes"_a, "scores"_a, "idxs"_a, "iou_threshold"_a, py::kw_only(), "n_threads"_a,
        "Internal; nms (idxs None) or batched_nms. See npkernels.detection.");
    m.def(
        "soft_nms",
        [](const py::array& boxes, const py::array& scores, const py::object& idxs,
           double iou_threshold, double sigma, double min_score, const std::string& method,
           int n_threads) {
            return dispatch_float(boxes, "boxes", [&](auto tag) {
                return soft_nms<decltype(tag)>(boxes, scores, idxs, iou_threshold, sigma,
                                               min_score, method, n_threads);
            });
        },
        "boxes"_a, "scores"_a, "idxs"_a, "iou_threshold"_a, "sigma"_a, "min_score"_a, "method"_a,
        py::kw_only(), "n_threads"_a,
        "Internal; returns (keep, kept_scores); soft_nms (idxs None) or batched. See "
        "npkernels.detection.");
}
