r"""Spectrum of a given weight matrix: eigenvalues of :math:`WW^\top/n`, singular values, ranks.

Conventions (docs/design.md §3): ``W`` is stored (out, in) = :math:`p\times n`;
``ratio`` = :math:`p/n`; the spectrum studied is that of :math:`WW^\top/n`
(``p`` eigenvalues, of which :math:`p-n` are structural zeros when :math:`p>n`).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg

from .._checks import check_array, check_choice, check_real

__all__ = ["gram_eigenvalues", "singular_values", "numerical_rank", "stable_rank"]

#: Condition number above which the Gram route loses more than ~1e-9 relative accuracy on
#: the smallest eigenvalue (its error is ~ eps * lambda_max / lambda_min), so ``method="auto"``
#: recomputes from the singular values (error ~ eps * s_max * s_i / n).
_GRAM_COND_LIMIT = 1e6


def as_weight_matrix(W, name: str = "W") -> np.ndarray:
    """Validate a weight matrix: real, finite, 2-D, non-empty; returned as float64.

    Examples
    --------
    >>> as_weight_matrix([[1, 2]]).dtype
    dtype('float64')
    >>> as_weight_matrix([1.0, 2.0])
    Traceback (most recent call last):
    ...
    ValueError: W must be 2-D; got a 1-D array of shape (2,)
    """
    arr = check_array(name, W, ndim=2, finite=False)
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} must be real; got complex dtype {arr.dtype}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} must be non-empty; got shape {arr.shape}")
    arr = np.asarray(arr, dtype=np.float64)
    bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
    if bad:
        raise ValueError(f"{name} must be finite; found {bad} non-finite entries (NaN or inf) in shape {arr.shape}")
    return arr


def unit_rms(W, *, copy: bool = True) -> tuple[np.ndarray, float]:
    r"""``W`` rescaled to unit root-mean-square entry, and that rms: :math:`W = \mathrm{rms}\cdot\tilde W`.

    .. math::

        \mathrm{rms}(W) = \frac{\|W\|_F}{\sqrt{pn}},\qquad \tilde W = W/\mathrm{rms}(W),

    computed as :math:`m\,\|W/m\|_F/\sqrt{pn}` with :math:`m = \max|W_{ij}|`, so
    that neither the squares of tiny entries underflow nor those of huge ones
    overflow: a matrix scaled by 1e-300 or 1e+300 has the same :math:`\tilde W`.
    Scale-free quantities (eigenvalue ratios, stable rank, spike p-values, tail
    exponents) are computed on :math:`\tilde W`; eigenvalues of
    :math:`WW^\top/n` are those of :math:`\tilde W\tilde W^\top/n` times :math:`\mathrm{rms}^2`.

    Parameters
    ----------
    W : numpy.ndarray, float64, 2-D, finite, not all zero
    copy : bool
        False rescales ``W`` in place.

    Examples
    --------
    >>> import numpy as np
    >>> from rmt_sparsity.spectra._basic import unit_rms
    >>> Wn, rms = unit_rms(np.array([[3e-300, 0.0], [0.0, 4e-300]]))
    >>> Wn.round(4).tolist(), float(np.mean(Wn**2)), rms      # rms = 5e-300 / 2
    ([[1.2, 0.0], [0.0, 1.6]], 1.0, 2.5e-300)
    """
    amax = float(np.max(np.abs(W)))
    if not amax > 0:
        raise ValueError(f"W is the zero matrix (shape {W.shape}): its spectrum is empty")
    W = np.multiply(W, 1.0 / amax, out=None if copy else W) if amax >= 1e-300 else np.divide(W, amax, out=None if copy else W)
    fro = float(np.linalg.norm(W.ravel()))
    root = math.sqrt(W.shape[0] * W.shape[1])
    W *= root / fro
    return W, amax * fro / root


def gram_eigenvalues(W, *, method: str = "auto") -> np.ndarray:
    r"""Eigenvalues of :math:`WW^\top/n` for a :math:`p\times n` matrix ``W``, ascending.

    .. math::

        \lambda_i = \lambda_i(WW^\top/n) = s_i(W)^2/n,\qquad i = 1..p,

    with :math:`p - n` exact zeros first when :math:`p > n` (the atom of the
    Marchenko–Pastur law at ratio :math:`c = p/n > 1`, docs/science.md §1).

    Parameters
    ----------
    W : array_like, shape (p, n)
        Real, finite weight matrix, stored (out, in).
    method : {"auto", "gram", "svd"}
        ``"gram"`` forms the smaller Gram matrix (BLAS ``syrk``) and calls
        ``eigvalsh``: fast, absolute error :math:`\approx\epsilon\lambda_{\max}`.
        ``"svd"`` uses LAPACK ``gesdd`` singular values: error
        :math:`\approx\epsilon\,s_{\max}s_i/n`, i.e. relative accuracy for small
        eigenvalues. ``"auto"`` uses the Gram route and switches to the SVD when
        :math:`\lambda_{\max}/\lambda_{\min} > 10^6` (where the Gram route's
        relative error on :math:`\lambda_{\min}` would exceed ~1e-10).

    Returns
    -------
    numpy.ndarray, shape (p,)
        Ascending; negative round-off is clipped to 0.

    References
    ----------
    Marchenko & Pastur (1967); Bai & Silverstein, *Spectral Analysis of Large
    Dimensional Random Matrices* (2010), ch. 3.

    Examples
    --------
    >>> import numpy as np
    >>> from rmt_sparsity.spectra import gram_eigenvalues
    >>> W = np.array([[3.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    >>> gram_eigenvalues(W)
    array([0. , 0.5, 4.5])
    """
    W = as_weight_matrix(W)
    check_choice("method", method, ("auto", "gram", "svd"))
    return _gram_eigenvalues(W, method)


def _gram_eigenvalues(W, method):
    """gram_eigenvalues after validation (``W`` float64, finite, 2-D)."""
    p, n = W.shape
    m = min(p, n)
    if method == "svd":
        lam = _svd_eigs(W, n)
    else:
        A = W if p <= n else W.T
        # A A^T via syrk (lower triangle) is half the flops of a general matmul
        gram = scipy.linalg.blas.dsyrk(1.0 / n, A, lower=True)
        lam = np.linalg.eigvalsh(gram, UPLO="L")
        lam = np.clip(lam, 0.0, None)
        if method == "auto" and lam[-1] > 0 and not (lam[0] * _GRAM_COND_LIMIT > lam[-1]):
            lam = _svd_eigs(W, n)
    if p > n:
        lam = np.concatenate([np.zeros(p - m), lam])
    return lam


def _svd_eigs(W, n):
    s = scipy.linalg.svdvals(W, check_finite=False)
    return np.sort(s * s / n)


def singular_values(W) -> np.ndarray:
    r"""Singular values :math:`s_1\ge\dots\ge s_{\min(p,n)}` of ``W`` (descending, LAPACK ``gesdd``).

    They relate to the spectrum of :math:`WW^\top/n` by :math:`\lambda_i = s_i^2/n`.

    Examples
    --------
    >>> from rmt_sparsity.spectra import singular_values
    >>> singular_values([[3.0, 0.0], [0.0, -4.0]])
    array([4., 3.])
    """
    W = as_weight_matrix(W)
    return scipy.linalg.svdvals(W, check_finite=False)


def numerical_rank(W, tol=None) -> int:
    r"""Number of singular values above ``tol``.

    .. math::

        \operatorname{rank}_\epsilon(W) = \#\{i: s_i > \mathrm{tol}\},\qquad
        \mathrm{tol} = \max(p,n)\,\epsilon\,s_1 \text{ by default}

    (the convention of ``numpy.linalg.matrix_rank`` and Golub & Van Loan §5.4).

    Parameters
    ----------
    W : array_like, shape (p, n)
    tol : float, optional
        Absolute threshold (>= 0) on singular values.

    Examples
    --------
    >>> import numpy as np
    >>> from rmt_sparsity.spectra import numerical_rank
    >>> u = np.arange(1.0, 5.0)[:, None]
    >>> numerical_rank(u @ u.T)
    1
    """
    s = singular_values(W)
    p, n = np.shape(W)
    if tol is None:
        tol = max(p, n) * np.finfo(np.float64).eps * (s[0] if s.size else 0.0)
    else:
        tol = check_real("tol", tol, lo=0.0)
    return int(np.count_nonzero(s > tol))


def stable_rank(W) -> float:
    r"""Stable rank :math:`\|W\|_F^2/\|W\|_2^2 = \sum_i s_i^2 / s_1^2` (between 1 and the rank).

    For a Gaussian :math:`p\times n` matrix with ratio :math:`c = p/n \le 1` it
    tends to :math:`p/(1+\sqrt c)^2` (the MP mean over the MP upper edge,
    docs/science.md §1); Rudelson & Vershynin (2007), arXiv math/0503442.

    Raises ``ValueError`` for the zero matrix (the ratio is 0/0).

    Examples
    --------
    >>> from rmt_sparsity.spectra import stable_rank
    >>> stable_rank([[3.0, 0.0], [0.0, 4.0]])
    1.5625
    """
    W = as_weight_matrix(W)
    fro2 = float(np.sum(W * W))
    if fro2 == 0.0:
        raise ValueError(f"W is the zero matrix (shape {W.shape}); its stable rank is undefined")
    s1 = float(scipy.linalg.svdvals(W, check_finite=False)[0]) if min(W.shape) <= 64 else _top_sv(W)
    return fro2 / (s1 * s1)


def _top_sv(W) -> float:
    """Largest singular value from the smaller Gram matrix (eigvalsh of its top eigenvalue)."""
    p, n = W.shape
    A = W if p <= n else W.T
    gram = scipy.linalg.blas.dsyrk(1.0, A, lower=True)
    k = gram.shape[0]
    top = scipy.linalg.eigh(gram, lower=True, eigvals_only=True, subset_by_index=(k - 1, k - 1), check_finite=False)
    return float(np.sqrt(max(top[0], 0.0)))


def esd_distances(eigenvalues, cdf, support) -> tuple[float, float]:
    r"""Kolmogorov–Smirnov and Wasserstein-1 distances between an empirical spectrum and a law.

    .. math::

        D_{KS} = \sup_x |F_N(x) - F(x)|, \qquad W_1 = \int |F_N(x) - F(x)|\,dx,

    with :math:`F_N` the empirical cdf of the ``N`` eigenvalues. :math:`D_{KS}`
    is exact (evaluated at the jumps). For :math:`W_1`, :math:`F_N` is constant
    (:math:`k/N`) on each gap between consecutive eigenvalues and :math:`F` is
    monotone, so :math:`|k/N - F|` has at most one kink per gap, where
    :math:`F = k/N`; that point is found by bisection and each smooth piece is
    integrated by 4-point Gauss–Legendre (as are the two tails to the support ends).

    Parameters
    ----------
    eigenvalues : array_like, 1-D
    cdf : callable
        Vectorised cdf of the law (it must return finite values of its input's shape).
    support : (float, float)
        The law's support (its cdf is 0 below and 1 above): finite, lo <= hi.

    Returns
    -------
    (ks, w1) : tuple of float

    Examples
    --------
    >>> import numpy as np
    >>> ks, w1 = esd_distances((np.arange(1000) + 0.5) / 1000, lambda x: np.clip(x, 0, 1), (0.0, 1.0))
    >>> round(ks, 10), round(w1, 10)         # vs U(0, 1): KS = 1/(2N) and W1 = 1/(4N) exactly
    (0.0005, 0.00025)
    """
    x = np.sort(check_array("eigenvalues", eigenvalues, ndim=1).astype(np.float64))
    if not callable(cdf):
        raise TypeError(f"cdf must be a callable (the law's vectorised cdf); got {type(cdf).__name__}")
    try:
        ends = tuple(support) if not isinstance(support, (str, bytes)) else None
    except TypeError:
        ends = None
    if ends is None or len(ends) != 2:
        raise TypeError(f"support must be a pair (lo, hi) of finite numbers; got {support!r:.80}") if ends is None \
            else ValueError(f"support must be a pair (lo, hi) of finite numbers; got {len(ends)} values")
    a = check_real("support", ends[0])
    b = check_real("support", ends[1])
    if not a <= b:  # lo == hi: a point mass
        raise ValueError(f"support must be (lo, hi) with lo <= hi; got {(a, b)}")
    N = x.size
    F = np.asarray(cdf(x), dtype=float)
    if F.shape != x.shape or not np.all(np.isfinite(F)):
        raise ValueError(f"cdf must return finite values of the input's shape {x.shape}; got shape {F.shape}"
                         + ("" if F.shape != x.shape else f" with {int(np.count_nonzero(~np.isfinite(F)))} non-finite"))
    k = np.arange(1, N + 1)
    ks = float(max(np.max(k / N - F), np.max(F - (k - 1) / N)))
    knots = np.concatenate([[min(a, x[0])], x, [max(b, x[-1])]])
    level = np.arange(N + 1) / N  # F_N on (knots[i], knots[i+1])
    lo, hi = knots[:-1], knots[1:]
    Fk = np.asarray(cdf(knots), dtype=float)
    cross = np.flatnonzero((Fk[:-1] < level) & (Fk[1:] > level))
    ca, cb, cl = lo[cross].copy(), hi[cross].copy(), level[cross]
    for _ in range(60):  # bisection to the crossing F = k/N (60 halvings reach the float spacing)
        mid = 0.5 * (ca + cb)
        below = np.asarray(cdf(mid), dtype=float) < cl
        ca, cb = np.where(below, mid, ca), np.where(below, cb, mid)
    split = 0.5 * (ca + cb)
    # pieces: every gap, with crossing gaps cut at their kink
    p_lo = np.concatenate([lo, split])
    p_hi = hi.copy()
    p_hi[cross] = split
    p_hi = np.concatenate([p_hi, hi[cross]])
    p_level = np.concatenate([level, cl])
    gx, gw = np.polynomial.legendre.leggauss(4)
    pts = 0.5 * (p_hi - p_lo)[:, None] * (gx[None, :] + 1.0) + p_lo[:, None]
    vals = np.abs(p_level[:, None] - np.asarray(cdf(pts.ravel()), dtype=float).reshape(pts.shape))
    w1 = float(np.sum(0.5 * (p_hi - p_lo) * (vals @ gw)))
    return ks, w1
