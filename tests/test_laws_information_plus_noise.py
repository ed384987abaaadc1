"""Tests of the information-plus-noise law (Dozier & Silverstein 2007).

References: the R = 0 reduction to MP(scale = σ²) (docs/science.md §1); moments m1, m2
computed by hand with Wick's theorem (below); scaling invariance; and simulation
of (R + σX)(R + σX)ᵀ/n with R of rank p/2 (a low-rank R would converge to MP
and could not tell the solver apart).
"""

import math

import numpy as np
import pytest

from rmt_sparsity.laws import InformationPlusNoiseLaw
from rmt_sparsity.spectra import esd_distances


def mp_edges(c, s=1.0):
    return s * (1 - math.sqrt(c)) ** 2, s * (1 + math.sqrt(c)) ** 2


def mp_density(x, c, s=1.0):
    a, b = mp_edges(c, s)
    return np.sqrt(np.maximum((b - x) * (x - a), 0.0)) / (2 * math.pi * s * c * x)


def wasserstein1(eigs, law):
    """W1 = ∫ |F_emp - F_law| dx (rmt_sparsity.spectra.esd_distances)."""
    return esd_distances(eigs, law.cdf, law.support())[1]


@pytest.mark.parametrize("c", [0.3, 1.0, 2.5])
@pytest.mark.parametrize("s2", [0.5, 2.0])
def test_zero_signal_reduces_to_mp(c, s2):
    law = InformationPlusNoiseLaw(np.zeros(7), c, s2)
    a, b = mp_edges(c, s2)
    x = np.linspace(a, b, 203)[1:-1]
    # acceptance: MP(scale = σ²) to 1e-8 in density on the bulk
    np.testing.assert_allclose(law.pdf(x), mp_density(x, c, s2), rtol=0, atol=1e-8 / s2)
    lo, hi = law.support()
    # generic scan edges: secant bracket 1e-12·scale; hard edge at 0 (c = 1) resolved to 1e-9·scale
    assert hi == pytest.approx(b, rel=1e-10)
    assert lo == pytest.approx(a, abs=(1e-9 if c == 1.0 else 1e-10) * b)
    assert law.atoms() == ([(0.0, 1 - 1 / c)] if c > 1 else [])


def test_moments_hand_wick_and_series_and_solver():
    # R R^T/n has eigenvalues θ (half) and 0 (half): a_k = θ^k / 2
    theta, c, s2 = 3.0, 0.4, 0.7
    r = np.r_[np.full(20, theta), np.zeros(20)]
    law = InformationPlusNoiseLaw(r, c, s2)
    a1, a2 = theta / 2, theta**2 / 2
    # Wick: E tr[(P + M + Q)^2]/p with P = RR^T/n, Q = σ² XX^T/n, M = σ(RX^T + XR^T)/n
    #   = a2 + 2σ² a1 (tr PQ) + 2σ² c a1 (tr M², leading order) + σ⁴(1 + c)
    assert law.moment(1) == pytest.approx(a1 + s2, rel=1e-14)
    assert law.moment(2) == pytest.approx(a2 + 2 * s2 * (1 + c) * a1 + s2**2 * (1 + c), rel=1e-14)
    for k in range(1, 5):
        # series moments vs the solver's integrated density (mass converged to ~1e-11)
        assert law.moment(k, method="quadrature") == pytest.approx(law.moment(k), rel=1e-8)


def test_moments_reduce_to_narayana_when_r_is_zero():
    c, s2 = 0.6, 1.3
    law = InformationPlusNoiseLaw([0.0], c, s2)
    for k in range(1, 6):
        nar = sum(c**r / (r + 1) * math.comb(k, r) * math.comb(k - 1, r) for r in range(k))
        assert law.moment(k) == pytest.approx(s2**k * nar, rel=1e-13)


def test_scaling_invariance():
    # (R + σX) -> √λ (R + σX): r_eigs -> λ r_eigs, σ² -> λ σ², eigenvalues -> λ eigenvalues
    r = np.r_[np.full(5, 2.0), np.full(5, 0.5), np.zeros(10)]
    law = InformationPlusNoiseLaw(r, 0.5, 0.8)
    big = InformationPlusNoiseLaw(4.0 * r, 0.5, 3.2)
    np.testing.assert_allclose(big.support(), 4.0 * np.array(law.support()), rtol=1e-10)
    x = np.linspace(*law.support(), 9)[1:-1]
    np.testing.assert_allclose(big.pdf(4 * x), law.pdf(x) / 4, rtol=1e-8)


def test_small_and_large_noise_limits():
    r = np.r_[np.full(10, 9.0), np.full(10, 1.0)]
    c = 0.2
    # σ² -> 0: the law concentrates on the atoms of H, one cluster of mass 1/2 around each
    small = InformationPlusNoiseLaw(r, c, 1e-4)
    e = small.edges()
    assert e.shape == (2, 2)
    assert e[0, 0] < 1.0 < e[0, 1] < 9.0 and e[1, 0] < 9.0 < e[1, 1]
    # cluster half-widths are O(σ sqrt(t c)) ~ 0.03 around 9: generous 0.5
    assert e[1, 1] - e[1, 0] < 0.5
    assert small.cdf(0.5 * (e[0, 1] + e[1, 0])) == pytest.approx(0.5, abs=1e-9)
    # σ² -> ∞: law/σ² -> MP(c); the edges move by O(E t/σ²) = 5e-4 relative (×10 for the ratio's
    # sensitivity at c = 0.2, where λ_min ~ 0.3 λ_mean): tolerance 1e-2
    big = InformationPlusNoiseLaw(r, c, 1e4)
    a, b = mp_edges(c)
    assert big.ratio_of_edges() == pytest.approx(b / a, rel=1e-2)


