#pragma once
// KD-tree over n points of dimension m, built as in the design notes: split on
// the dimension of largest variance at the median point (SplitRule::variance),
// or SciPy's sliding midpoint of the widest side (SplitRule::midpoint).
//
// The tree owns a copy of the points reordered into tree order, so every
// node's points are one contiguous block (leaves are scanned sequentially),
// plus the original index of each. Point ids have type I: float32 trees use
// 32-bit ids when n < 2^31, so a float32 tree is half the size of a float64
// one in every array. Each inner node keeps, for its split dimension, the
// largest coordinate of its left child and the smallest of its right child:
// searches bound the distance to a child by the gap to those actual points.
//
// The build is deterministic: the shape depends on the data and leafsize only.
// The top levels are split breadth-first (the nodes of a level in parallel),
// then whole subtrees are built in parallel, each into its own node list, and
// appended in a fixed order, so any thread count gives the same tree.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <new>
#include <numeric>
#include <vector>

#include "npkernels/parallel.hpp"

namespace npk::neighbors {

enum class SplitRule { variance, midpoint };

template <class T, class I>
struct Node {
    T lo_max;          // inner: largest split-dim coordinate of the left child's points
    T hi_min;          // inner: smallest split-dim coordinate of the right child's points
    I start;           // the node's points are [start, end) in tree order
    I end;
    I left;            // inner: children; leaf: left = its box in leaf_boxes()
    I right;
    std::int32_t dim;  // split dimension, -1 for a leaf
};

// First position in x[0, count) that is NaN or infinite, or -1.
template <class T>
std::int64_t find_nonfinite(const T* x, std::int64_t count, int n_threads) {
    const int parts = useful_threads(count, std::int64_t{1} << 16, n_threads);
    std::vector<std::int64_t> first(static_cast<std::size_t>(parts), -1);
    parallel_parts(parts, parts, [&](std::int64_t part) {
        const Range r = part_range(count, part, parts);
        for(std::int64_t i = r.begin; i < r.end; ++i) {
            if(!std::isfinite(x[i])) {
                first[static_cast<std::size_t>(part)] = i;
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

template <class T, class I>
class KDTree {
  public:
    using NodeT = Node<T, I>;

    // data: n x m, row-major, finite (the binding checks with find_nonfinite).
    // n >= 1, m >= 1, leafsize >= 1. Throws std::bad_alloc only (outside any
    // parallel region).
    KDTree(const T* data, std::int64_t n, std::int64_t m, std::int64_t leafsize, SplitRule rule,
           int n_threads)
        : n_(n), m_(m), leafsize_(leafsize), rule_(rule),
          pts_(static_cast<std::size_t>(n * m)), ids_(static_cast<std::size_t>(n)),
          lo_(static_cast<std::size_t>(m)), hi_(static_cast<std::size_t>(m)) {
        depth_cap_ = 32;
        for(std::int64_t c = n; c > 1; c /= 2) {
            depth_cap_ += 2;
        }
        parallel_for(n, std::int64_t{1} << 15, n_threads, [&](std::int64_t b, std::int64_t e) {
            std::copy(data + b * m, data + e * m, pts_.data() + b * m);
            for(std::int64_t i = b; i < e; ++i) {
                ids_[static_cast<std::size_t>(i)] = static_cast<I>(i);
            }
        });
        bounds(0, n, lo_.data(), hi_.data());
        build(n_threads);
        make_leaf_boxes(n_threads);
    }

    std::int64_t n() const { return n_; }
    std::int64_t m() const { return m_; }
    std::int64_t leafsize() const { return leafsize_; }
    std::int64_t size() const { return static_cast<std::int64_t>(nodes_.size()); }
    const T* points() const { return pts_.data(); }  // n x m in tree order
    const I* ids() const { return ids_.data(); }     // original index of each
    const NodeT* nodes() const { return nodes_.data(); }
    const T* lo() const { return lo_.data(); }       // bounding box of all points
    const T* hi() const { return hi_.data(); }
    // Exact bounding box of leaf node nd: lo at [2 m nd.left], hi at [2 m nd.left + m].
    const T* leaf_boxes() const { return leaf_boxes_.data(); }
    std::int64_t nbytes() const {
        return static_cast<std::int64_t>(pts_.size() * sizeof(T) + ids_.size() * sizeof(I)
                                         + nodes_.size() * sizeof(NodeT)
                                         + (leaf_boxes_.size() + 2 * lo_.size()) * sizeof(T));
    }

  private:
    struct Split {
        std::int32_t dim; // -1: make a leaf
        std::int64_t mid; // left = [b, mid), right = [mid, e)
        T lo_max;
        T hi_min;
    };
    struct Pending {
        std::int64_t b, e;
        int depth;
        std::int64_t node;
        std::vector<T> box; // the cell's box (midpoint rule): lo then hi
    };

    T coord(std::int64_t i, std::int64_t d) const { return pts_[static_cast<std::size_t>(i * m_ + d)]; }

    void swap_rows(std::int64_t i, std::int64_t j) {
        T* a = pts_.data() + i * m_;
        T* b = pts_.data() + j * m_;
        for(std::int64_t d = 0; d < m_; ++d) {
            std::swap(a[d], b[d]);
        }
        std::swap(ids_[static_cast<std::size_t>(i)], ids_[static_cast<std::size_t>(j)]);
    }

    void bounds(std::int64_t b, std::int64_t e, T* lo, T* hi) const {
        const T* p = pts_.data();
        for(std::int64_t d = 0; d < m_; ++d) {
            lo[d] = hi[d] = p[b * m_ + d];
        }
        for(std::int64_t i = b + 1; i < e; ++i) {
            const T* row = p + i * m_;
            for(std::int64_t d = 0; d < m_; ++d) {
                lo[d] = std::min(lo[d], row[d]);
                hi[d] = std::max(hi[d], row[d]);
            }
        }
    }

    // Dimension of largest variance (first on ties), or -1 if every
    // dimension is constant. Sums are taken relative to the first point, in
    // double, which keeps the cancellation small. Nodes above 4096 points
    // estimate the variances from 2048 evenly spaced points (the top levels
    // would otherwise cost a pass over all the data each).
    std::int32_t widest_variance(std::int64_t b, std::int64_t e, double* s1, double* s2) const {
        const T* p  = pts_.data();
        const T* p0 = p + b * m_;
        std::fill(s1, s1 + m_, 0.0);
        std::fill(s2, s2 + m_, 0.0);
        const std::int64_t step = e - b > 4096 ? (e - b) / 2048 : 1;
        for(std::int64_t i = b + step; i < e; i += step) {
            const T* row = p + i * m_;
            for(std::int64_t d = 0; d < m_; ++d) {
                const double x = static_cast<double>(row[d]) - static_cast<double>(p0[d]);
                s1[d] += x;
                s2[d] += x * x;
            }
        }
        const double c  = static_cast<double>((e - b - 1) / step + 1);
        std::int32_t best = -1;
        double best_var   = 0.0;
        for(std::int64_t d = 0; d < m_; ++d) {
            const double var = s2[d] - s1[d] * s1[d] / c;
            if(var > best_var) {
                best_var = var;
                best     = static_cast<std::int32_t>(d);
            }
        }
        if(best < 0) {
            // Rounding can hide a tiny spread: fall back on an exact check.
            for(std::int64_t d = 0; d < m_ && best < 0; ++d) {
                for(std::int64_t i = b + 1; i < e; ++i) {
                    if(p[i * m_ + d] != p0[d]) {
                        best = static_cast<std::int32_t>(d);
                        break;
                    }
                }
            }
        }
        return best;
    }

    void insertion_sort(std::int64_t lo, std::int64_t hi, std::int64_t d) {
        for(std::int64_t i = lo + 1; i <= hi; ++i) {
            for(std::int64_t j = i; j > lo && coord(j, d) < coord(j - 1, d); --j) {
                swap_rows(j, j - 1);
            }
        }
    }

    // Reorders rows [b, e) so row kth holds the value of rank kth - b on
    // dimension d, smaller-or-equal values before it, larger-or-equal after:
    // quickselect with a median-of-three pivot and Hoare partition (equal keys
    // split evenly, so duplicates cost no more than distinct values).
    void select(std::int64_t b, std::int64_t e, std::int64_t kth, std::int64_t d) {
        std::int64_t lo = b, hi = e - 1;
        int rounds      = 0;
        while(hi > lo) {
            if(hi - lo < 16 || ++rounds > 2 * depth_cap_) {
                if(hi - lo >= 16) {
                    sort_rows(lo, hi + 1, d); // pathological pivots: sort instead
                } else {
                    insertion_sort(lo, hi, d);
                }
                return;
            }
            const T a = coord(lo, d), m = coord(lo + (hi - lo) / 2, d), z = coord(hi, d);
            const T pivot = std::max(std::min(a, m), std::min(std::max(a, m), z));
            std::int64_t i = lo, j = hi;
            while(i <= j) {
                while(coord(i, d) < pivot) {
                    ++i;
                }
                while(pivot < coord(j, d)) {
                    --j;
                }
                if(i <= j) {
                    swap_rows(i, j);
                    ++i;
                    --j;
                }
            }
            if(kth <= j) {
                hi = j;
            } else if(kth >= i) {
                lo = i;
            } else {
                return;
            }
        }
    }

    // Sorts rows [b, e) by dimension d through a permutation (may throw bad_alloc).
    void sort_rows(std::int64_t b, std::int64_t e, std::int64_t d) {
        std::vector<std::int64_t> order(static_cast<std::size_t>(e - b));
        std::iota(order.begin(), order.end(), b);
        std::stable_sort(order.begin(), order.end(),
                         [&](std::int64_t x, std::int64_t y) { return coord(x, d) < coord(y, d); });
        std::vector<T> rows(static_cast<std::size_t>((e - b) * m_));
        std::vector<I> ids(static_cast<std::size_t>(e - b));
        for(std::size_t k = 0; k < order.size(); ++k) {
            std::copy(pts_.data() + order[k] * m_, pts_.data() + (order[k] + 1) * m_,
                      rows.data() + static_cast<std::int64_t>(k) * m_);
            ids[k] = ids_[static_cast<std::size_t>(order[k])];
        }
        std::copy(rows.begin(), rows.end(), pts_.data() + b * m_);
        std::copy(ids.begin(), ids.end(), ids_.data() + b);
    }

    struct Parted {
        std::int64_t mid; // first row of the back part
        T front_max;      // largest coordinate in the front part (-inf if empty)
        T back_min;       // smallest in the back part (+inf if empty)
    };

    // Moves rows with coordinate d < split to the front, noting the extreme
    // coordinates next to the plane on the way.
    Parted partition(std::int64_t b, std::int64_t e, std::int64_t d, T split) {
        T front_max = -std::numeric_limits<T>::infinity();
        T back_min  = std::numeric_limits<T>::infinity();
        std::int64_t i = b, j = e - 1;
        for(;;) {
            for(; i <= j; ++i) {
                const T v = coord(i, d);
                if(!(v < split)) {
                    break;
                }
                front_max = std::max(front_max, v);
            }
            for(; i <= j; --j) {
                const T v = coord(j, d);
                if(v < split) {
                    break;
                }
                back_min = std::min(back_min, v);
            }
            if(i >= j) {
                return {i, front_max, back_min};
            }
            swap_rows(i, j);
            front_max = std::max(front_max, coord(i, d));
            back_min  = std::min(back_min, coord(j, d));
            ++i;
            --j;
        }
    }

    T column_extreme(std::int64_t b, std::int64_t e, std::int64_t d, bool want_max) const {
        T v = coord(b, d);
        for(std::int64_t i = b + 1; i < e; ++i) {
            v = want_max ? std::max(v, coord(i, d)) : std::min(v, coord(i, d));
        }
        return v;
    }

    static constexpr std::int64_t sample_size = 1024;

    template <class S>
    Split median_split(std::int64_t b, std::int64_t e, S& scratch) {
        const std::int32_t d = widest_variance(b, e, scratch.sums.data(), scratch.sums.data() + m_);
        if(d < 0) {
            return {-1, 0, T(0), T(0)};
        }
        if(e - b > 4 * sample_size) {
            // A large node splits at the median of an evenly spaced sample:
            // one partition pass instead of a selection's several.
            const std::int64_t step = (e - b) / sample_size;
            std::vector<T>& sample  = scratch.sample;
            sample.clear();
            for(std::int64_t i = b; i < e; i += step) {
                sample.push_back(coord(i, d));
            }
            const auto half = sample.begin() + static_cast<std::ptrdiff_t>(sample.size() / 2);
            std::nth_element(sample.begin(), half, sample.end());
            const Parted pt = partition(b, e, d, *half);
            if(pt.mid > b && pt.mid < e) {
                return {d, pt.mid, pt.front_max, pt.back_min};
            }
        }
        const std::int64_t mid = b + (e - b) / 2;
        select(b, e, mid, d);
        return {d, mid, column_extreme(b, mid, d, true), coord(mid, d)};
    }

    // SciPy's sliding midpoint: split the widest side of the cell at its
    // middle; if one side would be empty, slide the plane to the nearest point
    // so that side gets the points at the extreme. lo/hi (m each) bound the
    // points (exactly along the split dimensions of the ancestors, loosely
    // otherwise, as pykdtree does: no pass over all dimensions per node); a
    // side found constant is shrunk to its value and another one is tried.
    Split midpoint_split(std::int64_t b, std::int64_t e, T* lo, T* hi) {
        for(;;) {
            std::int32_t d = -1;
            T widest       = T(0);
            for(std::int64_t k = 0; k < m_; ++k) {
                if(hi[k] - lo[k] > widest) {
                    widest = hi[k] - lo[k];
                    d      = static_cast<std::int32_t>(k);
                }
            }
            if(d < 0) {
                return {-1, 0, T(0), T(0)}; // every point is the same
            }
            Parted pt = partition(b, e, d, lo[d] / 2 + hi[d] / 2);
            if(pt.mid == b || pt.mid == e) {
                const T vmin = pt.mid == b ? pt.back_min : column_extreme(b, e, d, false);
                const T vmax = pt.mid == e ? pt.front_max : column_extreme(b, e, d, true);
                if(vmin == vmax) {
                    lo[d] = hi[d] = vmin;
                    continue;
                }
                pt = partition(b, e, d,
                               pt.mid == b ? std::nextafter(vmin, std::numeric_limits<T>::infinity())
                                           : vmax);
            }
            return {d, pt.mid, pt.front_max, pt.back_min};
        }
    }

    // Per-task scratch: 2 m sums, a sample, and a stack of cell boxes (lo then hi, 2 m
    // each) indexed by depth for the midpoint rule.
    struct Scratch {
        std::vector<double> sums;
        std::vector<T> boxes;
        std::vector<T> sample; // for large nodes' approximate medians
        Scratch(std::int64_t m, int depths)
            : sums(static_cast<std::size_t>(2 * m)),
              boxes(static_cast<std::size_t>(2 * m * (depths + 1))) {}
    };

    bool uses_box(int depth) const { return rule_ == SplitRule::midpoint && depth <= depth_cap_; }

    Split split_node(std::int64_t b, std::int64_t e, int depth, T* box, Scratch& s) {
        if(e - b <= leafsize_) {
            return {-1, 0, T(0), T(0)};
        }
        if(uses_box(depth)) {
            return midpoint_split(b, e, box, box + m_);
        }
        return median_split(b, e, s);
    }

    // The children's boxes: the parent's, cut at the points next to the plane.
    void child_box(const T* box, const Split& s, bool left, T* out) const {
        std::copy(box, box + 2 * m_, out);
        if(left) {
            out[m_ + s.dim] = s.lo_max;
        } else {
            out[s.dim] = s.hi_min;
        }
    }

    static NodeT leaf(std::int64_t b, std::int64_t e) {
        return {T(0), T(0), static_cast<I>(b), static_cast<I>(e), I(0), I(0), -1};
    }

    // Depth-first build of [b, e) into out; returns the local index of its root.
    std::int64_t build_subtree(std::int64_t b, std::int64_t e, int depth, T* box,
                               std::vector<NodeT>& out, Scratch& scratch) {
        const Split s          = split_node(b, e, depth, box, scratch);
        const std::int64_t idx = static_cast<std::int64_t>(out.size());
        out.push_back(leaf(b, e));
        if(s.dim < 0) {
            return idx;
        }
        T* cbox = nullptr;
        if(uses_box(depth + 1)) {
            cbox = scratch.boxes.data() + 2 * m_ * (depth + 1);
            child_box(box, s, true, cbox);
        }
        const std::int64_t l = build_subtree(b, s.mid, depth + 1, cbox, out, scratch);
        if(cbox != nullptr) {
            child_box(box, s, false, cbox);
        }
        const std::int64_t r = build_subtree(s.mid, e, depth + 1, cbox, out, scratch);
        NodeT& nd            = out[static_cast<std::size_t>(idx)];
        nd.lo_max            = s.lo_max;
        nd.hi_min            = s.hi_min;
        nd.left              = static_cast<I>(l);
        nd.right             = static_cast<I>(r);
        nd.dim               = s.dim;
        return idx;
    }

    template <class Fn>
    static void run_guarded(std::int64_t count, int n_threads, Fn&& fn) {
        std::vector<char> failed(static_cast<std::size_t>(count), 0);
        parallel_chunks(count, 1, n_threads, [&](int, std::int64_t b, std::int64_t) {
            try {
                fn(b);
            } catch(...) {
                failed[static_cast<std::size_t>(b)] = 1; // bad_alloc, rethrown below
            }
        });
        if(std::find(failed.begin(), failed.end(), 1) != failed.end()) {
            throw std::bad_alloc();
        }
    }

    void build(int n_threads) {
        // Subtrees of at most this many points are built whole, one per task.
        const std::int64_t task_size = std::max<std::int64_t>(n_ / 32, std::int64_t{1} << 13);
        const int depths             = rule_ == SplitRule::midpoint ? depth_cap_ + 1 : 0;
        nodes_.push_back(leaf(0, n_));
        std::vector<T> root_box(lo_);
        root_box.insert(root_box.end(), hi_.begin(), hi_.end());
        std::vector<Pending> frontier{{0, n_, 0, 0, root_box}};
        std::vector<Pending> tasks;
        while(!frontier.empty()) {
            std::vector<Pending> big;
            for(Pending& p : frontier) {
                (p.e - p.b > task_size ? big : tasks).push_back(std::move(p));
            }
            std::vector<Split> splits(big.size());
            std::vector<Scratch> scratch(big.size(), Scratch(m_, 0));
            run_guarded(static_cast<std::int64_t>(big.size()), n_threads, [&](std::int64_t t) {
                const auto k = static_cast<std::size_t>(t);
                splits[k]    = split_node(big[k].b, big[k].e, big[k].depth, big[k].box.data(),
                                          scratch[k]);
            });
            frontier.clear();
            for(std::size_t k = 0; k < big.size(); ++k) {
                const Split& s = splits[k];
                const Pending& p = big[k];
                if(s.dim < 0) {
                    continue; // stays a leaf
                }
                const auto l = static_cast<std::int64_t>(nodes_.size());
                nodes_.push_back(leaf(p.b, s.mid));
                nodes_.push_back(leaf(s.mid, p.e));
                NodeT& nd = nodes_[static_cast<std::size_t>(p.node)];
                nd.lo_max = s.lo_max;
                nd.hi_min = s.hi_min;
                nd.left   = static_cast<I>(l);
                nd.right  = static_cast<I>(l + 1);
                nd.dim    = s.dim;
                std::vector<T> lbox(p.box.size()), rbox(p.box.size());
                if(uses_box(p.depth + 1)) {
                    child_box(p.box.data(), s, true, lbox.data());
                    child_box(p.box.data(), s, false, rbox.data());
                }
                frontier.push_back({p.b, s.mid, p.depth + 1, l, std::move(lbox)});
                frontier.push_back({s.mid, p.e, p.depth + 1, l + 1, std::move(rbox)});
            }
        }
        // Whole subtrees, handed out one at a time (midpoint subtrees differ in size).
        std::vector<std::vector<NodeT>> sub(tasks.size());
        std::vector<Scratch> scratch(tasks.size(), Scratch(m_, depths));
        run_guarded(static_cast<std::int64_t>(tasks.size()), n_threads, [&](std::int64_t t) {
            const auto k = static_cast<std::size_t>(t);
            T* box       = nullptr;
            if(uses_box(tasks[k].depth)) {
                box = scratch[k].boxes.data() + 2 * m_ * tasks[k].depth;
                std::copy(tasks[k].box.begin(), tasks[k].box.end(), box);
            }
            build_subtree(tasks[k].b, tasks[k].e, tasks[k].depth, box, sub[k], scratch[k]);
        });
        // Append each subtree: its root replaces the placeholder node, the
        // rest follow in their depth-first order.
        for(std::size_t k = 0; k < tasks.size(); ++k) {
            const std::vector<NodeT>& s = sub[k];
            const auto base             = static_cast<std::int64_t>(nodes_.size()) - 1;
            auto remap = [&](NodeT nd) {
                if(nd.dim >= 0) {
                    nd.left  = static_cast<I>(base + static_cast<std::int64_t>(nd.left));
                    nd.right = static_cast<I>(base + static_cast<std::int64_t>(nd.right));
                }
                return nd;
            };
            nodes_[static_cast<std::size_t>(tasks[k].node)] = remap(s[0]);
            for(std::size_t j = 1; j < s.size(); ++j) {
                nodes_.push_back(remap(s[j]));
            }
        }
    }

    // The exact box of every leaf: in high dimension it is much tighter than
    // the cell a search reaches it with, and skipping a leaf saves a scan.
    void make_leaf_boxes(int n_threads) {
        std::vector<std::int64_t> leaves;
        for(std::size_t k = 0; k < nodes_.size(); ++k) {
            if(nodes_[k].dim < 0) {
                nodes_[k].left = static_cast<I>(leaves.size());
                leaves.push_back(static_cast<std::int64_t>(k));
            }
        }
        leaf_boxes_.resize(leaves.size() * static_cast<std::size_t>(2 * m_));
        const auto count = static_cast<std::int64_t>(leaves.size());
        parallel_for(count, 256, n_threads, [&](std::int64_t b, std::int64_t e) {
            for(std::int64_t k = b; k < e; ++k) {
                const NodeT& nd = nodes_[static_cast<std::size_t>(leaves[static_cast<std::size_t>(k)])];
                T* box          = leaf_boxes_.data() + 2 * m_ * k;
                bounds(static_cast<std::int64_t>(nd.start), static_cast<std::int64_t>(nd.end), box,
                       box + m_);
            }
        });
    }

    std::int64_t n_, m_, leafsize_;
    SplitRule rule_;
    int depth_cap_ = 0; // below this depth the midpoint rule gives way to the median
    std::vector<T> pts_;
    std::vector<I> ids_;
    std::vector<T> lo_, hi_;
    std::vector<NodeT> nodes_;
    std::vector<T> leaf_boxes_;
};

} // namespace npk::neighbors
