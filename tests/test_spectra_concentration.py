"""Null bands of the spectral concentration (concentration_vs_random), docs/science.md §2, §5."""

import math

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from rmt_sparsity.laws import edge_band
from rmt_sparsity.spectra import concentration_vs_random, spectral_concentration
from rmt_sparsity.spectra._concentration import _AnalyticRatioLaw, _mc_null_ratios


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(1):
        yield


def test_analytic_law_reproduces_edge_band():
    p, n = 512, 128
    eb = edge_band(p, n, 1, "ratio", 0.95)
    law = _AnalyticRatioLaw(p, n, "soft")
    # same quadrature and brentq (xtol 1e-12) on both sides: the cdf at the band ends is 0.025/0.975
    # to the root-finder's tolerance times the density (~1), well inside 1e-8
    assert law.cdf(eb.band[0]) == pytest.approx(0.025, abs=1e-8)
    assert law.cdf(eb.band[1]) == pytest.approx(0.975, abs=1e-8)
    t = concentration_vs_random(np.random.default_rng(0).standard_normal((p, n)))
    assert t.method == "tw_convolution" and t.n_mc == 0
    # the same law inverted independently (brentq, xtol 1e-12): bands agree to ~1e-10 relative
    np.testing.assert_allclose(t.band, eb.band, rtol=1e-9)
    assert t.limit == pytest.approx(9.0, rel=1e-15)
    assert t.sv_band[0] == pytest.approx(math.sqrt(t.band[0]), rel=1e-15)


def test_analytic_law_vs_exact_null_samples():
    # The edge-law ratio distribution against exact Dumitriu-Edelman draws of the same statistic.
    p, n, draws = 1024, 256, 400
    r = np.sort(_mc_null_ratios(p, n, 0.1, "mean_all", draws, np.random.default_rng(1)))
    law = _AnalyticRatioLaw(p, n, "soft")
    F = np.array([law.cdf(v) for v in r])
    k = np.arange(1, draws + 1)
    D = max(np.max(k / draws - F), np.max(F - (k - 1) / draws))
    # KS critical value at 1 % for 400 iid draws is 1.63/sqrt(400) = 0.081; the TW approximation's own
    # finite-n error is O(n^{-2/3}) in distribution (Ma 2012), ~0.025 at m = 256; sum 0.11
    assert D < 0.11


def test_gaussian_key_matrices_in_band_and_limit():
    d, m = 64, 100
    g = np.random.default_rng(2)
    eb = edge_band(4 * d, d, 1, "ratio", 0.95)
    ratios = np.array([spectral_concentration(g.standard_normal((4 * d, d))).ratio for _ in range(m)])
    inside = np.mean((ratios >= eb.band[0]) & (ratios <= eb.band[1]))
    # Binomial(100, 0.95) puts 99.9 % of its mass at >= 88 (the TW approximation error adds ~0.02)
    assert inside >= 0.86
    # the ratio approaches the limit 9 from below as d grows (finite-n shift O(d^{-2/3}))
    big = np.array([spectral_concentration(g.standard_normal((4 * 512, 512))).ratio for _ in range(3)])
    assert abs(big.mean() - 9.0) < abs(ratios.mean() - 9.0)
    assert abs(big.mean() - 9.0) < 1.0


def test_monte_carlo_null_square_and_determinism():
    g = np.random.default_rng(3)
    W = g.standard_normal((96, 96))
    t1 = concentration_vs_random(W, n_mc=200, rng=5)
    t2 = concentration_vs_random(W, n_mc=200, rng=5)
    assert t1 == t2  # same seed, same band and p-value (bit-identical)
    assert t1.method == "monte_carlo" and t1.n_mc == 200 and t1.observed.regime == "cut"
    assert t1.band[0] < 38 < t1.band[1] + 5  # docs/science.md §5: ~38 at the 0.1 x mean cut
    assert t1.p_value > 0.01  # a Gaussian matrix reads as random (fixed seed)
    # a strong rank-one spike makes lambda_max, hence the ratio, far larger than any null draw
    u = g.standard_normal(96)
    S = W + 3 * (96 * 96) ** 0.25 * np.outer(u, u) / (u @ u)
    t3 = concentration_vs_random(S, n_mc=200, rng=5, alternative="greater")
    assert t3.p_value == pytest.approx(1 / 201)


def test_hard_edge_square_without_cut():
    W = np.random.default_rng(4).standard_normal((200, 200))
    t = concentration_vs_random(W, zero_tol=0.0)
    assert t.method == "tw_convolution_hard_edge" and t.limit == math.inf
    # Edelman: kappa/n has 2.5/97.5 % quantiles about 1.0 and 80: the eigenvalue band spans 4 decades
    assert t.band[1] / t.band[0] > 1e3
    assert t.band[0] <= t.observed.ratio <= t.band[1]


def test_to_dict_is_strict_json():
    import json

    t = concentration_vs_random(np.random.default_rng(6).standard_normal((30, 31)), n_mc=20, rng=0)  # near-square
    assert t.method == "monte_carlo" and math.isnan(t.details["null_lambda_min_q001"])
    d = json.loads(json.dumps(t.to_dict(), allow_nan=False))  # non-finite floats become strings
    assert d["details"]["null_lambda_min_q001"] == "nan" and d["in_band"] == t.in_band
    assert d["band"] == list(t.band) and d["observed"]["ratio"] == t.observed.ratio
    assert json.loads(json.dumps(t.observed.to_dict(), allow_nan=False))["shape"] == [30, 31]


def test_bad_arguments():
    W = np.eye(4) + 0.1
    with pytest.raises(ValueError, match="level"):
        concentration_vs_random(W, level=1.2)
    with pytest.raises(ValueError, match="alternative"):
        concentration_vs_random(W, alternative="bigger")
    with pytest.raises(ValueError, match="n_mc"):
        concentration_vs_random(W, n_mc=5)
    with pytest.raises(ValueError, match="at least 2"):
        concentration_vs_random(np.ones((1, 5)))
