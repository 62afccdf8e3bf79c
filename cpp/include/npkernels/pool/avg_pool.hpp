#pragma once
// Average pooling forward and backward with ATen's cpu_avg_pool rules: the sum
// of the window's in-bounds taps, accumulated from 0 in row-major order, divided
// by divisor_override, or the window size clipped to the padded input
// (count_include_pad) or to the input. An empty window gives 0. The backward
// adds grad / divisor over the same window, in output order (ATen's order).
// lp_pool reuses these sums.

#include <cstdint>

#include "npkernels/pool/pool_shape.hpp"
#include "npkernels/simd.hpp"

namespace npk::pool {

struct AvgOptions {
    bool count_include_pad;
    std::int64_t divisor_override; // 0 = none
};

namespace detail {

inline std::int64_t avg_divisor(const AvgSpan& hs, const AvgSpan& ws, const AvgOptions& opt) {
    if(opt.divisor_override != 0) {
        return opt.divisor_override;
    }
    if(opt.count_include_pad) {
        return hs.padded * ws.padded;
    }
    return (hs.stop - hs.start) * (ws.stop - ws.start);
}

template <class T>
inline T window_sum(const T* xp, std::int64_t width, const AvgSpan& hs, const AvgSpan& ws) {
    T sum = T(0);
    for(std::int64_t ih = hs.start; ih < hs.stop; ++ih) {
        for(std::int64_t iw = ws.start; iw < ws.stop; ++iw) {
            sum += xp[ih * width + iw];
        }
    }
    return sum;
}

// y[ow] = (0 + taps of the KH x KW window at x0 + ow*SW, row-major) / d, ow in [lo, hi).
template <class T, int KH, int KW, int SW>
NPK_CLONES void avg_row_fixed(const T* x0, std::int64_t width, std::int64_t lo, std::int64_t hi,
                              T d,
                   T* y) {
    for(std::int64_t ow = lo; ow < hi; ++ow) {
        const T* p = x0 + ow * SW;
        T sum      = T(0);
        for(int r = 0; r < KH; ++r) {
            for(int j = 0; j < KW; ++j) {
                sum += p[r * width + j];
            }
        }
        y[ow] = sum / d;
    }
}

template <class T>
using AvgRowFn = void (*)(const T*, std::int64_t, std::int64_t, std::int64_t, T, T*);

template <class T>
AvgRowFn<T> fixed_avg_row(const Geometry& g) {
    if(g.h.kernel != g.w.kernel) {
        return nullptr;
    }
    const std::int64_t k = g.w.kernel, s = g.w.stride;
    if(k == 2 && s == 2) return &avg_row_fixed<T, 2, 2, 2>;
    if(k == 3 && s == 2) return &avg_row_fixed<T, 3, 3, 2>;
    if(k == 3 && s == 1) return &avg_row_fixed<T, 3, 3, 1>;
    if(k == 2 && s == 1) return &avg_row_fixed<T, 2, 2, 1>;
    return nullptr;
}

template <class T>
void avg_plane(const T* xp, const Geometry& g, const AvgOptions& opt, AvgRowFn<T> fixed, T* yp) {
    const Range rows = interior(g.h), cols = interior(g.w);
    const std::int64_t width = g.w.size;
    for(std::int64_t oh = 0; oh < g.h.out; ++oh) {
        T* y            = yp + oh * g.w.out;
        const AvgSpan hs = avg_span(g.h, oh);
        const bool fast = fixed != nullptr && oh >= rows.begin && oh < rows.end
                          && cols.begin < cols.end;
        for(std::int64_t ow = 0; ow < g.w.out; ++ow) {
            if(fast && ow == cols.begin) {
                ow = cols.end - 1;
                continue;
            }
            const AvgSpan ws = avg_span(g.w, ow);
            const bool empty = hs.start >= hs.stop || ws.start >= ws.stop;
            const T divisor  = static_cast<T>(avg_divisor(hs, ws, opt));
            y[ow]            = empty ? T(0) : window_sum(xp, width, hs, ws) / divisor;
        }
        if(fast) { // interior windows: full kernel, divisor kH*kW unless overridden
            const AvgSpan ws = avg_span(g.w, cols.begin);
            // Window of ow starts at column ow*sW - pW of row hs.start.
            fixed(xp + hs.start * width - g.w.pad, width, cols.begin, cols.end,
                  static_cast<T>(avg_divisor(hs, ws, opt)), y);
        }
    }
}

} // namespace detail

// x: planes x H x W -> y: planes x oH x oW.
template <class T>
void avg_pool2d_forward(const T* x, const Geometry& g, const AvgOptions& opt, T* y,
                        int n_threads) {
    const detail::AvgRowFn<T> fixed = detail::fixed_avg_row<T>(g);
    const int parts = plane_parts(g.planes, n_threads, g.in_plane() + g.out_plane());
    for_each_plane(g.planes, parts, [&](std::int64_t plane, std::int64_t) {
        detail::avg_plane(x + plane * g.in_plane(), g, opt, fixed, y + plane * g.out_plane());
    });
}

namespace detail {

// row[ow*SW + j] += delta[ow] for j < KW, ow in [lo, hi) (row already offset by -pW),
// in ow order: the order ATen adds in.
template <class T, int KW, int SW>
NPK_CLONES void spread_row_fixed(const T* delta, std::int64_t lo, std::int64_t hi, T* row) {
    for(std::int64_t ow = lo; ow < hi; ++ow) {
        const T d = delta[ow];
        T* q      = row + ow * SW;
        for(int j = 0; j < KW; ++j) {
            q[j] += d;
        }
    }
}

template <class T>
using SpreadFn = void (*)(const T*, std::int64_t, std::int64_t, T*);

template <class T>
SpreadFn<T> fixed_spread(const Axis& w) {
    if(w.kernel == 2 && w.stride == 2) return &spread_row_fixed<T, 2, 2>;
    if(w.kernel == 3 && w.stride == 2) return &spread_row_fixed<T, 3, 2>;
    if(w.kernel == 3 && w.stride == 1) return &spread_row_fixed<T, 3, 1>;
    if(w.kernel == 2 && w.stride == 1) return &spread_row_fixed<T, 2, 1>;
    return nullptr;
}

// delta[ow] = go[ow] / divisor of window (hs, ow): the interior columns share
// one divisor, so their quotients are one vectorised loop (same divisions).
template <class T>
NPK_CLONES void row_deltas(const T* go, const Axis& w, const Range& cols, const AvgSpan& hs,
                           const AvgOptions& opt, T* delta) {
    const auto divide = [&](std::int64_t ow) {
        delta[ow] = go[ow] / static_cast<T>(avg_divisor(hs, avg_span(w, ow), opt));
    };
    for(std::int64_t ow = 0; ow < std::min(cols.begin, w.out); ++ow) {
        divide(ow);
    }
    if(cols.begin < cols.end) {
        const T divisor = static_cast<T>(avg_divisor(hs, avg_span(w, cols.begin), opt));
        for(std::int64_t ow = cols.begin; ow < cols.end; ++ow) {
            delta[ow] = go[ow] / divisor;
        }
    }
    for(std::int64_t ow = std::max(cols.begin, cols.end); ow < w.out; ++ow) {
        divide(ow);
    }
}

} // namespace detail

// grad_input = sum over the windows holding each input of grad_output / divisor,
// added in output order (rows of windows, then columns), as ATen does.
template <class T>
void avg_pool2d_backward(const T* grad_output, const Geometry& g, const AvgOptions& opt,
                         T* grad_input, int n_threads) {
    const std::int64_t width = g.w.size;
    const Range cols = interior(g.w);
    const detail::SpreadFn<T> fixed = detail::fixed_spread<T>(g.w);
    const int parts   = plane_parts(g.planes, n_threads, g.in_plane() + g.out_plane());
    const std::int64_t stride = worker_stride<T>(g.w.out);
    Buffer<T> scratch = uninitialized_buffer<T>(stride * parts);
    scatter_planes(g.planes, g.in_plane(), parts, grad_input, [&](std::int64_t plane,
                                                                  std::int64_t part, T* gi) {
        T* delta    = scratch.get() + part * stride;
        const T* go = grad_output + plane * g.out_plane();
        for(std::int64_t oh = 0; oh < g.h.out; ++oh) {
            const AvgSpan hs = avg_span(g.h, oh);
            detail::row_deltas(go + oh * g.w.out, g.w, cols, hs, opt, delta);
            for(std::int64_t ih = hs.start; ih < hs.stop; ++ih) {
                T* row = gi + ih * width;
                // Column order within a row matters only where windows overlap, and
                // there both paths add in ow order.
                for(std::int64_t ow = 0; ow < g.w.out; ++ow) {
                    if(fixed != nullptr && ow == cols.begin && cols.begin < cols.end) {
                        fixed(delta, cols.begin, cols.end, row - g.w.pad);
                        ow = cols.end - 1;
                        continue;
                    }
                    const AvgSpan ws = avg_span(g.w, ow);
                    const T d        = delta[ow];
                    for(std::int64_t iw = ws.start; iw < ws.stop; ++iw) {
                        row[iw] += d;
                    }
                }
            }
        }
        return true;
    });
}

} // namespace npk::pool
