#pragma once
// Depthwise convolutions (one input channel per group: C/groups == 1, any
// stride, padding, dilation, kernel size) without BLAS: as matrix products
// they would be M = O/groups (usually 1) products, all overhead. Here each
// output plane is a sum of kH*kW shifted, scaled rows of its input plane:
//   y[oy, ox] = b + sum over (kh, kw) in order of w[kh, kw] * x[oy*sH - pH + kh*dH, ox*sW - pW + kw*dW]
// vectorised along the output row (the taps' valid column span found once per
// tap), the taps added in the fixed order (kh, kw). Threads:
//  - forward: one thread per (image, output channel) plane;
//  - grad_input: one thread per (image, input channel) plane, which adds the
//    taps of its O/groups output channels in the order (o, oy, kh, kw);
//  - grad_weight: one thread per output channel; per tap a row of partial
//    sums (one per output column) runs over images and rows in order, then
//    the row is summed in double (simd::sum_in_double).
// Every result is written by one thread in an order fixed by the shapes, so
// it is bitwise the same for any thread count. Scratch: kH*kW*Wo values per
// thread for grad_weight; none otherwise.

#include <algorithm>
#include <cstdint>

#include "npkernels/buffer.hpp"
#include "npkernels/conv/im2col.hpp"
#include "npkernels/parallel.hpp"
#include "npkernels/simd.hpp"

