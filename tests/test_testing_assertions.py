"""Tests of the calibrated assertions in rmt_sparsity.testing.

Default tests: exact finite-n moment formulas (closed forms, CLT limit, Monte
Carlo), pass/fail behaviour on fixed seeds, messages and bad input.

Slow tests (``pytest -m slow``): calibration with fixed seeds. Over 200 null data
sets at ``level=0.95`` each assertion may fail at most 19 times: 19 is the 95 %
upper binomial bound for a 5 % level (P(Bin(200, 0.05) <= 19) = 0.96). On a
deliberately wrong law (ratio off by 10 % at n = 1000) each must fail in at
least 190 of 200.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from rmt_sparsity.ensembles import extreme_eigenvalues, laguerre_eigenvalues, laguerre_tridiagonal, wishart_eigenvalues
from rmt_sparsity.laws import MarchenkoPastur
from rmt_sparsity.testing import (
    assert_close_statistically,
    assert_ratio_within_band,
    assert_sparse_matches_dense,
    assert_spectrum_matches,
    wishart_trace_moments,
)

NULL_MAX_FAILS = 19  # 95 % binomial bound, Bin(200, 0.05)
POWER_MIN_FAILS = 190


def _fails(fn) -> bool:
    try:
        fn()
    except AssertionError:
        return True
    return False


# ---------------------------------------------------------------------------------------
# exact finite-n trace moments
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("p,n", [(1, 1), (1, 7), (7, 1), (5, 8), (8, 5), (30, 30), (100, 37)])
@pytest.mark.parametrize("beta", [1, 2, 4])
def test_trace_moments_closed_forms(p, n, beta):
    """E tr S = p s2; T1 = s2 chi2_{beta p n}/(beta n) so Var T1 = 2 p s2^2/(beta n);
    E tr S^2 = s2^2 p (n + p + 2/beta - 1)/n (beta = 1: p(n+p+1)/n, Wick; beta = 2: p(n+p)/n).
    The chain sums are exact: only float rounding (~1e-14 relative) separates them."""
    s2 = 1.7
    m = wishart_trace_moments(p, n, s2, beta)
    assert m["mean1"] == pytest.approx(p * s2, rel=1e-13)
    assert m["var1"] == pytest.approx(2 * p * s2**2 / (beta * n), rel=1e-13)
    assert m["mean2"] == pytest.approx(s2**2 * p * (n + p + 2 / beta - 1) / n, rel=1e-13)
    assert m["var2"] > 0


@pytest.mark.parametrize("c", [0.25, 0.5, 1.0, 2.0])
@pytest.mark.parametrize("beta", [1, 2])
def test_trace_variance_tends_to_the_clt_limit(c, beta):
    """Var tr S^2 -> (2/beta) 2c(2c^2 + 5c + 2) (CLT for linear spectral statistics, Bai & Silverstein 2004):
    O(1), not O(p). The finite-n correction is O(1/n): allow 10/n relative at n = 4000."""
    n = 4000
    p = int(c * n)
    lim = (2 / beta) * 2 * c * (2 * c * c + 5 * c + 2)
    assert wishart_trace_moments(p, n, 1.0, beta)["var2"] == pytest.approx(lim, rel=10 / n)


@pytest.mark.parametrize("p,n,beta", [(5, 8, 1), (8, 5, 1), (6, 6, 2)])
def test_trace_moments_against_dense_monte_carlo(p, n, beta):
    """R = 20000 dense Gaussian matrices: sample mean and variance of tr S^2 and Cov(tr S, tr S^2)
    within 5 Monte-Carlo SE of the exact values (SE of a sample variance: sqrt((mu4 - var^2)/R))."""
    R = 20000
    rng = np.random.default_rng(12)
    W = rng.standard_normal((R, p, n))
    if beta == 2:
        W = (W + 1j * rng.standard_normal((R, p, n))) / math.sqrt(2)
    S = W @ np.conj(np.swapaxes(W, 1, 2)) / n
    t1 = np.real(np.trace(S, axis1=1, axis2=2))
    t2 = np.real(np.einsum("rij,rji->r", S, S))
    m = wishart_trace_moments(p, n, 1.0, beta)
    dev = t2 - t2.mean()
    assert abs(t2.mean() - m["mean2"]) <= 5 * t2.std() / math.sqrt(R)
    se_var = math.sqrt(((dev**4).mean() - t2.var() ** 2) / R)
    assert abs(t2.var() - m["var2"]) <= 5 * se_var
    prod = (t1 - t1.mean()) * dev
    assert abs(prod.mean() - m["cov12"]) <= 5 * prod.std() / math.sqrt(R)


# ---------------------------------------------------------------------------------------
# assert_spectrum_matches
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "p,n,scale,beta,sampler",
    [
        (200, 400, 2.0, 1, "dense"),
        (300, 150, 1.0, 1, "dense"),
        (30, 30, 0.5, 1, "dense"),
        (8, 20, 1.0, 1, "dense"),
        (400, 1000, 1.0, 2, "laguerre"),
        (300, 600, 3.0, 4, "laguerre"),
    ],
)
def test_spectrum_matches_accepts_null_draws(p, n, scale, beta, sampler):
    """Fixed seeds, default level 0.999 (false-alarm rate <= 1e-3 per call by Bonferroni)."""
    if sampler == "dense":
        lam = wishart_eigenvalues(p, n, scale, rng=p + n)
    else:
        lam = laguerre_eigenvalues(p, n, beta=beta, scale=scale, rng=p + n)
    assert_spectrum_matches(MarchenkoPastur(p / n, scale), lam, n=n, beta=beta)
    assert_spectrum_matches(MarchenkoPastur(p / n, scale, nonzero=True), lam[::-1], n=n, beta=beta)  # any order


def test_spectrum_matches_rejects_wrong_laws_with_a_clear_message():
    p, n = 500, 1000
    lam = laguerre_eigenvalues(p, n, rng=3)
    assert_spectrum_matches(MarchenkoPastur(0.5), lam, n=n)
    # ratio off by 10 %: tr S^2 shifts by p * 0.05 = 25 against sd sqrt(10) ~ 3.2; both edges move
    with pytest.raises(AssertionError) as exc:
        assert_spectrum_matches(MarchenkoPastur(0.55), lam, n=n)
    msg = str(exc.value)
    assert "MarchenkoPastur(ratio=0.55, scale=1.0)" in msg and "p=500, n=1000" in msg
    assert "[REJECT] tr S^2" in msg and "[REJECT] lambda_max" in msg and "[ok] tr S =" in msg
    assert "4 sub-tests" in msg
    # scale off by 2 %: tr S = 500 +- sqrt(2 * 500/1000) = 1, shift 10 sd
    with pytest.raises(AssertionError, match=r"tr S, "):
        assert_spectrum_matches(MarchenkoPastur(0.5, 1.02), lam, n=n)
    # wrong normalisation (1/p instead of 1/n)
    with pytest.raises(AssertionError):
        assert_spectrum_matches(MarchenkoPastur(0.5), lam * n / p, n=n)


def test_spectrum_matches_needs_the_zero_eigenvalues_when_p_exceeds_n():
    p, n = 300, 200
    lam = wishart_eigenvalues(p, n, rng=5)
    assert_spectrum_matches(MarchenkoPastur(p / n), lam, n=n)
    with pytest.raises(AssertionError):  # only the n non-zero ones: p is taken as 200, ratio 1 != 1.5
        assert_spectrum_matches(MarchenkoPastur(p / n), lam[p - n :], n=n)


def test_spectrum_matches_small_sizes_run_trace_tests_only():
    lam = wishart_eigenvalues(4, 6, rng=1)
    assert_spectrum_matches(MarchenkoPastur(4 / 6), lam, n=6)
    # tr S = 1.58 here; chi^2_24/6 has its 0.99975 quantile at 9.29 (2 sub-tests at 1 - 0.001/2)
    with pytest.raises(AssertionError, match="2 sub-tests"):
        assert_spectrum_matches(MarchenkoPastur(4 / 6), 10 * lam, n=6)


class _HasRatio:
    """Not a Marchenko-Pastur law, though it has ratio and scale (like other laws of the package)."""

    ratio, scale = 0.5, 1.0


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda lam: assert_spectrum_matches(object(), lam, n=20), TypeError, "law must be a Marchenko-Pastur law"),
        (lambda lam: assert_spectrum_matches(_HasRatio(), lam, n=20), TypeError, "got _HasRatio"),
        (lambda lam: assert_spectrum_matches(MarchenkoPastur(0.5), lam, n=0), ValueError, "n must be"),
        (lambda lam: assert_spectrum_matches(MarchenkoPastur(0.5), lam, n=20, level=1.0), ValueError, "level"),
        (lambda lam: assert_spectrum_matches(MarchenkoPastur(0.5), lam, n=20, beta=3), ValueError, "beta must be 1, 2 or 4"),
        (lambda lam: assert_spectrum_matches(MarchenkoPastur(0.5), np.r_[lam, np.nan], n=20), ValueError, "finite"),
        (lambda lam: assert_spectrum_matches(MarchenkoPastur(0.5), lam.reshape(2, 5), n=20), ValueError, "1-D"),
    ],
)
def test_spectrum_matches_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call(wishart_eigenvalues(10, 20, rng=0))


# ---------------------------------------------------------------------------------------
# assert_ratio_within_band
# ---------------------------------------------------------------------------------------
def test_ratio_within_band_pass_fail_and_message():
    lmax, lmin = extreme_eigenvalues(250, 1000, size=3, rng=4)
    for r in lmax / lmin:
        assert_ratio_within_band(float(r), 250, 1000)
    with pytest.raises(AssertionError, match=r"outside the 0.999 band .* p=300, n=1000"):
        assert_ratio_within_band(float(lmax[0] / lmin[0]), 300, 1000)
    # square matrices use Edelman's hard-edge law for lambda_min
    lmax, lmin = extreme_eigenvalues(100, 100, rng=2)
    assert_ratio_within_band(float(lmax[0] / lmin[0]), 100, 100)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(observed=-1.0, p=10, n=20), "observed"),
        (dict(observed=float("nan"), p=10, n=20), "observed"),
        (dict(observed=3.0, p=1, n=20), "p must be"),
        (dict(observed=3.0, p=10, n=20, level=0.0), "level"),
        (dict(observed=3.0, p=10, n=20, beta=0.5), "beta"),
    ],
)
def test_ratio_within_band_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        assert_ratio_within_band(**kwargs)


# ---------------------------------------------------------------------------------------
# assert_close_statistically
# ---------------------------------------------------------------------------------------
def test_close_statistically_k_and_level():
    assert_close_statistically(1.0 + 3.99, 1.0, 1.0)  # default k = 4
    with pytest.raises(AssertionError, match="k = 4 standard errors"):
        assert_close_statistically(1.0 + 4.01, 1.0, 1.0)
    z = stats.norm.ppf(0.975)  # level 0.95, one value: k = 1.95996
    assert_close_statistically(0.999 * z, 0.0, 1.0, level=0.95)
    with pytest.raises(AssertionError):
        assert_close_statistically(1.001 * z, 0.0, 1.0, level=0.95)
    # ten values: Bonferroni k = Phi^-1(1 - 0.05/20) = 2.807
    k10 = stats.norm.ppf(1 - 0.05 / 20)
    assert_close_statistically(np.full(10, 0.999 * k10), 0.0, 1.0, level=0.95)
    with pytest.raises(AssertionError, match="1 of 10 values"):
        assert_close_statistically(np.r_[np.zeros(9), 1.001 * k10], 0.0, 1.0, level=0.95)
    # estimated se with 9 df: Student t quantile 2.262 instead of 1.960
    t9 = stats.t.ppf(0.975, 9)
    assert_close_statistically(0.999 * t9, 0.0, 1.0, level=0.95, df=9)
    with pytest.raises(AssertionError, match="t with 9 df"):
        assert_close_statistically(1.001 * t9, 0.0, 1.0, level=0.95, df=9)
    # se = 0 demands equality; NaN never passes
    assert_close_statistically(2.0, 2.0, 0.0)
    with pytest.raises(AssertionError):
        assert_close_statistically(2.0 + 1e-15, 2.0, 0.0)
    with pytest.raises(AssertionError, match="1 of 2"):
        assert_close_statistically([np.nan, 1.0], 1.0, 0.1)
    with pytest.raises(AssertionError):
        assert_close_statistically(np.inf, np.inf, 0.1)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(a=1.0, b=1.0, se=-0.1), "se must be >= 0"),
        (dict(a=1.0, b=1.0, se=np.nan), "se must be finite"),
        (dict(a=1.0, b=1.0, se=0.1, k=3, level=0.9), "give k or level, not both"),
        (dict(a=1.0, b=1.0, se=0.1, k=0.0), "k must be"),
        (dict(a=1.0, b=1.0, se=0.1, level=1.5), "level"),
        (dict(a=[1.0, 2.0], b=[1.0, 2.0, 3.0], se=0.1), "broadcast"),
        (dict(a=1.0, b=1.0, se=0.1, level=0.9, df=0), "df"),
    ],
)
def test_close_statistically_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        assert_close_statistically(**kwargs)


# ---------------------------------------------------------------------------------------
# assert_sparse_matches_dense
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_matches_dense_on_the_kernel_and_catches_wrong_rows(dtype):
    from rmt_sparsity.kernels import random_activations, sparse_down

    rng = np.random.default_rng(8)
    w = rng.standard_normal((400, 32)).astype(dtype)
    h = random_activations(6, 400, 0.1, dtype=dtype, rng=rng)
    y = sparse_down(h, w)
    assert_sparse_matches_dense(y, h, w)
    # a dropped active row (or a double-counted one) changes the output by |a_i w_i| >> bound
    i = np.flatnonzero(h[0])[0]
    h_drop = h.copy()
    h_drop[0, i] = 0
    with pytest.raises(AssertionError, match="beyond the rounding bound"):
        assert_sparse_matches_dense(sparse_down(h_drop, w), h, w)
    with pytest.raises(AssertionError):
        assert_sparse_matches_dense(y + h[:, i : i + 1] * w[i], h, w)


def test_sparse_matches_dense_bound_is_the_gamma_n_bound():
    """At the bound +-1 %: a perturbation of 0.99 x bound passes, 1.01 x bound fails."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 50))
    w = rng.standard_normal((50, 4))
    b = rng.standard_normal(4)
    u32, u64 = np.finfo(np.float32).eps / 2, np.finfo(np.float64).eps / 2
    N = 51  # 50 products + the bias
    gam = N * u32 / (1 - N * u32) + N * u64 / (1 - N * u64)
    tol = gam * (np.abs(a) @ np.abs(w) + np.abs(b))
    ref = a @ w + b
    assert_sparse_matches_dense(ref + 0.99 * tol, a, w, bias=b, dtype=np.float32)
    with pytest.raises(AssertionError, match="N = 51 terms, dtype float32"):
        assert_sparse_matches_dense(ref + 1.01 * tol, a, w, bias=b, dtype=np.float32)
    # a long float32 sequential accumulation stays within it
    a1 = rng.random(100_000).astype(np.float32)
    w1 = rng.random((100_000, 1)).astype(np.float32)
    seq = np.cumsum(a1 * w1[:, 0], dtype=np.float32)[-1:]
    assert_sparse_matches_dense(seq, a1, w1)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: assert_sparse_matches_dense(np.zeros(3), np.zeros(4), np.zeros((5, 3))), ValueError, "last dimension"),
        (lambda: assert_sparse_matches_dense(np.zeros(2), np.zeros(4), np.zeros((4, 3))), AssertionError, "shape mismatch"),
        (lambda: assert_sparse_matches_dense(np.zeros(3), np.zeros(4), np.zeros((4, 3)), bias=np.zeros(2)), ValueError, "bias"),
        (lambda: assert_sparse_matches_dense(np.zeros(3), np.zeros(4), np.zeros(4)), ValueError, "w must be 2-D"),
        (lambda: assert_sparse_matches_dense(np.zeros(3), [np.nan] * 4, np.zeros((4, 3))), ValueError, "a must be finite"),
        (lambda: assert_sparse_matches_dense(np.full(3, np.nan), np.zeros(4), np.zeros((4, 3))), AssertionError, "3 of 3"),
        (lambda: assert_sparse_matches_dense(np.zeros(3), np.zeros(4), np.zeros((4, 3)), dtype=int), TypeError, "floating"),
    ],
)
def test_sparse_matches_dense_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ---------------------------------------------------------------------------------------
# calibration (slow): 200 fixed seeds, null and a 10 % wrong ratio at n = 1000
# ---------------------------------------------------------------------------------------
SEEDS = range(200)


