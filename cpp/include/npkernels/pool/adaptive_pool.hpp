#pragma once
// Adaptive average and max pooling (ATen's AdaptivePooling.h bins): output bin
// i over an axis of `in` spans [floor(i*in/out), ceil((i+1)*in/out)), so bins
// overlap when out does not divide in, and out > in repeats inputs. The max
// follows max pooling's rules (first maximum, the last NaN); its backward is
// max_pool2d_backward. The average sums from 0 in row-major order.

#include <cmath>
#include <cstdint>
#include <limits>

#include "npkernels/pool/pool_shape.hpp"

namespace npk::pool {

struct AdaptiveGeometry {
    std::int64_t planes;
    std::int64_t in_h, in_w, out_h, out_w;
    std::int64_t in_plane() const { return in_h * in_w; }
    std::int64_t out_plane() const { return out_h * out_w; }
};

namespace detail {

struct Bin {
    std::int64_t start;
    std::int64_t stop;
};

inline Bin adaptive_bin(std::int64_t i, std::int64_t in, std::int64_t out) {
    return {adaptive_start(i, in, out), adaptive_end(i, in, out)};
}

} // namespace detail

template <class T>
void adaptive_avg_pool2d_forward(const T* x, const AdaptiveGeometry& g, T* y, int n_threads) {
    const int parts = plane_parts(g.planes, n_threads, g.in_plane() + g.out_plane());
    for_each_plane(g.planes, parts, [&](std::int64_t plane, std::int64_t) {
        const T* xp = x + plane * g.in_plane();
        T* yp       = y + plane * g.out_plane();
        for(std::int64_t oh = 0; oh < g.out_h; ++oh) {
            const detail::Bin hb = detail::adaptive_bin(oh, g.in_h, g.out_h);
            for(std::int64_t ow = 0; ow < g.out_w; ++ow) {
                const detail::Bin wb = detail::adaptive_bin(ow, g.in_w, g.out_w);
                T sum                = T(0);
                for(std::int64_t ih = hb.start; ih < hb.stop; ++ih) {
                    for(std::int64_t iw = wb.start; iw < wb.stop; ++iw) {
                        sum += xp[ih * g.in_w + iw];
                    }
                }
                yp[oh * g.out_w + ow]
                    = sum / static_cast<T>((hb.stop - hb.start) * (wb.stop - wb.start));
            }
        }
    });
}

// indices may be null.
template <class T>
void adaptive_max_pool2d_forward(const T* x, const AdaptiveGeometry& g, T* y,
                                 std::int64_t* indices, int n_threads) {
    const int parts = plane_parts(g.planes, n_threads, g.in_plane() + g.out_plane());
    for_each_plane(g.planes, parts, [&](std::int64_t plane, std::int64_t) {
        const T* xp = x + plane * g.in_plane();
        T* yp       = y + plane * g.out_plane();
        for(std::int64_t oh = 0; oh < g.out_h; ++oh) {
            const detail::Bin hb = detail::adaptive_bin(oh, g.in_h, g.out_h);
            for(std::int64_t ow = 0; ow < g.out_w; ++ow) {
                const detail::Bin wb = detail::adaptive_bin(ow, g.in_w, g.out_w);
                T m                  = -std::numeric_limits<T>::infinity();
                std::int64_t at      = hb.start * g.in_w + wb.start;
                for(std::int64_t ih = hb.start; ih < hb.stop; ++ih) {
                    for(std::int64_t iw = wb.start; iw < wb.stop; ++iw) {
                        const T v = xp[ih * g.in_w + iw];
                        if(v > m || std::isnan(v)) {
                            m  = v;
                            at = ih * g.in_w + iw;
                        }
                    }
                }
                const std::int64_t o = oh * g.out_w + ow;
                yp[o]                = m;
                if(indices != nullptr) {
                    indices[plane * g.out_plane() + o] = at;
                }
            }
        }
    });
}

// grad_input = sum over the bins holding each input of grad_output / bin size,
// in output order.
template <class T>
void adaptive_avg_pool2d_backward(const T* grad_output, const AdaptiveGeometry& g,
                                  T* grad_input, int n_threads) {
    const int parts = plane_parts(g.planes, n_threads, g.in_plane() + g.out_plane());
    for_each_plane(g.planes, parts, [&](std::int64_t plane, std::int64_t) {
        const T* go = grad_output + plane * g.out_plane();
        T* gi       = grad_input + plane * g.in_plane();
        for(std::int64_t i = 0; i < g.in_plane(); ++i) {
            gi[i] = T(0);
        }
        for(std::int64_t oh = 0; oh < g.out_h; ++oh) {
            const detail::Bin hb = detail::adaptive_bin(oh, g.in_h, g.out_h);
            for(std::int64_t ow = 0; ow < g.out_w; ++ow) {
                const detail::Bin wb = detail::adaptive_bin(ow, g.in_w, g.out_w);
                const T delta = go[oh * g.out_w + ow]
                                / static_cast<T>((hb.stop - hb.start) * (wb.stop - wb.start));
                for(std::int64_t ih = hb.start; ih < hb.stop; ++ih) {
                    for(std::int64_t iw = wb.start; iw < wb.stop; ++iw) {
                        gi[ih * g.in_w + iw] += delta;
                    }
                }
            }
        }
    });
}

} // namespace npk::pool
