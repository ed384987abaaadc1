"""Tests of the Marchenko-Pastur law: accuracy, identities, sampling, scipy battery.

Conventions: eps = 2**-52. kappa = max(a/|x-a|, b/|x-b|) is the conditioning of
the float input x next to a bulk edge (the relative change of x - edge caused by
a one-ulp change of x or of the edge).
"""

from __future__ import annotations

import csv
import math
import pathlib
import pickle

import numpy as np
import pytest
import scipy.integrate as si
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from rmt_sparsity.laws import MarchenkoPastur, marchenko_pastur

EPS = np.finfo(float).eps
REF = pathlib.Path(__file__).resolve().parents[1] / "data" / "mp_reference.csv"
ATOM_RATIOS = [0.5, 1.0, 2.0, 10.0]


def _load_reference():
    with REF.open() as fh:
        rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    return rows


ROWS = _load_reference()


def _kappa(x, a, b):
    with np.errstate(divide="ignore"):
        ka = a / abs(x - a) if a > 0 else 0.0
        kb = b / abs(x - b)
    return max(ka, kb)


# ---------------------------------------------------------------------------------------
# accuracy against the mpmath quadrature table
# ---------------------------------------------------------------------------------------
def test_reference_table_covers_the_ratio_grid():
    ratios = {float(r["ratio"]) for r in ROWS}
    assert ratios == {1e-3, 0.1, 0.5, 1.0, 2.0, 10.0}
    regions = {r["region"] for r in ROWS}
    assert {"bulk", "lower", "upper", "outside"} <= regions
    # every stored x round-trips exactly between its hex and repr forms
    assert all(float.fromhex(r["x_hex"]) == float(r["x"]) for r in ROWS)


@pytest.mark.parametrize("fn", ["pdf", "cdf", "sf"])
def test_accuracy_vs_reference(fn):
    """Relative error <= 1e-12 + 8 eps kappa (the required accuracy), and the achieved <= 16 eps.

    The required bound allows 8 eps * kappa for the unavoidable conditioning of a
    float x next to an edge. The implementation holds the edges in double-double,
    so x - a and b - x carry about 1 ulp whatever kappa; the remaining budget is
    ~1 ulp (offset) + 1.5 (u**1.5) + ~3 (24-term positive quadrature sum) + ~3
    (prefactor and arctan closed form), i.e. <= ~10 ulp; asserted: 16 eps.
    """
    worst = 0.0
    for r in ROWS:
        c, s = float(r["ratio"]), float(r["scale"])
        x = float.fromhex(r["x_hex"])
        ref = float(r[fn])
        law = MarchenkoPastur(c, s)
        val = float(getattr(law, fn)(x))
        if ref == 0.0 or ref == 1.0 or math.isinf(ref):
            # outside the bulk: exact values (0, 1, the atom or +inf at the hard edge)
            assert val == ref or abs(val - ref) <= EPS * ref, (fn, r, val)
            continue
        if ref < 1e-300:
            continue
        a, b = law.edges
        kappa = _kappa(x, a, b)
        rel = abs(val - ref) / ref
        assert rel <= 1e-12 + 8 * EPS * kappa, (fn, r, val, rel, kappa)
        assert rel <= 16 * EPS, (fn, r, val, rel / EPS, kappa)
        worst = max(worst, rel)
    assert worst > 0  # the table was actually compared


def test_atom_values_in_reference():
    """For ratio > 1 the reference cdf includes the atom: cdf(0) = 1 - 1/ratio."""
    for r in ROWS:
        c, x = float(r["ratio"]), float(r["x"])
        if c > 1 and x == 0.0:
            assert float(r["cdf"]) == pytest.approx(1 - 1 / c, rel=EPS)
            assert float(MarchenkoPastur(c).cdf(0.0)) == pytest.approx(1 - 1 / c, rel=EPS)


# ---------------------------------------------------------------------------------------
# round trips
# ---------------------------------------------------------------------------------------
def _grid(law, k=400):
    a, b = law.edges
    w = b - a
    offs = np.logspace(-15, -1, 57)
    xs = np.concatenate([np.linspace(a, b, k)[1:-1], a + w * offs, b - w * offs])
    if a == 0:
        xs = np.concatenate([xs, law.scale * np.logspace(-300, -16, 30)])
    return xs[(xs > a) & (xs < b)]


