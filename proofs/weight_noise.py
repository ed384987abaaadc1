r"""Weight-noise expansion of the expected loss.

For :math:`E` with iid :math:`N(0, s^2)` entries and a polynomial loss,

.. math::

    \mathbb E[L(w + E)] - L(w) = \sum_{k\ge1}\frac{s^{2k}}{2^k k!}\Delta^k L(w)
    = \frac{s^2}{2}\operatorname{tr}H + \frac{s^4}{8}\sum_{i,j}\partial_i^2\partial_j^2 L + \dots

(odd moments vanish). It is exact at order :math:`s^2` for a quadratic loss
and exact at order :math:`s^4` for a quartic loss. Checked with the Gaussian
moments :math:`\mathbb E\varepsilon^k = s^k(k-1)!!` (themselves integrated),
for a generic quadratic and a generic quartic in three weights (every
coefficient a free symbol).
"""

from __future__ import annotations

import itertools

import numpy as np
import sympy as sp

from ._core import EPS, Step, compare, gaussian_expectation

TITLE = "Weight-noise expansion: exact (s²/2) tr H for a quadratic, s⁴/8 Σ∂ᵢ²∂ⱼ²L for a quartic (derivation 8)"
STATEMENT = (
    r"\mathbb E[L(w+E)] - L(w) = \frac{s^2}{2}\operatorname{tr}H\ (\text{quadratic}),\quad "
    r"= \frac{s^2}{2}\Delta L + \frac{s^4}{8}\sum_{i,j}\partial_i^2\partial_j^2L\ (\text{quartic})"
)
ASSUMPTIONS = "s ≥ 0; E_i iid N(0, s²); w ∈ ℝ³ and all polynomial coefficients real free symbols."
REFERENCES = "docs/science.md §5; Keskar et al. arXiv 1609.04836 (noise sharpness); library: theory/_identities.py"

s = sp.Symbol("s", nonnegative=True)
N = 3


def _generic_poly(ws, degree, name):
    coeffs, terms = [], []
    for deg in range(degree + 1):
        for combo in itertools.combinations_with_replacement(range(len(ws)), deg):
            cf = sp.Symbol(f"{name}_{''.join(map(str, combo)) or 'c'}", real=True)
            coeffs.append(cf)
            terms.append(cf * sp.Mul(*[ws[k] for k in combo]))
    return sp.Add(*terms)


def steps():
    ws = sp.symbols(f"w1:{N + 1}", real=True)
    es = sp.symbols(f"e1:{N + 1}", real=True)
    t = sp.Symbol("t", real=True)
    sub = dict(zip(ws, [w + e for w, e in zip(ws, es)]))
    quad = _generic_poly(ws, 2, "a")
    quart = _generic_poly(ws, 4, "b")
    lap = lambda L: sum(sp.diff(L, w, 2) for w in ws)  # noqa: E731
    bilap = lambda L: sum(sp.diff(L, wi, 2, wj, 2) for wi in ws for wj in ws)  # noqa: E731
    density = sp.exp(-(t**2) / (2 * s**2)) / (sp.sqrt(2 * sp.pi) * s)
    out = [
        Step(f"Gaussian moment E ε^{k}", sp.Integral(t**k * density.subs(s, sp.Symbol("sigma", positive=True)), (t, -sp.oo, sp.oo)),
             (sp.Symbol("sigma", positive=True) ** k * sp.factorial2(k - 1)) if k % 2 == 0 else 0, doit=True,
             method=("expand", "cancel"), why="The moments used by the expectation operator below.")
        for k in range(1, 5)
    ]
    out += [
        Step("quadratic loss: E[L(w+E)] - L(w) = (s²/2) tr H (exact)",
             gaussian_expectation(quad.xreplace(sub), es, s) - quad, s**2 / 2 * lap(quad),
             why="tr H = ΔL; the linear terms have mean 0 and the cross terms E[ε_iε_j] = 0 (library: "
             "noise_sharpness_prediction = (s²/2) tr H)."),
        Step("quartic loss: exact to order s⁴",
             gaussian_expectation(quart.xreplace(sub), es, s) - quart,
             s**2 / 2 * lap(quart) + s**4 / 8 * bilap(quart),
             why="The heat-semigroup series Σ_k s^{2k}Δ^kL/(2^k k!) stops at k = 2 for degree 4; "
             "(s⁴/8)Σ_{i,j}∂ᵢ²∂ⱼ²L is the first correction to (s²/2) tr H."),
    ]
    return out


def check_numeric(rng):
    """noise_sharpness_prediction vs (s²/2) tr H, and the exact expectation of a random quadratic."""
    from rmt_sparsity.theory import noise_sharpness_prediction

    ss, tr = sp.symbols("s trH", real=True)
    pred = sp.lambdify((ss, tr), ss**2 / 2 * tr, "numpy")
    sig = np.exp(rng.uniform(-8, 1, 12))
    trs = rng.normal(0, 100, 12)
    got = [noise_sharpness_prediction(float(a), float(b)) for a, b in zip(sig, trs)]
    ref = pred(sig, trs)
    out = [compare("(s²/2) tr H", "theory.noise_sharpness_prediction", got, ref, 4 * EPS * np.abs(ref) + 1e-300,
                   "4 ulps (three products)")]
    # the identity itself at a random quadratic: E over the exact Gaussian law via the moment
    # formula equals (s²/2) tr H -- evaluated in rationals, so the check is exact (tolerance 0)
    ws = sp.symbols(f"w1:{N + 1}", real=True)
    es = sp.symbols(f"e1:{N + 1}", real=True)
    A = rng.integers(-9, 10, (N, N))
    H = A + A.T
    g = rng.integers(-9, 10, N)
    L = sum(sp.Rational(int(H[i, j]), 2) * ws[i] * ws[j] for i in range(N) for j in range(N)) + sum(
        int(g[i]) * ws[i] for i in range(N))
    sv = sp.Rational(int(rng.integers(1, 100)), 100)
    lhs = gaussian_expectation(L.xreplace({w: w + e for w, e in zip(ws, es)}), es, sv) - L
    got_e = float(sp.expand(lhs))
    ref_e = float(noise_sharpness_prediction(float(sv), float(np.trace(H))))
    out.append(compare("E[L(w+E)] - L(w) at a random integer quadratic", "theory.noise_sharpness_prediction",
                       [got_e], [ref_e], [4 * EPS * abs(ref_e) + 1e-300], "4 ulps (the rational side is exact)"))
    return out
