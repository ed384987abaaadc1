"""Tests of free additive / multiplicative convolution by subordination.

References: semicircle ⊞ semicircle = semicircle; Bernoulli ⊞ Bernoulli = arcsine;
μ ⊠ δ₁ = μ; moments from the non-crossing-partition formulas written out by hand
for k <= 4 (Nica & Speicher, Lectures 11 and 14); and the companion identity
linking the weighted covariance law to MP ⊠ H (an independent solver path).
"""

import math

import numpy as np
import pytest

from rmt_sparsity.laws import (
    DiscreteMeasure,
    WeightedCovarianceLaw,
    free_additive_convolution,
    free_multiplicative_convolution,
)
from rmt_sparsity.laws.free_convolution import (
    free_cumulants_to_moments,
    moments_to_free_cumulants,
    multiplicative_moments,
)


class Semicircle:
    """Closed-form semicircle of variance v (test reference, not part of the library)."""

    def __init__(self, v, mean=0.0):
        self.v, self.mu = v, mean

    def stieltjes(self, z):
        z = np.asarray(z, complex) - self.mu
        R = 2 * math.sqrt(self.v)
        # m = (-z + sqrt(z-R) sqrt(z+R)) / (2v): the product of principal roots is the branch
        # with m ~ -1/z at infinity and Im m > 0 on the upper half-plane
        return (-z + np.sqrt(z - R) * np.sqrt(z + R)) / (2 * self.v)

    def support(self):
        R = 2 * math.sqrt(self.v)
        return (self.mu - R, self.mu + R)

    def pdf(self, x):
        R2 = 4 * self.v
        return np.sqrt(np.maximum(R2 - (np.asarray(x) - self.mu) ** 2, 0)) / (2 * math.pi * self.v)

    def mean(self):
        return self.mu

    def moment(self, k):
        kap = np.zeros(k)
        kap[0] = self.mu
        if k > 1:
            kap[1] = self.v
        return float(free_cumulants_to_moments(kap)[k])


class MPClosedForm:
    """Closed-form MP(ratio γ, scale s) as an analytic measure (atom 1 - 1/γ at 0 when γ > 1)."""

    def __init__(self, ratio, scale=1.0):
        self.ratio, self.s = ratio, scale

    def stieltjes(self, z):
        z = np.asarray(z, complex)
        g, s = self.ratio, self.s
        B = z - s * (1 - g)
        disc = np.sqrt(B * B - 4 * s * g * z + 0j)
        r1 = (-B + disc) / (2 * s * g * z)
        r2 = (-B - disc) / (2 * s * g * z)
        return np.where(r1.imag > 0, r1, r2)

    def support(self):
        g, s = self.ratio, self.s
        return (s * (1 - math.sqrt(g)) ** 2, s * (1 + math.sqrt(g)) ** 2)

    def mean(self):
        return self.s

    def moment(self, k):
        g = self.ratio
        return self.s**k * sum(g**r / (r + 1) * math.comb(k, r) * math.comb(k - 1, r) for r in range(k))


def test_semicircle_plus_semicircle_is_semicircle():
    law = free_additive_convolution(Semicircle(1.0, 0.5), Semicircle(2.0, -1.0))
    ref = Semicircle(3.0, -0.5)
    a, b = ref.support()
    x = np.linspace(a, b, 103)[1:-1]
    # finite-difference Jacobian (h = 1e-4 Im w) only slows Newton; the residual is exact: 1e-9
    np.testing.assert_allclose(law.pdf(x), ref.pdf(x), atol=1e-9)
    np.testing.assert_allclose(law.support(), (a, b), atol=1e-9 * (b - a))
    for k in range(1, 5):
        assert law.moment(k) == pytest.approx(ref.moment(k), rel=1e-13, abs=1e-13)


def test_bernoulli_plus_bernoulli_is_arcsine():
    law = free_additive_convolution([-1.0, 1.0], [-1.0, 1.0])
    x = np.linspace(-1.95, 1.95, 79)
    np.testing.assert_allclose(law.pdf(x), 1 / (math.pi * np.sqrt(4 - x**2)), rtol=1e-9)
    assert law.atoms() == []  # 1/2 + 1/2 is not > 1
    # moments of arcsine on [-2, 2]: C(2j, j)
    assert [law.moment(k) for k in (1, 2, 3, 4)] == [0.0, 2.0, 0.0, 6.0]


