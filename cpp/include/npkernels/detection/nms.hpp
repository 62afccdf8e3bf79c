#pragma once
// Greedy non-maximum suppression with torchvision.ops.nms' result, bit for
// bit: boxes in decreasing score order (stable: equal scores by index), a box
// is dropped when its IoU with an already kept box is > iou_threshold, the
// IoU computed in T as torchvision does and compared as a double.
//
// The same greedy result, found faster: a candidate is compared only with the
// boxes kept so far (stopping at the first that suppresses it), and only with
// those a uniform grid says can intersect it (box_grid.hpp); the kept boxes
// sit in structure-of-arrays slices per cell, so the IoU loop vectorises. The
// pruning is exact for iou_threshold >= 0: boxes that do not intersect have
// IoU 0 (or NaN), which never exceeds the threshold. For a negative
// threshold every kept box is visited. A large single problem checks its
// candidates in parallel batches (each against the boxes kept before the
// batch, then in order against those kept within it). batched_nms runs one
// problem per category, in parallel; its result merges the kept boxes in the
// global score order. Neither depends on the thread count.

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include "npkernels/buffer.hpp"
#include "npkernels/detection/box_grid.hpp"
#include "npkernels/detection/box_ops.hpp"
#include "npkernels/order_key.hpp"
#include "npkernels/parallel.hpp"
#include "npkernels/radix_sort.hpp"

namespace npk::detection {

namespace detail {

// Problems smaller than this compare with every kept box: a grid does not pay.
constexpr std::int64_t grid_min_boxes = 48;
// From this many boxes a single problem checks its candidates in parallel
// batches, and batched problems run categories in parallel; below it the
// work (a few ms at most) does not pay for waking a thread team.
constexpr std::int64_t parallel_min_boxes = 32768;
// Grid tuning (speed only): at least this many boxes per cell on average, and
// the cell side relative to the median box size.
constexpr std::int64_t nms_boxes_per_cell = 64;
constexpr double nms_cell_factor          = 1.0;

// Does any of the `count` boxes (x1..area, SoA) have IoU > thr with q?
template <class T>
bool any_suppresses(const T* x1, const T* y1, const T* x2, const T* y2, const T* area,
                    std::int64_t count, T qx1, T qy1, T qx2, T qy2, T qarea, T thr) {
    constexpr std::int64_t B = 32 / sizeof(T); // one early-exit test per block
    std::int64_t k           = 0;
    for(; k + B <= count; k += B) {
        int hit = 0;
        for(std::int64_t l = k; l < k + B; ++l) {
            // The kept box plays torchvision's i, the candidate its j.
            const T inter = intersection(x1[l], y1[l], x2[l], y2[l], qx1, qy1, qx2, qy2);
            hit |= iou_from(inter, area[l], qarea) > thr ? 1 : 0;
        }
        if(hit != 0) {
            return true;
        }
    }
    for(; k < count; ++k) {
        const T inter = intersection(x1[k], y1[k], x2[k], y2[k], qx1, qy1, qx2, qy2);
        if(iou_from(inter, area[k], qarea) > thr) {
            return true;
        }
    }
    return false;
}

// Kept boxes of one problem, filed by cell: cell c owns slots
// [off[c], off[c + 1]) of the SoA arrays, of which the first fill[c] are used.
template <class T>
struct KeptCells {
    BoxesSoA<T> kept;
    std::int64_t* off;
    std::int64_t* fill;
    std::int64_t* seq;          // per slot: when its box was kept (0, 1, 2, ...)
    std::int64_t n_kept = 0;

    // Suppressed by a box of cell c kept at or after `since`? (0: by any.)
    bool suppresses(std::int64_t c, const BoxesSoA<T>& s, std::int64_t p, T thr,
                    std::int64_t since = 0) const {
        const std::int64_t o = off[c];
        std::int64_t first   = 0;
        if(since > 0) { // the boxes kept since then are the end of the slice
            first = fill[c];
            while(first > 0 && seq[o + first - 1] >= since) {
                --first;
            }
        }
        const std::int64_t q = o + first;
        return any_suppresses(kept.x1 + q, kept.y1 + q, kept.x2 + q, kept.y2 + q, kept.area + q,
                              fill[c] - first, s.x1[p], s.y1[p], s.x2[p], s.y2[p], s.area[p], thr);
    }
    void add(std::int64_t c, const BoxesSoA<T>& s, std::int64_t p) {
        const std::int64_t slot = off[c] + fill[c]++;
        seq[slot]               = n_kept++;
        kept.x1[slot]           = s.x1[p];
        kept.y1[slot]           = s.y1[p];
        kept.x2[slot]           = s.x2[p];
        kept.y2[slot]           = s.y2[p];
        kept.area[slot]         = s.area[p];
    }
};

// Scratch for problems over positions [0, n): the kept SoA arrays (n each),
// the owner cell of each position (n) and the cell slot tables
// (n + 3 * n_problems + 1 each: a problem of m boxes uses at most m + 3).
template <class T>
struct NmsScratch {
    Buffer<T> x1, y1, x2, y2, area;
    Buffer<std::int64_t> cell, seq, off, fill;

