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

// fn(plane, o, row bin, column bin) for every output o = oh * oW + ow of every
// plane, in output order within a plane; a thread owns whole planes.
template <class Fn>
void for_each_bin(const AdaptiveGeometry& g, int n_threads, Fn&& fn) {
    const int parts = plane_parts(g.planes, n_threads, g.in_plane() + g.out_plane());
    for_each_plane(g.planes, parts, [&](std::int64_t plane, std::int64_t) {
        fn.start_plane(plane);
        for(std::int64_t oh = 0; oh < g.out_h; ++oh) {
            const Bin hb = adaptive_bin(oh, g.in_h, g.out_h);
            for(std::int64_t ow = 0; ow < g.out_w; ++ow) {
                fn(plane, oh * g.out_w + ow, hb, adaptive_bin(ow, g.in_w, g.out_w));
            }
        }
    });
}

inline std::int64_t bin_size(const Bin& hb, const Bin& wb) {
    return (hb.stop - hb.start) * (wb.stop - wb.start);
}

// Each visitor below is called by for_each_bin: start_plane once per plane, then
// once per output.
template <class T>
struct AvgBins {
    const T* x;
    const AdaptiveGeometry& g;
    T* y;
    void start_plane(std::int64_t) const {}
    void operator()(std::int64_t plane, std::int64_t o, const Bin& hb, const Bin& wb) const {
        const T* xp = x + plane * g.in_plane();
        T sum       = T(0);
        for(std::int64_t ih = hb.start; ih < hb.stop; ++ih) {
            for(std::int64_t iw = wb.start; iw < wb.stop; ++iw) {
                sum += xp[ih * g.in_w + iw];
            }
        }
        y[plane * g.out_plane() + o] = sum / static_cast<T>(bin_size(hb, wb));
    }
};

template <class T>
struct MaxBins {
    const T* x;
    const AdaptiveGeometry& g;
    T* y;
    std::int64_t* indices; // may be null
    void start_plane(std::int64_t) const {}
    void operator()(std::int64_t plane, std::int64_t o, const Bin& hb, const Bin& wb) const {
        const T* xp     = x + plane * g.in_plane();
        T m             = -std::numeric_limits<T>::infinity();
        std::int64_t at = hb.start * g.in_w + wb.start;
        for(std::int64_t ih = hb.start; ih < hb.stop; ++ih) {
            for(std::int64_t iw = wb.start; iw < wb.stop; ++iw) {
                const T v = xp[ih * g.in_w + iw];
                if(v > m || std::isnan(v)) {
                    m  = v;
                    at = ih * g.in_w + iw;
                }
            }
        }
        y[plane * g.out_plane() + o] = m;
        if(indices != nullptr) {
            indices[plane * g.out_plane() + o] = at;
        }
    }
};

template <class T>
struct AvgBinsBackward {
    const T* grad_output;
    const AdaptiveGeometry& g;
    T* grad_input;
    void start_plane(std::int64_t plane) const {
        T* gi = grad_input + plane * g.in_plane();
        for(std::int64_t i = 0; i < g.in_plane(); ++i) {
            gi[i] = T(0);
        }
    }
    void operator()(std::int64_t plane, std::int64_t o, const Bin& hb, const Bin& wb) const {
        T* gi         = grad_input + plane * g.in_plane();
        const T delta = grad_output[plane * g.out_plane() + o] / static_cast<T>(bin_size(hb, wb));
        for(std::int64_t ih = hb.start; ih < hb.stop; ++ih) {
            for(std::int64_t iw = wb.start; iw < wb.stop; ++iw) {
                gi[ih * g.in_w + iw] += delta;
            }
        }
    }
};

} // namespace detail

template <class T>
void adaptive_avg_pool2d_forward(const T* x, const AdaptiveGeometry& g, T* y, int n_threads) {
    detail::for_each_bin(g, n_threads, detail::AvgBins<T>{x, g, y});
}

// indices may be null.
template <class T>
void adaptive_max_pool2d_forward(const T* x, const AdaptiveGeometry& g, T* y,
                                 std::int64_t* indices, int n_threads) {
    detail::for_each_bin(g, n_threads, detail::MaxBins<T>{x, g, y, indices});
}

// grad_input = sum over the bins holding each input of grad_output / bin size,
// in output order.
template <class T>
void adaptive_avg_pool2d_backward(const T* grad_output, const AdaptiveGeometry& g,
                                  T* grad_input, int n_threads) {
    detail::for_each_bin(g, n_threads, detail::AvgBinsBackward<T>{grad_output, g, grad_input});
}

} // namespace npk::pool
