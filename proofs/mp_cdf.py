r"""The closed-form Marchenko–Pastur CDF: its derivative is the density, and its boundary values.

The library (``rmt_sparsity/laws/marchenko_pastur.py``) evaluates the continuous
part of the CDF as, with :math:`u = (x-a)/(b-a)`, :math:`\varphi = 2\arcsin\sqrt u`,
:math:`\rho = \min(\sqrt c, 1/\sqrt c)` and :math:`m = \min(1, 1/c)`,

.. math::

    F = \frac{m}{\pi}\Big[\varphi + \frac{\sin\varphi}{\rho}
        - \frac{1-\rho^2}{\rho^2}\operatorname{atan2}(\rho\sin\varphi,\ 1-\rho\cos\varphi)\Big],

and next to an edge by a Gauss–Legendre rule on the substituted integral
:math:`\frac{16u^{3/2}}{\pi a_1}\int_0^1\frac{\tau^2\sqrt{1-u\tau^2}}{1+qu\tau^2}d\tau`.
Both are derived here from the density.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from . import _mp
from ._core import EPS, Step, compare, mp_lambdify, Case  # noqa: F401

TITLE = "MP CDF: closed form, derivative = pdf, boundary values (derivation 4)"
STATEMENT = (
    r"F(x) = \mathbf 1[c>1](1-\tfrac1c) + \frac{m}{\pi}\Big[\varphi + \frac{\sin\varphi}{\rho}"
    r" - \frac{1-\rho^2}{\rho^2}\arctan\frac{\rho\sin\varphi}{1-\rho\cos\varphi}\Big],\ "
    r"x = s(1+c-2\sqrt c\cos\varphi),\ F'(x) = p(x),\ F(a^-) = \max(0, 1-\tfrac1c),\ F(b) = 1"
)
ASSUMPTIONS = (
    "s = σ² > 0, r = √c > 0, 0 < ρ < 1 (ρ = r for c < 1, ρ = 1/r for c > 1), φ ∈ [0, π] real; "
    "u ∈ (0, 1), τ ∈ (0, 1]."
)
REFERENCES = "Marchenko & Pastur (1967); Bai & Silverstein (2010) ch. 3; library: laws/marchenko_pastur.py"

s, r, rho, phi = _mp.s, _mp.r, _mp.rho, _mp.phi


def steps():
    sin, cos, pi = sp.sin, sp.cos, sp.pi
    x = _mp.x_of_phi
    a, b = _mp.a, _mp.b
    u, tau, a1, q = sp.symbols("u tau a_1 q", positive=True)
    psi = sp.Symbol("psi", real=True)
    F1 = _mp.F_closed(rho, 1)
    Fc = _mp.F_closed(rho, rho**2)
    dens = _mp.dens_phi
    t = u * tau**2
    return [
        Step("x(0) is the lower edge a", x.subs(phi, 0), a, why="cos 0 = 1: s(1+r²-2r) = s(1-r)²."),
        Step("x(π) is the upper edge b", x.subs(phi, pi), b, why="cos π = -1."),
        Step(
            "square-root factor of the density", (b - x) * (x - a), (2 * s * r * sin(phi)) ** 2, method=("trig",),
            why="Hence √((b-x)(x-a)) = 2sr sin φ, since sin φ ≥ 0 on [0, π].",
        ),
        Step("Jacobian of the parametrisation", sp.Derivative(x, phi), 2 * s * r * sin(phi), doit=True),
        Step(
            "density in the angle variable",
            (2 * s * r * sin(phi)) / (2 * pi * s * r**2 * x) * (2 * s * r * sin(phi)), dens,
            why="p(x(φ))·x'(φ) with the two previous steps; c = r² in the density's denominator 2πs c x.",
        ),
        Step(
            "the arctan argument has a positive denominator", 1 - rho * cos(phi), 1 - rho, ">=",
            certificate=[rho * (1 - cos(phi))],
            why="1 - ρ > 0 for ρ < 1, so atan2(ρ sin φ, 1 - ρ cos φ) = arctan(ρ sin φ/(1 - ρ cos φ)) "
            "is continuous on [0, π] and the fundamental theorem of calculus applies.",
        ),
        Step(
            "dF/dφ = density, c ≤ 1 (ρ = √c, m = 1)", sp.Derivative(F1, phi), dens.subs(r, rho), doit=True,
            method=("trig",),
        ),
        Step(
            "dF/dφ = density, c > 1 (ρ = 1/√c, m = 1/c)", sp.Derivative(Fc, phi), dens.subs(r, 1 / rho),
            doit=True, method=("trig",),
            why="The same density with √c = 1/ρ: the closed form holds for both regimes.",
        ),
        Step("F(0) = 0 (lower edge)", Fc.subs(phi, 0), 0, why="sin 0 = 0 and arctan 0 = 0."),
        Step("F(π) = 1 for c ≤ 1", F1.subs(phi, pi), 1, why="Mass of the continuous part for c ≤ 1."),
        Step("F(π) = 1/c for c > 1", Fc.subs(phi, pi), 1 / (1 / rho) ** 2, why="Mass of the continuous part for c > 1."),
        Step(
            "CDF at b, c > 1: atom + continuous mass = 1", (1 - 1 / (1 / rho) ** 2) + Fc.subs(phi, pi), 1,
            why="The atom 1 - 1/c at 0 makes up the rest; cdf(a⁻) = atom for x ∈ [0, a).",
        ),
        Step(
            "library variable: u = sin²(φ/2) = (1 - cos φ)/2", sin(psi) ** 2, (1 - cos(2 * psi)) / 2,
            method=("expand_trig",), why="With φ = 2ψ, ψ ∈ [0, π/2]: φ = 2 arcsin √u.",
        ),
        Step(
            "library form of the arctan denominator", 1 - rho * cos(phi), (1 - rho) + 2 * rho * (1 - cos(phi)) / 2,
            why="1 - ρ cos φ = (1-ρ) + 2ρu, computed without cancellation (`omr + 2 rho u`).",
        ),
        Step(
            "library form of sin φ: (2√(u(1-u)))² = sin²φ", 4 * ((1 - cos(phi)) / 2) * (1 - (1 - cos(phi)) / 2),
            sin(phi) ** 2, method=("trig",), why="`sphi = 2 sqrt(u v)` (both sides ≥ 0 on [0, π]).",
        ),
        Step(
            "edge quadrature: density in u", (4 * s * r) ** 2 * sp.sqrt(u * (1 - u)) / (2 * pi * s * r**2 * (a + 4 * s * r * u)),
            8 * sp.sqrt(u * (1 - u)) / (pi * (1 - r) ** 2 * (1 + 4 * r / (1 - r) ** 2 * u)),
            why="dF/du = p(a + (b-a)u)(b-a), √((b-x)(x-a)) = (b-a)√(u(1-u)); the library's "
            "8/(π a₁)·√(u(1-u))/(1+qu), a₁ = (1-r)², q = 4r/a₁, independent of s.",
        ),
        Step(
            "edge quadrature: substitution t = uτ²",
            8 / (pi * a1) * sp.sqrt(t * (1 - t)) / (1 + q * t) * sp.diff(t, tau),
            16 * u ** sp.Rational(3, 2) * tau**2 * sp.sqrt(1 - u * tau**2) / (pi * a1 * (1 + q * u * tau**2)),
            why="F(u) = (16u^{3/2}/(π a₁))∫₀¹ τ²√(1-uτ²)/(1+δτ²)dτ, δ = qu = (x-a)/a: a smooth integrand "
            "(24-point Gauss–Legendre in the library).",
        ),
    ]


def _refs():
    # the ratio c (not a rounded sqrt(c)) is the argument: the library receives c and so must the
    # reference, otherwise a half-ulp error in sqrt(c) moves the edges.
    xs = sp.Symbol("x", positive=True)
    cc = sp.Symbol("c", positive=True)
    rr = sp.sqrt(cc)
    ss = sp.Symbol("s", positive=True)
    ph = _mp.phi_of_x(xs, rr, ss)
    F_small = _mp.F_closed(rr, 1, ph)  # c <= 1
    F_big = 1 - 1 / rr**2 + _mp.F_closed(1 / rr, 1 / rr**2, ph)  # c > 1, atom included
    S_small = 1 - F_small
    S_big = 1 - F_big
    return (
        mp_lambdify((xs, cc, ss), S_small),
        mp_lambdify((xs, cc, ss), S_big),
        mp_lambdify((xs, cc, ss), F_small),
        mp_lambdify((xs, cc, ss), F_big),
        mp_lambdify((xs, cc, ss), _mp.pdf(xs, rr, ss)),
    )


def check_numeric(rng):
    """Library cdf/sf/pdf vs the lambdified closed form (mpmath, 40 digits) at random bulk points.

    Points: ratios log-uniform in [0.02, 50] (c = 1 excluded by ±2 %), scales in
    [0.1, 10], u = (x-a)/(b-a) uniform in (0, 1) plus points within 1e-12..1e-2
    (relative) of either edge.
    """
    from rmt_sparsity.laws import MarchenkoPastur

    Ss, Sb, Fs, Fb, P = _refs()
    cs, ss = _mp.draw_params(rng, 6)
    cs = np.where(np.abs(cs - 1) < 0.02, 1.5, cs)
    got_cdf, ref_cdf, tol_cdf, got_sf, ref_sf, tol_sf, got_pdf, ref_pdf, tol_pdf = ([] for _ in range(9))
    for c, sc in zip(cs, ss):
        law = MarchenkoPastur(float(c), float(sc))
        lo, hi = law.edges
        u = np.concatenate([rng.uniform(0, 1, 4), 10 ** rng.uniform(-12, -2, 2), 1 - 10 ** rng.uniform(-12, -2, 2)])
        xs = lo + (hi - lo) * u
        xs = xs[(xs > lo) & (xs < hi)]
        F = (Fs if c <= 1 else Fb)(xs, c, sc)
        got_cdf.append(law.cdf(xs))
        ref_cdf.append(F)
        got_sf.append(law.sf(xs))
        ref_sf.append((Ss if c <= 1 else Sb)(xs, c, sc))
        got_pdf.append(law.pdf(xs))
        ref_pdf.append(P(xs, c, sc))
    g = {k: np.concatenate(v) for k, v in dict(gc=got_cdf, rc=ref_cdf, gs=got_sf, rs=ref_sf, gp=got_pdf, rp=ref_pdf).items()}
    # The library claims a relative error of a few ulps everywhere (module notes of
    # laws/marchenko_pastur.py): the continuous part is a 24-term positive Gauss–Legendre sum
    # (relative rounding <= 24 eps) times a prefactor of ~8 roundings, or the closed form whose
    # three terms are each O(1/ρ²) times the result at most in the bulk, where it is used only
    # for u in [q, 1/2] with the result >= ~0.05.  32 eps relative covers the quadrature path
    # and the closed form; the reference is exact to 40 digits at the same float x.
    rule = "32·eps·|F| (24-term positive GL sum + ~8 roundings; reference exact at the same float x)"
    tol_c = 32 * EPS * np.abs(g["rc"])
    tol_s = 32 * EPS * np.abs(g["rs"])
    # pdf: sqrt of two double-double offsets (1 ulp each), a product, a division: <= 8 eps relative.
    tol_p = 8 * EPS * np.abs(g["rp"])
    return [
        compare("cdf = atom + F (closed form)", "MarchenkoPastur.cdf", g["gc"], g["rc"], tol_c, rule),
        compare("sf = mass - F", "MarchenkoPastur.sf", g["gs"], g["rs"], tol_s, rule),
        compare("pdf = F'", "MarchenkoPastur.pdf", g["gp"], g["rp"], tol_p,
                "8·eps·|p| (offsets to 1 ulp, sqrt, product, division)"),
    ]
