#pragma once
// A bounded max-heap of (distance, index) pairs: the k best candidates of one
// k-nearest-neighbour search. The root is the worst kept candidate, so a new
// one replaces it in O(log k); k = 1 costs one compare. The storage is lent by
// the caller (allocated once per worker, outside parallel regions).

#include <algorithm>
#include <cstdint>

namespace npk::neighbors {

template <class T>
class KnnHeap {
  public:
    KnnHeap(T* dist, std::int64_t* index, std::int64_t capacity)
        : dist_(dist), index_(index), capacity_(capacity) {}

    void clear() { size_ = 0; }
    bool full() const { return size_ == capacity_; }
    std::int64_t size() const { return size_; }
    T worst() const { return dist_[0]; }

    // Adds a candidate; when full, it must beat worst() (the caller checks).
    void push(T d, std::int64_t i) {
        if(size_ < capacity_) {
            std::int64_t c = size_++;
            for(; c > 0 && dist_[(c - 1) / 2] < d; c = (c - 1) / 2) {
                move(c, (c - 1) / 2); // sift up
            }
            put(c, d, i);
            return;
        }
        push_root(d, i);
    }

    // Sorts the kept candidates ascending by (distance, index) in place: the
    // index breaks ties so equal distances come out smallest index first.
    void sort_ascending() {
        if(size_ > 32) {
            heap_sort();
            return;
        }
        for(std::int64_t a = 1; a < size_; ++a) {
            const T d            = dist_[a];
            const std::int64_t i = index_[a];
            std::int64_t b       = a;
            for(; b > 0 && (d < dist_[b - 1] || (d == dist_[b - 1] && i < index_[b - 1])); --b) {
                move(b, b - 1);
            }
            put(b, d, i);
        }
    }

  private:
    // Large k: pop the max to the end repeatedly, then fix tie order per run.
    void heap_sort() {
        const std::int64_t n = size_;
        for(std::int64_t end = n - 1; end > 0; --end) {
            const T d            = dist_[end];
            const std::int64_t i = index_[end];
            move(end, 0);
            size_ = end;
            push_root(d, i);
        }
        size_ = n;
        std::int64_t run = 0;
        while(run < n) {
            std::int64_t stop = run + 1;
            while(stop < n && dist_[stop] == dist_[run]) {
                ++stop;
            }
            std::sort(index_ + run, index_ + stop);
            run = stop;
        }
    }

    // Sifts (d, i) down from the root of the current size_ elements.
    void push_root(T d, std::int64_t i) {
        std::int64_t c = 0;
        for(;;) {
            std::int64_t child = 2 * c + 1;
            if(child >= size_) {
                break;
            }
            if(child + 1 < size_ && dist_[child] < dist_[child + 1]) {
                ++child;
            }
            if(!(d < dist_[child])) {
                break;
            }
            move(c, child);
            c = child;
        }
        put(c, d, i);
    }

    void move(std::int64_t to, std::int64_t from) {
        dist_[to]  = dist_[from];
        index_[to] = index_[from];
    }
    void put(std::int64_t at, T d, std::int64_t i) {
        dist_[at]  = d;
        index_[at] = i;
    }

    T* dist_;
    std::int64_t* index_;
    std::int64_t capacity_;
    std::int64_t size_ = 0;
};

} // namespace npk::neighbors
