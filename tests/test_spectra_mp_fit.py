"""Calibrated MP fit: scale with CI, TW outlier tests, BBP spikes (rmt_sparsity.spectra.fit_mp)."""

import math

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from rmt_sparsity.laws import MarchenkoPastur, soft_edge_params
from rmt_sparsity.spectra import (
    bbp_outlier,
    bbp_threshold,
    esd_distances,
    fit_mp,
    gram_eigenvalues,
)
from rmt_sparsity.spectra._mp_fit import _invert_bbp, _mp_resolvent_moments

EPS = np.finfo(np.float64).eps


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(1):
        yield


def _spiked(rng, p, n, factor, scale=1.0, k=1):
    W = math.sqrt(scale) * rng.standard_normal((p, n))
    thetas = []
    for _ in range(k):
        u = rng.standard_normal(p)
        v = rng.standard_normal(n)
        th = factor * bbp_threshold(p, n, scale)
        W += th * np.outer(u / np.linalg.norm(u), v / np.linalg.norm(v))
        thetas.append(th)
    return W, thetas


@pytest.mark.parametrize("c", [0.25, 1.0, 3.0])
@pytest.mark.parametrize("t_over", [1.2, 3.0])
def test_bbp_location_solves_the_outlier_equation(c, t_over):
    # limit equation z^2 m(z^2) m_(z^2) = 1/s^2 (module notes), with t = s^2 (sigma = 1)
    t = t_over * math.sqrt(c)
    w = (1 + t) * (c + t) / t
    A1, _ = _mp_resolvent_moments(w, c, nodes=4000)
    B1 = c * A1 + (1 - c) / w
    # midpoint rule on a periodic analytic integrand: geometric convergence; 1e-9 is far above its error
    assert w * A1 * B1 * t == pytest.approx(1.0, abs=1e-9)
    assert _invert_bbp(w, c) == pytest.approx(t, rel=1e-12)


def test_resolvent_moments_vs_quadrature():
    from scipy.integrate import quad

    c, w = 0.5, 4.0
    mp = MarchenkoPastur(c)
    a, b = mp.edges
    ref1 = quad(lambda x: mp.pdf(x) / (w - x), a, b, epsabs=1e-13, epsrel=1e-13)[0]
    ref2 = quad(lambda x: mp.pdf(x) / (w - x) ** 2, a, b, epsabs=1e-13, epsrel=1e-13)[0]
    A1, A2 = _mp_resolvent_moments(w, c)
    assert A1 == pytest.approx(ref1, rel=1e-10) and A2 == pytest.approx(ref2, rel=1e-10)


def test_bbp_outlier_and_threshold():
    o = bbp_outlier(2 * bbp_threshold(400, 400), 400, 400)
    assert o.location == pytest.approx(6.25, rel=4 * EPS) and o.detectable
    below = bbp_outlier(0.9 * bbp_threshold(100, 400, 2.0), 100, 400, 2.0)
    assert not below.detectable and below.location == pytest.approx(2.0 * 1.5**2, rel=4 * EPS)
    assert math.isnan(below.se)
    with pytest.raises(ValueError, match="theta"):
        bbp_outlier(-1.0, 4, 4)


def test_bbp_se_vs_monte_carlo():
    # the delta-method SD against the spread of 150 draws (relative SE of an SD ~ 1/sqrt(2*150) = 6 %;
    # 4 SE plus the O(n^{-1/2}) asymptotic error ~ 30 %)
    g = np.random.default_rng(0)
    p, n = 150, 300
    pos = []
    for _ in range(150):
        W, (th,) = _spiked(g, p, n, 2.0)
        pos.append(gram_eigenvalues(W)[-1])
    pred = bbp_outlier(th, p, n)
    assert np.std(pos, ddof=1) == pytest.approx(pred.se, rel=0.3)
    # mean within 4 SE of the mean plus the finite-n bias O(1/n) * location
    assert abs(np.mean(pos) - pred.location) < 4 * pred.se / math.sqrt(150) + 2 * pred.location / n


