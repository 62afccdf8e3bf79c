#pragma once
// The one way kernels run in parallel: a fixed split of the work into parts,
// each part handled by exactly one thread. Part bounds depend only on the sizes
// involved, never on scheduling, so a kernel whose parts write disjoint outputs
// (or whose part results are combined in part order) gives bitwise-identical
// results for any thread count.

#include <algorithm>
#include <cstdint>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace npk {

struct Range {
    std::int64_t begin;
    std::int64_t end;
};

// Part `part` of `parts` contiguous, near-equal parts of [0, n).
inline Range part_range(std::int64_t n, std::int64_t part, std::int64_t parts) {
    return {n * part / parts, n * (part + 1) / parts};
}

// How many threads are worth starting for n items when each should get >= grain.
inline int useful_threads(std::int64_t n, std::int64_t grain, int n_threads) {
    const std::int64_t by_size = std::max<std::int64_t>(1, n / std::max<std::int64_t>(grain, 1));
    return static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(n_threads, by_size)));
}

// Values (elements read plus written) a thread should get before another one
// is worth waking: below that, the wake-up costs more than the work (a few
// microseconds, up to a scheduler tick when the other core is busy).
constexpr std::int64_t min_values_per_thread = std::int64_t{1} << 15;

// The grain of parallel_for over items of `values` values each.
inline std::int64_t grain_for(std::int64_t values) {
    const std::int64_t per = std::max<std::int64_t>(1, values);
    return (min_values_per_thread + per - 1) / per;
}

// Threads worth waking for `values` values of work in all.
inline int threads_for(std::int64_t values, int n_threads) {
    return useful_threads(values, min_values_per_thread, n_threads);
}

// Values of T between two workers' slices of one scratch allocation holding
// `count` values each: at least a cache line of gap after each slice, so no line
// is shared whatever the allocation's alignment. Small per-thread scratch
// written on every step (search heaps, cell gaps) must not share lines: the
// line would bounce between the cores (measured: k-NN queries at 2 threads).
template <class T>
std::int64_t worker_stride(std::int64_t count) {
    constexpr std::int64_t line = 64;
    const std::int64_t bytes    = count * std::int64_t{sizeof(T)};
    return ((bytes + line - 1) / line + 1) * line / std::int64_t{sizeof(T)};
}

// Calls fn(part) for every part in [0, parts) on up to n_threads threads
// (static schedule). fn must not throw: an exception escaping an OpenMP region
// ends the process.
template <class Fn>
void parallel_parts(std::int64_t parts, int n_threads, Fn&& fn) {
    const int threads = static_cast<int>(std::min<std::int64_t>(std::max(n_threads, 1), parts));
    if(threads <= 1) {
        for(std::int64_t p = 0; p < parts; ++p) {
            fn(p);
        }
        return;
    }
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(threads)
    for(std::int64_t p = 0; p < parts; ++p) {
        fn(p);
    }
#else
    for(std::int64_t p = 0; p < parts; ++p) {
        fn(p);
    }
#endif
}

// The number of threads parallel_dynamic_with_worker(parts, n_threads, ...)
// runs: size per-thread scratch with it, before the parallel region.
inline int dynamic_workers(std::int64_t parts, int n_threads) {
    return static_cast<int>(std::max<std::int64_t>(
        1, std::min<std::int64_t>(std::max(n_threads, 1), parts)));
}

// Calls fn(part, worker) for every part in [0, parts), handing parts out one
// at a time to whichever thread is free (for parts of uneven cost); worker, in
// [0, dynamic_workers(parts, n_threads)), names the calling thread so that fn
// can use that thread's scratch. Which worker runs a part must not change
// what the part computes.
template <class Fn>
void parallel_dynamic_with_worker(std::int64_t parts, int n_threads, Fn&& fn) {
    const int threads = dynamic_workers(parts, n_threads);
    if(threads <= 1) {
        for(std::int64_t p = 0; p < parts; ++p) {
            fn(p, 0);
        }
        return;
    }
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
    {
        const int worker = omp_get_thread_num();
#pragma omp for schedule(dynamic, 1)
        for(std::int64_t p = 0; p < parts; ++p) {
            fn(p, worker);
        }
    }
#else
    for(std::int64_t p = 0; p < parts; ++p) {
        fn(p, 0);
    }
#endif
}

// parallel_dynamic_with_worker for parts that need no scratch: fn(part).
template <class Fn>
void parallel_dynamic(std::int64_t parts, int n_threads, Fn&& fn) {
    parallel_dynamic_with_worker(parts, n_threads, [&](std::int64_t p, int) { fn(p); });
}

// Calls fn(begin, end) on one contiguous block of [0, n) per thread used.
template <class Fn>
void parallel_for(std::int64_t n, std::int64_t grain, int n_threads, Fn&& fn) {
    if(n <= 0) {
        return;
    }
    const int parts = useful_threads(n, grain, n_threads);
    parallel_parts(parts, parts, [&](std::int64_t p) {
        const Range r = part_range(n, p, parts);
        if(r.begin < r.end) {
            fn(r.begin, r.end);
        }
    });
}

// Calls fn(worker, begin, end) on the chunks [c*chunk, min(n, (c+1)*chunk)) of
// [0, n), handed out dynamically (parallel_dynamic_with_worker); worker is in
// [0, chunk_workers(n, chunk, n_threads)). Chunk bounds depend only on
// (n, chunk): when each index's result depends only on that index, the output
// is the same for any thread count. For irregular work (tree searches) small
// chunks keep both cores busy and cache-friendly.
inline std::int64_t chunk_count(std::int64_t n, std::int64_t chunk) {
    return n <= 0 ? 0 : (n + std::max<std::int64_t>(chunk, 1) - 1) / std::max<std::int64_t>(chunk, 1);
}

inline int chunk_workers(std::int64_t n, std::int64_t chunk, int n_threads) {
    return dynamic_workers(chunk_count(n, chunk), n_threads);
}

template <class Fn>
void parallel_chunks(std::int64_t n, std::int64_t chunk, int n_threads, Fn&& fn) {
    chunk = std::max<std::int64_t>(chunk, 1);
    parallel_dynamic_with_worker(chunk_count(n, chunk), n_threads, [&](std::int64_t c, int worker) {
        fn(worker, c * chunk, std::min(n, (c + 1) * chunk));
    });
}

// The smallest i in [0, n) with bad(i), or -1: each part stops at its first
// hit and the parts are read in order, so the answer is the same for any
// thread count.
template <class Pred>
std::int64_t parallel_find_first(std::int64_t n, std::int64_t grain, int n_threads, Pred&& bad) {
    const int parts = useful_threads(n, grain, n_threads);
    std::vector<std::int64_t> first(static_cast<std::size_t>(parts), -1);
    parallel_parts(parts, parts, [&](std::int64_t p) {
        const Range r = part_range(n, p, parts);
        for(std::int64_t i = r.begin; i < r.end; ++i) {
            if(bad(i)) {
                first[static_cast<std::size_t>(p)] = i;
                return;
            }
        }
    });
    for(const std::int64_t f : first) {
        if(f >= 0) {
            return f;
        }
    }
    return -1;
}

} // namespace npk
