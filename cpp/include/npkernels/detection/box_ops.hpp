#pragma once
// Box arithmetic shared by box_iou, NMS and Soft-NMS, written exactly as
// torchvision (and mmcv) write it, so that every rounding is theirs: signed
// areas (x2 - x1) * (y2 - y1), the intersection clamped at 0 per axis, and
// IoU = inter / (area_i + area_j - inter), all in the input dtype.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "npkernels/parallel.hpp"

namespace npk::detection {

template <class T>
inline T box_area_of(T x1, T y1, T x2, T y2) {
    return (x2 - x1) * (y2 - y1);
}

// Intersection area of two boxes (0 when they do not overlap).
template <class T>
inline T intersection(T ax1, T ay1, T ax2, T ay2, T bx1, T by1, T bx2, T by2) {
    const T w = std::max(T(0), std::min(ax2, bx2) - std::max(ax1, bx1));
    const T h = std::max(T(0), std::min(ay2, by2) - std::max(ay1, by1));
    return w * h;
}

// torchvision's IoU; a zero union gives 0 / 0 = NaN, as there.
template <class T>
inline T iou_from(T inter, T area_a, T area_b) {
    return inter / (area_a + area_b - inter);
}

// Boxes as structure-of-arrays with their areas: the layout every hot loop reads.
template <class T>
struct BoxesSoA {
    T* x1;
    T* y1;
    T* x2;
    T* y2;
    T* area;
};

// A box that takes part in no overlap: zero or negative width or height. Its
// intersection with any box is 0, so for a threshold >= 0 it never suppresses
// and is never suppressed.
template <class T>
inline bool is_empty_box(T x1, T y1, T x2, T y2) {
    return !(x2 > x1 && y2 > y1);
}

// First row of an (n, 4) array holding a NaN or an infinity, or -1.
template <class T>
std::int64_t first_non_finite_row(const T* boxes, std::int64_t n, int n_threads) {
    return parallel_find_first(n, std::int64_t{1} << 14, n_threads, [=](std::int64_t i) {
        const T* b = boxes + 4 * i;
        return !(std::isfinite(b[0]) && std::isfinite(b[1]) && std::isfinite(b[2])
                 && std::isfinite(b[3]));
    });
}

// First NaN in x[0, n), or -1.
template <class T>
std::int64_t first_nan(const T* x, std::int64_t n, int n_threads) {
    return parallel_find_first(n, std::int64_t{1} << 16, n_threads,
                               [=](std::int64_t i) { return x[i] != x[i]; });
}

// First NaN or infinity in x[0, n), or -1.
template <class T>
std::int64_t first_non_finite(const T* x, std::int64_t n, int n_threads) {
    return parallel_find_first(n, std::int64_t{1} << 16, n_threads,
                               [=](std::int64_t i) { return !std::isfinite(x[i]); });
}

// The largest T that is <= t. torchvision compares the IoU (a T) with a double
// threshold; for any T value v, (double)v > t exactly when v > this.
template <class T>
inline T largest_not_above(double t) {
    if constexpr(std::is_same_v<T, double>) {
        return t;
    } else {
        constexpr double top = static_cast<double>(std::numeric_limits<T>::max());
        if(std::isnan(t)) {
            return std::numeric_limits<T>::quiet_NaN();
        }
        if(t >= top) {
            return t == std::numeric_limits<double>::infinity() ? std::numeric_limits<T>::infinity()
                                                                 : std::numeric_limits<T>::max();
        }
        if(t < -top) {
            return -std::numeric_limits<T>::infinity();
        }
        T v = static_cast<T>(t);
        if(static_cast<double>(v) > t) {
            v = std::nextafter(v, -std::numeric_limits<T>::infinity());
        }
        return v;
    }
}

} // namespace npk::detection
