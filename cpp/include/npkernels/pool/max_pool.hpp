#pragma once
// Max pooling forward (values, and optionally int64 argmax indices in each
// H*W plane) and backward (the gradient routed to the argmax), with ATen's
// rules: taps in row-major scan order, a tap wins when `v > max || isnan(v)`
// (so the first maximum wins and a NaN wins, the last NaN of the window
// giving the index), padding never read.
//
// A plane whose taps hold no NaN takes a vectorised path: there the rule is
// `v > m ? v : m`, which may be grouped freely as long as the scan order is kept,
// so each window row is reduced with compile-time kernel widths and the rows
// combined in order, giving the exact same value (down to the sign of a zero) and
// index. The row passes also test the taps they read for NaN (an integer OR, so
// the test vectorises with them and costs no second pass over the input); a plane
// with a NaN tap is redone with ATen's scalar loop.

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

// Software prefetch of the rows a plane pass reads (x, 8 KiB ahead) and writes
// (y 4 KiB and the int64 indices 8 KiB ahead), one request per cache line: the
// passes are bound by memory, and the hardware prefetcher alone keeps too few
// lines in flight (measured: the 1-thread forward 25-35% faster with them; the
// gain stops growing at these distances).
constexpr std::int64_t read_ahead = 8192, write_ahead = 4096;
template <int ForWrite, class T>
inline void prefetch_row(const T* row, std::int64_t width, std::int64_t distance) {
    const char* p            = reinterpret_cast<const char*>(row) + distance;
    const std::int64_t bytes = width * std::int64_t{sizeof(T)};
    for(std::int64_t b = 0; b < bytes; b += 64) {
        __builtin_prefetch(p + b, ForWrite);
    }
}

