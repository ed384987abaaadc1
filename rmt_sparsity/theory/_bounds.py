"""UNVERIFIED: the explicit error bounds carried by the paper's code.

These are transcriptions of ``compute_bounds`` in cdgyp/sparsity
(``codes/scripts/after_training/mp.py``), the code of Peng et al.,
arXiv 2309.03004. They have **not** been re-derived in ``proofs/``; docs/science.md §5
requires a re-derivation before they are used. Nothing else in the library
calls them, and no claim relies on them.
"""

from __future__ import annotations

import math

from .._checks import check_int, check_real

__all__ = ["bound_re", "bound_im"]


def _common(c, alpha, anisotropy, v, p):
    c = check_real("c", c, lo=0.0, lo_open=True)
    alpha = check_real("alpha", alpha, lo=0.0)
    anisotropy = check_real("anisotropy", anisotropy, lo=0.0)
    v = check_real("v", v, lo=0.0, lo_open=True)
    p = check_int("p", p, min=1)
    k = 2.0 * math.sqrt(2.0) + 3.0
    return c, alpha, v, math.sqrt(c + k * c * alpha / v + c * anisotropy / v + c / (v * p))


def bound_re(c, alpha, anisotropy, v, p) -> float:
    """UNVERIFIED transcription of the paper code's bound on the real part (not re-derived).

    .. warning::

       Unverified. Copied in formula from ``compute_bounds`` of cdgyp/sparsity;
       no derivation in ``proofs/`` yet. Which normalisation of ``alpha`` and
       ``anisotropy`` the code feeds in is ambiguous (it selects the first
       logged tag containing ``"<type>_global_alpha"``, which may be ``tr(aC)``
       or ``tr(aC)/p``). Do not rely on it.

    .. math::

        \\mathrm{re} = \\frac{\\sqrt 2}{c\\sqrt v}\\,\\alpha\\,
        \\sqrt{c + (2\\sqrt2 + 3)\\frac{c\\alpha}{v} + \\frac{cA}{v} + \\frac{c}{v p}},

    with ``c = p/(B t)`` in the code (no effective window), ``v`` the imaginary
    part of the spectral argument (``1e-2`` in the code).

    Examples
    --------
    >>> round(bound_re(0.5, 1.0, 0.0, 1.0, 10**6), 6)
    5.226252
    """
    c, alpha, v, common = _common(c, alpha, anisotropy, v, p)
    return math.sqrt(2.0) / (c * math.sqrt(v)) * alpha * common


def bound_im(c, alpha, anisotropy, v, p) -> float:
    """UNVERIFIED transcription of the paper code's bound on the imaginary part (not re-derived).

    .. warning::

       Unverified; see :func:`bound_re`.

    .. math::

        \\mathrm{im} = \\frac{\\sqrt 2}{c\\,v\\sqrt v}\\,\\alpha^2\\,
        \\sqrt{c + (2\\sqrt2 + 3)\\frac{c\\alpha}{v} + \\frac{cA}{v} + \\frac{c}{v p}} .

    Examples
    --------
    >>> round(bound_im(0.5, 1.0, 0.0, 1.0, 10**6), 6)
    5.226252
    """
    c, alpha, v, common = _common(c, alpha, anisotropy, v, p)
    return math.sqrt(2.0) / (c * v * math.sqrt(v)) * alpha * alpha * common
