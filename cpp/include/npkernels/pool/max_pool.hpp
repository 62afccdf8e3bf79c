#pragma once
// Max pooling forward (values, and optionally int64 argmax indices in each
// H*W plane) and backward (the gradient routed to the argmax), with ATen's
// rules: taps in row-major scan order, a tap wins when `v > max || isnan(v)`
// (so the first maximum wins and a NaN wins, the last NaN of the window
// giving the index), padding never read.
//
// A NaN-free plane takes a vectorised path: there the rule is `v > m ? v : m`,
// which may be grouped freely as long as the scan order is kept, so each window
// row is reduced with compile-time kernel widths and the rows combined in order,
// giving the exact same value (down to the sign of a zero) and index. A plane
// with a NaN takes ATen's scalar loop.

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "npkernels/pool/pool_shape.hpp"
#include "npkernels/simd.hpp"

namespace npk::pool {

namespace detail {

template <class T>
inline T later_if_greater(T m, T v) { // the first maximum wins; no NaN here
    return v > m ? v : m;
}

// Tests rows for NaN once each, in order, as windows first reach them, so a
// plane is checked while its rows are in L1 and a NaN found late costs only a
// redo of that plane. Without NaN, ATen's rule `v > max || isnan(v)` is
// `v > max ? v : max`, which vectorises.
template <class T>
class NanFreeRows {
  public:
    NanFreeRows(const T* xp, std::int64_t width) : xp_(xp), width_(width) {}
    // True when rows [0, stop) hold no NaN.
    bool through(std::int64_t stop) {
        for(; next_ < stop; ++next_) {
            if(simd::any_nan(xp_ + next_ * width_, width_)) {
                return false;
            }
        }
        return true;
    }

