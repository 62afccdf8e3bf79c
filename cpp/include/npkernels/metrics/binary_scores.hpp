#pragma once
// The shared first step of the binary ranking metrics (ROC AUC, ROC curve,
// average precision): split the scores by class, drop zero-weight samples (as
// scikit-learn does), and sort each class's scores ascending with a stable
// radix sort on order-preserving keys. The metrics only need, per distinct
// score, how much positive and negative weight sits there, which a merge of
// the two sorted lists gives without ever sorting a permutation.

#include <cstdint>
#include <vector>

#include "npkernels/buffer.hpp"
#include "npkernels/order_key.hpp"
#include "npkernels/parallel.hpp"
#include "npkernels/radix_sort.hpp"

namespace npk::metrics {

// One class's scores as sorted keys; weights[i] belongs to keys[i] (null when
// the samples are unweighted).
template <class K>
struct ClassScores {
    const K* keys          = nullptr;
    const double* weights  = nullptr;
    std::int64_t n         = 0;
};

template <class T>
class SortedClasses {
  public:
    using K = key_t<T>;

    // score: n values; is_pos: n flags (nonzero = positive); weight: n
    // weights or null. Check first_bad() before using the classes.
    SortedClasses(const T* score, const std::uint8_t* is_pos, const double* weight,
                  std::int64_t n, int n_threads);

    // Index of the first non-finite score, or -1.
    std::int64_t first_bad() const { return first_bad_; }
    bool weighted() const { return weighted_; }
    const ClassScores<K>& positives() const { return pos_; }
    const ClassScores<K>& negatives() const { return neg_; }

  private:
    void sort_segment(std::int64_t begin, std::int64_t count, ClassScores<K>& out, int n_threads);

