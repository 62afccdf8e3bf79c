#include "array_utils.hpp"

#include "npkernels/metrics/average_precision.hpp"
#include "npkernels/metrics/rankdata.hpp"
#include "npkernels/metrics/roc_auc.hpp"
#include "npkernels/metrics/roc_curve.hpp"

#include <cmath>
#include <cstdint>
#include <string>

namespace {

using namespace npk::bind;
namespace metrics = npk::metrics;

metrics::RankMethod rank_method(const std::string& method) {
    if(method == "average") {
        return metrics::RankMethod::average;
    }
    if(method == "min") {
        return metrics::RankMethod::min;
    }
    if(method == "max") {
        return metrics::RankMethod::max;
    }
    if(method == "dense") {
        return metrics::RankMethod::dense;
    }
    if(method == "ordinal") {
        return metrics::RankMethod::ordinal;
    }
    throw py::value_error("method must be one of 'average', 'min', 'max', 'dense', 'ordinal', got '"
                          + method + "'");
}

py::array rankdata(const py::array& a, const std::string& method, int n_threads) {
    const metrics::RankMethod m = rank_method(method);
    return dispatch<float, double, std::int64_t, std::uint64_t>(
        a, "a", "float32, float64, int64 or uint64", [&](auto tag) -> py::array {
            using T      = decltype(tag);
            const auto x = as_c_array<T>(a, "a");
            require_shape(x, "a", {-1}, "(n,)");
            const py::ssize_t n = x.shape(0);
            c_array<double> ranks({n});
            const T* px    = x.data();
            double* pr     = ranks.mutable_data();
            std::int64_t bad = -1;
            {
                const py::gil_scoped_release release; // only raw pointers from here on
                bad = metrics::find_unordered(px, n, n_threads);
                if(bad < 0) {
                    metrics::rankdata(px, n, m, pr, n_threads);
                }
            }
            if(bad >= 0) {
                throw py::value_error("a must not contain NaN, got NaN at index "
                                      + std::to_string(bad));
            }
            return ranks;
        });
}

// The arrays every binary metric takes, checked; weight is null when absent.
template <class T>
struct BinaryInputs {
    c_array<T> score;
    c_array<std::uint8_t> is_pos;
    std::optional<c_array<double>> weight;

    BinaryInputs(const py::array& y_score, const py::array& y_pos, const py::object& sample_weight)
        : score(as_c_array<T>(y_score, "y_score")), is_pos(as_c_array<std::uint8_t>(y_pos, "is_pos")) {
        require_shape(score, "y_score", {-1}, "(n,)");
        require_same_length(is_pos, "is_pos", score.shape(0));
        if(!sample_weight.is_none()) {
            weight = as_c_array<double>(as_array(sample_weight, "sample_weight"), "sample_weight");
            require_same_length(*weight, "sample_weight", score.shape(0));
        }
    }
    std::int64_t n() const { return score.shape(0); }
    const double* weight_data() const { return weight ? weight->data() : nullptr; }
};

template <class T>
void raise_if_bad(std::int64_t bad, const T* score) {
    if(bad >= 0) {
        const double v = static_cast<double>(score[bad]);
        throw py::value_error("y_score must be finite, got " + std::string(std::isnan(v) ? "nan" : v > 0 ? "inf" : "-inf")
                              + " at index " + std::to_string(bad));
    }
}

py::tuple binary_roc_auc(const py::array& y_score, const py::array& is_pos,
                         const py::object& sample_weight, int n_threads) {
    return dispatch_float(y_score, "y_score", [&](auto tag) {
        using T = decltype(tag);
        const BinaryInputs<T> in(y_score, is_pos, sample_weight);
        metrics::BinaryAuc r{};
        {
            const py::gil_scoped_release release;
            r = metrics::binary_roc_auc(in.score.data(), in.is_pos.data(), in.weight_data(), in.n(),
                                        n_threads);
        }
        raise_if_bad(r.first_bad, in.score.data());
        return py::make_tuple(r.auc, r.pos_total, r.neg_total);
    });
}

py::tuple roc_curve_points(const py::array& y_score, const py::array& is_pos,
                           const py::object& sample_weight, bool drop_intermediate, int n_threads) {
    return dispatch_float(y_score, "y_score", [&](auto tag) {
        using T = decltype(tag);
        const BinaryInputs<T> in(y_score, is_pos, sample_weight);
        metrics::CurvePoints c;
        {
            const py::gil_scoped_release release;
            c = metrics::roc_curve_points(in.score.data(), in.is_pos.data(), in.weight_data(),
                                          in.n(), drop_intermediate, n_threads);
        }
        raise_if_bad(c.first_bad, in.score.data());
        return py::make_tuple(to_array(std::move(c.fps)), to_array(std::move(c.tps)),
                              to_array(std::move(c.thresholds)));
    });
}

py::tuple average_precision(const py::array& y_score, const py::array& is_pos,
                            const py::object& sample_weight, int n_threads) {
    return dispatch_float(y_score, "y_score", [&](auto tag) {
        using T = decltype(tag);
        const BinaryInputs<T> in(y_score, is_pos, sample_weight);
        metrics::AveragePrecision r{};
        {
            const py::gil_scoped_release release;
            r = metrics::average_precision(in.score.data(), in.is_pos.data(), in.weight_data(),
                                           in.n(), n_threads);
        }
        raise_if_bad(r.first_bad, in.score.data());
        return py::make_tuple(r.ap, r.pos_total);
    });
}

} // namespace

void register_metrics(py::module_& m) {
    m.def("rankdata", &rankdata, "a"_a, "method"_a, py::kw_only(), "n_threads"_a,
          "Internal; see npkernels.metrics.rankdata.");
    m.def("binary_roc_auc", &binary_roc_auc, "y_score"_a, "is_pos"_a, "sample_weight"_a,
          py::kw_only(), "n_threads"_a,
          "Internal; returns (auc, positive total, negative total). See npkernels.metrics.");
    m.def("roc_curve_points", &roc_curve_points, "y_score"_a, "is_pos"_a, "sample_weight"_a,
          "drop_intermediate"_a, py::kw_only(), "n_threads"_a,
          "Internal; returns (fps, tps, thresholds). See npkernels.metrics.roc_curve.");
    m.def("average_precision", &average_precision, "y_score"_a, "is_pos"_a, "sample_weight"_a,
          py::kw_only(), "n_threads"_a,
          "Internal; returns (ap, positive total). See npkernels.metrics.");
}
