"""Spectrum of a matrix, ranks and spectral concentration (rmt_sparsity.spectra, docs/design.md §3, docs/science.md §5)."""

import math

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from rmt_sparsity.spectra import (
    gram_eigenvalues,
    numerical_rank,
    singular_values,
    spectral_concentration,
    stable_rank,
)

EPS = np.finfo(np.float64).eps


@pytest.fixture(autouse=True)
def _one_blas_thread():
    # the CI machine is shared: multi-threaded LAPACK spin-waits under contention
    with threadpool_limits(1):
        yield


@pytest.mark.parametrize("shape", [(30, 50), (50, 30), (40, 40), (1, 7), (7, 1)])
@pytest.mark.parametrize("method", ["auto", "gram", "svd"])
def test_gram_eigenvalues_match_dense(shape, method):
    W = np.random.default_rng(0).standard_normal(shape)
    p, n = shape
    ref = np.sort(np.linalg.eigvalsh(W @ W.T / n))
    lam = gram_eigenvalues(W, method=method)
    assert lam.shape == (p,)
    assert np.all(np.diff(lam) >= 0)
    # backward-stable eigensolvers: absolute error <= a few * max(p,n) * eps * lambda_max (factor 10 slack)
    assert np.max(np.abs(lam - np.clip(ref, 0, None))) <= 10 * max(p, n) * EPS * ref[-1]
    if p > n:
        assert np.all(lam[: p - n] == 0.0)  # structural zeros are exact


def test_auto_switches_to_svd_for_ill_conditioned():
    # singular values 1 .. 1e-6: lambda_min = 1e-12/n; the Gram route would lose ~all its digits
    rng = np.random.default_rng(1)
    U, _ = np.linalg.qr(rng.standard_normal((20, 20)))
    V, _ = np.linalg.qr(rng.standard_normal((30, 30)))
    s = np.logspace(0, -6, 20)
    W = U @ np.diag(s) @ V[:20]
    lam = gram_eigenvalues(W)
    # svd route: relative error ~ eps * s_max / s_i = 1e-10 at worst (bound with factor 100 slack)
    np.testing.assert_allclose(lam, np.sort(s**2 / 30), rtol=100 * EPS * 1e6)


def test_singular_values_ranks():
    u = np.arange(1.0, 6.0)
    A = np.outer(u, u) + 0.0
    assert numerical_rank(A) == 1
    assert numerical_rank(np.eye(4)) == 4
    assert numerical_rank(np.diag([1.0, 1e-3]), tol=1e-2) == 1
    D = np.diag([3.0, 2.0, 1.0])
    np.testing.assert_array_equal(singular_values(D), [3.0, 2.0, 1.0])
    assert stable_rank(D) == pytest.approx((9 + 4 + 1) / 9, rel=4 * EPS)
    assert stable_rank(np.outer(u, u)) == pytest.approx(1.0, rel=100 * EPS)


def test_stable_rank_gaussian_limit():
    # ||W||_F^2/||W||^2 -> p / (1+sqrt c)^2; finite-n error O(n^{-2/3}) relative (edge), <= 3 % at p = 400
    p, n = 400, 1600
    W = np.random.default_rng(2).standard_normal((p, n))
    assert stable_rank(W) == pytest.approx(p / (1 + 0.5) ** 2, rel=0.03)


def _diag_matrix(eigs, p, n):
    """p x n matrix W with W W^T / n having the given eigenvalues (len = min(p, n))."""
    W = np.zeros((p, n))
    k = len(eigs)
    W[np.arange(k), np.arange(k)] = np.sqrt(np.asarray(eigs) * n)
    return W


def test_concentration_conventions_exact():
    # p = 8 > n = 4: eigenvalues of WW^T/n are 4 zeros and (0.2, 1, 2, 4); nonzero mean 1.8, all-mean 0.9
    W = _diag_matrix([0.2, 1.0, 2.0, 4.0], 8, 4)
    a = spectral_concentration(W, zero_tol=0.1, relative_to="mean_all")  # cut 0.09: keeps 0.2
    assert a.ratio == pytest.approx(4.0 / 0.2, rel=10 * EPS)
    assert a.sv_ratio == pytest.approx(math.sqrt(20.0), rel=10 * EPS)
    assert (a.n_kept, a.n_zero, a.n_cut, a.regime, a.relative_to) == (4, 4, 0, "soft_edge", "mean_all")
    assert a.threshold == pytest.approx(0.09, rel=10 * EPS)
    b = spectral_concentration(W, zero_tol=0.2, relative_to="mean_nonzero")  # cut 0.36: drops 0.2
    assert b.ratio == pytest.approx(4.0, rel=10 * EPS)
    assert (b.n_kept, b.n_cut, b.regime, b.relative_to) == (3, 1, "cut", "mean_nonzero")
    c = spectral_concentration(W, zero_tol=0.0)
    assert c.ratio == pytest.approx(20.0, rel=10 * EPS)
    d = spectral_concentration(_diag_matrix([0.5, 1.0, 3.0], 3, 3), zero_tol=0.0)
    assert d.regime == "hard_edge" and "Edelman" in d.note
    assert "cut" in b.note
    rec = a.to_dict()
    assert rec["ratio"] == a.ratio and rec["shape"] == [8, 4]