template <class T>
inline int nan_bit(T v) { // 1 for NaN, as an int so OR-reductions vectorise
    return static_cast<int>(v != v);
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

// Window maxima of one row v for ow in [lo, hi): y[ow] = max of v[ow*SW + j], j < KW
// (v already offset by -pW), first maximum kept; KW, SW fixed so the loop vectorises.
// Returns true when a tap is NaN (y is then meaningless).
template <class T, int KW, int SW>
NPK_CLONES bool hmax_fixed(const T* v, std::int64_t lo, std::int64_t hi, T* y) {
    int nan = 0;
    for(std::int64_t ow = lo; ow < hi; ++ow) {
        const T* p = v + ow * SW;
        T m        = p[0];
        nan |= nan_bit(p[0]);
        for(int j = 1; j < KW; ++j) {
            nan |= nan_bit(p[j]);
            m = later_if_greater(m, p[j]);
        }
        y[ow] = m;
    }
    return nan != 0;
}

template <class T>
NPK_CLONES bool hmax_any(const T* v, const Axis& w, std::int64_t lo, std::int64_t hi, T* y) {
    int nan = 0;
    for(std::int64_t ow = lo; ow < hi; ++ow) {
        y[ow] = v[ow * w.stride];
        nan |= nan_bit(y[ow]);
    }
    for(std::int64_t j = 1; j < w.kernel; ++j) {
        const T* vj = v + j * w.dilation;
        for(std::int64_t ow = lo; ow < hi; ++ow) {
            nan |= nan_bit(vj[ow * w.stride]);
            y[ow] = later_if_greater(y[ow], vj[ow * w.stride]);
        }
    }
    return nan != 0;
}

template <class T>
using HmaxFn = bool (*)(const T*, std::int64_t, std::int64_t, T*);

template <class T>
HmaxFn<T> fixed_hmax(const Axis& w) {
    if(w.dilation != 1) return nullptr;
    if(w.kernel == 3 && w.stride == 2) return &hmax_fixed<T, 3, 2>;
    if(w.kernel == 2 && w.stride == 2) return &hmax_fixed<T, 2, 2>;
    if(w.kernel == 3 && w.stride == 1) return &hmax_fixed<T, 3, 1>;
    if(w.kernel == 2 && w.stride == 1) return &hmax_fixed<T, 2, 1>;
    return nullptr;
}

// Window maxima over row xr at the columns outside the vectorised interior
// cols (windows clipped by the padding): v[ow], and with q the flat position
// rowbase + column of the first maximum (-inf and the first tap when no tap is
// greater). Returns 1 when a tap is NaN.
template <class T, class P>
int clipped_row_max(const T* xr, const Axis& w, Range cols, T* v, P* q, P rowbase) {
    int nan = 0;
    for(std::int64_t ow = 0; ow < w.out; ++ow) {
        if(ow == cols.begin && cols.begin < cols.end) {
            ow = cols.end - 1;
            continue;
        }
        const Taps ct   = max_taps(w, ow);
        T m             = -std::numeric_limits<T>::infinity();
        std::int64_t at = ct.start;
        for(std::int64_t iw = ct.start; iw < ct.stop; iw += w.dilation) {
            nan |= nan_bit(xr[iw]);
            if(xr[iw] > m) {
                m  = xr[iw];
                at = iw;
            }
        }
        v[ow] = m;
        if(q != nullptr) {
            q[ow] = rowbase + static_cast<P>(at);
        }
    }
    return nan;
}

// y[i] = the maximum over count rows (row r at first + r * step) of element i,
// rows taken in order (first maximum kept), y written once per pair of rows.
template <class T>
NPK_CLONES void max_rows(const T* first, std::int64_t step, std::int64_t count, std::int64_t n,
                         T* __restrict y) {
    const T* a = first;
    const T* b = count > 1 ? first + step : first;
    for(std::int64_t i = 0; i < n; ++i) {
        y[i] = later_if_greater(a[i], b[i]);
    }
    for(std::int64_t r = 2; r < count; r += 2) {
        a = first + r * step;
        b = r + 1 < count ? a + step : a;
        for(std::int64_t i = 0; i < n; ++i) {
            y[i] = later_if_greater(later_if_greater(y[i], a[i]), b[i]);
        }
    }
}

// Values path of a NaN-free plane, row-major like ATen's scan (so ties, -0.0
// against 0.0 included, keep the first tap): h[r] holds each window's maximum
// over the taps of input row r, computed once per row (rows are shared by
// overlapping windows), then each output takes the maximum of its rows' h in
// order. h is scratch of H * oW. Returns false on a NaN tap (the caller redoes
// the plane exactly).
template <class T>
NPK_CLONES bool max_plane_values_nan_free(const T* xp, const Geometry& g, HmaxFn<T> fixed, T* h,
                                          T* yp) {
    const Range cols = interior(g.w);
    const std::int64_t width = g.w.size, ow_n = g.w.out;
    for(std::int64_t r = 0; r < g.h.size; ++r) {
        const T* xr = xp + r * width;
        prefetch_row<0>(xr, width, read_ahead);
        T* hr       = h + r * ow_n;
        int nan     = clipped_row_max<T, std::int64_t>(xr, g.w, cols, hr, nullptr, 0);
        if(cols.begin < cols.end) {
            const bool nan_inside = fixed != nullptr
                                        ? fixed(xr - g.w.pad, cols.begin, cols.end, hr)
                                        : hmax_any(xr - g.w.pad, g.w, cols.begin, cols.end, hr);
            nan |= static_cast<int>(nan_inside);
        }
        if(nan != 0) {
            return false;
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
        const std::int64_t rows = (rt.stop - rt.start + g.h.dilation - 1) / g.h.dilation;
        prefetch_row<1>(y, ow_n, write_ahead);
        max_rows(h + rt.start * ow_n, g.h.dilation * ow_n, rows, ow_n, y);
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
// values and positions share vector lanes. Returns true when a tap is NaN.
template <class T, class P, int KW, int SW>
NPK_CLONES bool hargmax_fixed(const T* __restrict xr, P rowbase, std::int64_t pad,
                              std::int64_t lo, std::int64_t hi, T* __restrict hv,
                              P* __restrict hp) {
    P nan   = 0;
    P start = rowbase + static_cast<P>(lo * SW - pad); // the first tap's flat position
    for(std::int64_t ow = lo; ow < hi; ++ow, start += SW) {
        const T* p = xr + (ow * SW - pad);
        T m        = p[0];
        P off      = 0;
        nan |= static_cast<P>(nan_bit(p[0]));
        for(int j = 1; j < KW; ++j) {
            const P take = select_mask<P>(p[j] > m);
            nan |= static_cast<P>(nan_bit(p[j]));
            m            = later_if_greater(m, p[j]);
            off          = (P(j) & take) | (off & ~take);
        }
        hv[ow] = m;
        hp[ow] = start + off;
    }
    return nan != 0;
}

// One pass of the row combination: y, iy <- the first maximum of rows a, b, c in
// that order (a later row wins only when greater), with positions pa, pb, pc. A
// row taken twice changes nothing, so b or c may repeat the row before it; y, iy
// may be a, pa (in place).
template <class T, class P, class Q>
NPK_CLONES void argmax_of_rows(const T* a, const P* pa, const T* b, const P* pb, const T* c,
                               const P* pc, std::int64_t n, T* y, Q* iy) {
    for(std::int64_t i = 0; i < n; ++i) {
        T m           = a[i];
        P q           = pa[i];
        const P take1 = select_mask<P>(b[i] > m);
        q             = (pb[i] & take1) | (q & ~take1);
        m             = later_if_greater(m, b[i]);
        const P take2 = select_mask<P>(c[i] > m);
        q             = (pc[i] & take2) | (q & ~take2);
        m             = later_if_greater(m, c[i]);
        y[i]          = m;
        iy[i]         = static_cast<Q>(q);
    }
}

// y, iy <- the first maximum over count >= 1 rows in order (row r at hv, hp + r *
// step), n outputs; acc, accp (n each) hold the partial result past three rows.
template <class T, class P>
void argmax_rows(const T* hv, const P* hp, std::int64_t step, std::int64_t count,
                 std::int64_t n, T* acc, P* accp, T* y, std::int64_t* iy) {
    const auto row = [&](std::int64_t r) { return std::min(r, count - 1) * step; };
    if(count <= 3) {
        argmax_of_rows(hv, hp, hv + row(1), hp + row(1), hv + row(2), hp + row(2), n, y, iy);
        return;
    }
    argmax_of_rows(hv, hp, hv + row(1), hp + row(1), hv + row(2), hp + row(2), n, acc, accp);
    for(std::int64_t r = 3; r < count; r += 2) {
        const T* b = hv + row(r);
        const T* c = hv + row(r + 1);
        if(r + 2 < count) {
            argmax_of_rows(acc, accp, b, hp + row(r), c, hp + row(r + 1), n, acc, accp);
        } else {
            argmax_of_rows(acc, accp, b, hp + row(r), c, hp + row(r + 1), n, y, iy);
        }
    }
}

template <class T, class P>
using HargmaxFn = bool (*)(const T*, P, std::int64_t, std::int64_t, std::int64_t, T*, P*);

template <class T, class P>
HargmaxFn<T, P> fixed_hargmax(const Axis& w) {
    if(w.dilation != 1) return nullptr;
    if(w.kernel == 3 && w.stride == 2) return &hargmax_fixed<T, P, 3, 2>;
    if(w.kernel == 2 && w.stride == 2) return &hargmax_fixed<T, P, 2, 2>;
    if(w.kernel == 3 && w.stride == 1) return &hargmax_fixed<T, P, 3, 1>;
    if(w.kernel == 2 && w.stride == 1) return &hargmax_fixed<T, P, 2, 1>;
    return nullptr;
}

// Argmax path of a plane whose taps hold no NaN, row-major like ATen's scan:
// each input row's window maxima and their positions once (first maximum of the
// row; rows are shared by overlapping windows), then per output row its window
// rows combined in order (a later row wins only when greater). Scratch: H * oW
// values hv and positions hp, oW of each in acc, accp. Returns false on a NaN tap
// (the caller redoes the plane exactly).
template <class T, class P>
NPK_CLONES bool max_plane_indexed_nan_free(const T* xp, const Geometry& g, HargmaxFn<T, P> fixed,
                                           T* hv, P* hp, T* acc, P* accp, T* yp,
                                           std::int64_t* ip) {
    const Range cols = interior(g.w);
    const std::int64_t width = g.w.size, ow_n = g.w.out;
    for(std::int64_t r = 0; r < g.h.size; ++r) {
        const T* xr = xp + r * width;
        prefetch_row<0>(xr, width, read_ahead);
        T* v        = hv + r * ow_n;
        P* q        = hp + r * ow_n;
        int nan     = clipped_row_max(xr, g.w, cols, v, q, static_cast<P>(r * width));
        if(cols.begin < cols.end) {
            nan |= static_cast<int>(
                fixed(xr, static_cast<P>(r * width), g.w.pad, cols.begin, cols.end, v, q));
        }
        if(nan != 0) {
            return false;
        }
    }
    for(std::int64_t oh = 0; oh < g.h.out; ++oh) {
        const Taps rt = max_taps(g.h, oh);
        T* y             = yp + oh * ow_n;
        std::int64_t* iy = ip + oh * ow_n;
        if(rt.start >= rt.stop) { // dilation misses the input: ATen's -inf, first tap
            for(std::int64_t ow = 0; ow < ow_n; ++ow) {
                y[ow] = max_window(xp, width, rt, max_taps(g.w, ow), g.h.dilation, g.w.dilation,
                                   iy[ow]);
            }
            continue;
        }
        const std::int64_t rows = (rt.stop - rt.start + g.h.dilation - 1) / g.h.dilation;
        prefetch_row<1>(y, ow_n, write_ahead);
        prefetch_row<1>(iy, ow_n, 2 * write_ahead);
        argmax_rows(hv + rt.start * ow_n, hp + rt.start * ow_n, g.h.dilation * ow_n, rows, ow_n,
                    acc, accp, y, iy);
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
    // Scratch per thread: (H + 1) * oW values, and as many positions with indices.
    const std::int64_t nv = worker_stride<T>((g.h.size + 1) * g.w.out);
    const std::int64_t np = indices != nullptr ? worker_stride<P>((g.h.size + 1) * g.w.out) : 0;
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
               || !detail::max_plane_indexed_nan_free<T, P>(
                   xp, g, hargmax, s, pos, s + g.h.size * g.w.out, pos + g.h.size * g.w.out, yp,
                   ip)) {
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
