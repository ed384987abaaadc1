"""Sturm counting, exact histograms and bisection extremes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from rmt_sparsity.ensembles import (
    bisect_eigenvalues,
    count_below,
    extreme_eigenvalues,
    laguerre_eigenvalues,
    laguerre_histogram,
    laguerre_tridiagonal,
)

EPS = np.finfo(float).eps
finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 40).flatmap(
        lambda m: st.tuples(arrays(np.float64, m, elements=finite), arrays(np.float64, m - 1, elements=finite))
    ),
    arrays(np.float64, 30, elements=st.floats(-1.2, 1.2)),
)
def test_count_below_matches_eigenvalues(ab, u):
    a, b = ab
    T = np.diag(a) + np.diag(b, 1) + np.diag(b, -1)
    ev = np.linalg.eigvalsh(T)
    norm = max(np.abs(ev).max(), 1e-300)
    x = u * (norm + 1.0)
    # Sturm counts and eigvalsh are both backward stable: each is exact for a matrix within a few
    # eps ||T|| of T, so points closer than 64 eps ||T|| to an eigenvalue may legitimately differ
    gap = np.min(np.abs(x[:, None] - ev[None, :]), axis=1)
    x = x[gap > 64 * EPS * max(norm, 1.0)]
    if x.size:
        assert np.array_equal(count_below(a, b, x), np.searchsorted(ev, x, side="left"))


def test_count_below_scalar_and_errors():
    assert count_below([1.0], [], 2.0) == 1 and count_below([1.0], [], 0.0) == 0
    with pytest.raises(ValueError, match="offdiag"):
        count_below([1.0, 2.0], [1.0, 2.0], 0.0)
    with pytest.raises(ValueError, match="x"):
        count_below([1.0, 2.0], [1.0], np.nan)
    with pytest.raises(ValueError, match="diag"):
        count_below([np.nan, 2.0], [1.0], 0.0)


def _batch(k, p, n, seed):
    g = np.random.default_rng(seed)
    rows = [laguerre_tridiagonal(p, n, rng=g) for _ in range(k)]
    A, B = np.array([r[0] for r in rows]), np.array([r[1] for r in rows])
    ev = np.array([np.linalg.eigvalsh(np.diag(a) + np.diag(b, 1) + np.diag(b, -1)) for a, b in rows])
    return A, B, ev


def test_batched_count_below_is_the_per_matrix_count():
    A, B, ev = _batch(12, 30, 50, 1)
    x = np.random.default_rng(2).uniform(ev.min(), ev.max(), 12)
    got = count_below(A, B, x)
    assert got.dtype == np.int64 and got.shape == (12,)
    assert np.array_equal(got, [count_below(a, b, xi) for a, b, xi in zip(A, B, x)])
    assert np.array_equal(got, [np.searchsorted(e, xi) for e, xi in zip(ev, x)])
    assert np.array_equal(count_below(A, B, 1.0), count_below(A, B, np.ones(12)))  # a scalar for all
    with pytest.raises(ValueError, match="x"):
        count_below(A, B, np.ones(5))
    with pytest.raises(ValueError, match="offdiag"):
        count_below(A, B[:, :-1], x)


def test_bisect_eigenvalues_matches_eigvalsh():
    A, B, ev = _batch(10, 40, 60, 3)
    k = np.arange(10) * 4
    got = bisect_eigenvalues(A, B, k)
    # 52 halvings of the Gershgorin interval (width ~ 4 x lambda_max): 2^-53 x width, plus the
    # backward error of both methods, a few eps ||T||
    tol = 16 * EPS * np.abs(ev).max()
    assert np.all(np.abs(got - ev[np.arange(10), k]) <= tol)
    top = bisect_eigenvalues(A, B, 39, np.zeros(10), ev[:, -1] * 2, iters=30)  # given bracket, fewer halvings
    assert np.all(np.abs(top - ev[:, -1]) <= ev[:, -1] * 2 * 2.0**-30)
    assert bisect_eigenvalues([2.0, 2.0, 2.0], [-1.0, -1.0], 0) == pytest.approx(2 - np.sqrt(2), abs=8 * EPS * 4)
    with pytest.raises(ValueError, match="index"):
        bisect_eigenvalues(A, B, 40)
    with pytest.raises(TypeError, match="index must be an integer"):  # a float is a type error, as in check_int
        bisect_eigenvalues(A, B, 1.5)
    with pytest.raises(ValueError, match=r"lo must be a scalar or hold one value per matrix"):
        bisect_eigenvalues(A, B, 1, lo=[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    with pytest.raises(ValueError, match="offdiag must be 1-D like diag"):
        bisect_eigenvalues([2.0, 2.0, 2.0], [[-1.0, -1.0]], 0)


@pytest.mark.parametrize("p, n", [(300, 600), (500, 250)])
def test_histogram_equals_histogram_of_eigenvalues(p, n):
    counts, edges = laguerre_histogram(p, n, 25, rng=4)
    lam = laguerre_eigenvalues(p, n, rng=4)  # same seed: the same tridiagonal
    ref = np.array([np.sum(lam < e) for e in edges])  # count strictly below each edge
    assert np.array_equal(counts, np.diff(ref))
    assert counts.sum() == np.sum((lam >= edges[0]) & (lam < edges[-1]))
    c2, _ = laguerre_histogram(p, n, edges, rng=4)
    assert np.array_equal(c2, counts)


def test_extreme_eigenvalues_match_full_spectrum():
    lmax, lmin = extreme_eigenvalues(80, 200, beta=1.0, size=1, rng=9)
    lam = laguerre_eigenvalues(80, 200, rng=9, refine_min=1)  # same seed: same bidiagonal
    # bisection to rtol 1e-13 on singular values: 2e-13 on eigenvalues
    assert lmax[0] == pytest.approx(lam[-1], rel=3e-13)
    assert lmin[0] == pytest.approx(lam[0], rel=3e-13)
    a = extreme_eigenvalues(50, 20, size=4, rng=1, which="min")
    b = extreme_eigenvalues(50, 20, size=4, rng=1, which="max")
    assert a.shape == (4,) and np.all(a > 0) and np.all(b > a)
    assert np.array_equal(extreme_eigenvalues(30, 60, size=5, rng=3)[0], extreme_eigenvalues(30, 60, size=5, rng=3)[0])


def test_extremes_sampler_agrees_with_dense_in_distribution():
    p, n, draws = 30, 60, 500
    lmax, lmin = extreme_eigenvalues(p, n, size=draws, rng=21)
    g = np.random.default_rng(22)
    den = np.array([laguerre_eigenvalues(p, n, rng=g, method="dense")[[0, -1]] for _ in range(draws)])
    for a, b in ((lmin, den[:, 0]), (lmax, den[:, 1])):
        se = np.sqrt(a.var(ddof=1) / draws + b.var(ddof=1) / draws)
        assert abs(a.mean() - b.mean()) < 4 * se  # 4 Monte-Carlo SE


@pytest.mark.parametrize(
    "fn, kwargs, name",
    [
        (laguerre_histogram, dict(p=0, n=5, bins=10), "p"),
        (laguerre_histogram, dict(p=5, n=5, bins=0), "bins"),
        (laguerre_histogram, dict(p=5, n=5, bins=[1.0, 0.5]), "bins"),
        (laguerre_histogram, dict(p=5, n=5, bins=10, beta=-1.0), "beta"),
        (extreme_eigenvalues, dict(p=5, n=5, size=0), "size"),
        (extreme_eigenvalues, dict(p=5, n=5, which="mid"), "which"),
        (extreme_eigenvalues, dict(p=5, n=2.5), "n"),
        (extreme_eigenvalues, dict(p=5, n=5, scale=0.0), "scale"),
    ],
)
def test_bad_input(fn, kwargs, name):
    with pytest.raises((ValueError, TypeError), match=name):
        fn(**kwargs)
