r"""LayerNorm norm facts: ‖LN(x)‖² = d·v/(v+ε); ‖x‖ ≥ √d; ‖x‖ ≥ (1-ρ)√d with the zeroth bias.

With :math:`z = (h - \bar h)/\sqrt{v + \varepsilon}`, :math:`v` the biased
variance, :math:`\|z\|^2 = d v/(v+\varepsilon) \to d`. Restricted LayerNorm
(no β, :math:`|\gamma_j|\ge1`) gives :math:`x = \gamma\odot z` and
:math:`\|x\|^2 \ge \|z\|^2`. With the zeroth bias :math:`x = \gamma\odot z + B`,
:math:`|B_j| \le \rho|\gamma_j|` (ρ = 0.1 in the paper):
:math:`x_j^2 \ge \phi(z_j^2)` with :math:`\phi(u) = (\sqrt u - \rho)_+^2`, and
Jensen for the convex φ — proved here through its supporting line at
:math:`u = 1`, :math:`\phi(u) \ge \phi(1) + \phi'(1)(u - 1)` — gives
:math:`\frac1d\sum_j x_j^2 \ge \phi(1) = (1-\rho)^2` when
:math:`\frac1d\sum_j z_j^2 = 1` (ε → 0). Equality: :math:`h = (+1, -1, \dots)`
(d even), :math:`\gamma = 1`, :math:`B_j = -\rho\,\mathrm{sign}(z_j)`.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from ._core import EPS, Case, Step, compare

TITLE = "LayerNorm: ‖LN(x)‖² = dv/(v+ε), ‖x‖ ≥ √d, ‖x‖ ≥ 0.9√d with the zeroth bias, attained (derivation 7)"
STATEMENT = (
    r"\|z\|^2 = \frac{d\,v}{v+\varepsilon},\quad |\gamma_j|\ge1,\beta=0 \Rightarrow \|x\|\ge\sqrt d,\quad "
    r"|B_j|\le\rho|\gamma_j| \Rightarrow \|x\| \ge (1-\rho)\sqrt d\ (\varepsilon\to0),\ \text{attained for even } d"
)
ASSUMPTIONS = (
    "d ≥ 1 integer; h_j, z_j real; v > 0, ε ≥ 0; δ_j = γ_j² - 1 ≥ 0; 0 ≤ ρ ≤ 1 (ω = 1 - ρ ≥ 0); "
    "P, Q, α, β, δ, μ, w, τ ≥ 0 parametrise the cases (stated in each step)."
)
REFERENCES = "Peng et al., arXiv 2309.03004 (restricted LayerNorm, zeroth bias); library: theory/_identities.py"

j = sp.Symbol("j", integer=True, positive=True)
d = sp.Symbol("d", integer=True, positive=True)


def steps():
    h = sp.IndexedBase("h", real=True)
    z = sp.IndexedBase("z", real=True)
    dl = sp.IndexedBase("delta", nonnegative=True)
    gap = sp.IndexedBase("g", nonnegative=True)
    u = sp.IndexedBase("u", nonnegative=True)
    k = sp.Symbol("k", integer=True, positive=True)
    hb = sp.Symbol(r"\bar{h}", real=True)
    v, eps = sp.Symbol("v", positive=True), sp.Symbol("epsilon", nonnegative=True)
    var = sp.Sum((h[k] - hb) ** 2, (k, 1, d)) / d
    P, Q, al, be, de, mu, w, tau, om = sp.symbols("P Q alpha beta delta mu w tau omega", nonnegative=True)
    rho = sp.Symbol("rho", nonnegative=True)
    p_, q_ = sp.symbols("p q", real=True)
    uu = sp.Symbol("u", positive=True)
    Phi = sp.Function("Phi")
    D1 = sp.Symbol("Phi'(1)", real=True)
    phi = lambda t: (sp.sqrt(t) - rho) ** 2  # noqa: E731  (on its active piece sqrt(t) >= rho)
    n = sp.Symbol("n", integer=True, positive=True)
    return [
        Step("‖z‖² = Σ_j (h_j - h̄)²/(v + ε) = d·v/(v + ε) (any d)",
             sp.Sum((h[j] - hb) ** 2, (j, 1, d)) / (var + eps), d * var / (var + eps), method=("sums", "cancel"),
             why="v = (1/d)Σ(h_j - h̄)² is the biased variance (ddof = 0)."),
        Step("→ d as ε → 0", sp.Limit(d * v / (v + eps), eps, 0, "+"), d, doit=True,
             why="The ε term matters when v is comparable to ε (library: layernorm_sq_norm)."),
        Step("restricted LN (β = 0, γ_j² = 1 + δ_j): ‖x‖² ≥ ‖z‖²", sp.Sum((1 + dl[j]) * z[j] ** 2, (j, 1, d)),
             sp.Sum(z[j] ** 2, (j, 1, d)), ">=", certificate=[sp.Sum(dl[j] * z[j] ** 2, (j, 1, d))], method=("sums",),
             why="x_j = γ_j z_j; hence ‖x‖ ≥ ‖z‖ → √d."),
        Step("reverse triangle inequality |p + q| ≥ |p| - |q|", sp.Abs(p_ + q_), sp.Abs(p_) - sp.Abs(q_), ">=",
             certificate=[
                 Case("p = P, q = Q", {p_: P, q_: Q}, [2 * Q]),
                 Case("p = P, q = -Q", {p_: P, q_: -Q}, [sp.Abs(P - Q) - (P - Q)]),
                 Case("p = -P, q = Q", {p_: -P, q_: Q}, [sp.Abs(P - Q) - (P - Q)]),
                 Case("p = -P, q = -Q", {p_: -P, q_: -Q}, [2 * Q]),
             ], why="Sign cases of p = γ_j z_j and q = B_j, with P, Q ≥ 0."),
        Step("case |z_j| = ρ + α ≥ ρ: |γ_j||z_j| - |B_j| ≥ |z_j| - ρ",
             (1 + de) * (rho + al) - ((1 + de) * rho - be), (rho + al) - rho, ">=", certificate=[de * al, be],
             why="|γ_j| = 1 + δ ≥ 1 and |B_j| = ρ|γ_j| - β ≤ ρ|γ_j|: so |x_j| ≥ |z_j| - ρ = α ≥ 0."),
        Step("squaring: |x_j| = α + μ ≥ α ⇒ x_j² ≥ α² = φ(z_j²)", (al + mu) ** 2, al**2, ">=",
             certificate=[mu * (2 * al + mu)],
             why="φ(u) = (√u - ρ)₊²; for |z_j| < ρ, φ(z_j²) = 0 ≤ x_j² trivially."),
        Step("φ'(1) = 1 - ρ", sp.diff(phi(uu), uu).subs(uu, 1), 1 - rho),
        Step("supporting line of φ at u = 1 (w = √u ≥ ρ)", phi(w**2), phi(1) + (1 - rho) * (w**2 - 1), ">=",
             certificate=[rho * (w - 1) ** 2], method=("expand",),
             why="(w-ρ)² - (1-ρ)² - (1-ρ)(w²-1) = ρ(w-1)² (√(w²) = w for w ≥ 0)."),
        Step("supporting line of φ at u = 1 (w = √u < ρ, φ = 0)", sp.S.Zero, ((1 - rho) ** 2 + (1 - rho) * (w**2 - 1)).subs(rho, 1 - om),
             ">=", certificate=[Case("ρ = w + τ = 1 - ω", {}, [om * (w * (tau + om) + tau)],
                                     relations=(w + tau + om - 1,), gens=(w, tau, om))],
             method=("mod",),
             why="-(1-ρ)² - (1-ρ)(w²-1) = ω(1 - ω - w²) = ω(w(τ+ω) + τ) with w + τ + ω = 1 (ρ ≤ 1)."),
        Step("Jensen via the supporting line: (1/d)Σ Φ(u_j) ≥ Φ(1) + Φ'(1)((1/d)Σu_j - 1)",
             sp.Sum(Phi(1) + D1 * (u[j] - 1) + gap[j], (j, 1, d)) / d,
             Phi(1) + D1 * (sp.Sum(u[j], (j, 1, d)) / d - 1), ">=", certificate=[sp.Sum(gap[j], (j, 1, d)) / d],
             method=("sums",),
             why="Φ(u_j) = Φ(1) + Φ'(1)(u_j - 1) + g_j with g_j ≥ 0 the supporting-line gap (previous two steps, "
             "u_j = z_j²). With (1/d)Σ z_j² = d v/(v+ε)/d → 1: (1/d)‖x‖² ≥ (1/d)Σφ(z_j²) ≥ φ(1) = (1-ρ)²."),
        Step("‖x‖ ≥ (1-ρ)√d", sp.sqrt(d * om**2), om * sp.sqrt(d), why="ω = 1 - ρ ≥ 0; ρ = 0.1 gives 0.9√d."),
        Step("attaining configuration: h = ((-1)^j), d = 2n, has mean 0", sp.Sum((-1) ** j, (j, 1, 2 * n)), 0, doit=True,
             method=("expand", "powsimp")),
        Step("... and biased variance 1, so z = h", sp.Sum(((-1) ** j) ** 2, (j, 1, 2 * n)) / (2 * n), 1, doit=True),
        Step("... x_j = z_j - ρ z_j gives ‖x‖² = d(1-ρ)²", sp.Sum(((1 - rho) * (-1) ** j) ** 2, (j, 1, 2 * n)),
             2 * n * (1 - rho) ** 2, doit=True, method=("expand", "powsimp"),
             why="γ = 1, B_j = -ρ sign(z_j): every |z_j| = 1, equality in each step. For odd d no zero-mean ±1 "
             "vector exists and the bound is not attained (the library raises)."),
    ]


def check_numeric(rng):
    """layernorm_sq_norm, the lower bounds, the attaining configuration and random restricted LayerNorms."""
    from rmt_sparsity.theory import (
        layernorm_bound_attaining_configuration,
        layernorm_norm_lower_bound,
        layernorm_sq_norm,
        restricted_layernorm,
    )

    dd, vv, ee, rr = sp.symbols("d v epsilon rho", positive=True)
    sq = sp.lambdify((dd, vv, ee), dd * vv / (vv + ee), "numpy")
    lb = sp.lambdify((dd, rr), (1 - rr) * sp.sqrt(dd), "numpy")
    out = []
    ds = rng.integers(1, 2000, 10)
    vs = np.exp(rng.uniform(-12, 3, 10))
    es = np.exp(rng.uniform(-14, -3, 10))
    got = [layernorm_sq_norm(int(a), float(b), float(c)) for a, b, c in zip(ds, vs, es)]
    ref = sq(ds.astype(float), vs, es)
    out.append(compare("‖LN‖² = d v/(v+ε)", "theory.layernorm_sq_norm", got, ref, 4 * EPS * ref,
                       "4 ulps (one addition, product, division)"))
    rhos = rng.uniform(0, 1, 10)
    got = [layernorm_norm_lower_bound(int(a), zeroth_bias=True, bias_ratio=float(b)) for a, b in zip(ds, rhos)]
    ref = lb(ds.astype(float), rhos)
    out.append(compare("(1-ρ)√d", "theory.layernorm_norm_lower_bound", got, ref, 4 * EPS * ref + 1e-300, "4 ulps"))
    got = [layernorm_norm_lower_bound(int(a)) for a in ds]
    ref = np.sqrt(ds.astype(float))
    out.append(compare("√d", "theory.layernorm_norm_lower_bound", got, ref, EPS * ref, "1 ulp (sqrt)"))
    dev = 2 * rng.integers(1, 500, 6)
    got = [layernorm_bound_attaining_configuration(int(a), bias_ratio=float(b))["norm"] for a, b in zip(dev, rhos[:6])]
    ref = lb(dev.astype(float), rhos[:6])
    # x_j = ±1·(1 - ρ) up to 3 roundings (normalisation of an exact ±1 vector, bias), then a norm
    # of d equal squares: relative error <= (d/2 + 4) eps via the gamma_n bound.
    out.append(compare("attaining configuration: ‖x‖ = (1-ρ)√d", "theory.layernorm_bound_attaining_configuration",
                       got, ref, (dev / 2 + 4) * EPS * ref + 1e-300, "(d/2 + 4) eps relative (norm of d equal squares)"))
    # random restricted LayerNorms with |gamma| >= 1 and |B| <= rho |gamma|, eps = 0: violation of the bound
    viol, tol = [], []
    for _ in range(8):
        D = int(rng.integers(2, 256))
        hh = rng.normal(size=D) * np.exp(rng.normal())
        gam = (1 + rng.exponential(0.5, D)) * rng.choice([-1, 1], D)
        rho = float(rng.uniform(0, 1))
        B = rng.uniform(-1, 1, D) * rho * np.abs(gam)
        x = restricted_layernorm(hh, gam, B, eps=0.0)
        nrm = float(np.linalg.norm(x))
        bound = (1 - rho) * math.sqrt(D)
        viol.append(max(0.0, bound - nrm))
        tol.append((D + 8) * EPS * max(nrm, bound))  # normalisation and norm rounding (gamma_n)
    out.append(compare("random restricted LN: ‖x‖ ≥ (1-ρ)√d", "theory.restricted_layernorm", viol, np.zeros(8), tol,
                       "violation vs (d + 8) eps ‖x‖"))
    return out
