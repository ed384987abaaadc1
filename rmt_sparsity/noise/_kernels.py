"""Numba kernels of the gradient-noise simulator (compiled on first use, ``cache=True``).

Kernels receive pre-drawn noise (docs/design.md §3, Randomness): they never draw random
numbers, so results depend only on the seed that produced the noise. Each output
row is computed sequentially by one thread, so results do not depend on the
number of Numba threads.
"""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(parallel=True, cache=True)
def normalise_rows(x, scale, center):  # pragma: no cover - compiled
    """In place: optionally centre each row, then rescale it to Euclidean norm ``scale``."""
    n, p = x.shape
    for i in nb.prange(n):
        if center:
            mu = 0.0
            for j in range(p):
                mu += x[i, j]
            mu /= p
            for j in range(p):
                x[i, j] -= mu
        s = 0.0
        for j in range(p):
            s += x[i, j] * x[i, j]
        f = scale / np.sqrt(s)
        for j in range(p):
            x[i, j] *= f


@nb.njit(parallel=True, cache=True)
def fused_update(cov, weights, x, g, coef_cov, coef_w, r_block):  # pragma: no cover - compiled
    """Fused discounted rank-n update of ``cov`` (p, p) and ``weights`` (d_out, p), C order.

    ``cov <- r_block * cov + sum_i coef_cov[i] x_i x_iᵀ`` (upper triangle only) and
    ``weights <- r_block * weights + sum_i coef_w[i] g_i x_iᵀ``; one row per
    parallel iteration, inner loops contiguous (SIMD).
    """
    n, p = x.shape
    d_out = weights.shape[0]
    for row in nb.prange(d_out + p):
        if row < d_out:
            o = row
            for j in range(p):
                weights[o, j] *= r_block
            for i in range(n):
                a = coef_w[i] * g[i, o]
                if a != 0.0:
                    for j in range(p):
                        weights[o, j] += a * x[i, j]
        else:
            k = row - d_out
            for j in range(k, p):
                cov[k, j] *= r_block
            for i in range(n):
                a = coef_cov[i] * x[i, k]
                if a != 0.0:
                    for j in range(k, p):
                        cov[k, j] += a * x[i, j]
