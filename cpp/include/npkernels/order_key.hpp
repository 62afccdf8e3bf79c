#pragma once
// Order-preserving unsigned keys: a < b as numbers iff key(a) < key(b) as
// unsigned integers, so a radix sort on the keys sorts the numbers. -0.0 and
// +0.0 map to one key (they compare equal). NaN has no place in the order:
// callers reject it first.

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace npk {

template <class T>
struct OrderKey;

template <class F, class U>
struct FloatOrderKey {
    using type = U;
    static constexpr U sign = U{1} << (8 * sizeof(U) - 1);
    static U encode(F v) {
        v += F(0); // -0.0 + 0.0 == +0.0: one key for both zeros
        U bits;
        std::memcpy(&bits, &v, sizeof bits);
        // Negative numbers: flip every bit (larger magnitude sorts lower);
        // positive numbers: set the sign bit so they sort above all negatives.
        return (bits & sign) ? static_cast<U>(~bits) : static_cast<U>(bits | sign);
    }
    static F decode(U key) {
        const U bits = (key & sign) ? static_cast<U>(key & ~sign) : static_cast<U>(~key);
        F v;
        std::memcpy(&v, &bits, sizeof v);
        return v;
    }
    static bool valid(F v) { return std::isfinite(v); }
};

template <>
struct OrderKey<float> : FloatOrderKey<float, std::uint32_t> {};
template <>
struct OrderKey<double> : FloatOrderKey<double, std::uint64_t> {};

template <>
struct OrderKey<std::int64_t> {
    using type = std::uint64_t;
    static constexpr std::uint64_t sign = std::uint64_t{1} << 63;
    static type encode(std::int64_t v) { return static_cast<std::uint64_t>(v) ^ sign; }
    static std::int64_t decode(type key) { return static_cast<std::int64_t>(key ^ sign); }
    static bool valid(std::int64_t) { return true; }
};

template <>
struct OrderKey<std::uint64_t> {
    using type = std::uint64_t;
    static type encode(std::uint64_t v) { return v; }
    static std::uint64_t decode(type key) { return key; }
    static bool valid(std::uint64_t) { return true; }
};

template <class T>
using key_t = typename OrderKey<T>::type;

} // namespace npk