namespace npk::conv {

// At most this many output channels per group (the channel multiplier) take
// the depthwise kernels; a larger multiplier is a real product, left to BLAS.
inline constexpr std::int64_t depthwise_max_multiplier = 8;

namespace detail {

// Planes per parallel chunk: enough outputs to pay for a thread hand-off.
inline std::int64_t depthwise_grain(std::int64_t plane_size) {
    return std::max<std::int64_t>(1, (std::int64_t{1} << 14) / std::max<std::int64_t>(plane_size, 1));
}

// out[ox] += wv * src[ox*sx + shift] for ox in [lo, hi).
template <class T>
inline void axpy_row(T* __restrict out, const T* __restrict src, T wv, std::int64_t lo,
                     std::int64_t hi, std::int64_t sx, std::int64_t shift) {
    if(sx == 1) {
        for(std::int64_t ox = lo; ox < hi; ++ox) {
            out[ox] += wv * src[ox + shift];
        }
    } else {
        for(std::int64_t ox = lo; ox < hi; ++ox) {
            out[ox] += wv * src[ox * sx + shift];
        }
    }
}

// One output element: b + the taps inside the image, in the order (kh, kw).
template <class T>
inline T depthwise_element(const T* plane, const T* w, T b, const Geometry& g, std::int64_t oy,
                           std::int64_t ox) {
    T acc = b;
    for(std::int64_t kh = 0; kh < g.kernel_h; ++kh) {
        const std::int64_t iy = oy * g.stride_h - g.pad_h + kh * g.dilation_h;
        if(iy < 0 || iy >= g.in_h) {
            continue;
        }
        for(std::int64_t kw = 0; kw < g.kernel_w; ++kw) {
            const std::int64_t ix = ox * g.stride_w - g.pad_w + kw * g.dilation_w;
            if(ix >= 0 && ix < g.in_w) {
                acc += w[kh * g.kernel_w + kw] * plane[iy * g.in_w + ix];
            }
        }
    }
    return acc;
}

// 3x3 taps, all inside the image, for ox in [lo, hi) of one output row: the
// three input rows r[kh] (from column ox*S + shift, taps dilation dw apart).
// One pass over the row with the 9 taps in the order (kh, kw).
template <int S, class T>
inline void depthwise3_run(T* __restrict out, const T* r0, const T* r1, const T* r2,
                           const T* w, T b, std::int64_t lo, std::int64_t hi, std::int64_t shift,
                           std::int64_t dw) {
    const T w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6],
            w7 = w[7], w8 = w[8];
    for(std::int64_t ox = lo; ox < hi; ++ox) {
        const std::int64_t i = ox * S + shift;
        T acc = b;
        acc += w0 * r0[i];
        acc += w1 * r0[i + dw];
        acc += w2 * r0[i + 2 * dw];
        acc += w3 * r1[i];
        acc += w4 * r1[i + dw];
        acc += w5 * r1[i + 2 * dw];
        acc += w6 * r2[i];
        acc += w7 * r2[i + dw];
        acc += w8 * r2[i + 2 * dw];
        out[ox] = acc;
    }
}

// The output plane of channel o of one image: y = b + sum of the taps, each
// element's taps added in the order (kh, kw) (skipping those outside the image).
// 3x3 kernels with column stride 1 or 2 take one fused pass per row where all
// 9 taps are inside; the rest adds the taps row by row.
template <class T>
NPK_CLONES void depthwise_plane(const T* plane, const T* w, T b, const Geometry& g, T* y) {
    const bool fused = g.kernel_h == 3 && g.kernel_w == 3 && (g.stride_w == 1 || g.stride_w == 2);
    const std::int64_t dw = g.dilation_w;
    for(std::int64_t oy = 0; oy < g.out_h; ++oy) {
        T* out = y + oy * g.out_w;
        const std::int64_t iy0 = oy * g.stride_h - g.pad_h;
        if(fused && iy0 >= 0 && iy0 + 2 * g.dilation_h < g.in_h) {
            const T* r0 = plane + iy0 * g.in_w;
            const T* r1 = r0 + g.dilation_h * g.in_w;
            const T* r2 = r1 + g.dilation_h * g.in_w;
            const std::int64_t lo = valid_span(g.out_w, g.in_w, g.stride_w, -g.pad_w).lo;
            const std::int64_t hi =
                std::max(lo, valid_span(g.out_w, g.in_w, g.stride_w, 2 * dw - g.pad_w).hi);
            for(std::int64_t ox = 0; ox < lo; ++ox) {
                out[ox] = depthwise_element(plane, w, b, g, oy, ox);
            }
            if(g.stride_w == 1) {
                depthwise3_run<1>(out, r0, r1, r2, w, b, lo, hi, -g.pad_w, dw);
            } else {
                depthwise3_run<2>(out, r0, r1, r2, w, b, lo, hi, -g.pad_w, dw);
            }
            for(std::int64_t ox = hi; ox < g.out_w; ++ox) {
                out[ox] = depthwise_element(plane, w, b, g, oy, ox);
            }
            continue;
        }
        std::fill(out, out + g.out_w, b);
        for(std::int64_t kh = 0; kh < g.kernel_h; ++kh) {
            const std::int64_t iy = iy0 + kh * g.dilation_h;
            if(iy < 0 || iy >= g.in_h) {
                continue;
            }
            const T* row = plane + iy * g.in_w;
            for(std::int64_t kw = 0; kw < g.kernel_w; ++kw) {
                const std::int64_t shift = kw * g.dilation_w - g.pad_w;
                const Span s = valid_span(g.out_w, g.in_w, g.stride_w, shift);
                axpy_row(out, row, w[kh * g.kernel_w + kw], s.lo, s.hi, g.stride_w, shift);
            }
        }
    }
}

// gi[ox*sx + shift] += wv * dy[ox] for ox in [lo, hi).
template <class T>
inline void scatter_row(T* __restrict gi, const T* __restrict dy, T wv, std::int64_t lo,
                        std::int64_t hi, std::int64_t sx, std::int64_t shift) {
    if(sx == 1) {
        for(std::int64_t ox = lo; ox < hi; ++ox) {
            gi[ox + shift] += wv * dy[ox];
        }
    } else if(sx == 2) { // a constant stride: the compiler can vectorise it
        for(std::int64_t ox = lo; ox < hi; ++ox) {
            gi[ox * 2 + shift] += wv * dy[ox];
        }
    } else {
        for(std::int64_t ox = lo; ox < hi; ++ox) {
            gi[ox * sx + shift] += wv * dy[ox];
        }
    }
}

// grad_input plane of input channel c of one image from the og output planes
// dy (consecutive, og*out_area values) and their filters w (og*kH*kW values).
template <class T>
NPK_CLONES void depthwise_input_grad_plane(const T* dy, const T* w, std::int64_t og,
                                           const Geometry& g, T* gi) {
    std::fill(gi, gi + g.in_area(), T(0));
    for(std::int64_t o = 0; o < og; ++o) {
        const T* d = dy + o * g.out_area();
        const T* f = w + o * g.kernel_area();
        for(std::int64_t oy = 0; oy < g.out_h; ++oy) {
            const T* drow = d + oy * g.out_w;
            for(std::int64_t kh = 0; kh < g.kernel_h; ++kh) {
                const std::int64_t iy = oy * g.stride_h - g.pad_h + kh * g.dilation_h;
                if(iy < 0 || iy >= g.in_h) {
                    continue;
                }
                T* row = gi + iy * g.in_w;
                for(std::int64_t kw = 0; kw < g.kernel_w; ++kw) {
                    const std::int64_t shift = kw * g.dilation_w - g.pad_w;
                    const Span s = valid_span(g.out_w, g.in_w, g.stride_w, shift);
                    scatter_row(row, drow, f[kh * g.kernel_w + kw], s.lo, s.hi, g.stride_w, shift);
                }
            }
        }
    }
}

// grad_weight (kH*kW values) of output channel o: acc (kH*kW*Wo scratch) gets
// per tap and output column the products over images (x planes `x`, stride
// x_stride; dy planes `dy`, stride dy_stride) and rows in order; then each
// tap's row is summed in double.
template <class T>
NPK_CLONES void depthwise_weight_grad_channel(const T* x, std::int64_t x_stride, const T* dy,
                                              std::int64_t dy_stride, std::int64_t batch,
                                              const Geometry& g, T* acc, T* gw) {
    const std::int64_t taps = g.kernel_area(), wo = g.out_w;
    std::fill(acc, acc + taps * wo, T(0));
    for(std::int64_t n = 0; n < batch; ++n) {
        const T* plane = x + n * x_stride;
        const T* d     = dy + n * dy_stride;
        for(std::int64_t oy = 0; oy < g.out_h; ++oy) {
            const T* drow = d + oy * wo;
            for(std::int64_t kh = 0; kh < g.kernel_h; ++kh) {
                const std::int64_t iy = oy * g.stride_h - g.pad_h + kh * g.dilation_h;
                if(iy < 0 || iy >= g.in_h) {
                    continue;
                }
                const T* row = plane + iy * g.in_w;
                for(std::int64_t kw = 0; kw < g.kernel_w; ++kw) {
                    const std::int64_t shift = kw * g.dilation_w - g.pad_w;
                    const Span s = valid_span(wo, g.in_w, g.stride_w, shift);
                    T* __restrict a    = acc + (kh * g.kernel_w + kw) * wo;
                    const std::int64_t sx = g.stride_w;
                    if(sx == 1) {
                        for(std::int64_t ox = s.lo; ox < s.hi; ++ox) {
                            a[ox] += drow[ox] * row[ox + shift];
                        }
                    } else if(sx == 2) { // a constant stride: deinterleaving loads
                        for(std::int64_t ox = s.lo; ox < s.hi; ++ox) {
                            a[ox] += drow[ox] * row[ox * 2 + shift];
                        }
                    } else {
                        for(std::int64_t ox = s.lo; ox < s.hi; ++ox) {
                            a[ox] += drow[ox] * row[ox * sx + shift];
                        }
                    }
                }
            }
        }
    }
    for(std::int64_t k = 0; k < taps; ++k) {
        gw[k] = static_cast<T>(simd::sum_in_double(acc + k * wo, wo));
    }
}

} // namespace detail

