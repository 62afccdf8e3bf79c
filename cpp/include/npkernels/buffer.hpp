#pragma once
// Scratch memory for kernels: uninitialised (the kernel writes every element
// before reading it), freed on scope exit, allocated outside parallel regions
// so std::bad_alloc reaches the binding as MemoryError.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <type_traits>

#ifdef __linux__
#include <sys/mman.h>
#endif

namespace npk {

template <class T>
using Buffer = std::unique_ptr<T[]>;

template <class T>
Buffer<T> uninitialized_buffer(std::int64_t n) {
    return Buffer<T>(new T[static_cast<std::size_t>(n > 0 ? n : 1)]);
}

struct FreeDeleter {
    void operator()(void* p) const { std::free(p); }
};

template <class T>
using LargeBuffer = std::unique_ptr<T[], FreeDeleter>;

// A large scratch buffer (a copy of a whole feature map, say): 2 MiB-aligned
// and, on Linux, advised to use transparent huge pages, as NumPy does for its
// own large arrays. With 4 KiB pages the first touch of a 100 MB buffer costs
// ~25,000 page faults, as much time as a fast kernel that fills it.
template <class T>
LargeBuffer<T> large_uninitialized_buffer(std::int64_t n) {
    static_assert(std::is_trivial_v<T>, "large_uninitialized_buffer holds plain numbers");
    constexpr std::size_t align = std::size_t(2) << 20;
    const std::size_t bytes     = static_cast<std::size_t>(n > 0 ? n : 1) * sizeof(T);
    const std::size_t rounded   = (bytes + align - 1) / align * align;
    void* p                     = std::aligned_alloc(align, rounded);
    if(p == nullptr) {
        throw std::bad_alloc();
    }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    madvise(p, rounded, MADV_HUGEPAGE); // advice only: failure changes nothing
#endif
    return LargeBuffer<T>(static_cast<T*>(p));
}

} // namespace npk