@pytest.mark.parametrize("ratio", [1e-4, 1e-3, 0.1, 0.5, 0.9, 1.0, 1.1, 2.0, 10.0, 1e4])
@pytest.mark.parametrize("scale", [1.0, 1e-6, 3e5])
def test_round_trips(ratio, scale):
    """ppf(cdf(x)) = x where cdf <= 1/2 and isf(sf(x)) = x where sf <= 1/2, to 1e-12.

    Tolerance: 1e-12 relative (the required accuracy), plus the conditioning of the question
    itself: the stored probability q carries <= 2 ulp (the atom added to a tiny
    continuous part for ratio > 1 rounds it to ulp(atom)), which the exact
    inverse maps to |dx| = 2 eps q / pdf(x). For ratio <= 1 that term is
    <= 2 eps x * (2/3 or 2 at the hard edge), below the 1e-12.
    """
    law = MarchenkoPastur(ratio, scale)
    xs = _grid(law)
    F, S, f = law.cdf(xs), law.sf(xs), law.pdf(xs)
    # (for ratio > 1, points whose continuous part is below the rounding of the atom,
    # F - atom <= 4 eps F, have cdf == atom to working precision: ppf returns 0 there.)
    m = (F <= 0.5) & (F - law.atom > 4 * EPS * F)
    if m.any():
        err = np.abs(law.ppf(F[m]) - xs[m])
        assert np.all(err <= 1e-12 * xs[m] + 2 * EPS * F[m] / f[m])
    m = (S <= 0.5) & ((1 - law.atom) - S > 4 * EPS * S)  # same for sf == continuous mass
    err = np.abs(law.isf(S[m]) - xs[m])
    assert np.all(err <= 1e-12 * xs[m] + 2 * EPS * S[m] / f[m])
    if ratio <= 1:  # no atom: the full 1e-12 without a conditioning term
        m = F <= 0.5
        assert np.all(np.abs(law.ppf(F[m]) - xs[m]) <= 1e-12 * xs[m])


@pytest.mark.parametrize("ratio", ATOM_RATIOS)
def test_quantile_ends_and_atom(ratio):
    law = MarchenkoPastur(ratio, 2.0)
    a, b = law.edges
    assert law.ppf(1.0) == b and law.isf(0.0) == b
    assert law.ppf(0.0) == law.support()[0]
    assert np.isnan(law.ppf(-0.1)) and np.isnan(law.ppf(1.1)) and np.isnan(law.isf(np.nan))
    if ratio > 1:
        atom = 1 - 1 / ratio
        q = np.array([0.0, atom / 3, atom])
        assert np.all(law.ppf(q) == 0.0)
        assert law.ppf(atom + 1e-3) > a
        assert law.isf(1 / ratio) == 0.0
    else:
        assert law.ppf(1e-9) > a


# ---------------------------------------------------------------------------------------
# identities
# ---------------------------------------------------------------------------------------
def _theta_quad(law, g, t0=0.0, t1=math.pi / 2, epsrel=1e-13):
    """Integrate g(x) p(x) dx with x = a + (b-a) sin^2(theta), theta in [t0, t1].

    The substitution removes the square-root edge singularities (and the 1/sqrt(x)
    hard edge at ratio 1), so quad's error estimate is reliable.
    """
    a, b = law.edges
    w = b - a

    def integrand(t):
        x = a + w * math.sin(t) ** 2
        dx = 2 * w * math.sin(t) * math.cos(t)
        return g(x) * float(law.pdf(x)) * dx if dx > 0 else 0.0

    return si.quad(integrand, t0, t1, epsabs=0.0, epsrel=epsrel, limit=200)


