r"""β-Laguerre (Wishart) spectra from the Dumitriu–Edelman bidiagonal model.

Convention (DESIGN §3): W is :math:`p\times n` with iid entries of variance
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

from .._checks import check_choice, check_int, check_real
from .._rng import as_generator

__all__ = ["laguerre_eigenvalues", "laguerre_tridiagonal"]

_KERNELS: dict = {}


def _check_sizes(p, n) -> tuple[int, int]:
    return check_int("p", p, min=1), check_int("n", n, min=1)


def _chi_bidiagonal(g: np.random.Generator, p: int, n: int, beta: float, size=None):
    """Pre-drawn χ entries (d, e) of the Dumitriu-Edelman bidiagonal; shapes (m,), (m-1,) or with a leading size."""
    m, N = min(p, n), max(p, n)
    df_d = beta * (N - np.arange(m))
    df_e = beta * (m - 1 - np.arange(m - 1))
    shape_d = (m,) if size is None else (size, m)
    shape_e = (m - 1,) if size is None else (size, m - 1)
    d = np.sqrt(2.0 * g.standard_gamma(np.broadcast_to(df_d / 2.0, shape_d)))
    e = np.sqrt(2.0 * g.standard_gamma(np.broadcast_to(df_e / 2.0, shape_e)))
    return d, e


def _kernels():
    if _KERNELS:
        return _KERNELS
    import numba as nb

    @nb.njit(cache=True, nogil=True)
    def _tridiag(d, e, f, a, b):
        """T = f B B^T for lower bidiagonal B (diag d, subdiag e): diagonal a, off-diagonal b."""
        m = d.size
        for i in range(m):
            v = d[i] * d[i]
            if i > 0:
                v += e[i - 1] * e[i - 1]
            a[i] = f * v
            if i < m - 1:
                b[i] = f * d[i] * e[i]

    from .sturm import _kernels as _sturm_kernels

    _gk_count = _sturm_kernels()["gk_count"]  # one Golub-Kahan Sturm count, shared with sturm.py

    @nb.njit(cache=True, parallel=True)
    def _smallest_sv(d, e, k, hi, rtol, out):
        """The k smallest singular values of B (bisection on the Golub-Kahan matrix), in parallel."""
        m = d.size
        g2 = np.empty(2 * m - 1)
        big = 1.0
        for i in range(m):
            g2[2 * i] = d[i] * d[i]
            if i < m - 1:
                g2[2 * i + 1] = e[i] * e[i]
        for i in range(2 * m - 1):
            if g2[i] > big:
                big = g2[i]
        pivmin = 2.2250738585072014e-308 * big
        for j in nb.prange(k):
            lo, h = 0.0, hi
            while h - lo > rtol * h and h > 1e-300:
                mid = 0.5 * (lo + h)
                if _gk_count(g2, mid, pivmin) - m >= j + 1:
                    h = mid
                else:
                    lo = mid
            out[j] = 0.5 * (lo + h)

    _KERNELS.update(tridiag=_tridiag, smallest_sv=_smallest_sv)
    return _KERNELS


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
    p, n = _check_sizes(p, n)
    beta = check_real("beta", beta, lo=0.0, lo_open=True)
    scale = check_real("scale", scale, lo=0.0, lo_open=True)
    d, e = _chi_bidiagonal(as_generator(rng), p, n, beta)
    return _tridiag_from(d, e, scale / (beta * n))


def _tridiag_from(d, e, f):
    m = d.size
    a = np.empty(m)
    b = np.empty(max(m - 1, 0))
    _kernels()["tridiag"](d, e, f, a, b)
    return a, b


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
    p, n = _check_sizes(p, n)
    beta = check_real("beta", beta, lo=0.0, lo_open=True)
    scale = check_real("scale", scale, lo=0.0, lo_open=True)
    method = check_choice("method", method, ("tridiagonal", "dense"))
    refine_min = check_int("refine_min", refine_min, min=0, max=min(p, n))
    g = as_generator(rng)
    if method == "dense":
        if beta not in (1.0, 2.0):
            raise ValueError(f"beta must be 1 or 2 for method='dense'; got {beta!r}")
        if refine_min:
            raise ValueError("refine_min applies to method='tridiagonal' only")
        if beta == 1.0:
            W = g.standard_normal((p, n))
            lam = np.linalg.eigvalsh(W @ W.T / n)
        else:
            W = (g.standard_normal((p, n)) + 1j * g.standard_normal((p, n))) / np.sqrt(2.0)
            lam = np.linalg.eigvalsh(W @ W.conj().T / n)
        return lam * scale
    from scipy.linalg import eigvalsh_tridiagonal

    d, e = _chi_bidiagonal(g, p, n, beta)
    f = scale / (beta * n)
    a, b = _tridiag_from(d, e, f)
    m = a.size
    lam = eigvalsh_tridiagonal(a, b, lapack_driver="sterf") if m > 1 else a.copy()
    lam.sort()
    if refine_min:
        sv = np.empty(refine_min)
        hi = float(np.sqrt(lam[-1] / f)) * 1.01 + 1e-300
        _kernels()["smallest_sv"](d, e if m > 1 else np.zeros(0), refine_min, hi, 1e-15, sv)
        lam[:refine_min] = sv**2 * f
    if p > n:
        lam = np.concatenate([np.zeros(p - n), lam])
    return lam
