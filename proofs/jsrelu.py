r"""J-SquaredReLU with its safe linear continuation.

.. math::

    f(h) = \begin{cases}0 & h < 0\\ h^2/2 + h & 0 \le h \le 4\\ 12 + 5(h-4) & h > 4\end{cases}

The continuation at :math:`h = 4` is the tangent line (value 12, slope 5), so
:math:`f \in C^1` there (but not :math:`C^2`); :math:`f' \ge 1` on the active
set :math:`h > 0`; at 0 the function is continuous and its derivative jumps
by 1 (the library's convention is :math:`f'(0) = 0`, like ReLU in JAX).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ._core import Step, compare

TITLE = "J-SquaredReLU: C¹ at the continuation point, f' ≥ 1 on the active set, jump at 0 (derivation 9)"
STATEMENT = (
    r"f(4^-) = f(4^+) = 12,\ f'(4^\pm) = 5,\ f''(4^-) - f''(4^+) = 1,\ f'(h) \ge 1 \ (h > 0),\ "
    r"f(0^\pm) = 0,\ f'(0^+) - f'(0^-) = 1"
)
ASSUMPTIONS = "h real; on the parabola piece h = u ∈ [0, 4] with u ≥ 0 declared; past the knee h > 4."
REFERENCES = "Peng et al., arXiv 2309.03004 (J-SquaredReLU); library: nn/_activations.py (jsrelu)"

h = sp.Symbol("h", real=True)
u = sp.Symbol("u", nonnegative=True)
KNEE = 4
f_mid = h**2 / 2 + h
f_hi = 12 + 5 * (h - 4)
f_lo = sp.S.Zero
f = sp.Piecewise((f_lo, h < 0), (f_mid, h <= KNEE), (f_hi, True))


def steps():
    d = lambda e: sp.diff(e, h)  # noqa: E731
    return [
        Step("continuity at the knee", f_mid.subs(h, KNEE), f_hi.subs(h, KNEE), why="4²/2 + 4 = 12."),
        Step("C¹ at the knee: equal one-sided derivatives", d(f_mid).subs(h, KNEE), d(f_hi).subs(h, KNEE),
             why="The continuation is the tangent line, so activations and gradients stay bounded by a line."),
        Step("not C²: the second derivative jumps by 1", d(d(f_mid)).subs(h, KNEE) - d(d(f_hi)).subs(h, KNEE), 1),
        Step("f' ≥ 1 on the parabola piece", d(f_mid).subs(h, u), 1, ">=", certificate=[u],
             why="f'(u) - 1 = u ≥ 0."),
        Step("f' ≥ 1 past the knee", d(f_hi), 1, ">=", certificate=[sp.Integer(4)], why="f' = 5."),
        Step("continuity at 0", f_mid.subs(h, 0), f_lo, why="Both pieces vanish at 0."),
        Step("derivative jump at 0", d(f_mid).subs(h, 0) - d(f_lo), 1,
             why="f'(0⁺) = 1, f'(0⁻) = 0: a kink; JAX's derivative at exactly 0 is 0 (the ReLU convention)."),
    ]


def check_numeric(rng):
    """``rmt_sparsity.nn.jsrelu`` and its JAX derivative vs the lambdified piecewise f and f'."""
    try:
        import jax
        import jax.numpy as jnp

        from rmt_sparsity.nn import jsrelu
    except ImportError as exc:  # pragma: no cover - the nn subpackage is part of the library
        from ._core import unavailable

        return [unavailable("jsrelu", "rmt_sparsity.nn.jsrelu", f"library function not available: {exc}")]
    fl = sp.lambdify(h, f, "numpy")
    fpl = sp.lambdify(h, sp.Piecewise((0, h <= 0), (h + 1, h <= KNEE), (5, True)), "numpy")
    hs = np.concatenate([rng.normal(0, 3, 40), rng.uniform(3.9, 4.1, 8), [0.0, 4.0, -1e-300, 1e-300]])
    x = jnp.asarray(hs)
    got = np.asarray(jsrelu(x), dtype=float)
    dgot = np.asarray(jax.vmap(jax.grad(jsrelu))(x), dtype=float)
    eps = float(jnp.finfo(x.dtype).eps)  # float32 unless jax_enable_x64
    hx = np.asarray(x, dtype=float)  # the values JAX actually saw (float32 unless x64 is enabled)
    ref = fl(hx)
    dref = fpl(hx)
    # f: 0.5 q q + q + 5 (r - q): 5 roundings in the working dtype, terms bounded by |f| + 5|h|.
    tol = 8 * eps * (np.abs(ref) + 5 * np.abs(hx)) + 1e-300
    # f': derivative of the same expression through minimum/relu: q + 1 (+ 5 past the knee) exact
    # to 2 roundings.
    dtol = 4 * eps * (np.abs(dref) + 1)
    return [
        compare("f(h)", "rmt_sparsity.nn.jsrelu", got, ref, tol, "8 eps (|f| + 5|h|) in JAX's working dtype"),
        compare("f'(h) by jax.grad", "jax.grad(rmt_sparsity.nn.jsrelu)", dgot, dref, dtol,
                "4 eps (|f'| + 1); f'(0) = 0 and f'(4) = 5 by the library's convention"),
    ]
