#pragma once
// Portable SIMD helpers (16-byte vectors and 32-byte pairs of them) for kernels
// whose loops the compiler will not vectorise on its own (reductions it may not
// reorder, streaming stores): GNU vector extensions, which gcc and clang lower to
// any target (SSE2 included, scalar code elsewhere), plus x86 non-temporal stores
// when SSE2 is there, and software prefetch.

#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

// NPK_CLONES: a hot loop compiled twice, for AVX2 and for the baseline target,
// the copy chosen once at load time (GNU ifunc: x86-64 Linux, gcc or clang).
// Omitted when the whole build already targets AVX2 (NPK_NATIVE) or elsewhere.
// NPK_CLONES_512 adds an AVX-512 copy, for loops that stay in cache and do
// nothing but wide adds (the Winograd transforms: 7% faster there). With
// -ffp-contract=off every copy rounds alike.
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__AVX2__)
#define NPK_CLONES __attribute__((target_clones("avx2", "default")))
#define NPK_CLONES_512 __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NPK_CLONES_512
#define NPK_CLONES
#endif

namespace npk::simd {

typedef float Float4 __attribute__((vector_size(16)));
typedef double Double2 __attribute__((vector_size(16)));

// 16-byte SIMD vectors of T (GNU vector extensions; gcc and clang lower them to
// any target, SSE2 included).
template <class T>
struct Simd;
template <>
struct Simd<float> {
    using type = Float4;
    static constexpr int lanes = 4;
};
template <>
struct Simd<double> {
    using type = Double2;
    static constexpr int lanes = 2;
};

// Two SIMD vectors' worth of T (32 bytes) as one vector: in an NPK_CLONES
// function the AVX2 copy computes it in one register, the baseline copy as two
// 16-byte halves; lane i holds the same value either way.
template <class T>
struct Pair {
    typedef T type __attribute__((vector_size(32)));
    static constexpr int lanes = 32 / sizeof(T);
};

// v <- p[0, lanes) (unaligned). Pair vectors move through references, never by
// value: a 32-byte vector argument or result would change the baseline ABI.
template <class T>
inline void load_pair(const T* p, typename Pair<T>::type& v) {
    std::memcpy(&v, p, sizeof v);
}

// Stores one SIMD vector at an aligned address, bypassing the cache (x86), so a
// large output is not first read into the cache; elsewhere a plain store.
inline void stream_store(float* p, Float4 v) {
#if defined(__SSE2__)
    _mm_stream_ps(p, v);
#else
    std::memcpy(p, &v, sizeof v);
#endif
}
inline void stream_store(double* p, Double2 v) {
#if defined(__SSE2__)
    _mm_stream_pd(p, v);
#else
    std::memcpy(p, &v, sizeof v);
#endif
}

// out[i] = vf(i, v) (sets v to the Pair vector of elements i..) / sf(i) (one element) for i < n:
// with non-temporal stores when `stream`, from the first 16-byte aligned element.
// NPK_CLONES (with vf, sf inlined): the AVX2 copy computes 32 bytes per step. vf
// and sf come by value: the loop then holds its own copies of what they capture,
// which the stores to out cannot alias (by reference, every step reloaded them).
template <class T, class VecFn, class ScalarFn>
NPK_CLONES void write_run(T* out, std::int64_t n, bool stream, VecFn vf, ScalarFn sf) {
    constexpr int lanes = Pair<T>::lanes, half = lanes / 2;
    std::int64_t i      = 0;
    if(stream) {
        while(i < n && reinterpret_cast<std::uintptr_t>(out + i) % 16 != 0) {
            out[i] = sf(i);
            ++i;
        }
        for(; i + lanes <= n; i += lanes) {
            typename Pair<T>::type v;
            vf(i, v);
            typename Simd<T>::type lo, hi;
            std::memcpy(&lo, &v, sizeof lo);
            std::memcpy(&hi, reinterpret_cast<const char*>(&v) + sizeof lo, sizeof hi);
            stream_store(out + i, lo);
            stream_store(out + i + half, hi);
        }
#if defined(__SSE2__)
        _mm_sfence(); // order the streaming stores before anything that follows
#endif
    }
    for(; i < n; ++i) {
        out[i] = sf(i);
    }
}

// Outputs larger than this (bytes) are written with non-temporal stores: they
// cannot stay in cache anyway, and skipping the read-for-ownership saves a third
// of a streaming pass's traffic.
constexpr std::int64_t stream_bytes = std::int64_t{8} << 20;

// Software prefetch for loops bound by memory reads, where the hardware
// prefetcher alone keeps too few lines in flight: called at each step of a loop
// that reads p[i] in order, i advancing by Step, it asks once per 64-byte line for
// the line `distance` bytes ahead.
template <int Step, class T>
inline void prefetch_ahead(const T* p, std::int64_t i, std::int64_t distance) {
    constexpr std::int64_t per_line = 64 / std::int64_t{sizeof(T)};
    if(i % per_line < Step) {
        __builtin_prefetch(reinterpret_cast<const char*>(p + i) + distance);
    }
}

// An unaligned load of one vector.
template <class T>
inline typename Simd<T>::type load(const T* p) {
    typename Simd<T>::type v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// True when bad(v) holds in some lane of a vector v of x[0, n) (a vector
// predicate, returning a lane mask) or bad_one(x[i]) for the tail.
template <class T, class VecPred, class ScalarPred>
inline bool any_lane(const T* x, std::int64_t n, VecPred&& bad, ScalarPred&& bad_one) {
    using V             = typename Simd<T>::type;
    constexpr int lanes = Simd<T>::lanes;
    using M             = decltype(V{} != V{});
    M acc               = M{};
    std::int64_t i      = 0;
    for(; i + lanes <= n; i += lanes) {
        acc |= bad(load(x + i));
    }
    bool any = false;
    for(int j = 0; j < lanes; ++j) {
        any = any || acc[j] != 0;
    }
    for(; i < n; ++i) {
        any = any || bad_one(x[i]);
    }
    return any;
}

// True when any of x[0, n) is NaN or infinite (v - v is 0 exactly for finite v).
template <class T>
NPK_CLONES bool any_non_finite(const T* x, std::int64_t n) {
    using V = typename Simd<T>::type;
    return any_lane(x, n, [](V v) { return (v - v) != V{}; }, [](T v) { return !(v - v == T(0)); });
}

// The sum of x[0, n) in double, in a fixed order: 8 accumulators (the j-th
// takes x[8k + j]) added in lane order, then the tail. Independent chains, so
// the loop vectorises, where one running sum would wait on each add's latency.
template <class T>
NPK_CLONES double sum_in_double(const T* x, std::int64_t n) {
    constexpr int lanes = 8;
    double acc[lanes] = {};
    std::int64_t i = 0;
    for(; i + lanes <= n; i += lanes) {
        for(int j = 0; j < lanes; ++j) {
            acc[j] += static_cast<double>(x[i + j]);
        }
    }
    double s = 0.0;
    for(int j = 0; j < lanes; ++j) {
        s += acc[j];
    }
    for(; i < n; ++i) {
        s += static_cast<double>(x[i]);
    }
    return s;
}

} // namespace npk::simd
