r"""The key-gradient identity and augmented flatness.

For one token with key-layer input :math:`x\in\mathbb R^d`, pre-activations
:math:`h = Kx`, and :math:`\eta = \partial L/\partial h = g\odot\sigma'(h)`,
:math:`\partial L/\partial K = \eta x^\top`, so

.. math:: \|\partial L/\partial K\|_F^2 = \sum_{i,j}\eta_i^2 x_j^2 = \|x\|^2\|\eta\|^2 .

For ReLU, :math:`\|\eta\|^2 = \sum_{i\,\text{active}} g_i^2`; for J-SquaredReLU,
:math:`\sigma' \ge 1` on the active set gives :math:`\|\eta\|^2 \ge \sum_{\text{active}} g_i^2`.
Augmented flatness is the sum over tokens of these per-token squared norms; the
squared norm of the *batch* gradient differs by the cross terms
:math:`2\sum_{t<u}(\eta_t\cdot\eta_u)(x_t\cdot x_u)`.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ._core import EPS, Step, compare

TITLE = "Gradient identity ‖∂L/∂K‖² = ‖x‖²‖η‖², ReLU / J-SquaredReLU cases, augmented flatness (derivation 6)"
STATEMENT = (
    r"\|\eta x^\top\|_F^2 = \|x\|^2\|\eta\|^2,\quad \|\eta\|^2 = \textstyle\sum_{\text{active}} g_i^2 \ (\mathrm{ReLU}),"
    r"\quad \|\eta\|^2 \ge \textstyle\sum_{\text{active}} g_i^2\ (\mathrm{JSReLU}),\quad "
    r"\mathcal F = \textstyle\sum_t \|x_t\|^2\|\eta_t\|^2"
)
ASSUMPTIONS = (
    "d, d_ff, T positive integers (symbolic); x_j, η_i, g_i real; χ ∈ {0, 1} (χ² = χ) the ReLU indicator; "
    "on the JSReLU active set h ≥ 0 (parabola) or f' = 5 (past the knee)."
)
REFERENCES = "Peng et al., arXiv 2309.03004; library: theory/_identities.py"

i, j = sp.symbols("i j", integer=True, positive=True)
d, f, T = sp.symbols("d d_ff T", integer=True, positive=True)
x = sp.IndexedBase("x", real=True)
eta = sp.IndexedBase("eta", real=True)
y = sp.IndexedBase("y", real=True)  # second token's input
zeta = sp.IndexedBase("zeta", real=True)  # second token's eta
t = sp.Symbol("t", integer=True, positive=True)
X2 = sp.IndexedBase("x", real=True)  # x[t, j]
E2 = sp.IndexedBase("eta", real=True)  # eta[t, i]


def steps():
    g, chi = sp.symbols("g chi", real=True)
    hh = sp.Symbol("h", nonnegative=True)
    frob = sp.Sum((eta[i] * x[j]) ** 2, (i, 1, f), (j, 1, d))
    nx = sp.Sum(x[j] ** 2, (j, 1, d))
    ne = sp.Sum(eta[i] ** 2, (i, 1, f))
    batch = sp.Sum((eta[i] * x[j] + zeta[i] * y[j]) ** 2, (i, 1, f), (j, 1, d))
    per_token = frob + sp.Sum((zeta[i] * y[j]) ** 2, (i, 1, f), (j, 1, d))
    cross = 2 * sp.Sum(eta[i] * zeta[i], (i, 1, f)) * sp.Sum(x[j] * y[j], (j, 1, d))
    return [
        Step("‖η xᵀ‖_F² = ‖x‖² ‖η‖² (any d, d_ff)", frob, nx * ne, method=("sums",),
             why="(ηxᵀ)_{ij} = η_i x_j; the double sum factorises."),
        Step("ReLU: η_i² = g_i² χ_i (χ ∈ {0, 1})", (g * chi) ** 2, g**2 * chi, method=("mod",),
             relations=(chi**2 - chi,), gens=(chi,),
             why="η_i = g_i·1[h_i > 0], and an indicator is idempotent: ‖η‖² = Σ_active g_i²."),
        Step("J-SquaredReLU on [0, 4]: η_i² ≥ g_i²", (g * (hh + 1)) ** 2, g**2, ">=",
             certificate=[g**2 * hh * (hh + 2)], why="σ'(h) = h + 1 ≥ 1 for h ≥ 0: (h+1)² - 1 = h(h+2) ≥ 0."),
        Step("J-SquaredReLU past the knee: η_i² ≥ g_i²", (5 * g) ** 2, g**2, ">=", certificate=[24 * g**2],
             why="σ' = 5 on the linear continuation; hence ‖∂L/∂K‖² ≥ ‖x‖² Σ_active g_i²."),
        Step("augmented flatness Σ_t ‖η_t x_tᵀ‖_F² = Σ_t ‖x_t‖²‖η_t‖² (any T, d, d_ff)",
             sp.Sum((E2[t, i] * X2[t, j]) ** 2, (i, 1, f), (j, 1, d), (t, 1, T)),
             sp.Sum(sp.Sum(X2[t, j] ** 2, (j, 1, d)) * sp.Sum(E2[t, i] ** 2, (i, 1, f)), (t, 1, T)),
             method=("sums",),
             why="The sum of per-token squared gradient norms (library: augmented_flatness = Σ key_gradient_sq_norms)."),
        Step("batch gradient ≠ augmented flatness: cross terms (two tokens)", batch, per_token + cross,
             method=("sums",), why="‖Σ_t η_t x_tᵀ‖² = Σ_t ‖η_t x_tᵀ‖² + 2Σ_{t<u}(η_t·η_u)(x_t·x_u)."),
    ]


def check_numeric(rng):
    """key_gradient / key_gradient_sq_norms / augmented_flatness vs ‖x‖²‖η‖², and the JSReLU bound via jax.grad."""
    from rmt_sparsity.theory import augmented_flatness, key_gradient, key_gradient_sq_norms

    xs_, es_ = sp.symbols("nx ne", nonnegative=True)
    ident = sp.lambdify((xs_, es_), xs_ * es_, "numpy")
    out = []
    T_, D, F = int(rng.integers(2, 9)), int(rng.integers(2, 17)), int(rng.integers(2, 33))
    X = rng.normal(size=(T_, D)) * np.exp(rng.normal(size=(T_, 1)))
    E = rng.normal(size=(T_, F)) * (rng.random((T_, F)) < 0.3)
    nx = np.array([float(np.sum(r * r)) for r in X])
    ne = np.array([float(np.sum(r * r)) for r in E])
    ref = ident(nx, ne)
    # positive sums of d and d_ff squares (gamma_n bound n eps each) and one product:
    # relative error <= (d + d_ff + 1) eps on both sides; doubled.
    tol = 2 * (D + F + 1) * EPS * ref
    out.append(compare("‖x‖²‖η‖² per token", "theory.key_gradient_sq_norms", key_gradient_sq_norms(X, E), ref, tol,
                       "2 (d + d_ff + 1) eps ‖x‖²‖η‖² (sums of squares, gamma_n bound)"))
    G = key_gradient(X, E)
    fro = np.array([float(np.sum(g * g)) for g in G])
    out.append(compare("‖key_gradient‖_F² = ‖x‖²‖η‖²", "theory.key_gradient", fro, ref,
                       2 * (D * F + D + F + 2) * EPS * ref, "2 (d·d_ff + d + d_ff + 2) eps (sum of d·d_ff squares)"))
    out.append(compare("augmented flatness = Σ_t", "theory.augmented_flatness", [augmented_flatness(X, E)],
                       [float(np.sum(ref))], [2 * (D + F + T_ + 1) * EPS * float(np.sum(ref))],
                       "2 (d + d_ff + T + 1) eps (positive sum over T tokens)"))
    try:
        import jax

        from rmt_sparsity.nn import jsrelu
    except ImportError as exc:  # pragma: no cover
        from ._core import unavailable

        out.append(unavailable("JSReLU bound", "rmt_sparsity.nn.jsrelu", f"library function not available: {exc}"))
        return out
    H = rng.normal(0, 3, size=(T_, F))
    gup = rng.normal(size=(T_, F))
    dsig = np.asarray(jax.vmap(jax.grad(jsrelu))(H.ravel()), dtype=float).reshape(T_, F)
    eta_js = gup * dsig
    active = H > 0
    lower = np.array([float(np.sum((gup * active) ** 2, axis=1)[t]) for t in range(T_)]) * nx
    got = key_gradient_sq_norms(X, eta_js)
    # the inequality: report the violation max(0, lower - got), tolerance from rounding of both sides
    # (float32 derivative: relative 4 eps32 per factor, squared: 8 eps32; sums: (d + d_ff) eps)
    viol = np.maximum(0.0, lower - got)
    tol_v = (8 * 2**-23 + 2 * (D + F + 1) * EPS) * np.maximum(lower, got)
    out.append(compare("JSReLU: ‖∂L/∂K‖² ≥ ‖x‖² Σ_active g²", "key_gradient_sq_norms ∘ jax.grad(jsrelu)", viol,
                       np.zeros_like(viol), tol_v, "violation vs 8 eps32 + 2(d+d_ff+1) eps relative"))
    return out
