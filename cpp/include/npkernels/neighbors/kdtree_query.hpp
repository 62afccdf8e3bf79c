#pragma once
// Searches of a KDTree: k nearest neighbours, all neighbours within a radius
// (flat CSR result), and all pairs within a radius.
//
// Distances are kept as d^p until output and computed exactly as SciPy's
// cKDTree does, so float64 results equal its bit for bit: p = 2 sums squares
// in four interleaved accumulators (blocks of four dimensions), then the
// remainder in order, and outputs sqrt; p = 1 and p = inf sum / take the max
// of |dx| in order; a generic p sums pow(|dx|, p) in order and outputs
// pow(s, 1/p). float32 trees do the same arithmetic in float32.
//
// A search descends to the nearer child first and enters the other only if
// its lower bound beats the current k-th best. Inner cells are bounded by the
// per-dim gaps between the query and the cell, updated one dimension at a time
// (Arya-Mount) with a small slack for rounding, and each point of an entered
// leaf is checked by its distance, so the results are exact. Radius searches
// also bound a leaf exactly from its own box (the same formula on the gaps:
// rounding is monotone, so that bound never exceeds the computed distance of a
// point inside). Queries run in parallel over
// fixed chunks of 64 (dynamic schedule); each query's result depends on that
// query only, so any thread count gives the same bits.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <new>
#include <vector>

#include "npkernels/neighbors/kdtree.hpp"
#include "npkernels/neighbors/knn_heap.hpp"
#include "npkernels/parallel.hpp"

