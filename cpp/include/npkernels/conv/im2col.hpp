#pragma once
// im2col / col2im (F.unfold / F.fold): the window unrolling that turns a
// convolution into a matrix product. Column-matrix row (c*kH + kh)*kW + kw,
// column oh*Wo + ow, as PyTorch. Every routine here works on one image and a
// range of channels and output rows, so callers can tile the column buffer
// (bounded memory) and split the work without two threads ever writing the
// same element.

#include <algorithm>
#include <cstdint>

#include "npkernels/parallel.hpp"

namespace npk::conv {

// Shapes and hyper-parameters of a 2-D convolution of one image. pad_h / pad_w
// are the top / left padding; the bottom / right padding is implied by out_h /
// out_w (so asymmetric 'same' padding needs nothing more).
struct Geometry {
    std::int64_t channels, in_h, in_w;
    std::int64_t kernel_h, kernel_w;
    std::int64_t stride_h, stride_w;
    std::int64_t pad_h, pad_w;
    std::int64_t dilation_h, dilation_w;
    std::int64_t out_h, out_w;

    std::int64_t kernel_area() const { return kernel_h * kernel_w; }
    std::int64_t in_area() const { return in_h * in_w; }
    std::int64_t out_area() const { return out_h * out_w; }
    // 1x1, stride 1, no padding: the image itself is the column matrix.
    bool is_pointwise() const {
        return kernel_h == 1 && kernel_w == 1 && stride_h == 1 && stride_w == 1 && pad_h == 0
               && pad_w == 0 && out_h == in_h && out_w == in_w;
    }
};

namespace detail {

// [lo, hi): the output positions o in [0, n_out) whose input position
// o*stride - pad + offset lies in [0, n_in).
struct Span {
    std::int64_t lo, hi;
};

inline Span valid_span(std::int64_t n_out, std::int64_t n_in, std::int64_t stride,
                       std::int64_t shift) {
    // need 0 <= o*stride + shift < n_in, shift = offset - pad
    std::int64_t lo = shift >= 0 ? 0 : (-shift + stride - 1) / stride;
    std::int64_t hi = n_in - shift <= 0 ? 0 : (n_in - shift - 1) / stride + 1;
    lo = std::min(lo, n_out);
    hi = std::clamp(hi, lo, n_out);
    return {lo, hi};
}

} // namespace detail

// Columns of channels [c0, c1) of one image x (C, H, W) for output rows
// [r0, r1): writes ((c1-c0)*kH*kW) rows of (r1-r0)*Wo values, row stride ld.
template <class T>
void im2col_tile(const T* x, const Geometry& g, std::int64_t c0, std::int64_t c1,
                 std::int64_t r0, std::int64_t r1, T* cols, std::int64_t ld) {
    const std::int64_t wo = g.out_w;
    for(std::int64_t c = c0; c < c1; ++c) {
        const T* plane = x + c * g.in_area();
        for(std::int64_t kh = 0; kh < g.kernel_h; ++kh) {
            for(std::int64_t kw = 0; kw < g.kernel_w; ++kw) {
                T* row = cols + (((c - c0) * g.kernel_h + kh) * g.kernel_w + kw) * ld;
                const std::int64_t shift_w = kw * g.dilation_w - g.pad_w;
                const detail::Span sw = detail::valid_span(wo, g.in_w, g.stride_w, shift_w);
                const std::int64_t sx = g.stride_w;
                for(std::int64_t oh = r0; oh < r1; ++oh) {
                    T* dst                = row + (oh - r0) * wo;
                    const std::int64_t ih = oh * g.stride_h - g.pad_h + kh * g.dilation_h;
                    if(ih < 0 || ih >= g.in_h) {
                        std::fill(dst, dst + wo, T(0));
                        continue;
                    }
                    const T* src = plane + ih * g.in_w; // x[ih, ow*sx + shift_w]
                    std::fill(dst, dst + sw.lo, T(0));
                    if(sx == 1) {
                        std::copy(src + sw.lo + shift_w, src + sw.hi + shift_w, dst + sw.lo);
                    } else {
                        for(std::int64_t ow = sw.lo; ow < sw.hi; ++ow) {
                            dst[ow] = src[ow * sx + shift_w];
                        }
                    }
                    std::fill(dst + sw.hi, dst + wo, T(0));
                }
            }
        }
    }
}

// The adjoint of im2col_tile: adds the columns back into channels [c0, c1) of
// one image (C, H, W), overlaps summed. Per input element the additions run
// in the order (kh, kw) outer, (oh, ow) inner, so the result is fixed.
template <class T>
void col2im_tile(const T* cols, std::int64_t ld, const Geometry& g, std::int64_t c0,
                 std::int64_t c1, std::int64_t r0, std::int64_t r1, T* x) {
    const std::int64_t wo = g.out_w;
    for(std::int64_t c = c0; c < c1; ++c) {
        T* plane = x + c * g.in_area();
        for(std::int64_t kh = 0; kh < g.kernel_h; ++kh) {
            for(std::int64_t kw = 0; kw < g.kernel_w; ++kw) {
                const T* row = cols + (((c - c0) * g.kernel_h + kh) * g.kernel_w + kw) * ld;
                const std::int64_t shift_w = kw * g.dilation_w - g.pad_w;
                const detail::Span sw = detail::valid_span(wo, g.in_w, g.stride_w, shift_w);
                const std::int64_t sx = g.stride_w;
                for(std::int64_t oh = r0; oh < r1; ++oh) {
                    const std::int64_t ih = oh * g.stride_h - g.pad_h + kh * g.dilation_h;
                    if(ih < 0 || ih >= g.in_h) {
                        continue;
                    }
                    const T* src = row + (oh - r0) * wo;
                    T* dst       = plane + ih * g.in_w; // x[ih, ow*sx + shift_w]
                    for(std::int64_t ow = sw.lo; ow < sw.hi; ++ow) {
                        dst[ow * sx + shift_w] += src[ow];
                    }
                }
            }
        }
    }
}

namespace detail {

// fn(image offset into x, offset into cols, channel) for every (image, channel)
// plane of a batch, in parallel: each plane is one image channel and its kH*kW
// rows of the column matrix (N, C*kH*kW, Ho*Wo), owned by one thread.
template <class Fn>
void for_each_plane(std::int64_t n, const Geometry& g, int n_threads, Fn&& fn) {
    const std::int64_t l = g.out_area(), rows = g.channels * g.kernel_area();
    parallel_for(n * g.channels, grain_for(g.in_area() + g.kernel_area() * l), n_threads, [&](std::int64_t b, std::int64_t e) {
        for(std::int64_t p = b; p < e; ++p) {
            const std::int64_t i = p / g.channels, c = p % g.channels;
            fn(i * g.channels * g.in_area(), (i * rows + c * g.kernel_area()) * l, c);
        }
    });
}

} // namespace detail

// F.unfold of a batch x (N, C, H, W) into cols (N, C*kH*kW, Ho*Wo).
template <class T>
void im2col(const T* x, std::int64_t n, const Geometry& g, T* cols, int n_threads) {
    detail::for_each_plane(n, g, n_threads, [&](std::int64_t xo, std::int64_t co, std::int64_t c) {
        im2col_tile(x + xo, g, c, c + 1, 0, g.out_h, cols + co, g.out_area());
    });
}

// F.fold of cols (N, C*kH*kW, Ho*Wo) into x (N, C, H, W): zero-filled, then
// overlaps summed, parallel over (image, channel) planes (each plane is
// written by one thread, in the fixed order of col2im_tile; no atomics).
template <class T>
void col2im(const T* cols, std::int64_t n, const Geometry& g, T* x, int n_threads) {
    detail::for_each_plane(n, g, n_threads, [&](std::int64_t xo, std::int64_t co, std::int64_t c) {
        T* img = x + xo;
        std::fill(img + c * g.in_area(), img + (c + 1) * g.in_area(), T(0));
        col2im_tile(cols + co, g.out_area(), g, c, c + 1, 0, g.out_h, img);
    });
}

} // namespace npk::conv
