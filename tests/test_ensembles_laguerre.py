"""Dumitriu-Edelman beta-Laguerre sampler: distribution vs dense Wishart, moments, lambda_min accuracy."""

from __future__ import annotations

import numpy as np
import pytest

from rmt_sparsity.ensembles import laguerre_eigenvalues, laguerre_tridiagonal
from rmt_sparsity.ensembles._bidiagonal import chi_bidiagonal
from rmt_sparsity.testing import assert_close_statistically

EPS = np.finfo(float).eps


def test_shapes_zeros_and_determinism():
    lam = laguerre_eigenvalues(30, 20, rng=3)
    assert lam.shape == (30,) and np.all(lam[:10] == 0.0) and np.all(lam[10:] > 0)
    assert np.all(np.diff(lam) >= 0)
    assert np.array_equal(laguerre_eigenvalues(40, 50, beta=2.5, rng=7), laguerre_eigenvalues(40, 50, beta=2.5, rng=7))
    assert not np.array_equal(laguerre_eigenvalues(40, 50, rng=7), laguerre_eigenvalues(40, 50, rng=8))
    assert laguerre_eigenvalues(1, 5, rng=0).shape == (1,)
    assert np.allclose(laguerre_eigenvalues(10, 20, scale=3.0, rng=1), 3.0 * laguerre_eigenvalues(10, 20, rng=1))


def test_tridiagonal_is_bbT():
    g = np.random.default_rng(0)
    d, e = chi_bidiagonal(g, 6, 9, 1.0)
    B = np.diag(d) + np.diag(e, -1)
    a, b = laguerre_tridiagonal(6, 9, rng=0)
    T = B @ B.T / 9.0
    assert np.allclose(np.diag(T), a, rtol=4 * EPS) and np.allclose(np.diag(T, 1), b, rtol=4 * EPS)


@pytest.mark.parametrize("beta", [1.0, 2.0])
def test_tridiagonal_and_dense_agree_in_distribution(beta):
    p, n, draws = 40, 80, 500
    g = np.random.default_rng(11)
    tri = np.array([laguerre_eigenvalues(p, n, beta, rng=g)[[0, -1]] for _ in range(draws)])
    den = np.array([laguerre_eigenvalues(p, n, beta, rng=g, method="dense")[[0, -1]] for _ in range(draws)])
    for j in range(2):  # lambda_min, lambda_max
        a, b = tri[:, j], den[:, j]
        se_mean = np.sqrt(a.var(ddof=1) / draws + b.var(ddof=1) / draws)
        assert abs(a.mean() - b.mean()) < 4 * se_mean  # 4 Monte-Carlo SE
        # SE of a sample variance ~ var * sqrt(2/(N-1)) (normal approx; extremes are near-normal here)
        se_var = np.sqrt(2.0 / (draws - 1)) * np.hypot(a.var(ddof=1), b.var(ddof=1))
        assert abs(a.var(ddof=1) - b.var(ddof=1)) < 4 * se_var


@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0, 4.0])
def test_esd_moments(beta):
    """E tr(S)/p = sigma^2 exactly; E tr(S^2)/p = 1 + (p + 2/beta - 1)/n exactly (Narayana limit 1 + c)."""
    p, n, draws = 60, 120, 300
    g = np.random.default_rng(5)
    m1, m2 = [], []
    for _ in range(draws):
        lam = laguerre_eigenvalues(p, n, beta, rng=g)
        m1.append(lam.mean())
        m2.append((lam**2).mean())
    m1, m2 = np.array(m1), np.array(m2)
    # E chi^2_k = k, E chi^4_k = k^2 + 2k in T = BB^T/(beta n) give the exact finite-n second moment
    assert_close_statistically(m1.mean(), 1.0, m1.std(ddof=1) / np.sqrt(draws), k=4)
    exact2 = 1.0 + (p + 2.0 / beta - 1.0) / n
    assert_close_statistically(m2.mean(), exact2, m2.std(ddof=1) / np.sqrt(draws), k=4)
    # third moment vs Narayana 1 + 3c + c^2 within 4 SE plus the O(1/n) finite-size term, which for
    # the Laguerre ensemble is (3c + 3c^2 + ...)(2/beta-1)/n + O(p/n^2): bounded here by 10/n
    m3 = np.array([(laguerre_eigenvalues(p, n, beta, rng=g) ** 3).mean() for _ in range(100)])
    c = p / n
    assert abs(m3.mean() - (1 + 3 * c + c * c)) < 4 * m3.std(ddof=1) / 10 + 10.0 / n


def test_lambda_min_relative_error_is_eps_times_condition():
    """sterf on BB^T: |d lambda_min| / lambda_min ~ eps lambda_max / lambda_min; Golub-Kahan refinement is exact."""
    import mpmath as mp

    p = n = 40  # square: lambda_min ~ 1/n^2, condition ~ 4 n^2
    g = np.random.default_rng(2)
    d, e = chi_bidiagonal(g, p, n, 1.0)
    fast = laguerre_eigenvalues(p, n, rng=2)
    refined = laguerre_eigenvalues(p, n, rng=2, refine_min=2)
    with mp.workdps(40):
        B = mp.matrix(p, p)
        for i in range(p):
            B[i, i] = d[i]
            if i < p - 1:
                B[i + 1, i] = e[i]
        ev = sorted(mp.eigsy(B * B.T)[0])
    exact_min = float(ev[0]) / n
    cond = fast[-1] / exact_min
    err_fast = abs(fast[0] / exact_min - 1)
    err_ref = abs(refined[0] / exact_min - 1)
    # sterf: backward stable, absolute error <= m eps ||T|| (m = 40); refinement: bisection to 1e-15
    assert err_fast <= p * EPS * cond
    assert err_ref <= 1e-14
    assert refined[1] == pytest.approx(float(ev[1]) / n, rel=1e-14)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(p=0, n=5), "p"),
        (dict(p=5, n=0), "n"),
        (dict(p=5.0, n=5), "p"),
        (dict(p=5, n=5, beta=0.0), "beta"),
        (dict(p=5, n=5, beta=float("nan")), "beta"),
        (dict(p=5, n=5, scale=-1.0), "scale"),
        (dict(p=5, n=5, scale=float("nan")), "scale"),
        (dict(p=5, n=5, method="lanczos"), "method"),
        (dict(p=5, n=5, beta=4.0, method="dense"), "beta"),
    ],
)
def test_bad_input(kwargs, name):
    with pytest.raises((ValueError, TypeError), match=name):
        laguerre_eigenvalues(**kwargs)
