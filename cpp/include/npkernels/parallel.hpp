#pragma once
// The one way kernels run in parallel: a fixed split of the work into parts,
// each part handled by exactly one thread. Part bounds depend only on the sizes
// involved, never on scheduling, so a kernel whose parts write disjoint outputs
// (or whose part results are combined in part order) gives bitwise-identical
// results for any thread count.

#include <algorithm>
#include <cstdint>

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

// Calls fn(part) for every part in [0, parts), handing parts out one at a
// time to whichever of up to n_threads threads is free: for parts of uneven
// cost. Which thread runs a part never changes what the part computes.
template <class Fn>
void parallel_dynamic(std::int64_t parts, int n_threads, Fn&& fn) {
    const int threads = static_cast<int>(std::min<std::int64_t>(std::max(n_threads, 1), parts));
    if(threads <= 1) {
        for(std::int64_t p = 0; p < parts; ++p) {
            fn(p);
        }
        return;
    }
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for(std::int64_t p = 0; p < parts; ++p) {
        fn(p);
    }
#else
    for(std::int64_t p = 0; p < parts; ++p) {
        fn(p);
    }
#endif
}

// How many threads parallel_dynamic_workers uses for `parts` parts: at least 1.
inline int dynamic_workers(std::int64_t parts, int n_threads) {
    return static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(std::max(n_threads, 1), parts)));
}

// As parallel_dynamic, but calls fn(part, worker) where worker, in
// [0, dynamic_workers(parts, n_threads)), names the calling thread: a kernel
// allocates one scratch buffer per worker before the region (so no allocation
// happens inside it) and each call uses its worker's buffer.
template <class Fn>
void parallel_dynamic_workers(std::int64_t parts, int n_threads, Fn&& fn) {
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

} // namespace npk
