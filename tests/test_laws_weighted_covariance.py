"""Tests of the weighted sample covariance law (generalised MP) and SGD's discounted covariance.

References: the MP density (docs/science.md §1) for equal weights; free-cumulant
moments written out by hand; Silverstein-Choi edges recomputed here with an
independent root finder; and simulation of (1/n) X diag(w) Xᵀ.
"""

import math

import numpy as np
import pytest
from scipy.optimize import brentq

from rmt_sparsity.laws import WeightedCovarianceLaw, discounted, kish_effective_size
from rmt_sparsity.spectra import esd_distances
from rmt_sparsity.theory import kish_effective_samples


def mp_edges(c, s=1.0):
    return s * (1 - math.sqrt(c)) ** 2, s * (1 + math.sqrt(c)) ** 2


def mp_density(x, c, s=1.0):
    a, b = mp_edges(c, s)
    return np.sqrt(np.maximum((b - x) * (x - a), 0.0)) / (2 * math.pi * s * c * x)


def wasserstein1(eigs, law):
    """W1 = ∫ |F_emp - F_law| dx (rmt_sparsity.spectra.esd_distances)."""
    return esd_distances(eigs, law.cdf, law.support())[1]


def tw_proxy_scale(c_eff, n_eff, edge):
    """Relative Tracy-Widom scale of an MP(c_eff) edge with n_eff samples (docs/science.md §2):
    sd(λ_max)/λ_+ ≈ (1+√c)^(-2/3) c^(-1/6) n^(-2/3); same with 1-√c for λ_min."""
    sc = math.sqrt(c_eff)
    f = (1 + sc) if edge == "max" else abs(1 - sc)
    return f ** (-2 / 3) * c_eff ** (-1 / 6) * n_eff ** (-2 / 3)


# ------------------------------------------------------------------------------------------
# Reductions
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("c", [0.1, 0.5, 1.0, 2.0, 10.0])
@pytest.mark.parametrize("level", [1.0, 3.0])
def test_equal_weights_reduce_to_mp(c, level):
    law = WeightedCovarianceLaw(c, [level] * 4)
    a, b = mp_edges(c, level)
    x = np.linspace(a, b, 203)[1:-1]
    # acceptance: 1e-8 in density on the bulk (solver residual 1e-12, Richardson-extrapolated)
    np.testing.assert_allclose(law.pdf(x), mp_density(x, c, level), rtol=0, atol=1e-8 / level)
    lo, hi = law.support()
    # Silverstein-Choi critical points by bisection to machine precision: 1e-13 relative
    assert hi == pytest.approx(b, rel=1e-13)
    assert lo == pytest.approx(a, rel=1e-12, abs=1e-13 * b)
    assert law.atoms() == ([(0.0, 1 - 1 / c)] if c > 1 else [])


def test_repeated_weights_are_merged():
    law = WeightedCovarianceLaw(0.3, [2.0, 1.0, 2.0, 1.0, 1.0, 1.0])
    np.testing.assert_array_equal(law.weights, [1.0, 2.0])
    np.testing.assert_allclose(law.probs, [4 / 6, 2 / 6])
    same = WeightedCovarianceLaw(0.3, [1.0, 2.0], [2.0, 1.0])
    x = np.linspace(*law.support(), 9)[1:-1]
    np.testing.assert_array_equal(law.pdf(x), same.pdf(x))


def test_rescaled_law_scales_eigenvalues():
    law = WeightedCovarianceLaw(0.2, [0.5, 1.0, 3.0])
    big = law.rescaled(7.0)
    np.testing.assert_allclose(big.support(), 7.0 * np.array(law.support()), rtol=1e-12)
    x = np.linspace(*law.support(), 7)[1:-1]
    # density of 7 S at 7x is ρ(x)/7; both solved to 1e-12 residual
    np.testing.assert_allclose(big.pdf(7 * x), law.pdf(x) / 7, rtol=1e-9)


