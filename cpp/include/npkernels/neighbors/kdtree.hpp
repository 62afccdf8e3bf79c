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
    return parallel_find_first(count, std::int64_t{1} << 21, n_threads,
                               [x](std::int64_t i) { return !std::isfinite(x[i]); });
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

    // The top of the tree, split in parallel: slot h (heap numbering, root 1,
    // children 2h and 2h + 1) is either split further, or a subtree built
    // whole by one task. Slots are preallocated, so tasks only write their
    // own; the tree is then assembled serially in a fixed order, so any
    // thread count gives the same tree.
    static constexpr int top_depth = 6; // at most 64 subtrees

    struct Slot {
        std::int64_t b = 0, e = 0;
        int depth      = 0;
        int where      = in_input;
        bool split     = false; // else: sub holds the subtree
        Split s{-1, 0, T(0), T(0)};
        std::vector<T> box;        // the cell's box (midpoint rule)
        std::vector<NodeT> sub;    // the subtree, local indices
        std::vector<T> sub_boxes;  // its leaf boxes
        Scratch scratch;
        bool failed = false;
        Slot(std::int64_t m, int depths) : box(static_cast<std::size_t>(2 * m)), scratch(m, depths) {}
    };

    // Everything a task uses is passed by value (firstprivate): the frame
    // that spawned it may be gone when it runs.
    void grow(Slot* slots, std::size_t h, std::int64_t task_size) const {
        Slot& sl = slots[h];
        try {
            if(sl.e - sl.b > task_size && sl.depth < top_depth) {
                sl.s = split_node(sl.b, sl.e, sl.depth, sl.box.data(), sl.where, sl.scratch);
                if(sl.s.dim >= 0) {
                    sl.split = true;
                    for(std::size_t c = 0; c < 2; ++c) {
                        Slot& ch = slots[2 * h + c];
                        ch.b     = c == 0 ? sl.b : sl.s.mid;
                        ch.e     = c == 0 ? sl.s.mid : sl.e;
                        ch.depth = sl.depth + 1;
                        ch.where = sl.where;
                        if(uses_box(ch.depth)) {
                            child_box(sl.box.data(), sl.s, c == 0, ch.box.data());
                        }
                    }
#ifdef _OPENMP
#pragma omp task firstprivate(slots, h, task_size)
                    grow(slots, 2 * h, task_size);
#pragma omp task firstprivate(slots, h, task_size)
                    grow(slots, 2 * h + 1, task_size);
#else
                    grow(slots, 2 * h, task_size);
                    grow(slots, 2 * h + 1, task_size);
#endif
                    return;
                }
            }
            T* box = nullptr;
            if(uses_box(sl.depth)) {
                box = sl.scratch.boxes.data() + 2 * m_ * sl.depth;
                std::copy(sl.box.begin(), sl.box.end(), box);
            }
            build_subtree(sl.b, sl.e, sl.depth, box, sl.where, sl.sub, sl.sub_boxes, sl.scratch);
        } catch(...) {
            sl.failed = true; // bad_alloc, rethrown after the parallel region
        }
    }

    // Appends slot h's part of the tree to nodes_ (depth-first); returns its root.
    std::int64_t assemble(std::vector<Slot>& slots, std::size_t h) {
        Slot& sl = slots[h];
        if(sl.split) {
            const auto idx = static_cast<std::int64_t>(nodes_.size());
            nodes_.push_back(leaf(sl.b, sl.e));
            const std::int64_t l = assemble(slots, 2 * h);
            const std::int64_t r = assemble(slots, 2 * h + 1);
            NodeT& nd            = nodes_[static_cast<std::size_t>(idx)];
            nd.lo_max            = sl.s.lo_max;
            nd.hi_min            = sl.s.hi_min;
            nd.left              = static_cast<I>(l);
            nd.right             = static_cast<I>(r);
            nd.dim               = sl.s.dim;
            return idx;
        }
        const auto base     = static_cast<std::int64_t>(nodes_.size());
        const auto box_base = static_cast<std::int64_t>(leaf_boxes_.size()) / (2 * m_);
        leaf_boxes_.insert(leaf_boxes_.end(), sl.sub_boxes.begin(), sl.sub_boxes.end());
        for(NodeT nd : sl.sub) {
            if(nd.dim >= 0) {
                nd.left  = static_cast<I>(base + static_cast<std::int64_t>(nd.left));
                nd.right = static_cast<I>(base + static_cast<std::int64_t>(nd.right));
            } else {
                nd.left = static_cast<I>(box_base + static_cast<std::int64_t>(nd.left));
            }
            nodes_.push_back(nd);
        }
        std::vector<NodeT>().swap(sl.sub);
        return base;
    }

    void build(int n_threads) {
        // About 64 subtrees of n / 64 points each (the first splits alone),
        // handed out as OpenMP tasks in one parallel region: few regions
        // matter on a busy machine, where each can wait for a descheduled
        // thread, and small tasks bound that wait.
        const std::int64_t task_size = std::max<std::int64_t>(n_ / 64, std::int64_t{1} << 13);
        const int depths             = rule_ == SplitRule::midpoint ? depth_cap_ + 1 : 0;
        std::vector<Slot> slots;
        slots.reserve(std::size_t{2} << top_depth);
        for(std::size_t h = 0; h < (std::size_t{2} << top_depth); ++h) {
            slots.emplace_back(m_, depths);
        }
        Slot& root = slots[1];
        root.b     = 0;
        root.e     = n_;
        std::copy(lo_.begin(), lo_.end(), root.box.begin());
        std::copy(hi_.begin(), hi_.end(), root.box.begin() + m_);
        // Below 2^18 points one thread builds in ~10 ms: a second one gains a
        // few ms on an idle machine and loses more on a busy one (measured).
        const int threads = n_ < (std::int64_t{1} << 18) ? 1 : std::max(n_threads, 1);
        Slot* all = slots.data();
        if(threads == 1) {
            grow(all, 1, task_size);
        } else {
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
#pragma omp single
            grow(all, 1, task_size);
#else
            grow(all, 1, task_size);
#endif
        }
        for(const Slot& sl : slots) {
            if(sl.failed) {
                throw std::bad_alloc();
            }
        }
        std::size_t total = 0;
        for(const Slot& sl : slots) {
            total += sl.split ? 1 : sl.sub.size();
        }
        nodes_.reserve(total);
        assemble(slots, 1);
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
