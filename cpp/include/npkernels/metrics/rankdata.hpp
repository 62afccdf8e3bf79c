#pragma once
// Ranks of a 1-D array with scipy.stats.rankdata's tie methods.
//
// The values become order-preserving keys, a stable radix sort carries each
// position along, and every run of equal keys in sorted order gets its rank.
// Ranks are integers or halves below 2^52, so float64 holds them exactly.

#include <cstdint>
#include <algorithm>
#include <limits>
#include <vector>

#include "npkernels/buffer.hpp"
#include "npkernels/order_key.hpp"
#include "npkernels/parallel.hpp"
#include "npkernels/radix_sort.hpp"

namespace npk::metrics {

enum class RankMethod { average, min, max, dense, ordinal };

namespace detail {

// Writes ranks[order[i]] for sorted keys; runs of equal keys may cross part
// boundaries, so each part looks past its ends for the run bounds.
template <class K, class I>
void assign_ranks(const K* key, const I* order, std::int64_t n, RankMethod method, double* ranks,
                  int n_threads) {
    const int parts = useful_threads(n, std::int64_t{1} << 15, n_threads);
    // dense: the rank is 1 + the number of runs that start before the run.
    std::vector<std::int64_t> runs_before(static_cast<std::size_t>(parts) + 1, 0);
    if(method == RankMethod::dense) {
        parallel_parts(parts, parts, [&](std::int64_t p) {
            const Range r      = part_range(n, p, parts);
            std::int64_t count = 0;
            for(std::int64_t i = r.begin; i < r.end; ++i) {
                count += (i == 0 || key[i] != key[i - 1]) ? 1 : 0;
            }
            runs_before[static_cast<std::size_t>(p) + 1] = count;
        });
        for(int p = 0; p < parts; ++p) {
            runs_before[static_cast<std::size_t>(p) + 1] += runs_before[static_cast<std::size_t>(p)];
        }
    }
    parallel_parts(parts, parts, [&](std::int64_t p) {
        const Range r = part_range(n, p, parts);
        if(method == RankMethod::ordinal) {
            for(std::int64_t i = r.begin; i < r.end; ++i) {
                ranks[order[i]] = static_cast<double>(i + 1);
            }
            return;
        }
        std::int64_t run_start = r.begin;
        while(run_start > 0 && key[run_start - 1] == key[r.begin]) {
            --run_start;
        }
        std::int64_t dense_rank = runs_before[static_cast<std::size_t>(p)]
                                  + (run_start == r.begin ? 1 : 0);
        std::int64_t i = r.begin;
        while(i < r.end) {
            std::int64_t run_end = i + 1; // one past the run
            while(run_end < n && key[run_end] == key[i]) {
                ++run_end;
            }
            double rank = 0.0;
            switch(method) {
            case RankMethod::average:
                rank = 0.5 * static_cast<double>(run_start + run_end + 1);
                break;
            case RankMethod::min: rank = static_cast<double>(run_start + 1); break;
            case RankMethod::max: rank = static_cast<double>(run_end); break;
            default: rank = static_cast<double>(dense_rank); break;
            }
            const std::int64_t stop = std::min(run_end, r.end);
            for(; i < stop; ++i) {
                ranks[order[i]] = rank;
            }
            run_start = run_end;
            ++dense_rank;
        }
    });
}

template <class T, class I>
void rank_with_index_type(const T* x, std::int64_t n, RankMethod method, double* ranks,
                          int n_threads) {
    using K     = key_t<T>;
    auto keys   = uninitialized_buffer<K>(n);
    auto order  = uninitialized_buffer<I>(n);
    auto keys2  = uninitialized_buffer<K>(n);
    auto order2 = uninitialized_buffer<I>(n);
    parallel_for(n, std::int64_t{1} << 15, n_threads, [&](std::int64_t begin, std::int64_t end) {
        for(std::int64_t i = begin; i < end; ++i) {
            keys[i]  = OrderKey<T>::encode(x[i]);
            order[i] = static_cast<I>(i);
        }
    });
    const auto sorted = radix_sort(keys.get(), order.get(), keys2.get(), order2.get(), n, n_threads);
    assign_ranks(sorted.keys, sorted.payload, n, method, ranks, n_threads);
}

} // namespace detail

// Index of the first value that has no place in the order (NaN), or -1.
template <class T>
std::int64_t find_unordered(const T* x, std::int64_t n, int n_threads) {
    // Only NaN is unequal to itself.
    return parallel_find_first(n, std::int64_t{1} << 16, n_threads,
                               [=](std::int64_t i) { return x[i] != x[i]; });
}

// ranks[i] = rank of x[i] among x[0, n) (1-based); x must hold no NaN.
template <class T>
void rankdata(const T* x, std::int64_t n, RankMethod method, double* ranks, int n_threads) {
    if(n <= static_cast<std::int64_t>(std::numeric_limits<std::uint32_t>::max())) {
        detail::rank_with_index_type<T, std::uint32_t>(x, n, method, ranks, n_threads);
    } else {
        detail::rank_with_index_type<T, std::uint64_t>(x, n, method, ranks, n_threads);
    }
}

} // namespace npk::metrics
