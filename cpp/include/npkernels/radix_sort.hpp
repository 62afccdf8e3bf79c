#pragma once
// Stable radix sort of unsigned keys, optionally carrying a payload.
//
// A stable sort has exactly one result, so the output never depends on the
// thread count. The sort is most-significant-digit first: one parallel pass
// scatters the keys into 256 buckets by their highest differing byte (each
// thread counts and scatters one contiguous part, at offsets laid out in
// (digit, part) order, which keeps equal keys in input order); the buckets are
// then sorted independently, handed out to threads one by one. A bucket
// recurses on the next byte while it is large and switches to a
// least-significant-digit sort once it fits in cache, so the whole array
// crosses memory about twice instead of once per byte, and a busy core delays
// only the buckets it holds.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "npkernels/parallel.hpp"

namespace npk {

struct NoPayload {};

template <class K, class P>
struct SortedView {
    K* keys;
    P* payload;
};

namespace radix_detail {

constexpr int digit_bits = 8; // measured: 11-bit digits scatter to too many streams
constexpr int radix      = 1 << digit_bits;
constexpr std::int64_t insertion_max = 48;      // elements: below this, insertion sort
constexpr std::int64_t in_cache_max  = 1 << 14; // elements: below this, LSD in cache

template <class P>
constexpr bool has_payload = !std::is_same_v<P, NoPayload>;

template <class K>
std::size_t digit(K key, int shift) {
    return static_cast<std::size_t>((key >> shift) & (radix - 1));
}

template <class K, class P>
void move_element(SortedView<K, P> from, std::int64_t i, SortedView<K, P> to, std::int64_t j) {
    to.keys[j] = from.keys[i];
    if constexpr(has_payload<P>) {
        to.payload[j] = from.payload[i];
    }
}

template <class K, class P>
void copy_range(SortedView<K, P> from, SortedView<K, P> to, std::int64_t b, std::int64_t e) {
    std::memcpy(to.keys + b, from.keys + b, static_cast<std::size_t>(e - b) * sizeof(K));
    if constexpr(has_payload<P>) {
        std::memcpy(to.payload + b, from.payload + b, static_cast<std::size_t>(e - b) * sizeof(P));
    }
}

template <class K, class P>
void insertion_sort(SortedView<K, P> a, std::int64_t b, std::int64_t e) {
    for(std::int64_t i = b + 1; i < e; ++i) {
        const K key = a.keys[i];
        std::int64_t j = i;
        if constexpr(has_payload<P>) {
            const P value = a.payload[i];
            for(; j > b && a.keys[j - 1] > key; --j) { // strict: equal keys keep their order
                a.keys[j]    = a.keys[j - 1];
                a.payload[j] = a.payload[j - 1];
            }
            a.payload[j] = value;
        } else {
            for(; j > b && a.keys[j - 1] > key; --j) {
                a.keys[j] = a.keys[j - 1];
            }
        }
        a.keys[j] = key;
    }
}

// Stable counting scatter of from[b, e) into to[b, e) by the digit at shift;
// start[d] receives where bucket d begins (start[radix] = e).
template <class K, class P>
void scatter(SortedView<K, P> from, SortedView<K, P> to, std::int64_t b, std::int64_t e,
             int shift, std::int64_t* start) {
    std::int64_t next[radix] = {};
    for(std::int64_t i = b; i < e; ++i) {
        ++next[digit(from.keys[i], shift)];
    }
    std::int64_t running = b;
    for(int d = 0; d < radix; ++d) {
        start[d] = running;
        running += next[d];
        next[d] = start[d];
    }
    start[radix] = e;
    for(std::int64_t i = b; i < e; ++i) {
        move_element(from, i, to, next[digit(from.keys[i], shift)]++);
    }
}

// LSD sort of a[b, e) on the bytes below `bits`, t as scratch; result in a.
// All digit counts come from one read; a byte equal for every key is skipped.
template <class K, class P>
void lsd_sort(SortedView<K, P> a, SortedView<K, P> t, std::int64_t b, std::int64_t e, int bits) {
    constexpr int max_passes = static_cast<int>(sizeof(K)) * 8 / digit_bits;
    const int passes         = (bits + digit_bits - 1) / digit_bits;
    std::int32_t count[max_passes][radix] = {};
    for(std::int64_t i = b; i < e; ++i) {
        for(int p = 0; p < passes; ++p) {
            ++count[p][digit(a.keys[i], p * digit_bits)];
        }
    }
    SortedView<K, P> src = a, dst = t;
    for(int p = 0; p < passes; ++p) {
        std::int64_t next[radix];
        std::int64_t running = b;
        bool trivial         = false;
        for(int d = 0; d < radix; ++d) {
            next[d] = running;
            running += count[p][d];
            trivial = trivial || count[p][d] == e - b;
        }
        if(trivial) {
            continue;
        }
        for(std::int64_t i = b; i < e; ++i) {
            move_element(src, i, dst, next[digit(src.keys[i], p * digit_bits)]++);
        }
        std::swap(src, dst);
    }
    if(src.keys != a.keys) {
        copy_range(src, a, b, e);
    }
}

// Sorts a[b, e), whose keys agree on every bit at or above `bits`; t is
// scratch for the same range. Result in a.
template <class K, class P>
void sort_in_place(SortedView<K, P> a, SortedView<K, P> t, std::int64_t b, std::int64_t e,
                   int bits);

// Sorts from[b, e) (keys agreeing at or above `bits`) into to[b, e).
template <class K, class P>
void sort_into(SortedView<K, P> from, SortedView<K, P> to, std::int64_t b, std::int64_t e,
               int bits) {
    if(e - b <= in_cache_max || bits <= digit_bits) {
        copy_range(from, to, b, e);
        sort_in_place(to, from, b, e, bits);
        return;
    }
    const int shift = bits - digit_bits;
    std::int64_t start[radix + 1];
    scatter(from, to, b, e, shift, start);
    for(int d = 0; d < radix; ++d) {
        sort_in_place(to, from, start[d], start[d + 1], shift);
    }
}

template <class K, class P>
void sort_in_place(SortedView<K, P> a, SortedView<K, P> t, std::int64_t b, std::int64_t e,
                   int bits) {
    if(e - b <= 1 || bits <= 0) {
        return;
    }
    if(e - b <= insertion_max) {
        insertion_sort(a, b, e);
        return;
    }
    if(e - b <= in_cache_max || bits <= digit_bits) {
        lsd_sort(a, t, b, e, bits);
        return;
    }
    const int shift = bits - digit_bits;
    std::int64_t start[radix + 1];
    scatter(a, t, b, e, shift, start);
    for(int d = 0; d < radix; ++d) {
        sort_into(t, a, start[d], start[d + 1], shift);
    }
}

// 1 + the index of the highest bit in which some key differs from keys[0] (0: all equal).
template <class K>
int significant_bits(const K* keys, std::int64_t n, int n_threads) {
    const int parts = useful_threads(n, std::int64_t{1} << 16, n_threads);
    std::vector<K> differ(static_cast<std::size_t>(parts), 0);
    const K first = keys[0];
    parallel_parts(parts, parts, [&](std::int64_t p) {
        const Range r = part_range(n, p, parts);
        K acc         = 0;
        for(std::int64_t i = r.begin; i < r.end; ++i) {
            acc |= static_cast<K>(keys[i] ^ first);
        }
        differ[static_cast<std::size_t>(p)] = acc;
    });
    K all = 0;
    for(const K d : differ) {
        all |= d;
    }
    int bits = 0;
    for(; all != 0; all >>= 1) {
        ++bits;
    }
    return bits;
}

} // namespace radix_detail

// Sorts keys[0, n) ascending, stably; payload[i] travels with keys[i]. The
// scratch arrays hold n elements each. Returns where the result ended up: the
// input arrays or the scratch arrays (the others hold garbage). Pass
// P = NoPayload and null payload pointers to sort keys alone.
template <class K, class P>
SortedView<K, P> radix_sort(K* keys, P* payload, K* key_scratch, P* payload_scratch,
                            std::int64_t n, int n_threads) {
    static_assert(std::is_unsigned_v<K>, "radix_sort sorts unsigned keys");
    using namespace radix_detail;
    SortedView<K, P> src{keys, payload};
    SortedView<K, P> dst{key_scratch, payload_scratch};
    if(n <= 1) {
        return src;
    }
    const int bits  = significant_bits(keys, n, n_threads);
    const int parts = useful_threads(n, std::int64_t{1} << 16, n_threads);
    if(parts <= 1 || bits <= digit_bits) {
        sort_in_place(src, dst, 0, n, bits);
        return src;
    }

    // The top byte in parallel: per-part counts, offsets in (digit, part)
    // order, then each part scatters its keys.
    const int shift = bits - digit_bits;
    std::vector<std::int64_t> offsets(static_cast<std::size_t>(parts) * radix, 0);
    parallel_parts(parts, parts, [&](std::int64_t p) {
        std::int64_t* count = offsets.data() + p * radix;
        const Range r       = part_range(n, p, parts);
        for(std::int64_t i = r.begin; i < r.end; ++i) {
            ++count[digit(src.keys[i], shift)];
        }
    });
    std::vector<std::int64_t> bucket_start(radix + 1);
    std::int64_t running = 0;
    for(int d = 0; d < radix; ++d) {
        bucket_start[static_cast<std::size_t>(d)] = running;
        for(int p = 0; p < parts; ++p) {
            std::int64_t& slot   = offsets[static_cast<std::size_t>(p) * radix + d];
            const std::int64_t c = slot;
            slot                 = running;
            running += c;
        }
    }
    bucket_start[radix] = n;
    parallel_parts(parts, parts, [&](std::int64_t p) {
        std::int64_t* next = offsets.data() + p * radix;
        const Range r      = part_range(n, p, parts);
        for(std::int64_t i = r.begin; i < r.end; ++i) {
            move_element(src, i, dst, next[digit(src.keys[i], shift)]++);
        }
    });
    // Each bucket is independent: hand them out one at a time.
    parallel_dynamic(radix, n_threads, [&](std::int64_t d) {
        sort_in_place(dst, src, bucket_start[static_cast<std::size_t>(d)],
                      bucket_start[static_cast<std::size_t>(d) + 1], shift);
    });
    return dst;
}

} // namespace npk