@pytest.mark.slow
@pytest.mark.parametrize(
    "p,n,beta,power",
    [(500, 1000, 1, True), (1500, 1000, 1, True), (300, 1000, 2, True), (50, 100, 1, False), (20, 20, 1, False), (10, 40, 1, False)],
)
def test_calibration_spectrum_matches(p, n, beta, power):
    null = power_fails = 0
    for seed in SEEDS:
        lam = laguerre_eigenvalues(p, n, beta=beta, rng=seed)
        null += _fails(lambda: assert_spectrum_matches(MarchenkoPastur(p / n), lam, n=n, level=0.95, beta=beta))
        if power:
            wrong = MarchenkoPastur(1.1 * p / n)
            power_fails += _fails(lambda: assert_spectrum_matches(wrong, lam, n=n, level=0.95, beta=beta))
    print(f"spectrum p={p} n={n} beta={beta}: null rejections {null}/200, wrong-ratio rejections {power_fails}/200")
    assert null <= NULL_MAX_FAILS
    if power:
        assert power_fails >= POWER_MIN_FAILS


@pytest.mark.slow
@pytest.mark.parametrize("p,n", [(500, 1000), (250, 1000), (1000, 500), (1000, 1000)])
def test_calibration_ratio_within_band(p, n):
    lmax, lmin = extreme_eigenvalues(p, n, size=200, rng=7)
    r = lmax / lmin
    null = sum(_fails(lambda x=x: assert_ratio_within_band(float(x), p, n, level=0.95)) for x in r)
    wrong = sum(_fails(lambda x=x: assert_ratio_within_band(float(x), round(1.1 * p), n, level=0.95)) for x in r)
    print(f"ratio p={p} n={n}: null rejections {null}/200, wrong-ratio rejections {wrong}/200")
    assert null <= NULL_MAX_FAILS
    assert wrong >= POWER_MIN_FAILS  # at p = n the null band uses Edelman's hard-edge law for lambda_min


