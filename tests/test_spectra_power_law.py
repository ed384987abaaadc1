"""Power-law tail fits (rmt_sparsity.spectra.fit_power_law)."""

import math

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from rmt_sparsity.spectra import fit_power_law, gram_eigenvalues
from rmt_sparsity.spectra._power_law import _trunc_exp_mean, _trunc_exp_mle


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(1):
        yield


def _pareto_matrix(g, p, n, mu):
    """iid symmetric Pareto entries, P(|w| > x) = x^{-mu} for x >= 1."""
    return g.choice([-1.0, 1.0], (p, n)) * g.uniform(size=(p, n)) ** (-1.0 / mu)


def test_truncated_exponential_mle_solves_score():
    L = np.array([0.5, 3.0, 10.0, 10.0])
    beta = np.array([-2.0, 0.3, 1e-9, 4.0])
    ybar = _trunc_exp_mean(beta, L)
    est = _trunc_exp_mle(ybar, L)
    # bisection to 2^-80 of the bracket; the mean's slope in beta is >= ~L^2/12 * 1e-2 here: 1e-9 absolute
    np.testing.assert_allclose(est, beta, atol=1e-9)
    # the mean is L/2 at beta = 0 (uniform in log x) and -> 1/beta for beta L >> 1
    assert _trunc_exp_mean(np.array([0.0]), np.array([2.0]))[0] == pytest.approx(1.0, rel=1e-12)


def test_exact_pareto_sample_recovers_alpha():
    # iid Pareto density ~ x^{-alpha} on [1, inf) with fixed xmin = 1: the truncated MLE is consistent;
    # its SE is alpha_se; |error| < 4 SE
    g = np.random.default_rng(0)
    alpha = 2.5
    x = g.uniform(size=3000) ** (-1.0 / (alpha - 1.0))
    f = fit_power_law(x, xmin=1.0, n_boot=0)
    assert abs(f.alpha - alpha) < 4 * f.alpha_se
    assert f.has_tail and f.decades > 1


def test_gaussian_spectra_have_no_tail():
    g = np.random.default_rng(1)
    for shape in [(64, 64), (256, 512), (1024, 256), (300, 300)]:
        f = fit_power_law(gram_eigenvalues(g.standard_normal(shape)), n_boot=0)
        assert not f.has_tail, (shape, f.verdict)
        assert f.verdict.startswith("no power-law tail")


def test_pareto_matrix_tail_and_interval():
    # alpha = mu/2 + 1 for mu < 2 (module notes); one fixed-seed matrix per mu, 99 % interval (a single
    # draw; the pooled 95 % coverage is the slow test below)
    g = np.random.default_rng(2)
    for mu in (0.5, 1.0):
        f = fit_power_law(gram_eigenvalues(_pareto_matrix(g, 256, 512, mu)), n_boot=100, level=0.99, rng=3)
        assert f.has_tail, f.verdict
        assert f.alpha_ci[0] <= mu / 2 + 1 <= f.alpha_ci[1], (mu, f.alpha, f.alpha_ci)
        assert f.comparisons["exponential"]["preferred"] == "power_law"


def test_bootstrap_is_reproducible():
    W = _pareto_matrix(np.random.default_rng(4), 100, 200, 1.0)
    lam = gram_eigenvalues(W)
    a = fit_power_law(lam, n_boot=20, rng=7)
    b = fit_power_law(lam, n_boot=20, rng=7)
    assert a == b


def test_serial_and_parallel_bootstrap_agree(monkeypatch):
    # small problems take the serial kernel, large ones the parallel one: same replicates, same interval
    import rmt_sparsity.spectra._power_law as pl

    x = np.random.default_rng(8).uniform(size=1500) ** -1.0
    serial = fit_power_law(x, n_boot=30, rng=2)
    monkeypatch.setattr(pl, "_PARALLEL_BOOT_WORK", 0.0)
    parallel = fit_power_law(x, n_boot=30, rng=2)
    assert serial == parallel and np.isfinite(serial.alpha_ci).all()


