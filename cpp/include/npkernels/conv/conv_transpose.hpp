#pragma once
// conv_transpose2d: the input gradient of conv2d (PyTorch's definition), with
// PyTorch's weight layout (C_in, C_out/groups, kH, kW) — which is exactly the
// conv2d weight (O = C_in, C/groups = C_out/groups) of the convolution being
// transposed. So it is conv2d_backward's grad_input with x as grad_output,
// plus the bias.

#include <cstdint>

#include "npkernels/blas.hpp"
#include "npkernels/conv/conv_backward.hpp"
#include "npkernels/parallel.hpp"

namespace npk::conv {

// x (N, C_in, H, W), w (C_in, C_out/groups, kH, kW), bias (C_out,) or null;
// cv describes the convolution being transposed: out_channels = C_in,
// g.channels = C_out, g.in_h/in_w = the output size, g.out_h/out_w = H, W.
// y (N, C_out, Hout, Wout).
template <class T>
bool conv_transpose2d(const T* x, const T* w, const T* bias, const Conv& cv,
                      blas::GemmFn<T> gemm, T* y, int n_threads) {
    if(!conv2d_backward<T>(x, nullptr, w, cv, gemm, y, nullptr, nullptr, n_threads)) {
        return false;
    }
    if(bias != nullptr) {
        const std::int64_t planes = cv.batch * cv.g.channels, hw = cv.g.in_area();
        parallel_for(planes, grain_for(hw), n_threads, [&](std::int64_t b, std::int64_t e) {
            for(std::int64_t p = b; p < e; ++p) {
                const T v = bias[p % cv.g.channels];
                T* plane  = y + p * hw;
                for(std::int64_t j = 0; j < hw; ++j) {
                    plane[j] += v;
                }
            }
        });
    }
    return true;
}

} // namespace npk::conv
