#pragma once
// Scratch memory for kernels: uninitialised (the kernel writes every element
// before reading it), freed on scope exit, allocated outside parallel regions
// so std::bad_alloc reaches the binding as MemoryError.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <new>
#include <type_traits>
#include <vector>

#ifdef __linux__
#include <sys/mman.h>
#endif
#ifdef __unix__
#include <pthread.h>
#endif

namespace npk {

template <class T>
using Buffer = std::unique_ptr<T[]>;

template <class T>
Buffer<T> uninitialized_buffer(std::int64_t n) {
    return Buffer<T>(new T[static_cast<std::size_t>(n > 0 ? n : 1)]);
}

namespace detail {

class LargeBlockCache;
inline LargeBlockCache& large_block_cache();

// Large blocks freed by their buffers, kept for the next kernel call: a kernel
// called again on the same shapes then finds its scratch already mapped,
// instead of faulting in and zeroing fresh huge pages on every call (on a
// Winograd convolution of (8,256,14,14->256) that clearing was ~10% of the
// call). At most max_blocks blocks and max_bytes in all are kept (the oldest
// go first); a block larger than max_bytes is freed at once.
class LargeBlockCache {
  public:
    static constexpr std::size_t max_blocks = 8;
    static constexpr std::size_t max_bytes  = std::size_t(64) << 20;

    // The smallest kept block of at least `bytes` (taken out), or nullptr.
    void* take(std::size_t bytes, std::size_t& got) {
        std::lock_guard<std::mutex> lock(mutex_);
        std::size_t best = blocks_.size();
        for(std::size_t i = 0; i < blocks_.size(); ++i) {
            if(blocks_[i].bytes >= bytes && (best == blocks_.size() || blocks_[i].bytes < blocks_[best].bytes)) {
                best = i;
            }
        }
        if(best == blocks_.size()) {
            return nullptr;
        }
        const Block b = blocks_[best];
        blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(best));
        total_ -= b.bytes;
        got = b.bytes;
        return b.p;
    }
    // Keeps p (of `bytes`), freeing the oldest blocks beyond the limits.
    void give(void* p, std::size_t bytes) {
        if(bytes > max_bytes) {
            std::free(p);
            return;
        }
        std::vector<void*> drop;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            blocks_.push_back(Block{p, bytes});
            total_ += bytes;
            while(!blocks_.empty() && (blocks_.size() > max_blocks || total_ > max_bytes)) {
                drop.push_back(blocks_.front().p);
                total_ -= blocks_.front().bytes;
                blocks_.erase(blocks_.begin());
            }
        }
        for(void* q : drop) {
            std::free(q);
        }
    }
    // A fork while another thread holds the lock would leave the child's copy
    // locked forever: the forking thread holds it across fork() instead.
    LargeBlockCache() {
#ifdef __unix__
        pthread_atfork([] { large_block_cache().mutex_.lock(); },
                       [] { large_block_cache().mutex_.unlock(); },
                       [] { large_block_cache().mutex_.unlock(); });
#endif
    }
    // Frees every kept block; returns their bytes.
    std::size_t release() {
        std::vector<Block> drop;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            drop.swap(blocks_);
            total_ = 0;
        }
        std::size_t bytes = 0;
        for(const Block& b : drop) {
            std::free(b.p);
            bytes += b.bytes;
        }
        return bytes;
    }

  private:
    struct Block {
        void* p;
        std::size_t bytes;
    };
    std::mutex mutex_;
    std::vector<Block> blocks_;
    std::size_t total_ = 0;
};

// Never destroyed: a kernel still running in another thread while the process
// exits may give a block back after static destructors have run. The kept
// blocks stay reachable from it (no leak report).
inline LargeBlockCache& large_block_cache() {
    static LargeBlockCache* cache = new LargeBlockCache;
    return *cache;
}

} // namespace detail

// Gives a large buffer's block back to the cache.
struct LargeBlockDeleter {
    std::size_t bytes = 0;
    void operator()(void* p) const { detail::large_block_cache().give(p, bytes); }
};

template <class T>
using LargeBuffer = std::unique_ptr<T[], LargeBlockDeleter>;

// A large scratch buffer (a copy of a whole feature map, say): 2 MiB-aligned
// and, on Linux, advised to use transparent huge pages, as NumPy does for its
// own large arrays. With 4 KiB pages the first touch of a 100 MB buffer costs
// ~25,000 page faults, as much time as a fast kernel that fills it. Freed
// blocks are reused by later calls (detail::LargeBlockCache).
template <class T>
LargeBuffer<T> large_uninitialized_buffer(std::int64_t n) {
    static_assert(std::is_trivial_v<T>, "large_uninitialized_buffer holds plain numbers");
    constexpr std::size_t align = std::size_t(2) << 20;
    const std::size_t bytes     = static_cast<std::size_t>(n > 0 ? n : 1) * sizeof(T);
    const std::size_t rounded   = (bytes + align - 1) / align * align;
    std::size_t got             = rounded;
    void* p                     = detail::large_block_cache().take(rounded, got);
    if(p == nullptr) {
        p = std::aligned_alloc(align, rounded);
        if(p == nullptr) {
            throw std::bad_alloc();
        }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
        madvise(p, rounded, MADV_HUGEPAGE); // advice only: failure changes nothing
#endif
    }
    return LargeBuffer<T>(static_cast<T*>(p), LargeBlockDeleter{got});
}

} // namespace npk
