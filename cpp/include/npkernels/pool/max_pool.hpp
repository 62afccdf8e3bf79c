#pragma once
// Max pooling forward (values, and optionally int64 argmax indices in each
// H*W plane) and backward (the gradient routed to the argmax), with ATen's
// rules: taps in row-major scan order, a tap wins when `v > max || isnan(v)`
// (so the first maximum wins and a NaN wins, the last NaN of the window
// giving the index), padding never read.
//
// Values-only forward on a NaN-free plane takes a vectorised path: there the
// rule is `v > m ? v : m`, which is associative over the scan order, so each
// window row is reduced with compile-time kernel widths and the rows combined
// in order, giving the exact same value (down to the sign of a zero).

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "npkernels/pool/pool_shape.hpp"

namespace npk::pool {

namespace detail {

template <class T>
inline T later_if_greater(T m, T v) { // the first maximum wins; no NaN here
    return v > m ? v : m;
}

template <class T>
bool plane_has_nan(const T* x, std::int64_t n) {
    bool nan = false;
    for(std::int64_t i = 0; i < n; ++i) {
        nan |= x[i] != x[i];
    }
    return nan;
}

// One window, exactly as ATen's cpu_max_pool: -inf start, index of the first tap.
template <class T>
inline T max_window(const T* xp, std::int64_t width, Taps rows, Taps cols, std::int64_t dh,
                    std::int64_t dw, std::int64_t& index) {
    T m              = -std::numeric_limits<T>::infinity();
    std::int64_t at  = rows.start * width + cols.start;
    for(std::int64_t ih = rows.start; ih < rows.stop; ih += dh) {
        const T* row = xp + ih * width;
        for(std::int64_t iw = cols.start; iw < cols.stop; iw += dw) {
            const T v = row[iw];
            if(v > m || std::isnan(v)) {
                m  = v;
                at = ih * width + iw;
            }
        }
    }
    index = at;
    return m;
}

template <class T>
void max_plane_exact(const T* xp, const Geometry& g, T* yp, std::int64_t* ip) {
    for(std::int64_t oh = 0; oh < g.h.out; ++oh) {
        const Taps rows = max_taps(g.h, oh);
        for(std::int64_t ow = 0; ow < g.w.out; ++ow) {
            std::int64_t index = 0;
            const std::int64_t o = oh * g.w.out + ow;
            yp[o] = max_window(xp, g.w.size, rows, max_taps(g.w, ow), g.h.dilation, g.w.dilation,
                               index);
            if(ip != nullptr) {
                ip[o] = index;
            }
        }
    }
}

// y[ow] = max over the KH x KW window at x0 + ow*SW (rows `row_step` apart), for
// ow in [lo, hi); KW, SW fixed so the loop vectorises with strided loads.
template <class T, int KH, int KW, int SW>
void max_row_fixed(const T* x0, std::int64_t row_step, std::int64_t lo, std::int64_t hi, T* y) {
    for(std::int64_t ow = lo; ow < hi; ++ow) {
        const T* p = x0 + ow * SW;
        T m        = p[0];
        for(int j = 1; j < KW; ++j) {
            m = later_if_greater(m, p[j]);
        }
        for(int r = 1; r < KH; ++r) {
            const T* q = p + r * row_step;
            for(int j = 0; j < KW; ++j) {
                m = later_if_greater(m, q[j]);
            }
        }
        y[ow] = m;
    }
}

// The same for any window: one pass per tap over the output row (kept in L1).
template <class T>
void max_row_any(const T* x0, std::int64_t row_step, const Geometry& g, std::int64_t lo,
                 std::int64_t hi, T* y) {
    const std::int64_t sw = g.w.stride, dw = g.w.dilation;
    for(std::int64_t ow = lo; ow < hi; ++ow) {
        y[ow] = x0[ow * sw];
    }
    for(std::int64_t r = 0; r < g.h.kernel; ++r) {
        const T* xr = x0 + r * row_step;
        for(std::int64_t j = r == 0 ? 1 : 0; j < g.w.kernel; ++j) {
            const T* xj = xr + j * dw;
            for(std::int64_t ow = lo; ow < hi; ++ow) {
                y[ow] = later_if_greater(y[ow], xj[ow * sw]);
            }
        }
    }
}

using MaxRowFn = void (*)(const void*, std::int64_t, std::int64_t, std::int64_t, void*);

template <class T, int KH, int KW, int SW>
void max_row_erased(const void* x0, std::int64_t step, std::int64_t lo, std::int64_t hi, void* y) {
    max_row_fixed<T, KH, KW, SW>(static_cast<const T*>(x0), step, lo, hi, static_cast<T*>(y));
}

// The compiled shapes (undilated): the common CNN pools; others use max_row_any.
template <class T>
MaxRowFn fixed_max_row(const Geometry& g) {
    if(g.h.dilation != 1 || g.w.dilation != 1 || g.h.kernel != g.w.kernel) {
        return nullptr;
    }
    const std::int64_t k = g.w.kernel, s = g.w.stride;
    if(k == 3 && s == 2) return &max_row_erased<T, 3, 3, 2>;
    if(k == 2 && s == 2) return &max_row_erased<T, 2, 2, 2>;
    if(k == 3 && s == 1) return &max_row_erased<T, 3, 3, 1>;
    if(k == 2 && s == 1) return &max_row_erased<T, 2, 2, 1>;
    return nullptr;
}

template <class T>
void max_plane_values(const T* xp, const Geometry& g, MaxRowFn fixed, T* yp) {
    const Range rows = interior(g.h);
    const Range cols = interior(g.w);
    const std::int64_t width = g.w.size;
    for(std::int64_t oh = 0; oh < g.h.out; ++oh) {
        T* y = yp + oh * g.w.out;
        const Taps rt = max_taps(g.h, oh);
        if(oh < rows.begin || oh >= rows.end || cols.begin >= cols.end) {
            for(std::int64_t ow = 0; ow < g.w.out; ++ow) {
                std::int64_t unused = 0;
                y[ow] = max_window(xp, width, rt, max_taps(g.w, ow), g.h.dilation,
                                   g.w.dilation, unused);
            }
            continue;
        }
        for(std::int64_t ow = 0; ow < g.w.out; ++ow) { // the clipped edges
            if(ow == cols.begin) {
                ow = cols.end - 1;
                continue;
            }
            std::int64_t unused = 0;
            y[ow] = max_window(xp, width, rt, max_taps(g.w, ow), g.h.dilation, g.w.dilation,
                               unused);
        }
        // Window of ow starts at x[rt.start][ow*sw - pw]: x0 + ow*sw.
        const T* x0 = xp + rt.start * width - g.w.pad;
        const std::int64_t step = g.h.dilation * width;
        if(fixed != nullptr) {
            fixed(x0, step, cols.begin, cols.end, y);
        } else {
            max_row_any(x0, step, g, cols.begin, cols.end, y);
        }
    }
}

} // namespace detail

// x: planes x H x W; y: planes x oH x oW; indices (same shape, may be null).
template <class T>
void max_pool2d_forward(const T* x, const Geometry& g, T* y, std::int64_t* indices,
                        int n_threads) {
    const detail::MaxRowFn fixed = detail::fixed_max_row<T>(g);
    for_each_plane<char>(g.planes, 0, n_threads, [&](std::int64_t plane, char*) {
        const T* xp = x + plane * g.in_plane();
        T* yp       = y + plane * g.out_plane();
        if(indices != nullptr) {
            detail::max_plane_exact(xp, g, yp, indices + plane * g.out_plane());
        } else if(detail::plane_has_nan(xp, g.in_plane())) {
            detail::max_plane_exact<T>(xp, g, yp, nullptr);
        } else {
            detail::max_plane_values(xp, g, fixed, yp);
        }
    });
}

// grad_input[plane][indices[o]] += grad_output[o], in output order within each plane
// (ATen's order, so sums where windows share an argmax round the same). Returns -1,
// or the flat position of the first index outside [0, in_plane) (then grad_input is
// incomplete and must be discarded).
template <class T>
std::int64_t max_pool2d_backward(const T* grad_output, const std::int64_t* indices,
                                 std::int64_t planes, std::int64_t out_plane,
                                 std::int64_t in_plane, T* grad_input, int n_threads) {
    if(planes <= 0) {
        return -1;
    }
    const int parts = useful_threads(planes, 1, n_threads);
    std::vector<std::int64_t> first_bad(static_cast<std::size_t>(parts), -1);
    parallel_parts(parts, parts, [&](std::int64_t p) {
        const Range r = part_range(planes, p, parts);
        for(std::int64_t plane = r.begin; plane < r.end; ++plane) {
            T* gi                   = grad_input + plane * in_plane;
            const T* go             = grad_output + plane * out_plane;
            const std::int64_t* ip  = indices + plane * out_plane;
            for(std::int64_t i = 0; i < in_plane; ++i) {
                gi[i] = T(0);
            }
            for(std::int64_t o = 0; o < out_plane; ++o) {
                const std::int64_t at = ip[o];
                if(!(at >= 0 && at < in_plane)) {
                    first_bad[static_cast<std::size_t>(p)] = plane * out_plane + o;
                    return;
                }
                gi[at] += go[o];
            }
        }
    });
    for(const std::int64_t b : first_bad) {
        if(b >= 0) {
            return b;
        }
    }
    return -1;
}

} // namespace npk::pool
