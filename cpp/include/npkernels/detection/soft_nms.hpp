#pragma once
// Soft-NMS with mmcv.ops.soft_nms' arithmetic (mmcv/ops/csrc/pytorch/cpu/nms.cpp,
// offset 0), in T: repeatedly select the box with the highest current score
// (equal scores: the lower index, where mmcv's order follows its swaps), then
// multiply the score of every remaining box b by
//   naive:    0        if IoU >= iou_threshold
//   linear:   1 - IoU  if IoU >= iou_threshold
//   gaussian: exp(-(IoU * IoU) / sigma)
// and drop b when its score falls below min_score (every remaining box is
// tested at every selection, so after the first selection no box below
// min_score survives; the first selection itself is never tested).
//
// A box that does not intersect the selected one has IoU 0 (or NaN), whose
// weight is exactly 1 except for 'naive' with iou_threshold <= 0; so the
// boxes are filed on a grid (box_grid.hpp) and a selection visits only the
// cells that can hold a box intersecting it. Each cell keeps its live boxes
// (swap-removed when selected or dropped) and its best (score, index); a
// second level keeps the best of each group of cells, so finding the next
// selection reads a few dozen values. A NaN IoU (two boxes of zero area
// that do not intersect) weighs 1 in every method; mmcv would give the
// gaussian score NaN.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "npkernels/buffer.hpp"
#include "npkernels/detection/box_grid.hpp"
#include "npkernels/detection/box_ops.hpp"
#include "npkernels/detection/nms.hpp"
#include "npkernels/parallel.hpp"

namespace npk::detection {

enum class SoftMethod { naive, linear, gaussian };

template <class T>
struct SoftParams {
    SoftMethod method;
    T iou_threshold;
    T sigma;
    T min_score;
};

namespace detail {

// mmcv's weights in T. The gaussian exp is evaluated in double (libm) and
// rounded to T: for float32 the weight is then the correctly rounded one (bar
// double-rounding cases), as the NumPy reference gets from NumPy's float64 exp.
template <class T>
inline T soft_weight(T ovr, const SoftParams<T>& prm) {
    switch(prm.method) {
    case SoftMethod::naive: return ovr >= prm.iou_threshold ? T(0) : T(1);
    case SoftMethod::linear: return ovr >= prm.iou_threshold ? T(1) - ovr : T(1);
    default:
        if(ovr != ovr) {
            return T(1);
        }
        return static_cast<T>(std::exp(static_cast<double>(-(ovr * ovr) / prm.sigma)));
    }
}

// One live box of a Soft-NMS problem.
struct Best {
    double score; // T widened exactly; only compared
    std::int64_t id;  // position in the problem; -1 for none
    std::int64_t slot; // where it is in its cell
};

inline bool better(const Best& a, const Best& b) {
    return b.id < 0 || (a.id >= 0 && (a.score > b.score || (a.score == b.score && a.id < b.id)));
}

template <class T>
struct SoftCells {
    // SoA slots [off[c], off[c] + fill[c]) hold cell c's live boxes.
    BoxesSoA<T> box;
    T* score;
    std::int64_t* id;
    std::int64_t* off;
    std::int64_t* fill;
    Best* best;  // per cell
    Best* group; // per group of cells

