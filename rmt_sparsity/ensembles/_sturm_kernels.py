"""The Numba kernels of :mod:`rmt_sparsity.ensembles.sturm`, at module level so that ``cache=True`` keeps them
on disk across processes (nested functions that call each other are recompiled in every process).

Imported lazily by :func:`rmt_sparsity.ensembles.sturm._kernels`.
"""

import numba as nb
import numpy as np


@nb.njit(cache=True, nogil=True)
def _pivmin(b2):
    """LAPACK stebz's pivot floor: tiny * max(1, max b_i^2)."""
    big = 1.0
    for i in range(b2.size):
        if b2[i] > big:
            big = b2[i]
    return 2.2250738585072014e-308 * big


@nb.njit(cache=True, nogil=True)
def _count_one(a, b2, x, pivmin):
    """#eigenvalues < x of the tridiagonal (a, sqrt(b2)): negative LDL^T pivots."""
    q = a[0] - x
    if abs(q) < pivmin:
        q = -pivmin
    c = 1 if q < 0.0 else 0
    for i in range(1, a.size):
        q = (a[i] - x) - b2[i - 1] / q
        if abs(q) < pivmin:
            q = -pivmin
        if q < 0.0:
            c += 1
    return c


@nb.njit(cache=True, parallel=True)
def _count_many(a, b2, xs, pivmin, out):
    for j in nb.prange(xs.size):
        out[j] = _count_one(a, b2, xs[j], pivmin)


@nb.njit(cache=True, parallel=True)
def _count_rows(A, B2, xs, out):
    for r in nb.prange(A.shape[0]):
        out[r] = _count_one(A[r], B2[r], xs[r], _pivmin(B2[r]))


@nb.njit(cache=True, parallel=True)
def _bisect_rows(A, B2, k, lo, hi, iters, out):
    """Eigenvalue k[r] (0-based) of row r's tridiagonal: `iters` halvings of [lo[r], hi[r]]."""
    for r in nb.prange(A.shape[0]):
        pm = _pivmin(B2[r])
        a, b = lo[r], hi[r]
        for _ in range(iters):
            mid = 0.5 * (a + b)
            if _count_one(A[r], B2[r], mid, pm) > k[r]:  # eigenvalue k lies below mid
                b = mid
            else:
                a = mid
        out[r] = 0.5 * (a + b)


@nb.njit(cache=True, nogil=True)
def _golub_kahan(d, e):
    """Zero diagonal and squared off-diagonals (d0, e0, d1, e1, ...) of the Golub-Kahan matrix of B."""
    m = d.size
    g2 = np.empty(2 * m - 1)
    for i in range(m):
        g2[2 * i] = d[i] * d[i]
        if i < m - 1:
            g2[2 * i + 1] = e[i] * e[i]
    return np.zeros(2 * m), g2


@nb.njit(cache=True, nogil=True)
def _gk_bisect(z, g2, pivmin, j, hi, rtol):
    """The j-th smallest singular value of B (j >= 1) by bisection on [0, hi] to relative tolerance rtol.

    The Golub-Kahan matrix has eigenvalues +-sigma_i: m of them are < 0, so #(< x) - m counts
    the singular values below x > 0.
    """
    m = z.size // 2
    lo = 0.0
    while hi - lo > rtol * hi and hi > 1e-300:
        mid = 0.5 * (lo + hi)
        if _count_one(z, g2, mid, pivmin) - m >= j:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


@nb.njit(cache=True, parallel=True)
def _smallest_sv(d, e, k, hi, rtol, out):
    """The k smallest singular values of B, in parallel."""
    z, g2 = _golub_kahan(d, e)
    pivmin = _pivmin(g2)
    for j in nb.prange(k):
        out[j] = _gk_bisect(z, g2, pivmin, j + 1, hi, rtol)


@nb.njit(cache=True, parallel=True)
def _extremes(d, e, want_max, want_min, rtol, out_max, out_min):
    size, m = d.shape
    for r in nb.prange(size):
        z, g2 = _golub_kahan(d[r], e[r])
        pivmin = _pivmin(g2)
        # Gershgorin bound for sigma_max on the GK matrix
        bound = 0.0
        for i in range(2 * m):
            s = 0.0
            if i > 0:
                s += np.sqrt(g2[i - 1])
            if i < 2 * m - 1:
                s += np.sqrt(g2[i])
            if s > bound:
                bound = s
        if want_max:
            out_max[r] = _gk_bisect(z, g2, pivmin, m, bound, rtol)  # all m singular values below
        if want_min:
            out_min[r] = _gk_bisect(z, g2, pivmin, 1, bound, rtol)  # at least one below
