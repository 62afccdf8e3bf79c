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
// one block per thread. Each block sweeps every ROI's region of the maps and
// rebuilds every ROI's taps, so more blocks cost more memory traffic (measured:
// 4 blocks for 2 threads ran slower than 2). Any split gives the same bits,
// because each plane sees the ROIs in ROI order.
inline std::int64_t channel_blocks(std::int64_t channels, int n_threads) {
    return std::max<std::int64_t>(1, std::min<std::int64_t>(channels, std::max(n_threads, 1)));
}

// dst[b] = transpose(src[b]) for n row-major (rows x cols) matrices, in
// tiles that stay in cache, tiles spread over threads. ROI kernels use it for
// channels-last copies, (N, C, H*W) <-> (N, H*W, C): one such copy pays when
// it turns per-channel strided gathers into contiguous, vectorised runs over
// the channels.
template <class T>
void transpose_each(const T* src, std::int64_t n, std::int64_t rows, std::int64_t cols, T* dst,
                    int n_threads) {
    constexpr std::int64_t tile = 64;
    const std::int64_t tiles    = (cols + tile - 1) / tile;
    parallel_for(n * tiles, grain_for(2 * rows * tile), n_threads, [&](std::int64_t begin, std::int64_t end) {
        for(std::int64_t job = begin; job < end; ++job) {
            const std::int64_t b = job / tiles, c0 = (job % tiles) * tile;
            const std::int64_t c1 = std::min(cols, c0 + tile);
            const T* in           = src + b * rows * cols;
            T* out                = dst + b * rows * cols;
            for(std::int64_t r0 = 0; r0 < rows; r0 += tile) {
                const std::int64_t r1 = std::min(rows, r0 + tile);
                for(std::int64_t c = c0; c < c1; ++c) {
                    for(std::int64_t r = r0; r < r1; ++r) {
                        out[c * rows + r] = in[r * cols + c];
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
