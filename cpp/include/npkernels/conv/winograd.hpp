#pragma once
// Winograd F(m x m, 3x3), m = 2 or 4, for stride-1, dilation-1 3x3
// convolutions: every m x m tile of output is A^T [ (G g G^T) .* (B^T d B) ] A,
// d the tile's (m+2) x (m+2) input window, g a 3x3 filter; summed over the
// input channels, the elementwise product becomes (m+2)^2 independent matrix
// products (one per position xi of the transformed tile):
// M_xi (O x tiles) = U_xi (O x C) . V_xi (C x tiles). They run on the same
// BLAS as the im2col path, with 16/36 (m = 2) or 36/144 (m = 4) of its
// multiplications (2.25x or 4x fewer). The matrices are in WinoTf below;
// winograd_tile_size chooses m.
//
// Tiles are numbered across the whole batch (image, tile row, tile column) and
// cut into fixed blocks, so one product covers the tiles of several small
// images (a large GEMM N) while its scratch (the block's V and M, or V and Z)
// stays near a budget per thread (BlockRule). A block is one task for our threads, with
// single-threaded BLAS calls; block bounds depend only on the problem, never
// on the thread count, so neither does the result.
//
// The same tiles give the two gradients of a stride-1 3x3 convolution:
//  - grad_input is this convolution of grad_output with the flipped,
//    transposed filters and padding 2 - pad (winograd_weights(..., adjoint));
//  - grad_weight (m = 2 only) is the adjoint of the forward in U:
//    dU_xi (O x C) = Z_xi (O x tiles) . V_xi^T with Z = A dY A^T per tile,
//    then dW = G^T dU G (winograd_weight_grad).
//
// Numerics: the transforms add and subtract up to (m+2)^2 inputs (scaled by
// at most 5 in B^T, powers of 1/2 in A^T for m = 4), so the rounding error is
// a few ulps of the largest value in a tile's window, not of each product;
// measured in float32 against a float64 reference on realistic layers it is
// about 1e-5 of the largest output for both m (test_conv_winograd.py), well
// inside the sqrt(C*9)-scaled tolerance the im2col path is held to.
// An inf in a window would meet inf - inf in the transform and turn other
// outputs of its tile into NaN, so callers use this path only when every input
// is finite (all_finite) and the im2col path otherwise.

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "npkernels/blas.hpp"
#include "npkernels/buffer.hpp"
#include "npkernels/parallel.hpp"
#include "npkernels/simd.hpp"

