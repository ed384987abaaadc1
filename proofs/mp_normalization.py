r"""Normalisation, mean and variance of the Marchenko–Pastur law.

The continuous part :math:`p(x) = \sqrt{(b-x)(x-a)}/(2\pi s c x)` on
:math:`[a, b] = [s(1-\sqrt c)^2, s(1+\sqrt c)^2]` integrates to 1 for
:math:`c \le 1` and to :math:`1/c` for :math:`c > 1`, where the atom
:math:`1 - 1/c` at 0 makes up the rest. In the angle variable
:math:`x = s(1 + c - 2\sqrt c\cos\varphi)` the measure is
:math:`\frac{2}{\pi}\frac{\sin^2\varphi}{1 + c - 2\sqrt c\cos\varphi}d\varphi`,
so :math:`x\,p(x)\,dx = \frac{2s}{\pi}\sin^2\varphi\,d\varphi`: mean ``s`` and
variance ``c s²`` follow by elementary integrals.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from . import _mp
from ._core import EPS, Step, compare

TITLE = "MP density normalisation, atom, mean and variance (derivation 1)"
STATEMENT = (
    r"\int_a^b p(x)\,dx = \min(1, 1/c),\quad \mu(\{0\}) = \max(0, 1 - 1/c),\quad "
    r"\mathbb E X = s,\quad \operatorname{Var} X = c\,s^2"
)
ASSUMPTIONS = "s = σ² > 0 (the law's scale), r = √c > 0, 0 < ρ < 1 (ρ = √c if c < 1, 1/√c if c > 1), φ ∈ [0, π]."
REFERENCES = "Marchenko & Pastur (1967); Bai & Silverstein (2010) §3.1; library: laws/marchenko_pastur.py"

s, r, rho, phi = _mp.s, _mp.r, _mp.rho, _mp.phi


def steps():
    sin, cos, pi = sp.sin, sp.cos, sp.pi
    x = _mp.x_of_phi
    dens = _mp.dens_phi
    return [
        Step(
            "density in the angle variable", _mp.pdf(x).subs(
                sp.sqrt((_mp.b - x) * (x - _mp.a)), 2 * s * r * sin(phi)) * sp.diff(x, phi), dens,
            why="x(φ) = s(1+c-2√c cos φ) maps [0, π] onto [a, b] with √((b-x)(x-a)) = 2sr sin φ "
            "(derivation 4, steps 1-3).",
        ),
        Step(
            "continuous mass, c ≤ 1 (ρ = √c)", sp.Integral(dens.subs(r, rho), (phi, 0, pi)), 1,
            antiderivative=_mp.F_closed(rho, 1), method=("trig",),
            why="Antiderivative: the closed-form CDF of derivation 4 (continuous on [0, π] since 1 - ρ cos φ ≥ 1 - ρ > 0).",
        ),
        Step(
            "continuous mass, c > 1 (ρ = 1/√c)", sp.Integral(dens.subs(r, 1 / rho), (phi, 0, pi)), rho**2,
            antiderivative=_mp.F_closed(rho, rho**2), method=("trig",),
            why="ρ² = 1/c: the density as written already integrates to 1/c; it must not be rescaled.",
        ),
        Step("atom + continuous mass = 1 (c > 1)", (1 - rho**2) + rho**2, 1, why="The atom at 0 has mass 1 - 1/c."),
        Step(
            "first-moment integrand", x * dens, 2 * s / pi * sin(phi) ** 2, method=("cancel",),
            why="x cancels the denominator 1 + c - 2√c cos φ.",
        ),
        Step("mean = s", sp.Integral(2 * s / pi * sin(phi) ** 2, (phi, 0, pi)), s, doit=True,
             why="The atom at 0 does not contribute to moments of order ≥ 1."),
        Step("second-moment integrand", x**2 * dens, 2 * s**2 / pi * (1 + r**2 - 2 * r * cos(phi)) * sin(phi) ** 2,
             method=("cancel",)),
        Step("second moment = s²(1 + c)",
             sp.Integral(sp.expand(2 * s**2 / pi * (1 + r**2 - 2 * r * cos(phi)) * sin(phi) ** 2), (phi, 0, pi)),
             s**2 * (1 + r**2), doit=True),
        Step("variance = c s²", s**2 * (1 + r**2) - s**2, r**2 * s**2, why="E X² - (E X)²."),
    ]


def check_numeric(rng):
    """Library mean/var/atom and the trapezoid integral of the library's pdf (in φ) vs the derived values."""
    from rmt_sparsity.laws import MarchenkoPastur, marchenko_pastur

    cs, ss = _mp.draw_params(rng, 8)
    cs = np.where(np.abs(np.log(cs)) < 0.1, 2.0, cs)  # |ln c| >= 0.1: see the quadrature error bound below
    got_mean, got_var, got_atom, got_mass, ref_mass, tol_mass = [], [], [], [], [], []
    N = 4096
    ph = 2 * np.pi * np.arange(N) / N
    for c, sc in zip(cs, ss):
        law = MarchenkoPastur(float(c), float(sc))
        got_mean.append(law.mean())
        got_var.append(law.var())
        got_atom.append(law.atom)
        rr = math.sqrt(c)
        xs = sc * (1 + c - 2 * rr * np.cos(ph))
        jac = 2 * sc * rr * np.abs(np.sin(ph))
        # int_0^pi = (1/2) int_0^{2 pi} of an even periodic integrand; trapezoid rule
        got_mass.append(0.5 * (2 * np.pi / N) * np.sum(law.pdf(xs) * jac))
        ref_mass.append(min(1.0, 1.0 / c))
        # Trapezoid error for a periodic integrand analytic in |Im φ| < |ln r| (poles of
        # 1/(1+c-2r cos φ) at Im φ = ±ln r): <= 4 max|f| e^{-N |ln r|}/(1 - e^{-N|ln r|}), with
        # |ln r| >= 0.05 and N = 4096 below 1e-80; rounding: 8 eps per pdf value, pairwise sum.
        tol_mass.append(64 * EPS)
    cs_a, ss_a = np.array(cs), np.array(ss)
    scipy_ok = cs_a <= 1
    out = [
        # mean = moment(1) = s^1 * c^0 * 1: exact in floating point (one multiplication by 1.0)
        compare("mean = s", "MarchenkoPastur.mean", got_mean, ss_a, EPS * ss_a, "1 ulp (s·1.0 is exact)"),
        # var = ratio * scale**2: two roundings
        compare("var = c s²", "MarchenkoPastur.var", got_var, cs_a * ss_a**2, 2 * EPS * cs_a * ss_a**2,
                "2 ulps (c·s² rounded twice)"),
        compare("atom = max(0, 1 - 1/c)", "MarchenkoPastur.atom", got_atom, np.maximum(0, 1 - 1 / cs_a),
                2 * EPS, "2 ulps (one division, one subtraction)"),
        compare("∫ pdf = min(1, 1/c)", "MarchenkoPastur.pdf", got_mass, ref_mass, tol_mass,
                "64 eps: 8 eps per pdf value + pairwise-sum rounding; trapezoid error < 1e-80"),
    ]
    if scipy_ok.any():
        m = [float(marchenko_pastur.mean(c, scale=sc)) for c, sc in zip(cs_a[scipy_ok], ss_a[scipy_ok])]
        v = [float(marchenko_pastur.var(c, scale=sc)) for c, sc in zip(cs_a[scipy_ok], ss_a[scipy_ok])]
        sv = ss_a[scipy_ok]
        out.append(compare("scipy mean = s", "marchenko_pastur.mean", m, sv, 4 * EPS * sv, "4 ulps (scipy's loc/scale algebra)"))
        ref_v = cs_a[scipy_ok] * sv**2
        out.append(compare("scipy var = c s²", "marchenko_pastur.var", v, ref_v, 4 * EPS * ref_v,
                           "4 ulps (scipy's loc/scale algebra)"))
    return out
