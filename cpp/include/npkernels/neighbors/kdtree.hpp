#pragma once
// KD-tree over n points of dimension m, built as in the design notes: split on
// the dimension of largest variance at the median (SplitRule::variance), or
// SciPy's sliding midpoint of the widest side (SplitRule::midpoint). Both
// split with one branch-free pass that copies the rows into a second buffer
// (front: below the plane, back: the rest); leaves end in the first buffer.
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
#include <vector>

#include "npkernels/buffer.hpp"
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

// First position in x[0, count) that is NaN or infinite, or -1. A scan is
// memory-bound and cheap: threads only for many millions of values.
template <class T>
std::int64_t find_nonfinite(const T* x, std::int64_t count, int n_threads) {
    const int parts = useful_threads(count, std::int64_t{1} << 21, n_threads);
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
        : n_(n), m_(m), leafsize_(leafsize), rule_(rule), pts_(uninitialized_buffer<T>(n * m)),
          ids_(uninitialized_buffer<I>(n)), lo_(static_cast<std::size_t>(m)),
          hi_(static_cast<std::size_t>(m)) {
        depth_cap_ = 32;
        for(std::int64_t c = n; c > 1; c /= 2) {
            depth_cap_ += 2;
        }
        // Splits move rows between two buffers (a branch-free partition
        // writes out of place), the first one straight from the input; leaves
        // end in the main buffer.
        Buffer<T> spare_pts = uninitialized_buffer<T>(n * m);
        Buffer<I> spare_ids = uninitialized_buffer<I>(n);
        main_  = {pts_.get(), ids_.get()};
        spare_ = {spare_pts.get(), spare_ids.get()};
        input_ = {const_cast<T*>(data), nullptr}; // only ever read; ids are implicit
        bounds(input_, 0, n, lo_.data(), hi_.data());
        build(n_threads);
        spare_ = input_ = {nullptr, nullptr};
    }

    std::int64_t n() const { return n_; }
    std::int64_t m() const { return m_; }
    std::int64_t leafsize() const { return leafsize_; }
    std::int64_t size() const { return static_cast<std::int64_t>(nodes_.size()); }
    const T* points() const { return pts_.get(); } // n x m in tree order
    const I* ids() const { return ids_.get(); }    // original index of each
    const NodeT* nodes() const { return nodes_.data(); }
    const T* lo() const { return lo_.data(); } // bounding box of all points
    const T* hi() const { return hi_.data(); }
    // Exact bounding box of leaf node nd: lo at [2 m nd.left], hi at [2 m nd.left + m]
    // (in high dimension much tighter than the cell a search reaches it with).
    const T* leaf_boxes() const { return leaf_boxes_.data(); }
    std::int64_t nbytes() const {
        return static_cast<std::int64_t>(
            static_cast<std::size_t>(n_ * m_) * sizeof(T) + static_cast<std::size_t>(n_) * sizeof(I)
            + nodes_.size() * sizeof(NodeT) + (leaf_boxes_.size() + 2 * lo_.size()) * sizeof(T));
    }

  private:
    // One of the two row buffers: points (n x m) and their ids.
    struct Rows {
        T* p;
        I* id;
    };
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
        int spare;          // where the rows are: in_main, in_spare or in_input
        std::vector<T> box; // the cell's box (midpoint rule): lo then hi
    };

    // Where a node's rows are. The input is read by the first split only
    // (which saves a copy of all the data) and never written.
    static constexpr int in_main = 0, in_spare = 1, in_input = 2;
    Rows rows(int where) const {
        return where == in_main ? main_ : where == in_spare ? spare_ : input_;
    }
    static int other(int where) { return where == in_main ? in_spare : in_main; }

    T coord(const Rows& r, std::int64_t i, std::int64_t d) const { return r.p[i * m_ + d]; }

    void bounds(const Rows& r, std::int64_t b, std::int64_t e, T* lo, T* hi) const {
        for(std::int64_t d = 0; d < m_; ++d) {
            lo[d] = hi[d] = r.p[b * m_ + d];
        }
        for(std::int64_t i = b + 1; i < e; ++i) {
            const T* row = r.p + i * m_;
            for(std::int64_t d = 0; d < m_; ++d) {
                lo[d] = std::min(lo[d], row[d]);
                hi[d] = std::max(hi[d], row[d]);
            }
        }
    }

    static constexpr std::int64_t sample_size = 256;

    // Dimension of largest variance (first on ties), or -1 if every
    // dimension is constant. Sums are taken relative to the first point, in
    // double, which keeps the cancellation small. Nodes above 2 * sample_size
    // points estimate the variances from sample_size evenly spaced points
    // (each level would otherwise cost a pass over all the data).
    std::int32_t widest_variance(const Rows& r, std::int64_t b, std::int64_t e, double* s1,
                                 double* s2) const {
        const T* p0 = r.p + b * m_;
        std::fill(s1, s1 + m_, 0.0);
        std::fill(s2, s2 + m_, 0.0);
        const std::int64_t step = e - b > 2 * sample_size ? (e - b) / sample_size : 1;
        for(std::int64_t i = b + step; i < e; i += step) {
            const T* row = r.p + i * m_;
            for(std::int64_t d = 0; d < m_; ++d) {
                const double x = static_cast<double>(row[d]) - static_cast<double>(p0[d]);
                s1[d] += x;
                s2[d] += x * x;
            }
        }
        const double c    = static_cast<double>((e - b - 1) / step + 1);
        std::int32_t best = -1;
        double best_var   = 0.0;
        for(std::int64_t d = 0; d < m_; ++d) {
            const double var = s2[d] - s1[d] * s1[d] / c;
            if(var > best_var) {
                best_var = var;
                best     = static_cast<std::int32_t>(d);
            }
        }
        // Rounding or sampling can hide a spread: fall back on an exact check.
        for(std::int64_t d = 0; d < m_ && best < 0; ++d) {
            for(std::int64_t i = b + 1; i < e; ++i) {
                if(r.p[i * m_ + d] != p0[d]) {
                    best = static_cast<std::int32_t>(d);
                    break;
                }
            }
        }
        return best;
    }

    struct Parted {
        std::int64_t mid; // first row of the back part
        T front_max;      // largest coordinate in the front part (-inf if empty)
        T back_min;       // smallest in the back part (+inf if empty)
    };

    // Copies rows [b, e) of src into dst, those with coordinate d < split to
    // the front (in order), the others to the back (in reverse order), noting
    // the extreme coordinates next to the plane. Branch-free: the side only
    // picks the destination, so random data costs no mispredictions.
    Parted partition_into(const Rows& src, const Rows& dst, std::int64_t b, std::int64_t e,
                          std::int64_t d, T split) const {
        switch(m_) { // fixed widths let the row copy compile to a few moves
        case 1: return partition_rows<1>(src, dst, b, e, d, split);
        case 2: return partition_rows<2>(src, dst, b, e, d, split);
        case 3: return partition_rows<3>(src, dst, b, e, d, split);
        case 4: return partition_rows<4>(src, dst, b, e, d, split);
        case 8: return partition_rows<8>(src, dst, b, e, d, split);
        default: return partition_rows<0>(src, dst, b, e, d, split);
        }
    }

    template <int M>
    Parted partition_rows(const Rows& src, const Rows& dst, std::int64_t b, std::int64_t e,
                          std::int64_t d, T split) const {
        const std::int64_t m = M > 0 ? M : m_;
        // extreme[1] tracks the front's max, extreme[0] the negated back's min:
        // indexing by the side keeps the loop free of branches.
        T front_max[2] = {-std::numeric_limits<T>::infinity(), -std::numeric_limits<T>::infinity()};
        T back_min[2]  = {std::numeric_limits<T>::infinity(), std::numeric_limits<T>::infinity()};
        std::int64_t front = b, back = e - 1;
        for(std::int64_t i = b; i < e; ++i) {
            const T* row          = src.p + i * m;
            const T v             = row[d];
            // Arithmetic, not ?:, so the compiler keeps it free of branches.
            const auto lt         = static_cast<std::int64_t>(v < split);
            const std::int64_t at = back + lt * (front - back);
            T* out                = dst.p + at * m;
            for(std::int64_t k = 0; k < m; ++k) {
                out[k] = row[k];
            }
            dst.id[at] = src.id != nullptr ? src.id[i] : static_cast<I>(i); // input: i
            front += lt;
            back -= 1 - lt;
            front_max[lt]    = std::max(front_max[lt], v);
            back_min[1 - lt] = std::min(back_min[1 - lt], v);
        }
        return {front, front_max[1], back_min[1]};
    }

    T column_extreme(const Rows& r, std::int64_t b, std::int64_t e, std::int64_t d,
                     bool want_max) const {
        T v = coord(r, b, d);
        for(std::int64_t i = b + 1; i < e; ++i) {
            v = want_max ? std::max(v, coord(r, i, d)) : std::min(v, coord(r, i, d));
        }
        return v;
    }


    // Per-task scratch: 2 m sums, median keys, and a stack of cell boxes (lo
    // then hi, 2 m each) indexed by depth for the midpoint rule.
    struct Scratch {
        std::vector<double> sums;
        std::vector<T> boxes;
        std::vector<T> sample; // a node's coordinates on the split dimension
        Scratch(std::int64_t m, int depths)
            : sums(static_cast<std::size_t>(2 * m)),
              boxes(static_cast<std::size_t>(2 * m * (depths + 1))) {}
    };

    // The design notes' rule: the dimension of largest variance, split at
    // the median value (rows below it go left), taken from an evenly spaced
    // sample of the node's coordinates; if no row is below it (duplicates of the minimum),
    // rows equal to it go left too. Either way both sides are non-empty.
    Split median_split(std::int64_t b, std::int64_t e, int depth, int& spare,
                       Scratch& scratch) const {
        const Rows r         = rows(spare);
        const std::int32_t d = widest_variance(r, b, e, scratch.sums.data(),
                                               scratch.sums.data() + m_);
        if(d < 0) {
            return {-1, 0, T(0), T(0)};
        }
        // One coordinate in 16 (64 to 1024 of them) estimates the median
        // without a selection over the whole node; nodes of at most 128
        // points, and deep nodes (adversarial data: no sample to fool), take
        // the exact median.
        const std::int64_t c    = e - b;
        const std::int64_t want = std::min<std::int64_t>(1024, std::max<std::int64_t>(64, c / 16));
        const std::int64_t step = c > 128 && depth <= depth_cap_ ? c / want : 1;
        std::vector<T>& keys    = scratch.sample;
        keys.clear();
        for(std::int64_t i = b; i < e; i += step) {
            keys.push_back(coord(r, i, d));
        }
        const auto half = keys.begin() + static_cast<std::ptrdiff_t>(keys.size() / 2);
        std::nth_element(keys.begin(), half, keys.end());
        Parted pt = partition_into(r, rows(other(spare)), b, e, d, *half);
        spare     = other(spare);
        if(pt.mid == b || pt.mid == e) {
            // All rows on one side of the (sampled) median: split just above
            // the minimum, or at the maximum; the dimension is not constant.
            const Rows cur = rows(spare);
            const T split  = pt.mid == b ? std::nextafter(pt.back_min,
                                                          std::numeric_limits<T>::infinity())
                                         : pt.front_max;
            pt    = partition_into(cur, rows(other(spare)), b, e, d, split);
            spare = other(spare);
        }
        return {d, pt.mid, pt.front_max, pt.back_min};
    }

    // SciPy's sliding midpoint: split the widest side of the cell at its
    // middle; if one side would be empty, slide the plane to the nearest point
    // so that side gets the points at the extreme. lo/hi (m each) bound the
    // points (exactly along the split dimensions of the ancestors, loosely
    // otherwise, as pykdtree does: no pass over all dimensions per node); a
    // side found constant is shrunk to its value and another one is tried.
    Split midpoint_split(std::int64_t b, std::int64_t e, T* lo, T* hi, int& spare) const {
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
            Parted pt = partition_into(rows(spare), rows(other(spare)), b, e, d, lo[d] / 2 + hi[d] / 2);
            spare     = other(spare);
            if(pt.mid == b || pt.mid == e) {
                const Rows r = rows(spare);
                const T vmin = pt.mid == b ? pt.back_min : column_extreme(r, b, e, d, false);
                const T vmax = pt.mid == e ? pt.front_max : column_extreme(r, b, e, d, true);
                if(vmin == vmax) {
                    lo[d] = hi[d] = vmin;
                    continue;
                }
                const T split = pt.mid == b
                                    ? std::nextafter(vmin, std::numeric_limits<T>::infinity())
                                    : vmax;
                pt    = partition_into(r, rows(other(spare)), b, e, d, split);
                spare = other(spare);
            }
            return {d, pt.mid, pt.front_max, pt.back_min};
        }
    }

    bool uses_box(int depth) const { return rule_ == SplitRule::midpoint && depth <= depth_cap_; }

    // Splits [b, e) (rows in the buffer `spare` names; on return, the buffer
    // holding the children's rows), or says it is a leaf.
    Split split_node(std::int64_t b, std::int64_t e, int depth, T* box, int& spare,
                     Scratch& s) const {
        if(e - b <= leafsize_) {
            return {-1, 0, T(0), T(0)};
        }
        if(uses_box(depth)) {
            return midpoint_split(b, e, box, box + m_, spare);
        }
        return median_split(b, e, depth, spare, s);
    }

    // A leaf's rows must end in the main buffer.
    void settle_leaf(std::int64_t b, std::int64_t e, int spare) const {
        if(spare == in_main) {
            return;
        }
        const Rows src = rows(spare);
        std::copy(src.p + b * m_, src.p + e * m_, main_.p + b * m_);
        for(std::int64_t i = b; i < e; ++i) {
            main_.id[i] = src.id != nullptr ? src.id[i] : static_cast<I>(i);
        }
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
    // Appends the box of rows [b, e) of the main buffer; returns its number.
    std::int64_t add_leaf_box(std::int64_t b, std::int64_t e, std::vector<T>& boxes) const {
        const auto at = static_cast<std::int64_t>(boxes.size()) / (2 * m_);
        boxes.resize(boxes.size() + static_cast<std::size_t>(2 * m_));
        T* box = boxes.data() + at * 2 * m_;
        bounds(main_, b, e, box, box + m_);
        return at;
    }

    // Leaves get their exact box (appended to boxes; the leaf's `left` is its
    // position there) while their rows are hot in cache.
    std::int64_t build_subtree(std::int64_t b, std::int64_t e, int depth, T* box, int spare,
                               std::vector<NodeT>& out, std::vector<T>& boxes,
                               Scratch& scratch) const {
        const Split s          = split_node(b, e, depth, box, spare, scratch);
        const std::int64_t idx = static_cast<std::int64_t>(out.size());
        out.push_back(leaf(b, e));
        if(s.dim < 0) {
            settle_leaf(b, e, spare);
            out.back().left = static_cast<I>(add_leaf_box(b, e, boxes));
            return idx;
        }
        T* cbox = nullptr;
        if(uses_box(depth + 1)) {
            cbox = scratch.boxes.data() + 2 * m_ * (depth + 1);
            child_box(box, s, true, cbox);
        }
        const std::int64_t l = build_subtree(b, s.mid, depth + 1, cbox, spare, out, boxes, scratch);
        if(cbox != nullptr) {
            child_box(box, s, false, cbox);
        }
        const std::int64_t r = build_subtree(s.mid, e, depth + 1, cbox, spare, out, boxes, scratch);
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
        // Subtrees of at most this many points are built whole, one per task:
        // about 8 tasks after 3 levels split node by node (the first alone).
        // Few parallel regions matter on a busy machine, where each one can
        // wait for a descheduled thread; small trees are built by one thread.
        const std::int64_t task_size = std::max<std::int64_t>(n_ / 8, std::int64_t{1} << 13);
        if(n_ < (std::int64_t{1} << 15)) {
            n_threads = 1;
        }
        const int depths             = rule_ == SplitRule::midpoint ? depth_cap_ + 1 : 0;
        nodes_.push_back(leaf(0, n_));
        std::vector<T> root_box(lo_);
        root_box.insert(root_box.end(), hi_.begin(), hi_.end());
        std::vector<Pending> frontier{{0, n_, 0, 0, in_input, root_box}};
        std::vector<Pending> tasks;
        std::vector<std::int64_t> big_leaves;
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
                                          big[k].spare, scratch[k]);
                if(splits[k].dim < 0) {
                    settle_leaf(big[k].b, big[k].e, big[k].spare);
                }
            });
            frontier.clear();
            for(std::size_t k = 0; k < big.size(); ++k) {
                const Split& s   = splits[k];
                const Pending& p = big[k];
                if(s.dim < 0) {
                    big_leaves.push_back(p.node); // stays a leaf (copies of one point)
                    continue;
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
                frontier.push_back({p.b, s.mid, p.depth + 1, l, p.spare, std::move(lbox)});
                frontier.push_back({s.mid, p.e, p.depth + 1, l + 1, p.spare, std::move(rbox)});
            }
        }
        // Whole subtrees, handed out one at a time (midpoint subtrees differ in size).
        std::vector<std::vector<NodeT>> sub(tasks.size());
        std::vector<std::vector<T>> sub_boxes(tasks.size());
        std::vector<Scratch> scratch(tasks.size(), Scratch(m_, depths));
        run_guarded(static_cast<std::int64_t>(tasks.size()), n_threads, [&](std::int64_t t) {
            const auto k = static_cast<std::size_t>(t);
            T* box       = nullptr;
            if(uses_box(tasks[k].depth)) {
                box = scratch[k].boxes.data() + 2 * m_ * tasks[k].depth;
                std::copy(tasks[k].box.begin(), tasks[k].box.end(), box);
            }
            build_subtree(tasks[k].b, tasks[k].e, tasks[k].depth, box, tasks[k].spare, sub[k],
                          sub_boxes[k], scratch[k]);
        });
        // Append each subtree: its root replaces the placeholder node, the
        // rest follow in their depth-first order.
        for(std::size_t k = 0; k < tasks.size(); ++k) {
            const std::vector<NodeT>& s = sub[k];
            const auto base             = static_cast<std::int64_t>(nodes_.size()) - 1;
            const auto box_base         = static_cast<std::int64_t>(leaf_boxes_.size()) / (2 * m_);
            leaf_boxes_.insert(leaf_boxes_.end(), sub_boxes[k].begin(), sub_boxes[k].end());
            auto remap = [&](NodeT nd) {
                if(nd.dim >= 0) {
                    nd.left  = static_cast<I>(base + static_cast<std::int64_t>(nd.left));
                    nd.right = static_cast<I>(base + static_cast<std::int64_t>(nd.right));
                } else {
                    nd.left = static_cast<I>(box_base + static_cast<std::int64_t>(nd.left));
                }
                return nd;
            };
            nodes_[static_cast<std::size_t>(tasks[k].node)] = remap(s[0]);
            for(std::size_t j = 1; j < s.size(); ++j) {
                nodes_.push_back(remap(s[j]));
            }
        }
        for(const std::int64_t k : big_leaves) {
            NodeT& nd = nodes_[static_cast<std::size_t>(k)];
            nd.left   = static_cast<I>(add_leaf_box(static_cast<std::int64_t>(nd.start),
                                                    static_cast<std::int64_t>(nd.end), leaf_boxes_));
        }
    }

    std::int64_t n_, m_, leafsize_;
    SplitRule rule_;
    int depth_cap_ = 0; // deeper nodes: the median rule, with exact medians (bounded depth)
    Buffer<T> pts_;
    Buffer<I> ids_;
    Rows main_{nullptr, nullptr};
    Rows spare_{nullptr, nullptr}; // only during the build
    Rows input_{nullptr, nullptr}; // only during the build
    std::vector<T> lo_, hi_;
    std::vector<NodeT> nodes_;
    std::vector<T> leaf_boxes_;
};

} // namespace npk::neighbors
