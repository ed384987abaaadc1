r"""Statistical and exact top-k activation sparsification (Spark Transformer, arXiv:2506.06644).

Rows are the last axis (``d`` entries each); every leading axis is kept.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_int
from ._validate import as_activations

__all__ = ["statistical_topk", "statistical_topk_threshold", "exact_topk", "kept_fraction"]


def _check_k(k, d, *, statistical):
    k = check_int("k", k, min=1, max=d)
    if statistical and k == d:
        raise ValueError(
            f"k must satisfy 1 <= k < d for statistical top-k (k = d = {d} gives "
            "Phi^-1(0) = -inf, an infinite threshold); use exact_topk to keep every entry"
        )
    return k


def statistical_topk_threshold(x, k: int) -> np.ndarray:
    r"""Per-row threshold of statistical top-k: :math:`\theta = \mu + \sigma\,\Phi^{-1}(1 - k/d)`.

    :math:`\mu` and :math:`\sigma` are the row mean and **population** standard
    deviation (``ddof=0``) over the last axis. Returns an array of shape
    ``x.shape[:-1] + (1,)``, broadcastable against ``x``.

    Examples
    --------
    >>> from rmt_sparsity.metrics import statistical_topk_threshold
    >>> statistical_topk_threshold([[-1.0, 1.0]], 1)   # mean 0, std 1, Phi^-1(1/2) = 0
    array([[0.]])
    """
    from scipy.special import ndtri

    a = as_activations("x", x)
    d = a.shape[-1]
    k = _check_k(k, d, statistical=True)
    mu = np.mean(a, axis=-1, keepdims=True)
    sd = np.std(a, axis=-1, keepdims=True)
    return mu + sd * a.dtype.type(ndtri(1.0 - k / d))


def statistical_topk(x, k: int) -> np.ndarray:
    r"""Statistical top-k: :math:`\mathrm{relu}(x - \theta)` with a Gaussian-quantile threshold.

    .. math::

        \theta = \operatorname{mean}(x) + \operatorname{std}(x)\,\Phi^{-1}\!\left(1 - \frac{k}{d}\right),
        \qquad y = \max(x - \theta, 0),

    with the population standard deviation (``ddof=0``) over the last axis of
    length :math:`d`. On Gaussian rows about ``k`` entries stay positive; on
    heavy-tailed rows it is biased (Student-t with 3 degrees of freedom,
    d = 4096, k = 256 keeps about 162 entries: see the tests). Note that the
    kept entries are *shifted* by :math:`\theta` (a soft threshold), as in
    Spark Transformer. Constant rows (std 0) give all zeros. The dtype of ``x``
    is kept.

    Parameters
    ----------
    x : array_like, shape (..., d)
    k : int
        Target number of kept entries per row, ``1 <= k < d``.

    Returns
    -------
    ndarray, shape of ``x``

    References
    ----------
    You et al., "Spark Transformer", arXiv:2506.06644.

    Examples
    --------
    >>> from rmt_sparsity.metrics import statistical_topk
    >>> statistical_topk([[-1.0, 1.0]], 1)   # theta = 0
    array([[0., 1.]])
    """
    a = as_activations("x", x)
    theta = statistical_topk_threshold(a, k)
    return np.maximum(a - theta, a.dtype.type(0))


def exact_topk(x, k: int) -> np.ndarray:
    r"""Exact top-k per row: keep the ``k`` largest entries of the last axis, zero the rest.

    .. math::

        y_i = x_i \, 1[\mathrm{rank}_\downarrow(x_i) < k]

    Entries are ranked by value (not magnitude); ties keep the lower index.
    Kept entries are unchanged (no shift), so a kept entry that is itself 0 or
    negative stays as it is. ``k = d`` returns a copy of ``x``.

    Parameters
    ----------
    x : array_like, shape (..., d)
    k : int
        ``1 <= k <= d``.

    References
    ----------
    You et al., arXiv:2506.06644 (the exact operator that statistical top-k approximates).

    Examples
    --------
    >>> from rmt_sparsity.metrics import exact_topk
    >>> exact_topk([[3.0, -1.0, 2.0, 2.0]], 2)
    array([[3., 0., 2., 0.]])
    """
    a = as_activations("x", x)
    d = a.shape[-1]
    k = _check_k(k, d, statistical=False)
    order = np.argsort(-a, axis=-1, kind="stable")
    keep = np.zeros(a.shape, dtype=bool)
    np.put_along_axis(keep, order[..., :k], True, axis=-1)
    return np.where(keep, a, a.dtype.type(0))


def kept_fraction(y, *, axis=-1) -> np.ndarray:
    r"""Fraction of non-zero entries along ``axis``: :math:`\#\{i : y_i \ne 0\}/d`.

    Use on the output of :func:`statistical_topk` (kept = strictly above the
    threshold) or :func:`exact_topk`. ``axis`` is an axis of ``y`` (negative
    counts from the end) or ``None`` for the fraction over every entry.

    Examples
    --------
    >>> from rmt_sparsity.metrics import kept_fraction
    >>> kept_fraction([[0.0, 1.0, 0.0, 2.0]])
    array([0.5])
    """
    a = as_activations("y", y)
    if axis is not None:
        axis = check_int("axis", axis, min=-a.ndim, max=a.ndim - 1)
    return np.mean(a != 0, axis=axis)
