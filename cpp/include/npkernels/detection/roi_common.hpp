#pragma once
// What ROI Align and ROI Pool share: the (K, 5) ROI rows [batch, x1, y1, x2, y2]
// in the feature map's dtype, their validity check, and the split of a
// backward pass into channel blocks.

#include "npkernels/parallel.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace npk::detection {

// torchvision reads the batch column as (int) rois[0]: truncation toward zero.
template <class T>
std::int64_t roi_batch(const T* roi) {
    return static_cast<std::int64_t>(roi[0]);
}

// First ROI row whose coordinates are not finite or whose batch index,
// truncated, is outside [0, n_batch); -1 when every row is valid. Written as
// !(in range) so that NaN takes the "bad" branch. Serial: K rows of 5 numbers
// are nothing next to the pooling itself.
template <class T>
std::int64_t find_bad_roi(const T* rois, std::int64_t k, std::int64_t n_batch) {
    for(std::int64_t r = 0; r < k; ++r) {
        const T* roi = rois + 5 * r;
        if(!(roi[0] > T(-1) && static_cast<double>(roi[0]) < static_cast<double>(n_batch))) {
            return r;
        }
        for(int j = 1; j < 5; ++j) {
            if(!std::isfinite(roi[j])) {
                return r;
            }
        }
    }
    return -1;
}

// Backward passes own whole (image, channel) planes: the channels are cut into
// blocks, two per thread when threaded so a busy core does not hold the other
// up. Any split gives the same bits, because each plane sees the ROIs in ROI
// order; each block rebuilds a ROI's taps, so fewer blocks cost less.
inline std::int64_t channel_blocks(std::int64_t channels, int n_threads) {
    const std::int64_t want = n_threads > 1 ? 2 * static_cast<std::int64_t>(n_threads) : 1;
    return std::max<std::int64_t>(1, std::min<std::int64_t>(channels, want));
}

// Channels-last copies: (N, C, P) <-> (N, P, C), P = H * W, in tiles that
// stay in cache. ROI kernels that read (or scatter into) many small regions
// of every channel pay for one such copy when it turns their per-channel
// strided gathers into contiguous, vectorised runs over the channels.
template <class T>
void to_channels_last(const T* src, std::int64_t n, std::int64_t c, std::int64_t p, T* dst,
                      int n_threads) {
    constexpr std::int64_t tile = 64;
    const std::int64_t tiles    = (p + tile - 1) / tile;
    parallel_for(n * tiles, 4, n_threads, [&](std::int64_t begin, std::int64_t end) {
        for(std::int64_t job = begin; job < end; ++job) {
            const std::int64_t img = job / tiles, p0 = (job % tiles) * tile;
            const std::int64_t p1 = std::min(p, p0 + tile);
            for(std::int64_t c0 = 0; c0 < c; c0 += tile) {
                const std::int64_t c1 = std::min(c, c0 + tile);
                for(std::int64_t q = p0; q < p1; ++q) {
                    T* out       = dst + (img * p + q) * c;
                    const T* in  = src + img * c * p + q;
                    for(std::int64_t ch = c0; ch < c1; ++ch) {
                        out[ch] = in[ch * p];
                    }
                }
            }
        }
    });
}

template <class T>
void from_channels_last(const T* src, std::int64_t n, std::int64_t c, std::int64_t p, T* dst,
                        int n_threads) {
    constexpr std::int64_t tile = 64;
    const std::int64_t tiles    = (c + tile - 1) / tile;
    parallel_for(n * tiles, 1, n_threads, [&](std::int64_t begin, std::int64_t end) {
        for(std::int64_t job = begin; job < end; ++job) {
            const std::int64_t img = job / tiles, c0 = (job % tiles) * tile;
            const std::int64_t c1 = std::min(c, c0 + tile);
            for(std::int64_t p0 = 0; p0 < p; p0 += tile) {
                const std::int64_t p1 = std::min(p, p0 + tile);
                for(std::int64_t ch = c0; ch < c1; ++ch) {
                    T* out      = dst + (img * c + ch) * p;
                    const T* in = src + img * p * c + ch;
                    for(std::int64_t q = p0; q < p1; ++q) {
                        out[q] = in[q * c];
                    }
                }
            }
        }
    });
}

// Whether a ROI kernel should work on a channels-last copy: when its taps
// (pixel reads per channel) cover the maps several times over, the copy's
// two passes are cheap next to the strided per-channel gathers it saves.
inline bool prefer_channels_last(std::int64_t taps, std::int64_t n, std::int64_t c,
                                 std::int64_t plane) {
    return c >= 8 && taps >= n * plane / 2;
}

} // namespace npk::detection