@pytest.mark.parametrize("p, n", [(150, 400), (400, 150)])
def test_outlier_statistics_use_johnstone_centring_with_reduced_dimension(p, n):
    """The j-th outlier is compared with the largest eigenvalue of a null with min(p, n) reduced by j."""
    W, _ = _spiked(np.random.default_rng(5), p, n, 4.0, k=2)
    f = fit_mp(W)
    assert f.n_spikes == 2
    for o in f.outliers:
        j = o["rank"]
        mu, s = soft_edge_params(p - j, n, 1, "max") if p <= n else soft_edge_params(p, n - j, 1, "max")
        # the same arithmetic on the same floats, up to the order of a product and a quotient
        assert o["tw_statistic"] == pytest.approx((n * o["eigenvalue"] / f.scale - mu) / s, rel=8 * EPS, abs=8 * EPS)


def test_pure_gaussian_scale_is_the_trace_mle():
    W = 1.3 * np.random.default_rng(1).standard_normal((200, 300))
    f = fit_mp(W)
    assert f.n_spikes == 0 and f.scale_method == "trace" and f.ratio_source == "shape"
    # exact identity: sigma^2 = ||W||_F^2/(pn), rounding ~ eps * sqrt(pn)
    assert f.scale == pytest.approx(np.sum(W * W) / W.size, rel=1e-12)
    # Gaussian entries: Var(w^2) = 2 sigma^4, so the relative SE is sqrt(2/(pn)); kurtosis estimated from
    # the 6e4 entries agrees to its own sampling error (~2 %, 5 SE => 0.1)
    assert f.scale_se / f.scale == pytest.approx(math.sqrt(2 / W.size), rel=0.1)
    assert f.edges[1] == pytest.approx(f.scale * (1 + math.sqrt(2 / 3)) ** 2, rel=4 * EPS)
    assert f.scale_ci[0] < 1.69 < f.scale_ci[1]


def test_eigenvalue_input_matches_matrix_input():
    W = np.random.default_rng(2).standard_normal((120, 60))
    a = fit_mp(W)
    lam = gram_eigenvalues(W)
    b = fit_mp(lam, n=60)
    c = fit_mp(lam)  # ratio from the 60 structural zeros
    assert c.ratio_source == "zeros" and c.n == 60 and b.ratio_source == "n"
    assert b.scale == pytest.approx(a.scale, rel=1e-12) and c.ratio == 2.0
    assert b.n_spikes == a.n_spikes == 0
    # ratio estimated by moments (no zeros, n unknown): c = 0.5 to within its O(1/sqrt(p)) error
    W2 = np.random.default_rng(3).standard_normal((300, 600))
    d = fit_mp(gram_eigenvalues(W2))
    assert d.ratio_source == "moments" and abs(d.ratio - 0.5) < 0.05


def test_esd_distances_against_brute_force():
    law = MarchenkoPastur(0.5, 2.0, nonzero=True)
    x = np.sort(law.rvs(300, rng=np.random.default_rng(4)))
    ks, w1 = esd_distances(x, law.cdf, law.support())
    grid = np.linspace(0.0, 8.0, 400_001)
    Fn = np.searchsorted(x, grid, side="right") / x.size
    ref_w1 = np.trapezoid(np.abs(Fn - law.cdf(grid)), grid)
    # trapezoid on 2e-5 steps: error <= N jumps * step = 300 * 2e-5 = 6e-3 (jumps), far less in practice
    assert w1 == pytest.approx(ref_w1, abs=2e-4)
    ref_ks = np.max(np.abs(Fn - law.cdf(grid)))
    assert ks >= ref_ks - 1e-12 and ks - ref_ks < 1.0 / x.size