namespace npk::conv {

// Fewer channels per group than this and the products are too thin for BLAS.
inline constexpr std::int64_t winograd_min_channels = 8;
// Tiles per block (see Winograd::block): what fits a scratch budget per
// thread, but at least a minimum count.
struct BlockRule {
    std::int64_t budget_bytes, min_tiles;
};
// Products M_xi = U_xi . V_xi (forward and input gradient): a block's V and M
// in half of L2, at least 64 tiles. On (8,64,56,56->64) this is 64 tiles and
// measured 25% faster (forward) than 256-tile blocks in 1 MiB: the scratch
// stays in L2, and SciPy's OpenBLAS multiplies such small products without
// repacking them; on (8,256,14,14->256) (64 tiles too) about the same.
inline constexpr BlockRule winograd_product_blocks{std::int64_t{512} << 10, 64};
// Weight gradient dU_xi += Z_xi . V_xi^T: every block reads and writes all of
// dU (16 O x C matrices), so blocks are larger: 1 MiB, at least 256 tiles.
inline constexpr BlockRule winograd_weight_blocks{std::int64_t{1} << 20, 256};
// At most this many blocks' partial sums for the weight gradient.
inline constexpr std::int64_t winograd_weight_chunks = 4;

namespace detail {
// Tiles transformed at once along one tile row (stack arrays of this length).
inline constexpr std::int64_t wino_segment = 64;

// The 1-D transforms of F(M, 3) (M outputs from A = M + 2 inputs): in(d) = B^T d,
// out(m) = A^T m; filt(g) = G g (A x 3), applied to the filters in double.
template <int M>
struct WinoTf;

// F(2, 3), points 0, +-1, inf.
template <>
struct WinoTf<2> {
    static constexpr int A = 4;
    // t = G g
    static void filt(const double* g, double* t) {
        t[0] = g[0];
        t[1] = 0.5 * (g[0] + g[1] + g[2]);
        t[2] = 0.5 * (g[0] - g[1] + g[2]);
        t[3] = g[2];
    }
    template <class T>
    static void in(const T* d, T* t) {
        t[0] = d[0] - d[2];
        t[1] = d[1] + d[2];
        t[2] = d[2] - d[1];
        t[3] = d[1] - d[3];
    }
    template <class T>
    static void out(const T* m, T* y) {
        y[0] = m[0] + m[1] + m[2];
        y[1] = m[1] - m[2] - m[3];
    }
};

// F(4, 3), points 0, +-1, +-1/2, inf (the accurate choice for 6-point tiles:
// B^T's entries are at most 5, A^T's powers of 1/2, so the transforms stay
// close to exact; rows scaled by powers of two, which is exact):
//   B^T = [1 0 -5 0 4 0; 0 -1 -1 4 4 0; 0 1 -1 -4 4 0;
//          0 -1 -2 1 2 0; 0 1 -2 -1 2 0; 0 1 0 -5 0 4]
//   G   = [1 0 0; 1/6 1/6 1/6; 1/6 -1/6 1/6; -4/3 -2/3 -1/3; -4/3 2/3 -1/3; 0 0 1/4]
//   A^T = [1 1 1 1 1 0; 0 1 -1 1/2 -1/2 0; 0 1 1 1/4 1/4 0; 0 1 -1 1/8 -1/8 1]
template <>
struct WinoTf<4> {
    static constexpr int A = 6;
    static void filt(const double* g, double* t) {
        const double s = g[0] + g[2], f = 4.0 * g[0] + g[2];
        t[0] = g[0];
        t[1] = (s + g[1]) * (1.0 / 6);
        t[2] = (s - g[1]) * (1.0 / 6);
        t[3] = (f + 2.0 * g[1]) * (-1.0 / 3);
        t[4] = (f - 2.0 * g[1]) * (-1.0 / 3);
        t[5] = 0.25 * g[2];
    }
    template <class T>
    static void in(const T* d, T* t) {
        const T a = d[4] - d[2], b = d[1] + d[2], c = d[1] - d[2], e = d[3] - d[1];
        t[0] = T(4) * a + (d[0] - d[2]);
        t[1] = T(4) * (d[3] + d[4]) - b;
        t[2] = T(4) * (d[4] - d[3]) + c;
        t[3] = T(2) * a + e;
        t[4] = T(2) * a - e;
        t[5] = T(4) * (d[5] - d[3]) + (d[1] - d[3]);
    }
    template <class T>
    static void out(const T* m, T* y) {
        const T p = m[1] + m[2], q = m[1] - m[2], r = m[3] + m[4], s = m[3] - m[4];
        y[0] = m[0] + p + r;
        y[1] = q + T(0.5) * s;
        y[2] = p + T(0.25) * r;
        y[3] = q + T(0.125) * s + m[5];
    }
};
} // namespace detail

// A stride-1, dilation-1 3x3 convolution with groups, as the tiles see it: x
// (batch, groups*cg, in_h, in_w) -> y (batch, groups*og, out_h, out_w),
// y[oy, ox] = sum over kh, kw of w[kh, kw] * x[oy - pad_h + kh, ox - pad_w + kw],
// x zero outside the image. pad_h / pad_w may be any integer (the input
// gradient uses 2 - pad). m is the output tile size: 2 (F(2x2, 3x3), 16
// positions) or 4 (F(4x4, 3x3), 36 positions; forward-type products only).
struct Winograd {
    std::int64_t batch, groups, cg, og;
    std::int64_t in_h, in_w, pad_h, pad_w, out_h, out_w;
    std::int64_t m;

    std::int64_t alpha() const { return m + 2; }
    std::int64_t positions() const { return alpha() * alpha(); }
    std::int64_t tiles_h() const { return (out_h + m - 1) / m; }
    std::int64_t tiles_w() const { return (out_w + m - 1) / m; }
    std::int64_t tiles_per_image() const { return tiles_h() * tiles_w(); }
    std::int64_t tiles() const { return batch * tiles_per_image(); }
    std::int64_t weight_size() const { return groups * positions() * og * cg; }

