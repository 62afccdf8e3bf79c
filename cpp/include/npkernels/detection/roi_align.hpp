#pragma once
// ROI Align forward and backward, exactly torchvision's C++ CPU kernel
// (roi_align_kernel.cpp): the same expressions in the same dtype and order, so
// float32 results equal torchvision's bit for bit. Two changes of structure:
// - Each ROI's samples are found per axis (y depends only on the bin row,
//   x only on the bin column) and only in-map samples are kept, found by
//   binary search (the sample coordinate is monotone in the sample index).
//   An out-of-map sample adds 0 but still counts, so the cost of a ROI is
//   bounded by its in-map samples, (2H + 2 + PH) x (2W + 2 + PW) at most for
//   the adaptive grid, however large the box.
// - The forward runs ROIs in parallel; the backward runs channel blocks in
//   parallel, each visiting every ROI in order, so no two threads write one
//   plane and each gradient pixel sums its terms in torchvision's order.

#include "npkernels/buffer.hpp"
#include "npkernels/detection/roi_common.hpp"
#include "npkernels/parallel.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <type_traits>

namespace npk::detection {

struct RoiAlignParams {
    std::int64_t pooled_h;
    std::int64_t pooled_w;
    std::int64_t sampling_ratio; // > 0 fixed grid, <= 0 adaptive
    bool aligned;
};

// The geometry of one ROI, as torchvision computes it.
template <class T>
struct RoiAlignBox {
    std::int64_t batch;
    T start_h, start_w, bin_h, bin_w;
    std::int64_t grid_h, grid_w; // 0 on either axis: no samples, the output is 0
};

// torchvision stores ceil(size / pooled) in an int; we clamp to the int range
// instead of overflowing, and take a non-positive grid as empty.
template <class T>
std::int64_t adaptive_grid(T roi_size, std::int64_t pooled) {
    const double g = std::ceil(static_cast<double>(roi_size / static_cast<T>(pooled)));
    if(!(g > 0)) {
        return 0;
    }
    return static_cast<std::int64_t>(std::min(g, double(std::numeric_limits<std::int32_t>::max())));
}

template <class T>
RoiAlignBox<T> roi_align_box(const T* roi, T spatial_scale, const RoiAlignParams& p) {
    RoiAlignBox<T> b{};
    b.batch        = roi_batch(roi);
    const T offset = p.aligned ? T(0.5) : T(0);
    b.start_w      = roi[1] * spatial_scale - offset;
    b.start_h      = roi[2] * spatial_scale - offset;
    const T end_w  = roi[3] * spatial_scale - offset;
    const T end_h  = roi[4] * spatial_scale - offset;
    T roi_w        = end_w - b.start_w;
    T roi_h        = end_h - b.start_h;
    if(!p.aligned) { // torchvision: "Force malformed ROIs to be 1x1"
        roi_w = std::max(roi_w, T(1));
        roi_h = std::max(roi_h, T(1));
    }
    b.bin_h = roi_h / static_cast<T>(p.pooled_h);
    b.bin_w = roi_w / static_cast<T>(p.pooled_w);
    if(p.sampling_ratio > 0) {
        b.grid_h = b.grid_w = p.sampling_ratio;
    } else {
        b.grid_h = adaptive_grid(roi_h, p.pooled_h);
        b.grid_w = adaptive_grid(roi_w, p.pooled_w);
    }
    if(b.grid_h <= 0 || b.grid_w <= 0) {
        b.grid_h = b.grid_w = 0;
    }
    return b;
}

// One in-map sample along one axis: the two neighbouring pixels and weights.
template <class T>
struct AxisSample {
    std::int64_t low, high;
    T l, h; // weight of high = l, of low = h = 1 - l
};

// Sample i of bin p on an axis: torchvision's expression, float(i) + 0.5f included.
template <class T>
T sample_coord(T start, T bin, std::int64_t p, std::int64_t i, std::int64_t grid) {
    const T frac = static_cast<T>(static_cast<float>(i) + 0.5f);
    return start + static_cast<T>(p) * bin + frac * bin / static_cast<T>(grid);
}

// The in-map samples [begin, end) of bin p on an axis of `size` pixels:
// coordinates in [-1, size]. The coordinate is monotone in i (increasing when
// bin >= 0), so both ends are found by bisection.
template <class T>
Range in_map_samples(T start, T bin, std::int64_t p, std::int64_t grid, std::int64_t size) {
    const T lo = T(-1);
    const T hi = static_cast<T>(size);
    // first i in [0, grid) where pred(coord(i)) turns false; pred holds on a prefix
    auto first_false = [&](auto pred) {
        std::int64_t a = 0;
        std::int64_t z = grid;
        while(a < z) {
            const std::int64_t mid = a + (z - a) / 2;
            if(pred(sample_coord(start, bin, p, mid, grid))) {
                a = mid + 1;
            } else {
                z = mid;
            }
        }
        return a;
    };
    Range r{};
    if(bin >= T(0)) {
        r.begin = first_false([&](T v) { return v < lo; });
        r.end   = first_false([&](T v) { return v <= hi; });
    } else {
        r.begin = first_false([&](T v) { return v > hi; });
        r.end   = first_false([&](T v) { return v >= lo; });
    }
    r.end = std::max(r.end, r.begin);
    return r;
}

// torchvision's pre_calc_for_bilinear_interpolate along one axis, in-map sample.
template <class T>
AxisSample<T> axis_sample(T v, std::int64_t size) {
    if(v <= T(0)) {
        v = T(0);
    }
    AxisSample<T> s{};
    s.low = static_cast<std::int64_t>(v);
    if(s.low >= size - 1) {
        s.low = s.high = size - 1;
        v              = static_cast<T>(s.low);
    } else {
        s.high = s.low + 1;
    }
    s.l = v - static_cast<T>(s.low);
    s.h = T(1) - s.l;
    return s;
}

// Samples of every bin along one axis: samples[first[p] .. first[p + 1]) for
// bin p; partial[p] is 1 when bin p has an out-of-map sample. Returns the total.
template <class T>
std::int64_t axis_samples(T start, T bin, std::int64_t pooled, std::int64_t grid, std::int64_t size,
                          AxisSample<T>* samples, std::int64_t* first, unsigned char* partial) {
    std::int64_t n = 0;
    for(std::int64_t p = 0; p < pooled; ++p) {
        first[p] = n;
        const Range r = size > 0 ? in_map_samples(start, bin, p, grid, size) : Range{0, 0};
        partial[p]    = (r.end - r.begin) < grid ? 1 : 0;
        for(std::int64_t i = r.begin; i < r.end; ++i) {
            if(samples != nullptr) {
                samples[n] = axis_sample(sample_coord(start, bin, p, i, grid), size);
            }
            ++n;
        }
    }
    first[pooled] = n;
    return n;
}

// The four taps and weights of one 2-D sample (torchvision's PreCalc).
template <class T>
struct Tap4 {
    std::int64_t pos1, pos2, pos3, pos4;
    T w1, w2, w3, w4;
};

// Per-thread scratch: axis samples and the 2-D tap table of one ROI.
template <class T>
struct RoiAlignScratch {
    std::int64_t max_y = 0, max_x = 0, max_taps = 0, total_taps = 0;
    Buffer<AxisSample<T>> ys, xs;
    Buffer<std::int64_t> y_first, x_first, bin_first;
    Buffer<unsigned char> y_partial, x_partial;
    Buffer<Tap4<T>> taps;
    Buffer<T> acc; // one bin's values or gradients over the channels (channels-last path)

