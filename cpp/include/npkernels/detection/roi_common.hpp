#pragma once
// What ROI Align and ROI Pool share: the (K, 5) ROI rows [batch, x1, y1, x2, y2]
// in the feature map's dtype, their validity check, and the split of a
// backward pass into channel blocks.

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
// blocks, a few per thread so a busy core does not hold the others up. Any
// split gives the same bits, because each plane sees the ROIs in ROI order.
inline std::int64_t channel_blocks(std::int64_t channels, int n_threads) {
    return std::max<std::int64_t>(1, std::min<std::int64_t>(channels, 4 * std::max(n_threads, 1)));
}

} // namespace npk::detection