namespace npk::neighbors {

namespace detail {

constexpr std::int64_t query_chunk = 64;

// Threads for nq queries: one below 4096 queries (a few ms of work, less
// than waiting for a second thread can cost on a busy machine: measured 4-8 ms
// per parallel region when the other core is taken).
inline int query_threads(std::int64_t nq, int n_threads) {
    return nq < 4096 ? 1 : chunk_workers(nq, query_chunk, n_threads);
}

// Each metric: sum(diff, m) combines the per-dim differences diff(j) into
// d^p (for points, or for the gaps between a query and a cell, which makes a
// cell bound the same arithmetic as a point distance); dist(a, b) is that sum
// for two points (it may stop early once above bound, returning anything
// above it), update() replaces one dimension's gap in a cell bound, power(r)
// = r^p and root(s) = s^(1/p).
template <class T>
struct MetricP2 {
    template <class Diff>
    [[gnu::always_inline]] static T sum(Diff diff, std::int64_t m, T) {
        if(m == 3) { // the common case, unrolled: the same sum (0 + x is exact)
            const T d0 = diff(0), d1 = diff(1), d2 = diff(2);
            return (d0 * d0 + d1 * d1) + d2 * d2;
        }
        T acc0 = 0, acc1 = 0, acc2 = 0, acc3 = 0;
        std::int64_t j = 0;
        for(; j + 4 <= m; j += 4) {
            const T d0 = diff(j), d1 = diff(j + 1), d2 = diff(j + 2), d3 = diff(j + 3);
            acc0 += d0 * d0;
            acc1 += d1 * d1;
            acc2 += d2 * d2;
            acc3 += d3 * d3;
        }
        T s = acc0 + acc1 + acc2 + acc3;
        for(; j < m; ++j) {
            const T d = diff(j);
            s += d * d;
        }
        return s;
    }
    static T dist(const T* a, const T* b, std::int64_t m, T, T p) {
        return sum([a, b](std::int64_t j) { return a[j] - b[j]; }, m, p);
    }
    static T update(T rd, T old_gap, T new_gap, T) {
        return rd + (new_gap * new_gap - old_gap * old_gap);
    }
    static double power(double r, double) { return r * r; }
    static T root(T s, T) { return std::sqrt(s); }
};

template <class T>
struct MetricP1 {
    template <class Diff>
    [[gnu::always_inline]] static T sum(Diff diff, std::int64_t m, T) {
        T s = 0;
        for(std::int64_t j = 0; j < m; ++j) {
            s += std::fabs(diff(j));
        }
        return s;
    }
    static T dist(const T* a, const T* b, std::int64_t m, T, T p) {
        return sum([a, b](std::int64_t j) { return a[j] - b[j]; }, m, p);
    }
    static T update(T rd, T old_gap, T new_gap, T) { return rd + (new_gap - old_gap); }
    static double power(double r, double) { return r; }
    static T root(T s, T) { return s; }
};

template <class T>
struct MetricPinf {
    template <class Diff>
    [[gnu::always_inline]] static T sum(Diff diff, std::int64_t m, T) {
        T s = 0;
        for(std::int64_t j = 0; j < m; ++j) {
            s = std::max(s, std::fabs(diff(j)));
        }
        return s;
    }
    static T dist(const T* a, const T* b, std::int64_t m, T, T p) {
        return sum([a, b](std::int64_t j) { return a[j] - b[j]; }, m, p);
    }
    static T update(T rd, T, T new_gap, T) { return std::max(rd, new_gap); }
    static double power(double r, double) { return r; }
    static T root(T s, T) { return s; }
};

template <class T>
struct MetricPp {
    template <class Diff>
    [[gnu::always_inline]] static T sum(Diff diff, std::int64_t m, T p) {
        T s = 0;
        for(std::int64_t j = 0; j < m; ++j) {
            s += std::pow(std::fabs(diff(j)), p);
        }
        return s;
    }
    static T dist(const T* a, const T* b, std::int64_t m, T bound, T p) {
        T s = 0;
        for(std::int64_t j = 0; j < m; ++j) {
            s += std::pow(std::fabs(a[j] - b[j]), p);
            if(s > bound) {
                return s; // pow is costly: stop once the point is out
            }
        }
        return s;
    }
    static T update(T rd, T old_gap, T new_gap, T p) {
        return rd + (std::pow(new_gap, p) - std::pow(old_gap, p));
    }
    static double power(double r, double p) { return std::isinf(r) ? r : std::pow(r, p); }
    static T root(T s, T p) { return std::pow(s, T(1) / p); }
};

// Runs fn(Metric{}) with the metric class of p.
template <class T, class Fn>
void with_metric(double p, Fn&& fn) {
    if(p == 2.0) {
        fn(MetricP2<T>{});
    } else if(p == 1.0) {
        fn(MetricP1<T>{});
    } else if(std::isinf(p)) {
        fn(MetricPinf<T>{});
    } else {
        fn(MetricPp<T>{});
    }
}

// r^p in the metric's internal form, rounded to T (inf stays inf).
template <class T, class Metric>
T internal_radius(double r, double p) {
    return static_cast<T>(Metric::power(r, p));
}

// SciPy's approximation factor: cells nearer than bound * epsfac are searched.
inline double eps_factor(double eps, double p) {
    if(eps == 0.0) {
        return 1.0;
    }
    if(std::isinf(p)) {
        return 1.0 / (1.0 + eps);
    }
    return 1.0 / std::pow(1.0 + eps, p);
}

// Inner cells are bounded incrementally (Arya-Mount: replace one dimension's
// term), which rounds differently from a fresh sum; a relative slack far
// above that rounding (a few ulps per level) keeps the pruning conservative.
// Points are then checked by their own distance, so results are exact.
template <class T>
constexpr T incremental_slack() {
    return T(1) + T(1024) * std::numeric_limits<T>::epsilon();
}

// Gap between q and the slab [lo, hi] (0 inside).
template <class T>
T gap(T q, T lo, T hi) {
    return std::max(T(0), std::max(lo - q, q - hi));
}

// The queries in the order of the leaf each one descends to (nearer child
// first, as the search does; a counting sort by leaf): consecutive searches
// then visit the same leaves, which stay in cache. Only the order of work
// changes, never a result.
template <class T, class I>
std::vector<std::int64_t> leaf_order(const KDTree<T, I>& tree, const T* x, std::int64_t nq,
                                     int n_threads) {
    const std::int64_t m      = tree.m();
    const std::int64_t leaves = (tree.size() + 1) / 2;
    std::vector<std::int64_t> leaf(static_cast<std::size_t>(nq));
    parallel_for(nq, 4096, n_threads, [&](std::int64_t b, std::int64_t e) {
        for(std::int64_t i = b; i < e; ++i) {
            const T* q           = x + i * m;
            const Node<T, I>* nd = tree.nodes();
            while(nd->dim >= 0) {
                const T v = q[nd->dim];
                nd        = tree.nodes()
                     + static_cast<std::int64_t>(v - nd->lo_max <= nd->hi_min - v ? nd->left : nd->right);
            }
            leaf[static_cast<std::size_t>(i)] = static_cast<std::int64_t>(nd->left);
        }
    });
    std::vector<std::int64_t> start(static_cast<std::size_t>(leaves) + 1, 0);
    for(const std::int64_t l : leaf) {
        ++start[static_cast<std::size_t>(l) + 1];
    }
    for(std::size_t l = 0; l < static_cast<std::size_t>(leaves); ++l) {
        start[l + 1] += start[l];
    }
    std::vector<std::int64_t> order(static_cast<std::size_t>(nq));
    for(std::int64_t i = 0; i < nq; ++i) {
        order[static_cast<std::size_t>(start[static_cast<std::size_t>(leaf[static_cast<std::size_t>(i)])]++)] = i;
    }
    return order;
}

template <class T, class I, class Metric>
struct KnnSearch {
    const KDTree<T, I>& tree;
    const T* q;
    T* gaps;         // per-dim gap to the current cell
    KnnHeap<T>& heap;
    T bound;         // d^p a candidate must beat: the k-th best so far, else the upper bound
    T epsfac;
    T slack;         // epsfac, widened for the rounding of incremental cell bounds
    T p;

