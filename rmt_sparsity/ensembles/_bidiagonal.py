r"""The Dumitriu–Edelman bidiagonal model: χ draws and the tridiagonal :math:`fBB^\top` (shared by the samplers).

With :math:`m = \min(p, n)`, :math:`N = \max(p, n)`, the lower bidiagonal
:math:`B` has diagonal :math:`\chi_{\beta(N-i)}` and subdiagonal
:math:`\chi_{\beta(m-1-i)}`, and the eigenvalues of :math:`BB^\top/\beta` have the
law of the non-zero eigenvalues of :math:`WW^\top` (arXiv math-ph/0206043).
"""

from __future__ import annotations

import numpy as np

from .._checks import check_int, check_size_budget

_KERNELS: dict = {}

#: Largest p or n: sizes are used as float64 degrees of freedom, exact up to 2**53.
MAX_DIM = 2**53


def check_sizes(p, n, *, draws: int = 1) -> tuple[int, int]:
    """Validated ``(p, n)``, both ints in ``[1, 2**53]``, and the bidiagonal model's memory refused up front.

    ``draws`` independent bidiagonals of ``m = min(p, n)`` χ entries each, plus the
    tridiagonal and the solver's work arrays: about ``64·m`` bytes per draw.
    """
    p = check_int("p", p, min=1, max=MAX_DIM)
    n = check_int("n", n, min=1, max=MAX_DIM)
    m = min(p, n)
    check_size_budget("p, n" if draws == 1 else "size", (p, n) if draws == 1 else draws, nbytes=64 * m * draws,
                      what=f"{draws} bidiagonal model(s) of order min(p, n) = {m}")
    return p, n


def chi_bidiagonal(g: np.random.Generator, p: int, n: int, beta: float, size=None):
    """Pre-drawn χ entries (d, e) of the Dumitriu-Edelman bidiagonal; shapes (m,), (m-1,) or with a leading size."""
    m, N = min(p, n), max(p, n)
    df_d = beta * (float(N) - np.arange(m))
    df_e = beta * (m - 1 - np.arange(m - 1))
    shape_d = (m,) if size is None else (size, m)
    shape_e = (m - 1,) if size is None else (size, m - 1)
    d = np.sqrt(2.0 * g.standard_gamma(np.broadcast_to(df_d / 2.0, shape_d)))
    e = np.sqrt(2.0 * g.standard_gamma(np.broadcast_to(df_e / 2.0, shape_e)))
    return d, e


def _tridiag_kernel():
    if not _KERNELS:
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

        _KERNELS["tridiag"] = _tridiag
    return _KERNELS["tridiag"]


def tridiag_from(d, e, f):
    """Diagonal and off-diagonal of :math:`T = fBB^\\top` for the bidiagonal ``(d, e)`` (Numba)."""
    m = d.size
    a = np.empty(m)
    b = np.empty(max(m - 1, 0))
    _tridiag_kernel()(d, e, f, a, b)
    return a, b
