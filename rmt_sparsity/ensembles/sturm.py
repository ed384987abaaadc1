r"""Sturm-sequence eigenvalue counting for symmetric tridiagonal matrices (Numba).

The number of eigenvalues of a symmetric tridiagonal :math:`T` (diagonal
:math:`a`, off-diagonal :math:`b`) strictly below :math:`x` equals the number
of negative pivots of the :math:`LDL^\top` factorisation of :math:`T - xI`
(Sylvester's law of inertia):

.. math::

    q_0 = a_0 - x, \qquad q_i = (a_i - x) - b_{i-1}^2 / q_{i-1}.

A pivot with :math:`|q_i| < \mathrm{pivmin}` is replaced by
:math:`-\mathrm{pivmin}`, :math:`\mathrm{pivmin} = \mathrm{tiny}\cdot\max(1, \max b_i^2)`,
as in LAPACK's ``dstebz`` (Demmel, *Applied Numerical Linear Algebra* §5.3).
This gives exact spectrum histograms of :math:`10^6\times10^6` β-Laguerre
matrices in O(n) per bin edge without computing eigenvalues
(:func:`laguerre_histogram`), any eigenvalue of a batch of tridiagonals by
bisection (:func:`bisect_eigenvalues`), and extreme eigenvalues by bisection
(:func:`extreme_eigenvalues`) on the Golub–Kahan form of the bidiagonal
Dumitriu–Edelman factor, which determines the singular values to high relative
accuracy (Demmel & Kahan 1990). This module is the library's one
implementation of Sturm counting.

Numba kernels compile on first call (``cache=True``); no random numbers are
drawn inside them (the χ variates are pre-drawn from the caller's Generator).
"""

from __future__ import annotations

import numpy as np

from .._checks import check_array, check_choice, check_int, check_real, check_size_budget
from .._rng import as_generator
from ._bidiagonal import check_sizes, chi_bidiagonal, tridiag_from

__all__ = ["count_below", "bisect_eigenvalues", "laguerre_histogram", "extreme_eigenvalues"]

_KERNELS: dict = {}


def _kernels():
    """The Numba kernels (compiled once, lazily, and cached on disk; see ``_sturm_kernels``)."""
    if not _KERNELS:
        from . import _sturm_kernels as k

        _KERNELS.update(
            pivmin=k._pivmin, count_many=k._count_many, count_rows=k._count_rows, bisect_rows=k._bisect_rows,
            smallest_sv=k._smallest_sv, extremes=k._extremes,
        )
    return _KERNELS


def _tridiagonal(diag, offdiag, *, batch):
    """Validated (a, b2): 1-D for one matrix, or 2-D rows of a batch when ``batch``."""
    nd = (1, 2) if batch else 1
    a = check_array("diag", diag, ndim=nd, dtype=np.float64)
    b = check_array("offdiag", offdiag, dtype=np.float64, nonempty=False)
    m = a.shape[-1]
    if b.shape != a.shape[:-1] + (m - 1,):
        raise ValueError(
            f"offdiag must have shape {a.shape[:-1] + (m - 1,)} (one less than diag {a.shape} per matrix); got {b.shape}"
        )
    return np.ascontiguousarray(a), np.ascontiguousarray(b * b)


def _per_row(name, arr, rows):
    """``arr`` (a scalar or one value per matrix) broadcast to ``(rows,)``, or a ValueError naming it."""
    if arr.shape not in ((), (rows,)):
        raise ValueError(f"{name} must be a scalar or hold one value per matrix, shape ({rows},); got shape {arr.shape}")
    return np.broadcast_to(arr, (rows,))


def count_below(diag, offdiag, x):
    r"""Number of eigenvalues of a symmetric tridiagonal matrix strictly below each ``x``.

    Parameters
    ----------
    diag : array_like, shape (m,) or (k, m)
        Diagonal :math:`a`: one matrix, or a batch of k matrices (one per row).
    offdiag : array_like, shape (m - 1,) or (k, m - 1)
        Off-diagonal :math:`b`.
    x : float or array_like
        For one matrix: points, counted in parallel (Numba ``prange``). For a
        batch: one point per matrix, shape (k,), or a scalar for all.

    Returns
    -------
    int or ndarray of int64
        :math:`\#\{\lambda_i < x\}`, from the signs of the pivots
        :math:`q_i = (a_i - x) - b_{i-1}^2/q_{i-1}` with LAPACK ``stebz``'s
        pivmin safeguard. The count is exact (Sylvester inertia) for points not
        within a few :math:`\varepsilon\lVert T\rVert` of an eigenvalue.

    Examples
    --------
    >>> import numpy as np
    >>> from rmt_sparsity.ensembles import count_below
    >>> a, b = np.array([2.0, 2.0, 2.0]), np.array([-1.0, -1.0])  # eigenvalues 2 - sqrt2, 2, 2 + sqrt2
    >>> count_below(a, b, [0.5, 1.0, 2.5, 4.0]).tolist()
    [0, 1, 2, 3]
    >>> count_below(np.stack([a, a + 1.0]), np.stack([b, b]), [2.5, 2.5]).tolist()  # a batch: one x per matrix
    [2, 1]
    """
    a, b2 = _tridiagonal(diag, offdiag, batch=True)
    xs = check_array("x", x, ndim=(0, 1), dtype=np.float64)
    k = _kernels()
    if a.ndim == 2:
        xs = np.ascontiguousarray(np.broadcast_to(xs, a.shape[:1]) if xs.ndim == 0 else xs)
        if xs.shape != a.shape[:1]:
            raise ValueError(f"x must be a scalar or hold one point per matrix, shape ({a.shape[0]},); got {xs.shape}")
        out = np.empty(a.shape[0], dtype=np.int64)
        k["count_rows"](a, b2, xs, out)
        return out
    scalar = xs.ndim == 0
    xs = np.ascontiguousarray(np.atleast_1d(xs))
    out = np.empty(xs.size, dtype=np.int64)
    k["count_many"](a, b2, xs, k["pivmin"](b2), out)
    return int(out[0]) if scalar else out


