#pragma once
// Scratch memory for kernels: uninitialised (the kernel writes every element
// before reading it), freed on scope exit, allocated outside parallel regions
// so std::bad_alloc reaches the binding as MemoryError.

#include <cstdint>
#include <memory>

namespace npk {

template <class T>
using Buffer = std::unique_ptr<T[]>;

template <class T>
Buffer<T> uninitialized_buffer(std::int64_t n) {
    return Buffer<T>(new T[static_cast<std::size_t>(n > 0 ? n : 1)]);
}

} // namespace npk