def test_additive_atoms_and_moments_by_free_cumulants():
    mu = DiscreteMeasure([0.0, 1.0, 3.0], [0.7, 0.2, 0.1])
    nu = DiscreteMeasure([-1.0, 2.0], [0.6, 0.4])
    law = free_additive_convolution(mu, nu)
    # Bercovici-Voiculescu: a + b carries μ({a}) + ν({b}) - 1 when positive
    assert law.atoms() == [(-1.0, pytest.approx(0.3)), (2.0, pytest.approx(0.1))]
    a = [mu.moment(k) for k in range(1, 5)]
    b = [nu.moment(k) for k in range(1, 5)]
    ka, kb = moments_to_free_cumulants(a), moments_to_free_cumulants(b)
    # hand formulas: κ1 = m1, κ2 = m2 - m1², κ3 = m3 - 3 m1 m2 + 2 m1³
    np.testing.assert_allclose(ka[:3], [a[0], a[1] - a[0] ** 2, a[2] - 3 * a[0] * a[1] + 2 * a[0] ** 3])
    k = ka + kb
    ref = [k[0], k[1] + k[0] ** 2, k[2] + 3 * k[0] * k[1] + k[0] ** 3,
           k[3] + 4 * k[0] * k[2] + 2 * k[1] ** 2 + 6 * k[0] ** 2 * k[1] + k[0] ** 4]  # fmt: skip
    for j in range(4):
        assert law.moment(j + 1) == pytest.approx(ref[j], rel=1e-12)
        # solver: density quadrature plus the exact atom; mass certificate ~1e-9
        assert law.moment(j + 1, method="quadrature") == pytest.approx(ref[j], rel=1e-7)
    assert law.mass_error() <= 1e-8
    assert law.cdf(-1.0) - law.cdf(-1.0 - 1e-9) == pytest.approx(0.3, abs=1e-6)
    assert law.cdf(2.0) - law.cdf(2.0 - 1e-9) == pytest.approx(0.1, abs=1e-6)


def _nc_product_moments(a, b):
    """φ((xy)^k), k = 1..4, for free x ~ a, y ~ b via κ_π[x]·φ_{K(π)}[y] over NC(k) (hand-coded)."""
    k1, k2, k3, k4 = moments_to_free_cumulants(a)
    b1, b2, b3, b4 = b
    return [
        k1 * b1,
        k1**2 * b2 + k2 * b1**2,
        k1**3 * b3 + 3 * k1 * k2 * b1 * b2 + k3 * b1**3,
        k1**4 * b4 + k2 * k1**2 * (4 * b1 * b3 + 2 * b2**2) + (2 * k2**2 + 4 * k3 * k1) * b2 * b1**2 + k4 * b1**4,
    ]


def test_multiplicative_moments_match_non_crossing_formulas():
    mu = DiscreteMeasure([0.5, 1.0, 4.0], [0.3, 0.5, 0.2])
    nu = DiscreteMeasure([1.0, 2.0, 3.0], [0.25, 0.35, 0.4])  # no pair of masses sums to >= 1
    a = [mu.moment(k) for k in range(1, 5)]
    b = [nu.moment(k) for k in range(1, 5)]
    ref = _nc_product_moments(a, b)
    np.testing.assert_allclose(multiplicative_moments(a, b), ref, rtol=1e-13)
    # symmetric in μ, ν
    np.testing.assert_allclose(_nc_product_moments(b, a), ref, rtol=1e-13)
    law = free_multiplicative_convolution(mu, nu)
    for k in range(1, 5):
        assert law.moment(k) == pytest.approx(ref[k - 1], rel=1e-12)
        assert law.moment(k, method="quadrature") == pytest.approx(ref[k - 1], rel=1e-7)


def test_multiplicative_with_delta_one_is_identity():
    for mu in (MPClosedForm(0.3), MPClosedForm(2.0, 1.5), WeightedCovarianceLaw(0.2, [0.5, 2.0])):
        law = free_multiplicative_convolution(mu, [1.0])
        lo, hi = mu.support()
        x = np.linspace(lo, hi, 43)[1:-1]
        ref = np.asarray(mu.stieltjes(x + 1e-9j)).imag / math.pi if not hasattr(mu, "pdf") else mu.pdf(x)
        # h_{δ1} ≡ 1 so ω1 = ζ exactly; the density is the input's, up to the extrapolation (1e-9)
        np.testing.assert_allclose(law.pdf(x), ref, atol=1e-8 * max(1.0, float(np.max(ref))))
        for k in (1, 2, 3):
            assert law.moment(k) == pytest.approx(mu.moment(k), rel=1e-12)