    // Swap-removes slot k of cell c; the cell's best keeps pointing at its box
    // (the caller refreshes the cell when the best itself goes).
    void remove(std::int64_t c, std::int64_t k) {
        const std::int64_t a = off[c] + k, z = off[c] + --fill[c];
        if(best[c].slot == fill[c]) {
            best[c].slot = k;
        }
        box.x1[a] = box.x1[z], box.y1[a] = box.y1[z], box.x2[a] = box.x2[z], box.y2[a] = box.y2[z];
        box.area[a] = box.area[z], score[a] = score[z], id[a] = id[z];
    }
    void refresh(std::int64_t c) {
        Best b{0.0, -1, -1};
        for(std::int64_t k = 0; k < fill[c]; ++k) {
            const Best e{static_cast<double>(score[off[c] + k]), id[off[c] + k], k};
            if(better(e, b)) {
                b = e;
            }
        }
        best[c] = b;
    }
};

constexpr std::int64_t soft_group = 32;
constexpr std::int64_t soft_boxes_per_cell = 32;
constexpr double soft_cell_factor          = 1.0;

// Scratch of soft_nms_problem for n boxes in n_problems problems.
template <class T>
struct SoftScratch {
    NmsScratch<T> cells;
    Buffer<T> score, inter;
    Buffer<std::int64_t> id, hits;
    Buffer<Best> best, group;
    Buffer<double> reach; // per cell: the largest x2 and y2 of its boxes
    SoftScratch(std::int64_t n, std::int64_t n_problems)
        : cells(n, n_problems), score(uninitialized_buffer<T>(n)), inter(uninitialized_buffer<T>(n)),
          id(uninitialized_buffer<std::int64_t>(n)), hits(uninitialized_buffer<std::int64_t>(n)),
          best(uninitialized_buffer<Best>(n + 3 * n_problems + 1)),
          group(uninitialized_buffer<Best>(n + 3 * n_problems + 1)),
          reach(uninitialized_buffer<double>(2 * (n + 3 * n_problems + 1))) {}
};

// Soft-NMS over positions [b, e) of s with scores sc (both in index order);
// writes the selected positions and their scores at selection to
// out_id[b, b + count) and out_score, returns count. Scratch slices as for
// nms_problem; score/id scratch n each, the cell tables from table_base
// (e - b + 3 free slots each in off, fill, best, group).
template <class T>
std::int64_t soft_nms_problem(const BoxesSoA<T>& s, const T* sc, std::int64_t b, std::int64_t e,
                              const SoftParams<T>& prm, SoftScratch<T>& all,
                              std::int64_t table_base, std::int64_t* out_id, T* out_score) {
    NmsScratch<T>& scratch = all.cells;
    T* score_buf           = all.score.get();
    T* inter_buf           = all.inter.get();
    std::int64_t* id_buf   = all.id.get();
    double* reach          = all.reach.get() + 2 * table_base;
    const std::int64_t m = e - b;
    // Boxes that intersect nothing keep weight 1 unless 'naive' with a
    // threshold <= 0 zeroes everything: then every pair is visited.
    const bool every_pair = prm.method == SoftMethod::naive && !(prm.iou_threshold > T(0));
    const bool use_grid   = !every_pair && m >= grid_min_boxes;
    const GridPlan plan   = use_grid ? GridPlan(s, b, e, std::max<std::int64_t>(1, m / soft_boxes_per_cell), soft_cell_factor)
                                     : GridPlan(s, b, b, 1, 1.0);
    const std::int64_t grid  = plan.grid_cells();
    const std::int64_t big   = grid;     // visited by every selection
    const std::int64_t inert = grid + 1; // empty boxes: never decayed
    const std::int64_t n_cells = grid + 2;
    std::int64_t* cell_of      = scratch.cell.get();
    BoxesSoA<T> k              = scratch.kept();
    SoftCells<T> cells{{k.x1 + b, k.y1 + b, k.x2 + b, k.y2 + b, k.area + b},
                       score_buf + b,
                       id_buf + b,
                       scratch.off.get() + table_base,
                       scratch.fill.get() + table_base,
                       all.best.get() + table_base,
                       all.group.get() + table_base};
    std::fill(cells.fill, cells.fill + n_cells, std::int64_t{0});
    for(std::int64_t p = b; p < e; ++p) {
        if(!use_grid) {
            cell_of[p] = 0;
        } else if(is_empty_box(s.x1[p], s.y1[p], s.x2[p], s.y2[p])) {
            cell_of[p] = inert;
        } else {
            cell_of[p] = plan.is_big(s, p) ? big : plan.cell_of(s, p);
        }
        ++cells.fill[cell_of[p]];
    }
    cells.off[0] = 0;
    for(std::int64_t c = 0; c < n_cells; ++c) {
        cells.off[c + 1] = cells.off[c] + cells.fill[c];
        cells.fill[c]    = 0;
    }
    std::fill(reach, reach + 2 * n_cells, -std::numeric_limits<double>::infinity());
    for(std::int64_t p = b; p < e; ++p) {
        const std::int64_t c    = cell_of[p];
        const std::int64_t slot = cells.off[c] + cells.fill[c]++;
        cells.box.x1[slot] = s.x1[p], cells.box.y1[slot] = s.y1[p];
        cells.box.x2[slot] = s.x2[p], cells.box.y2[slot] = s.y2[p];
        cells.box.area[slot] = s.area[p], cells.score[slot] = sc[p], cells.id[slot] = p - b;
        reach[2 * c]     = std::max(reach[2 * c], static_cast<double>(s.x2[p]));
        reach[2 * c + 1] = std::max(reach[2 * c + 1], static_cast<double>(s.y2[p]));
    }
    const std::int64_t n_groups = (n_cells + soft_group - 1) / soft_group;
    const auto refresh_group    = [&](std::int64_t g) {
        Best bg{0.0, -1, -1};
        const std::int64_t end = std::min(n_cells, (g + 1) * soft_group);
        for(std::int64_t c = g * soft_group; c < end; ++c) {
            if(better(cells.best[c], bg)) {
                bg = cells.best[c];
            }
        }
        cells.group[g] = bg;
    };
    for(std::int64_t c = 0; c < n_cells; ++c) {
        cells.refresh(c);
    }
    for(std::int64_t g = 0; g < n_groups; ++g) {
        refresh_group(g);
    }
    std::vector<std::int64_t> touched; // cells whose best changed in this selection
    touched.reserve(64);
    T* inter            = inter_buf + b; // per-slot intersections of the cell at hand
    std::int64_t* hits  = all.hits.get() + b;
    // Decays cell c's live boxes against the selected box.
    const auto decay_cell = [&](std::int64_t c, T sx1, T sy1, T sx2, T sy2, T sarea) {
        const std::int64_t o = cells.off[c], n_live = cells.fill[c];
        const T* x1 = cells.box.x1 + o;
        const T* y1 = cells.box.y1 + o;
        const T* x2 = cells.box.x2 + o;
        const T* y2 = cells.box.y2 + o;
        for(std::int64_t j = 0; j < n_live; ++j) { // vectorises: no branch
            inter[j] = intersection(sx1, sy1, sx2, sy2, x1[j], y1[j], x2[j], y2[j]);
        }
        // The slots that intersect, listed without branches (most do not).
        std::int64_t n_hit = 0;
        for(std::int64_t j = 0; j < n_live; ++j) {
            hits[n_hit] = j;
            n_hit += (inter[j] > T(0) || every_pair) ? 1 : 0;
        }
        const std::int64_t best_id = cells.best[c].id;
        bool best_hit              = false;
        // Backwards, so a swap-remove only moves an already visited box.
        for(std::int64_t h = n_hit - 1; h >= 0; --h) {
            const std::int64_t j = hits[h];
            const std::int64_t a = o + j;
            const T ovr          = iou_from(inter[j], sarea, cells.box.area[a]);
            cells.score[a] *= soft_weight(ovr, prm);
            best_hit = best_hit || cells.id[a] == best_id;
            if(cells.score[a] < prm.min_score) {
                cells.remove(c, j);
            }
        }
        if(best_hit) {
            touched.push_back(c);
        }
    };
    std::int64_t count = 0;
    for(;;) {
        Best top{0.0, -1, -1};
        for(std::int64_t g = 0; g < n_groups; ++g) {
            if(better(cells.group[g], top)) {
                top = cells.group[g];
            }
        }
        if(top.id < 0) {
            break;
        }
        const std::int64_t p = b + top.id;
        const std::int64_t c = cell_of[p];
        const std::int64_t slot = cells.best[c].slot; // top.slot may predate a swap
        const std::int64_t a    = cells.off[c] + slot;
        out_id[b + count]    = p;
        out_score[b + count] = cells.score[a];
        ++count;
        const T sx1 = cells.box.x1[a], sy1 = cells.box.y1[a], sx2 = cells.box.x2[a],
                sy2 = cells.box.y2[a], sarea = cells.box.area[a];
        cells.remove(c, slot);
        touched.clear();
        touched.push_back(c);
        if(!use_grid) {
            decay_cell(0, sx1, sy1, sx2, sy2, sarea);
        } else if(c != inert) {
            decay_cell(big, sx1, sy1, sx2, sy2, sarea);
            const CellRange r = plan.query(sx1, sy1, sx2, sy2);
            for(std::int64_t cy = r.cy0; cy <= r.cy1; ++cy) {
                for(std::int64_t cx = r.cx0; cx <= r.cx1; ++cx) {
                    const std::int64_t cc = cy * plan.nx() + cx;
                    // No box of the cell reaches past the selected box's x1 or y1: none meets it.
                    if(reach[2 * cc] > static_cast<double>(sx1)
                       && reach[2 * cc + 1] > static_cast<double>(sy1)) {
                        decay_cell(cc, sx1, sy1, sx2, sy2, sarea);
                    }
                }
            }
        }
        if(count == 1) {
            // mmcv tests every remaining box at the first selection too.
            touched.clear();
            for(std::int64_t cc = 0; cc < n_cells; ++cc) {
                for(std::int64_t j = cells.fill[cc] - 1; j >= 0; --j) {
                    if(cells.score[cells.off[cc] + j] < prm.min_score) {
                        cells.remove(cc, j);
                    }
                }
                touched.push_back(cc);
            }
        }
        std::sort(touched.begin(), touched.end());
        touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
        std::int64_t last_group = -1;
        for(const std::int64_t cc : touched) {
            cells.refresh(cc);
        }
        for(const std::int64_t cc : touched) {
            if(cc / soft_group != last_group) {
                last_group = cc / soft_group;
                refresh_group(last_group);
            }
        }
    }
    return count;
}

} // namespace detail

// Soft-NMS of n boxes (n x 4) with scores (finite): the selected indices in
// selection order and their scores at selection; returns how many.
template <class T>
std::int64_t soft_nms(const T* boxes, const T* scores, std::int64_t n, const SoftParams<T>& prm,
                      std::int64_t* keep, T* kept_scores, int n_threads) {
    if(n == 0) {
        return 0;
    }
    auto identity = uninitialized_buffer<std::int64_t>(n);
    for(std::int64_t i = 0; i < n; ++i) {
        identity[i] = i;
    }
    detail::SoABuffers<T> soa(n);
    const BoxesSoA<T> s = soa.view();
    detail::gather_soa(boxes, identity.get(), n, s, n_threads);
    detail::SoftScratch<T> scratch(n, 1);
    return detail::soft_nms_problem(s, scores, 0, n, prm, scratch, 0, keep, kept_scores);
}

// Soft-NMS within each category idxs[i]; the selections of all categories
// merged by decreasing score at selection, then increasing index. Writes
// keep / kept_scores (n each at most), returns how many.
template <class T>
std::int64_t batched_soft_nms(const T* boxes, const T* scores, const std::int64_t* idxs,
                              std::int64_t n, const SoftParams<T>& prm, std::int64_t* keep,
                              T* kept_scores, int n_threads) {
    if(n == 0) {
        return 0;
    }
    auto class_key = uninitialized_buffer<std::uint64_t>(n);
    auto by_class  = uninitialized_buffer<std::int64_t>(n); // class-major, index order within
    detail::group_by_class(idxs, nullptr, n, class_key.get(), by_class.get(), n_threads);
    detail::SoABuffers<T> soa(n);
    const BoxesSoA<T> s = soa.view();
    detail::gather_soa(boxes, by_class.get(), n, s, n_threads);
    auto sc = uninitialized_buffer<T>(n);
    for(std::int64_t q = 0; q < n; ++q) {
        sc[q] = scores[by_class[q]];
    }
    const std::vector<std::int64_t> starts = detail::runs_of(class_key.get(), n);
    const std::int64_t n_classes           = static_cast<std::int64_t>(starts.size()) - 1;
    detail::SoftScratch<T> scratch(n, n_classes);
    auto sel       = uninitialized_buffer<std::int64_t>(n);
    auto sel_score = uninitialized_buffer<T>(n);
    std::vector<std::int64_t> counts(static_cast<std::size_t>(n_classes));
    const std::vector<std::int64_t> tasks = detail::largest_first(starts);
    // Small inputs run on one thread: waking a team costs more than they take.
    parallel_dynamic(n_classes, n >= detail::parallel_min_boxes ? n_threads : 1, [&](std::int64_t t) {
        const std::int64_t c = tasks[static_cast<std::size_t>(t)];
        const std::int64_t b = starts[static_cast<std::size_t>(c)];
        const std::int64_t e = starts[static_cast<std::size_t>(c) + 1];
        counts[static_cast<std::size_t>(c)] = detail::soft_nms_problem(
            s, sc.get(), b, e, prm, scratch, b + 3 * c, sel.get(), sel_score.get());
    });
    // Selected boxes in index order, then a stable sort by decreasing score.
    auto picked = uninitialized_buffer<std::uint8_t>(n);
    auto at     = uninitialized_buffer<T>(n);
    std::fill(picked.get(), picked.get() + n, std::uint8_t{0});
    for(std::int64_t c = 0; c < n_classes; ++c) {
        const std::int64_t b = starts[static_cast<std::size_t>(c)];
        for(std::int64_t j = 0; j < counts[static_cast<std::size_t>(c)]; ++j) {
            const std::int64_t i = by_class[sel[b + j]];
            picked[i]            = 1;
            at[i]                = sel_score[b + j];
        }
    }
    std::int64_t count = 0;
    for(std::int64_t i = 0; i < n; ++i) {
        if(picked[i] != 0) {
            keep[count]        = i;
            kept_scores[count] = at[i];
            ++count;
        }
    }
    auto by_score = uninitialized_buffer<std::int64_t>(count);
    auto index_of = uninitialized_buffer<std::int64_t>(count);
    detail::score_order(kept_scores, count, by_score.get(), n_threads);
    for(std::int64_t j = 0; j < count; ++j) {
        index_of[j]  = keep[by_score[j]];
        sel_score[j] = kept_scores[by_score[j]];
    }
    std::copy(index_of.get(), index_of.get() + count, keep);
    std::copy(sel_score.get(), sel_score.get() + count, kept_scores);
    return count;
}

} // namespace npk::detection