    NmsScratch(std::int64_t n, std::int64_t n_problems)
        : x1(uninitialized_buffer<T>(n)), y1(uninitialized_buffer<T>(n)),
          x2(uninitialized_buffer<T>(n)), y2(uninitialized_buffer<T>(n)),
          area(uninitialized_buffer<T>(n)), cell(uninitialized_buffer<std::int64_t>(n)),
          seq(uninitialized_buffer<std::int64_t>(n)),
          off(uninitialized_buffer<std::int64_t>(n + 3 * n_problems + 1)),
          fill(uninitialized_buffer<std::int64_t>(n + 3 * n_problems + 1)) {}

    BoxesSoA<T> kept() { return {x1.get(), y1.get(), x2.get(), y2.get(), area.get()}; }
};

// Greedy NMS over positions [b, e) of s (already in decreasing score order);
// keep[p] = 1 for the kept positions, 0 otherwise. table_base: where this
// problem's cell tables start (at least e - b + 3 free slots).
template <class T>
void nms_problem(const BoxesSoA<T>& s, std::int64_t b, std::int64_t e, double iou_threshold,
                 NmsScratch<T>& scratch, std::int64_t table_base, std::uint8_t* keep,
                 int n_threads = 1) {
    const T thr           = largest_not_above<T>(iou_threshold);
    const std::int64_t m  = e - b;
    BoxesSoA<T> k         = scratch.kept();
    KeptCells<T> cells{{k.x1 + b, k.y1 + b, k.x2 + b, k.y2 + b, k.area + b},
                       scratch.off.get() + table_base, scratch.fill.get() + table_base,
                       scratch.seq.get() + b};
    if(!(iou_threshold >= 0.0) || m < grid_min_boxes) {
        // Every kept box in one list, every box tested: exact for any threshold.
        cells.off[0] = 0, cells.off[1] = m, cells.fill[0] = 0;
        for(std::int64_t p = b; p < e; ++p) {
            keep[p] = cells.suppresses(0, s, p, thr) ? 0 : 1;
            if(keep[p] != 0) {
                cells.add(0, s, p);
            }
        }
        return;
    }
    const GridPlan plan(s, b, e, std::max<std::int64_t>(1, m / nms_boxes_per_cell), nms_cell_factor);
    const std::int64_t grid = plan.grid_cells();
    const std::int64_t big  = grid; // the list every query visits
    std::int64_t* cell_of   = scratch.cell.get();
    std::fill(cells.fill, cells.fill + grid + 2, std::int64_t{0});
    for(std::int64_t p = b; p < e; ++p) {
        if(is_empty_box(s.x1[p], s.y1[p], s.x2[p], s.y2[p])) {
            cell_of[p] = -1;
            continue;
        }
        cell_of[p] = plan.is_big(s, p) ? big : plan.cell_of(s, p);
        ++cells.fill[cell_of[p]];
    }
    cells.off[0] = 0;
    for(std::int64_t c = 0; c <= big; ++c) {
        cells.off[c + 1] = cells.off[c] + cells.fill[c];
        cells.fill[c]    = 0;
    }
    // Is p suppressed by a box filed so far (kept at or after `since`)? Reads the cells only.
    const auto filed_suppress = [&](std::int64_t p, std::int64_t since) {
        const std::int64_t own = cell_of[p];
        // The candidate's own cell first: a suppressor's corner is near its corner.
        if(cells.suppresses(own, s, p, thr, since)
           || (own != big && cells.suppresses(big, s, p, thr, since))) {
            return true;
        }
        const CellRange r = plan.query(s.x1[p], s.y1[p], s.x2[p], s.y2[p]);
        for(std::int64_t cy = r.cy0; cy <= r.cy1; ++cy) {
            for(std::int64_t cx = r.cx0; cx <= r.cx1; ++cx) {
                const std::int64_t c = cy * plan.nx() + cx;
                if(c != own && cells.suppresses(c, s, p, thr, since)) {
                    return true;
                }
            }
        }
        return false;
    };
    if(n_threads <= 1 || m < parallel_min_boxes) {
        for(std::int64_t p = b; p < e; ++p) {
            // A box that intersects nothing is never suppressed and never suppresses.
            keep[p] = cell_of[p] < 0 ? 1 : filed_suppress(p, 0) ? 0 : 1;
            if(keep[p] != 0 && cell_of[p] >= 0) {
                cells.add(cell_of[p], s, p);
            }
        }
        return;
    }
    // In parallel, by batches of candidates: first each candidate of the batch
    // against the boxes kept before the batch (read-only, any thread); then,
    // in order, the survivors against the boxes kept since the batch began. A
    // candidate is kept exactly when no earlier kept box suppresses it: the
    // greedy result, whatever the thread count. Batches double in size (few
    // parallel regions, each waiting for its slowest thread), starting small
    // because the first candidates have almost nothing kept before them.
    std::int64_t batch = 4096;
    for(std::int64_t start = b; start < e;) {
        const std::int64_t stop  = std::min(e, start + batch);
        const std::int64_t since = cells.n_kept;
        parallel_for(stop - start, 64, n_threads, [&](std::int64_t lo, std::int64_t hi) {
            for(std::int64_t p = start + lo; p < start + hi; ++p) {
                keep[p] = cell_of[p] < 0 ? 1 : filed_suppress(p, 0) ? 0 : 2; // 2: undecided
            }
        });
        for(std::int64_t p = start; p < stop; ++p) {
            if(keep[p] == 2) {
                keep[p] = since < cells.n_kept && filed_suppress(p, since) ? 0 : 1;
                if(keep[p] != 0) {
                    cells.add(cell_of[p], s, p);
                }
            }
        }
        start = stop;
        batch = std::min<std::int64_t>(2 * batch, std::int64_t{1} << 15);
    }
}

// Positions sorted by decreasing score, equal scores by increasing index
// (torchvision's stable descending sort): order[0, n).
template <class T>
void score_order(const T* scores, std::int64_t n, std::int64_t* order, int n_threads) {
    using K    = key_t<T>;
    auto keys  = uninitialized_buffer<K>(n);
    auto keys2 = uninitialized_buffer<K>(n);
    auto idx2  = uninitialized_buffer<std::int64_t>(n);
    parallel_for(n, std::int64_t{1} << 15, n_threads, [&](std::int64_t begin, std::int64_t end) {
        for(std::int64_t i = begin; i < end; ++i) {
            keys[i]  = static_cast<K>(~OrderKey<T>::encode(scores[i])); // descending
            order[i] = i;
        }
    });
    const auto sorted = radix_sort(keys.get(), order, keys2.get(), idx2.get(), n, n_threads);
    if(sorted.payload != order) {
        std::copy(sorted.payload, sorted.payload + n, order);
    }
}

// Copies boxes[pick[p]] (rows of 4) into SoA arrays at position p, with areas.
template <class T>
void gather_soa(const T* boxes, const std::int64_t* pick, std::int64_t n, const BoxesSoA<T>& s,
                int n_threads) {
    parallel_for(n, std::int64_t{1} << 14, n_threads, [&](std::int64_t begin, std::int64_t end) {
        for(std::int64_t p = begin; p < end; ++p) {
            const T* r = boxes + 4 * pick[p];
            s.x1[p] = r[0], s.y1[p] = r[1], s.x2[p] = r[2], s.y2[p] = r[3];
            s.area[p] = box_area_of(r[0], r[1], r[2], r[3]);
        }
    });
}

// SoA copies of n boxes with areas.
template <class T>
struct SoABuffers {
    Buffer<T> x1, y1, x2, y2, area;
    explicit SoABuffers(std::int64_t n)
        : x1(uninitialized_buffer<T>(n)), y1(uninitialized_buffer<T>(n)),
          x2(uninitialized_buffer<T>(n)), y2(uninitialized_buffer<T>(n)),
          area(uninitialized_buffer<T>(n)) {}
    BoxesSoA<T> view() { return {x1.get(), y1.get(), x2.get(), y2.get(), area.get()}; }
};

// The contiguous runs of equal class keys in keys[0, n): run r is
// [starts[r], starts[r + 1]).
template <class K>
std::vector<std::int64_t> runs_of(const K* keys, std::int64_t n) {
    std::vector<std::int64_t> starts;
    for(std::int64_t q = 0; q < n; ++q) {
        if(q == 0 || keys[q] != keys[q - 1]) {
            starts.push_back(q);
        }
    }
    starts.push_back(n);
    return starts;
}

// Positions of idxs[pick[p]] grouped by class (class keys ascending), each
// class keeping the order of p: by_class[q] is a p; class_key[q] its key.
inline void group_by_class(const std::int64_t* idxs, const std::int64_t* pick, std::int64_t n,
                           std::uint64_t* class_key, std::int64_t* by_class, int n_threads) {
    auto keys2 = uninitialized_buffer<std::uint64_t>(n);
    auto pos2  = uninitialized_buffer<std::int64_t>(n);
    parallel_for(n, std::int64_t{1} << 15, n_threads, [&](std::int64_t begin, std::int64_t end) {
        for(std::int64_t p = begin; p < end; ++p) {
            class_key[p] = OrderKey<std::int64_t>::encode(idxs[pick == nullptr ? p : pick[p]]);
            by_class[p]  = p;
        }
    });
    const auto sorted = radix_sort(class_key, by_class, keys2.get(), pos2.get(), n, n_threads);
    if(sorted.keys != class_key) {
        std::copy(sorted.keys, sorted.keys + n, class_key);
        std::copy(sorted.payload, sorted.payload + n, by_class);
    }
}

// Problem order for parallel_dynamic: largest first, for balance.
inline std::vector<std::int64_t> largest_first(const std::vector<std::int64_t>& starts) {
    std::vector<std::int64_t> tasks(starts.size() - 1);
    std::iota(tasks.begin(), tasks.end(), std::int64_t{0});
    std::stable_sort(tasks.begin(), tasks.end(), [&](std::int64_t a, std::int64_t b) {
        return starts[a + 1] - starts[a] > starts[b + 1] - starts[b];
    });
    return tasks;
}

} // namespace detail

// Indices of the boxes kept by greedy NMS, in decreasing score order.
// boxes: n x 4, scores: n (no NaN).
template <class T>
std::vector<std::int64_t> nms(const T* boxes, const T* scores, std::int64_t n,
                              double iou_threshold, int n_threads) {
    std::vector<std::int64_t> keep_idx;
    if(n == 0) {
        return keep_idx;
    }
    auto order = uninitialized_buffer<std::int64_t>(n);
    detail::score_order(scores, n, order.get(), n_threads);
    detail::SoABuffers<T> soa(n);
    const BoxesSoA<T> s = soa.view();
    detail::gather_soa(boxes, order.get(), n, s, n_threads);
    detail::NmsScratch<T> scratch(n, 1);
    auto keep = uninitialized_buffer<std::uint8_t>(n);
    detail::nms_problem(s, 0, n, iou_threshold, scratch, 0, keep.get(), n_threads);
    for(std::int64_t p = 0; p < n; ++p) {
        if(keep[p] != 0) {
            keep_idx.push_back(order[p]);
        }
    }
    return keep_idx;
}

// NMS within each category idxs[i], merged by decreasing score then index.
template <class T>
std::vector<std::int64_t> batched_nms(const T* boxes, const T* scores, const std::int64_t* idxs,
                                      std::int64_t n, double iou_threshold, int n_threads) {
    std::vector<std::int64_t> keep_idx;
    if(n == 0) {
        return keep_idx;
    }
    auto order = uninitialized_buffer<std::int64_t>(n); // by score
    detail::score_order(scores, n, order.get(), n_threads);
    auto class_key = uninitialized_buffer<std::uint64_t>(n);
    auto by_class  = uninitialized_buffer<std::int64_t>(n); // class-major positions into order
    detail::group_by_class(idxs, order.get(), n, class_key.get(), by_class.get(), n_threads);
    auto pick = uninitialized_buffer<std::int64_t>(n);
    for(std::int64_t q = 0; q < n; ++q) {
        pick[q] = order[by_class[q]];
    }
    detail::SoABuffers<T> soa(n);
    const BoxesSoA<T> s = soa.view();
    detail::gather_soa(boxes, pick.get(), n, s, n_threads);
    const std::vector<std::int64_t> starts = detail::runs_of(class_key.get(), n);
    const std::int64_t n_classes           = static_cast<std::int64_t>(starts.size()) - 1;
    detail::NmsScratch<T> scratch(n, n_classes);
    auto keep = uninitialized_buffer<std::uint8_t>(n);
    const std::vector<std::int64_t> tasks = detail::largest_first(starts);
    // Small inputs run on one thread: waking a team costs more than they take.
    parallel_dynamic(n_classes, n >= detail::parallel_min_boxes ? n_threads : 1, [&](std::int64_t t) {
        const std::int64_t c = tasks[static_cast<std::size_t>(t)];
        const std::int64_t b = starts[static_cast<std::size_t>(c)];
        const std::int64_t e = starts[static_cast<std::size_t>(c) + 1];
        // One category alone gets the threads; several share them, one each.
        detail::nms_problem(s, b, e, iou_threshold, scratch, b + 3 * c, keep.get(),
                            n_classes == 1 ? n_threads : 1);
    });
    // Back to score order: the merge by (score desc, index asc) is that order.
    auto kept_at = uninitialized_buffer<std::uint8_t>(n);
    for(std::int64_t q = 0; q < n; ++q) {
        kept_at[by_class[q]] = keep[q];
    }
    for(std::int64_t p = 0; p < n; ++p) {
        if(kept_at[p] != 0) {
            keep_idx.push_back(order[p]);
        }
    }
    return keep_idx;
}

} // namespace npk::detection
