"""Numba kernels of :mod:`rmt_sparsity.spectra._power_law` (the xmin scan and its bootstrap).

Module-level functions, so that ``cache=True`` finds them again in a new process (closures defined
inside a function are recompiled every time). Imported lazily by ``_power_law._kernels``.
"""

import math

import numba as nb
import numpy as np


@nb.njit(cache=True, nogil=True)
def _g(u):
    """Mean of y/L for the exponential of rate u/L truncated to [0, L]: 1/u - 1/expm1(u), u > 0."""
    if u < 1e-4:
        return 0.5 - u / 12.0 + u * u * u / 720.0
    if u > 700.0:
        return 1.0 / u
    return 1.0 / u - 1.0 / math.expm1(u)


@nb.njit(cache=True, nogil=True)
def _solve_u(t):
    """u > 0 with _g(u) = t, for t in (0, 1/2): bisection on [0, 1/t] (g(1/t) <= t; 64 halvings)."""
    lo, hi = 0.0, 1.0 / t
    for _ in range(64):
        mid = 0.5 * (lo + hi)
        if _g(mid) > t:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


@nb.njit(cache=True, nogil=True)
def scan(logx, i_start, i_stop, gate, mode):
    """Best candidate xmin = x[i], i in [i_start, i_stop): (i, beta, D, truncated, P); i = -1 if none.

    logx ascending. For each candidate (first of a run of ties), the m = N-1-i points above it:
    plain fit beta = (m+1)/sum(y) and P = (1 - exp(-beta L))^m; with mode = 2 the truncated fit of
    the interior points instead. Only beta > 0 is valid.
    """
    N = logx.size
    suffix = np.zeros(N + 1)
    for j in range(N - 1, -1, -1):
        suffix[j] = suffix[j + 1] + logx[j]
    best_i, best_b, best_d, best_t, best_p = -1, math.nan, math.inf, False, math.nan
    for i in range(i_start, i_stop):
        if i > 0 and i > i_start and logx[i] == logx[i - 1]:
            continue
        m = N - 1 - i
        if m < 3:
            break
        x0 = logx[i]
        L = logx[N - 1] - x0
        if not L > 0:
            continue
        S = suffix[i + 1] - m * x0
        bu = (m + 1) / S  # the MLE with xmin taken as given (Clauset et al.): selects xmin
        ptr = math.exp(m * math.log1p(-math.exp(-bu * L)))
        use_t = mode == 2
        k = m + 1
        # KS distance as Clauset et al.'s reference code (the powerlaw package) computes it: the fitted
        # cdf against the empirical cdf's left limits r/k at the k tail points, xmin included
        d = 0.0
        if use_t:
            c = m - 1  # interior points
            t = (S - L) / c / L
            if not (0.0 < t < 0.5):
                continue
            u = _solve_u(t)
            b = u / L
            em = math.expm1(-u)
            for r in range(1, k):
                if logx[i + r] == logx[i + r - 1]:  # ties: the left limit is that of the first of them
                    continue
                F = math.expm1(-b * (logx[i + r] - x0)) / em
                e = abs(F - r / k)
                if e > d:
                    d = e
        else:
            b = bu
            if not b > 0:
                continue
            for r in range(1, k):
                if logx[i + r] == logx[i + r - 1]:
                    continue
                F = -math.expm1(-b * (logx[i + r] - x0))
                e = abs(F - r / k)
                if e > d:
                    d = e
        if d < best_d:
            # reported: the unbiased (m-1)/S given the tail's smallest point (module notes)
            best_i, best_b, best_d, best_t, best_p = i, (b if use_t else (m - 1) / S), d, use_t, ptr
    return best_i, best_b, best_d, best_t, best_p


@nb.njit(cache=True, nogil=True)
def fit(logx, i_start, i_stop, gate, mode):
    """The scan with the model choice of module notes: plain fit; if P < gate at its xmin, truncated."""
    if mode != 0:
        return scan(logx, i_start, i_stop, gate, mode)
    i, b, d, t, p = scan(logx, i_start, i_stop, gate, 1)
    if i >= 0 and p < gate:
        i2, b2, d2, t2, p2 = scan(logx, i_start, i_stop, gate, 2)
        if i2 >= 0:
            return i2, b2, d2, t2, p
    return i, b, d, t, p


@nb.njit(cache=True, parallel=True)
def boot_parallel(logx, idx, k_min, gate, mode):
    """alpha of the fit on each bootstrap replicate logx[idx[r]] (idx rows sorted); NaN if none valid.

    Each replicate is a pure function of its row, so this parallel kernel (prange) and the serial one
    below give the same result whatever the thread count."""
    out = np.empty(idx.shape[0])
    for r in nb.prange(idx.shape[0]):
        lx = logx[idx[r]]
        i, b, d, t, p = fit(lx, 0, lx.size - k_min + 1, gate, mode)
        out[r] = b + 1.0 if i >= 0 else math.nan
    return out


@nb.njit(cache=True)
def boot_serial(logx, idx, k_min, gate, mode):
    """boot_parallel on one thread (a separate function: its own on-disk cache entry)."""
    out = np.empty(idx.shape[0])
    for r in range(idx.shape[0]):
        lx = logx[idx[r]]
        i, b, d, t, p = fit(lx, 0, lx.size - k_min + 1, gate, mode)
        out[r] = b + 1.0 if i >= 0 else math.nan
    return out
