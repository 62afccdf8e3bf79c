#pragma once
// ROI Pool forward and backward, exactly torchvision's C++ CPU kernel
// (roi_pool_kernel.cpp): coordinates rounded half away from zero, integer
// bins, strict '>' max (NaN never wins), -FLT_MAX start for a non-empty bin.
// The forward runs ROIs in parallel and scans each channel's bins together
// (cache-friendly); the backward runs channel blocks in parallel, each plane
// receiving the ROIs in order, as torchvision's serial loop does.

#include "npkernels/buffer.hpp"
#include "npkernels/detection/roi_common.hpp"
#include "npkernels/parallel.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <type_traits>

namespace npk::detection {

// round(v) as torchvision's int, clamped to +-2^40 so that no later integer
// sum overflows (torchvision's int overflows there; any map is far smaller).
template <class T>
std::int64_t rounded_coord(T v) {
    const double r = static_cast<double>(std::round(v));
    const double limit = 1099511627776.0; // 2^40
    return static_cast<std::int64_t>(std::min(std::max(r, -limit), limit));
}

// [begin, end) pixel ranges of every bin along one axis of one ROI.
template <class T>
void roi_pool_bins(std::int64_t start, std::int64_t roi_size, std::int64_t pooled,
                   std::int64_t size, std::int64_t* begin, std::int64_t* end) {
    const T bin = static_cast<T>(roi_size) / static_cast<T>(pooled);
    for(std::int64_t p = 0; p < pooled; ++p) {
        const auto lo = static_cast<std::int64_t>(std::floor(static_cast<T>(p) * bin));
        const auto hi = static_cast<std::int64_t>(std::ceil(static_cast<T>(p + 1) * bin));
        begin[p]      = std::min(std::max(lo + start, std::int64_t(0)), size);
        end[p]        = std::min(std::max(hi + start, std::int64_t(0)), size);
    }
}

// The ROI's geometry: rounded start, size (torchvision: "Force malformed ROIs
// to be 1x1", note the +1) and the bins' pixel ranges.
template <class T>
void roi_pool_geometry(const T* roi, T spatial_scale, std::int64_t pooled_h, std::int64_t pooled_w,
                       std::int64_t height, std::int64_t width, std::int64_t* bounds) {
    const std::int64_t start_w = rounded_coord(roi[1] * spatial_scale);
    const std::int64_t start_h = rounded_coord(roi[2] * spatial_scale);
    const std::int64_t end_w   = rounded_coord(roi[3] * spatial_scale);
    const std::int64_t end_h   = rounded_coord(roi[4] * spatial_scale);
    const std::int64_t roi_w   = std::max<std::int64_t>(end_w - start_w + 1, 1);
    const std::int64_t roi_h   = std::max<std::int64_t>(end_h - start_h + 1, 1);
    std::int64_t* h_begin      = bounds;
    std::int64_t* h_end        = h_begin + pooled_h;
    std::int64_t* w_begin      = h_end + pooled_h;
    std::int64_t* w_end        = w_begin + pooled_w;
    roi_pool_bins<T>(start_h, roi_h, pooled_h, height, h_begin, h_end);
    roi_pool_bins<T>(start_w, roi_w, pooled_w, width, w_begin, w_end);
}

// Pixels one channel's scan reads for this ROI.
inline std::int64_t roi_pool_area(const std::int64_t* bounds, std::int64_t pooled_h,
                                  std::int64_t pooled_w) {
    std::int64_t rows = 0, cols = 0;
    for(std::int64_t i = 0; i < pooled_h; ++i) {
        rows += std::max<std::int64_t>(0, bounds[pooled_h + i] - bounds[i]);
    }
    for(std::int64_t i = 0; i < pooled_w; ++i) {
        cols += std::max<std::int64_t>(0, bounds[2 * pooled_h + pooled_w + i] - bounds[2 * pooled_h + i]);
    }
    return rows * cols;
}

// A pixel index as wide as T, so that value and index lanes pair up and the
// channel loop below vectorises (the float path needs H * W < 2^31).
template <class T>
using LaneIndex = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;

// best/at over a run of channels of one pixel: strict '>' lane by lane, so
// each channel keeps its first maximum and NaN never wins.
template <class T>
void pool_pixel(T* __restrict best, LaneIndex<T>* __restrict at, const T* __restrict v,
                LaneIndex<T> index, std::int64_t n) {
    using I = LaneIndex<T>;
    for(std::int64_t c = 0; c < n; ++c) {
        const T b = best[c], x = v[c];
        const I mask = -static_cast<I>(x > b); // all ones where x wins (a select GCC vectorises)
        best[c]      = x > b ? x : b;
        at[c]        = (index & mask) | (at[c] & ~mask);
    }
}

// output and argmax (K, C, PH, PW) from input (N, C, H, W) and rois (K, 5),
// which find_bad_roi must have accepted for N. argmax is the flat index into
// the H x W plane, -1 for an empty bin or one where nothing beat -FLT_MAX.
// When the bins cover the maps several times over, scans a channels-last copy
// (all channels of a pixel at once); both paths give the same bits.
template <class T>
void roi_pool_forward(const T* input, std::int64_t batch, std::int64_t channels,
                      std::int64_t height, std::int64_t width, const T* rois, std::int64_t k,
                      T spatial_scale, std::int64_t pooled_h, std::int64_t pooled_w, T* output,
                      std::int64_t* argmax, int n_threads) {
    const std::int64_t bins = pooled_h * pooled_w;
    if(k == 0 || channels == 0 || bins == 0) {
        return;
    }
    const std::int64_t plane = height * width;
    const int workers        = dynamic_workers(k, n_threads);
    // Per-worker scratch 128 bytes apart: written per ROI and read in the
    // inner loops, it must not share a cache line with another worker's.
    const std::int64_t span  = 2 * (pooled_h + pooled_w) + 16;
    auto bounds              = uninitialized_buffer<std::int64_t>(span * workers);
    std::int64_t scanned     = 0;
    for(std::int64_t r = 0; r < k; ++r) {
        roi_pool_geometry(rois + 5 * r, spatial_scale, pooled_h, pooled_w, height, width,
                          bounds.get());
        scanned += roi_pool_area(bounds.get(), pooled_h, pooled_w);
    }
    // Scratch is sized for n_threads workers; a small problem runs on fewer.
    const int threads = threads_for(scanned * channels + k * channels * bins, n_threads);
    const bool nhwc = prefer_channels_last(scanned / 4, batch, channels, plane)
                      && plane <= std::numeric_limits<LaneIndex<T>>::max();
    LargeBuffer<T> last;
    const std::int64_t row_span = channels * pooled_w + 32; // + 128 bytes or more
    Buffer<T> best_all;
    Buffer<LaneIndex<T>> at_all;
    if(nhwc) {
        last     = large_uninitialized_buffer<T>(batch * plane * channels);
        best_all = uninitialized_buffer<T>(row_span * workers);
        at_all   = uninitialized_buffer<LaneIndex<T>>(row_span * workers);
        transpose_each(input, batch, channels, plane, last.get(), threads); // (N, H*W, C)
    }
    const T lowest = static_cast<T>(-FLT_MAX);
    parallel_dynamic_with_worker(k, threads, [&](std::int64_t r, int worker) {
        const T* roi         = rois + 5 * r;
        const std::int64_t b = roi_batch(roi);
        std::int64_t* hb     = bounds.get() + span * worker;
        std::int64_t* he     = hb + pooled_h;
        std::int64_t* wb     = he + pooled_h;
        std::int64_t* we     = wb + pooled_w;
        roi_pool_geometry(roi, spatial_scale, pooled_h, pooled_w, height, width, hb);
        if(nhwc) {
            const T* img  = last.get() + b * plane * channels;
            T* best_row   = best_all.get() + row_span * worker;
            auto* at_row  = at_all.get() + row_span * worker;
            // A row of bins at a time, each pixel row across all of them: the ROI's
            // rows stream through contiguously. Each bin still sees its pixels in
            // row-major order, so the first maximum wins as in torchvision.
            for(std::int64_t ph = 0; ph < pooled_h; ++ph) {
                for(std::int64_t pw = 0; pw < pooled_w; ++pw) {
                    const bool empty = he[ph] <= hb[ph] || we[pw] <= wb[pw];
                    std::fill(best_row + pw * channels, best_row + (pw + 1) * channels,
                              empty ? T(0) : lowest);
                    std::fill(at_row + pw * channels, at_row + (pw + 1) * channels,
                              LaneIndex<T>(-1));
                }
                for(std::int64_t h = hb[ph]; h < he[ph]; ++h) {
                    for(std::int64_t pw = 0; pw < pooled_w; ++pw) {
                        for(std::int64_t w = wb[pw]; w < we[pw]; ++w) {
                            const auto index = static_cast<LaneIndex<T>>(h * width + w);
                            pool_pixel(best_row + pw * channels, at_row + pw * channels,
                                       img + static_cast<std::int64_t>(index) * channels, index,
                                       channels);
                        }
                    }
                }
                for(std::int64_t pw = 0; pw < pooled_w; ++pw) {
                    const std::int64_t bin = ph * pooled_w + pw;
                    for(std::int64_t c = 0; c < channels; ++c) {
                        output[(r * channels + c) * bins + bin] = best_row[pw * channels + c];
                        argmax[(r * channels + c) * bins + bin] = at_row[pw * channels + c];
                    }
                }
            }
            return;
        }
        for(std::int64_t c = 0; c < channels; ++c) {
            const T* in       = input + (b * channels + c) * plane;
            T* out            = output + (r * channels + c) * bins;
            std::int64_t* arg = argmax + (r * channels + c) * bins;
            for(std::int64_t ph = 0; ph < pooled_h; ++ph) {
                for(std::int64_t pw = 0; pw < pooled_w; ++pw) {
                    const bool empty = he[ph] <= hb[ph] || we[pw] <= wb[pw];
                    T best           = empty ? T(0) : lowest;
                    std::int64_t at  = -1;
                    for(std::int64_t h = hb[ph]; h < he[ph]; ++h) {
                        const T* row = in + h * width;
                        for(std::int64_t w = wb[pw]; w < we[pw]; ++w) {
                            if(row[w] > best) { // strict: the first maximum wins, NaN never
                                best = row[w];
                                at   = h * width + w;
                            }
                        }
                    }
                    out[ph * pooled_w + pw] = best;
                    arg[ph * pooled_w + pw] = at;
                }
            }
        }
    });
}

// grad_input (N, C, H, W): grad_input[batch, c, argmax] += grad_output for
// every bin with argmax != -1, ROIs in order. argmax comes from the caller, so
// each entry is checked where it is used: returns the flat index of the first
// entry outside [-1, plane) (nothing is written through it; the caller must
// then discard grad_input), or -1. Each block keeps the smallest bad index it
// meets and the smallest over the blocks is returned: the first bad entry in
// C order, whatever the split and scan order.
template <class T>
std::int64_t roi_pool_backward(const T* grad_output, const std::int64_t* argmax, const T* rois,
                               std::int64_t k, std::int64_t batch, std::int64_t channels,
                               std::int64_t height, std::int64_t width, std::int64_t bins,
                               T* grad_input, int n_threads) {
    const std::int64_t plane  = height * width;
    const int threads = threads_for(k * channels * bins + batch * channels * plane, n_threads);
    const std::int64_t blocks = channel_blocks(channels, threads);
    auto first_bad            = uninitialized_buffer<std::int64_t>(blocks);
    parallel_dynamic(blocks, threads, [&](std::int64_t block) {
        const Range ch    = part_range(channels, block, blocks);
        first_bad[block] = -1;
        for(std::int64_t n = 0; n < batch; ++n) {
            T* g = grad_input + (n * channels + ch.begin) * plane;
            std::fill(g, g + (ch.end - ch.begin) * plane, T(0));
        }
        // Channel by channel, all ROIs in order: the N planes of one channel stay
        // in cache while its bins are added (ROI-major would sweep every plane
        // per ROI); each plane still receives the ROIs in order.
        for(std::int64_t c = ch.begin; c < ch.end; ++c) {
            for(std::int64_t r = 0; r < k; ++r) {
                const std::int64_t b    = roi_batch(rois + 5 * r);
                T* gi                   = grad_input + (b * channels + c) * plane;
                const std::int64_t at   = (r * channels + c) * bins;
                const T* go             = grad_output + at;
                const std::int64_t* arg = argmax + at;
                for(std::int64_t i = 0; i < bins; ++i) {
                    const std::int64_t a = arg[i];
                    if(a != -1) {
                        if(a < -1 || a >= plane) { // never written through
                            const std::int64_t pos = at + i;
                            if(first_bad[block] < 0 || pos < first_bad[block]) {
                                first_bad[block] = pos;
                            }
                            continue;
                        }
                        gi[a] += go[i];
                    }
                }
            }
        }
    });
    std::int64_t bad = -1;
    for(std::int64_t block = 0; block < blocks; ++block) {
        if(first_bad[block] >= 0 && (bad < 0 || first_bad[block] < bad)) {
            bad = first_bad[block];
        }
    }
    return bad;
}

} // namespace npk::detection