# ------------------------------------------------------------------------------------------
# Moments (free cumulants) and edges (independent characterisation)
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("c", [0.05, 0.7, 3.0])
def test_moments_free_cumulant_formulas_and_solver(c):
    t = np.array([0.3, 1.0, 2.5])
    pr = np.array([0.5, 0.3, 0.2])
    law = WeightedCovarianceLaw(c, t, pr)
    h = [float(np.dot(pr, t**k)) for k in range(5)]
    k1, k2, k3, k4 = (c ** (k - 1) * h[k] for k in range(1, 5))  # free compound Poisson
    ref = [
        k1,
        k2 + k1**2,
        k3 + 3 * k1 * k2 + k1**3,
        k4 + 4 * k1 * k3 + 2 * k2**2 + 6 * k1**2 * k2 + k1**4,
    ]
    for k in range(1, 5):
        assert law.moment(k) == pytest.approx(ref[k - 1], rel=1e-13)
        # solver density integrated: total mass converges to ~1e-11, moments alike
        assert law.moment(k, method="quadrature") == pytest.approx(ref[k - 1], rel=1e-8)
    # direct second-moment identity E tr S^2 / p = c E t^2 + (E t)^2
    assert law.moment(2) == pytest.approx(c * h[2] + h[1] ** 2, rel=1e-14)


def _silverstein_choi_edges(c, t, pr):
    """All edges from the critical points of x(m) = -1/m + Σ π t/(1 + c t m), independent code."""
    x = lambda m: -1 / m + np.sum(pr * t / (1 + c * t * m))  # noqa: E731
    dx = lambda m: 1 / m**2 - np.sum(pr * c * t**2 / (1 + c * t * m) ** 2)  # noqa: E731
    poles = np.sort(-1 / (c * t))
    edges = []
    # each interval between consecutive poles: dx -> -inf at both ends; a positive max => a gap
    for lo, hi in zip(poles[:-1], poles[1:]):
        ms = np.linspace(lo, hi, 20001)[1:-1]
        d = np.array([dx(m) for m in ms])
        if d.max() > 0:
            i = int(np.argmax(d))
            edges.append(x(brentq(dx, ms[0], ms[i], xtol=1e-15)))
            edges.append(x(brentq(dx, ms[i], ms[-1], xtol=1e-15)))
    return sorted(edges)


def test_support_with_a_gap_matches_silverstein_choi():
    # Weights act on samples, so for c < 1 the spectrum concentrates around E t (no clusters).
    # For c >> 1 the non-zero spectrum is that of the n x n matrix ≈ c·diag(w): clusters at c·t.
    c, t, pr = 50.0, np.array([1.0, 10.0]), np.array([0.5, 0.5])
    law = WeightedCovarianceLaw(c, t, pr)
    e = law.edges()
    assert e.shape == (2, 2)  # two clusters, around 50 and 500
    inner = _silverstein_choi_edges(c, t, pr)
    assert len(inner) == 2
    # interior edges come from the density scan + secant refinement (bracket 1e-12 * scale)
    np.testing.assert_allclose([e[0, 1], e[1, 0]], inner, rtol=1e-9)
    # the density vanishes in the gap and is positive just inside the clusters
    mid = 0.5 * (e[0, 1] + e[1, 0])
    # outside the support the extrapolated Im m is rounding-level: <= 1e-12 of a typical 1/width
    assert law.pdf(mid) <= 1e-12 / (e[-1, 1] - e[0, 0])
    assert law.pdf(e[0, 1] * (1 - 1e-4)) > 0 and law.pdf(e[1, 0] * (1 + 1e-4)) > 0
    # masses: atom 1 - 1/c at 0, and 1/(2c) in each cluster (one per weight value)
    assert law.cdf(mid) == pytest.approx(1 - 1 / c + 0.5 / c, abs=1e-11)
    # for c < 1 the same weights give a single interval around E t = 5.5
    single = WeightedCovarianceLaw(0.01, t, pr)
    assert single.edges().shape == (1, 2)
    lo, hi = single.support()
    assert lo < 5.5 < hi and _silverstein_choi_edges(0.01, t, pr) == []


