"""Tests of the dense Wishart reference sampler."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from threadpoolctl import threadpool_limits

from rmt_sparsity.ensembles import wishart_eigenvalues
from rmt_sparsity.laws import MarchenkoPastur
from rmt_sparsity.testing import assert_spectrum_matches


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Small SVDs: one BLAS thread avoids oversubscription on shared CI cores (25x slower otherwise)."""
    with threadpool_limits(1):
        yield


def _finite_n_trace_moment(k, p, n):
    """E tr((W W^T)^k) for a real p x n standard Gaussian W (Wick calculus).

    k = 2, 3, 4: p n (n + p + 1); n p (n^2 + p^2 + 3np + 3n + 3p + 4);
    n p (n^3 + p^3 + 6n^2 p + 6n p^2 + 6n^2 + 6p^2 + 17np + 21n + 21p + 20).
    At p = 1 these reduce to the chi^2_n moments n(n+2), n(n+2)(n+4), n(n+2)(n+4)(n+6),
    and their leading terms / (p n^k) are the Narayana moments.
    """
    if k == 1:
        return p * n
    if k == 2:
        return p * n * (n + p + 1)
    if k == 3:
        return n * p * (n * n + p * p + 3 * n * p + 3 * n + 3 * p + 4)
    if k == 4:
        return n * p * (n**3 + p**3 + 6 * n * n * p + 6 * n * p * p + 6 * n * n + 6 * p * p + 17 * n * p + 21 * n + 21 * p + 20)
    raise ValueError(k)


def test_finite_n_formulas_reduce_to_chi2_and_narayana():
    n = 7
    assert _finite_n_trace_moment(2, 1, n) == n * (n + 2)
    assert _finite_n_trace_moment(3, 1, n) == n * (n + 2) * (n + 4)
    assert _finite_n_trace_moment(4, 1, n) == n * (n + 2) * (n + 4) * (n + 6)
    p, n = 10**6, 2 * 10**6
    for k in (2, 3, 4):
        lead = _finite_n_trace_moment(k, p, n) / (p * n**k)
        assert lead == pytest.approx(MarchenkoPastur(p / n).moment(k), rel=10 / n)


@pytest.mark.parametrize("p,n", [(100, 200), (200, 100), (120, 120)])
def test_esd_moments_match_law(p, n):
    """Sample ESD moments m_k = tr(S^k)/p agree with MarchenkoPastur.moment(k) within finite-n error.

    Expected value at finite n: E m_k = s^k E tr((WW^T)^k) / (p n^k) (exact, Wick), which
    differs from the limit moment(k) by the O(1/n) bias |E m_k - moment(k)|. Over R
    independent matrices the mean of m_k has standard error SE; tolerance = bias + 5 SE
    (5 sigma, two-sided false-alarm rate ~6e-7 per check).
    """
    s = 2.0
    R = 30
    rng = np.random.default_rng(11)
    lams = np.array([wishart_eigenvalues(p, n, s, rng=rng) for _ in range(R)])
    law = MarchenkoPastur(p / n, s)
    for k in (1, 2, 3, 4):
        mk = (lams**k).mean(axis=1)
        mean, se = mk.mean(), mk.std(ddof=1) / np.sqrt(R)
        exact_n = s**k * _finite_n_trace_moment(k, p, n) / (p * n**k)
        bias = abs(exact_n - law.moment(k))
        assert abs(mean - law.moment(k)) <= bias + 5 * se, (k, mean, law.moment(k), bias, se)
        assert abs(mean - exact_n) <= 5 * se + 1e-12 * exact_n, (k, mean, exact_n, se)
    # one matrix on its own: trace, tr S^2 and Tracy-Widom edge tests (family level 0.999)
    assert_spectrum_matches(law, lams[0], n=n)


