r"""β-Laguerre (Wishart) spectra from the Dumitriu–Edelman bidiagonal model.

Convention (docs/design.md §3): W is :math:`p\times n` with iid entries of variance
:math:`\sigma^2` (``scale``), ratio :math:`c = p/n`, and the spectrum is that of
:math:`WW^\top/n` (``p`` eigenvalues; ``p - n`` of them are 0 when ``p > n``).

Dumitriu & Edelman (arXiv math-ph/0206043): with :math:`m = \min(p, n)`,
:math:`N = \max(p, n)` and the lower bidiagonal

.. math::

    B = \begin{pmatrix}
      \chi_{\beta N} \\
      \chi_{\beta(m-1)} & \chi_{\beta(N-1)} \\
      & \ddots & \ddots \\
      & & \chi_\beta & \chi_{\beta(N-m+1)}
    \end{pmatrix},

the eigenvalues of :math:`BB^\top/\beta` have the joint law of the non-zero
eigenvalues of :math:`WW^\top` for Gaussian W (β = 1 real, β = 2 complex with
:math:`E|w|^2 = 1`, β = 4 quaternion), and define the β-Laguerre ensemble for
every β > 0. So :math:`\lambda(WW^\top/n) \overset{d}{=} \sigma^2\lambda(BB^\top)/(\beta n)`.

The tridiagonal :math:`T = BB^\top` is formed in Numba and its eigenvalues are
computed with ``scipy.linalg.eigvalsh_tridiagonal(..., lapack_driver="sterf")``
(LAPACK ``dsterf``, root-free QL/QR: O(m²), the fastest accurate driver seen).
Forming :math:`BB^\top` squares the condition number, so :math:`\lambda_{\min}`
carries a relative error of about :math:`\varepsilon\,\lambda_{\max}/\lambda_{\min}`
(quantified in the tests): negligible unless the ratio is near 1 at large n.
There, ``refine_min=k`` recomputes the k smallest eigenvalues by bisection on
the Golub–Kahan form of B, which has relative accuracy (scipy does not expose
LAPACK's ``bdsqr``).
"""

from __future__ import annotations

import numpy as np

from .._checks import check_choice, check_int, check_real, check_size_budget
from .._rng import as_generator
from ._bidiagonal import check_sizes, chi_bidiagonal, tridiag_from
from .sturm import _kernels as _sturm_kernels

__all__ = ["laguerre_eigenvalues", "laguerre_tridiagonal"]


def laguerre_tridiagonal(p, n, beta=1.0, scale=1.0, *, rng=None):
    r"""Draw the Dumitriu–Edelman tridiagonal whose eigenvalues are those of :math:`WW^\top/n`.

    Returns the diagonal and off-diagonal of
    :math:`T = \sigma^2 BB^\top/(\beta n)` (size ``m = min(p, n)``; the ``p - n``
    zero eigenvalues of a ``p > n`` matrix are not represented).

    Examples
    --------
    >>> from rmt_sparsity.ensembles import laguerre_tridiagonal
    >>> a, b = laguerre_tridiagonal(3, 5, rng=0)
    >>> a.shape, b.shape
    ((3,), (2,))
    """
    p, n = check_sizes(p, n)
    beta = check_real("beta", beta, lo=0.0, lo_open=True)
    scale = check_real("scale", scale, lo=0.0, lo_open=True)
    d, e = chi_bidiagonal(as_generator(rng), p, n, beta)
    return tridiag_from(d, e, scale / (beta * n))


def laguerre_eigenvalues(p, n, beta=1.0, scale=1.0, *, rng=None, method="tridiagonal", refine_min=0):
    r"""Eigenvalues of :math:`WW^\top/n` for a :math:`p\times n` β-Laguerre (Wishart) matrix, ascending.

    Parameters
    ----------
    p, n : int
        Rows and columns of W (ratio = p/n).
    beta : float
        Any β > 0 for ``method="tridiagonal"``; 1 (real) or 2 (complex) for ``"dense"``.
    scale : float
        Entry variance σ².
    rng : None, int or numpy.random.Generator
    method : {"tridiagonal", "dense"}
        ``"tridiagonal"``: Dumitriu–Edelman model, O(m²) with LAPACK ``dsterf``
        through ``scipy.linalg.eigvalsh_tridiagonal(..., lapack_driver="sterf")``.
        ``"dense"``: Gaussian W and ``numpy.linalg.eigvalsh(W W^H / n)`` (reference).
    refine_min : int
        Recompute this many smallest non-zero eigenvalues by Golub–Kahan
        bisection (relative accuracy ~1e-15 instead of
        :math:`\varepsilon\lambda_{\max}/\lambda_{\min}`). Tridiagonal only.

    Returns
    -------
    ndarray, shape (p,)
        Ascending; for ``p > n`` the first ``p - n`` entries are exactly 0
        (tridiagonal) or O(ε) (dense).

    Examples
    --------
    >>> from rmt_sparsity.ensembles import laguerre_eigenvalues
    >>> lam = laguerre_eigenvalues(200, 400, rng=0)
    >>> lam.shape, bool(0.0 < lam[0] < lam[-1] < 3.3)
    ((200,), True)
    >>> laguerre_eigenvalues(4, 2, rng=1)[:2].tolist()
    [0.0, 0.0]
    """
    p, n = check_sizes(p, n)
    beta = check_real("beta", beta, lo=0.0, lo_open=True)
    scale = check_real("scale", scale, lo=0.0, lo_open=True)
    method = check_choice("method", method, ("tridiagonal", "dense"))
    refine_min = check_int("refine_min", refine_min, min=0, max=min(p, n))
    check_size_budget("p", p, nbytes=16 * p, what="the p eigenvalues (p - n of them structural zeros when p > n)")
    g = as_generator(rng)
    if method == "dense":
        if beta not in (1.0, 2.0):
            raise ValueError(f"beta must be 1 or 2 for method='dense'; got {beta!r}")
        if refine_min:
            raise ValueError("refine_min applies to method='tridiagonal' only")
        # W (complex for beta = 2), W W^T and eigvalsh's work arrays
        check_size_budget("p, n", (p, n), nbytes=(16 if beta == 2.0 else 8) * (2 * p * n + 3 * p * p),
                          what="the dense p x n matrix and its p x p Gram matrix")
        if beta == 1.0:
            W = g.standard_normal((p, n))
            lam = np.linalg.eigvalsh(W @ W.T / n)
        else:
            W = (g.standard_normal((p, n)) + 1j * g.standard_normal((p, n))) / np.sqrt(2.0)
            lam = np.linalg.eigvalsh(W @ W.conj().T / n)
        return lam * scale
    from scipy.linalg import eigvalsh_tridiagonal

    d, e = chi_bidiagonal(g, p, n, beta)
    f = scale / (beta * n)
    a, b = tridiag_from(d, e, f)
    m = a.size
    lam = eigvalsh_tridiagonal(a, b, lapack_driver="sterf") if m > 1 else a.copy()
    lam.sort()
    if refine_min:
        sv = np.empty(refine_min)
        hi = float(np.sqrt(lam[-1] / f)) * 1.01 + 1e-300
        _sturm_kernels()["smallest_sv"](d, e if m > 1 else np.zeros(0), refine_min, hi, 1e-15, sv)
        lam[:refine_min] = sv**2 * f
    if p > n:
        lam = np.concatenate([np.zeros(p - n), lam])
    return lam
