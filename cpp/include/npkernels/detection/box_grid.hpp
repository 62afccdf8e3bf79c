#pragma once
// A uniform grid that files each box under the cell of its corner (x1, y1),
// so that "which boxes can overlap box q" visits a few cells instead of every
// box. A box b overlaps q only if q.x1 - width(b) < b.x1 < q.x2 (and the same
// in y), so with wmax the widest filed box, b's cell lies in the cell range
// of [q.x1 - wmax, q.x2] x [q.y1 - hmax, q.y2]. The cell of a coordinate is a
// monotone function of it, which is all the argument needs: the grid only
// prunes pairs that cannot intersect, it never decides a suppression.
//
// Boxes much larger than the typical one would widen every query, so they go
// to a "big" list that every query visits; empty boxes (no positive width or
// height) intersect nothing and are left to the caller.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>

#include "npkernels/detection/box_ops.hpp"

namespace npk::detection::detail {

struct CellRange {
    std::int64_t cx0, cx1, cy0, cy1; // inclusive
};

class GridPlan {
  public:
    // Plans a grid for the boxes at positions [b, e) of s with at most
    // max_cells cells; cell_factor scales the cell side relative to the
    // median box size.
    template <class T>
    GridPlan(const BoxesSoA<T>& s, std::int64_t b, std::int64_t e, std::int64_t max_cells,
             double cell_factor) {
        constexpr int sample_size = 256;
        std::array<double, sample_size> sample{};
        int n_sample            = 0;
        const std::int64_t m    = e - b;
        const std::int64_t step = std::max<std::int64_t>(1, m / sample_size);
        double lo_x = std::numeric_limits<double>::infinity(), lo_y = lo_x;
        double hi_x = -lo_x, hi_y = -lo_x;
        for(std::int64_t p = b; p < e; ++p) {
            if(is_empty_box(s.x1[p], s.y1[p], s.x2[p], s.y2[p])) {
                continue;
            }
            const double x1 = s.x1[p], y1 = s.y1[p];
            lo_x = std::min(lo_x, x1), hi_x = std::max(hi_x, x1);
            lo_y = std::min(lo_y, y1), hi_y = std::max(hi_y, y1);
            if((p - b) % step == 0 && n_sample < sample_size) {
                sample[static_cast<std::size_t>(n_sample++)]
                    = std::max(static_cast<double>(s.x2[p]) - x1, static_cast<double>(s.y2[p]) - y1);
            }
        }
        if(n_sample == 0) {
            return; // nothing to file: one cell
        }
        std::nth_element(sample.begin(), sample.begin() + n_sample / 2, sample.begin() + n_sample);
        const double typical = sample[static_cast<std::size_t>(n_sample / 2)];
        big_                 = 4.0 * typical;
        double cell          = std::max(cell_factor * typical, std::numeric_limits<double>::min());
        x0_ = lo_x, y0_ = lo_y;
        const double span_x = hi_x - lo_x, span_y = hi_y - lo_y;
        for(;;) {
            if(!std::isfinite(cell)) {
                // The corners span more than a double holds (coordinates near +-DBL_MAX): no
                // cell size fits, so one cell (the grid only prunes; one cell prunes nothing).
                cell = 1.0;
                nx_ = ny_ = 1;
                break;
            }
            const double fx = std::floor(span_x / cell) + 1.0, fy = std::floor(span_y / cell) + 1.0;
            if(std::isfinite(fx) && std::isfinite(fy) && fx * fy <= static_cast<double>(max_cells)) {
                nx_ = static_cast<std::int64_t>(fx);
                ny_ = static_cast<std::int64_t>(fy);
                break;
            }
            cell *= 2.0;
        }
        inv_cell_ = 1.0 / cell;
        for(std::int64_t p = b; p < e; ++p) {
            if(!is_empty_box(s.x1[p], s.y1[p], s.x2[p], s.y2[p]) && !is_big(s, p)) {
                wmax_ = std::max(wmax_, static_cast<double>(s.x2[p]) - static_cast<double>(s.x1[p]));
                hmax_ = std::max(hmax_, static_cast<double>(s.y2[p]) - static_cast<double>(s.y1[p]));
            }
        }
    }

    std::int64_t grid_cells() const { return nx_ * ny_; }
    std::int64_t nx() const { return nx_; }

    template <class T>
    bool is_big(const BoxesSoA<T>& s, std::int64_t p) const {
        return static_cast<double>(s.x2[p]) - static_cast<double>(s.x1[p]) > big_
               || static_cast<double>(s.y2[p]) - static_cast<double>(s.y1[p]) > big_;
    }

    // The grid cell a non-empty, non-big box is filed under.
    template <class T>
    std::int64_t cell_of(const BoxesSoA<T>& s, std::int64_t p) const {
        return index(s.y1[p], y0_, ny_) * nx_ + index(s.x1[p], x0_, nx_);
    }

    // The cells that can hold a filed box overlapping (x1, y1, x2, y2).
    CellRange query(double x1, double y1, double x2, double y2) const {
        // The margin absorbs the rounding of the double subtractions.
        const double mx = 1e-9 * (std::fabs(x1) + wmax_) + std::numeric_limits<double>::min();
        const double my = 1e-9 * (std::fabs(y1) + hmax_) + std::numeric_limits<double>::min();
        return {index(x1 - wmax_ - mx, x0_, nx_), index(x2, x0_, nx_),
                index(y1 - hmax_ - my, y0_, ny_), index(y2, y0_, ny_)};
    }

  private:
    std::int64_t index(double v, double origin, std::int64_t count) const {
        const double c = std::floor((v - origin) * inv_cell_);
        if(!(c >= 0.0)) {
            return 0;
        }
        return c >= static_cast<double>(count - 1) ? count - 1 : static_cast<std::int64_t>(c);
    }

    double x0_ = 0.0, y0_ = 0.0, inv_cell_ = 0.0;
    std::int64_t nx_ = 1, ny_ = 1;
    double wmax_ = 0.0, hmax_ = 0.0;
    double big_ = std::numeric_limits<double>::infinity();
};

} // namespace npk::detection::detail
