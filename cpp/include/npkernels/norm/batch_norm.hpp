#pragma once
// Batch normalisation over (N, C, S) (S = H*W, or 1 for (N, C)), per channel:
//   x_hat = (x - mean) * invstd,  invstd = 1 / sqrt(var + eps),  y = gamma * x_hat + beta
// Statistics are sums of (x - K) and (x - K)^2 from a shift K (the channel's first
// value), so large means cost no accuracy; float32 sums 64-value blocks in float32
// and everything above in float64, so the error does not grow with the batch
// (float64 sums in float64). Both passes (statistics, then normalisation) stream
// through memory in order; partial sums belong to fixed blocks of rows and are
// combined in order, so any thread count gives the same bits.
// The backward is ATen's training formula:
//   dot = sum dy * (x - mean),  gm = sum dy / M,  k = dot * invstd^2 / M
//   dx  = (dy - gm - (x - mean) * k) * invstd * gamma,  dgamma = dot * invstd,  dbeta = sum dy

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "npkernels/buffer.hpp"
#include "npkernels/parallel.hpp"
#include "npkernels/simd.hpp"

namespace npk::norm {

struct Layout {
    std::int64_t n;        // batch
    std::int64_t c;        // channels
    std::int64_t s;        // spatial size per (n, c)
    std::int64_t count() const { return n * s; } // values per channel
};

namespace detail {

using simd::stream_bytes;
using simd::write_run;

// The passes stream through memory: reads are prefetched this far ahead (bytes),
// 15-25% faster than the hardware prefetcher alone at 1 and 2 threads.
constexpr std::int64_t read_ahead = 16384;

// Sums of one contiguous plane, shifted: sum (b - kb) and sum (a - ka) * (b - kb)
// (with Square, a is b). float32 sums 64-value blocks in float32 lanes and adds
// each block to float64 totals, so the error is that of a 64-term float sum and
// does not grow with the batch; float64 sums in float64 lanes. Fixed lanes and a
// fixed combination order: the same bits whatever the thread count.
template <class T, bool Square>
NPK_CLONES void plane_sums(const T* a, T ka, const T* b, T kb, std::int64_t s, double& sum_b,
                           double& sum_ab) {
    // One Pair accumulator per sum: lanes [0, half) and [half, lanes) are two
    // SIMD-vector accumulators, folded lane-wise, then summed in lane order.
    using V             = typename simd::Pair<T>::type;
    constexpr int step  = simd::Pair<T>::lanes, half = step / 2;
    constexpr int block = sizeof(T) == 4 ? 64 : 1 << 30; // float64: one block per plane
    double t1 = 0.0, t2 = 0.0;
    std::int64_t i = 0;
    while(i + step <= s) {
        const std::int64_t stop = std::min<std::int64_t>(s - step, i + block - step);
        V u1 = V{}, u2 = V{};
        for(; i <= stop; i += step) {
            simd::prefetch_ahead<step>(b, i, read_ahead);
            if(!Square) {
                simd::prefetch_ahead<step>(a, i, read_ahead);
            }
            V vb, va;
            simd::load_pair(b + i, vb);
            vb -= kb;
            if(Square) {
                va = vb;
            } else {
                simd::load_pair(a + i, va);
                va -= ka;
            }
            u1 += vb;
            u2 += va * vb;
        }
        double v1 = 0.0, v2 = 0.0;
        for(int j = 0; j < half; ++j) {
            v1 += static_cast<double>(u1[j] + u1[j + half]);
            v2 += static_cast<double>(u2[j] + u2[j + half]);
        }
        t1 += v1;
        t2 += v2;
    }
    for(; i < s; ++i) {
        const double db = static_cast<double>(b[i]) - static_cast<double>(kb);
        const double da = Square ? db : static_cast<double>(a[i]) - static_cast<double>(ka);
        t1 += db;
        t2 += da * db;
    }
    sum_b  = t1;
    sum_ab = t2;
}

// The statistics are summed per unit (a block of rows, one channel): rows_per_block
// is fixed by the layout (about 4096 values per block, at least one row), never by
// the thread count, and a unit's planes are summed in row order. Units run in
// memory order, split into contiguous runs over threads.
struct Units {
    std::int64_t rows_per_block;
    std::int64_t blocks;
    explicit Units(const Layout& l)
        : rows_per_block(std::max<std::int64_t>(1, 4096 / std::max<std::int64_t>(1, l.c * l.s))),
          blocks((l.n + rows_per_block - 1) / rows_per_block) {}
    std::int64_t count(const Layout& l) const { return blocks * l.c; }
};

// fn(unit, plane) for the planes of each unit, in order; unit = block * C + channel.
template <class Fn>
void for_each_unit(const Layout& l, const Units& u, int n_threads, Fn&& fn) {
    parallel_for(u.count(l), grain_for(u.rows_per_block * l.s), n_threads, [&](std::int64_t begin, std::int64_t end) {
        for(std::int64_t unit = begin; unit < end; ++unit) {
            const std::int64_t block = unit / l.c, ch = unit % l.c;
            const std::int64_t stop  = std::min(l.n, (block + 1) * u.rows_per_block);
            for(std::int64_t n = block * u.rows_per_block; n < stop; ++n) {
                fn(unit, n * l.c + ch);
            }
        }
    });
}

// Per unit: s1 = sum (b - kb) and s2 = sum (a - ka) * (b - kb) over its planes, the
// shifts ka, kb given per channel; planes added in row order.
template <class T, bool Square, class ShiftA, class ShiftB>
void unit_sums(const T* a, const T* b, const Layout& l, const Units& units, ShiftA&& ka,
               ShiftB&& kb, double* s1, double* s2, int n_threads) {
    for_each_unit(l, units, n_threads, [&](std::int64_t unit, std::int64_t p) {
        const std::int64_t ch = p % l.c;
        double u = 0.0, v = 0.0;
        plane_sums<T, Square>(a + p * l.s, ka(ch), b + p * l.s, kb(ch), l.s, u, v);
        const bool first = p / l.c == (unit / l.c) * units.rows_per_block;
        s1[unit]         = first ? u : s1[unit] + u;
        s2[unit]         = first ? v : s2[unit] + v;
    });
}

// A channel's total over the units (blocks in order: deterministic).
inline double channel_total(const double* per_unit, const Layout& l, const Units& u,
                            std::int64_t ch) {
    double total = 0.0;
    for(std::int64_t b = 0; b < u.blocks; ++b) {
        total += per_unit[b * l.c + ch];
    }
    return total;
}

// fn(plane, channel) over every plane, in memory order, split over threads.
template <class Fn>
void for_each_plane(const Layout& l, int n_threads, Fn&& fn) {
    parallel_for(l.n * l.c, grain_for(l.s), n_threads, [&](std::int64_t begin, std::int64_t end) {
        for(std::int64_t p = begin; p < end; ++p) {
            fn(p, p % l.c);
        }
    });
}

template <class T>
T at_or(const T* p, std::int64_t i, T fallback) {
    return p != nullptr ? p[i] : fallback;
}

// y = (x - mean[c]) * scale[c] + shift[c] over every plane.
template <class T>
void apply(const T* x, const Layout& l, const T* mean, const T* scale, const T* shift, T* y,
           int n_threads) {
    const bool stream = l.n * l.c * l.s * std::int64_t{sizeof(T)} > stream_bytes;
    for_each_plane(l, n_threads, [&](std::int64_t p, std::int64_t ch) {
        const T mu = mean[ch], sc = scale[ch], sh = shift[ch];
        const T* px = x + p * l.s;
        write_run(
            y + p * l.s, l.s, stream,
            [=](std::int64_t i, typename simd::Pair<T>::type& v) {
                simd::prefetch_ahead<simd::Pair<T>::lanes>(px, i, read_ahead);
                simd::load_pair(px + i, v);
                v = (v - mu) * sc + sh;
            },
            [=](std::int64_t i) { return (px[i] - mu) * sc + sh; });
    });
}

} // namespace detail

// Training forward. gamma, beta may be null (1, 0). Outputs y, mean and invstd (of
// the biased variance) in T, and the unbiased variance in double (for the running
// statistics; NaN when count == 1). count must be >= 1.
template <class T>
void batch_norm_forward(const T* x, const Layout& l, const T* gamma, const T* beta, double eps,
                        T* y, T* mean, T* invstd, double* unbiased_var, int n_threads) {
    const double m = static_cast<double>(l.count());
    const detail::Units units(l);
    Buffer<double> sums = uninitialized_buffer<double>(2 * units.count(l));
    Buffer<T> coef      = uninitialized_buffer<T>(2 * l.c);
    double* s1 = sums.get();
    double* s2 = s1 + units.count(l);
    // Shift: the channel's first value, so the sums see x - K, small near the mean.
    detail::unit_sums<T, true>(x, x, l, units, [&](std::int64_t ch) { return x[ch * l.s]; },
                               [&](std::int64_t ch) { return x[ch * l.s]; }, s1, s2, n_threads);
    T* scale = coef.get();
    T* shift = scale + l.c;
    for(std::int64_t ch = 0; ch < l.c; ++ch) {
        const double k = static_cast<double>(x[ch * l.s]);
        const double t1 = detail::channel_total(s1, l, units, ch);
        const double t2 = detail::channel_total(s2, l, units, ch);
        const double sq   = std::fmax(t2 - t1 * t1 / m, 0.0); // sum (x - mean)^2
        const double istd = 1.0 / std::sqrt(sq / m + eps);
        mean[ch]          = static_cast<T>(k + t1 / m);
        invstd[ch]        = static_cast<T>(istd);
        unbiased_var[ch]  = l.count() > 1 ? sq / (m - 1.0) : std::nan("");
        scale[ch] = static_cast<T>(static_cast<double>(detail::at_or(gamma, ch, T(1))) * istd);
        shift[ch] = detail::at_or(beta, ch, T(0));
    }
    detail::apply(x, l, mean, scale, shift, y, n_threads);
}

// Evaluation forward with given statistics: y = (x - mean) * (gamma / sqrt(var + eps)) + beta.
template <class T>
void batch_norm_eval(const T* x, const Layout& l, const T* mean, const T* var, const T* gamma,
                     const T* beta, double eps, T* y, int n_threads) {
    Buffer<T> coef = uninitialized_buffer<T>(2 * l.c);
    T* scale       = coef.get();
    T* shift       = scale + l.c;
    for(std::int64_t ch = 0; ch < l.c; ++ch) {
        const double istd = 1.0 / std::sqrt(static_cast<double>(var[ch]) + eps);
        scale[ch] = static_cast<T>(static_cast<double>(detail::at_or(gamma, ch, T(1))) * istd);
        shift[ch] = detail::at_or(beta, ch, T(0));
    }
    detail::apply(x, l, mean, scale, shift, y, n_threads);
}

// Training backward (the statistics are those of x: mean and invstd from the forward).
template <class T>
void batch_norm_backward(const T* grad_y, const T* x, const Layout& l, const T* gamma,
                         const T* mean, const T* invstd, T* grad_x, T* grad_gamma, T* grad_beta,
                         int n_threads) {
    const double m = static_cast<double>(l.count());
    const detail::Units units(l);
    Buffer<double> sums = uninitialized_buffer<double>(2 * units.count(l));
    Buffer<T> coef      = uninitialized_buffer<T>(3 * l.c);
    double* s1 = sums.get();
    double* s2 = s1 + units.count(l);
    detail::unit_sums<T, false>(x, grad_y, l, units, [&](std::int64_t ch) { return mean[ch]; },
                                [](std::int64_t) { return T(0); }, s1, s2, n_threads);
    T* gm    = coef.get();
    T* k     = gm + l.c;
    T* scale = k + l.c;
    for(std::int64_t ch = 0; ch < l.c; ++ch) {
        const double sum_dy = detail::channel_total(s1, l, units, ch);
        const double dot    = detail::channel_total(s2, l, units, ch);
        const double istd = static_cast<double>(invstd[ch]);
        grad_gamma[ch]    = static_cast<T>(dot * istd);
        grad_beta[ch]     = static_cast<T>(sum_dy);
        gm[ch]            = static_cast<T>(sum_dy / m);
        k[ch]             = static_cast<T>(dot * istd * istd / m);
        scale[ch] = static_cast<T>(istd * static_cast<double>(detail::at_or(gamma, ch, T(1))));
    }
    const bool stream = l.n * l.c * l.s * std::int64_t{sizeof(T)} > detail::stream_bytes;
    detail::for_each_plane(l, n_threads, [&](std::int64_t p, std::int64_t ch) {
        const T mu = mean[ch], g = gm[ch], kk = k[ch], sc = scale[ch];
        const T* px = x + p * l.s;
        const T* pg = grad_y + p * l.s;
        detail::write_run(
            grad_x + p * l.s, l.s, stream,
            [=](std::int64_t i, typename simd::Pair<T>::type& v) {
                simd::prefetch_ahead<simd::Pair<T>::lanes>(pg, i, detail::read_ahead);
                simd::prefetch_ahead<simd::Pair<T>::lanes>(px, i, detail::read_ahead);
                typename simd::Pair<T>::type xv;
                simd::load_pair(pg + i, v);
                simd::load_pair(px + i, xv);
                v = (v - g - (xv - mu) * kk) * sc;
            },
            [=](std::int64_t i) { return (pg[i] - g - (px[i] - mu) * kk) * sc; });
    });
}

} // namespace npk::norm