def test_spike_detected_with_theta_and_location():
    g = np.random.default_rng(5)
    p, n = 300, 600
    W, thetas = _spiked(g, p, n, 3.0, scale=0.25, k=2)
    f = fit_mp(W)
    assert f.n_spikes == 2
    # scale is robust to the spikes: the BBP-corrected trace stays within 4 SE of the truth
    assert abs(f.scale - 0.25) < 4 * f.scale_se
    for o in f.outliers:
        assert o["p_value"] < 0.05
        pred = bbp_outlier(thetas[0], p, n, 0.25)
        assert abs(o["eigenvalue"] - pred.location) < 4 * pred.se
        assert o["theta_over_threshold"] == pytest.approx(3.0, rel=0.15)  # ~ location SE / slope
    assert f.next_p_value >= 0.05


def test_small_null_calibration():
    # 60 Gaussian matrices: spikes are reported at rate alpha = 0.05; Binomial(60, 0.05) <= 8 w.p. 0.998
    g = np.random.default_rng(6)
    shapes = [(64, 64), (128, 64), (64, 256), (200, 200)]
    hits = sum(fit_mp(g.standard_normal(shapes[i % 4])).n_spikes > 0 for i in range(60))
    assert hits <= 8


@pytest.mark.parametrize(
    "bad, kwargs, err, match",
    [
        (np.array([[1.0, np.nan], [0.0, 1.0]]), {}, ValueError, "finite"),
        (np.array([1.0, np.inf, 2.0]), {}, ValueError, "finite"),
        (np.zeros(0), {}, ValueError, "non-empty"),
        (np.zeros((2, 2, 2)), {}, ValueError, "1-D or 2-D"),
        (np.array([-1.0, 1.0, 2.0]), {}, ValueError, ">= 0"),
        (np.zeros((4, 5)), {}, ValueError, "zero matrix"),
        (np.eye(4), {"alpha": 1.5}, ValueError, "alpha"),
        (np.eye(4), {"n": 7}, ValueError, "contradicts"),
        (np.ones((1, 5)), {}, ValueError, "at least 2"),
    ],
)
def test_bad_input(bad, kwargs, err, match):
    with pytest.raises(err, match=match):
        fit_mp(bad, **kwargs)


# ----------------------------------------------------------------------------- calibration (slow)

_SHAPES = [(64, 64), (128, 256), (256, 128), (256, 512), (512, 512), (1024, 256), (1024, 1024), (4096, 1024)]


@pytest.mark.slow
def test_calibration_null_spikes_200():
    g = np.random.default_rng(100)
    hits = 0
    for i in range(200):
        p, n = _SHAPES[i % len(_SHAPES)]
        hits += fit_mp(g.uniform(0.5, 2.0) * g.standard_normal((p, n))).n_spikes > 0
    print(f"null matrices with a reported spike: {hits}/200")
    assert hits <= 19  # the 95 % binomial bound at alpha = 0.05


@pytest.mark.slow
def test_calibration_planted_spikes_200():
    g = np.random.default_rng(200)
    ok = 0
    per_shape = {}
    for i in range(200):
        p, n = _SHAPES[i % len(_SHAPES)]
        W, (th,) = _spiked(g, p, n, 1.5)
        f = fit_mp(W)
        pred = bbp_outlier(th, p, n)
        good = f.n_spikes >= 1 and abs(f.outliers[0]["eigenvalue"] - pred.location) <= 4 * pred.se
        ok += good
        per_shape.setdefault((p, n), []).append(good)
    print(f"planted spikes (1.5 x BBP) detected within 4 SE: {ok}/200;",
          {k: f"{sum(v)}/{len(v)}" for k, v in per_shape.items()})
    assert ok >= 190


@pytest.mark.slow
def test_calibration_scale_ci_coverage_100():
    g = np.random.default_rng(300)
    cover = 0
    for i in range(100):
        p, n = _SHAPES[i % 6]
        scale = g.uniform(0.1, 3.0)
        W = math.sqrt(scale) * g.standard_normal((p, n))
        if i % 2:  # half of them carry a spike: the CI must survive it
            W += 2.0 * bbp_threshold(p, n, scale) * np.outer(g.standard_normal(p), g.standard_normal(n)) / math.sqrt(p * n)
        f = fit_mp(W)
        cover += f.scale_ci[0] <= scale <= f.scale_ci[1]
    print(f"scale CI coverage: {cover}/100")
    assert cover >= 85