@pytest.mark.slow
def test_calibration_close_statistically():
    """a = mean of tr(S^2)/p over R = 20 matrices, se = sample sd/sqrt(R) (df = 19), b = exact mean.

    Wrong law: b from ratio 1.1 c, i.e. p m2(1.1c) + the same finite-n bias.
    """
    p, n, R = 500, 1000, 20
    c = p / n
    mom = wishart_trace_moments(p, n)
    b_null = mom["mean2"] / p
    b_wrong = b_null + (1.1 * c - c)  # m2 = 1 + c
    null = wrong = 0
    for seed in SEEDS:
        g = np.random.default_rng(seed)
        t2 = np.empty(R)
        for r in range(R):
            d, e = laguerre_tridiagonal(p, n, rng=g)  # tr S^2 = sum d^2 + 2 sum e^2 (S tridiagonal)
            t2[r] = (d @ d + 2 * e @ e) / p
        a, se = t2.mean(), t2.std(ddof=1) / math.sqrt(R)
        null += _fails(lambda: assert_close_statistically(a, b_null, se, level=0.95, df=R - 1))
        wrong += _fails(lambda: assert_close_statistically(a, b_wrong, se, level=0.95, df=R - 1))
    print(f"close_statistically: null rejections {null}/200, wrong-ratio rejections {wrong}/200")
    assert null <= NULL_MAX_FAILS
    assert wrong >= POWER_MIN_FAILS


@pytest.mark.slow
def test_calibration_sparse_matches_dense():
    """The bound is rigorous: 0 null failures expected; a dropped active row must always be caught."""
    from rmt_sparsity.kernels import random_activations, sparse_down

    null = wrong = 0
    for seed in SEEDS:
        g = np.random.default_rng(seed)
        dtype = (np.float32, np.float64)[seed % 2]
        w = g.standard_normal((1000, 64)).astype(dtype)
        h = random_activations(4, 1000, 0.05, dtype=dtype, rng=g)
        null += _fails(lambda: assert_sparse_matches_dense(sparse_down(h, w), h, w))
        rows, cols = np.nonzero(h)
        j = g.integers(rows.size)
        h_drop = h.copy()
        h_drop[rows[j], cols[j]] = 0
        wrong += _fails(lambda: assert_sparse_matches_dense(sparse_down(h_drop, w), h, w))
    print(f"sparse_matches_dense: null failures {null}/200, dropped-row detections {wrong}/200")
    assert null == 0
    assert wrong >= POWER_MIN_FAILS