    // Tiles per block by rule (what fits the budget, but at least its
    // minimum); then the tiles split evenly over that many blocks, rounded up
    // to a multiple of 16 (the BLAS kernels' unrolling: 56-tile blocks ran
    // 10-15% slower than 64-tile ones). Depends on the problem only.
    template <class T>
    std::int64_t block(BlockRule rule) const {
        const std::int64_t per_tile = positions() * (cg + og) * static_cast<std::int64_t>(sizeof(T));
        const std::int64_t target   = std::max<std::int64_t>(rule.min_tiles, rule.budget_bytes / per_tile);
        const std::int64_t blocks   = std::max<std::int64_t>(1, (tiles() + target - 1) / target);
        return std::max<std::int64_t>(16, ((tiles() + blocks - 1) / blocks + 15) / 16 * 16);
    }
    std::int64_t n_blocks(std::int64_t bt) const { return (tiles() + bt - 1) / bt; }
    std::int64_t scratch(std::int64_t bt) const { return positions() * (cg + og) * bt; }
    bool fits_blas(std::int64_t bt) const {
        return blas::fits_int(scratch(bt)) && blas::fits_int(cg) && blas::fits_int(og);
    }
};

// The tile size for a forward-type product (rule): F(2x2, 3x3) in float32,
// whose error stays near a plain GEMM's (~2.5x torch's on a 256-channel layer,
// within torch.testing's default float32 tolerance), while F(4x4, 3x3) there
// measured ~20x torch's (3e-5 of the outputs' spread on a 64-channel layer,
// beyond that tolerance). In float64 that error is ~1e-14, so F(4x4) when its
// products, 36 per 4x4 tile, need at most 3/4 of the multiplications of
// F(2x2, 3x3)'s 16 per 2x2 tile on this output size (ragged last tiles count
// in full), both channel counts are at least 32 (below that the products are
// too thin to pay for the larger transforms) and the output is at least 32
// wide (the transforms are vectorised along a row of tiles: at least 8 of
// them). Else F(2x2, 3x3). Measured side by side in one process (1 thread):
// (8,64,56,56->64) F(4x4) 1.5-1.6x faster than F(2x2) (forward, grad_input);
// (8,256,14,14->256) F(4x4) ~5% slower (4 ragged tiles a row, 31% of the
// 4x4 tiles' outputs wasted), so F(2x2) there.
template <class T>
std::int64_t winograd_tile_size(std::int64_t cg, std::int64_t og, std::int64_t out_h,
                                std::int64_t out_w) {
    if(!std::is_same_v<T, double>) {
        return 2;
    }
    const double f2 = 16.0 * static_cast<double>((out_h + 1) / 2) * static_cast<double>((out_w + 1) / 2);
    const double f4 = 36.0 * static_cast<double>((out_h + 3) / 4) * static_cast<double>((out_w + 3) / 4);
    return cg >= 32 && og >= 32 && out_w >= 32 && f4 <= 0.75 * f2 ? 4 : 2;
}

// True when no element of x[0, n) is NaN or infinite (parallel scan).
template <class T>
bool all_finite(const T* x, std::int64_t n, int n_threads) {
    const int parts = useful_threads(n, std::int64_t{1} << 18, n_threads);
    std::vector<char> bad(static_cast<std::size_t>(parts), 0);
    parallel_parts(parts, parts, [&](std::int64_t p) {
        const Range r = part_range(n, p, parts);
        bad[static_cast<std::size_t>(p)] = simd::any_non_finite(x + r.begin, r.end - r.begin) ? 1 : 0;
    });
    return std::none_of(bad.begin(), bad.end(), [](char b) { return b != 0; });
}

namespace detail {

// Filters transformed at once (stack arrays of this length).
inline constexpr std::int64_t wino_filters = 64;

// U = G g G^T of the filters of output channels [r0, r1) (of all groups) for
// tile size M (see winograd_weights): runs of wino_filters input channels
// gathered into [tap][c] order so that the transforms run along c
// (vectorised), then copied to U's rows.
template <int M, class T>
NPK_CLONES void winograd_weight_rows(const T* w, const Winograd& wg, bool adjoint, T* u,
                                     std::int64_t r0, std::int64_t r1) {
    constexpr int A = WinoTf<M>::A;
    constexpr std::int64_t F = wino_filters;
    const std::int64_t pos = A * A;
    double g[9][F], t[A * 3][F];
    T ub[A * A][F];
    for(std::int64_t r = r0; r < r1; ++r) {
        const std::int64_t grp = r / wg.og, o = r % wg.og;
        for(std::int64_t c0 = 0; c0 < wg.cg; c0 += F) {
            const std::int64_t nc = std::min(F, wg.cg - c0);
            for(std::int64_t c = 0; c < nc; ++c) {
                const T* f = adjoint ? w + ((grp * wg.cg + c0 + c) * wg.og + o) * 9
                                     : w + ((grp * wg.og + o) * wg.cg + c0 + c) * 9;
                for(int k = 0; k < 9; ++k) { // the adjoint's filter is flipped in both axes
                    g[k][c] = static_cast<double>(f[adjoint ? 8 - k : k]);
                }
            }
            for(int j = 0; j < 3; ++j) { // t = G g, column by column
                for(std::int64_t c = 0; c < nc; ++c) {
                    const double col[3] = {g[j][c], g[3 + j][c], g[6 + j][c]};
                    double tc[A];
                    WinoTf<M>::filt(col, tc);
                    for(int a = 0; a < A; ++a) {
                        t[a * 3 + j][c] = tc[a];
                    }
                }
            }
            for(int a = 0; a < A; ++a) { // U = t G^T, row by row
                for(std::int64_t c = 0; c < nc; ++c) {
                    const double row[3] = {t[a * 3][c], t[a * 3 + 1][c], t[a * 3 + 2][c]};
                    double ur[A];
                    WinoTf<M>::filt(row, ur);
                    for(int b = 0; b < A; ++b) {
                        ub[a * A + b][c] = static_cast<T>(ur[b]);
                    }
                }
            }
            T* dst = u + (grp * pos * wg.og + o) * wg.cg + c0; // position xi at xi*og*cg
            for(std::int64_t xi = 0; xi < pos; ++xi) {
                std::copy(ub[xi], ub[xi] + nc, dst + xi * wg.og * wg.cg);
            }
        }
    }
}

} // namespace detail

// U = G g G^T for every filter, u[((grp*P + xi)*og + o)*cg + c] (P = positions),
// computed in double. w is the (groups*og, cg, 3, 3) weight of this convolution, or with
// `adjoint` the (groups*cg, og, 3, 3) weight of the forward convolution whose
// input gradient this one is (the filter w[grp*cg + c, o] flipped in both axes).
template <class T>
void winograd_weights(const T* w, const Winograd& wg, bool adjoint, T* u, int n_threads) {
    parallel_for(wg.groups * wg.og, 8, n_threads, [&](std::int64_t r0, std::int64_t r1) {
        if(wg.m == 4) {
            detail::winograd_weight_rows<4>(w, wg, adjoint, u, r0, r1);
        } else {
            detail::winograd_weight_rows<2>(w, wg, adjoint, u, r0, r1);
        }
    });
}

namespace detail {

// n tiles of one tile row: tile row ty, first tile column tx0, at offset off
// in their segment.
struct Piece {
    std::int64_t ty, tx0, n, off;
};

// Up to wino_segment consecutive tiles of one image, as pieces of tile rows:
// the window reads and output writes go piece by piece, the transforms
// between them run along the whole segment (long vectors even for images
// only a few tiles wide).
struct Segment {
    std::int64_t img, n, count;
    Piece piece[wino_segment];
};

// Calls fn(segment, offset of its first tile in the block) for the segments
// that cover tiles [begin, end).
template <class Fn>
void for_each_segment(const Winograd& wg, std::int64_t begin, std::int64_t end, Fn&& fn) {
    const std::int64_t tw = wg.tiles_w(), tpi = wg.tiles_per_image();
    Segment s;
    for(std::int64_t t = begin; t < end;) {
        s.img                   = t / tpi;
        const std::int64_t stop = std::min({end, t + wino_segment, (s.img + 1) * tpi});
        s.n                     = stop - t;
        s.count                 = 0;
        for(std::int64_t u = t; u < stop;) {
            const std::int64_t rem = u % tpi, ty = rem / tw, tx0 = rem % tw;
            const std::int64_t n   = std::min(tw - tx0, stop - u);
            s.piece[s.count++]     = Piece{ty, tx0, n, u - t};
            u += n;
        }
        fn(s, t - begin);
        t = stop;
    }
}

// h[r][k][off + j] = (d_r B)[k] for the n tiles of a piece, d_r row r of tile
// j's input window (rows from iy0, columns from ix0 + M*j; zero outside the
// image). The tiles whose window lies inside the row read it directly; the
// (at most two) others check. The window values are loaded into a local array
// element by element, so that the loop vectorises across tiles (deinterleaving
// loads) rather than within one tile's window.
template <int M, class T>
NPK_CLONES_512 void row_transforms(const T* plane, const Winograd& wg, std::int64_t iy0,
                                   std::int64_t ix0, std::int64_t n,
                                   T (*h)[WinoTf<M>::A][wino_segment], std::int64_t off) {
    constexpr int A = WinoTf<M>::A;
    // tile j's window is inside when ix0 + M*j >= 0 and ix0 + M*j + A - 1 < in_w
    const std::int64_t lo = std::clamp<std::int64_t>((-ix0 + M - 1) / M, 0, n);
    const std::int64_t hi = std::clamp<std::int64_t>(
        wg.in_w - ix0 - A < 0 ? 0 : (wg.in_w - ix0 - A) / M + 1, lo, n);
    for(int r = 0; r < A; ++r) {
        const std::int64_t iy = iy0 + r;
        T (*hr)[wino_segment] = h[r];
        if(iy < 0 || iy >= wg.in_h) {
            for(int k = 0; k < A; ++k) {
                std::fill(hr[k] + off, hr[k] + off + n, T(0));
            }
            continue;
        }
        const T* src = plane + iy * wg.in_w;
        auto edge = [&](std::int64_t j) {
            T d[A], t[A];
            for(int k = 0; k < A; ++k) {
                const std::int64_t ix = ix0 + M * j + k;
                d[k] = ix >= 0 && ix < wg.in_w ? src[ix] : T(0);
            }
            WinoTf<M>::in(d, t);
            for(int k = 0; k < A; ++k) {
                hr[k][off + j] = t[k];
            }
        };
        for(std::int64_t j = 0; j < lo; ++j) {
            edge(j);
        }
        const T* s0 = src + ix0;
        for(std::int64_t j = lo; j < hi; ++j) {
            T d[A], t[A];
            for(int k = 0; k < A; ++k) {
                d[k] = s0[M * j + k];
            }
            WinoTf<M>::in(d, t);
            for(int k = 0; k < A; ++k) {
                hr[k][off + j] = t[k];
            }
        }
        for(std::int64_t j = hi; j < n; ++j) {
            edge(j);
        }
    }
}

// V = B^T d B of one channel and segment: v[xi*cstride + j] for its n tiles:
// the row transforms piece by piece, then the column transforms along the
// whole segment (long vectors even for images only a few tiles wide).
// (The per-segment transforms are cloned themselves: called from lambdas,
// they would otherwise be compiled for the baseline target.)
template <int M, class T>
NPK_CLONES_512 void input_transform(const T* plane, const Winograd& wg, const Segment& s, T* v,
                                    std::int64_t cstride) {
    constexpr int A          = WinoTf<M>::A;
    constexpr std::int64_t S = wino_segment;
    T h[A][A][S]; // h[r][k][j] = (d_r B)[k], d_r input row r of tile j
    const std::int64_t n = s.n;
    for(std::int64_t i = 0; i < s.count; ++i) {
        const Piece& p = s.piece[i];
        row_transforms<M>(plane, wg, M * p.ty - wg.pad_h, M * p.tx0 - wg.pad_w, p.n, h, p.off);
    }
    for(int k = 0; k < A; ++k) {
        T* __restrict vk = v + k * cstride;
        for(std::int64_t j = 0; j < n; ++j) {
            T d[A], t[A];
            for(int r = 0; r < A; ++r) {
                d[r] = h[r][k][j];
            }
            WinoTf<M>::in(d, t);
            for(int a = 0; a < A; ++a) {
                vk[a * A * cstride + j] = t[a];
            }
        }
    }
}

// Y = A^T M A (+ bias) of output channel o of one segment, m[xi*mstride + j],
// written into that channel's plane (the rows and columns inside the output).
template <int M, class T>
NPK_CLONES_512 void output_transform(const T* m, std::int64_t mstride, const Winograd& wg,
                             const Segment& s, T b, T* plane) {
    constexpr int A          = WinoTf<M>::A;
    constexpr std::int64_t S = wino_segment;
    T t[M][A][S];
    const std::int64_t n = s.n;
    for(int q = 0; q < A; ++q) {
        for(std::int64_t j = 0; j < n; ++j) {
            T d[A], y[M];
            for(int i = 0; i < A; ++i) {
                d[i] = m[(i * A + q) * mstride + j];
            }
            WinoTf<M>::out(d, y);
            for(int a = 0; a < M; ++a) {
                t[a][q][j] = y[a];
            }
        }
    }
    for(std::int64_t i = 0; i < s.count; ++i) {
        const Piece& p = s.piece[i];
        // Tiles [0, full) have all M output columns inside the output; a last one may have fewer.
        const std::int64_t full = std::min(p.n, (wg.out_w - M * p.tx0) / M);
        const std::int64_t rest = std::min<std::int64_t>(M, wg.out_w - M * (p.tx0 + full));
        for(int a = 0; a < M; ++a) {
            const std::int64_t oy = M * p.ty + a;
            if(oy >= wg.out_h) {
                break;
            }
            T* __restrict out = plane + oy * wg.out_w + M * p.tx0;
            const T* ta[A];
            for(int q = 0; q < A; ++q) {
                ta[q] = t[a][q] + p.off;
            }
            for(std::int64_t j = 0; j < full; ++j) {
                T d[A], y[M];
                for(int q = 0; q < A; ++q) {
                    d[q] = ta[q][j];
                }
                WinoTf<M>::out(d, y);
                for(int e = 0; e < M; ++e) {
                    out[M * j + e] = y[e] + b;
                }
            }
            if(full < p.n) {
                T d[A], y[M];
                for(int q = 0; q < A; ++q) {
                    d[q] = ta[q][full];
                }
                WinoTf<M>::out(d, y);
                for(std::int64_t e = 0; e < rest; ++e) {
                    out[M * full + e] = y[e] + b;
                }
            }
        }
    }
}

// Z = A dY A^T of output channel o of one segment (dY zero outside the
// output): z[xi*zstride + j], the adjoint of output_transform.
template <class T>
NPK_CLONES_512 void output_adjoint(const T* plane, const Winograd& wg, const Segment& s, T* z,
                           std::int64_t zstride) {
    constexpr std::int64_t S = wino_segment;
    T e[2][4][S]; // e[a][q][j] = (dY_a A^T)[q], dY_a output row a of tile j
    const std::int64_t n = s.n;
    for(std::int64_t i = 0; i < s.count; ++i) {
        const Piece& p          = s.piece[i];
        const std::int64_t full = std::min(p.n, (wg.out_w - 2 * p.tx0) / 2);
        for(int a = 0; a < 2; ++a) {
            const std::int64_t oy = 2 * p.ty + a;
            const T* row = oy < wg.out_h ? plane + oy * wg.out_w + 2 * p.tx0 : plane;
            const std::int64_t nf = oy < wg.out_h ? full : 0;
            T* e0 = e[a][0] + p.off;
            T* e1 = e[a][1] + p.off;
            T* e2 = e[a][2] + p.off;
            T* e3 = e[a][3] + p.off;
            for(std::int64_t j = 0; j < nf; ++j) {
                const T y0 = row[2 * j], y1 = row[2 * j + 1];
                e0[j] = y0;
                e1[j] = y0 + y1;
                e2[j] = y0 - y1;
                e3[j] = -y1;
            }
            for(std::int64_t j = nf; j < p.n; ++j) { // outside the output: y1 (and y0) are 0
                const T y0 = oy < wg.out_h && j == full ? row[2 * j] : T(0);
                e0[j] = y0;
                e1[j] = y0;
                e2[j] = y0;
                e3[j] = T(0);
            }
        }
    }
    for(int q = 0; q < 4; ++q) {
        T* __restrict z0 = z + (0 * 4 + q) * zstride;
        T* __restrict z1 = z + (1 * 4 + q) * zstride;
        T* __restrict z2 = z + (2 * 4 + q) * zstride;
        T* __restrict z3 = z + (3 * 4 + q) * zstride;
        for(std::int64_t j = 0; j < n; ++j) {
            z0[j] = e[0][q][j];
            z1[j] = e[0][q][j] + e[1][q][j];
            z2[j] = e[0][q][j] - e[1][q][j];
            z3[j] = -e[1][q][j];
        }
    }
}

// V of group grp for tiles [begin, end) of x: v[(xi*cg + c)*ld + t - begin].
template <int M, class T>
NPK_CLONES void input_block_m(const T* x, const Winograd& wg, std::int64_t grp,
                              std::int64_t begin, std::int64_t end, T* v, std::int64_t ld) {
    const std::int64_t area = wg.in_h * wg.in_w, channels = wg.groups * wg.cg;
    for_each_segment(wg, begin, end, [&](const Segment& s, std::int64_t off) {
        for(std::int64_t c = 0; c < wg.cg; ++c) {
            const T* plane = x + (s.img * channels + grp * wg.cg + c) * area;
            input_transform<M>(plane, wg, s, v + c * ld + off, wg.cg * ld);
        }
    });
}

template <class T>
void input_block(const T* x, const Winograd& wg, std::int64_t grp, std::int64_t begin,
                 std::int64_t end, T* v, std::int64_t ld) {
    if(wg.m == 4) {
        input_block_m<4>(x, wg, grp, begin, end, v, ld);
    } else {
        input_block_m<2>(x, wg, grp, begin, end, v, ld);
    }
}

// Y of group grp for tiles [begin, end) from m[(xi*og + o)*ld + t - begin], plus bias.
template <int M, class T>
NPK_CLONES void output_block_m(const T* m, std::int64_t ld, const Winograd& wg, std::int64_t grp,
                               std::int64_t begin, std::int64_t end, const T* bias, T* y) {
    const std::int64_t og = wg.og, out_area = wg.out_h * wg.out_w;
    for_each_segment(wg, begin, end, [&](const Segment& s, std::int64_t off) {
        for(std::int64_t o = 0; o < og; ++o) {
            const std::int64_t oc = grp * og + o;
            output_transform<M>(m + o * ld + off, og * ld, wg, s,
                                bias == nullptr ? T(0) : bias[oc],
                                y + (s.img * wg.groups * og + oc) * out_area);
        }
    });
}

template <class T>
void output_block(const T* m, std::int64_t ld, const Winograd& wg, std::int64_t grp,
                  std::int64_t begin, std::int64_t end, const T* bias, T* y) {
    if(wg.m == 4) {
        output_block_m<4>(m, ld, wg, grp, begin, end, bias, y);
    } else {
        output_block_m<2>(m, ld, wg, grp, begin, end, bias, y);
    }
}

// Z of group grp for tiles [begin, end) of dy: z[(xi*og + o)*ld + t - begin].
template <class T>
NPK_CLONES void adjoint_block(const T* dy, const Winograd& wg, std::int64_t grp, std::int64_t begin,
                              std::int64_t end, T* z, std::int64_t ld) {
    const std::int64_t og = wg.og, out_area = wg.out_h * wg.out_w;
    for_each_segment(wg, begin, end, [&](const Segment& s, std::int64_t off) {
        for(std::int64_t o = 0; o < og; ++o) {
            const std::int64_t oc = grp * og + o;
            output_adjoint(dy + (s.img * wg.groups * og + oc) * out_area, wg, s, z + o * ld + off,
                           og * ld);
        }
    });
}

} // namespace detail

// y = the convolution wg of x with the transformed filters u (winograd_weights),
// plus bias (groups*og, or null). Returns false when a size exceeds BLAS's int.
template <class T>
bool winograd_conv(const T* x, const T* u, const T* bias, const Winograd& wg,
                   blas::GemmFn<T> gemm, T* y, int n_threads) {
    const std::int64_t bt = wg.block<T>(winograd_product_blocks), blocks = wg.n_blocks(bt);
    const std::int64_t total = wg.tiles();
    if(!wg.fits_blas(bt)) {
        return false;
    }
    const std::int64_t cg = wg.cg, og = wg.og, np = wg.positions();
    const std::int64_t scratch = wg.scratch(bt);
    const int workers          = dynamic_workers(blocks, n_threads);
    LargeBuffer<T> buf         = large_uninitialized_buffer<T>(workers * scratch);
    parallel_dynamic_with_worker(blocks, workers, [&](std::int64_t blk, int worker) {
        T* v = buf.get() + worker * scratch;
        T* m = v + np * cg * bt;
        const std::int64_t begin = blk * bt, end = std::min(total, begin + bt), nt = end - begin;
        for(std::int64_t grp = 0; grp < wg.groups; ++grp) {
            detail::input_block(x, wg, grp, begin, end, v, bt);
            for(std::int64_t xi = 0; xi < np; ++xi) {
                blas::gemm<T>(gemm, false, false, og, nt, cg, T(1), u + (grp * np + xi) * og * cg,
                              cg, v + xi * cg * bt, bt, T(0), m + xi * og * bt, bt);
            }
            detail::output_block(m, bt, wg, grp, begin, end, bias, y);
        }
    });
    return true;
}

// grad_weight (groups*og, cg, 3, 3) of the convolution wg (tile size 2), from its input x
// and grad_output dy: per block dU_xi += Z_xi . V_xi^T, the blocks summed in
// up to winograd_weight_chunks fixed chunks (each in block order, the chunk
// partials then added in order), then dW = G^T dU G in double.
template <class T>
bool winograd_weight_grad(const T* x, const T* dy, const Winograd& wg, blas::GemmFn<T> gemm,
                          T* grad_weight, int n_threads) {
    const std::int64_t bt = wg.block<T>(winograd_weight_blocks), blocks = wg.n_blocks(bt);
    const std::int64_t total = wg.tiles();
    if(wg.m != 2 || !wg.fits_blas(bt)) {
        return false;
    }
    const std::int64_t cg = wg.cg, og = wg.og;
    const std::int64_t usize = wg.weight_size();
    const std::int64_t chunks = std::max<std::int64_t>(1, std::min(blocks, winograd_weight_chunks));
    const std::int64_t scratch = 16 * (cg + og) * bt;
    const int workers          = dynamic_workers(chunks, n_threads);
    LargeBuffer<T> buf         = large_uninitialized_buffer<T>(workers * scratch);
    LargeBuffer<T> du          = large_uninitialized_buffer<T>(chunks * usize);
    parallel_dynamic_with_worker(chunks, workers, [&](std::int64_t chunk, int worker) {
        T* v        = buf.get() + worker * scratch;
        T* z        = v + 16 * cg * bt;
        T* part     = du.get() + chunk * usize;
        const Range r = part_range(blocks, chunk, chunks);
        if(r.begin == r.end) {
            std::fill(part, part + usize, T(0));
        }
        for(std::int64_t blk = r.begin; blk < r.end; ++blk) {
            const std::int64_t begin = blk * bt, end = std::min(total, begin + bt), nt = end - begin;
            for(std::int64_t grp = 0; grp < wg.groups; ++grp) {
                detail::input_block(x, wg, grp, begin, end, v, bt);
                detail::adjoint_block(dy, wg, grp, begin, end, z, bt);
                for(std::int64_t xi = 0; xi < 16; ++xi) {
                    blas::gemm<T>(gemm, false, true, og, cg, nt, T(1), z + xi * og * bt, bt,
                                  v + xi * cg * bt, bt, blk == r.begin ? T(0) : T(1),
                                  part + (grp * 16 + xi) * og * cg, cg);
                }
            }
        }
    });
    // The chunk partials added into the first, in chunk order (contiguous passes).
    T* sum = du.get();
    parallel_for(usize, 4096, n_threads, [&](std::int64_t b, std::int64_t e) {
        for(std::int64_t k = 1; k < chunks; ++k) {
            const T* p = du.get() + k * usize;
            for(std::int64_t j = b; j < e; ++j) {
                sum[j] += p[j];
            }
        }
    });
    // dW = G^T dU G per filter, in double.
    const std::int64_t rows = wg.groups * og;
    parallel_for(rows, 8, n_threads, [&](std::int64_t r0, std::int64_t r1) {
        for(std::int64_t row = r0; row < r1; ++row) {
            const std::int64_t grp = row / og, o = row % og;
            const T* d0 = sum + (grp * 16 * og + o) * cg; // xi-th matrix at d0 + xi*og*cg
            for(std::int64_t c = 0; c < cg; ++c) {
                double d[4][4];
                for(int xi = 0; xi < 16; ++xi) {
                    d[xi / 4][xi % 4] = static_cast<double>(d0[xi * og * cg + c]);
                }
                double t[3][4]; // G^T d
                for(int j = 0; j < 4; ++j) {
                    t[0][j] = d[0][j] + 0.5 * (d[1][j] + d[2][j]);
                    t[1][j] = 0.5 * (d[1][j] - d[2][j]);
                    t[2][j] = 0.5 * (d[1][j] + d[2][j]) + d[3][j];
                }
                T* out = grad_weight + ((grp * og + o) * cg + c) * 9;
                for(int i = 0; i < 3; ++i) { // (G^T d) G
                    out[i * 3 + 0] = static_cast<T>(t[i][0] + 0.5 * (t[i][1] + t[i][2]));
                    out[i * 3 + 1] = static_cast<T>(0.5 * (t[i][1] - t[i][2]));
                    out[i * 3 + 2] = static_cast<T>(0.5 * (t[i][1] + t[i][2]) + t[i][3]);
                }
            }
        }
    });
    return true;
}

} // namespace npk::conv