@pytest.mark.parametrize("ratio", [0.1, 0.5, 1.0, 2.0, 10.0])
def test_cdf_is_integral_of_pdf(ratio):
    """cdf(x2) - cdf(x1) = int_{x1}^{x2} pdf, with x in the bulk and at the edges.

    Tolerance: quad's error estimate (epsrel 1e-13, smooth theta-integrand) plus
    the cdf's own <= 16 eps per value (see test_accuracy_vs_reference) and the
    mismatch between x and x(theta(x)) (<= ~4 roundings of x: 8 eps x pdf each).
    """
    law = MarchenkoPastur(ratio, 1.7)
    a, b = law.edges
    pts = a + (b - a) * np.array([0.0, 1e-6, 0.01, 0.2, 0.5, 0.77, 0.99, 1.0])
    th = np.arcsin(np.sqrt((pts - a) / (b - a)))
    for i, (x1, x2) in enumerate(zip(pts[:-1], pts[1:])):
        val, err = _theta_quad(law, lambda x: 1.0, th[i], th[i + 1])
        diff = float(law.cdf(x2) - law.cdf(x1))
        tol = 2 * err + 16 * EPS * (float(law.cdf(x2)) + float(law.cdf(x1)))
        tol += 8 * EPS * sum(x * float(law.pdf(x)) for x in (x1, x2) if x > 0)
        assert abs(diff - val) <= tol


@pytest.mark.parametrize("ratio", [0.1, 0.5, 1.0, 3.0])
def test_pdf_is_derivative_of_cdf(ratio):
    """pdf = d cdf/dx by 4th-order central differences, with an a-posteriori error bound.

    D(h) = [F(x-2h) - 8F(x-h) + 8F(x+h) - F(x+2h)]/(12h) has truncation O(h^4):
    |D(h/2) - f| <= |D(h) - D(h/2)|/15 (Richardson; asserted with a factor 4
    margin) plus rounding 18 * 16 eps * F / (12 h/2) (cdf error 16 eps each).
    """
    law = MarchenkoPastur(ratio)
    a, b = law.edges
    w = b - a
    xs = a + w * np.array([0.05, 0.2, 0.4, 0.6, 0.8, 0.95])
    h = 1e-3 * w

    def D(h):
        return (law.cdf(xs - 2 * h) - 8 * law.cdf(xs - h) + 8 * law.cdf(xs + h) - law.cdf(xs + 2 * h)) / (12 * h)

    d1, d2 = D(h), D(h / 2)
    trunc = np.abs(d1 - d2) / 15
    rnd = 18 * 16 * EPS * law.cdf(xs + h) / (12 * h / 2)
    assert np.all(np.abs(d2 - law.pdf(xs)) <= 4 * trunc + rnd + 64 * EPS * law.pdf(xs))


@pytest.mark.parametrize("ratio", [1e-3, 0.5, 1.0, 2.0, 10.0])
@pytest.mark.parametrize("k", range(0, 7))
def test_moments_vs_quadrature(ratio, k):
    """Narayana moments = quadrature of x^k over the law (atom contributes 0^k, i.e. 1 at k=0).

    Tolerance: 2x quad's error estimate + 16 eps (pdf accuracy) + k*eps (Narayana sum).
    """
    scale = 1.3
    law = MarchenkoPastur(ratio, scale)
    val, err = _theta_quad(law, lambda x: x**k)
    if k == 0:
        val += law.atom
    m = law.moment(k)
    assert abs(val - m) <= 2 * err + (16 + k + 1) * EPS * m


@pytest.mark.parametrize("ratio", [0.3, 1.0, 4.0])
def test_mean_var_and_nonzero_law(ratio):
    s = 2.5
    law = MarchenkoPastur(ratio, s)
    assert law.mean() == pytest.approx(s, rel=2 * EPS)
    assert law.var() == pytest.approx(ratio * s**2, rel=2 * EPS)
    assert law.moment(2) - law.moment(1) ** 2 == pytest.approx(law.var(), rel=8 * EPS)
    nz = MarchenkoPastur(ratio, s, nonzero=True)
    c = max(ratio, 1.0)
    assert nz.mean() == pytest.approx(c * s, rel=2 * EPS)
    assert nz.moment(2) - nz.mean() ** 2 == pytest.approx(nz.var(), rel=8 * EPS)
    assert nz.atom == 0.0 and nz.support() == law.edges
    assert float(nz.cdf(law.edges[1])) == 1.0
    xs = np.linspace(*law.edges, 9)[1:-1]
    np.testing.assert_allclose(nz.pdf(xs), c * law.pdf(xs), rtol=2 * EPS)
    np.testing.assert_allclose(nz.sf(xs), c * law.sf(xs), rtol=4 * EPS)