# ------------------------------------------------------------------------------------------
# discounted(), Kish
# ------------------------------------------------------------------------------------------


def test_discounted_conventions():
    r, steps, batch, c = 0.98, 150, 3, 0.4
    law = discounted(c, r, steps, batch)
    np.testing.assert_allclose(law.weights, np.sort(r ** np.arange(steps)), rtol=1e-15)
    assert law.n_tokens == batch * steps and law.discount == r
    assert law.mean() == pytest.approx((1 - r**steps) / (steps * (1 - r)), rel=1e-13)
    acc = discounted(c, r, steps, batch, accumulated=True)
    # C_t = n * (C_t / n): eigenvalues scale by n exactly
    np.testing.assert_allclose(acc.support(), law.n_tokens * np.array(law.support()), rtol=1e-12)
    # r = 1: plain MP
    mp = discounted(c, 1.0, steps, batch)
    np.testing.assert_allclose(mp.support(), mp_edges(c), rtol=1e-12)


def test_kish_effective_size_matches_theory():
    r, steps, batch = 0.99, 700, 4
    w = np.repeat(r ** np.arange(steps), batch)
    lr, wd = 0.1, 0.1  # r = 1 - lr*wd = 0.99
    ref = kish_effective_samples(batch, steps, lr, wd)
    assert kish_effective_size(w) == pytest.approx(ref, rel=1e-12)
    law = discounted(0.1, r, steps, batch)
    assert law.n_tokens * law.kish_fraction == pytest.approx(ref, rel=1e-12)


# ------------------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ratio, weights, probs, exc, match",
    [
        (0.0, [1.0], None, ValueError, "ratio"),
        (-1.0, [1.0], None, ValueError, "ratio"),
        (float("nan"), [1.0], None, ValueError, "ratio"),
        (float("inf"), [1.0], None, ValueError, "ratio"),
        ("a", [1.0], None, TypeError, "ratio"),
        (0.5, [1.0, 0.0], None, ValueError, "weights must be > 0"),
        (0.5, [1.0, -2.0], None, ValueError, "weights must be > 0"),
        (0.5, [1.0, np.nan], None, ValueError, "weights must be finite"),
        (0.5, [1.0, np.inf], None, ValueError, "weights must be finite"),
        (0.5, [], None, ValueError, "weights must be non-empty"),
        (0.5, [[1.0]], None, ValueError, "weights must be 1-D"),
        (0.5, [1.0, 2.0], [1.0], ValueError, "probs"),
        (0.5, [1.0, 2.0], [1.0, -1.0], ValueError, "probs"),
        (0.5, [1.0, 2.0], [0.0, 0.0], ValueError, "probs"),
    ],
)
def test_bad_input_weighted(ratio, weights, probs, exc, match):
    with pytest.raises(exc, match=match):
        WeightedCovarianceLaw(ratio, weights, probs)


def test_bad_input_discounted():
    with pytest.raises(ValueError, match="r must"):
        discounted(0.5, 0.0, 10)
    with pytest.raises(ValueError, match="r must"):
        discounted(0.5, 1.5, 10)
    with pytest.raises(ValueError, match="steps"):
        discounted(0.5, 0.9, 0)
    with pytest.raises(TypeError, match="steps"):
        discounted(0.5, 0.9, 2.5)
    with pytest.raises(ValueError, match="batch"):
        discounted(0.5, 0.9, 10, 0)
    with pytest.raises(ValueError, match="ratio"):
        discounted(-0.5, 0.9, 10)
    with pytest.raises(ValueError, match="underflows"):
        discounted(0.5, 0.5, 5000)
    with pytest.raises(ValueError, match="weights"):
        kish_effective_size([1.0, -1.0])
    with pytest.raises(ValueError, match="factor"):
        WeightedCovarianceLaw(0.5, [1.0]).rescaled(0.0)
    with pytest.raises(ValueError, match="method"):
        WeightedCovarianceLaw(0.5, [1.0]).moment(2, method="bogus")