def bisect_eigenvalues(diag, offdiag, index, lo=None, hi=None, *, iters=52):
    r"""The ``index``-th smallest eigenvalue of each tridiagonal of a batch, by bisection on Sturm counts.

    Each step halves the bracket :math:`[l, h]`, keeping the half where
    :func:`count_below` at the midpoint crosses ``index``:

    .. math:: h \leftarrow x \text{ if } \#\{\lambda_i < x\} > k \text{ else } l \leftarrow x,
        \qquad x = (l + h)/2,

    so after ``iters`` halvings the midpoint is within :math:`2^{-\text{iters}-1}(h_0 - l_0)`
    of the eigenvalue (absolute accuracy; Demmel, *Applied Numerical Linear Algebra* §5.3).

    Parameters
    ----------
    diag, offdiag : array_like, shapes (k, m) and (k, m - 1)
        The batch (a single matrix may be given as 1-D arrays).
    index : int or array_like of int, shape (k,)
        0-based index of the wanted eigenvalue (ascending), per matrix or for all.
    lo, hi : float or array_like, shape (k,), optional
        A bracket containing it; default the Gershgorin interval of each matrix.
    iters : int, default 52
        Number of halvings.

    Returns
    -------
    ndarray, shape (k,)
        (a float for 1-D input).

    Examples
    --------
    >>> import numpy as np
    >>> from rmt_sparsity.ensembles import bisect_eigenvalues
    >>> a, b = np.array([2.0, 2.0, 2.0]), np.array([-1.0, -1.0])  # eigenvalues 2 - sqrt2, 2, 2 + sqrt2
    >>> round(bisect_eigenvalues(a, b, 2), 12), round(2 + 2**0.5, 12)
    (3.414213562373, 3.414213562373)
    >>> bisect_eigenvalues(np.stack([a, a + 1.0]), np.stack([b, b]), 1).tolist()  # a batch: the middle ones
    [2.0, 3.0]
    """
    single = np.ndim(diag) == 1
    if single and np.ndim(offdiag) != 1:
        raise ValueError(f"offdiag must be 1-D like diag (one matrix); got {np.ndim(offdiag)}-D")
    a, b2 = _tridiagonal(np.atleast_2d(diag) if single else diag, np.atleast_2d(offdiag) if single else offdiag, batch=True)
    rows, m = a.shape
    idx = np.asarray(index)
    if idx.dtype.kind not in "iu" or idx.ndim > 1:
        raise TypeError(f"index must be an integer or a 1-D array of integers; got {type(index).__name__} {index!r}")
    idx = _per_row("index", idx, rows)
    if np.any(idx < 0) or np.any(idx >= m):
        raise ValueError(f"index must be integers in [0, {m - 1}]; got {index!r}")
    iters = check_int("iters", iters, min=1, max=2000)
    if lo is None or hi is None:
        rad = np.zeros((rows, m))
        b = np.sqrt(b2)
        rad[:, :-1] += b
        rad[:, 1:] += b
        lo = (a - rad).min(axis=1) if lo is None else lo
        hi = (a + rad).max(axis=1) if hi is None else hi
    lo = np.ascontiguousarray(_per_row("lo", check_array("lo", lo, ndim=(0, 1), dtype=np.float64), rows))
    hi = np.ascontiguousarray(_per_row("hi", check_array("hi", hi, ndim=(0, 1), dtype=np.float64), rows))
    out = np.empty(rows)
    _kernels()["bisect_rows"](a, b2, np.ascontiguousarray(idx, dtype=np.int64), lo, hi, iters, out)
    return float(out[0]) if single else out


