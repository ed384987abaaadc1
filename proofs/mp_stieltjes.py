r"""The Marchenko–Pastur Stieltjes transform: its quadratic, its branch, and what it encodes.

:math:`m(z) = \int\frac{\mu(dx)}{x - z}` solves

.. math:: c s z m^2 + (z - s(1-c))m + 1 = 0,

whose discriminant factors as :math:`(z-a)(z-b)`. Of the two roots
:math:`m_\pm = \frac{-(z - s(1-c)) \pm R}{2csz}`, :math:`R^2 = (z-a)(z-b)`, only
:math:`m_+` with :math:`R \sim z` has the asymptotics :math:`m(z)\sim -1/z` of a
probability measure; Stieltjes inversion of it returns the MP density on
:math:`(a, b)` and, for :math:`c > 1`, the atom :math:`1 - 1/c` at 0 as the
residue :math:`-\lim_{z\to0} z\,m(z)`.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from . import _mp
from ._core import EPS, Step, compare

TITLE = "MP Stieltjes transform: quadratic, branch by asymptotics, inversion (derivation 3)"
STATEMENT = (
    r"m(z) = \frac{-(z - s(1-c)) + \sqrt{(z-a)(z-b)}}{2csz},\quad c s z m^2 + (z - s(1-c))m + 1 = 0,"
    r"\quad z\,m(z)\to -1,\quad \tfrac1\pi\operatorname{Im} m(x+i0) = p(x)"
)
ASSUMPTIONS = (
    "s > 0, r = √c > 0; R a symbol with R² = (z-a)(z-b) (the branch with R ~ z at infinity, analytic off [a, b]); "
    "x, q > 0 on the bulk with q² = (b-x)(x-a); κ > 0 parametrises c > 1 (√c = 1+κ) and c < 1 (√c = 1/(1+κ))."
)
REFERENCES = "Bai & Silverstein (2010) §3.3; Couillet & Debbah (2011) §3.2; library: laws/marchenko_pastur.py (_stieltjes)"

s, r = _mp.s, _mp.r


def steps():
    z = sp.Symbol("z")
    R = sp.Symbol("R")
    c = r**2
    a, b = _mp.a, _mp.b
    B = z - s * (1 - c)
    Q = lambda m: c * s * z * m**2 + B * m + 1  # noqa: E731
    mp_ = (-B + R) / (2 * c * s * z)
    mm_ = (-B - R) / (2 * c * s * z)
    rel = [R**2 - (z - a) * (z - b)]
    w = sp.Symbol("w", positive=True)
    Rw = sp.sqrt((1 - a * w) * (1 - b * w)) / w  # R ~ z = 1/w at infinity
    x, q, kap = sp.symbols("x q kappa", positive=True)
    out = [
        Step("discriminant = (z-a)(z-b)", B**2 - 4 * c * s * z, (z - a) * (z - b),
             why="a + b = 2s(1+c), ab = s²(1-c)²: the square root is analytic off [a, b]."),
        Step("m₊ solves the quadratic", Q(mp_), 0, method=("mod",), relations=tuple(rel), gens=(R,)),
        Step("m₋ solves the quadratic", Q(mm_), 0, method=("mod",), relations=tuple(rel), gens=(R,)),
        Step("Vieta: m₊ m₋ = 1/(csz)", mp_ * mm_, 1 / (c * s * z), method=("mod",), relations=tuple(rel), gens=(R,)),
        Step(
            "branch: z m₊(z) → -1 as z → ∞", sp.Limit((z * mp_).subs({R: Rw}).subs(z, 1 / w), w, 0, "+"), -1,
            doit=True, why="Every Stieltjes transform of a probability law has z m(z) → -1: this selects m₊.",
        ),
        Step(
            "the other root tends to -1/(cs), not 0", sp.Limit(mm_.subs({R: Rw}).subs(z, 1 / w), w, 0, "+"),
            -1 / (c * s), doit=True, why="So m₋ is not a Stieltjes transform of a probability law.",
        ),
        Step(
            "library's cancellation-free form m₊ = -2/(B + R)", mp_, -2 / (B + R), method=("mod",),
            relations=tuple(rel), gens=(R,),
            why="(R - B)(R + B) = R² - B² = -4csz; the library picks whichever of the two forms has the larger "
            "denominator, with R = √(z-a)√(z-b) (product of principal roots, ~ z at infinity).",
        ),
        Step("on the bulk: R(x + i0)² = (x-a)(x-b) with R = i q", (sp.I * q) ** 2, (x - a) * (x - b),
             subs={q**2: (b - x) * (x - a)}, why="q = √((b-x)(x-a)) > 0 for a < x < b; the upper-half-plane limit is +iq."),
        Step(
            "Stieltjes inversion: Im m₊(x+i0)/π = p(x)", sp.im(mp_.subs({R: sp.I * q, z: x})) / sp.pi,
            q / (2 * sp.pi * c * s * x), why="The MP density p(x) = √((b-x)(x-a))/(2π s c x).",
        ),
        Step(
            "atom for c > 1: -lim z m(z) at 0 = 1 - 1/c",
            -((s * (1 - c) + sp.sqrt(-a) * sp.sqrt(-b)) / (2 * c * s)).subs(r, 1 + kap), (1 - 1 / c).subs(r, 1 + kap),
            why="z m₊(z) → (s(1-c) + R(0))/(2cs) with R(0) = √(-a)√(-b) = -√(ab) = -s(c-1) (principal roots).",
        ),
        Step(
            "no atom for c < 1: the numerator of m₊ vanishes at 0",
            (s * (1 - c) + sp.sqrt(-a) * sp.sqrt(-b)).subs(r, 1 / (1 + kap)), 0, method=("expand", "cancel"),
            why="R(0) = -s(1-c) cancels s(1-c).",
        ),
        Step(
            "non-zero law (c > 1): m_ν = c m + (c-1)/z", c * (sp.Symbol("m") - (1 - 1 / c) / (0 - z)),
            c * sp.Symbol("m") + (c - 1) / z,
            why="ν = c(μ - (1 - 1/c)δ₀) and ∫ δ₀(dx)/(x - z) = -1/z.",
        ),
    ]
    return out


def check_numeric(rng):
    """Library stieltjes vs the root with Im m > 0 (an independent branch rule), mpmath 40 digits."""
    import mpmath

    from rmt_sparsity.laws import MarchenkoPastur

    cs, ss = _mp.draw_params(rng, 6)
    got, ref, tol, got_nz, ref_nz, tol_nz, res_q, tol_q = ([] for _ in range(8))
    for c, sc in zip(cs, ss):
        law = MarchenkoPastur(float(c), float(sc))
        nz = MarchenkoPastur(float(c), float(sc), nonzero=True)
        bb = law.edges[1]
        zs = rng.uniform(-0.5 * bb, 1.5 * bb, 6) + 1j * sc * 10 ** rng.uniform(-3, 1, 6)
        m_lib = np.asarray(law.stieltjes(zs))
        m_nz = np.asarray(nz.stieltjes(zs))
        with mpmath.workdps(40):
            C, S = mpmath.mpf(float(c)), mpmath.mpf(float(sc))
            for zi, ml, mn in zip(zs, m_lib, m_nz):
                Z = mpmath.mpc(zi)
                A, Bq = C * S * Z, Z - S * (1 - C)
                D = mpmath.sqrt(Bq**2 - 4 * A)
                roots = [(-Bq + D) / (2 * A), (-Bq - D) / (2 * A)]
                m = max(roots, key=lambda t: t.imag)  # Herglotz: Im m > 0 for Im z > 0
                Ra = abs(mpmath.sqrt((Z - S * (1 - mpmath.sqrt(C)) ** 2) * (Z - S * (1 + mpmath.sqrt(C)) ** 2)))
                # library: R from two principal square roots of z - a, z - b (absolute rounding
                # eps(|z| + b) each, relative eps·(|z|+b)/|z - edge|), then -2/(B+R) with |B+R| >= |R|:
                # relative error <= 16 eps (1 + (|z| + b)/|R|) (|R|² = |z-a||z-b|).
                t = 16 * EPS * abs(m) * (1 + (abs(Z) + bb) / Ra)
                got.append(complex(ml)), ref.append(complex(m)), tol.append(float(t))
                mnz = C * m + (C - 1) / Z if c > 1 else m
                got_nz.append(complex(mn)), ref_nz.append(complex(mnz))
                tol_nz.append(float(max(C, 1) * t + 4 * EPS * abs(mnz)))
                res_q.append(float(abs(A * ml**2 + Bq * ml + 1)))
                tol_q.append(float(16 * EPS * (abs(A * ml**2) + abs(Bq * ml) + 1) * (1 + (abs(Z) + bb) / Ra)))
    return [
        compare("stieltjes = root with Im m > 0", "MarchenkoPastur.stieltjes", got, ref, tol,
                "16 eps |m| (1 + (|z|+b)/|R|): rounding of z - a, z - b amplified by 1/|R|"),
        compare("non-zero law c m + (c-1)/z", "MarchenkoPastur(nonzero=True).stieltjes", got_nz, ref_nz, tol_nz,
                "as above times max(c, 1) + 4 eps"),
        compare("quadratic residual of the library's m", "MarchenkoPastur.stieltjes", res_q, np.zeros(len(res_q)), tol_q,
                "16 eps × (sum of |terms|) × the same amplification"),
    ]
