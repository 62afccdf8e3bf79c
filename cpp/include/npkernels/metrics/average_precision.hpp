#pragma once
// Average precision, scikit-learn's step-wise (not interpolated) definition:
//   AP = sum over distinct scores, highest first, of (R_k - R_{k-1}) * P_k
// with R_k = tps_k / tps_total and P_k = tps_k / (tps_k + fps_k) (0 when the
// denominator is 0); the sum runs serially, so it does not depend on threads.

#include <cstdint>

#include "npkernels/metrics/binary_scores.hpp"

namespace npk::metrics {

struct AveragePrecision {
    double ap;
    double pos_total;       // positive weight (or count); AP is 0 when it is 0
    std::int64_t first_bad; // first non-finite score, or -1
};

template <class T>
AveragePrecision average_precision(const T* score, const std::uint8_t* is_pos,
                                   const double* weight, std::int64_t n, int n_threads) {
    const SortedClasses<T> classes(score, is_pos, weight, n, n_threads);
    if(classes.first_bad() >= 0) {
        return {0.0, 0.0, classes.first_bad()};
    }
    const auto& pos = classes.positives();
    // The total as the cumulative sum reaches it: summed in the walk's order.
    double pos_total = static_cast<double>(pos.n);
    if(pos.weights != nullptr) {
        pos_total = 0.0;
        visit_thresholds_descending(pos, ClassScores<key_t<T>>{},
                                    [&](key_t<T>, double tps, double) { pos_total = tps; });
    }
    if(pos_total == 0.0) {
        return {0.0, pos_total, -1};
    }
    double ap = 0.0, previous_recall = 0.0;
    visit_thresholds_descending(pos, classes.negatives(), [&](key_t<T>, double tps, double fps) {
        const double predicted = tps + fps;
        const double precision = predicted != 0.0 ? tps / predicted : 0.0;
        const double recall    = tps / pos_total;
        ap += (recall - previous_recall) * precision;
        previous_recall = recall;
    });
    return {ap > 0.0 ? ap : 0.0, pos_total, -1};
}

} // namespace npk::metrics