ZS = [3.0 + 0.5j, 1.0 + 0.1j, 1.0 - 0.1j, -2.0 + 0j, -0.5 + 1e-3j, 0.02 + 0j, 12.0 + 0j, -1e3 + 5j, 1e5j]


@pytest.mark.parametrize("ratio", [0.25, 1.0, 2.0, 10.0])
@pytest.mark.parametrize("z", ZS)
def test_stieltjes_vs_integration(ratio, z):
    """m(z) = int dmu(x)/(x - z) (atom included), checked off the support, both half planes.

    The reference integrates the smooth theta-integrand (quad error estimate);
    the closed form's rounding is ~eps * |z|/dist(z, support) <= ~1e4 eps for
    these z: tolerance 2 * err + 1e-12 |m|.
    """
    s = 0.8
    law = MarchenkoPastur(ratio, s)
    a, b = law.edges
    if a <= z.real <= b and abs(z.imag) < 0.05:
        pytest.skip("on the support")
    if z == 0.02 + 0j and ratio > 1:
        z = 0.02 + 0.01j  # the atom at 0: stay off the pole
    re, e1 = _theta_quad(law, lambda x: ((1 / (x - z)).real), epsrel=1e-12)
    im, e2 = _theta_quad(law, lambda x: ((1 / (x - z)).imag), epsrel=1e-12)
    ref = complex(re, im) - law.atom / z
    m = complex(law.stieltjes(z))
    assert abs(m - ref) <= 2 * (e1 + e2) + 1e-12 * abs(ref)
    if z.imag > 0:
        assert m.imag > 0
    # Schwarz reflection, and the real axis off the support gives a real value
    assert complex(law.stieltjes(z.conjugate())) == pytest.approx(m.conjugate(), rel=4 * EPS)
    if z.imag == 0:
        assert m.imag == 0


def test_stieltjes_asymptotics_and_quadratic():
    law = MarchenkoPastur(0.5, 2.0)
    z = np.array([1e8 + 1j, -1e8, 3e7j])
    np.testing.assert_allclose(law.stieltjes(z), -1 / z, rtol=1e-7)  # m ~ -1/z - mean/z^2
    # on a grid of the upper half plane: Im m > 0 and the defining quadratic holds
    zz = (np.linspace(-3, 9, 41)[:, None] + 1j * np.logspace(-6, 2, 17)[None, :]).ravel()
    for c in [0.1, 1.0, 3.0]:
        for s in [1.0, 2.0]:
            m = MarchenkoPastur(c, s).stieltjes(zz)
            assert np.all(m.imag > 0)
            resid = c * s * zz * m**2 + (zz - s * (1 - c)) * m + 1
            scale_ = np.abs(c * s * zz * m**2) + np.abs((zz - s * (1 - c)) * m) + 1
            assert np.all(np.abs(resid) <= 64 * EPS * scale_)  # backward error of a quadratic root


@pytest.mark.parametrize("ratio", ATOM_RATIOS)
def test_total_mass_with_atom(ratio):
    """atom + int pdf = 1; pdf alone integrates to min(1, 1/ratio) (tolerance: quad estimate + 16 eps)."""
    law = MarchenkoPastur(ratio, 0.7)
    mass, err = _theta_quad(law, lambda x: 1.0)
    assert abs(mass - min(1.0, 1.0 / ratio)) <= 2 * err + 16 * EPS
    assert abs(law.atom + mass - 1.0) <= 2 * err + 16 * EPS
    assert law.atom == (1 - 1 / ratio if ratio > 1 else 0.0)
    assert float(law.cdf(0.0)) == law.atom
    assert float(law.cdf(-1e-300)) == 0.0 and float(law.sf(-1e-300)) == 1.0
    assert float(law.cdf(law.edges[1])) == 1.0
    # mean with the atom: E X = scale (the atom pulls the mean down from ratio*scale)
    m1, err1 = _theta_quad(law, lambda x: x)
    assert abs(m1 - law.mean()) <= 2 * err1 + 16 * EPS * law.mean()


