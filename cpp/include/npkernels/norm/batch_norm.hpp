#pragma once
// Batch normalisation over (N, C, S) (S = H*W, or 1 for (N, C)), per channel:
//   x_hat = (x - mean) * invstd,  invstd = 1 / sqrt(var + eps),  y = gamma * x_hat + beta
// Statistics accumulate in double from a shift (the channel's first value), so
// float32 stays accurate on large batches and large means: each lane of a fixed
// 8-lane accumulator sums (x - K) and (x - K)^2, the lanes combined in order.
// Work is split by channel: one thread reads a channel's N planes for the
// statistics and again (from its cache) to normalise, so memory sees x once.
// The backward is ATen's training formula:
//   dot = sum dy * (x - mean),  gm = sum dy / M,  k = dot * invstd^2 / M
//   dx  = (dy - gm - (x - mean) * k) * invstd * gamma,  dgamma = dot * invstd,  dbeta = sum dy

#include <cmath>
#include <cstdint>

#include "npkernels/parallel.hpp"

namespace npk::norm {

struct Layout {
    std::int64_t n;        // batch
    std::int64_t c;        // channels
    std::int64_t s;        // spatial size per (n, c)
    std::int64_t count() const { return n * s; } // values per channel
};

namespace detail {

constexpr int lanes = 8;

// sum (a - ka) * (b - kb) and sum (b - kb) over channel ch, in double, fixed lanes.
// With a == b this gives the shifted sums of squares; the backward uses a = x, b = dy.
template <class T, bool Square>
void channel_sums(const T* a, double ka, const T* b, double kb, const Layout& l, std::int64_t ch,
                  double& sum_b, double& sum_ab) {
    double s1[lanes] = {}, s2[lanes] = {};
    for(std::int64_t n = 0; n < l.n; ++n) {
        const std::int64_t off = (n * l.c + ch) * l.s;
        const T* pa            = a + off;
        const T* pb            = b + off;
        std::int64_t i         = 0;
        for(; i + lanes <= l.s; i += lanes) {
            for(int j = 0; j < lanes; ++j) {
                const double db = static_cast<double>(pb[i + j]) - kb;
                const double da = Square ? db : static_cast<double>(pa[i + j]) - ka;
                s1[j] += db;
                s2[j] += da * db;
            }
        }
        for(int j = 0; i < l.s; ++i, ++j) {
            const double db = static_cast<double>(pb[i]) - kb;
            const double da = Square ? db : static_cast<double>(pa[i]) - ka;
            s1[j] += db;
            s2[j] += da * db;
        }
    }
    sum_b = sum_ab = 0.0;
    for(int j = 0; j < lanes; ++j) {
        sum_b += s1[j];
        sum_ab += s2[j];
    }
}

// y = (x - mean) * scale + shift over channel ch.
template <class T>
void channel_apply(const T* x, const Layout& l, std::int64_t ch, T mean, T scale, T shift, T* y) {
    for(std::int64_t n = 0; n < l.n; ++n) {
        const std::int64_t off = (n * l.c + ch) * l.s;
        const T* px            = x + off;
        T* py                  = y + off;
        for(std::int64_t i = 0; i < l.s; ++i) {
            py[i] = (px[i] - mean) * scale + shift;
        }
    }
}

template <class T>
T at_or(const T* p, std::int64_t i, T fallback) {
    return p != nullptr ? p[i] : fallback;
}

} // namespace detail

// Training forward. gamma, beta may be null (1, 0). Outputs y, mean and invstd (of
// the biased variance) in T, and the unbiased variance in double (for the running
// statistics; NaN when count == 1). count must be >= 1.
template <class T>
void batch_norm_forward(const T* x, const Layout& l, const T* gamma, const T* beta, double eps,
                        T* y, T* mean, T* invstd, double* unbiased_var, int n_threads) {
    const double m = static_cast<double>(l.count());
    parallel_for(l.c, 1, n_threads, [&](std::int64_t begin, std::int64_t end) {
        for(std::int64_t ch = begin; ch < end; ++ch) {
            const double k = static_cast<double>(x[ch * l.s]); // the first value, n = 0
            double s1 = 0.0, s2 = 0.0;
            detail::channel_sums<T, true>(x, k, x, k, l, ch, s1, s2);
            const double mu   = k + s1 / m;
            const double sq   = std::fmax(s2 - s1 * s1 / m, 0.0); // sum (x - mu)^2
            const double istd = 1.0 / std::sqrt(sq / m + eps);
            mean[ch]          = static_cast<T>(mu);
            invstd[ch]        = static_cast<T>(istd);
            unbiased_var[ch]  = l.count() > 1 ? sq / (m - 1.0) : std::nan("");
            const double g    = static_cast<double>(detail::at_or(gamma, ch, T(1)));
            detail::channel_apply(x, l, ch, mean[ch], static_cast<T>(g * istd),
                                  detail::at_or(beta, ch, T(0)), y);
        }
    });
}

// Evaluation forward with given statistics: y = (x - mean) * (gamma / sqrt(var + eps)) + beta.
template <class T>
void batch_norm_eval(const T* x, const Layout& l, const T* mean, const T* var, const T* gamma,
                     const T* beta, double eps, T* y, int n_threads) {
    parallel_for(l.c, 1, n_threads, [&](std::int64_t begin, std::int64_t end) {
        for(std::int64_t ch = begin; ch < end; ++ch) {
            const double istd = 1.0 / std::sqrt(static_cast<double>(var[ch]) + eps);
            const double g    = static_cast<double>(detail::at_or(gamma, ch, T(1)));
            detail::channel_apply(x, l, ch, mean[ch], static_cast<T>(g * istd),
                                  detail::at_or(beta, ch, T(0)), y);
        }
    });
}

// Training backward (the statistics are those of x: mean and invstd from the forward).
template <class T>
void batch_norm_backward(const T* grad_y, const T* x, const Layout& l, const T* gamma,
                         const T* mean, const T* invstd, T* grad_x, T* grad_gamma, T* grad_beta,
                         int n_threads) {
    const double m = static_cast<double>(l.count());
    parallel_for(l.c, 1, n_threads, [&](std::int64_t begin, std::int64_t end) {
        for(std::int64_t ch = begin; ch < end; ++ch) {
            double sum_dy = 0.0, dot = 0.0;
            detail::channel_sums<T, false>(x, static_cast<double>(mean[ch]), grad_y, 0.0, l, ch,
                                           sum_dy, dot);
            const double istd = static_cast<double>(invstd[ch]);
            grad_gamma[ch]    = static_cast<T>(dot * istd);
            grad_beta[ch]     = static_cast<T>(sum_dy);
            const T mu        = mean[ch];
            const T gm        = static_cast<T>(sum_dy / m);
            const T k         = static_cast<T>(dot * istd * istd / m);
            const T scale     = static_cast<T>(istd * static_cast<double>(detail::at_or(gamma, ch, T(1))));
            for(std::int64_t n = 0; n < l.n; ++n) {
                const std::int64_t off = (n * l.c + ch) * l.s;
                const T* px = x + off;
                const T* pg = grad_y + off;
                T* pd       = grad_x + off;
                for(std::int64_t i = 0; i < l.s; ++i) {
                    pd[i] = (pg[i] - gm - (px[i] - mu) * k) * scale;
                }
            }
        }
    });
}

} // namespace npk::norm
