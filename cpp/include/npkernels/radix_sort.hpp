#pragma once
// Stable LSD radix sort of unsigned keys, optionally carrying a payload.
//
// A stable sort has exactly one result, so the output never depends on the
// thread count. Each pass splits the input into one contiguous part per
// thread, counts digits per part, and scatters every part to offsets laid out
// in (digit, part) order, which keeps equal keys in input order. A pass whose
// digit is the same for every key is skipped (common for the top bytes of
// floating-point keys).

#include <algorithm>
#include <cstdint>
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

// Sorts keys[0, n) ascending; payload[i] travels with keys[i]. The scratch
// arrays hold n elements each. Returns where the result ended up: the input
// arrays or the scratch arrays (the others hold garbage). Pass P = NoPayload
// and null payload pointers to sort keys alone.
template <class K, class P>
SortedView<K, P> radix_sort(K* keys, P* payload, K* key_scratch, P* payload_scratch,
                            std::int64_t n, int n_threads) {
    static_assert(std::is_unsigned_v<K>, "radix_sort sorts unsigned keys");
    constexpr bool has_payload = !std::is_same_v<P, NoPayload>;
    constexpr int digit_bits   = 8;
    constexpr int radix        = 1 << digit_bits;
    constexpr int n_passes     = static_cast<int>(sizeof(K)) * 8 / digit_bits;

    SortedView<K, P> src{keys, payload};
    SortedView<K, P> dst{key_scratch, payload_scratch};
    if(n <= 1) {
        return src;
    }
    const int parts = useful_threads(n, std::int64_t{1} << 16, n_threads);
    std::vector<std::int64_t> offsets(static_cast<std::size_t>(parts) * radix);

    for(int pass = 0; pass < n_passes; ++pass) {
        const int shift = pass * digit_bits;
        parallel_parts(parts, parts, [&](std::int64_t p) {
            std::int64_t* count = offsets.data() + p * radix;
            std::fill(count, count + radix, std::int64_t{0});
            const Range r = part_range(n, p, parts);
            for(std::int64_t i = r.begin; i < r.end; ++i) {
                ++count[(src.keys[i] >> shift) & (radix - 1)];
            }
        });

        // Turn the counts into exclusive offsets, digit-major then part order.
        std::int64_t running = 0;
        bool trivial         = false;
        for(int d = 0; d < radix; ++d) {
            const std::int64_t digit_start = running;
            for(int p = 0; p < parts; ++p) {
                const std::int64_t c = offsets[static_cast<std::size_t>(p) * radix + d];
                offsets[static_cast<std::size_t>(p) * radix + d] = running;
                running += c;
            }
            trivial = trivial || running - digit_start == n;
        }
        if(trivial) {
            continue; // every key has this digit: the order is already right
        }

        parallel_parts(parts, parts, [&](std::int64_t p) {
            std::int64_t* next = offsets.data() + p * radix;
            const Range r      = part_range(n, p, parts);
            for(std::int64_t i = r.begin; i < r.end; ++i) {
                const K key             = src.keys[i];
                const std::int64_t dest = next[(key >> shift) & (radix - 1)]++;
                dst.keys[dest]          = key;
                if constexpr(has_payload) {
                    dst.payload[dest] = src.payload[i];
                }
            }
        });
        std::swap(src, dst);
    }
    return src;
}

} // namespace npk
