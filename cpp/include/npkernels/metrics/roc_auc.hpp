#pragma once
// Binary ROC AUC by the rank (Mann-Whitney) formula:
//   AUC = sum over positives p of w_p * (W_neg(< s_p) + W_neg(= s_p) / 2) / (W_pos * W_neg)
// Unweighted, the numerator is the integer sum over positives of
// #neg(< s) + #neg(<= s) (twice the formula's), so it is exact whatever the
// thread count; weighted, the sums run serially in sorted order.

#include <cstdint>
#include <vector>

#include "npkernels/metrics/binary_scores.hpp"
#include "npkernels/parallel.hpp"

namespace npk::metrics {

struct BinaryAuc {
    double auc;
    double pos_total; // positive weight (or count) after dropping zero weights
    double neg_total;
    std::int64_t first_bad; // first non-finite score, or -1 (then nothing else is set)
};

namespace detail {

template <class K>
std::int64_t lower_bound_index(const K* keys, std::int64_t n, K key) {
    std::int64_t lo = 0, hi = n;
    while(lo < hi) {
        const std::int64_t mid = lo + (hi - lo) / 2;
        if(keys[mid] < key) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

template <class K>
double unweighted_auc(const ClassScores<K>& pos, const ClassScores<K>& neg, int n_threads) {
    const int parts = useful_threads(pos.n, std::int64_t{1} << 16, n_threads);
    std::vector<std::uint64_t> twice_wins(static_cast<std::size_t>(parts), 0);
    parallel_parts(parts, parts, [&](std::int64_t p) {
        const Range r = part_range(pos.n, p, parts);
        if(r.begin == r.end) {
            return;
        }
        std::int64_t below = lower_bound_index(neg.keys, neg.n, pos.keys[r.begin]);
        std::int64_t at_or_below = below;
        std::uint64_t sum        = 0;
        for(std::int64_t i = r.begin; i < r.end; ++i) {
            const K s = pos.keys[i];
            while(below < neg.n && neg.keys[below] < s) {
                ++below;
            }
            at_or_below = std::max(at_or_below, below);
            while(at_or_below < neg.n && neg.keys[at_or_below] == s) {
                ++at_or_below;
            }
            sum += static_cast<std::uint64_t>(below + at_or_below);
        }
        twice_wins[static_cast<std::size_t>(p)] = sum;
    });
    // Bounded by 2 * P * N <= n^2 / 2: exact in 64 bits for n <= 2^32.
    std::uint64_t total = 0;
    for(const std::uint64_t w : twice_wins) {
        total += w;
    }
    return static_cast<double>(total)
           / (2.0 * static_cast<double>(pos.n) * static_cast<double>(neg.n));
}

template <class K>
BinaryAuc weighted_auc(const ClassScores<K>& pos, const ClassScores<K>& neg) {
    double numerator = 0.0, pos_total = 0.0, neg_below = 0.0;
    std::int64_t i = 0, j = 0;
    while(i < pos.n) {
        const K s       = pos.keys[i];
        double w_at_s   = 0.0;
        for(; i < pos.n && pos.keys[i] == s; ++i) {
            w_at_s += pos.weights[i];
        }
        for(; j < neg.n && neg.keys[j] < s; ++j) {
            neg_below += neg.weights[j];
        }
        double neg_at_s = 0.0;
        for(std::int64_t k = j; k < neg.n && neg.keys[k] == s; ++k) {
            neg_at_s += neg.weights[k];
        }
        numerator += w_at_s * (neg_below + 0.5 * neg_at_s);
        pos_total += w_at_s;
    }
    double neg_total = neg_below;
    for(; j < neg.n; ++j) {
        neg_total += neg.weights[j];
    }
    return {numerator / (pos_total * neg_total), pos_total, neg_total, -1};
}

} // namespace detail

// score, is_pos (nonzero = positive), weight (null = unweighted): n each.
template <class T>
BinaryAuc binary_roc_auc(const T* score, const std::uint8_t* is_pos, const double* weight,
                         std::int64_t n, int n_threads) {
    const SortedClasses<T> classes(score, is_pos, weight, n, n_threads);
    if(classes.first_bad() >= 0) {
        return {0.0, 0.0, 0.0, classes.first_bad()};
    }
    const auto& pos = classes.positives();
    const auto& neg = classes.negatives();
    if(classes.weighted()) {
        return detail::weighted_auc(pos, neg);
    }
    return {detail::unweighted_auc(pos, neg, n_threads), static_cast<double>(pos.n),
            static_cast<double>(neg.n), -1};
}

} // namespace npk::metrics