    void scan(const Node<T, I>& nd) {
        const std::int64_t m = tree.m();
        const T* pts         = tree.points();
        const I* ids         = tree.ids();
        for(std::int64_t i = static_cast<std::int64_t>(nd.start); i < static_cast<std::int64_t>(nd.end);
            ++i) {
            const T d = Metric::dist(pts + i * m, q, m, bound, p);
            if(d < bound) {
                heap.push(d, static_cast<std::int64_t>(ids[i]));
                if(heap.full()) {
                    bound = heap.worst();
                }
            }
        }
    }

    // Enters a cell whose lower bound is rd: a leaf is scanned in place
    // (inlined into its parent: half the cells are leaves, and a call per leaf
    // measured ~10 % of the search), an inner cell split. A leaf is not first
    // tested against its own tighter box: loading the box costs more than the
    // points it would spare (measured: k=8 queries 6 % faster at 1 thread and
    // 20 % at 2 without that test, d = 3 and 8).
    [[gnu::always_inline]] void enter(std::int64_t node, T rd) {
        const Node<T, I>& nd = tree.nodes()[node];
        if(nd.dim < 0) {
            scan(nd);
            return;
        }
        split(nd, rd);
    }

    // Enters the nearer child first, the other only if still within bound.
    void split(const Node<T, I>& nd, T rd) {
        const std::int64_t d = nd.dim;
        const T old          = gaps[d];
        const T gl = std::max(old, q[d] - nd.lo_max);
        const T gr = std::max(old, nd.hi_min - q[d]);
        const T rl = gl != old ? Metric::update(rd, old, gl, p) : rd;
        const T rr = gr != old ? Metric::update(rd, old, gr, p) : rd;
        const bool left_first = rl <= rr;
        const T g1 = left_first ? gl : gr, g2 = left_first ? gr : gl;
        const T r1 = left_first ? rl : rr, r2 = left_first ? rr : rl;
        const auto c1 = static_cast<std::int64_t>(left_first ? nd.left : nd.right);
        const auto c2 = static_cast<std::int64_t>(left_first ? nd.right : nd.left);
        if(r1 < bound * slack) {
            gaps[d] = g1;
            enter(c1, r1);
        }
        if(r2 < bound * slack) {
            gaps[d] = g2;
            enter(c2, r2);
        }
        gaps[d] = old;
    }

