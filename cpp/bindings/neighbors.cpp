#include "array_utils.hpp"

#include "npkernels/neighbors/kdtree.hpp"
#include "npkernels/neighbors/kdtree_query.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace {

using namespace npk::bind;
namespace nb = npk::neighbors;

nb::SplitRule split_rule(const std::string& split) {
    if(split == "variance") {
        return nb::SplitRule::variance;
    }
    if(split == "midpoint") {
        return nb::SplitRule::midpoint;
    }
    throw py::value_error("split must be one of 'variance', 'midpoint', got '" + split + "'");
}

template <class T>
void require_finite(const T* x, std::int64_t count, const char* name, int n_threads) {
    std::int64_t bad = -1;
    {
        const py::gil_scoped_release release;
        bad = nb::find_nonfinite(x, count, n_threads);
    }
    if(bad >= 0) {
        const double v = static_cast<double>(x[bad]);
        throw py::value_error(std::string(name) + " must be finite, got "
                              + (std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf") + " at index "
                              + std::to_string(bad));
    }
}

void require_p(double p, double eps) {
    if(!(p >= 1.0)) {
        throw py::value_error("p must be >= 1, got " + std::to_string(p));
    }
    if(!(eps >= 0.0)) {
        throw py::value_error("eps must be >= 0, got " + std::to_string(eps));
    }
}

// A KD-tree over float32 or float64 points. float32 trees with fewer than
// 2^31 points use 32-bit point ids (half the memory of a float64 tree).
template <class T>
class BoundTree {
  public:
    BoundTree(const py::array& data, std::int64_t leafsize, const std::string& split,
              int n_threads) {
        const auto x = as_c_array<T>(data, "data");
        require_shape(x, "data", {-1, -1}, "(n, m)");
        const std::int64_t n = x.shape(0), m = x.shape(1);
        if(n < 1 || m < 1) {
            throw py::value_error("data must have shape (n, m) with n >= 1 and m >= 1, got ("
                                  + std::to_string(n) + ", " + std::to_string(m) + ")");
        }
        if(leafsize < 1) {
            throw py::value_error("leafsize must be >= 1, got " + std::to_string(leafsize));
        }
        const nb::SplitRule rule = split_rule(split);
        require_finite(x.data(), n * m, "data", n_threads);
        const T* px = x.data();
        const py::gil_scoped_release release;
        if(std::is_same_v<T, float> && n < std::numeric_limits<std::int32_t>::max()) {
            tree_ = std::make_unique<nb::KDTree<T, std::int32_t>>(px, n, m, leafsize, rule,
                                                                  n_threads);
        } else {
            tree_ = std::make_unique<nb::KDTree<T, std::int64_t>>(px, n, m, leafsize, rule,
                                                                  n_threads);
        }
    }

    template <class Fn>
    decltype(auto) visit(Fn&& fn) const {
        return std::visit([&](const auto& t) -> decltype(auto) { return fn(*t); }, tree_);
    }

    std::int64_t n() const { return visit([](const auto& t) { return t.n(); }); }
    std::int64_t m() const { return visit([](const auto& t) { return t.m(); }); }
    std::int64_t leafsize() const { return visit([](const auto& t) { return t.leafsize(); }); }
    std::int64_t size() const { return visit([](const auto& t) { return t.size(); }); }
    std::int64_t nbytes() const { return visit([](const auto& t) { return t.nbytes(); }); }

    c_array<T> queries(const py::array& x_obj, int n_threads) const {
        const auto x = as_c_array<T>(x_obj, "x");
        require_shape(x, "x", {-1, m()}, ("(n_queries, " + std::to_string(m()) + ")").c_str());
        require_finite(x.data(), x.shape(0) * m(), "x", n_threads);
        return x;
    }

    py::tuple query(const py::array& x_obj, const py::array& ranks_obj, double p, double eps,
                    double distance_upper_bound, int n_threads) const {
        const auto x     = queries(x_obj, n_threads);
        const auto ranks = as_c_array<std::int64_t>(ranks_obj, "k");
        require_shape(ranks, "k", {-1}, "(n_ranks,)");
        require_p(p, eps);
        if(std::isnan(distance_upper_bound)) {
            throw py::value_error("distance_upper_bound must not be NaN");
        }
        const std::int64_t nk = ranks.shape(0), nq = x.shape(0);
        const std::int64_t* pr = ranks.data();
        for(std::int64_t r = 0; r < nk; ++r) {
            if(pr[r] < 1 || (r > 0 && pr[r] <= pr[r - 1])) {
                throw py::value_error("k must be increasing ranks >= 1, got "
                                      + std::string(py::str(ranks_obj)));
            }
        }
        const std::int64_t kmax = nk > 0 ? pr[nk - 1] : 0;
        c_array<T> dist({nq, nk});
        c_array<std::int64_t> index({nq, nk});
        const T* px          = x.data();
        T* pd                = dist.mutable_data();
        std::int64_t* pi     = index.mutable_data();
        if(nk > 0) {
            const py::gil_scoped_release release;
            visit([&](const auto& t) {
                nb::knn(t, px, nq, pr, nk, kmax, p, eps, distance_upper_bound, pd, pi, n_threads);
                return 0;
            });
        }
        return py::make_tuple(dist, index);
    }

    py::tuple query_radius(const py::array& x_obj, const py::array& r_obj, double p, double eps,
                           bool sort, bool count_only, int n_threads) const {
        const auto x = queries(x_obj, n_threads);
        const auto r = as_c_array<double>(r_obj, "r");
        require_same_length(r, "r", x.shape(0));
        require_p(p, eps);
        const std::int64_t nq = x.shape(0);
        for(std::int64_t i = 0; i < nq; ++i) {
            if(!(r.data()[i] >= 0.0)) {
                throw py::value_error("r must be >= 0, got " + std::to_string(r.data()[i]));
            }
        }
        const T* px      = x.data();
        const double* rr = r.data();
        nb::RadiusResult res;
        {
            const py::gil_scoped_release release;
            res = visit([&](const auto& t) {
                return nb::query_radius(t, px, nq, rr, p, eps, sort, count_only, n_threads);
            });
        }
        if(res.out_of_memory) {
            raise_memory_error("r: the neighbours within r of the " + std::to_string(nq)
                               + " query points do not fit in memory");
        }
        return py::make_tuple(to_array(std::move(res.indices)), to_array(std::move(res.offsets)));
    }

    py::array query_pairs(double r, double p, double eps, int n_threads) const {
        require_p(p, eps);
        if(!(r >= 0.0)) {
            throw py::value_error("r must be >= 0, got " + std::to_string(r));
        }
        nb::PairsResult res;
        {
            const py::gil_scoped_release release;
            res = visit([&](const auto& t) { return nb::query_pairs(t, r, p, eps, n_threads); });
        }
        if(res.out_of_memory) {
            raise_memory_error("r: the pairs of points within r do not fit in memory");
        }
        const auto count = static_cast<py::ssize_t>(res.pairs.size() / 2);
        return to_array(std::move(res.pairs)).reshape({count, py::ssize_t{2}});
    }

    // (indices in tree order, dim, start, end, left, right, lo_max, hi_min): for tests.
    py::tuple layout() const {
        return visit([&](const auto& t) {
            const std::int64_t n = t.n(), s = t.size();
            c_array<std::int64_t> ids({n});
            c_array<std::int64_t> cols({std::int64_t{5}, s});
            c_array<T> bounds({std::int64_t{2}, s});
            for(std::int64_t i = 0; i < n; ++i) {
                ids.mutable_data()[i] = static_cast<std::int64_t>(t.ids()[i]);
            }
            std::int64_t* c = cols.mutable_data();
            T* b            = bounds.mutable_data();
            for(std::int64_t k = 0; k < s; ++k) {
                const auto& nd = t.nodes()[k];
                c[k]           = nd.dim;
                c[s + k]       = static_cast<std::int64_t>(nd.start);
                c[2 * s + k]   = static_cast<std::int64_t>(nd.end);
                c[3 * s + k]   = static_cast<std::int64_t>(nd.left);
                c[4 * s + k]   = static_cast<std::int64_t>(nd.right);
                b[k]           = nd.lo_max;
                b[s + k]       = nd.hi_min;
            }
            return py::make_tuple(ids, cols, bounds);
        });
    }

  private:
    std::variant<std::unique_ptr<nb::KDTree<T, std::int32_t>>,
                 std::unique_ptr<nb::KDTree<T, std::int64_t>>>
        tree_;
};

template <class T>
void register_tree(py::module_& m, const char* name) {
    using B = BoundTree<T>;
    py::class_<B>(m, name, "Internal; see npkernels.neighbors.KDTree.")
        .def(py::init<const py::array&, std::int64_t, const std::string&, int>(), "data"_a,
             "leafsize"_a, "split"_a, py::kw_only(), "n_threads"_a)
        .def_property_readonly("n", &B::n)
        .def_property_readonly("m", &B::m)
        .def_property_readonly("leafsize", &B::leafsize)
        .def_property_readonly("size", &B::size)
        .def_property_readonly("nbytes", &B::nbytes)
        .def("query", &B::query, "x"_a, "k"_a, "p"_a, "eps"_a, "distance_upper_bound"_a,
             py::kw_only(), "n_threads"_a)
        .def("query_radius", &B::query_radius, "x"_a, "r"_a, "p"_a, "eps"_a, "sort"_a,
             "count_only"_a, py::kw_only(), "n_threads"_a)
        .def("query_pairs", &B::query_pairs, "r"_a, "p"_a, "eps"_a, py::kw_only(), "n_threads"_a)
        .def("layout", &B::layout);
}

} // namespace

void register_neighbors(py::module_& m) {
    register_tree<float>(m, "KDTreeF32");
    register_tree<double>(m, "KDTreeF64");
}
