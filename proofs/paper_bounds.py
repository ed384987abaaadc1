r"""The paper code's explicit Stieltjes-based error bounds ``bound_re`` / ``bound_im``: UNVERIFIED.

``rmt_sparsity.theory.bound_re``/``bound_im`` transcribe ``compute_bounds`` of
the paper's code (cdgyp/sparsity, arXiv 2309.03004):

.. math::

    \mathrm{re} = \frac{\sqrt2\,\alpha}{c\sqrt v}\,K,\quad
    \mathrm{im} = \frac{\sqrt2\,\alpha^2}{c\,v\sqrt v}\,K,\quad
    K = \sqrt{c + (2\sqrt2+3)\frac{c\alpha}{v} + \frac{cA}{v} + \frac{c}{vp}} .

They could **not** be re-derived: the code carries no derivation, the
constants :math:`2\sqrt2 + 3` and the roles of α (``tr(aC)`` or ``tr(aC)/p``?)
and of v (the imaginary part of the spectral argument) are not documented, and
the argument they would bound (a distance between Stieltjes transforms of the
discounted covariance and MP) is not stated. What *is* checked here: the
structural identity :math:`\mathrm{im} = \mathrm{re}\cdot\alpha/v` of the
transcription, and the anisotropy identity :math:`A = \sqrt{1-\alpha}` that
the bounds' inputs obey (docs/science.md §5).
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from ._core import EPS, Step, compare

TITLE = "Paper code's bound_re / bound_im (UNVERIFIED) and the anisotropy identity A = √(1-α)"
STATEMENT = (
    r"\mathrm{re}, \mathrm{im}\ \text{(unverified)};\quad \mathrm{im} = \mathrm{re}\cdot\alpha/v;\quad "
    r"\|aC - I\|_F^2 = p(1-\alpha),\ a = \frac{\operatorname{tr}C}{\|C\|_F^2},\ \alpha = \frac{(\operatorname{tr}C)^2}{p\|C\|_F^2}"
)
ASSUMPTIONS = "c, v, p > 0, α, A ≥ 0; C symmetric PSD with tr C = τ > 0, ‖C‖_F² = φ > 0."
REFERENCES = "Peng et al., arXiv 2309.03004 and its code (cdgyp/sparsity, compute_bounds); library: theory/_bounds.py"

c, v, p = sp.symbols("c v p", positive=True)
al, A = sp.symbols("alpha A", nonnegative=True)
K = sp.sqrt(c + (2 * sp.sqrt(2) + 3) * c * al / v + c * A / v + c / (v * p))
RE = sp.sqrt(2) / (c * sp.sqrt(v)) * al * K
IM = sp.sqrt(2) / (c * v * sp.sqrt(v)) * al**2 * K

REASON = (
    "not re-derived: the paper's code gives no derivation of the constant 2√2 + 3, does not say which "
    "normalisation of α and A it feeds in (it selects the first logged tag containing '<type>_global_alpha'), "
    "and the quantity being bounded (a Stieltjes-transform distance at z = x + iv?) is not stated; a derivation "
    "needs the paper's proof, which is not available here"
)


def steps():
    tau, phi = sp.symbols("tau phi", positive=True)
    a = tau / phi
    alpha = tau**2 / (p * phi)
    return [
        Step("bound_re bounds |Re(m_emp - m_MP)|", sp.Symbol(r"\mathrm{re}"), RE, unverified=REASON),
        Step("bound_im bounds |Im(m_emp - m_MP)|", sp.Symbol(r"\mathrm{im}"), IM, unverified=REASON),
        Step("structure of the transcription: im = re · α/v", IM, RE * al / v,
             why="Holds for the transcribed formulas whatever their validity."),
        Step("anisotropy: ‖aC - I‖_F² = a²‖C‖_F² - 2a tr C + p = p(1 - α)",
             a**2 * phi - 2 * a * tau + p, p * (1 - alpha), method=("cancel",),
             why="a = tr C/‖C‖_F² minimises ‖aC - I‖_F; hence A = √p‖aC - I‖_F/p = √(1 - α) "
             "(library: alpha_anisotropy)."),
    ]


def check_numeric(rng):
    """Transcription check of bound_re/bound_im (consistency only) and alpha_anisotropy's A = √(1-α)."""
    from rmt_sparsity.theory import alpha_anisotropy, bound_im, bound_re

    fre = sp.lambdify((c, al, A, v, p), RE, "mpmath")
    fim = sp.lambdify((c, al, A, v, p), IM, "mpmath")
    gre, gim, rre, rim = [], [], [], []
    for _ in range(8):
        cv, av, Av = float(rng.uniform(0.01, 2)), float(rng.uniform(0, 1)), float(rng.uniform(0, 1))
        vv, pv = float(10 ** rng.uniform(-3, 0)), int(rng.integers(1, 10**6))
        gre.append(bound_re(cv, av, Av, vv, pv)), gim.append(bound_im(cv, av, Av, vv, pv))
        rre.append(float(fre(cv, av, Av, vv, pv))), rim.append(float(fim(cv, av, Av, vv, pv)))
    rre, rim = np.array(rre), np.array(rim)
    out = [
        compare("transcription of re (consistency only; the bound is unverified)", "theory.bound_re", gre, rre,
                16 * EPS * rre + 1e-300, "16 ulps (a dozen roundings)"),
        compare("transcription of im (consistency only; the bound is unverified)", "theory.bound_im", gim, rim,
                16 * EPS * rim + 1e-300, "16 ulps"),
    ]
    gA, rA, tA = [], [], []
    for _ in range(6):
        pdim = int(rng.integers(2, 60))
        X = rng.normal(size=(pdim, int(rng.integers(1, 3 * pdim))))
        C = X @ X.T
        alpha, aniso = alpha_anisotropy(C)
        gA.append(aniso), rA.append(math.sqrt(max(0.0, 1 - alpha)))
        # both sides from sums of p² terms (gamma_n bound p² eps relative to ‖aC‖² ~ p), and
        # √(1-α) amplifies absolute errors by 1/(2√(1-α))
        tA.append(4 * pdim * pdim * EPS / max(math.sqrt(max(1 - alpha, 0.0)), 1e-8))
    out.append(compare("A = √(1 - α)", "theory.alpha_anisotropy", gA, rA, tA,
                       "4 p² eps / √(1-α) (Frobenius sums of p² terms; sqrt near 0)"))
    return out