def test_hard_edge_ratio_one():
    """ratio = 1: the density diverges at 0; nothing is NaN."""
    law = MarchenkoPastur(1.0)
    assert law.support() == (0.0, 4.0)
    x = np.array([0.0, 5e-324, 1e-300, 1e-10, 1.0, 3.999999, 4.0])
    for fn in ("pdf", "logpdf", "cdf", "sf", "logcdf", "logsf"):
        assert not np.any(np.isnan(getattr(law, fn)(x))), fn
    assert law.pdf(0.0) == np.inf
    # F(x) ~ (2/pi) * 2 sqrt(x/4) = (2/pi) sqrt(x) as x -> 0 (relative correction O(x))
    assert float(law.cdf(1e-300)) == pytest.approx(2 / math.pi * 1e-150, rel=4 * EPS)
    r = law.rvs(10_000, rng=1)
    assert not np.any(np.isnan(r)) and r.min() >= 0.0 and r.max() <= 4.0


# ---------------------------------------------------------------------------------------
# arguments
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_constructor_rejects_bad_parameters(bad):
    with pytest.raises(ValueError, match="ratio"):
        MarchenkoPastur(bad)
    with pytest.raises(ValueError, match="scale"):
        MarchenkoPastur(0.5, bad)
    with pytest.raises(TypeError, match="ratio"):
        MarchenkoPastur("0.5")


def test_nan_input_gives_nan():
    law = MarchenkoPastur(2.0)
    for fn in ("pdf", "logpdf", "cdf", "sf", "logcdf", "logsf", "ppf", "isf"):
        out = getattr(law, fn)(np.array([np.nan, 1.0]))
        assert np.isnan(out[0]) and not np.isnan(out[1]), fn
    assert np.isnan(law.stieltjes(np.nan))


def test_log_functions_consistent():
    """logpdf/logcdf/logsf vs log of pdf/cdf/sf, with the tails computed without underflow."""
    law = MarchenkoPastur(0.5, 3.0)
    xs = _grid(law, 60)
    np.testing.assert_allclose(law.logpdf(xs), np.log(law.pdf(xs)), rtol=0, atol=64 * EPS)
    np.testing.assert_allclose(law.logcdf(xs), np.log(law.cdf(xs)), rtol=0, atol=4 * EPS / 0.5)
    np.testing.assert_allclose(law.logsf(xs), np.log(law.sf(xs)), rtol=0, atol=4 * EPS / 0.5)
    assert law.logpdf(-1.0) == -np.inf and law.logcdf(-1.0) == -np.inf and law.logsf(100.0) == -np.inf


# ---------------------------------------------------------------------------------------
# sampling
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("ratio", [0.5, 1.0])
def test_rvs_ks(ratio):
    """KS against the law (alpha = 1e-3 at a fixed seed), and power against a 10 % wrong ratio."""
    law = MarchenkoPastur(ratio, 1.5)
    x = law.rvs(20_000, rng=20240601)
    assert stats.kstest(x, law.cdf).pvalue > 1e-3
    assert stats.kstest(x, MarchenkoPastur(ratio * 1.1, 1.5).cdf).pvalue < 1e-3


def test_rvs_atom_binomial_and_nonzero_ks():
    """ratio 4: #zeros ~ Binomial(n, 3/4); non-zero draws ~ the normalised continuous part."""
    law = MarchenkoPastur(4.0)
    n = 20_000
    x = law.rvs(n, rng=7)
    k = int((x == 0).sum())
    assert stats.binomtest(k, n, law.atom).pvalue > 1e-3
    nz = x[x > 0]
    assert stats.kstest(nz, MarchenkoPastur(4.0, nonzero=True).cdf).pvalue > 1e-3
    assert np.all(nz >= law.edges[0]) and np.all(nz <= law.edges[1])