def test_concentration_scale_invariant_and_transpose():
    W = np.random.default_rng(3).standard_normal((60, 20))
    r1 = spectral_concentration(W, zero_tol=0.0)
    r2 = spectral_concentration(7.5 * W, zero_tol=0.0)
    r3 = spectral_concentration(W.T, zero_tol=0.0)
    # same non-zero spectrum up to a scalar: ratios agree to rounding (cond ~ 10, eps * 100)
    assert r2.ratio == pytest.approx(r1.ratio, rel=1e-12)
    assert r3.ratio == pytest.approx(r1.ratio, rel=1e-12)


def test_square_cut_removes_about_20_percent():
    # docs/science.md §5: with the 0.1 x mean cut, MP(c=1) loses F(0.1) of its mass and the ratio is ~38.
    from rmt_sparsity.laws import MarchenkoPastur

    n = 400
    g = np.random.default_rng(4)
    cut = [spectral_concentration(g.standard_normal((n, n))) for _ in range(5)]
    frac = np.mean([r.n_cut / n for r in cut])
    F = float(MarchenkoPastur(1.0).cdf(0.1))
    # eigenvalue counts are rigid: the fraction below a fixed point fluctuates by O(log n / n) ~ 0.015;
    # the threshold itself moves by O(1/n); 0.02 covers both
    assert abs(frac - F) < 0.02
    ratios = np.array([r.ratio for r in cut])
    # 4 / ~0.105 (the first eigenvalue above the cut) ~ 38; spread across draws is +-3 (MC, see claim)
    assert 32 < ratios.mean() < 44
    assert all(r.regime == "cut" for r in cut)


@pytest.mark.parametrize(
    "bad, err, match",
    [
        (np.array([1.0, 2.0]), ValueError, "2-D"),
        (np.zeros((0, 3)), ValueError, "non-empty"),
        (np.array([[1.0, np.nan]]), ValueError, "finite"),
        (np.array([[1.0, np.inf], [0.0, 1.0]]), ValueError, "non-finite"),
        (np.array([[1 + 1j, 0]]), TypeError, "real"),
        ([["a", "b"]], TypeError, "W"),
    ],
)
def test_bad_matrices(bad, err, match):
    with pytest.raises(err, match=match):
        gram_eigenvalues(bad)
    with pytest.raises(err, match=match):
        spectral_concentration(bad)


@pytest.mark.parametrize("zt", [-0.1, 1.0, 1.5, float("nan")])
def test_zero_tol_range(zt):
    with pytest.raises(ValueError, match="zero_tol"):
        spectral_concentration(np.eye(3), zero_tol=zt)


def test_relative_to_and_zero_matrix():
    with pytest.raises(ValueError, match="relative_to"):
        spectral_concentration(np.eye(3), relative_to="median")
    with pytest.raises(ValueError, match="zero matrix"):
        spectral_concentration(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="method"):
        gram_eigenvalues(np.eye(2), method="qr")


def test_esd_distances_refuses_a_bad_law():
    from rmt_sparsity.spectra import esd_distances

    x = (np.arange(10) + 0.5) / 10
    with pytest.raises(TypeError, match="cdf must be a callable"):
        esd_distances(x, None, (0.0, 1.0))
    with pytest.raises(ValueError, match="support must be"):
        esd_distances(x, lambda t: np.clip(t, 0, 1), (0.0, float("nan")))
    with pytest.raises(ValueError, match="support must be"):
        esd_distances(x, lambda t: np.clip(t, 0, 1), (1.0, 0.0))
    with pytest.raises(ValueError, match="cdf must return finite values"):
        esd_distances(x, lambda t: np.full_like(t, np.nan), (0.0, 1.0))
