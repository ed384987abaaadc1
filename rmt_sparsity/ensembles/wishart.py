r"""Dense reference sampler of real Wishart spectra (NumPy/LAPACK, no Numba).

Fast samplers (beta-Laguerre tridiagonal models, Sturm counting) live in other
modules; this one forms the Gaussian matrix and is the ground truth they are
tested against.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from .._checks import check_int, check_real, check_size_budget
from .._rng import as_generator

__all__ = ["wishart_eigenvalues"]


def wishart_eigenvalues(p, n, scale=1.0, *, rng=None) -> np.ndarray:
    r"""Eigenvalues of :math:`S = WW^\top/n` for a real Gaussian :math:`p\times n` matrix ``W``.

    ``W`` has iid :math:`N(0, \sigma^2)` entries, :math:`\sigma^2` = ``scale``;
    ``ratio`` = p/n. As :math:`p, n\to\infty` the empirical spectral
    distribution tends to :class:`rmt_sparsity.laws.MarchenkoPastur` (ratio,
    scale) (Marchenko & Pastur 1967).

    .. math::

        \lambda_i(S) = s_i(W)^2 / n ,

    computed from the singular values :math:`s_i(W)` (LAPACK ``gesdd``), which
    gives every eigenvalue an absolute error of about
    :math:`\epsilon\,s_{\max}s_i/n` rather than the :math:`\epsilon\lambda_{\max}`
    of an eigensolver applied to the formed product.

    Parameters
    ----------
    p, n : int
        Rows and columns of ``W`` (both >= 1).
    scale : float, default 1.0
        Entry variance :math:`\sigma^2 > 0`.
    rng : None, int, or numpy.random.Generator
        Normalised once by :func:`rmt_sparsity._rng.as_generator`.

    Returns
    -------
    numpy.ndarray, shape (p,)
        All ``p`` eigenvalues in ascending order. When ``p > n`` the first
        ``p - n`` are the structural zeros of :math:`WW^\top`, returned as
        exact ``0.0`` (the atom of the MP law at ratio > 1).

    Examples
    --------
    >>> from rmt_sparsity.ensembles import wishart_eigenvalues
    >>> lam = wishart_eigenvalues(200, 400, rng=0)
    >>> lam.shape, bool(lam[0] > 0), round(float(lam.mean()), 1)
    ((200,), True, 1.0)
    >>> lam = wishart_eigenvalues(6, 3, rng=0)
    >>> int((lam == 0).sum())
    3
    """
    p = check_int("p", p, min=1)
    n = check_int("n", n, min=1)
    scale = check_real("scale", scale, lo=0.0, lo_open=True)
    # the Gaussian matrix and LAPACK's work arrays (about as large again)
    check_size_budget("p, n", (p, n), nbytes=16 * p * n + 8 * (p + n), what="the p x n Gaussian matrix and its SVD")
    gen = as_generator(rng)
    w = gen.standard_normal((p, n))
    if scale != 1.0:
        w *= np.sqrt(scale)
    s = scipy.linalg.svdvals(w, overwrite_a=True, check_finite=False)
    lam = np.sort(s * s / n)
    if p > n:
        lam = np.concatenate([np.zeros(p - n), lam])
    return lam