def test_rvs_seeding():
    law = MarchenkoPastur(0.3)
    assert np.array_equal(law.rvs(50, rng=123), law.rvs(50, rng=123))
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    assert np.array_equal(law.rvs((3, 4), rng=g1), law.rvs((3, 4), rng=g2))
    assert not np.array_equal(law.rvs(5, rng=g1), law.rvs(5, rng=np.random.default_rng(5)))  # g1 advanced
    assert np.ndim(law.rvs(rng=0)) == 0
    with pytest.raises(TypeError):
        law.rvs(3, rng=np.random.RandomState(0))


# ---------------------------------------------------------------------------------------
# hypothesis
# ---------------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(
    log_ratio=st.floats(-4, 4),
    log_scale=st.floats(-6, 6),
    t=st.lists(st.floats(-0.2, 1.2), min_size=2, max_size=20),
)
def test_hypothesis_cdf_properties(log_ratio, log_scale, t):
    ratio, scale = 10.0**log_ratio, 10.0**log_scale
    law = MarchenkoPastur(ratio, scale)
    lo, hi = law.support()
    x = np.sort(lo + (hi - lo) * np.asarray(t))
    F, S = law.cdf(x), law.sf(x)
    assert np.all((F >= 0) & (F <= 1) & (S >= 0) & (S <= 1))
    assert np.all(np.abs(F + S - 1) <= 4 * EPS)
    # monotone up to the cdf's own relative accuracy (16 eps, test_accuracy_vs_reference):
    assert np.all(np.diff(F) >= -16 * EPS * F[1:])
    assert np.all(np.diff(S) <= 16 * EPS * S[:-1])
    # the support scales with scale (edges computed to ~1 ulp each)
    lo1, hi1 = MarchenkoPastur(ratio).support()
    assert hi == pytest.approx(scale * hi1, rel=4 * EPS)
    assert lo == pytest.approx(scale * lo1, rel=4 * EPS, abs=0)


# ---------------------------------------------------------------------------------------
# scipy battery (adapted from scipy/stats/tests/common_tests.py)
# ---------------------------------------------------------------------------------------
SCIPY_RATIOS = [0.1, 0.5, 1.0]


@pytest.mark.parametrize("ratio", SCIPY_RATIOS)
def test_scipy_cdf_ppf_sf_isf(ratio):
    # check_cdf_ppf / check_sf_isf: round trips at 0.001, 0.5, 0.999 (scipy uses 7 decimals)
    q = np.array([0.001, 0.5, 0.999])
    np.testing.assert_allclose(marchenko_pastur.cdf(marchenko_pastur.ppf(q, ratio), ratio), q, rtol=1e-13)
    np.testing.assert_allclose(marchenko_pastur.sf(marchenko_pastur.isf(q, ratio), ratio), q, rtol=1e-13)
    np.testing.assert_allclose(marchenko_pastur.isf(q, ratio), marchenko_pastur.ppf(1 - q, ratio), rtol=1e-12)


@pytest.mark.parametrize("ratio", SCIPY_RATIOS)
def test_scipy_pdf_and_logs(ratio):
    d = marchenko_pastur
    # check_pdf: pdf at the median vs the cdf's central difference (scipy: eps 1e-6, 6 decimals)
    med = d.ppf(0.5, ratio)
    h = 1e-6
    npdf = (d.cdf(med + h, ratio) - d.cdf(med - h, ratio)) / (2 * h)
    assert d.pdf(med, ratio) == pytest.approx(npdf, abs=1e-6)
    # check_pdf_logpdf, check_cdf_logcdf, check_sf_logsf on the scipy grid of quantiles
    x = d.ppf([0.01, 0.2, 0.5, 0.8, 0.99], ratio)
    np.testing.assert_allclose(d.logpdf(x, ratio), np.log(d.pdf(x, ratio)), rtol=1e-13)
    np.testing.assert_allclose(d.logcdf(x, ratio), np.log(d.cdf(x, ratio)), rtol=1e-13)
    np.testing.assert_allclose(d.logsf(x, ratio), np.log(d.sf(x, ratio)), rtol=1e-13)
    # same numerical core as the law object
    law = MarchenkoPastur(ratio, 2.0)
    xs = np.linspace(0, 9, 37)
    np.testing.assert_array_equal(d.cdf(xs / 2.0, ratio), law.cdf(xs))


