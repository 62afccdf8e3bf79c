#pragma once
// conv2d forward: Y = W · cols per image and group, cols built by im2col one
// tile of output rows at a time, so the scratch memory is bounded (about
// tile_bytes per thread) whatever the batch size. 1x1 stride-1 convolutions
// use the image itself as the column matrix (no im2col).
//
// Threads: each (image, row tile) unit is one task for our threads, and each
// task makes single-threaded BLAS calls (the Python layer holds SciPy's BLAS
// pool at one thread meanwhile), so no threaded BLAS runs inside an OpenMP
// region. A unit computes the same thing whichever thread runs it, so the
// result does not depend on the thread count. The other design — units in
// order, columns built in parallel, one threaded BLAS call per group between
// the parallel regions — was measured on this 2-core machine and rejected:
// 1.3-5 GFLOP/s at 2 threads against 27-130 for this one in the same run, as
// libgomp's idle workers spin after every im2col region and starve the BLAS
// pool's threads (and at 1 thread the two are equal).

#include <algorithm>
#include <cstdint>

#include "npkernels/blas.hpp"
#include "npkernels/buffer.hpp"
#include "npkernels/conv/depthwise.hpp"
#include "npkernels/conv/im2col.hpp"
#include "npkernels/parallel.hpp"
#include "npkernels/conv/winograd.hpp"

namespace npk::conv {

// Scratch per column buffer (and per thread): 512 KiB, so a tile of columns
// stays in L2 between im2col writing it and the BLAS reading it (measured side
// by side with torch as the yardstick: the 3x3 and 7x7 forwards of the issue's
// shapes ran ~1.4x faster than with 4 MiB tiles) — but never fewer than
// min_tile_cols columns, below which a BLAS call loses efficiency.
inline constexpr std::int64_t tile_bytes    = std::int64_t{512} << 10;
inline constexpr std::int64_t min_tile_cols = 256;
// Pointwise convolutions have no column buffer to keep in cache, so their
// tiles are as large as leaves at least this many (image, tile) units over the
// batch: whole images from a batch of 8 up (on (8,256,56,56->64) 8-11% faster
// forward, 5% backward, than 512 KiB tiles), 8 tiles of one image.
inline constexpr std::int64_t min_pointwise_units = 8;

// Below this many flops per thread a parallel region costs more than it saves
// (and on a busy machine a thread may wait a whole scheduler tick for its core).
inline constexpr double min_flops_per_thread = 32e6;

// The batch, groups and output channels around one image's Geometry, and the
// row tiling shared by the forward and backward passes.
struct Conv {
    std::int64_t batch, groups, out_channels;
    Geometry g;

    std::int64_t in_per_group() const { return g.channels / groups; }
    std::int64_t out_per_group() const { return out_channels / groups; }
    // Rows of the per-group column matrix: (C/groups)*kH*kW.
    std::int64_t col_rows() const { return in_per_group() * g.kernel_area(); }
    std::int64_t weight_size() const { return out_channels * col_rows(); }

