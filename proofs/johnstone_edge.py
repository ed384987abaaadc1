r"""Johnstone's centring and scaling: the leading-order edge is the MP upper edge (1+√c)².

For the unnormalised :math:`WW^\top` (p × n, unit variance, real),
:math:`\mu = (\sqrt{n-1} + \sqrt p)^2` and
:math:`\sigma = (\sqrt{n-1} + \sqrt p)(1/\sqrt{n-1} + 1/\sqrt p)^{1/3}`.
With :math:`p = cn`, :math:`\varepsilon = 1/n`:

.. math::

    \frac{\mu}{n} = (\sqrt{1-\varepsilon} + \sqrt c)^2
    = (1+\sqrt c)^2 - (1+\sqrt c)\varepsilon - \frac{\sqrt c\,\varepsilon^2}{2(1 - \varepsilon/2 + \sqrt{1-\varepsilon})},

so :math:`\mu/n \to (1+\sqrt c)^2`, the MP upper edge, with an O(1/n)
correction, while :math:`\sigma/n = O(n^{-2/3})`:
:math:`\sigma/n^{1/3} \to (1+\sqrt c)(1 + 1/\sqrt c)^{1/3}`.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from ._core import EPS, Step, compare

TITLE = "Johnstone's centring/scaling: leading-order edge (1+√c)² (derivation 12)"
STATEMENT = (
    r"\frac{(\sqrt{n-1}+\sqrt{cn})^2}{n} = (1+\sqrt c)^2 - \frac{1+\sqrt c}{n} + O(n^{-2}),\quad "
    r"\frac{\sigma}{n^{1/3}} \to (1+\sqrt c)\big(1+\tfrac1{\sqrt c}\big)^{1/3}"
)
ASSUMPTIONS = "n > 1, r = √c > 0, u = √(n-1) > 0, 0 < ε = 1/n < 1, q = √(1-ε) > 0 (q² = 1 - ε)."
REFERENCES = "Johnstone, Ann. Statist. 29 (2001), arXiv math/0102013; library: laws/edges.py (soft_edge_params)"

r = sp.Symbol("r", positive=True)


def steps():
    u = sp.Symbol("u", positive=True)
    eps = sp.Symbol("epsilon", positive=True)
    q = sp.Symbol("q", positive=True)
    n = sp.Symbol("n", positive=True)
    S = sp.sqrt(u**2 + 1)  # sqrt(n)
    mu_over_n = (u + r * S) ** 2 / S**2
    R = (q + r) ** 2 - (1 + r) ** 2 + (1 + r) * eps
    return [
        Step("μ/n = (√(1-1/n) + √c)²  (n = u² + 1, p = cn)", mu_over_n, (u / S + r) ** 2, method=("expand", "powsimp", "radsimp"),
             why="√p = √c √n and √(n-1)/√n = √(1 - 1/n)."),
        Step("leading order: μ/n → (1+√c)²", sp.Limit((sp.sqrt(1 - eps) + r) ** 2, eps, 0, "+"), (1 + r) ** 2,
             doit=True, why="The MP upper edge b = (1+√c)² (scale 1): Johnstone's centring is b·n to leading order."),
        Step("exact remainder after the 1/n term", R,
             -r * eps**2 / (2 * (1 - eps / 2 + q)), method=("mod",), relations=(q**2 - (1 - eps),), gens=(q,),
             why="With q = √(1-ε): 2r(q - 1 + ε/2) = -2r(1 - ε/2 - q) and (1-ε/2)² - q² = ε²/4; "
             "so |remainder| ≤ √c ε²/(2(1 - ε/2)) = O(n⁻²)."),
        Step("first-order coefficient: n(μ/n - (1+√c)²) → -(1+√c)",
             sp.Limit(((sp.sqrt(1 - eps) + r) ** 2 - (1 + r) ** 2) / eps, eps, 0, "+"), -(1 + r), doit=True),
        Step("scaling: σ/n^{1/3} → (1+√c)(1+1/√c)^{1/3}",
             sp.Limit(((sp.sqrt(n - 1) + r * sp.sqrt(n)) * (1 / sp.sqrt(n - 1) + 1 / (r * sp.sqrt(n))) ** sp.Rational(1, 3))
                      / n ** sp.Rational(1, 3), n, sp.oo),
             (1 + r) * (1 + 1 / r) ** sp.Rational(1, 3), doit=True, method=("expand", "powsimp", "simplify"),
             why="Fluctuations of λ_max(WWᵀ/n) are σ/n = O(n^{-2/3}) around μ/n (Tracy–Widom scale)."),
    ]


def check_numeric(rng):
    """soft_edge_params(p, n, beta=1) vs the lambdified μ, σ; its μ/n vs the MP edge with the derived remainder."""
    import mpmath

    try:
        from rmt_sparsity.laws import MarchenkoPastur, soft_edge_params
    except ImportError as exc:  # pragma: no cover
        from ._core import unavailable

        return [unavailable("Johnstone centring", "rmt_sparsity.laws.soft_edge_params", f"library function not available: {exc}")]
    P, N = sp.symbols("p n", positive=True)
    mu = sp.lambdify((P, N), (sp.sqrt(N - 1) + sp.sqrt(P)) ** 2, "mpmath")
    sg = sp.lambdify((P, N), (sp.sqrt(N - 1) + sp.sqrt(P)) * (1 / sp.sqrt(N - 1) + 1 / sp.sqrt(P)) ** sp.Rational(1, 3), "mpmath")
    gm, rm, tm, gs, rs, ts, lead, zl, tl = ([] for _ in range(9))
    for _ in range(10):
        n = int(np.exp(rng.uniform(np.log(50), np.log(1e5))))
        p = int(rng.integers(1, 3 * n))
        m_lib, s_lib = soft_edge_params(p, n, beta=1)
        with mpmath.workdps(30):
            M, Sg = float(mu(p, n)), float(sg(p, n))
        # two square roots, one sum, one square: <= 4 ulps; the cube root and reciprocals: <= 8 ulps
        gm.append(m_lib), rm.append(M), tm.append(4 * EPS * M)
        gs.append(s_lib), rs.append(Sg), ts.append(8 * EPS * Sg)
        c = p / n
        b = MarchenkoPastur(c).edges[1]
        # mu/n = b - (1+√c)/n + remainder, |remainder| <= √c/(2 n² (1 - 1/(2n))) (derived above)
        dev = m_lib / n - (b - (1 + math.sqrt(c)) / n)
        lead.append(abs(dev)), zl.append(0.0)
        tl.append(math.sqrt(c) / (2 * n * n * (1 - 0.5 / n)) + 8 * EPS * b)
    return [
        compare("μ = (√(n-1)+√p)²", "laws.soft_edge_params (beta=1)", gm, rm, tm, "4 ulps"),
        compare("σ = (√(n-1)+√p)(1/√(n-1)+1/√p)^{1/3}", "laws.soft_edge_params (beta=1)", gs, rs, ts, "8 ulps"),
        compare("μ/n = b - (1+√c)/n + O(n⁻²)", "soft_edge_params vs MarchenkoPastur.edges", lead, zl, tl,
                "the exact remainder bound √c/(2n²(1 - 1/(2n))) + 8 eps b"),
    ]