@pytest.mark.parametrize(
    "r_eigs, ratio, noise_var, exc, match",
    [
        ([1.0], 0.0, 1.0, ValueError, "ratio"),
        ([1.0], -0.5, 1.0, ValueError, "ratio"),
        ([1.0], float("nan"), 1.0, ValueError, "ratio"),
        ([1.0], 0.5, -1.0, ValueError, "noise_var"),
        ([1.0], 0.5, 0.0, ValueError, "noise_var"),
        ([1.0], 0.5, float("inf"), ValueError, "noise_var"),
        ([1.0, -1.0], 0.5, 1.0, ValueError, "r_eigs must be >= 0"),
        ([1.0, np.nan], 0.5, 1.0, ValueError, "r_eigs must be finite"),
        ([], 0.5, 1.0, ValueError, "r_eigs must be non-empty"),
        ([[1.0]], 0.5, 1.0, ValueError, "r_eigs must be 1-D"),
        (["a"], 0.5, 1.0, TypeError, "r_eigs"),
    ],
)
def test_bad_input(r_eigs, ratio, noise_var, exc, match):
    with pytest.raises(exc, match=match):
        InformationPlusNoiseLaw(r_eigs, ratio, noise_var)


def _simulate(p, n, theta, s2, rng):
    """R = U diag(s) Vᵀ with s_i = sqrt(nθ) on half the directions: RRᵀ/n has θ (p/2 times) and 0."""
    U = np.linalg.qr(rng.standard_normal((p, p)))[0]
    V = np.linalg.qr(rng.standard_normal((n, p)))[0]
    s = np.zeros(p)
    s[: p // 2] = math.sqrt(n * theta)
    R = (U * s) @ V.T
    Y = R + math.sqrt(s2) * rng.standard_normal((p, n))
    return np.linalg.eigvalsh(Y @ Y.T / n)


def _check_against_simulation(n, seed, w1_tol, k_edge, n_draws):
    c, theta, s2 = 0.5, 4.0, 1.0
    p = int(c * n)
    law = InformationPlusNoiseLaw(np.r_[np.full(p // 2, theta), np.zeros(p - p // 2)], c, s2)
    e = law.edges()
    assert e.shape == (2, 2)  # signal and noise bulks separate at this signal level
    rng = np.random.default_rng(seed)
    for _ in range(n_draws):
        ev = _simulate(p, n, theta, s2, rng)
        assert wasserstein1(ev, law) <= w1_tol * law.mean()
        # edges: O(n^-2/3) fluctuation; band k_edge·n^(-2/3) relative (MP TW1 sd at this c is
        # ~0.8 n^(-2/3) relative at the top edge and ~2.6 n^(-2/3) at the bottom one)
        band = k_edge * n ** (-2 / 3)
        assert abs(ev.max() / e[-1, 1] - 1) <= band
        assert abs(ev.min() / e[0, 0] - 1) <= band
        # the gap between the two bulks: p/2 eigenvalues below it, p/2 above
        srt = np.sort(ev)
        assert srt[p // 2 - 1] < e[0, 1] * (1 + band) and srt[p // 2] > e[1, 0] * (1 - band)


def test_information_plus_noise_against_simulation_small():
    # n = 400, p = 200. W1 = O(1/n): 2 % at n = 2000 scales to 10 % at n = 400 (measured < 1 %).
    # Edge band 15 n^(-2/3) (= 0.28 relative here): ~6 TW sds at the bottom edge (measured 8 %).
    _check_against_simulation(400, seed=5, w1_tol=0.10, k_edge=15.0, n_draws=1)


@pytest.mark.slow
def test_information_plus_noise_against_simulation_n2000():
    # acceptance: n = 2000, W1 <= 2 % of the mean eigenvalue (measured 0.17 %)
    _check_against_simulation(2000, seed=6, w1_tol=0.02, k_edge=15.0, n_draws=2)


def test_equation_reduces_to_mp_symbolically_and_library_uses_it():
    import sympy as sp

    m, z, c, s2, t1 = sp.symbols("m z c s2 t1")
    s = 1 + s2 * c * m
    S0 = sp.Rational(1, 2) / (t1 / s - s * z + s2 * (1 - c)) + sp.Rational(1, 2) / (-s * z + s2 * (1 - c))
    F = 1 - S0 / m  # H = (δ_t1 + δ_0)/2
    # R = 0 (t1 = 0): m(-s z + σ²(1-c)) F = -(σ² c z m² + (z - σ²(1-c)) m + 1), MP(scale σ²)
    F0 = F.subs(t1, 0)
    lhs = sp.expand(sp.simplify(m * (-s * z + s2 * (1 - c)) * F0))
    assert sp.simplify(lhs + (s2 * c * z * m**2 + (z - s2 * (1 - c)) * m + 1)) == 0
    f = sp.lambdify((m, z, c, s2, t1), F)
    df = sp.lambdify((m, z, c, s2, t1), sp.diff(F, m))
    law = InformationPlusNoiseLaw([3.0, 0.0], 0.4, 0.7)
    mm = np.array([0.3 + 0.2j, -1.0 + 1.0j, 2.0 + 0.01j])
    zz = np.array([1.0 + 0.1j, 2.0 + 2.0j, 0.5 + 1e-4j])
    Fl, dFl = law.problem.residual(mm, zz)
    # a few dozen flops on O(1..10) numbers: 1e-13 relative
    np.testing.assert_allclose(Fl, f(mm, zz, 0.4, 0.7, 3.0), rtol=1e-13)
    np.testing.assert_allclose(dFl, df(mm, zz, 0.4, 0.7, 3.0), rtol=1e-13)
