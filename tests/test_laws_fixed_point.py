"""Tests of the common Stieltjes fixed-point solver (rmt_sparsity.laws.fixed_point).

References are closed forms independent of the solver: the Marchenko-Pastur
quadratic and density (docs/science.md §1), scipy quadrature of that density.
"""

import math

import numpy as np
import pytest
from scipy.integrate import quad

from rmt_sparsity.laws.fixed_point import (
    ConvergenceError,
    FixedPointLaw,
    FixedPointProblem,
    _density_extrapolated,
    atom_sums,
    solve_stieltjes,
)
from rmt_sparsity.laws.weighted_covariance import WeightedCovarianceLaw, discounted


def mp_edges(c, s=1.0):
    return s * (1 - math.sqrt(c)) ** 2, s * (1 + math.sqrt(c)) ** 2


def mp_density(x, c, s=1.0):
    a, b = mp_edges(c, s)
    x = np.asarray(x, float)
    return np.sqrt(np.maximum((b - x) * (x - a), 0.0)) / (2 * math.pi * s * c * x)


def mp_stieltjes(z, c, s=1.0):
    """Root with Im m > 0 of  s c z m^2 + (z - s(1-c)) m + 1 = 0."""
    z = np.asarray(z, complex)
    B = z - s * (1 - c)
    disc = np.sqrt(B * B - 4 * s * c * z + 0j)
    r1 = (-B + disc) / (2 * s * c * z)
    r2 = (-B - disc) / (2 * s * c * z)
    return np.where(r1.imag > 0, r1, r2)


class _NoRoot(FixedPointProblem):
    """|u|^2 + 1 = 0 has no solution: the solver must raise, with the residual."""

    scale = 1.0

    def bounds(self):
        return (0.0, 1.0)

    def initial(self, z):
        return 1j * np.ones_like(z)

    def residual(self, u, z):
        return u * np.conj(u) + 1.0, 2.0 * u

    def admissible(self, u, z):
        return np.isfinite(u)


@pytest.mark.parametrize("c", [0.1, 0.5, 2.0])
def test_stieltjes_matches_mp_quadratic_off_axis(c):
    law = WeightedCovarianceLaw(c, [1.0])
    a, b = mp_edges(c)
    z = np.linspace(a - 1, b + 1, 41) + 1j * np.array([1e-3, 1e-1, 1.0])[:, None]
    sol = solve_stieltjes(law.problem, z)
    assert sol.m.shape == z.shape
    # certificate: every residual below the tolerance, and on the Im m > 0 branch
    assert np.all(sol.residual <= sol.tol) and np.all(sol.m.imag > 0)
    # |Δm| <= |F| / |F'(m)|; |F'| >= ~1e-2 at Im z >= 1e-3 for these c => 1e-12/1e-2 = 1e-10,
    # relative to |m| (which is >= 0.05 here); 1e-9 leaves a factor 10 of margin.
    ref = mp_stieltjes(z, c)
    np.testing.assert_allclose(sol.m, ref, rtol=1e-9)


def test_non_convergence_raises_with_residual():
    with pytest.raises(ConvergenceError) as info:
        solve_stieltjes(_NoRoot(), [0.5 + 0.1j, 0.2 + 0.3j])
    err = info.value
    assert "residual" in str(err)
    assert err.residual.size == 2 and np.all(err.residual >= 1.0)  # |u|^2 + 1 >= 1
    # a real law asked for an unreachable tolerance also raises instead of returning silently
    with pytest.raises(ConvergenceError, match="residual"):
        WeightedCovarianceLaw(0.5, [1.0]).solve([1.0 + 0.1j], tol=1e-30)


def test_bad_points_raise():
    law = WeightedCovarianceLaw(0.5, [1.0])
    with pytest.raises(ValueError, match="Im z > 0"):
        law.stieltjes([1.0 + 0j])
    with pytest.raises(ValueError, match="finite"):
        law.stieltjes([complex(np.nan, 1.0)])
    with pytest.raises(ValueError, match="tol"):
        law.solve([1 + 1j], tol=-1.0)


def test_atom_sums_numba_path_matches_numpy_path():
    rng = np.random.default_rng(0)
    a = rng.standard_normal(300) + 1j * rng.random(300)
    b = 1.0 + 1j * rng.random(300)
    t = rng.random(200) + 0.1
    g = rng.random(200)
    big = atom_sums(a, b, t, g)  # 60_000 > threshold: Numba kernel
    inv = 1.0 / (a[:, None] * t[None, :] + b[:, None])
    ref = ((g * inv).sum(1), (g * t * inv**2).sum(1), (g * inv**2).sum(1))
    for s, r in zip(big, ref):
        # summation-order rounding: 200 terms, eps * 200 * max|term| / |sum| stays < 1e-12 here
        np.testing.assert_allclose(s, r, rtol=1e-12, atol=1e-12 * np.abs(r).max())


@pytest.mark.parametrize("c", [0.25, 4.0])
def test_density_extrapolation_error_estimate_is_honest(c):
    a, b = mp_edges(c)
    x = np.linspace(a, b, 203)[1:-1]
    law = WeightedCovarianceLaw(c, [1.0])
    rho, err = law.density(x, return_error=True)
    true_err = np.abs(rho - mp_density(x, c))
    # Richardson error after convergence is far below the estimate (estimate = last change);
    # the reduction acceptance target is 1e-8 in the bulk.
    assert true_err.max() <= 1e-8
    assert np.all(err <= 1e-8)