    // Each buffer gets 128 bytes of slack at its end, so that no two workers'
    // buffers (neighbours on the heap) share a cache line.
    void allocate(const RoiAlignParams& p, std::int64_t channels) {
        constexpr std::int64_t slack = 128;
        acc       = uninitialized_buffer<T>(channels + slack / static_cast<std::int64_t>(sizeof(T)));
        ys        = uninitialized_buffer<AxisSample<T>>(max_y + 8);
        xs        = uninitialized_buffer<AxisSample<T>>(max_x + 8);
        y_first   = uninitialized_buffer<std::int64_t>(p.pooled_h + 1 + slack / 8);
        x_first   = uninitialized_buffer<std::int64_t>(p.pooled_w + 1 + slack / 8);
        bin_first = uninitialized_buffer<std::int64_t>(p.pooled_h * p.pooled_w + 1 + slack / 8);
        y_partial = uninitialized_buffer<unsigned char>(p.pooled_h + slack);
        x_partial = uninitialized_buffer<unsigned char>(p.pooled_w + slack);
        taps      = uninitialized_buffer<Tap4<T>>(max_taps + 4);
    }
};

// Sizes the scratch for the largest ROI (a serial pre-pass over the boxes).
template <class T>
RoiAlignScratch<T> roi_align_scratch_sizes(const T* rois, std::int64_t k, std::int64_t height,
                                           std::int64_t width, T spatial_scale,
                                           const RoiAlignParams& p) {
    RoiAlignScratch<T> s;
    auto y_first   = uninitialized_buffer<std::int64_t>(p.pooled_h + 1);
    auto x_first   = uninitialized_buffer<std::int64_t>(p.pooled_w + 1);
    auto y_partial = uninitialized_buffer<unsigned char>(p.pooled_h);
    auto x_partial = uninitialized_buffer<unsigned char>(p.pooled_w);
    for(std::int64_t r = 0; r < k; ++r) {
        const RoiAlignBox<T> b = roi_align_box(rois + 5 * r, spatial_scale, p);
        if(b.grid_h == 0) {
            continue;
        }
        const std::int64_t ny = axis_samples<T>(b.start_h, b.bin_h, p.pooled_h, b.grid_h, height,
                                                nullptr, y_first.get(), y_partial.get());
        const std::int64_t nx = axis_samples<T>(b.start_w, b.bin_w, p.pooled_w, b.grid_w, width,
                                                nullptr, x_first.get(), x_partial.get());
        s.max_y    = std::max(s.max_y, ny);
        s.max_x    = std::max(s.max_x, nx);
        s.max_taps = std::max(s.max_taps, ny * nx);
        s.total_taps += ny * nx;
    }
    return s;
}

// Fills s.taps (bin by bin, samples in torchvision's iy-then-ix order) and
// s.bin_first; s.y_partial / s.x_partial mark bins with out-of-map samples.
template <class T>
void roi_align_taps(const RoiAlignBox<T>& b, std::int64_t height, std::int64_t width,
                    const RoiAlignParams& p, RoiAlignScratch<T>& s) {
    axis_samples(b.start_h, b.bin_h, p.pooled_h, b.grid_h, height, s.ys.get(), s.y_first.get(),
                 s.y_partial.get());
    axis_samples(b.start_w, b.bin_w, p.pooled_w, b.grid_w, width, s.xs.get(), s.x_first.get(),
                 s.x_partial.get());
    std::int64_t n = 0;
    for(std::int64_t ph = 0; ph < p.pooled_h; ++ph) {
        for(std::int64_t pw = 0; pw < p.pooled_w; ++pw) {
            s.bin_first[ph * p.pooled_w + pw] = n;
            for(std::int64_t iy = s.y_first[ph]; iy < s.y_first[ph + 1]; ++iy) {
                const AxisSample<T> y = s.ys[iy];
                for(std::int64_t ix = s.x_first[pw]; ix < s.x_first[pw + 1]; ++ix) {
                    const AxisSample<T> x = s.xs[ix];
                    Tap4<T>& t            = s.taps[n++];
                    t.pos1                = y.low * width + x.low;
                    t.pos2                = y.low * width + x.high;
                    t.pos3                = y.high * width + x.low;
                    t.pos4                = y.high * width + x.high;
                    t.w1                  = y.h * x.h;
                    t.w2                  = y.h * x.l;
                    t.w3                  = y.l * x.h;
                    t.w4                  = y.l * x.l;
                }
            }
        }
    }
    s.bin_first[p.pooled_h * p.pooled_w] = n;
}

// One scratch per worker, each sized for the largest ROI.
template <class T>
std::unique_ptr<RoiAlignScratch<T>[]> roi_align_workers(const RoiAlignScratch<T>& sizes, int workers,
                                                       const RoiAlignParams& p,
                                                       std::int64_t channels) {
    auto scratch = std::unique_ptr<RoiAlignScratch<T>[]>(new RoiAlignScratch<T>[workers]);
    for(int w = 0; w < workers; ++w) {
        scratch[w].max_y    = sizes.max_y;
        scratch[w].max_x    = sizes.max_x;
        scratch[w].max_taps = sizes.max_taps;
        scratch[w].allocate(p, channels);
    }
    return scratch;
}

// acc[c] += w1 a[c] + w2 b[c] + w3 d[c] + w4 e[c] over a run of channels:
// torchvision's per-sample expression, lane by lane (vectorises).
template <class T>
void add_tap(T* __restrict acc, const T* __restrict a, const T* __restrict b,
             const T* __restrict d, const T* __restrict e, T w1, T w2, T w3, T w4,
             std::int64_t n) {
    for(std::int64_t c = 0; c < n; ++c) {
        acc[c] += w1 * a[c] + w2 * b[c] + w3 * d[c] + w4 * e[c];
    }
}

// The forward on one ROI, planes in NCHW: per channel, per bin, its taps.
template <class T>
void roi_align_roi_nchw(const T* input, std::int64_t channels, std::int64_t plane,
                        const RoiAlignBox<T>& b, const RoiAlignParams& p, T count,
                        const RoiAlignScratch<T>& s, T* out_roi) {
    const std::int64_t bins   = p.pooled_h * p.pooled_w;
    const Tap4<T>* taps       = s.taps.get();
    const std::int64_t* first = s.bin_first.get();
    for(std::int64_t c = 0; c < channels; ++c) {
        const T* in = input + (b.batch * channels + c) * plane;
        T* out      = out_roi + c * bins;
        for(std::int64_t ph = 0; ph < p.pooled_h; ++ph) {
            for(std::int64_t pw = 0; pw < p.pooled_w; ++pw) {
                const std::int64_t bin = ph * p.pooled_w + pw;
                T acc                  = T(0);
                for(std::int64_t t = first[bin]; t < first[bin + 1]; ++t) {
                    const Tap4<T>& q = taps[t];
                    acc += q.w1 * in[q.pos1] + q.w2 * in[q.pos2] + q.w3 * in[q.pos3]
                           + q.w4 * in[q.pos4];
                }
                // torchvision multiplies an out-of-map sample's zero weights by the
                // plane's first pixel: NaN or inf there makes the bin NaN. One such
                // term gives the same bits as torchvision's several.
                if((s.y_partial[ph] | s.x_partial[pw]) != 0 && plane > 0) {
                    acc += T(0) * in[0];
                }
                out[bin] = acc / count;
            }
        }
    }
}

// The same on a channels-last copy (N, H, W, C): per bin, per tap, all
// channels at once. Every output still sums its samples in torchvision's order.
template <class T>
void roi_align_roi_nhwc(const T* input, std::int64_t channels, std::int64_t plane,
                        const RoiAlignBox<T>& b, const RoiAlignParams& p, T count,
                        RoiAlignScratch<T>& s, T* out_roi) {
    const std::int64_t bins   = p.pooled_h * p.pooled_w;
    const Tap4<T>* taps       = s.taps.get();
    const std::int64_t* first = s.bin_first.get();
    const T* img              = input + b.batch * plane * channels;
    T* acc                    = s.acc.get();
    for(std::int64_t ph = 0; ph < p.pooled_h; ++ph) {
        for(std::int64_t pw = 0; pw < p.pooled_w; ++pw) {
            const std::int64_t bin = ph * p.pooled_w + pw;
            std::fill(acc, acc + channels, T(0));
            for(std::int64_t t = first[bin]; t < first[bin + 1]; ++t) {
                const Tap4<T>& q = taps[t];
                add_tap(acc, img + q.pos1 * channels, img + q.pos2 * channels,
                        img + q.pos3 * channels, img + q.pos4 * channels, q.w1, q.w2, q.w3, q.w4,
                        channels);
            }
            if((s.y_partial[ph] | s.x_partial[pw]) != 0 && plane > 0) { // see the NCHW path
                for(std::int64_t c = 0; c < channels; ++c) {
                    acc[c] += T(0) * img[c];
                }
            }
            for(std::int64_t c = 0; c < channels; ++c) {
                out_roi[c * bins + bin] = acc[c] / count;
            }
        }
    }
}

// output (K, C, PH, PW) from input (N, C, H, W) and rois (K, 5), which
// find_bad_roi must have accepted for N. When the taps cover the maps several
// times over, works on a channels-last copy of the input (N * C * H * W more
// memory); both paths give the same bits.
template <class T>
void roi_align_forward(const T* input, std::int64_t batch, std::int64_t channels,
                       std::int64_t height, std::int64_t width, const T* rois, std::int64_t k,
                       T spatial_scale, const RoiAlignParams& p, T* output, int n_threads) {
    const std::int64_t bins = p.pooled_h * p.pooled_w;
    if(k == 0 || channels == 0 || bins == 0) {
        return;
    }
    const std::int64_t plane = height * width;
    const auto sizes  = roi_align_scratch_sizes(rois, k, height, width, spatial_scale, p);
    const int threads = threads_for(4 * sizes.total_taps * channels + k * channels * bins, n_threads);
    const int workers = dynamic_workers(k, threads);
    auto scratch      = roi_align_workers(sizes, workers, p, channels);
    const bool nhwc   = prefer_channels_last(sizes.total_taps, batch, channels, plane);
    LargeBuffer<T> last;
    if(nhwc) {
        last = large_uninitialized_buffer<T>(batch * plane * channels);
        transpose_each(input, batch, channels, plane, last.get(), threads); // (N, H*W, C)
    }
    parallel_dynamic_with_worker(k, threads, [&](std::int64_t r, int worker) {
        RoiAlignScratch<T>& s  = scratch[worker];
        const RoiAlignBox<T> b = roi_align_box(rois + 5 * r, spatial_scale, p);
        T* out_roi             = output + r * channels * bins;
        if(b.grid_h == 0) { // torchvision: "When the grid is empty, output zeros"
            std::fill(out_roi, out_roi + channels * bins, T(0));
            return;
        }
        roi_align_taps(b, height, width, p, s);
        const T count = static_cast<T>(std::max<std::int64_t>(b.grid_h * b.grid_w, 1));
        if(nhwc) {
            roi_align_roi_nhwc(last.get(), channels, plane, b, p, count, s, out_roi);
        } else {
            roi_align_roi_nchw(input, channels, plane, b, p, count, s, out_roi);
        }
    });
}

// 1 / count when that is exact (count a power of two, as for sampling_ratio 2),
// else 0. Then (g * w) * (1 / count) rounds exactly as torchvision's (g * w) / count:
// both are the correctly rounded value of the same real number.
template <class T>
T exact_inverse(std::int64_t count) {
    const bool power_of_two = count > 0 && (count & (count - 1)) == 0 && count <= (1LL << 60);
    return power_of_two ? T(1) / static_cast<T>(count) : T(0);
}

// Adds (g[c] * w_k) / count, or the same times an exact inverse, to the four
// pixels' runs of m channels, k = 1..4 in torchvision's order. The pixels may
// coincide at the border, so no __restrict on them (the compiler checks).
template <class T, bool Multiply>
void scatter_tap(T* const (&px)[4], const T* __restrict g, const Tap4<T>& q, T by, std::int64_t m,
                 std::integral_constant<bool, Multiply>) {
    T* g1 = px[0];
    T* g2 = px[1];
    T* g3 = px[2];
    T* g4 = px[3];
    const T w1 = q.w1, w2 = q.w2, w3 = q.w3, w4 = q.w4;
    for(std::int64_t c = 0; c < m; ++c) {
        const T gb = g[c];
        if constexpr(Multiply) {
            g1[c] += gb * w1 * by;
            g2[c] += gb * w2 * by;
            g3[c] += gb * w3 * by;
            g4[c] += gb * w4 * by;
        } else {
            g1[c] += gb * w1 / by;
            g2[c] += gb * w2 / by;
            g3[c] += gb * w3 / by;
            g4[c] += gb * w4 / by;
        }
    }
}

// grad_input (N, C, H, W) from grad_output (K, C, PH, PW): every sample sends
// (g * w) / count to its four pixels, in torchvision's order. Channel blocks
// run in parallel; with many taps the sums go to a channels-last buffer
// (vectorised over each block's channels), transposed into grad_input at the end.
template <class T>
void roi_align_backward(const T* grad_output, const T* rois, std::int64_t k, std::int64_t batch,
                        std::int64_t channels, std::int64_t height, std::int64_t width,
                        T spatial_scale, const RoiAlignParams& p, T* grad_input, int n_threads) {
    const std::int64_t plane  = height * width;
    const std::int64_t bins   = p.pooled_h * p.pooled_w;
    RoiAlignScratch<T> sizes;
    if(bins > 0) {
        sizes = roi_align_scratch_sizes(rois, k, height, width, spatial_scale, p);
    }
    const int threads = threads_for(4 * sizes.total_taps * channels + batch * channels * plane,
                                    n_threads);
    const std::int64_t blocks = channel_blocks(channels, threads);
    const int workers         = dynamic_workers(blocks, threads);
    auto scratch    = roi_align_workers(sizes, workers, p, channels);
    const bool nhwc = prefer_channels_last(sizes.total_taps, batch, channels, plane);
    LargeBuffer<T> last;
    if(nhwc) {
        last = large_uninitialized_buffer<T>(batch * plane * channels);
    }
    T* target = nhwc ? last.get() : grad_input;
    parallel_dynamic_with_worker(blocks, threads, [&](std::int64_t block, int worker) {
        const Range ch       = part_range(channels, block, blocks);
        const std::int64_t m = ch.end - ch.begin;
        for(std::int64_t n = 0; n < batch; ++n) {
            if(nhwc) {
                for(std::int64_t q = 0; q < plane; ++q) {
                    T* g = target + (n * plane + q) * channels + ch.begin;
                    std::fill(g, g + m, T(0));
                }
            } else {
                T* g = target + (n * channels + ch.begin) * plane;
                std::fill(g, g + m * plane, T(0));
            }
        }
        if(bins == 0) {
            return;
        }
        RoiAlignScratch<T>& s = scratch[worker];
        T* gvec               = s.acc.get();
        for(std::int64_t r = 0; r < k; ++r) {
            const RoiAlignBox<T> b = roi_align_box(rois + 5 * r, spatial_scale, p);
            if(b.grid_h == 0) {
                continue;
            }
            roi_align_taps(b, height, width, p, s);
            const T count             = static_cast<T>(b.grid_h * b.grid_w);
            const T inverse           = exact_inverse<T>(b.grid_h * b.grid_w);
            const Tap4<T>* taps       = s.taps.get();
            const std::int64_t* first = s.bin_first.get();
            if(nhwc) {
                T* img = target + b.batch * plane * channels + ch.begin;
                for(std::int64_t bin = 0; bin < bins; ++bin) {
                    for(std::int64_t c = 0; c < m; ++c) {
                        gvec[c] = grad_output[(r * channels + ch.begin + c) * bins + bin];
                    }
                    for(std::int64_t t = first[bin]; t < first[bin + 1]; ++t) {
                        const Tap4<T>& q = taps[t];
                        T* px[4] = {img + q.pos1 * channels, img + q.pos2 * channels,
                                    img + q.pos3 * channels, img + q.pos4 * channels};
                        if(inverse != T(0)) {
                            scatter_tap(px, gvec, q, inverse, m, std::true_type{});
                        } else {
                            scatter_tap(px, gvec, q, count, m, std::false_type{});
                        }
                    }
                }
                continue;
            }
            for(std::int64_t c = ch.begin; c < ch.end; ++c) {
                T* gi       = target + (b.batch * channels + c) * plane;
                const T* go = grad_output + (r * channels + c) * bins;
                for(std::int64_t bin = 0; bin < bins; ++bin) {
                    const T gb = go[bin];
                    for(std::int64_t t = first[bin]; t < first[bin + 1]; ++t) {
                        const Tap4<T>& q = taps[t];
                        gi[q.pos1] += gb * q.w1 / count;
                        gi[q.pos2] += gb * q.w2 / count;
                        gi[q.pos3] += gb * q.w3 / count;
                        gi[q.pos4] += gb * q.w4 / count;
                    }
                }
            }
        }
    });
    if(nhwc) {
        transpose_each(last.get(), batch, plane, channels, grad_input, threads); // back to NCHW
    }
}

} // namespace npk::detection
