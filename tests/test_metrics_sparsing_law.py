"""Sparsing-law fits (arXiv:2411.02335): exact refits, interval calibration, width/depth breakpoint."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from rmt_sparsity.metrics import (
    SPARSING_LAW_0P1B_RELU,
    fit_breakpoint_linear,
    fit_sparsing_law,
    sparsing_law_relu,
    sparsing_law_silu,
)

# The 28 training amounts (billions of tokens) of the 0.1B ReLU run in the paper's data
# repository (Raincleared-Song/SparsingLawData, data/0.1b_relu.txt, token_passed / 1e9).
D_PAPER = (
    np.array(
        [
            800978889, 1601756782, 2402484661, 3203178239, 4804434412, 6405619444, 8006161040,
            9607529098, 11208424264, 12809588705, 14410585839, 16012233670, 17613628330,
            19215132409, 20816633075, 22417810366, 24019105544, 25620515093, 27221792929,
            28822492074, 30423767115, 32024982130, 33626463815, 35227610571, 36828462320,
            38430004179, 40031939638, 41633519229,
        ],
        dtype=np.float64,
    )
    / 1e9
)
# Residual level of the paper's own fit of that run (MSE 2.68e-7 -> rms 5.2e-4).
NOISE_PAPER = 5e-4
TRUE = SPARSING_LAW_0P1B_RELU
SILU_0P1B = {"alpha": 0.479, "c": 0.102, "a0": 0.409}  # published 0.1B SiLU fit

# Noise-free refits: the optimum has zero residual and LM converges quadratically there, so
# the parameter error is ~ sqrt(cond(J^T J)) * eps * |theta|; cond ~ 3e9 for the ReLU fit
# gives ~1e-11 relative; 1e-9 leaves a factor 100 for the stopping rule.
RTOL_EXACT = 1e-9


def test_law_functions_hand():
    # D = 1: exp(-c + b) + A0
    assert_allclose(sparsing_law_relu(1.0, 0.101, -0.0151, 3.20, 0.0614), np.exp(-3.2151) + 0.0614, rtol=4e-16)
    # 0.4 - 0.1 * 4^-0.5 = 0.35
    assert_allclose(sparsing_law_silu(4.0, 0.5, 0.1, 0.4), 0.35, rtol=4e-16)
    # the published 0.1B ReLU curve reproduces the paper's first and last data points to ~1e-3
    a = sparsing_law_relu(D_PAPER[[0, -1]], **TRUE)
    assert_allclose(a, [0.10475, 0.07093], atol=1e-3)


def test_relu_noise_free_refit_recovers_published_constants():
    fit = fit_sparsing_law(D_PAPER, sparsing_law_relu(D_PAPER, **TRUE), "relu")
    assert fit.success and fit.form == "relu"
    assert list(fit.params) == ["alpha", "b", "c", "a0"]
    for k, v in TRUE.items():
        assert_allclose(fit.params[k], v, rtol=RTOL_EXACT, atol=RTOL_EXACT * 3.2)
    assert fit.rss < 1e-25
    assert_allclose(fit.predict(D_PAPER), sparsing_law_relu(D_PAPER, **TRUE), rtol=RTOL_EXACT)


def test_silu_noise_free_refit():
    fit = fit_sparsing_law(D_PAPER, sparsing_law_silu(D_PAPER, **SILU_0P1B), "silu")
    assert fit.success and list(fit.params) == ["alpha", "c", "a0"]
    for k, v in SILU_0P1B.items():
        assert_allclose(fit.params[k], v, rtol=RTOL_EXACT)


def _noisy(seed, noise=NOISE_PAPER):
    rng = np.random.default_rng(seed)
    return sparsing_law_relu(D_PAPER, **TRUE) + noise * rng.standard_normal(D_PAPER.size)


def test_noisy_refit_interval_and_se():
    fit = fit_sparsing_law(D_PAPER, _noisy(0), "relu")
    lo, hi = fit.a0_interval
    assert lo < TRUE["a0"] < hi
    assert fit.a0_method == "profile" and fit.dof == 28 - 4
    # the profile interval contains the point estimate
    assert lo < fit.params["a0"] < hi
    # residual sd recovers the noise level: s^2 = RSS/dof estimates 5e-4^2; with 24 dof,
    # s/sigma lies within [0.65, 1.35] with probability > 0.99 (chi^2_24 quantiles)
    s = np.sqrt(fit.rss / fit.dof)
    assert 0.65 * NOISE_PAPER < s < 1.35 * NOISE_PAPER
    wald = fit_sparsing_law(D_PAPER, _noisy(0), "relu", a0_method="wald")
    assert_allclose(wald.a0_interval[1] - wald.a0_interval[0], 2 * 2.0639 * wald.se["a0"], rtol=1e-4)  # t_24


@pytest.mark.slow
def test_a0_interval_coverage_over_seeds():
    # Refit R = 300 noisy copies of the published 0.1B ReLU curve at the paper's residual level.
    # A calibrated interval covers the truth Binomial(R, 0.95) times: 3 binomial SE = 0.038.
    # The F-profile interval is exact for linear models; in this near-degenerate model it is
    # mildly conservative: an independent run (seeds 20000..20599 of _noisy) measured 0.973
    # (SE 0.0066). The upper bound allows that measured excess (0.025) on top of 3 SE; the
    # lower bound is the plain 3 SE one. To rule out "covers because it is wide", the profile
    # interval must also be narrower than the Wald one in the median (measured ratio ~0.64).
    R, level = 300, 0.95
    band = 3 * np.sqrt(level * (1 - level) / R)
    prof = wald = 0
    ratios = []
    for seed in range(R):
        fit = fit_sparsing_law(D_PAPER, _noisy(1000 + seed), "relu")
        lo, hi = fit.a0_interval
        prof += lo <= TRUE["a0"] <= hi
        wlo, whi = fit.interval("a0")
        wald += wlo <= TRUE["a0"] <= whi
        ratios.append((hi - lo) / (whi - wlo))
    print(f"A0 coverage at noise {NOISE_PAPER}: profile {prof / R:.3f}, Wald {wald / R:.3f}, "
          f"median width ratio {np.median(ratios):.2f}")
    assert level - band <= prof / R <= level + 0.025 + band
    assert np.median(ratios) < 1.0
    # documented finding: the Wald interval under-covers here (measured 0.90 here, 0.87 on the
    # independent seeds), more than 3 SE below nominal
    assert wald / R < level - band


@pytest.mark.slow
def test_wald_coverage_at_low_noise():
    # At 1/5 of the paper's noise the linearisation holds and Wald intervals are calibrated for
    # every parameter: coverage within 0.95 +- 3 sqrt(0.95 * 0.05 / 200) = +-0.046.
    R, level = 200, 0.95
    band = 3 * np.sqrt(level * (1 - level) / R)
    hits = dict.fromkeys(TRUE, 0)
    for seed in range(R):
        fit = fit_sparsing_law(D_PAPER, _noisy(5000 + seed, NOISE_PAPER / 5), "relu", a0_method="wald")
        for k in TRUE:
            lo, hi = fit.interval(k)
            hits[k] += lo <= TRUE[k] <= hi
    print("Wald coverage at noise 1e-4:", {k: v / R for k, v in hits.items()})
    for k, v in hits.items():
        assert abs(v / R - level) <= band, (k, v / R)


def test_breakpoint_exact_and_noisy():
    x = np.array([8, 16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 256.0])
    y = 0.05 + 0.001 * np.minimum(x, 100.0)
    fit = fit_breakpoint_linear(x, y)
    # exact data: recovered to rounding (values ~0.15, RSS ~1e-26)
    assert_allclose([fit.intercept, fit.slope, fit.breakpoint], [0.05, 0.001, 100.0], rtol=RTOL_EXACT)
    assert_allclose(fit.predict([50.0, 300.0]), [0.1, 0.15], rtol=RTOL_EXACT)
    noisy = fit_breakpoint_linear(x, y + 2e-3 * np.random.default_rng(0).standard_normal(x.size))
    lo, hi = noisy.breakpoint_interval
    assert lo < 100.0 < hi
    assert noisy.dof == 9


def test_breakpoint_without_plateau_lands_at_the_end():
    x = np.arange(1.0, 9.0)
    fit = fit_breakpoint_linear(x, 2.0 + 0.5 * x)
    assert fit.breakpoint == pytest.approx(8.0, abs=1e-9)
    assert fit.slope == pytest.approx(0.5, rel=1e-9)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: fit_sparsing_law([0.0, 1, 2, 3, 4, 5], np.ones(6)), "D must be > 0"),
        (lambda: fit_sparsing_law([1.0, 2, 3], [1.0, 2.0]), "same length"),
        (lambda: fit_sparsing_law([1.0, 2, 3, 4], [1.0, 2, 3, 4]), "more than 4 points"),
        (lambda: fit_sparsing_law([1.0, 2, 3, 4, 5], [1.0, 2, np.nan, 4, 5]), "A must be finite"),
        (lambda: fit_sparsing_law(D_PAPER, _noisy(0), "gelu"), "form"),
        (lambda: fit_sparsing_law(D_PAPER, _noisy(0), level=1.0), "level"),
        (lambda: fit_sparsing_law(D_PAPER, _noisy(0), p0=[1.0, 2.0]), "p0 must have 4"),
        (lambda: fit_breakpoint_linear([1.0, 2, 3], [1.0, 2, 3]), "at least 4"),
        (lambda: fit_breakpoint_linear([1.0, 1, 1, 1], [1.0, 2, 3, 4]), "2 distinct"),
    ],
)
def test_fit_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
