#pragma once
// conv2d backward. Per image and row tile, with dY_t the tile of grad_output:
//   grad_input  += col2im(W_gᵀ · dY_t)        (pointwise: W_gᵀ · dY_t written in place)
//   grad_weight += dY_t · cols_tᵀ
//   grad_bias    = sum of dY over images and pixels
// Images are split into a fixed number of chunks (weight_chunks, never more
// than the batch), each chunk summing its own grad_weight partial in image and
// tile order; the partials are then added in chunk order. One thread owns each
// image of grad_input, so col2im needs no atomics. None of this depends on the
// thread count, so neither does the result.

#include <algorithm>
#include <cstdint>

#include "npkernels/blas.hpp"
#include "npkernels/buffer.hpp"
#include "npkernels/conv/conv2d.hpp"
#include "npkernels/conv/im2col.hpp"
#include "npkernels/parallel.hpp"
#include "npkernels/simd.hpp"

namespace npk::conv {

// Image chunks with their own grad_weight partial: the parallelism of the
// weight gradient, at the price of (chunks - 1) extra weight-sized buffers.
inline constexpr std::int64_t weight_chunks = 8;

// dy (N, O, Ho, Wo), x (N, C, H, W; may be null without grad_weight), w (O,
// C/groups, kH, kW). Each output pointer may be null (not computed):
// grad_input (N, C, H, W), grad_weight like w, grad_bias (O,). Single-threaded
// BLAS calls on our threads (the Python layer holds the BLAS at one thread).
// Returns false, computing nothing, when a size does not fit BLAS's int.
template <class T>
bool conv2d_backward(const T* dy, const T* x, const T* w, const Conv& cv, blas::GemmFn<T> gemm,
                     T* grad_input, T* grad_weight, T* grad_bias, int n_threads) {
    if(!cv.fits_blas<T>()) {
        return false;
    }
    const Geometry& g     = cv.g;
    const std::int64_t og = cv.out_per_group(), cg = cv.in_per_group(), kdim = cv.col_rows();
    const std::int64_t l = g.out_area(), hw = g.in_area(), n = cv.batch;
    const std::int64_t tiles = cv.n_tiles<T>(), wsize = cv.weight_size();
    const bool pointwise     = g.is_pointwise();

    // One input channel per group: the direct depthwise kernels.
    if(depthwise_shape(cv) && (grad_input != nullptr || grad_weight != nullptr)) {
        depthwise_backward(dy, x, w, n, cv.out_channels, g, grad_input, grad_weight,
                           cv.threads_for_values(n_threads));
        grad_input  = nullptr;
        grad_weight = nullptr;
    }

    // 3x3 stride 1: both gradients from Winograd tiles when the data are finite.
    if(winograd_shape(cv) && (grad_input != nullptr || grad_weight != nullptr)
       && all_finite(dy, n * cv.out_channels * l, n_threads)) {
        const int threads = cv.threads_for(n_threads);
        if(grad_input != nullptr && all_finite(w, wsize, n_threads)) {
            if(!winograd_run<T>(dy, w, true, static_cast<const T*>(nullptr),
                                winograd_input_grad_of<T>(cv), gemm, grad_input, threads)) {
                return false;
            }
            grad_input = nullptr;
        }
        if(grad_weight != nullptr && all_finite(x, n * g.channels * hw, n_threads)) {
            if(!winograd_weight_grad<T>(x, dy, winograd_forward_of<T>(cv, 2), gemm, grad_weight,
                                        threads)) {
                return false;
            }
            grad_weight = nullptr;
        }
    }

    if(grad_input != nullptr || grad_weight != nullptr) {
        // grad_weight needs a chunk per partial; grad_input alone parallelises over images.
        const std::int64_t chunks =
            grad_weight != nullptr ? std::min(n, weight_chunks) : n;
        Buffer<T> partials = uninitialized_buffer<T>(
            grad_weight != nullptr ? std::max<std::int64_t>(chunks - 1, 0) * wsize : 0);
        const std::int64_t bsize = cv.buffer_size<T>();
        const std::int64_t per_thread =
            (grad_weight != nullptr ? bsize : 0) + (grad_input != nullptr ? bsize : 0);

        const int threads = cv.threads_for(
            n_threads, (grad_weight != nullptr ? 1.0 : 0.0) + (grad_input != nullptr ? 1.0 : 0.0));
        parallel_with_scratch<T>(chunks, per_thread, threads, [&](std::int64_t chunk, T* scratch) {
            T* cols_buf  = scratch;
            T* dcols_buf = scratch + (grad_weight != nullptr ? bsize : 0);
            T* gw = grad_weight == nullptr ? nullptr
                    : chunk == 0         ? grad_weight
                                         : partials.get() + (chunk - 1) * wsize;
            bool started    = false;
            const Range imgs = part_range(n, chunk, chunks);
            for(std::int64_t i = imgs.begin; i < imgs.end; ++i) {
                T* gi = grad_input == nullptr ? nullptr : grad_input + i * g.channels * hw;
                if(gi != nullptr && !pointwise) {
                    std::fill(gi, gi + g.channels * hw, T(0));
                }
                for(std::int64_t ti = 0; ti < tiles; ++ti) {
                    const Tile t = tile_of<T>(cv, ti);
                    for(std::int64_t grp = 0; grp < cv.groups; ++grp) {
                        const T* dyt = dy + (i * cv.out_channels + grp * og) * l + t.r0 * g.out_w;
                        const T* wg  = w + grp * og * kdim;
                        if(gw != nullptr) {
                            std::int64_t ld = 0;
                            const T* cols =
                                tile_columns(cv, x + i * g.channels * hw, grp, t, cols_buf, ld);
                            blas::gemm<T>(gemm, false, true, og, kdim, t.cols, T(1), dyt, l,
                                          cols, ld, started ? T(1) : T(0), gw + grp * og * kdim,
                                          kdim);
                        }
                        if(gi != nullptr && pointwise) {
                            blas::gemm<T>(gemm, true, false, cg, t.cols, og, T(1), wg, kdim, dyt,
                                          l, T(0), gi + grp * cg * hw + t.r0 * g.out_w, hw);
                        } else if(gi != nullptr) {
                            blas::gemm<T>(gemm, true, false, kdim, t.cols, og, T(1), wg, kdim,
                                          dyt, l, T(0), dcols_buf, t.cols);
                            col2im_tile(dcols_buf, t.cols, g, grp * cg, (grp + 1) * cg, t.r0,
                                        t.r1, gi);
                        }
                    }
                    started = true;
                }
            }
        });

        if(grad_weight != nullptr && chunks == 0) {
            std::fill(grad_weight, grad_weight + wsize, T(0));
        }
        if(grad_weight != nullptr && chunks > 1) {
            parallel_for(wsize, 4096, n_threads, [&](std::int64_t b, std::int64_t e) {
                for(std::int64_t c = 1; c < chunks; ++c) {
                    const T* p = partials.get() + (c - 1) * wsize;
                    for(std::int64_t j = b; j < e; ++j) {
                        grad_weight[j] += p[j];
                    }
                }
            });
        }
    }

    if(grad_bias != nullptr) {
        // Each channel summed by one thread, in double: each image's plane
        // (simd::sum_in_double), the planes added in image order.
        parallel_for(cv.out_channels, grain_for(n * l), n_threads, [&](std::int64_t o0, std::int64_t o1) {
            for(std::int64_t o = o0; o < o1; ++o) {
                double s = 0.0;
                for(std::int64_t i = 0; i < n; ++i) {
                    s += simd::sum_in_double(dy + (i * cv.out_channels + o) * l, l);
                }
                grad_bias[o] = static_cast<T>(s);
            }
        });
    }
    return true;
}

} // namespace npk::conv