    void run(T upper) {
        heap.clear();
        bound                = upper;
        const std::int64_t m = tree.m();
        for(std::int64_t j = 0; j < m; ++j) {
            gaps[j] = gap(q[j], tree.lo()[j], tree.hi()[j]);
        }
        const T* g = gaps;
        const T rd = Metric::sum([g](std::int64_t j) { return g[j]; }, m, p);
        if(rd < bound * epsfac) {
            enter(0, rd);
        }
    }
};

} // namespace detail

// k nearest neighbours of nq queries x (nq x m): for each query the
// neighbours of the 1-based ranks ranks[0, nk) (ascending, the largest kmax),
// written as out_dist[q * nk + r], out_index[q * nk + r]; missing neighbours
// (fewer than rank within the bound) get dist = inf, index = n. Only points
// with d < distance_upper_bound count. eps >= 0 allows approximate answers as
// in SciPy (the r-th returned is within (1 + eps) of the true r-th).
template <class T, class I>
void knn(const KDTree<T, I>& tree, const T* x, std::int64_t nq, const std::int64_t* ranks,
         std::int64_t nk, std::int64_t kmax, double p, double eps, double distance_upper_bound,
         T* out_dist, std::int64_t* out_index, int n_threads) {
    const std::int64_t m    = tree.m();
    const std::int64_t keep = std::min(kmax, tree.n());
    const int workers       = detail::query_threads(nq, n_threads);
    const std::int64_t gaps_at = worker_stride<T>(m), dist_at = worker_stride<T>(keep);
    const std::int64_t index_at = worker_stride<std::int64_t>(keep);
    std::vector<T> gaps(static_cast<std::size_t>(workers * gaps_at));
    std::vector<T> heap_dist(static_cast<std::size_t>(workers * dist_at));
    std::vector<std::int64_t> heap_index(static_cast<std::size_t>(workers * index_at));
    const T inf = std::numeric_limits<T>::infinity();
    const std::vector<std::int64_t> order = detail::leaf_order(tree, x, nq, workers);
    detail::with_metric<T>(p, [&](auto metric) {
        using Metric  = decltype(metric);
        const T upper = detail::internal_radius<T, Metric>(distance_upper_bound, p);
        const T epsfac = static_cast<T>(detail::eps_factor(eps, p));
        const T tp     = static_cast<T>(p);
        const T slack  = epsfac * detail::incremental_slack<T>();
        parallel_chunks(nq, detail::query_chunk, workers, [&](int w, std::int64_t b, std::int64_t e) {
            T* hd            = heap_dist.data() + w * dist_at;
            std::int64_t* hi = heap_index.data() + w * index_at;
            KnnHeap<T> heap(hd, hi, keep);
            for(std::int64_t pos = b; pos < e; ++pos) {
                const std::int64_t i = order[static_cast<std::size_t>(pos)];
                T* g = gaps.data() + w * gaps_at;
                detail::KnnSearch<T, I, Metric> s{tree,  x + i * m, g,  heap,
                                                  upper, epsfac,    slack, tp};
                s.run(upper);
                heap.sort_ascending();
                for(std::int64_t r = 0; r < nk; ++r) {
                    const std::int64_t j = ranks[r] - 1;
                    if(j < heap.size()) {
                        out_dist[i * nk + r]  = Metric::root(hd[j], tp);
                        out_index[i * nk + r] = hi[j];
                    } else {
                        out_dist[i * nk + r]  = inf;
                        out_index[i * nk + r] = tree.n();
                    }
                }
            }
        });
    });
}

// Neighbours within a radius, as CSR: those of query q are
// indices[offsets[q], offsets[q + 1]). With count_only, indices stays empty.
struct RadiusResult {
    std::vector<std::int64_t> indices;
    std::vector<std::int64_t> offsets;
    bool out_of_memory = false;
};

namespace detail {

template <class T, class I, class Metric>
struct RadiusSearch {
    const KDTree<T, I>& tree;
    const T* q;
    T* lo; // the current cell's box
    T* hi;
    T radius; // r^p: points with d^p <= radius are in
    T epsfac;
    T p;
    bool count_only;
    std::vector<std::int64_t>* out;
    std::int64_t count = 0;

    // Bounds of d^p over a box [blo, bhi] (exact in the sense of the file header).
    T min_dist(const T* blo, const T* bhi) {
        const T* x = q;
        return Metric::sum([x, blo, bhi](std::int64_t j) { return gap(x[j], blo[j], bhi[j]); },
                           tree.m(), p);
    }
    T max_dist(const T* blo, const T* bhi) {
        const T* x = q;
        return Metric::sum(
            [x, blo, bhi](std::int64_t j) { return std::max(x[j] - blo[j], bhi[j] - x[j]); },
            tree.m(), p);
    }

    void take_all(const Node<T, I>& nd) {
        const auto b = static_cast<std::int64_t>(nd.start), e = static_cast<std::int64_t>(nd.end);
        count += e - b;
        if(!count_only) {
            const I* ids = tree.ids();
            for(std::int64_t i = b; i < e; ++i) {
                out->push_back(static_cast<std::int64_t>(ids[i]));
            }
        }
    }