    template <class T>
    std::int64_t tile_rows() const {
        if(g.is_pointwise()) {
            const std::int64_t per_image =
                (min_pointwise_units + batch - 1) / std::max<std::int64_t>(batch, 1);
            return std::clamp<std::int64_t>((g.out_h + per_image - 1) / per_image, 1,
                                            std::max<std::int64_t>(g.out_h, 1));
        }
        const std::int64_t per_row = std::max<std::int64_t>(1, col_rows() * g.out_w);
        const std::int64_t by_bytes = tile_bytes / static_cast<std::int64_t>(sizeof(T)) / per_row;
        const std::int64_t by_cols  = (min_tile_cols + g.out_w - 1) / std::max<std::int64_t>(g.out_w, 1);
        return std::clamp<std::int64_t>(std::max(by_bytes, by_cols), 1,
                                        std::max<std::int64_t>(g.out_h, 1));
    }
    template <class T>
    std::int64_t n_tiles() const {
        const std::int64_t r = tile_rows<T>();
        return (g.out_h + r - 1) / r;
    }
    template <class T>
    std::int64_t buffer_size() const {
        return g.is_pointwise() ? 0 : col_rows() * tile_rows<T>() * g.out_w;
    }
    // The threads worth using for a pass of `passes` products of this size.
    int threads_for(int n_threads, double passes = 1.0) const {
        const double flops = 2.0 * passes * static_cast<double>(batch) * static_cast<double>(out_channels)
                             * static_cast<double>(col_rows()) * static_cast<double>(g.out_area());
        const double useful = std::max(1.0, flops / min_flops_per_thread);
        return static_cast<int>(std::min<double>(std::max(n_threads, 1), useful));
    }
    // The threads worth using for a pass that touches every input and output
    // value once or so: the direct depthwise kernels, bound by memory, not by
    // flops (a stride-2 3x3 depthwise layer has too few flops for threads_for
    // to wake a second thread, but 8 million values to move).
    int threads_for_values(int n_threads) const {
        return npk::threads_for(batch * (g.channels * g.in_area() + out_channels * g.out_area()),
                                n_threads);
    }
    // Every leading dimension a BLAS call will see fits in an int.
    template <class T>
    bool fits_blas() const {
        return blas::fits_int(g.out_area()) && blas::fits_int(g.in_area())
               && blas::fits_int(std::max<std::int64_t>(col_rows(), 1))
               && blas::fits_int(tile_rows<T>() * g.out_w);
    }
};

// One tile of output rows [r0, r1) of one image.
struct Tile {
    std::int64_t r0, r1, cols; // cols = (r1 - r0) * out_w
};

template <class T>
Tile tile_of(const Conv& cv, std::int64_t t) {
    const std::int64_t r  = cv.tile_rows<T>();
    const std::int64_t r0 = t * r, r1 = std::min(cv.g.out_h, r0 + r);
    return {r0, r1, (r1 - r0) * cv.g.out_w};
}

// The column matrix of group grp of image img (C, H, W) for tile t: the image
// itself when pointwise (row stride H*W), else im2col into buf (stride t.cols).
// Returns the pointer and sets ld.
template <class T>
const T* tile_columns(const Conv& cv, const T* img, std::int64_t grp, const Tile& t, T* buf,
                      std::int64_t& ld) {
    const std::int64_t cg = cv.in_per_group();
    if(cv.g.is_pointwise()) {
        ld = cv.g.in_area();
        return img + grp * cg * cv.g.in_area() + t.r0 * cv.g.out_w;
    }
    ld = t.cols;
    im2col_tile(img, cv.g, grp * cg, (grp + 1) * cg, t.r0, t.r1, buf, ld);
    return buf;
}

// Calls fn(unit, scratch) for every unit in [0, units), units handed out one
// at a time to whichever thread is free (robust to a busy core), scratch being
// that thread's `scratch_size` elements (allocated here, before the parallel
// region).
template <class T, class Fn>
void parallel_with_scratch(std::int64_t units, std::int64_t scratch_size, int n_threads, Fn&& fn) {
    const int workers = dynamic_workers(units, n_threads);
    Buffer<T> scratch = uninitialized_buffer<T>(workers * scratch_size);
    parallel_dynamic_with_worker(units, workers, [&](std::int64_t u, int worker) {
        fn(u, scratch.get() + worker * scratch_size);
    });
}

// Whether cv is a 3x3 stride-1 dilation-1 convolution with enough channels per
// group (both ways) for the Winograd path's 16 products.
inline bool winograd_shape(const Conv& cv) {
    const Geometry& g = cv.g;
    return g.kernel_h == 3 && g.kernel_w == 3 && g.stride_h == 1 && g.stride_w == 1
           && g.dilation_h == 1 && g.dilation_w == 1 && cv.in_per_group() >= winograd_min_channels
           && cv.out_per_group() >= winograd_min_channels && g.out_area() > 0;
}

// Whether cv takes the depthwise kernels (depthwise.hpp): one input channel
// per group, at most depthwise_max_multiplier output channels per group.
inline bool depthwise_shape(const Conv& cv) {
    return cv.in_per_group() == 1 && cv.out_per_group() <= depthwise_max_multiplier
           && cv.g.out_area() > 0;
}

// The forward convolution of cv as Winograd tiles see it, tile size m
// (0: winograd_tile_size's rule).
template <class T>
Winograd winograd_forward_of(const Conv& cv, std::int64_t m = 0) {
    const Geometry& g = cv.g;
    const std::int64_t cg = cv.in_per_group(), og = cv.out_per_group();
    return {cv.batch, cv.groups, cg,      og,      g.in_h,  g.in_w,
            g.pad_h,  g.pad_w,   g.out_h, g.out_w,
            m != 0 ? m : winograd_tile_size<T>(cg, og, g.out_h, g.out_w)};
}

// Its input gradient: grad_output convolved with the flipped, transposed
// filters, padding 2 - pad (so each input pixel sees the outputs whose
// windows cover it).
template <class T>
Winograd winograd_input_grad_of(const Conv& cv) {
    const Geometry& g = cv.g;
    const std::int64_t cg = cv.out_per_group(), og = cv.in_per_group();
    return {cv.batch,    cv.groups,   cg,     og,     g.out_h,
            g.out_w,     2 - g.pad_h, 2 - g.pad_w, g.in_h, g.in_w,
            winograd_tile_size<T>(cg, og, g.in_h, g.in_w)};
}

// The Winograd convolution wg of x with the filters w (adjoint: w is the
// forward weight of the convolution whose input gradient this is).
template <class T>
bool winograd_run(const T* x, const T* w, bool adjoint, const T* bias, const Winograd& wg,
                  blas::GemmFn<T> gemm, T* y, int n_threads) {
    LargeBuffer<T> u = large_uninitialized_buffer<T>(wg.weight_size());
    winograd_weights(w, wg, adjoint, u.get(), n_threads);
    return winograd_conv(x, u.get(), bias, wg, gemm, y, n_threads);
}

// y (N, O, Ho, Wo) = conv2d(x (N, C, H, W), w (O, C/groups, kH, kW)) + bias
// (O,) or nullptr. Returns false, computing nothing, when a matrix dimension
// does not fit BLAS's int (the caller checks Conv::fits_blas first).
template <class T>
bool conv2d_forward(const T* x, const T* w, const T* bias, const Conv& cv,
                    blas::GemmFn<T> gemm, T* y, int n_threads) {
    if(!cv.fits_blas<T>()) {
        return false;
    }
    const Geometry& g     = cv.g;
    const std::int64_t og = cv.out_per_group(), kdim = cv.col_rows(), l = g.out_area();
    const std::int64_t tiles = cv.n_tiles<T>(), units = cv.batch * tiles;
    if(depthwise_shape(cv)) {
        depthwise_forward(x, w, bias, cv.batch, cv.out_channels, g, y,
                          cv.threads_for_values(n_threads));
        return true;
    }
    if(winograd_shape(cv) && all_finite(x, cv.batch * g.channels * g.in_area(), n_threads)
       && all_finite(w, cv.weight_size(), n_threads)) {
        return winograd_run<T>(x, w, false, bias, winograd_forward_of<T>(cv), gemm, y,
                               cv.threads_for(n_threads));
    }

    // Image and tile of one unit, for group grp: the product into y.
    auto product = [&](std::int64_t i, const Tile& t, std::int64_t grp, const T* cols,
                       std::int64_t ld) {
        blas::gemm<T>(gemm, false, false, og, t.cols, kdim, T(1), w + grp * og * kdim, kdim, cols,
                      ld, T(0), y + (i * cv.out_channels + grp * og) * l + t.r0 * g.out_w, l);
    };
    auto add_bias = [&](std::int64_t i, const Tile& t) {
        if(bias == nullptr) {
            return;
        }
        for(std::int64_t o = 0; o < cv.out_channels; ++o) {
            T* row     = y + (i * cv.out_channels + o) * l + t.r0 * g.out_w;
            const T b  = bias[o];
            for(std::int64_t j = 0; j < t.cols; ++j) {
                row[j] += b;
            }
        }
    };

    parallel_with_scratch<T>(units, cv.buffer_size<T>(), cv.threads_for(n_threads),
                             [&](std::int64_t u, T* buf) {
        const std::int64_t i = u / tiles;
        const Tile t         = tile_of<T>(cv, u % tiles);
        const T* img         = x + i * g.channels * g.in_area();
        for(std::int64_t grp = 0; grp < cv.groups; ++grp) {
            std::int64_t ld = 0;
            const T* cols   = tile_columns(cv, img, grp, t, buf, ld);
            product(i, t, grp, cols, ld);
        }
        add_bias(i, t);
    });
    return true;
}

} // namespace npk::conv