    bool weighted_;
    std::int64_t first_bad_ = -1;
    Buffer<K> keys_, key_scratch_;
    Buffer<double> weights_, weight_scratch_;
    ClassScores<K> pos_, neg_;
};

template <class T>
SortedClasses<T>::SortedClasses(const T* score, const std::uint8_t* is_pos,
                                const double* weight, std::int64_t n, int n_threads)
    : weighted_(weight != nullptr) {
    const int parts = useful_threads(n, std::int64_t{1} << 16, n_threads);
    std::vector<std::int64_t> n_pos(static_cast<std::size_t>(parts) + 1, 0);
    std::vector<std::int64_t> n_neg(static_cast<std::size_t>(parts) + 1, 0);
    std::vector<std::int64_t> bad(static_cast<std::size_t>(parts), -1);
    const auto kept = [=](std::int64_t i) { return weight == nullptr || weight[i] != 0.0; };

    parallel_parts(parts, parts, [&](std::int64_t p) {
        const Range r = part_range(n, p, parts);
        std::int64_t pos = 0, neg = 0;
        for(std::int64_t i = r.begin; i < r.end; ++i) {
            if(!OrderKey<T>::valid(score[i])) {
                bad[static_cast<std::size_t>(p)] = i;
                return;
            }
            if(kept(i)) {
                pos += is_pos[i] != 0 ? 1 : 0;
                neg += is_pos[i] != 0 ? 0 : 1;
            }
        }
        n_pos[static_cast<std::size_t>(p) + 1] = pos;
        n_neg[static_cast<std::size_t>(p) + 1] = neg;
    });
    for(const std::int64_t b : bad) {
        if(b >= 0) {
            first_bad_ = b;
            return;
        }
    }
    // Exclusive offsets: positives fill [0, P), negatives [P, P + N), each
    // class in input order so the sorts below stay stable in the input index.
    for(int p = 0; p < parts; ++p) {
        n_pos[static_cast<std::size_t>(p) + 1] += n_pos[static_cast<std::size_t>(p)];
        n_neg[static_cast<std::size_t>(p) + 1] += n_neg[static_cast<std::size_t>(p)];
    }
    const std::int64_t total_pos = n_pos.back();
    const std::int64_t total     = total_pos + n_neg.back();
    keys_                        = uninitialized_buffer<K>(total);
    key_scratch_                 = uninitialized_buffer<K>(total);
    if(weighted_) {
        weights_        = uninitialized_buffer<double>(total);
        weight_scratch_ = uninitialized_buffer<double>(total);
    }
    parallel_parts(parts, parts, [&](std::int64_t p) {
        const Range r        = part_range(n, p, parts);
        std::int64_t next_p  = n_pos[static_cast<std::size_t>(p)];
        std::int64_t next_n  = total_pos + n_neg[static_cast<std::size_t>(p)];
        for(std::int64_t i = r.begin; i < r.end; ++i) {
            if(!kept(i)) {
                continue;
            }
            const std::int64_t dest = is_pos[i] != 0 ? next_p++ : next_n++;
            keys_[dest]             = OrderKey<T>::encode(score[i]);
            if(weighted_) {
                weights_[dest] = weight[i];
            }
        }
    });
    sort_segment(0, total_pos, pos_, n_threads);
    sort_segment(total_pos, total - total_pos, neg_, n_threads);
}

template <class T>
void SortedClasses<T>::sort_segment(std::int64_t begin, std::int64_t count, ClassScores<K>& out,
                                    int n_threads) {
    out.n = count;
    if(weighted_) {
        const auto s = radix_sort(keys_.get() + begin, weights_.get() + begin,
                                  key_scratch_.get() + begin, weight_scratch_.get() + begin, count,
                                  n_threads);
        out.keys    = s.keys;
        out.weights = s.payload;
    } else {
        NoPayload* none = nullptr;
        const auto s    = radix_sort(keys_.get() + begin, none, key_scratch_.get() + begin, none,
                                     count, n_threads);
        out.keys        = s.keys;
    }
}

namespace detail {

// Adds the weights (or the count) of the run of `key` that ends at index i of
// the ascending keys, in increasing index order; returns the index before it.
template <class K>
std::int64_t add_run(const ClassScores<K>& c, std::int64_t i, K key, double& sum,
                     std::int64_t& count) {
    std::int64_t first = i;
    while(first > 0 && c.keys[first - 1] == key) {
        --first;
    }
    count += i - first + 1;
    if(c.weights != nullptr) {
        for(std::int64_t k = first; k <= i; ++k) {
            sum += c.weights[k];
        }
    }
    return first - 1;
}

} // namespace detail

// Calls visit(key, tps, fps) for each distinct score from the highest to the
// lowest, where tps / fps are the positive / negative weight (or count) at or
// above it. Weighted sums run sample by sample in scikit-learn's order
// (decreasing score; equal scores in increasing input index, its stable
// descending sort), so they round exactly as its cumulative sums.
template <class K, class Visit>
void visit_thresholds_descending(const ClassScores<K>& pos, const ClassScores<K>& neg,
                                 Visit&& visit) {
    std::int64_t i = pos.n - 1;
    std::int64_t j = neg.n - 1;
    double tp_weight = 0.0, fp_weight = 0.0;
    std::int64_t tp_count = 0, fp_count = 0;
    while(i >= 0 || j >= 0) {
        const K key = (j < 0 || (i >= 0 && pos.keys[i] > neg.keys[j])) ? pos.keys[i] : neg.keys[j];
        if(i >= 0 && pos.keys[i] == key) {
            i = detail::add_run(pos, i, key, tp_weight, tp_count);
        }
        if(j >= 0 && neg.keys[j] == key) {
            j = detail::add_run(neg, j, key, fp_weight, fp_count);
        }
        const bool weighted = pos.weights != nullptr;
        visit(key, weighted ? tp_weight : static_cast<double>(tp_count),
              weighted ? fp_weight : static_cast<double>(fp_count));
    }
}

} // namespace npk::metrics
