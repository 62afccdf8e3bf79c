#pragma once
// The only file that names BLAS. The library links no BLAS: the Python layer
// fetches the Fortran sgemm/dgemm that SciPy publishes in
// scipy.linalg.cython_blas.__pyx_capi__ and passes the raw function pointers
// down. Fortran BLAS is column-major with 32-bit int sizes; kernels here think
// row-major with 64-bit sizes, so gemm() below re-expresses the call and
// splits any dimension that does not fit in an int.

#include <algorithm>
#include <climits>
#include <cstdint>
#include <type_traits>

namespace npk::blas {

// Fortran ?gemm: C = alpha * op(A) * op(B) + beta * C, every argument by pointer.
template <class T>
using GemmFn = void (*)(const char* transa, const char* transb, const int* m, const int* n,
                        const int* k, const T* alpha, const T* a, const int* lda, const T* b,
                        const int* ldb, const T* beta, T* c, const int* ldc);

// The sgemm and dgemm pointers, as SciPy's BLAS provides them.
struct Gemms {
    GemmFn<float> sgemm  = nullptr;
    GemmFn<double> dgemm = nullptr;

    template <class T>
    GemmFn<T> get() const {
        if constexpr(std::is_same_v<T, float>) {
            return sgemm;
        } else {
            return dgemm;
        }
    }
};

// Largest dimension handed to one Fortran call; leading dimensions must fit
// in an int as they are (they are strides, which splitting cannot shrink).
inline constexpr std::int64_t max_dim = INT_MAX;

inline bool fits_int(std::int64_t v) { return v >= 0 && v <= max_dim; }

namespace detail {

template <class T>
void gemm_col_major(GemmFn<T> fn, bool ta, bool tb, std::int64_t m, std::int64_t n,
                    std::int64_t k, T alpha, const T* a, std::int64_t lda, const T* b,
                    std::int64_t ldb, T beta, T* c, std::int64_t ldc) {
    const char ca = ta ? 'T' : 'N';
    const char cb = tb ? 'T' : 'N';
    const int im = static_cast<int>(m), in = static_cast<int>(n), ik = static_cast<int>(k);
    const int ia = static_cast<int>(std::max<std::int64_t>(lda, 1));
    const int ib = static_cast<int>(std::max<std::int64_t>(ldb, 1));
    const int ic = static_cast<int>(std::max<std::int64_t>(ldc, 1));
    fn(&ca, &cb, &im, &in, &ik, &alpha, a, &ia, b, &ib, &beta, c, &ic);
}

} // namespace detail

// Row-major C (m x n, leading dimension ldc) = alpha * op(A) * op(B) + beta * C,
// with op(A) m x k and op(B) k x n; `trans_a` means A is stored k x m (lda its
// row length), likewise B. A row-major matrix is its transpose in column-major
// order, so this is the column-major call C^T = op(B)^T op(A)^T. m, n and k of
// any size are split into int-sized pieces (k pieces accumulate with beta = 1,
// in order). Returns false, computing nothing, if a leading dimension does not
// fit in an int; k == 0 scales C by beta like BLAS. Not thread-safe beyond what
// the BLAS is; call it outside OpenMP regions when the BLAS is threaded.
template <class T>
bool gemm(GemmFn<T> fn, bool trans_a, bool trans_b, std::int64_t m, std::int64_t n,
          std::int64_t k, T alpha, const T* a, std::int64_t lda, const T* b, std::int64_t ldb,
          T beta, T* c, std::int64_t ldc, std::int64_t piece = max_dim) {
    if(!fits_int(lda) || !fits_int(ldb) || !fits_int(ldc)) {
        return false;
    }
    if(m <= 0 || n <= 0) {
        return true;
    }
    if(k <= 0) { // BLAS would only scale C; do it here, free of its lda rules for k = 0
        for(std::int64_t i = 0; i < m; ++i) {
            T* ci = c + i * ldc;
            for(std::int64_t j = 0; j < n; ++j) {
                ci[j] = beta == T(0) ? T(0) : beta * ci[j];
            }
        }
        return true;
    }
    for(std::int64_t i0 = 0; i0 < m; i0 += piece) {
        const std::int64_t mi = std::min(piece, m - i0);
        // Row i of op(A): A + i*lda untransposed, A + i transposed.
        const T* ai = a + (trans_a ? i0 : i0 * lda);
        for(std::int64_t j0 = 0; j0 < n; j0 += piece) {
            const std::int64_t nj = std::min(piece, n - j0);
            const T* bj = b + (trans_b ? j0 * ldb : j0);
            T* cij      = c + i0 * ldc + j0;
            for(std::int64_t l0 = 0; l0 < k; l0 += piece) {
                const std::int64_t kl = std::min(piece, k - l0);
                const T* al = ai + (trans_a ? l0 * lda : l0);
                const T* bl = bj + (trans_b ? l0 : l0 * ldb);
                detail::gemm_col_major(fn, trans_b, trans_a, nj, mi, kl, alpha, bl, ldb, al, lda,
                                       l0 == 0 ? beta : T(1), cij, ldc);
            }
        }
    }
    return true;
}

} // namespace npk::blas