@pytest.mark.parametrize("ratio", SCIPY_RATIOS)
def test_scipy_normalization_and_moments(ratio):
    d = marchenko_pastur
    # check_normalization (expect of 1 by quad) and check_moments vs expect() quadrature
    assert d.expect(lambda x: 1.0, args=(ratio,)) == pytest.approx(1.0, abs=1e-7)
    m, v, s, k = d.stats(ratio, moments="mvsk")
    assert m == pytest.approx(d.expect(lambda x: x, args=(ratio,)), rel=1e-7)
    assert v == pytest.approx(d.expect(lambda x: (x - m) ** 2, args=(ratio,)), rel=1e-7)
    assert s == pytest.approx(d.expect(lambda x: (x - m) ** 3, args=(ratio,)) / v**1.5, rel=1e-7)
    assert k == pytest.approx(d.expect(lambda x: (x - m) ** 4, args=(ratio,)) / v**2 - 3, abs=1e-7)
    # _munp is the Narayana polynomial (checked against quadrature up to k = 6 above)
    for n in range(1, 5):
        assert d.moment(n, ratio) == pytest.approx(MarchenkoPastur(ratio).moment(n), rel=4 * EPS)
    assert d.mean(ratio, scale=3.0) == pytest.approx(3.0, rel=2 * EPS)
    assert d.var(ratio, scale=3.0) == pytest.approx(9.0 * ratio, rel=4 * EPS)


@pytest.mark.parametrize("ratio", SCIPY_RATIOS)
def test_scipy_rvs_random_state_pickle_freeze(ratio):
    d = marchenko_pastur
    x = d.rvs(ratio, size=5000, random_state=1)
    assert stats.kstest(x, d.cdf, args=(ratio,)).pvalue > 1e-3  # alpha 1e-3 (scipy uses 0.01)
    # random_state handling: int, RandomState and Generator all reproducible
    assert np.array_equal(d.rvs(ratio, size=7, random_state=3), d.rvs(ratio, size=7, random_state=3))
    r1 = d.rvs(ratio, size=7, random_state=np.random.RandomState(4))
    assert np.array_equal(r1, d.rvs(ratio, size=7, random_state=np.random.RandomState(4)))
    g1 = d.rvs(ratio, size=7, random_state=np.random.default_rng(4))
    assert np.array_equal(g1, d.rvs(ratio, size=7, random_state=np.random.default_rng(4)))
    # pickling the generator and a frozen distribution
    d2 = pickle.loads(pickle.dumps(d))
    assert d2.cdf(1.0, ratio) == d.cdf(1.0, ratio)
    fr = d(ratio, scale=2.0)
    fr2 = pickle.loads(pickle.dumps(fr))
    assert fr2.cdf(1.3) == fr.cdf(1.3) == d.cdf(1.3, ratio, scale=2.0)
    assert fr.support() == (2.0 * (1 - math.sqrt(ratio)) ** 2, 2.0 * (1 + math.sqrt(ratio)) ** 2) or np.allclose(
        fr.support(), (2.0 * (1 - math.sqrt(ratio)) ** 2, 2.0 * (1 + math.sqrt(ratio)) ** 2), rtol=2 * EPS
    )
    assert fr.mean() == pytest.approx(2.0, rel=2 * EPS)


def test_scipy_domain_gives_nan():
    d = marchenko_pastur
    for bad in [0.0, -0.5, 1.5, np.nan]:
        assert np.isnan(d.cdf(1.0, bad)) and np.isnan(d.pdf(1.0, bad)) and np.isnan(d.ppf(0.5, bad))
    assert np.isnan(d.cdf(1.0, 0.5, scale=-1.0))
    assert d.pdf(100.0, 0.5) == 0.0 and d.cdf(100.0, 0.5) == 1.0