def laguerre_histogram(p, n, bins, beta=1.0, *, rng=None, scale=1.0):
    r"""Exact histogram of the eigenvalues of one β-Laguerre matrix :math:`WW^\top/n`, without eigenvalues.

    One Dumitriu–Edelman tridiagonal :math:`T = BB^\top\sigma^2/(\beta n)` is
    drawn (O(n) work) and the number of eigenvalues below every bin edge is
    counted by Sturm sequences (:func:`count_below`), so ``bins + 1`` edges cost
    O(n · bins), e.g. about a second for :math:`n = 10^6` and 200 bins on two cores.
    For ``p > n`` the ``p - n`` zero eigenvalues are counted too.

    Parameters
    ----------
    p, n : int
        Rows and columns of W (ratio = p/n).
    bins : int or array_like
        Number of equal bins over the Marchenko–Pastur support
        :math:`[\sigma^2(1-\sqrt c)^2, \sigma^2(1+\sqrt c)^2]` widened by 5 %, or
        increasing bin edges.
    beta : float
        Any β > 0.
    rng : None, int or numpy.random.Generator
    scale : float
        Entry variance σ².

    Returns
    -------
    counts : ndarray of int64, shape (nbins,)
        Eigenvalues in ``[edges[i], edges[i+1])``; their sum is ``p`` minus the
        eigenvalues outside the edges.
    edges : ndarray, shape (nbins + 1,)

    Examples
    --------
    >>> from rmt_sparsity.ensembles import laguerre_histogram
    >>> counts, edges = laguerre_histogram(500, 1000, 10, rng=0)
    >>> int(counts.sum())
    500
    """
    p, n = check_sizes(p, n)
    beta = check_real("beta", beta, lo=0.0, lo_open=True)
    scale = check_real("scale", scale, lo=0.0, lo_open=True)
    if isinstance(bins, (int, np.integer)) and not isinstance(bins, bool):
        nb_ = check_int("bins", bins, min=1)
        check_size_budget("bins", bins, nbytes=32 * nb_, what="the bin edges and their Sturm counts")
        from ..laws import MarchenkoPastur

        lo, hi = MarchenkoPastur(p / n, scale).edges
        pad = 0.05 * (hi - lo)
        edges = np.linspace(max(lo - pad, 0.0) if p <= n else -pad, hi + pad, nb_ + 1)
    else:
        edges = check_array("bins", bins, ndim=1, dtype=np.float64)
        if edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise ValueError("bins must be an int or at least two strictly increasing edges")
    g = as_generator(rng)
    d, e = chi_bidiagonal(g, p, n, beta, size=None)
    a, b = tridiag_from(d, e, scale / (beta * n))
    counts_below = count_below(a, b, edges).astype(np.int64)
    if p > n:
        counts_below += (p - n) * (edges > 0)
    return np.diff(counts_below), edges


def extreme_eigenvalues(p, n, beta=1.0, scale=1.0, *, size=1, rng=None, which="both", rtol=1e-13):
    r"""Sample λ_max and/or λ_min (smallest non-zero) of :math:`WW^\top/n` by bisection, without the spectrum.

    For each of ``size`` independent Dumitriu–Edelman bidiagonals :math:`B`
    (:math:`\lambda(WW^\top) \overset{d}{=} \sigma(B)^2/\beta` for any β > 0,
    arXiv math-ph/0206043), the extreme singular values are found by bisection
    with Sturm counts on the Golub–Kahan matrix
    :math:`\begin{psmallmatrix}0 & B\\ B^\top & 0\end{psmallmatrix}`, whose
    eigenvalues are :math:`\pm\sigma_i`. This costs O(m · iterations) per draw
    (m = min(p, n)) and keeps *relative* accuracy ``rtol`` even for tiny
    :math:`\lambda_{\min}` (no squaring of the condition number).

    Parameters
    ----------
    p, n : int
        Rows and columns of W.
    beta : float
        Any β > 0 (1 real, 2 complex Gaussian entries).
    scale : float
        Entry variance σ².
    size : int
        Number of independent matrices.
    rng : None, int or numpy.random.Generator
    which : {"both", "max", "min"}
    rtol : float
        Relative bisection tolerance on the singular values.

    Returns
    -------
    ndarray or tuple of ndarray
        ``(lam_max, lam_min)`` for ``which="both"``, else one array of shape ``(size,)``.

    Examples
    --------
    >>> from rmt_sparsity.ensembles import extreme_eigenvalues
    >>> lmax, lmin = extreme_eigenvalues(200, 800, size=3, rng=0)
    >>> bool((lmax > 2.0).all() and (lmin < 0.3).all())
    True
    """
    size = check_int("size", size, min=1)
    p, n = check_sizes(p, n, draws=size)
    beta = check_real("beta", beta, lo=0.0, lo_open=True)
    scale = check_real("scale", scale, lo=0.0, lo_open=True)
    which = check_choice("which", which, ("both", "max", "min"))
    rtol = check_real("rtol", rtol, lo=1e-16, hi=0.1)
    g = as_generator(rng)
    d, e = chi_bidiagonal(g, p, n, beta, size=size)
    m = d.shape[1]
    if m == 1:
        e = np.zeros((size, 1))
    out_max = np.full(size, np.nan)
    out_min = np.full(size, np.nan)
    _kernels()["extremes"](
        np.ascontiguousarray(d), np.ascontiguousarray(e), which != "min", which != "max", rtol, out_max, out_min
    )
    f = scale / (beta * n)
    lmax, lmin = out_max**2 * f, out_min**2 * f
    if which == "max":
        return lmax
    if which == "min":
        return lmin
    return lmax, lmin