def test_esd_ks_against_law():
    """Pooled eigenvalues of 10 matrices, 300 x 600: KS distance to the MP cdf below a finite-n budget.

    The pooled ESD is not iid, so no KS p-value. Budget: the expected ESD differs
    from the law by O(1/p) (the edge window of width ~p^{-2/3} carries mass
    ~p^{-1}), and eigenvalue rigidity keeps each matrix's ESD within O(log p / p)
    of its mean, so D <= 10/p (10 > log 300 = 5.7) ~ 0.033; a 20 % wrong ratio gives D ~ 0.05.
    """
    p, n = 300, 600
    rng = np.random.default_rng(3)
    lam = np.concatenate([wishart_eigenvalues(p, n, rng=rng) for _ in range(10)])
    D = stats.kstest(lam, MarchenkoPastur(p / n).cdf).statistic
    assert D <= 10 / p
    assert stats.kstest(lam, MarchenkoPastur(0.6).cdf).statistic > 10 / p


def test_shapes_zeros_order_and_seeding():
    lam = wishart_eigenvalues(7, 3, 0.5, rng=0)
    assert lam.shape == (7,) and lam.dtype == np.float64
    assert np.all(lam[:4] == 0.0) and np.all(lam[4:] > 0)  # p - n exact zeros (the atom)
    assert np.all(np.diff(lam) >= 0)
    assert np.array_equal(wishart_eigenvalues(30, 50, rng=5), wishart_eigenvalues(30, 50, rng=5))
    g = np.random.default_rng(1)
    a, b = wishart_eigenvalues(5, 5, rng=g), wishart_eigenvalues(5, 5, rng=g)
    assert not np.array_equal(a, b)  # the Generator advances
    # non-zero eigenvalues of WW^T/n equal those of W^TW/n: p <-> n symmetry of the sampler
    g1, g2 = np.random.default_rng(9), np.random.default_rng(9)
    w = g1.standard_normal((4, 9))
    np.testing.assert_allclose(wishart_eigenvalues(4, 9, rng=g2), np.linalg.eigvalsh(w @ w.T / 9), rtol=1e-12)
    # scale multiplies the spectrum exactly in law: the same draws scaled by sqrt(scale)^2
    np.testing.assert_allclose(
        wishart_eigenvalues(6, 8, 4.0, rng=2), 4.0 * wishart_eigenvalues(6, 8, rng=2), rtol=1e-13
    )


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        (dict(p=0, n=3), ValueError, "p"),
        (dict(p=3, n=0), ValueError, "n"),
        (dict(p=2.5, n=3), TypeError, "p"),
        (dict(p=3, n=3, scale=0.0), ValueError, "scale"),
        (dict(p=3, n=3, scale=float("nan")), ValueError, "scale"),
    ],
)
def test_validation(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        wishart_eigenvalues(**kwargs)


def test_absurd_sizes_are_refused_before_allocation():
    """Sizes whose arrays cannot fit are refused up front (ValueError naming the size), never allocated."""
    import pytest

    from rmt_sparsity.ensembles import (extreme_eigenvalues, laguerre_eigenvalues, laguerre_histogram,
                                        laguerre_tridiagonal, wishart_eigenvalues)
    from rmt_sparsity.ensembles import edge_band as mc_edge_band

    cases = [
        (lambda: wishart_eigenvalues(2**40, 2**30), r"p, n = \(1099511627776, 1073741824\) needs about"),
        (lambda: laguerre_eigenvalues(2**64, 5), "p must be an integer <= 9007199254740992"),
        (lambda: laguerre_eigenvalues(2**50, 2**50), "needs about"),
        (lambda: laguerre_eigenvalues(10**13, 4), r"p = 10\*\*13 needs about"),  # the output holds p - n zeros
        (lambda: laguerre_eigenvalues(2**20, 2**20, method="dense"), "needs about"),
        (lambda: extreme_eigenvalues(200, 400, size=10**12), r"size = 10\*\*12 needs about"),
        (lambda: laguerre_histogram(20, 40, 2**60), r"bins = 2\*\*60 needs about"),
        (lambda: mc_edge_band(95, 100, which="min", mc_draws=10**13), r"mc_draws = 10\*\*13 needs about"),
    ]
    for call, msg in cases:
        with pytest.raises(ValueError, match=msg):
            call()
    # a huge p with a small n is a small tridiagonal model: allowed, and finite
    a, b = laguerre_tridiagonal(10**12, 4, rng=0)
    assert a.shape == (4,) and bool(np.isfinite(a).all() and np.isfinite(b).all())