# ------------------------------------------------------------------------------------------
# Against simulation
# ------------------------------------------------------------------------------------------


def _simulate_discounted(p, r, batch, steps, rng, normalise_columns=False):
    n = batch * steps
    X = rng.standard_normal((p, n))
    if normalise_columns:  # LayerNorm-like ‖x‖² = p (isotropic, not iid entries)
        X *= math.sqrt(p) / np.linalg.norm(X, axis=0)
    w = np.repeat(r ** np.arange(steps)[::-1], batch)  # step s carries r^(t-s)
    return np.linalg.eigvalsh((X * w) @ X.T / n)


def _configs(n):
    # (r, B, steps) with n = B·steps tokens: stationary for r = 0.9, 0.99 (r^steps ~ 3e-5);
    # r = 0.999 keeps B = 1. ratio c = p/n with p = n/10.
    return [(0.9, n // 100, 100), (0.99, max(1, n // 1000), min(n, 1000)), (0.999, 1, n)]


def _check_against_simulation(n, n_draws, seed, w1_tol, k_edge, normalise_columns=False):
    p = n // 10
    rng = np.random.default_rng(seed)
    for r, batch, steps in _configs(n):
        steps = n // batch
        law = discounted(p / (batch * steps), r, steps, batch)
        lo, hi = law.support()
        n_eff = n * law.kish_fraction
        c_eff = p / n_eff
        for _ in range(n_draws):
            ev = _simulate_discounted(p, r, batch, steps, rng, normalise_columns)
            w1 = wasserstein1(ev, law)
            assert w1 <= w1_tol * law.mean(), (r, w1 / law.mean())
            # extreme edges within k_edge Tracy-Widom-proxy scales (MP with the Kish n_eff)
            assert abs(ev.max() / hi - 1) <= k_edge * tw_proxy_scale(c_eff, n_eff, "max"), (r, ev.max() / hi)
            assert abs(ev.min() / lo - 1) <= k_edge * tw_proxy_scale(c_eff, n_eff, "min"), (r, ev.min() / lo)


def test_discounted_against_simulation_small():
    # n = 400 tokens, p = 40. W1 between the ESD and the LSD is O(1/n) (bulk rigidity plus an
    # O(1/n) bias): the acceptance tolerance 2 % of the mean at n = 2000 scales to 2 % · 2000/400
    # = 10 % here (measured 2-6 %). Edges: |rel. deviation| <= 8 TW-proxy scales; the weighted
    # law's λ_max approaches its limit from below more slowly than MP (measured up to 5.5 scales
    # at n = 400, 4.6 at n = 2000, 2.8 at n = 6000), so 8 is the stated constant.
    _check_against_simulation(400, 2, seed=11, w1_tol=0.10, k_edge=8.0)


def test_discounted_against_simulation_layernorm_columns():
    # same law for columns with ‖x‖² = p exactly (isotropic, concentrated norms), same tolerances
    _check_against_simulation(400, 1, seed=12, w1_tol=0.10, k_edge=8.0, normalise_columns=True)


@pytest.mark.slow
def test_discounted_against_simulation_n2000():
    # acceptance setting: n = 2000, W1 <= 2 % of the mean eigenvalue (measured 0.5-1.1 %)
    _check_against_simulation(2000, 3, seed=21, w1_tol=0.02, k_edge=8.0)


# ------------------------------------------------------------------------------------------
# Random weight laws (hypothesis): branch, certificate and mass on arbitrary H
# ------------------------------------------------------------------------------------------

from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    c=st.floats(0.05, 20.0),
    t=st.lists(st.floats(0.1, 10.0), min_size=1, max_size=4),
    seed=st.integers(0, 2**16),
)
def test_random_weight_laws_are_consistent(c, t, seed):
    # Ratios near 1 put a hard edge (density ~ x^{-1/2}) at 0, where the eta -> 0 extrapolation of the
    # density loses accuracy (mass error up to ~1e-5 seen for widely spread weights at c = 1); that
    # limitation is documented in WeightedCovarianceLaw and measured in test_hard_edge_accuracy_is_reported.
    assume(abs(c - 1.0) > 0.05)
    rng = np.random.default_rng(seed)
    pr = rng.random(len(t)) + 0.1
    law = WeightedCovarianceLaw(c, t, pr)
    lo, hi = law.support()
    z = rng.uniform(lo - 1, hi + 1, 16) + 1j * 10.0 ** rng.uniform(-6, 0, 16)
    sol = law.solve(z)
    assert np.all(sol.residual <= 1e-12) and np.all(sol.m.imag > 0)
    # Im(z m) >= 0 for a law on [0, inf)
    assert np.all((z * sol.m).imag >= -1e-10 * np.abs(z * sol.m))
    # total mass (atoms + density) is 1 to the quadrature's convergence level
    assert law.mass_error() <= 1e-8
    for k in (1, 2):
        assert law.moment(k, method="quadrature") == pytest.approx(law.moment(k), rel=1e-7)
    # exact outer edges bound the density
    assert law.pdf(hi * (1 + 1e-6)) <= 1e-10 / (hi - lo) and law.pdf(lo * (1 - 1e-6)) <= 1e-10 / (hi - lo)


def test_hard_edge_accuracy_is_reported():
    """At ratio 1 the lower edge is a hard edge at 0: the law still certifies itself through mass_error().

    Equal weights reduce to MP(1), whose quadrature stays at the 1e-8 level; widely spread weights lose
    accuracy near 0 (the documented limitation), and mass_error() must *report* it rather than hide it.
    """
    mp1 = WeightedCovarianceLaw(1.0, [1.0, 1.0], [0.5, 0.5])
    assert mp1.support()[0] == 0.0 and mp1.mass_error() <= 1e-8
    assert mp1.pdf(-1e-9) == 0.0
    spread = WeightedCovarianceLaw(1.0, [0.1, 10.0], [0.1, 0.9])
    err = spread.mass_error()
    assert math.isfinite(err) and err < 1e-3  # reported, finite, and small compared with the mass


def test_equation_reduces_to_mp_quadratic_symbolically_and_library_uses_it():
    import sympy as sp

    m, z, c, t1, t2, p1 = sp.symbols("m z c t1 t2 p1")
    # Silverstein-Bai with H = p1 δ_t1 + (1 - p1) δ_t2, as the residual F(m) = m(-z + ∫ t dH/(1 + c t m)) - 1
    F = m * (-z + p1 * t1 / (1 + c * t1 * m) + (1 - p1) * t2 / (1 + c * t2 * m)) - 1
    # equal weights t1 = t2 = 1: (1 + c m) F = -(c z m² + (z + c - 1) m + 1), MP's quadratic
    F_eq = F.subs({t1: 1, t2: 1})
    assert sp.simplify(sp.expand((1 + c * m) * F_eq) + (c * z * m**2 + (z + c - 1) * m + 1)) == 0
    # the library evaluates exactly this F and its derivative
    f = sp.lambdify((m, z, c, t1, t2, p1), F)
    df = sp.lambdify((m, z, c, t1, t2, p1), sp.diff(F, m))
    law = WeightedCovarianceLaw(0.3, [0.5, 2.0], [0.25, 0.75])
    mm = np.array([0.3 + 0.2j, -1.0 + 1.0j, 2.0 + 0.01j])
    zz = np.array([1.0 + 0.1j, 2.0 + 2.0j, 0.5 + 1e-4j])
    Fl, dFl = law.problem.residual(mm, zz)
    # a handful of flops on O(1) numbers: 1e-14 relative
    np.testing.assert_allclose(Fl, f(mm, zz, 0.3, 0.5, 2.0, 0.25), rtol=1e-14)
    np.testing.assert_allclose(dFl, df(mm, zz, 0.3, 0.5, 2.0, 0.25), rtol=1e-14)