    // Called with the box set to nd's cell.
    void visit(std::int64_t node) {
        const Node<T, I>& nd = tree.nodes()[node];
        const T* blo         = lo;
        const T* bhi         = hi;
        if(nd.dim < 0) { // a leaf has its own, tighter box
            blo = tree.leaf_boxes() + 2 * tree.m() * static_cast<std::int64_t>(nd.left);
            bhi = blo + tree.m();
        }
        if(!(min_dist(blo, bhi) <= radius * epsfac)) {
            return;
        }
        if(max_dist(blo, bhi) <= radius / epsfac) {
            take_all(nd); // every point's computed d^p is <= the computed max
            return;
        }
        if(nd.dim < 0) {
            const std::int64_t m = tree.m();
            const T* pts         = tree.points();
            const I* ids         = tree.ids();
            for(std::int64_t i = static_cast<std::int64_t>(nd.start);
                i < static_cast<std::int64_t>(nd.end); ++i) {
                if(Metric::dist(pts + i * m, q, m, radius, p) <= radius) {
                    ++count;
                    if(!count_only) {
                        out->push_back(static_cast<std::int64_t>(ids[i]));
                    }
                }
            }
            return;
        }
        const std::int64_t d = nd.dim;
        const T old_hi = hi[d], old_lo = lo[d];
        hi[d] = nd.lo_max;
        visit(static_cast<std::int64_t>(nd.left));
        hi[d] = old_hi;
        lo[d] = nd.hi_min;
        visit(static_cast<std::int64_t>(nd.right));
        lo[d] = old_lo;
    }

