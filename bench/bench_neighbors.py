"""KD-tree build and k-NN queries against scipy's cKDTree, scikit-learn and pykdtree.

python -m pytest bench/bench_neighbors.py --benchmark-columns=median,iqr,rounds --benchmark-sort=name

Uniform data; build and query timed separately; every implementation gets the
same thread count (cKDTree ``workers=``, pykdtree's OpenMP pool limited; the
scikit-learn tree and every build but ours are serial). The brute-force
reference joins on a small case only.
"""

from __future__ import annotations

import numpy as np
import pytest
from anchors import openmp_limited, pykdtree_kdtree, scipy_ckdtree, sklearn_kdtree

import npkernels as nk
from npkernels import reference as ref
from npkernels._workloads import random_points

CASES = {"n=1,000,000 d=3": (1_000_000, 3, 100_000), "n=200,000 d=8": (200_000, 8, 10_000)}
ROUNDS = 3


def _data(case, dtype):
    n, m, q = CASES[case]
    rng = np.random.default_rng(0)
    return random_points(rng, n, m, dtype=dtype), random_points(rng, q, m, dtype=dtype)


def _build(impl, threads):
    """A function data -> tree for each implementation."""
    if impl == "npkernels":
        return nk.KDTree
    if impl == "npkernels-variance":
        return lambda data: nk.KDTree(data, split="variance")
    if impl == "scipy":
        return scipy_ckdtree()
    if impl == "sklearn":
        return sklearn_kdtree()
    cls = pykdtree_kdtree()

    def build(data):
        with openmp_limited(threads):
            return cls(data, leafsize=16)

    return build


def _query(impl, tree, threads):
    """A function (x, k) -> (d, i) for a tree of each implementation."""
    if impl.startswith("npkernels"):
        return lambda x, k: tree.query(x, k=k)
    if impl == "scipy":
        return lambda x, k: tree.query(x, k=k, workers=threads)
    if impl == "sklearn":
        return lambda x, k: tree.query(x, k=k)

    def query(x, k):
        with openmp_limited(threads):
            return tree.query(x, k=k)

    return query


IMPLS = ["npkernels", "npkernels-variance", "scipy", "sklearn", "pykdtree"]
DTYPE_IDS = {np.float32: "float32", np.float64: "float64"}


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("dtype", list(DTYPE_IDS), ids=list(DTYPE_IDS.values()))
@pytest.mark.parametrize("case", list(CASES))
def bench_kdtree_build(benchmark, threads, impl, dtype, case):
    data, _ = _data(case, dtype)
    build = _build(impl, threads)
    benchmark.group = f"kdtree build {case} {DTYPE_IDS[dtype]} {threads}thr"
    tree = benchmark.pedantic(build, args=(data,), rounds=ROUNDS, iterations=1, warmup_rounds=1)
    n = tree.n if hasattr(tree, "n") else np.asarray(tree.data).shape[0]  # sklearn: no .n
    assert n == data.shape[0]


@pytest.mark.parametrize("impl", [i for i in IMPLS if i != "sklearn"] + ["sklearn"])
@pytest.mark.parametrize("k", [1, 8])
@pytest.mark.parametrize("dtype", list(DTYPE_IDS), ids=list(DTYPE_IDS.values()))
@pytest.mark.parametrize("case", list(CASES))
def bench_kdtree_query(benchmark, threads, impl, k, dtype, case):
    data, x = _data(case, dtype)
    tree = _build(impl, threads)(data)
    query = _query(impl, tree, threads)
    benchmark.group = f"kdtree query {case} {len(x):,} queries k={k} {DTYPE_IDS[dtype]} {threads}thr"
    d, _ = benchmark.pedantic(query, args=(x, k), rounds=ROUNDS, iterations=1, warmup_rounds=1)
    want = nk.KDTree(data).query(x, k=k)[0]
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(np.asarray(d, dtype=np.float64).reshape(want.shape), want,
                               rtol=tol, atol=tol)


@pytest.mark.parametrize("impl", ["npkernels", "reference", "scipy"])
def bench_kdtree_query_small(benchmark, threads, impl):
    """Build + 2,000 queries on 20,000 points: the brute-force reference's scale."""
    rng = np.random.default_rng(1)
    data, x = random_points(rng, 20_000, 3), random_points(rng, 2_000, 3)
    if impl == "scipy":
        cls = scipy_ckdtree()
        fn = lambda: cls(data).query(x, k=8, workers=threads)  # noqa: E731
    else:
        cls = nk.KDTree if impl == "npkernels" else ref.KDTree
        fn = lambda: cls(data).query(x, k=8)  # noqa: E731
    benchmark.group = f"kdtree build+query n=20,000 d=3 2,000 queries k=8 {threads}thr"
    d, _ = benchmark.pedantic(fn, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    np.testing.assert_array_equal(d, nk.KDTree(data).query(x, k=8)[0])


def bench_kdtree_query_radius(benchmark, threads):
    """The flat radius query against cKDTree.query_ball_point (lists)."""
    rng = np.random.default_rng(2)
    data, x = random_points(rng, 200_000, 3), random_points(rng, 20_000, 3)
    tree = nk.KDTree(data)
    benchmark.group = f"kdtree radius n=200,000 d=3 20,000 queries {threads}thr"
    indices, offsets = benchmark.pedantic(tree.query_radius, args=(x, 0.02), rounds=ROUNDS,
                                          iterations=1, warmup_rounds=1)
    counts = scipy_ckdtree()(data).query_ball_point(x, 0.02, return_length=True)
    np.testing.assert_array_equal(np.diff(offsets), counts)
