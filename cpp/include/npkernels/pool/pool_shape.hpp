#pragma once
// Window geometry shared by every pooling kernel: the sizes of one spatial axis
// (checked in Python against PyTorch's rules before any kernel runs) and the
// window bounds ATen's CPU kernels use, so the C++ kernels and the NumPy
// reference agree on every clipped, dilated or ceil-mode window.

#include <algorithm>
#include <cstdint>

#include "npkernels/buffer.hpp"
#include "npkernels/parallel.hpp"
#include "npkernels/simd.hpp"

namespace npk::pool {

struct Axis {
    std::int64_t size;     // input length
    std::int64_t kernel;   // taps
    std::int64_t stride;
    std::int64_t pad;      // both sides
    std::int64_t dilation;
    std::int64_t out;      // output length (already computed with the ceil_mode rule)
};

// Planes are the (n, c) pairs: each is an independent H x W image.
struct Geometry {
    std::int64_t planes;
    Axis h;
    Axis w;
    std::int64_t in_plane() const { return h.size * w.size; }
    std::int64_t out_plane() const { return h.out * w.out; }
};

// ATen's pooling_output_shape: floor (or ceil) windows, minus a ceil_mode window
// that would start in the right padding. Arguments already checked (k, s, d >= 1).
inline std::int64_t output_size(std::int64_t size, std::int64_t k, std::int64_t s, std::int64_t p,
                                std::int64_t d, bool ceil_mode) {
    const std::int64_t num = size + 2 * p - d * (k - 1) - 1 + (ceil_mode ? s - 1 : 0);
    std::int64_t out = (num >= 0 ? num / s : -((-num + s - 1) / s)) + 1; // floor division
    if(ceil_mode && (out - 1) * s >= size + p) {
        --out;
    }
    return out;
}

// Max pooling taps of window o: the first tap inside the input (ATen steps the
// start over the left padding by whole dilations, so it may land past `stop`
// when dilation skips the input entirely) and the end of the taps.
struct Taps {
    std::int64_t start;
    std::int64_t stop;
};

inline Taps max_taps(const Axis& a, std::int64_t o) {
    std::int64_t start      = o * a.stride - a.pad;
    const std::int64_t stop = std::min(start + (a.kernel - 1) * a.dilation + 1, a.size);
    if(start < 0) {
        start += ((-start + a.dilation - 1) / a.dilation) * a.dilation;
    }
    return {start, stop};
}

// Average pooling window o: [start, stop) inside the input, and its length
// counted over the padded input (count_include_pad's divisor; the ceil_mode
// tail beyond the right padding is not counted).
struct AvgSpan {
    std::int64_t start;
    std::int64_t stop;
    std::int64_t padded;
};

inline AvgSpan avg_span(const Axis& a, std::int64_t o) {
    const std::int64_t start = o * a.stride - a.pad;
    const std::int64_t stop  = std::min(start + a.kernel, a.size + a.pad);
    return {std::max<std::int64_t>(start, 0), std::min(stop, a.size), stop - start};
}

// Outputs [lo, hi) whose every tap lies inside the input (no clipping):
// the vectorised interior of a row (or the rows that need no clipping).
inline Range interior(const Axis& a) {
    const std::int64_t span = (a.kernel - 1) * a.dilation + 1;
    const std::int64_t lo   = std::min(a.out, (a.pad + a.stride - 1) / a.stride);
    const std::int64_t last = a.size + a.pad - span; // largest o*stride with the window inside
    const std::int64_t hi   = last < 0 ? lo : std::clamp(last / a.stride + 1, lo, a.out);
    return {lo, hi};
}

// Adaptive bin i of `out` over `in`: [floor(i*in/out), ceil((i+1)*in/out)), in integers.
inline std::int64_t adaptive_start(std::int64_t i, std::int64_t in, std::int64_t out) {
    return (i / out) * in + ((i % out) * in) / out;
}
inline std::int64_t adaptive_end(std::int64_t i, std::int64_t in, std::int64_t out) {
    return 1 + ((i + 1) * in - 1) / out;
}

// How many parts for_each_plane splits `planes` into (allocate scratch per part);
// `values` is the work of one plane (input plus output elements).
inline int plane_parts(std::int64_t planes, int n_threads, std::int64_t values) {
    return useful_threads(planes, grain_for(values), n_threads);
}

// Runs fn(plane, part) for every plane, `parts` contiguous runs of planes each on
// one thread: a part owns whole planes (so backward scatters need no atomics)
// and may use scratch indexed by `part`, allocated by the caller beforehand.
template <class Fn>
void for_each_plane(std::int64_t planes, int parts, Fn&& fn) {
    if(planes <= 0) {
        return;
    }
    parallel_parts(parts, parts, [&](std::int64_t p) {
        const Range r = part_range(planes, p, parts);
        for(std::int64_t plane = r.begin; plane < r.end; ++plane) {
            fn(plane, p);
        }
    });
}

// A backward pass's output, one plane at a time: each plane is accumulated in a
// zeroed, cache-resident buffer of its part (the scatter-adds stay in cache), then
// copied out, with streaming stores when the whole output is too large to stay
// in cache anyway (no read-for-ownership of grad_input). scatter(plane, part, buf)
// returns false to stop its part (a bad index); the plane is then not copied.
template <class T, class Scatter>
void scatter_planes(std::int64_t planes, std::int64_t plane_size, int parts, T* out,
                    Scatter&& scatter) {
    if(planes <= 0) {
        return;
    }
    const bool stream = planes * plane_size * std::int64_t{sizeof(T)} > simd::stream_bytes;
    Buffer<T> scratch = uninitialized_buffer<T>(plane_size * parts);
    parallel_parts(parts, parts, [&](std::int64_t p) {
        const Range r = part_range(planes, p, parts);
        T* buf        = scratch.get() + p * plane_size;
        for(std::int64_t plane = r.begin; plane < r.end; ++plane) {
            for(std::int64_t i = 0; i < plane_size; ++i) {
                buf[i] = T(0);
            }
            if(!scatter(plane, p, buf)) {
                return;
            }
            simd::write_run(
                out + plane * plane_size, plane_size, stream,
                [=](std::int64_t i, typename simd::Pair<T>::type& v) { simd::load_pair(buf + i, v); },
                [=](std::int64_t i) { return buf[i]; });
        }
    });
}

} // namespace npk::pool