    void run() {
        std::copy(tree.lo(), tree.lo() + tree.m(), lo);
        std::copy(tree.hi(), tree.hi() + tree.m(), hi);
        count = 0;
        visit(0);
    }
};

// Calls fn(search, i) for queries i in [0, nq), chunked, each worker with its
// own box scratch; search is set up for query point query(i) and radius(i).
// Chunk c's neighbour ids go to chunk_out[c]; returns false on out-of-memory.
template <class T, class I, class QueryFn, class RadiusFn, class Fn>
bool radius_chunks(const KDTree<T, I>& tree, std::int64_t nq, double p, double eps,
                   bool count_only, QueryFn&& query, RadiusFn&& radius,
                   std::vector<std::vector<std::int64_t>>& chunk_out, int n_threads, Fn&& fn) {
    const std::int64_t m = tree.m();
    const int workers    = query_threads(nq, n_threads);
    const std::int64_t box_at = worker_stride<T>(2 * m);
    std::vector<T> box(static_cast<std::size_t>(workers * box_at));
    const std::int64_t chunks = (nq + query_chunk - 1) / query_chunk;
    chunk_out.assign(static_cast<std::size_t>(chunks), {});
    std::vector<char> failed(static_cast<std::size_t>(chunks), 0);
    with_metric<T>(p, [&](auto metric) {
        using Metric   = decltype(metric);
        const T epsfac = static_cast<T>(eps_factor(eps, p));
        const T tp     = static_cast<T>(p);
        parallel_chunks(nq, query_chunk, workers, [&](int w, std::int64_t b, std::int64_t e) {
            const auto c = static_cast<std::size_t>(b / query_chunk);
            T* scratch   = box.data() + w * box_at;
            try {
                for(std::int64_t i = b; i < e; ++i) {
                    RadiusSearch<T, I, Metric> s{tree,
                                                 query(i),
                                                 scratch,
                                                 scratch + m,
                                                 internal_radius<T, Metric>(radius(i), p),
                                                 epsfac,
                                                 tp,
                                                 count_only,
                                                 &chunk_out[c]};
                    s.run();
                    fn(s, i);
                }
            } catch(...) {
                failed[c] = 1; // std::bad_alloc: reported after the parallel region
            }
        });
    });
    return std::find(failed.begin(), failed.end(), 1) == failed.end();
}

} // namespace detail

// Neighbours of nq queries x (nq x m) within radius r[q] (d <= r), in
// traversal order, or ascending index order with sort.
template <class T, class I>
RadiusResult query_radius(const KDTree<T, I>& tree, const T* x, std::int64_t nq, const double* r,
                          double p, double eps, bool sort, bool count_only, int n_threads) {
    RadiusResult res;
    const std::int64_t m = tree.m();
    res.offsets.assign(static_cast<std::size_t>(nq + 1), 0);
    std::vector<std::vector<std::int64_t>> chunk_out;
    std::int64_t* counts = res.offsets.data() + 1;
    const bool ok        = detail::radius_chunks(
        tree, nq, p, eps, count_only, [&](std::int64_t i) { return x + i * m; },
        [&](std::int64_t i) { return r[i]; }, chunk_out, n_threads, [&](auto& s, std::int64_t i) {
            counts[i] = s.count;
            if(sort && !count_only) {
                std::sort(s.out->end() - s.count, s.out->end());
            }
        });
    if(!ok) {
        res.out_of_memory = true;
        return res;
    }
    for(std::int64_t i = 0; i < nq; ++i) {
        res.offsets[static_cast<std::size_t>(i + 1)] += res.offsets[static_cast<std::size_t>(i)];
    }
    if(!count_only) {
        res.indices.resize(static_cast<std::size_t>(res.offsets.back()));
        parallel_chunks(static_cast<std::int64_t>(chunk_out.size()), 1,
                        detail::query_threads(nq, n_threads), [&](int, std::int64_t b, std::int64_t) {
                            const auto& v = chunk_out[static_cast<std::size_t>(b)];
                            const std::int64_t at =
                                res.offsets[static_cast<std::size_t>(b * detail::query_chunk)];
                            std::copy(v.begin(), v.end(), res.indices.begin() + at);
                        });
    }
    return res;
}

// All pairs (i, j), i < j, with d(x_i, x_j) <= r, flattened (2 P values),
// sorted lexicographically. Each tree point is queried in tree order (good
// locality); rows are then placed by their first index.
struct PairsResult {
    std::vector<std::int64_t> pairs;
    bool out_of_memory = false;
};

template <class T, class I>
PairsResult query_pairs(const KDTree<T, I>& tree, double r, double p, double eps, int n_threads) {
    PairsResult res;
    const std::int64_t n = tree.n(), m = tree.m();
    const I* ids         = tree.ids();
    std::vector<std::int64_t> count_of(static_cast<std::size_t>(n), 0); // by first index
    std::vector<std::vector<std::int64_t>> chunk_out;
    const bool ok = detail::radius_chunks(
        tree, n, p, eps, false, [&](std::int64_t t) { return tree.points() + t * m; },
        [&](std::int64_t) { return r; }, chunk_out, n_threads, [&](auto& s, std::int64_t t) {
            // Keep the partners with a larger original index, sorted.
            const auto first = static_cast<std::int64_t>(ids[t]);
            auto begin       = s.out->end() - s.count;
            auto keep_end    = std::remove_if(begin, s.out->end(),
                                              [first](std::int64_t j) { return j <= first; });
            s.out->erase(keep_end, s.out->end());
            std::sort(begin, s.out->end());
            count_of[static_cast<std::size_t>(first)] = s.out->end() - begin;
        });
    if(!ok) {
        res.out_of_memory = true;
        return res;
    }
    std::vector<std::int64_t> row_at(static_cast<std::size_t>(n) + 1, 0);
    for(std::int64_t i = 0; i < n; ++i) {
        row_at[static_cast<std::size_t>(i + 1)] =
            row_at[static_cast<std::size_t>(i)] + count_of[static_cast<std::size_t>(i)];
    }
    res.pairs.resize(static_cast<std::size_t>(2 * row_at.back()));
    std::int64_t* out = res.pairs.data();
    parallel_chunks(static_cast<std::int64_t>(chunk_out.size()), 1,
                    detail::query_threads(n, n_threads), [&](int, std::int64_t c, std::int64_t) {
                        const auto& v = chunk_out[static_cast<std::size_t>(c)];
                        std::size_t pos = 0;
                        const std::int64_t stop = std::min(n, (c + 1) * detail::query_chunk);
                        for(std::int64_t t = c * detail::query_chunk; t < stop; ++t) {
                            const auto first = static_cast<std::int64_t>(ids[t]);
                            const std::int64_t cnt = count_of[static_cast<std::size_t>(first)];
                            std::int64_t at = row_at[static_cast<std::size_t>(first)];
                            for(std::int64_t k = 0; k < cnt; ++k, ++at, ++pos) {
                                out[2 * at]     = first;
                                out[2 * at + 1] = v[pos];
                            }
                        }
                    });
    return res;
}

} // namespace npk::neighbors