def test_scan_edges_without_exact_characterisation():
    c = 0.3
    law = WeightedCovarianceLaw(c, [1.0])
    law._exact_outer_edges = lambda: None  # force the generic scan + secant refinement
    e = law.edges()
    a, b = mp_edges(c)
    assert e.shape == (1, 2)
    # inside/outside threshold 1e-8/width on ρ ~ C sqrt(d), C ~ 0.3 => d < 1e-14; refinement
    # stops at a bracket of 1e-12 * scale (scale = b): allow 1e-11 * b.
    assert abs(e[0, 0] - a) <= 1e-11 * b and abs(e[0, 1] - b) <= 1e-11 * b


def test_cdf_against_quadrature_of_mp_density():
    for c in (0.2, 3.0):
        law = WeightedCovarianceLaw(c, [1.0])
        a, b = mp_edges(c)
        xs = np.array([a + 1e-6, a + 0.1 * (b - a), 0.5 * (a + b), b - 1e-3, b])
        atom = max(0.0, 1 - 1 / c)
        ref = np.array([atom + quad(mp_density, a, x, args=(c,), epsabs=1e-13, epsrel=1e-13)[0] for x in xs])
        # spectral cosine-series integration: mass converged to 1e-11 relative; quad to 1e-13
        np.testing.assert_allclose(law.cdf(xs), ref, atol=1e-9)
        assert law.cdf(0.5 * a) == pytest.approx(atom, abs=1e-15)  # the atom at 0 (c > 1) only
        assert law.cdf(-1.0) == 0.0
        assert law.cdf(b + 1.0) == pytest.approx(1.0, abs=1e-15)
        assert math.isnan(law.cdf(float("nan")))
        np.testing.assert_allclose(law.sf(xs), 1 - law.cdf(xs))
        assert law.mass_error() <= 1e-9


def test_pdf_domain_handling():
    law = WeightedCovarianceLaw(0.5, [1.0])
    out = law.pdf([np.nan, -1.0, 100.0, np.inf, -np.inf])
    # scipy's convention: NaN in, NaN out; no density at ±inf
    assert math.isnan(out[0]) and out[1] == 0.0 and out[2] == 0.0 and out[3] == 0.0 and out[4] == 0.0
    assert law.cdf(-np.inf) == 0.0 and law.cdf(np.inf) == 1.0 and law.sf(np.inf) == 0.0
    with pytest.raises(TypeError, match="x must be a real number"):
        law.pdf(None)
    one = law.pdf(1.0)  # a scalar in gives a scalar out, with the MP(0.5) density's value
    assert np.ndim(one) == 0 and one == pytest.approx(float(mp_density(1.0, 0.5)), abs=1e-8)  # bulk target 1e-8
    grid = law.pdf(np.ones((2, 3)))
    assert grid.shape == (2, 3) and np.all(grid == one)


def test_quadrature_moments_match_closed_form():
    law = WeightedCovarianceLaw(0.4, [0.5, 1.0, 2.0], [0.2, 0.5, 0.3])
    for k in range(1, 5):
        # spectral quadrature of a sqrt-edge density; the total mass converges to 1e-11
        assert law.moment(k, method="quadrature") == pytest.approx(law.moment(k), rel=1e-9)
    assert law.moment(0) == 1.0
    assert law.var() == pytest.approx(law.moment(2) - law.moment(1) ** 2)


def test_ratio_of_edges_conventions():
    assert WeightedCovarianceLaw(1.0, [1.0]).ratio_of_edges() == math.inf  # hard edge at 0
    c = 0.25
    a, b = mp_edges(c)
    assert WeightedCovarianceLaw(c, [1.0]).ratio_of_edges() == pytest.approx(b / a, rel=1e-12)


def test_generic_law_object_from_a_problem():
    # FixedPointLaw works from any FixedPointProblem: wrap the MP problem directly
    base = WeightedCovarianceLaw(0.5, [1.0])
    law = FixedPointLaw(base.problem, scan_points=64)
    a, b = mp_edges(0.5)
    np.testing.assert_allclose(law.support(), (a, b), atol=1e-10)
    with pytest.raises(ValueError, match="quadrature"):
        law.moment(2, method="exact")


def test_density_cost_is_bounded():
    """Performance proxy robust to machine load: residual evaluations per grid point.

    A 400-point density curve of the discounted law (3000 atoms) must cost few
    Newton evaluations per point; at ~10 ns per (point, atom) pair this is
    ~0.3 s on one core (see the report for measured timings).
    """
    law = discounted(100 / 3000, 0.99, 3000)
    lo, hi = law.support()
    x = np.linspace(lo, hi, 402)[1:-1]
    count = [0]
    orig = law.problem.residual

    def counting(m, z):
        count[0] += m.size
        return orig(m, z)

    law.problem.residual = counting
    _density_extrapolated(law.problem, x)
    assert count[0] / x.size <= 60