def test_scipy_make_distribution():
    MP = stats.make_distribution(marchenko_pastur)
    X = MP(ratio=0.5)
    xs = np.array([0.2, 1.0, 2.5])
    np.testing.assert_array_equal(X.cdf(xs), marchenko_pastur.cdf(xs, 0.5))
    np.testing.assert_array_equal(X.pdf(xs), marchenko_pastur.pdf(xs, 0.5))
    assert X.mean() == pytest.approx(1.0, rel=2 * EPS)
    assert X.variance() == pytest.approx(0.5, rel=2 * EPS)
    assert X.support() == pytest.approx(((1 - math.sqrt(0.5)) ** 2, (1 + math.sqrt(0.5)) ** 2), rel=2 * EPS)
    assert X.icdf(0.3) == pytest.approx(marchenko_pastur.ppf(0.3, 0.5), rel=2 * EPS)
    s1 = X.sample(100, rng=np.random.default_rng(0))
    s2 = X.sample(100, rng=np.random.default_rng(0))
    assert np.array_equal(s1, s2) and np.all((s1 >= X.support()[0]) & (s1 <= X.support()[1]))
    Y = MP(ratio=1.0)
    assert Y.cdf(1e-12) > 0 and not np.isnan(Y.cdf(1e-12))


@pytest.mark.parametrize("ratio", [0.25, 1.0, 4.0])
@pytest.mark.parametrize("nonzero", [False, True])
def test_infinite_arguments_give_scipy_limits(ratio, nonzero):
    """±inf are valid arguments: the limits scipy's rv_continuous gives (no NaN from inf - inf)."""
    mp = MarchenkoPastur(ratio, 2.0, nonzero=nonzero)
    x = np.array([-np.inf, np.inf])
    assert mp.cdf(x).tolist() == [0.0, 1.0] and mp.sf(x).tolist() == [1.0, 0.0]
    assert mp.pdf(x).tolist() == [0.0, 0.0] and mp.logpdf(x).tolist() == [-np.inf, -np.inf]
    assert mp.logcdf(x).tolist() == [-np.inf, 0.0] and mp.logsf(x).tolist() == [0.0, -np.inf]
    assert np.isnan(mp.cdf(np.nan)) and np.isnan(mp.ppf(1.5)) and np.isnan(mp.isf(-0.5))
    if ratio <= 1:  # the same limits as the scipy instance
        assert marchenko_pastur.cdf(x, ratio, scale=2.0).tolist() == mp.cdf(x).tolist()


@pytest.mark.parametrize("method", ["pdf", "logpdf", "cdf", "sf", "logcdf", "logsf", "ppf", "isf"])
@pytest.mark.parametrize("bad", [None, "abc", np.array([0.5, None], dtype=object)])
def test_non_numbers_raise_type_error_like_scipy(method, bad):
    arg = "q" if method in ("ppf", "isf") else "x"
    with pytest.raises(TypeError, match=f"{arg} must be a real number"):
        getattr(MarchenkoPastur(0.25), method)(bad)


def test_moment_order_is_capped_and_large_moments_do_not_overflow():
    mp = MarchenkoPastur(0.25)
    # past k = 150 the sum is taken in logs; it joins the exact integer sum to rounding (~1e-15 relative)
    exact = sum(0.25**r * (math.comb(151, r) * math.comb(150, r) / (r + 1)) for r in range(151))
    assert mp.moment(151) == pytest.approx(exact, rel=1e-13)
    assert mp.moment(2000) == math.inf  # beyond the float range: inf, not NaN or OverflowError
    assert MarchenkoPastur(0.25, 1e-3).moment(2000) == 0.0
    with pytest.raises(ValueError, match="k must be an integer <= 10000"):
        mp.moment(2**64)


def test_rvs_size_is_validated_and_budgeted():
    mp = MarchenkoPastur(0.25)
    assert mp.rvs((2, 3), rng=0).shape == (2, 3) and mp.rvs(0, rng=0).shape == (0,)
    with pytest.raises(ValueError, match="size must be an integer >= 0"):
        mp.rvs(-1)
    with pytest.raises(TypeError, match="size must be None, an int or a tuple of ints"):
        mp.rvs(2.5)
    with pytest.raises(ValueError, match=r"size = 2\*\*64 needs about .* of memory"):
        mp.rvs(2**64)
    with pytest.raises(TypeError, match="z must be a number"):
        mp.stieltjes(None)
