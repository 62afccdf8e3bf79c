#pragma once
// The ROC curve's points, as scikit-learn's roc_curve computes them before it
// normalises: one point per distinct score (highest first) with the cumulative
// negative (fps) and positive (tps) weight at or above it, collinear points
// dropped on request, and a leading (0, 0) point at threshold +inf.

#include <cstdint>
#include <limits>
#include <vector>

#include "npkernels/metrics/binary_scores.hpp"

namespace npk::metrics {

struct CurvePoints {
    std::vector<double> fps;
    std::vector<double> tps;
    std::vector<double> thresholds;
    std::int64_t first_bad = -1; // first non-finite score, or -1 (then the curve is empty)
};

namespace detail {

// Keeps the first and last points and every point where the curve bends,
// i.e. where np.diff(fps, 2) or np.diff(tps, 2) is nonzero (same arithmetic).
inline void drop_collinear(CurvePoints& c, std::size_t first) {
    const std::size_t end = c.fps.size();
    if(end - first <= 2) {
        return;
    }
    std::size_t out = first + 1;
    for(std::size_t i = first + 1; i + 1 < end; ++i) {
        const bool bends = (c.fps[i + 1] - c.fps[i]) - (c.fps[i] - c.fps[i - 1]) != 0.0
                           || (c.tps[i + 1] - c.tps[i]) - (c.tps[i] - c.tps[i - 1]) != 0.0;
        if(bends) {
            c.fps[out]        = c.fps[i];
            c.tps[out]        = c.tps[i];
            c.thresholds[out] = c.thresholds[i];
            ++out;
        }
    }
    // The tests above read c[i - 1] before it is overwritten: out <= i always.
    c.fps[out]        = c.fps[end - 1];
    c.tps[out]        = c.tps[end - 1];
    c.thresholds[out] = c.thresholds[end - 1];
    c.fps.resize(out + 1);
    c.tps.resize(out + 1);
    c.thresholds.resize(out + 1);
}

} // namespace detail

template <class T>
CurvePoints roc_curve_points(const T* score, const std::uint8_t* is_pos, const double* weight,
                             std::int64_t n, bool drop_intermediate, int n_threads) {
    const SortedClasses<T> classes(score, is_pos, weight, n, n_threads);
    CurvePoints c;
    if(classes.first_bad() >= 0) {
        c.first_bad = classes.first_bad();
        return c;
    }
    const auto capacity = static_cast<std::size_t>(classes.positives().n + classes.negatives().n) + 1;
    c.fps.reserve(capacity);
    c.tps.reserve(capacity);
    c.thresholds.reserve(capacity);
    c.fps.push_back(0.0);
    c.tps.push_back(0.0);
    c.thresholds.push_back(std::numeric_limits<double>::infinity());
    visit_thresholds_descending(classes.positives(), classes.negatives(),
                                [&](key_t<T> key, double tps, double fps) {
                                    c.fps.push_back(fps);
                                    c.tps.push_back(tps);
                                    c.thresholds.push_back(
                                        static_cast<double>(OrderKey<T>::decode(key)));
                                });
    if(drop_intermediate) {
        // Like scikit-learn: collinear points are found before the leading
        // (0, 0) point is added, so that point takes no part.
        detail::drop_collinear(c, 1);
    }
    return c;
}

} // namespace npk::metrics