@pytest.mark.parametrize(
    "bad, kwargs, match",
    [
        (np.array([1.0, np.nan] * 10), {}, "finite"),
        (np.ones((3, 3)), {}, "1-D"),
        (np.array([]), {}, "non-empty"),
        (np.arange(1.0, 6.0), {}, "at least k_min"),
        (-np.arange(1.0, 30.0), {}, ">= 0"),
        (np.arange(1.0, 30.0), {"xmin": 28.0}, "fewer than k_min"),
        (np.arange(1.0, 30.0), {"truncation_level": 1.5}, "truncation_level"),
        (np.arange(1.0, 30.0), {"truncation": "maybe"}, "truncation"),
    ],
)
def test_bad_input(bad, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit_power_law(bad, **kwargs)


@pytest.mark.slow
def test_pareto_alpha_coverage():
    # pooled over mu in {0.5, 1, 1.5} and two shapes, 10 seeds each: the bootstrap 95 % interval covers
    # mu/2 + 1. Finite-size bias (slow convergence of the eigenvalue tail as mu -> 2) costs some coverage:
    # we require >= 80 % (observed ~88 % in development), and no tail on any of 20 Gaussian matrices.
    g = np.random.default_rng(10)
    cover = total = 0
    for p, n in [(512, 1024), (1024, 256)]:
        for mu in (0.5, 1.0, 1.5):
            for s in range(10):
                f = fit_power_law(gram_eigenvalues(_pareto_matrix(g, p, n, mu)), n_boot=100, rng=s)
                cover += f.alpha_ci[0] <= mu / 2 + 1 <= f.alpha_ci[1]
                total += 1
        for _ in range(10):
            assert not fit_power_law(gram_eigenvalues(g.standard_normal((p, n))), n_boot=0).has_tail
    print(f"Pareto alpha = mu/2 + 1 inside the bootstrap interval: {cover}/{total}")
    assert cover >= math.ceil(0.8 * total)


def test_xmin_scan_reaches_the_smallest_point():
    # an exact Pareto sample from x = 1: the KS scan covers every point, the smallest included, so the
    # selected xmin sits in the bottom of the sample (the former top-half scan could not go below the median)
    x = np.random.default_rng(11).uniform(size=2000) ** (-1.0 / 1.5)
    f = fit_power_law(x, n_boot=0, truncation="none")
    assert f.xmin < np.quantile(x, 0.5) and f.n_tail > 1000, (f.xmin, f.n_tail)
    assert abs(f.alpha - 2.5) < 4 * f.alpha_se


def test_truncated_sample_uses_the_truncated_likelihood():
    # Pareto alpha = 2.5 conditioned on x < q_0.9 (a hard xmax): the plain MLE is biased upward by
    # far more than its SE; the truncated likelihood (chosen by the test of module notes) is not
    g = np.random.default_rng(12)
    alpha, n = 2.5, 2000
    x = _truncated_pareto(g, alpha, n, 0.1 ** (-1.0 / (alpha - 1.0)))
    auto, plain = fit_power_law(x, n_boot=0), fit_power_law(x, n_boot=0, truncation="none")
    assert auto.model == "truncated power law" and abs(auto.alpha - alpha) < 4 * auto.alpha_se, auto
    assert plain.alpha - alpha > 4 * plain.alpha_se, plain


def _truncated_pareto(g, alpha, n, xmax):
    """n iid draws of the density ~ x^{-alpha} on [1, xmax] (inverse cdf)."""
    b = alpha - 1.0
    u = g.uniform(size=n)
    return (1.0 - u * (1.0 - xmax ** (-b))) ** (-1.0 / b)


CSN_ALPHAS = (2.0, 2.5, 3.5, 5.0)
CSN_SIZES = (500, 2000)
CSN_SEEDS = 50
CSN_CUT = 0.1  # the truncated samples: Pareto conditioned below its 90 % quantile, xmax = 0.1^(-1/(alpha-1))


def _rmse_ratio_ci(e_ours, e_csn, n_boot=4000, level=0.95, seed=0):
    """RMSE(ours)/RMSE(CSN) with its paired percentile-bootstrap interval (seeds resampled as pairs)."""
    g = np.random.default_rng(seed)
    s_o, s_c = np.square(e_ours), np.square(e_csn)
    idx = g.integers(0, s_o.size, size=(n_boot, s_o.size))
    boots = np.sqrt(s_o[idx].mean(axis=1) / s_c[idx].mean(axis=1))
    a = (1.0 - level) / 2.0
    return math.sqrt(s_o.mean() / s_c.mean()), float(np.quantile(boots, a)), float(np.quantile(boots, 1.0 - a))


def csn_comparison(alphas=CSN_ALPHAS, sizes=CSN_SIZES, n_seeds=CSN_SEEDS):
    """One row per (sample kind, alpha, n): RMSE of alpha, ours and CSN's (the ``powerlaw`` package), and the
    paired RMSE ratio with its bootstrap interval. Seeds are fixed: (kind, alpha, n, seed)."""
    import warnings

    powerlaw = pytest.importorskip("powerlaw")
    rows = []
    for kind in ("pareto", "truncated"):
        for alpha in alphas:
            for n in sizes:
                e_o, e_c = [], []
                for s in range(n_seeds):
                    g = np.random.default_rng([13, int(kind == "truncated"), int(alpha * 10), n, s])
                    if kind == "pareto":
                        x = g.uniform(size=n) ** (-1.0 / (alpha - 1.0))
                    else:
                        x = _truncated_pareto(g, alpha, n, CSN_CUT ** (-1.0 / (alpha - 1.0)))
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        csn = powerlaw.Fit(x, parameter_ranges={"alpha": [1, None]}, verbose=False).power_law.alpha
                    e_c.append(csn - alpha)
                    e_o.append(fit_power_law(x, n_boot=0).alpha - alpha)
                e_o, e_c = np.array(e_o), np.array(e_c)
                r, lo, hi = _rmse_ratio_ci(e_o, e_c)
                rows.append({"kind": kind, "alpha": alpha, "n": n, "rmse_ours": float(np.sqrt(np.mean(e_o**2))),
                             "rmse_csn": float(np.sqrt(np.mean(e_c**2))), "bias_ours": float(e_o.mean()),
                             "bias_csn": float(e_c.mean()), "ratio": r, "ratio_lo": lo, "ratio_hi": hi})
    return rows


# 800 fits by the powerlaw package (about 45 minutes on 2 cores): its own tier, `pytest -m reference`.
@pytest.mark.reference
@pytest.mark.xfail(
    strict=True,
    reason="finding (fixed seeds, so deterministic): at n=500 the bootstrap upper bound of the RMSE ratio is "
           "1.079 (alpha 3.5, point 1.026) and 1.084 (alpha 5, point 0.993), above 1.05; the other 6 untruncated "
           "cases and all 8 truncated ones meet their bounds",
)
def test_alpha_rmse_against_csn():
    # the reference is Clauset, Shalizi & Newman's method as the powerlaw package implements it (alpha > 1).
    # Untruncated Pareto: ours is at least as accurate (paired bootstrap upper bound of the RMSE ratio
    # <= 1.05 for every alpha and n). Truncated at a hard xmax: ours is more accurate (upper bound < 1),
    # the truncated likelihood removing the plain MLE's upward bias.
    rows = csn_comparison()
    for r in rows:
        print(f"{r['kind']:>9} alpha={r['alpha']:<4} n={r['n']:<5} RMSE ours {r['rmse_ours']:.4f} CSN {r['rmse_csn']:.4f}"
              f"  ratio {r['ratio']:.3f} [{r['ratio_lo']:.3f}, {r['ratio_hi']:.3f}]")
    for r in rows:
        bound = 1.05 if r["kind"] == "pareto" else 1.0
        assert r["ratio_hi"] <= bound, r


def test_rng_and_n_boot_checked_up_front():
    from rmt_sparsity.spectra import fit_power_law

    x = np.sort(np.random.default_rng(0).standard_normal(200) ** 2) + 0.01
    with pytest.raises(TypeError, match="rng"):
        fit_power_law(x, n_boot=0, rng="0")  # refused even though n_boot = 0 leaves it unused
    with pytest.raises(ValueError, match=r"n_boot = 2\*\*64 needs about"):
        fit_power_law(x, n_boot=2**64)
