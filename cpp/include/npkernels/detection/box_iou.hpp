#pragma once
// Box areas, pairwise IoU and generalized IoU, and the element-wise GIoU loss,
// with torchvision.ops' arithmetic (boxes.py, giou_loss.py) in the input dtype.
// Every output element is written by exactly one thread.

#include <algorithm>
#include <cstdint>

#include "npkernels/detection/box_ops.hpp"
#include "npkernels/parallel.hpp"

namespace npk::detection {

// out[i] = (x2 - x1) * (y2 - y1) of row i of boxes (n x 4).
template <class T>
void box_area(const T* boxes, std::int64_t n, T* out, int n_threads) {
    parallel_for(n, std::int64_t{1} << 14, n_threads, [=](std::int64_t begin, std::int64_t end) {
        for(std::int64_t i = begin; i < end; ++i) {
            const T* b = boxes + 4 * i;
            out[i]     = box_area_of(b[0], b[1], b[2], b[3]);
        }
    });
}

namespace detail {

// out[i, j] = pair(a[i] as x1, y1, x2, y2, area_a[i], b[j] as a row, area_b[j])
// for an n x m output; b_area is scratch for the m areas of b.
template <class T, class PairFn>
void pairwise(const T* a, std::int64_t n, const T* b, std::int64_t m, T* b_area, T* out,
              int n_threads, PairFn pair) {
    box_area(b, m, b_area, n_threads);
    const T* ba              = b_area;
    const std::int64_t grain = std::max<std::int64_t>(1, 65536 / std::max<std::int64_t>(m, 1));
    parallel_for(n, grain, n_threads, [&](std::int64_t begin, std::int64_t end) {
        for(std::int64_t i = begin; i < end; ++i) {
            // Copies, not loads through a: stores to out could alias a, and that
            // alone stops the inner loop from vectorising.
            const T x1 = a[4 * i], y1 = a[4 * i + 1], x2 = a[4 * i + 2], y2 = a[4 * i + 3];
            const T area = box_area_of(x1, y1, x2, y2);
            T* row       = out + i * m;
            for(std::int64_t j = 0; j < m; ++j) {
                row[j] = pair(x1, y1, x2, y2, area, b + 4 * j, ba[j]);
            }
        }
    });
}

} // namespace detail

// out[i, j] = IoU(a[i], b[j]) as torchvision.ops.box_iou: a is n x 4, b is
// m x 4, out is n x m; b_area is scratch for m values.
template <class T>
void box_iou(const T* a, std::int64_t n, const T* b, std::int64_t m, T* b_area, T* out,
             int n_threads) {
    detail::pairwise(a, n, b, m, b_area, out, n_threads,
                     [](T x1, T y1, T x2, T y2, T area, const T* q, T q_area) {
                         const T inter = intersection(x1, y1, x2, y2, q[0], q[1], q[2], q[3]);
                         return iou_from(inter, area, q_area);
                     });
}

// out[i, j] = GIoU(a[i], b[j]) = IoU - (C - U) / C, C the enclosing box's
// area, as torchvision.ops.generalized_box_iou.
template <class T>
void generalized_box_iou(const T* a, std::int64_t n, const T* b, std::int64_t m, T* b_area,
                         T* out, int n_threads) {
    detail::pairwise(a, n, b, m, b_area, out, n_threads,
                     [](T x1, T y1, T x2, T y2, T area, const T* q, T q_area) {
                         const T inter = intersection(x1, y1, x2, y2, q[0], q[1], q[2], q[3]);
                         const T uni   = area + q_area - inter;
                         const T iou   = inter / uni;
                         const T cw    = std::max(T(0), std::max(x2, q[2]) - std::min(x1, q[0]));
                         const T ch    = std::max(T(0), std::max(y2, q[3]) - std::min(y1, q[1]));
                         const T hull  = cw * ch;
                         return iou - (hull - uni) / hull;
                     });
}

// out[i] = 1 - GIoU(a[i], b[i]) with eps, as torchvision.ops.generalized_box_iou_loss
// (reduction 'none'): iou = I / (U + eps), giou = iou - (C - U) / (C + eps),
// the intersection counted only where both overlaps are strictly positive.
template <class T>
void generalized_box_iou_loss(const T* a, const T* b, std::int64_t n, T eps, T* out,
                              int n_threads) {
    parallel_for(n, std::int64_t{1} << 13, n_threads, [=](std::int64_t begin, std::int64_t end) {
        for(std::int64_t i = begin; i < end; ++i) {
            const T* p = a + 4 * i;
            const T* q = b + 4 * i;
            const T x1 = p[0], y1 = p[1], x2 = p[2], y2 = p[3];
            const T u1 = q[0], v1 = q[1], u2 = q[2], v2 = q[3];
            const T ix1 = std::max(x1, u1), iy1 = std::max(y1, v1);
            const T ix2 = std::min(x2, u2), iy2 = std::min(y2, v2);
            const T inter = (iy2 > iy1 && ix2 > ix1) ? (ix2 - ix1) * (iy2 - iy1) : T(0);
            const T uni   = box_area_of(x1, y1, x2, y2) + box_area_of(u1, v1, u2, v2) - inter;
            const T iou   = inter / (uni + eps);
            const T hull  = (std::max(x2, u2) - std::min(x1, u1)) * (std::max(y2, v2) - std::min(y1, v1));
            out[i]        = T(1) - (iou - (hull - uni) / (hull + eps));
        }
    });
}

} // namespace npk::detection