  private:
    const T* xp_;
    std::int64_t width_;
    std::int64_t next_ = 0;
};

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

// Window maxima of one row v for ow in [lo, hi): y[ow] = max of v[ow*SW + j], j < KW
// (v already offset by -pW), first maximum kept; KW, SW fixed so the loop vectorises.
template <class T, int KW, int SW>
NPK_CLONES void hmax_fixed(const T* v, std::int64_t lo, std::int64_t hi, T* y) {
    for(std::int64_t ow = lo; ow < hi; ++ow) {
        const T* p = v + ow * SW;
        T m        = p[0];
        for(int j = 1; j < KW; ++j) {
            m = later_if_greater(m, p[j]);
        }
        y[ow] = m;
    }
}

template <class T>
NPK_CLONES void hmax_any(const T* v, const Axis& w, std::int64_t lo, std::int64_t hi, T* y) {
    for(std::int64_t ow = lo; ow < hi; ++ow) {
        y[ow] = v[ow * w.stride];
    }
    for(std::int64_t j = 1; j < w.kernel; ++j) {
        const T* vj = v + j * w.dilation;
        for(std::int64_t ow = lo; ow < hi; ++ow) {
            y[ow] = later_if_greater(y[ow], vj[ow * w.stride]);
        }
    }
}

template <class T>
using HmaxFn = void (*)(const T*, std::int64_t, std::int64_t, T*);

template <class T>
HmaxFn<T> fixed_hmax(const Axis& w) {
    if(w.dilation != 1) return nullptr;
    if(w.kernel == 3 && w.stride == 2) return &hmax_fixed<T, 3, 2>;
    if(w.kernel == 2 && w.stride == 2) return &hmax_fixed<T, 2, 2>;
    if(w.kernel == 3 && w.stride == 1) return &hmax_fixed<T, 3, 1>;
    if(w.kernel == 2 && w.stride == 1) return &hmax_fixed<T, 2, 1>;
    return nullptr;
}

// Values path of a NaN-free plane, row-major like ATen's scan (so ties, -0.0
// against 0.0 included, keep the first tap): h[r] holds each window's maximum
// over the taps of input row r, computed once per row (rows are shared by
// overlapping windows), then each output takes the maximum of its rows' h in
// order. h is scratch of H * oW. Returns false on a NaN (the caller redoes the
// plane exactly).
template <class T>
NPK_CLONES bool max_plane_values_nan_free(const T* xp, const Geometry& g, HmaxFn<T> fixed, T* h,
                                          T* yp) {
    const Range cols = interior(g.w);
    const std::int64_t width = g.w.size, ow_n = g.w.out;
    for(std::int64_t r = 0; r < g.h.size; ++r) {
        const T* xr = xp + r * width;
        if(simd::any_nan(xr, width)) {
            return false;
        }
        T* hr = h + r * ow_n;
        for(std::int64_t ow = 0; ow < ow_n; ++ow) { // clipped columns
            if(ow == cols.begin && cols.begin < cols.end) {
                ow = cols.end - 1;
                continue;
            }
            const Taps ct = max_taps(g.w, ow);
            T m           = -std::numeric_limits<T>::infinity();
            for(std::int64_t iw = ct.start; iw < ct.stop; iw += g.w.dilation) {
                m = later_if_greater(m, xr[iw]);
            }
            hr[ow] = m;
        }
        if(cols.begin < cols.end) {
            if(fixed != nullptr) {
                fixed(xr - g.w.pad, cols.begin, cols.end, hr);
            } else {
                hmax_any(xr - g.w.pad, g.w, cols.begin, cols.end, hr);
            }
        }
    }
    for(std::int64_t oh = 0; oh < g.h.out; ++oh) {
        T* y          = yp + oh * ow_n;
        const Taps rt = max_taps(g.h, oh);
        if(rt.start >= rt.stop) { // dilation misses the input: ATen's -inf
            for(std::int64_t ow = 0; ow < ow_n; ++ow) {
                y[ow] = -std::numeric_limits<T>::infinity();
            }
            continue;
        }
        const T* first = h + rt.start * ow_n;
        for(std::int64_t ow = 0; ow < ow_n; ++ow) {
            y[ow] = first[ow];
        }
        for(std::int64_t ih = rt.start + g.h.dilation; ih < rt.stop; ih += g.h.dilation) {
            const T* hr = h + ih * ow_n;
            for(std::int64_t ow = 0; ow < ow_n; ++ow) {
                y[ow] = later_if_greater(y[ow], hr[ow]);
            }
        }
    }
    return true;
}

// All ones when c, else 0: a lane mask, so selects compile to and/andnot/or.
template <class P>
inline P select_mask(bool c) {
    return static_cast<P>(-static_cast<P>(c));
}

// Row r's window maxima with their flat positions, for ow in [lo, hi): taps
// x_row[ow*SW - pW + j], first maximum wins. P is an integer as wide as T, so
// values and positions share vector lanes.
template <class T, class P, int KW, int SW>
NPK_CLONES void hargmax_fixed(const T* __restrict xr, P rowbase, std::int64_t pad,
                              std::int64_t lo, std::int64_t hi, T* __restrict hv,
                              P* __restrict hp) {
    for(std::int64_t ow = lo; ow < hi; ++ow) {
        const std::int64_t c0 = ow * SW - pad;
        const T* p            = xr + c0;
        T m                   = p[0];
        P off                 = 0;
        for(int j = 1; j < KW; ++j) {
            const P take = select_mask<P>(p[j] > m);
            m            = later_if_greater(m, p[j]);
            off          = (P(j) & take) | (off & ~take);
        }
        hv[ow] = m;
        hp[ow] = rowbase + P(c0) + off;
    }
}

// acc, accp <- hv, hp where hv > acc (a later row wins only when greater).
template <class T, class P>
NPK_CLONES void combine_rows(const T* __restrict hv, const P* __restrict hp, std::int64_t n,
                  T* __restrict acc, P* __restrict accp) {
    for(std::int64_t i = 0; i < n; ++i) {
        const P take = select_mask<P>(hv[i] > acc[i]);
        accp[i]      = (hp[i] & take) | (accp[i] & ~take);
        acc[i]       = later_if_greater(acc[i], hv[i]);
    }
}

template <class T, class P>
using HargmaxFn = void (*)(const T*, P, std::int64_t, std::int64_t, std::int64_t, T*, P*);

template <class T, class P>
HargmaxFn<T, P> fixed_hargmax(const Axis& w) {
    if(w.dilation != 1) return nullptr;
    if(w.kernel == 3 && w.stride == 2) return &hargmax_fixed<T, P, 3, 2>;
    if(w.kernel == 2 && w.stride == 2) return &hargmax_fixed<T, P, 2, 2>;
    if(w.kernel == 3 && w.stride == 1) return &hargmax_fixed<T, P, 3, 1>;
    if(w.kernel == 2 && w.stride == 1) return &hargmax_fixed<T, P, 2, 1>;
    return nullptr;
}

// Argmax path of a NaN-free plane: per output row, each window row's maxima (row
// major: first maximum of the row), then the rows combined in order (a later row
// wins only when greater), which is ATen's scan order. Scratch: 4 * oW of T/P.
template <class T, class P>
NPK_CLONES bool max_plane_indexed_nan_free(const T* xp, const Geometry& g, HargmaxFn<T, P> fixed,
                                           T* hv, P* hp, T* acc, P* accp, T* yp,
                                           std::int64_t* ip) {
    const Range cols = interior(g.w);
    const std::int64_t width = g.w.size;
    NanFreeRows<T> nan_free(xp, width);
    for(std::int64_t oh = 0; oh < g.h.out; ++oh) {
        const Taps rt = max_taps(g.h, oh);
        if(!nan_free.through(rt.stop)) {
            return false;
        }
        if(rt.start >= rt.stop || fixed == nullptr || cols.begin >= cols.end) {
            for(std::int64_t ow = 0; ow < g.w.out; ++ow) {
                std::int64_t index = 0;
                yp[oh * g.w.out + ow] = max_window(xp, width, rt, max_taps(g.w, ow),
                                                   g.h.dilation, g.w.dilation, index);
                ip[oh * g.w.out + ow] = index;
            }
            continue;
        }
        for(std::int64_t ih = rt.start; ih < rt.stop; ih += g.h.dilation) {
            const T* xr = xp + ih * width;
            const bool first_row = ih == rt.start;
            T* v = first_row ? acc : hv;
            P* q = first_row ? accp : hp;
            for(std::int64_t ow = 0; ow < g.w.out; ++ow) { // clipped columns
                if(ow == cols.begin) {
                    ow = cols.end - 1;
                    continue;
                }
                const Taps ct = max_taps(g.w, ow);
                T m = -std::numeric_limits<T>::infinity();
                std::int64_t at = ct.start;
                for(std::int64_t iw = ct.start; iw < ct.stop; iw += g.w.dilation) {
                    if(xr[iw] > m) {
                        m  = xr[iw];
                        at = iw;
                    }
                }
                v[ow] = m;
                q[ow] = static_cast<P>(ih * width + at);
            }
            fixed(xr, static_cast<P>(ih * width), g.w.pad, cols.begin, cols.end, v, q);
            if(!first_row) {
                combine_rows(hv, hp, g.w.out, acc, accp);
            }
        }
        T* y             = yp + oh * g.w.out;
        std::int64_t* ix = ip + oh * g.w.out;
        for(std::int64_t ow = 0; ow < g.w.out; ++ow) {
            y[ow]  = acc[ow];
            ix[ow] = static_cast<std::int64_t>(accp[ow]);
        }
    }
    return true;
}

template <class T>
using Position = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;

} // namespace detail

// x: planes x H x W; y: planes x oH x oW; indices (same shape, may be null).
template <class T>
void max_pool2d_forward(const T* x, const Geometry& g, T* y, std::int64_t* indices,
                        int n_threads) {
    using P = detail::Position<T>;
    // int32 positions need the plane to fit; otherwise the exact scalar path.
    const bool narrow_ok = g.in_plane() < (std::int64_t{1} << 31) || sizeof(P) == 8;
    const detail::HmaxFn<T> hmax = detail::fixed_hmax<T>(g.w);
    const detail::HargmaxFn<T, P> hargmax = narrow_ok ? detail::fixed_hargmax<T, P>(g.w) : nullptr;
    // Scratch per thread: W values (values path) or 2*oW values and 2*oW positions.
    const std::int64_t nv = std::max(g.h.size * g.w.out, 2 * g.w.out), np = 2 * g.w.out;
    const int parts      = plane_parts(g.planes, n_threads, g.in_plane() + g.out_plane());
    Buffer<T> values     = uninitialized_buffer<T>(nv * parts);
    Buffer<P> positions  = uninitialized_buffer<P>(np * parts);
    for_each_plane(g.planes, parts, [&](std::int64_t plane, std::int64_t part) {
        T* s        = values.get() + part * nv;
        P* pos      = positions.get() + part * np;
        const T* xp = x + plane * g.in_plane();
        T* yp       = y + plane * g.out_plane();
        // The fast paths give up (returning false) on a plane with NaN.
        if(indices != nullptr) {
            std::int64_t* ip = indices + plane * g.out_plane();
            if(hargmax == nullptr
               || !detail::max_plane_indexed_nan_free<T, P>(xp, g, hargmax, s, pos, s + g.w.out,
                                                         pos + g.w.out, yp, ip)) {
                detail::max_plane_exact(xp, g, yp, ip);
            }
        } else if(!detail::max_plane_values_nan_free(xp, g, hmax, s, yp)) {
            detail::max_plane_exact<T>(xp, g, yp, nullptr);
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
    const int parts = plane_parts(planes, n_threads, in_plane + out_plane);
    std::vector<std::int64_t> first_bad(static_cast<std::size_t>(parts), -1);
    scatter_planes(planes, in_plane, parts, grad_input, [&](std::int64_t plane, std::int64_t part,
                                                            T* gi) {
        const T* go            = grad_output + plane * out_plane;
        const std::int64_t* ip = indices + plane * out_plane;
        for(std::int64_t o = 0; o < out_plane; ++o) {
            const std::int64_t at = ip[o];
            if(!(at >= 0 && at < in_plane)) {
                first_bad[static_cast<std::size_t>(part)] = plane * out_plane + o;
                return false;
            }
            gi[at] += go[o];
        }
        return true;
    });
    for(const std::int64_t b : first_bad) {
        if(b >= 0) {
            return b;
        }
    }
    return -1;
}

} // namespace npk::pool