// y (N, O, Ho, Wo) = the depthwise convolution (g.channels groups of one
// input channel, O = out_channels a multiple of them) of x (N, C, H, W) with
// w (O, 1, kH, kW), plus bias (O,) or nullptr.
template <class T>
void depthwise_forward(const T* x, const T* w, const T* bias, std::int64_t batch,
                       std::int64_t out_channels, const Geometry& g, T* y, int n_threads) {
    const std::int64_t og = out_channels / g.channels, planes = batch * out_channels;
    parallel_for(planes, detail::depthwise_grain(g.out_area()), n_threads,
                 [&](std::int64_t p0, std::int64_t p1) {
        for(std::int64_t p = p0; p < p1; ++p) {
            const std::int64_t n = p / out_channels, o = p % out_channels;
            const T* plane = x + (n * g.channels + o / og) * g.in_area();
            detail::depthwise_plane(plane, w + o * g.kernel_area(),
                                    bias == nullptr ? T(0) : bias[o], g, y + p * g.out_area());
        }
    });
}

// grad_input (N, C, H, W) and/or grad_weight (O, 1, kH, kW) (either may be
// null) of that depthwise convolution, from dy (N, O, Ho, Wo), x (may be null
// without grad_weight) and w.
template <class T>
void depthwise_backward(const T* dy, const T* x, const T* w, std::int64_t batch,
                        std::int64_t out_channels, const Geometry& g, T* grad_input,
                        T* grad_weight, int n_threads) {
    const std::int64_t og = out_channels / g.channels;
    if(grad_input != nullptr) {
        const std::int64_t planes = batch * g.channels;
        parallel_for(planes, detail::depthwise_grain(g.in_area()), n_threads,
                     [&](std::int64_t p0, std::int64_t p1) {
            for(std::int64_t p = p0; p < p1; ++p) {
                const std::int64_t n = p / g.channels, c = p % g.channels;
                detail::depthwise_input_grad_plane(
                    dy + (n * out_channels + c * og) * g.out_area(),
                    w + c * og * g.kernel_area(), og, g, grad_input + p * g.in_area());
            }
        });
    }
    if(grad_weight != nullptr) {
        const std::int64_t scratch = g.kernel_area() * g.out_w;
        const int threads = useful_threads(out_channels, 1, n_threads);
        Buffer<T> buf = uninitialized_buffer<T>(threads * scratch);
        parallel_parts(threads, threads, [&](std::int64_t part) {
            const Range r = part_range(out_channels, part, threads);
            for(std::int64_t o = r.begin; o < r.end; ++o) {
                detail::depthwise_weight_grad_channel(
                    x + (o / og) * g.in_area(), g.channels * g.in_area(), dy + o * g.out_area(),
                    out_channels * g.out_area(), batch, g, buf.get() + part * scratch,
                    grad_weight + o * g.kernel_area());
            }
        });
    }
}

} // namespace npk::conv
