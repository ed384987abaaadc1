r"""Extreme singular-value and eigenvalue ratios of the Marchenko–Pastur law.

For :math:`c = p/n < 1` the spectrum of :math:`S = WW^\top/n` fills
:math:`[a, b] = [s(1-\sqrt c)^2, s(1+\sqrt c)^2]`, so the extreme eigenvalue
ratio tends to :math:`b/a = \big(\frac{1+\sqrt c}{1-\sqrt c}\big)^2` and the
extreme singular-value ratio of :math:`W` (singular values
:math:`\sqrt{n\lambda}`) to its square root :math:`\frac{1+\sqrt c}{1-\sqrt c}`.
For :math:`c > 1` the non-zero eigenvalues give :math:`\big(\frac{\sqrt c+1}{\sqrt c-1}\big)^2`.
Both diverge at :math:`c = 1` (hard edge).
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from . import _mp
from ._core import EPS, Step, compare

TITLE = "Extreme singular-value ratio (1+√c)/(1-√c) and eigenvalue ratio (derivation 5)"
STATEMENT = (
    r"\frac{\lambda_{\max}}{\lambda_{\min}} \to \frac{b}{a} = \Big(\frac{1+\sqrt c}{1-\sqrt c}\Big)^2,\quad "
    r"\frac{\sigma_{\max}}{\sigma_{\min}} \to \frac{1+\sqrt c}{1-\sqrt c}\ (c<1),\quad \to\infty \text{ as } c\to1"
)
ASSUMPTIONS = "s > 0; κ > 0 with √c = κ/(1+κ) ∈ (0, 1) for c < 1 and √c = 1 + κ for c > 1."
REFERENCES = "Bai & Yin (1993), Ann. Probab. 21; Bai & Silverstein (2010) Thm 5.11; docs/science.md §1"

s = _mp.s


def steps():
    kap = sp.Symbol("kappa", positive=True)
    r = sp.Symbol("r", positive=True)
    a, b = s * (1 - r) ** 2, s * (1 + r) ** 2
    small = {r: kap / (1 + kap)}
    big = {r: 1 + kap}
    return [
        Step("eigenvalue ratio b/a (c < 1)", (b / a).subs(small), (((1 + r) / (1 - r)) ** 2).subs(small),
             method=("cancel",), why="The extreme eigenvalues converge to the edges (Bai–Yin); s cancels."),
        Step("(1+√c)/(1-√c) = 1 + 2κ > 0", ((1 + r) / (1 - r)).subs(small), 1 + 2 * kap, method=("cancel",),
             why="Positive, so the square root of b/a is this ratio."),
        Step("singular-value ratio = √(b/a) (c < 1)", sp.sqrt((b / a).subs(small)), ((1 + r) / (1 - r)).subs(small),
             method=("cancel", "radsimp"),
             why="σ_i(W) = √(n λ_i(WWᵀ/n)): ratios of singular values are square roots of eigenvalue ratios."),
        Step("non-zero eigenvalue ratio (c > 1)", (b / a).subs(big), (((r + 1) / (r - 1)) ** 2).subs(big),
             method=("cancel",), why="a = s(√c - 1)² is the smallest non-zero edge."),
        Step("divergence at c → 1⁻", sp.Limit(1 + 2 * kap, kap, sp.oo), sp.oo, doit=True,
             why="√c → 1⁻ ⇔ κ → ∞; at c = 1 the hard edge (Edelman) governs σ_min, not TW."),
    ]


def check_numeric(rng):
    """MarchenkoPastur.extreme_ratio and edges ratio, heuristic_mp.eigenvalue_ratio and the weighted law's ratio_of_edges."""
    from rmt_sparsity.laws import MarchenkoPastur, WeightedCovarianceLaw
    from rmt_sparsity.theory import heuristic_mp

    cc = sp.Symbol("c", positive=True)
    ratio = sp.lambdify(cc, ((1 + sp.sqrt(cc)) / (1 - sp.sqrt(cc))) ** 2, "mpmath")
    got_e, got_h, got_w, ref, ref_nz, got_nz, tol, tol_nz, tol_w = ([] for _ in range(9))
    got_x, got_xnz = [], []
    for _ in range(6):
        dim = int(rng.integers(10, 400))
        steps_ = int(rng.integers(dim + dim // 5, 40 * dim))  # c = dim/steps in [1/40, 5/6]
        c = dim / steps_
        sc = float(np.exp(rng.uniform(np.log(0.1), np.log(10))))
        lo, hi = MarchenkoPastur(c, sc).edges
        got_e.append(hi / lo)
        got_x.append(MarchenkoPastur(c, sc).extreme_ratio())
        got_h.append(heuristic_mp(dim, 1.0, steps_).eigenvalue_ratio)  # r = 1: c = dim / steps exactly
        R = float(ratio(c))
        ref.append(R)
        # R = ((1+r)/(1-r))², d ln R / d r = 4/(1-c): the library's r = sqrt(c) (1/2 ulp) and the
        # edges (double-double, then rounded: 1 ulp each) give a relative error
        # <= eps (2 + 2 r/(1-c)) + 2 eps; 4x margin for the division and the square.
        t = 4 * EPS * R * (4 + 2 * math.sqrt(c) / (1 - c) + 1 / (1 - math.sqrt(c)))
        tol.append(t)
        C = 1 / c  # c > 1: non-zero edges, ratio ((√C+1)/(√C-1))² = ((1+√c)/(1-√c))² with c = 1/C
        lo2, hi2 = MarchenkoPastur(C, sc, nonzero=True).edges
        got_nz.append(hi2 / lo2), ref_nz.append(R), tol_nz.append(t + 4 * EPS * R / (1 - c))
        got_xnz.append(MarchenkoPastur(C, sc).extreme_ratio())
        # fixed-point law with one weight: exact outer edges from a root search (bisection to
        # rounding / brentq rtol 4 eps) for the critical point m* of the Silverstein–Choi map x(m);
        # x'(m*) = 0, so the edge error is second order in the root error plus ~10 roundings
        # of x(m*) (whose terms are O(edge/(1-√c))): 64 eps R (1 + 1/(1-√c)).
        got_w.append(WeightedCovarianceLaw(c, [sc]).ratio_of_edges())
        tol_w.append(64 * EPS * R * (1 + 1 / (1 - math.sqrt(c))))
    return [
        compare("extreme ratio ((1+√c)/(1-√c))²", "MarchenkoPastur.extreme_ratio", got_x, ref, tol,
                "4 eps R (4 + 2√c/(1-c) + 1/(1-√c)): condition of ((1+r)/(1-r))² in r"),
        compare("extreme ratio at 1/c > 1", "MarchenkoPastur(1/c).extreme_ratio", got_xnz, ref_nz, tol_nz,
                "as above + rounding of 1/c (condition 1/(1-c))"),
        compare("edges ratio b/a", "MarchenkoPastur.edges", got_e, ref, tol,
                "4 eps R (4 + 2√c/(1-c) + 1/(1-√c)): condition of ((1+r)/(1-r))² in r"),
        compare("heuristic eigenvalue ratio", "heuristic_mp(...).eigenvalue_ratio", got_h, ref, tol, "as above"),
        compare("non-zero law, ratio 1/c > 1", "MarchenkoPastur(nonzero=True).edges", got_nz, ref_nz, tol_nz,
                "as above + rounding of 1/c (condition 1/(1-c))"),
        compare("weighted law with equal weights", "WeightedCovarianceLaw.ratio_of_edges", got_w, ref, tol_w,
                "64 eps R (1 + 1/(1-√c)): stationary point of x(m), ~10 roundings of O(edge/(1-√c)) terms"),
    ]
