#pragma once
// Lp pooling as torch.nn.functional.lp_pool2d defines it (no padding):
//   y = (kH*kW * avg_pool(x^p))^(1/p)
// with avg_pool dividing by the window clipped to the input, so a ceil_mode
// tail window is rescaled to the full kernel; x^p, not |x|^p, so a negative
// sum with a fractional 1/p gives NaN. Powers use torch's shortcuts (sqrt,
// rsqrt, reciprocal, products) so zeros and infinities get torch's signs.
// The backward is torch's autograd chain, written out (see lp_pool2d_backward).

#include <cmath>
#include <cstdint>

#include "npkernels/pool/avg_pool.hpp"

namespace npk::pool {

// v^e for one exponent, chosen once: torch's pow(tensor, scalar).
class TorchPow {
  public:
    explicit TorchPow(double e) : e_(e) {
        kind_ = e == 0.5 ? Kind::sqrt : e == -0.5 ? Kind::rsqrt : e == 2.0 ? Kind::square
              : e == 3.0 ? Kind::cube : e == -1.0 ? Kind::reciprocal
              : e == -2.0 ? Kind::inverse_square : Kind::general;
    }
    template <class T>
    T operator()(T v) const {
        switch(kind_) {
        case Kind::sqrt: return std::sqrt(v);
        case Kind::rsqrt: return T(1) / std::sqrt(v);
        case Kind::square: return v * v;
        case Kind::cube: return v * v * v;
        case Kind::reciprocal: return T(1) / v;
        case Kind::inverse_square: return T(1) / (v * v);
        case Kind::general: break;
        }
        return std::pow(v, static_cast<T>(e_));
    }

  private:
    enum class Kind { sqrt, rsqrt, square, cube, reciprocal, inverse_square, general };
    double e_;
    Kind kind_;
};

namespace detail {

template <class T>
void power_plane(const T* x, std::int64_t n, const TorchPow& pw, T* out) {
    for(std::int64_t i = 0; i < n; ++i) {
        out[i] = pw(x[i]);
    }
}

template <class T>
inline T torch_sign(T v) { // torch.sign: 0 for NaN
    return v > T(0) ? T(1) : v < T(0) ? T(-1) : T(0);
}

} // namespace detail

// p finite and non-zero (p = +-inf is max pooling of |x|, done by the caller).
template <class T>
void lp_pool2d_forward(const T* x, const Geometry& g, double p, T* y, int n_threads) {
    const TorchPow to_p(p), to_inv_p(1.0 / p);
    const T kk                    = static_cast<T>(g.h.kernel * g.w.kernel);
    const AvgOptions clipped      = {true, 0}; // no padding: the padded window is the clipped one
    const detail::AvgRowFn<T> fix = detail::fixed_avg_row<T>(g);
    const int parts   = plane_parts(g.planes, n_threads, g.in_plane() + g.out_plane());
    Buffer<T> scratch = uninitialized_buffer<T>(g.in_plane() * parts);
    for_each_plane(g.planes, parts, [&](std::int64_t plane, std::int64_t part) {
        T* powered = scratch.get() + part * g.in_plane();
        T* yp      = y + plane * g.out_plane();
        detail::power_plane(x + plane * g.in_plane(), g.in_plane(), to_p, powered);
        detail::avg_plane(powered, g, clipped, fix, yp);
        for(std::int64_t o = 0; o < g.out_plane(); ++o) {
            yp[o] = to_inv_p(yp[o] * kk);
        }
    });
}

// With a the window mean of x^p, m = kH*kW*a, s = sign(a) (0 for NaN):
//   g_t = gy * ((1/p) * m^(1/p - 1)) * kH*kW        (pow, then mul)
//   g_w = (|a| <= 0 ? 0 : g_t * s) * s              (sign(a) * relu(|a|))
//   G   = sum over the windows holding x of g_w / count   (avg_pool2d backward)
//   grad_x = G * (p * x^(p-1))                       (x.pow(p))
// so a zero-sum window gives no gradient, as torch documents.
template <class T>
void lp_pool2d_backward(const T* grad_output, const T* x, const Geometry& g, double p,
                        T* grad_input, int n_threads) {
    const TorchPow to_p(p), to_inv_p_minus_1(1.0 / p - 1.0), to_p_minus_1(p - 1.0);
    const T kk = static_cast<T>(g.h.kernel * g.w.kernel);
    const T inv_p = static_cast<T>(1.0 / p), tp = static_cast<T>(p);
    const std::int64_t width = g.w.size;
    const int parts   = plane_parts(g.planes, n_threads, g.in_plane() + g.out_plane());
    Buffer<T> scratch = uninitialized_buffer<T>(g.in_plane() * parts);
    for_each_plane(g.planes, parts, [&](std::int64_t plane, std::int64_t part) {
        T* powered  = scratch.get() + part * g.in_plane();
        const T* xp = x + plane * g.in_plane();
        const T* go = grad_output + plane * g.out_plane();
        T* gi       = grad_input + plane * g.in_plane();
        detail::power_plane(xp, g.in_plane(), to_p, powered);
        for(std::int64_t i = 0; i < g.in_plane(); ++i) {
            gi[i] = T(0);
        }
        for(std::int64_t oh = 0; oh < g.h.out; ++oh) {
            const AvgSpan hs = avg_span(g.h, oh);
            for(std::int64_t ow = 0; ow < g.w.out; ++ow) {
                const AvgSpan ws  = avg_span(g.w, ow);
                const T count     = static_cast<T>((hs.stop - hs.start) * (ws.stop - ws.start));
                const T a         = detail::window_sum(powered, width, hs, ws) / count;
                const T gt        = go[oh * g.w.out + ow] * (inv_p * to_inv_p_minus_1(a * kk)) * kk;
                const T s         = detail::torch_sign(a);
                const T gw        = (std::abs(a) <= T(0) ? T(0) : gt * s) * s;
                const T delta     = gw / count;
                for(std::int64_t ih = hs.start; ih < hs.stop; ++ih) {
                    for(std::int64_t iw = ws.start; iw < ws.stop; ++iw) {
                        gi[ih * width + iw] += delta;
                    }
                }
            }
        }
        for(std::int64_t i = 0; i < g.in_plane(); ++i) {
            gi[i] = gi[i] * (tp * to_p_minus_1(xp[i]));
        }
    });
}

} // namespace npk::pool