def test_weighted_covariance_equals_mp_boxtimes_h_companion():
    # (1/n) X W X^T (p x p) and its n x n companion W^{1/2} X^T X W^{1/2}/n share the non-zero
    # spectrum; the companion law is law(X^T X/n) ⊠ H = MP(1/c, scale c) ⊠ H, so
    #   m_p(z) = (m_n(z) + (1 - c)/z) / c.
    c = 0.3
    t, pr = np.array([0.5, 1.0, 2.0]), np.array([0.3, 0.4, 0.3])
    law = WeightedCovarianceLaw(c, t, pr)
    comp = free_multiplicative_convolution(MPClosedForm(1 / c, c), DiscreteMeasure(t, pr))
    z = np.array([0.5 + 0.3j, 1.0 + 0.05j, 2.0 + 0.01j, 4.0 + 0.2j])
    mp_ = law.stieltjes(z)
    mn = comp.stieltjes(z)
    # both solved to a 1e-12 residual with conditioning O(1..100) at these Im z: 1e-9
    np.testing.assert_allclose((mn + (1 - c) / z) / c, mp_, rtol=1e-9)
    lo, hi = law.support()
    x = np.linspace(lo, hi, 23)[1:-1]
    np.testing.assert_allclose(comp.pdf(x) / c, law.pdf(x), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("v1, v2", [(0.5, 0.5), (1.0, 3.0)])
def test_discretised_semicircles_converge(v1, v2):
    # Discrete quantile approximations (N atoms) of two semicircles: ⊞ regularises, and the
    # result converges to the semicircle of variance v1 + v2. Cauchy transforms of N-atom
    # quantile discretisations are O(1/N) accurate away from the axis; the free convolution
    # is a smooth (Lipschitz in Lévy distance) map, so the density differs by O(1/N) in the
    # bulk: tolerance 20/N (constant observed ~5).
    N = 400
    q = (np.arange(N) + 0.5) / N

    def quantiles(v):
        # inverse semicircle cdf by bisection on the closed form F(x) = 1/2 + (x√(R²-x²)/R² + asin(x/R))/π
        R = 2 * math.sqrt(v)
        lo, hi = -R * np.ones(N), R * np.ones(N)
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            F = 0.5 + (mid * np.sqrt(R * R - mid * mid) / (R * R) + np.arcsin(mid / R)) / math.pi
            lo, hi = np.where(F < q, mid, lo), np.where(F < q, hi, mid)
        return 0.5 * (lo + hi)

    law = free_additive_convolution(quantiles(v1), quantiles(v2))
    ref = Semicircle(v1 + v2)
    R = 2 * math.sqrt(v1 + v2)
    x = np.linspace(-0.9 * R, 0.9 * R, 31)
    np.testing.assert_allclose(law.pdf(x), ref.pdf(x), atol=20 / N * float(ref.pdf(0.0)))


def test_bad_input():
    with pytest.raises(ValueError, match=r"\[0, inf\)"):
        free_multiplicative_convolution([-1.0, 1.0], [1.0])
    with pytest.raises(ValueError, match="delta_0"):
        free_multiplicative_convolution([0.0], [1.0])
    with pytest.raises(ValueError, match="finite"):
        free_additive_convolution([1.0, np.nan], [1.0])
    with pytest.raises(ValueError, match="weights"):
        free_additive_convolution(([1.0, 2.0], [1.0, -1.0]), [1.0])
    with pytest.raises(TypeError, match="nu must be"):
        free_additive_convolution([1.0], object())
    with pytest.raises(ValueError, match="same length"):
        multiplicative_moments([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="method"):
        free_additive_convolution([1.0, 2.0], [0.0, 1.0]).moment(2, method="nope")


def test_constructor_arguments_are_validated():
    from rmt_sparsity.laws import FixedPointLaw, FreeConvolutionLaw, free_additive_convolution

    law = free_additive_convolution([0.0, 1.0], [0.0, 2.0])
    with pytest.raises(ValueError, match="kind must be one of 'additive', 'multiplicative'; got 'bogus'"):
        FreeConvolutionLaw(law.problem, "bogus")
    with pytest.raises(TypeError, match="problem must be the multiplicative subordination problem"):
        FreeConvolutionLaw(law.problem, "multiplicative")
    with pytest.raises(TypeError, match="problem must be a FixedPointProblem; got int"):
        FixedPointLaw(1)
    with pytest.raises(ValueError, match=r"scan_points = 2\*\*64 needs about"):
        FixedPointLaw(law.problem, scan_points=2**64)
    with pytest.raises(ValueError, match="k must be an integer <= 100"):
        law.moment(101)
