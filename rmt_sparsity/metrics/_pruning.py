r"""One-shot magnitude pruning (global and N:M), pruning curves and essential sparsity.

Weights follow docs/design.md §3: matrices are stored ``(out, in)`` as ``torch.nn.Linear.weight``.
A *weight collection* is a single array, a sequence of arrays or a mapping
``name -> array``; pruning functions return the same structure, with new arrays
(inputs are never modified) of the input dtypes.

Reference: Jaiswal et al., "The Emergence of Essential Sparsity in Large
Pre-trained Models: The Weights that Matter", arXiv:2306.03805.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from .._checks import check_array, check_int, check_real

__all__ = [
    "magnitude_mask",
    "magnitude_prune",
    "nm_mask",
    "nm_prune",
    "PruningCurve",
    "magnitude_pruning_curve",
    "nm_pruning_curve",
    "EssentialSparsity",
    "essential_sparsity",
]


# --------------------------------------------------------------------------- structures


def _flatten(weights, name="weights"):
    """Return (list of validated arrays, rebuild function).

    A mapping is a collection (rebuilt as a dict in the same key order); a list or
    tuple whose items are all arrays (objects with a ``shape``, e.g. NumPy or JAX
    arrays) is a collection (rebuilt as a list/tuple); anything else, including
    nested lists of numbers, is one array.
    """
    if isinstance(weights, Mapping):
        keys = list(weights.keys())
        if not keys:
            raise ValueError(f"{name} must hold at least one array; got an empty mapping")
        arrs = [check_array(f"{name}[{k!r}]", weights[k]) for k in keys]
        return arrs, lambda new: dict(zip(keys, new))
    if isinstance(weights, (list, tuple)) and len(weights) > 0 and all(hasattr(w, "shape") for w in weights):
        arrs = [check_array(f"{name}[{j}]", w) for j, w in enumerate(weights)]
        kind = type(weights) if type(weights) in (list, tuple) else list
        return arrs, lambda new: kind(new)
    arr = check_array(name, weights)
    return [arr], lambda new: new[0]


# --------------------------------------------------------------------------- global magnitude


def magnitude_mask(weights, sparsity):
    r"""Keep-masks of one-shot **global** magnitude pruning at an exact sparsity.

    All entries of all arrays are ranked together by :math:`|w|`; the
    :math:`n_\mathrm{prune} = \mathrm{round}(s \cdot N)` smallest are pruned
    (:math:`N` = total number of entries; exact whenever :math:`sN` is an integer).

    **Ties** are broken deterministically: among equal magnitudes, the entry that
    comes first in the concatenation order (arrays in sequence / mapping order,
    each flattened in C order) is pruned first (a stable sort).

    Parameters
    ----------
    weights : array_like, sequence of array_like or mapping of name to array_like
        The weights to prune jointly (finite).
    sparsity : float
        Fraction to prune, in [0, 1].

    Returns
    -------
    Same structure as ``weights``, of boolean arrays (True = kept).

    References
    ----------
    Jaiswal et al., arXiv:2306.03805.

    Examples
    --------
    >>> from rmt_sparsity.metrics import magnitude_mask
    >>> magnitude_mask([[3.0, -1.0], [1.0, 0.5]], 0.5)   # |1| tie: the first one goes
    array([[ True, False],
           [ True, False]])
    """
    arrs, rebuild = _flatten(weights)
    s = check_real("sparsity", sparsity, lo=0.0, hi=1.0)
    sizes = [a.size for a in arrs]
    flat = np.concatenate([np.abs(a).ravel() for a in arrs])
    n_prune = int(np.rint(s * flat.size))
    keep = np.ones(flat.size, dtype=bool)
    if n_prune:
        order = np.argsort(flat, kind="stable")
        keep[order[:n_prune]] = False
    parts = np.split(keep, np.cumsum(sizes)[:-1])
    return rebuild([p.reshape(a.shape) for p, a in zip(parts, arrs)])


def magnitude_prune(weights, sparsity):
    r"""One-shot global magnitude pruning: zero the :math:`\mathrm{round}(sN)` smallest :math:`|w|`.

    See :func:`magnitude_mask` for the exact count and the tie rule. Returns new
    arrays of the input dtypes, in the structure of ``weights``.

    .. math::

        \tilde w_j = w_j \, 1[\mathrm{rank}(|w_j|) \ge \mathrm{round}(sN)]

    References
    ----------
    Jaiswal et al., arXiv:2306.03805.

    Examples
    --------
    >>> import numpy as np
    >>> from rmt_sparsity.metrics import magnitude_prune
    >>> pruned = magnitude_prune({"w1": np.array([[1.0, -4.0]]), "w2": np.array([2.0, 3.0])}, 0.5)
    >>> pruned["w1"], pruned["w2"]
    (array([[ 0., -4.]]), array([0., 3.]))
    """
    arrs, rebuild = _flatten(weights)
    masks = magnitude_mask(arrs, sparsity)
    return rebuild([np.where(m, a, np.zeros((), dtype=a.dtype)) for a, m in zip(arrs, masks)])


# --------------------------------------------------------------------------- N:M


def _check_nm(n, m):
    m = check_int("m", m, min=1)
    n = check_int("n", n, min=1)
    if n > m:
        raise ValueError(f"n must satisfy 1 <= n <= m (N:M keeps N of every M); got n={n} > m={m}")
    return n, m


def _nm_mask_one(name, a, n, m):
    if a.ndim == 0:
        raise ValueError(f"{name} must have at least 1 axis for N:M pruning; got a scalar")
    d_in = a.shape[-1]
    if d_in % m:
        raise ValueError(
            f"{name} has {d_in} input columns (last axis, weights are (out, in)), "
            f"which is not a multiple of m={m}"
        )
    groups = np.abs(a).reshape(*a.shape[:-1], d_in // m, m)
    # rank within each group by decreasing |w|; stable sort: ties keep the lower index
    order = np.argsort(-groups, axis=-1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(m).reshape((1,) * (groups.ndim - 1) + (m,)), axis=-1)
    return (ranks < n).reshape(a.shape)


def nm_mask(weights, n: int, m: int):
    r"""Keep-masks of N:M pruning: in every group of ``m`` consecutive input weights keep the ``n`` largest.

    Groups run along the **last** axis (``in`` for ``(out, in)`` weights, the
    layout of sparse tensor cores), so ``w.shape[-1]`` must be a multiple of
    ``m``. 2:4 keeps 2 of every 4 (sparsity 1/2), 1:4 keeps 1 (sparsity 3/4).
    Ties keep the lower index. Exactly ``n`` entries per group are kept even if
    some of them are zero.

    .. math::

        \mathrm{keep}_{o,\,gM + j} = 1[\mathrm{rank}_{\downarrow}(|w_{o,\,gM+j}| \text{ within group } g) < N]

    Parameters
    ----------
    weights : array_like, sequence or mapping of arrays
        Weight matrices ``(out, in)`` (any array whose last axis is ``in``).
    n, m : int
        Keep ``n`` of every ``m``; ``1 <= n <= m``.

    Returns
    -------
    Same structure as ``weights``, of boolean arrays (True = kept).

    References
    ----------
    Jaiswal et al., arXiv:2306.03805; Mishra et al., arXiv:2104.08378 (2:4 sparsity).

    Examples
    --------
    >>> from rmt_sparsity.metrics import nm_mask
    >>> nm_mask([[0.1, -3.0, 2.0, 0.5, 1.0, 1.0, 0.0, 1.0]], 2, 4)
    array([[False,  True,  True, False,  True,  True, False, False]])
    """
    n, m = _check_nm(n, m)
    arrs, rebuild = _flatten(weights)
    return rebuild([_nm_mask_one(f"weights[{j}]", a, n, m) for j, a in enumerate(arrs)])


def nm_prune(weights, n: int, m: int):
    """N:M pruning: zero all but the ``n`` largest ``|w|`` of every ``m`` consecutive input weights.

    See :func:`nm_mask` (grouping along the last, ``in``, axis; ties keep the lower index).

    References
    ----------
    Jaiswal et al., arXiv:2306.03805.

    Examples
    --------
    >>> from rmt_sparsity.metrics import nm_prune
    >>> nm_prune([[4.0, -1.0, 2.0, 3.0]], 1, 4)
    array([[4., 0., 0., 0.]])
    """
    n, m = _check_nm(n, m)
    arrs, rebuild = _flatten(weights)
    return rebuild(
        [np.where(_nm_mask_one(f"weights[{j}]", a, n, m), a, np.zeros((), dtype=a.dtype)) for j, a in enumerate(arrs)]
    )


# --------------------------------------------------------------------------- curves


@dataclass(frozen=True)
class PruningCurve:
    """A metric evaluated on pruned copies of a model.

    Attributes
    ----------
    sparsity : ndarray
        Pruned fractions, sorted increasingly; ``sparsity[0] == 0`` is the dense model.
    metric : ndarray
        ``evaluate(pruned_weights)`` at each sparsity.
    labels : tuple of str
        Description of each point (``"dense"``, ``"magnitude 0.5"``, ``"2:4"``).
    """

    sparsity: np.ndarray
    metric: np.ndarray
    labels: tuple


def _evaluate(evaluate, pruned, label):
    v = evaluate(pruned)
    try:
        v = float(v)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"evaluate must return a real number; got {type(v).__name__} at {label}") from exc
    if not np.isfinite(v):
        raise ValueError(f"evaluate returned a non-finite value {v!r} at {label}")
    return v


def magnitude_pruning_curve(weights, evaluate: Callable, sparsities) -> PruningCurve:
    r"""Global one-shot magnitude-pruning curve: ``evaluate(magnitude_prune(weights, s))`` for each ``s``.

    The dense point ``s = 0`` is always included (it is added if absent) so that
    :func:`essential_sparsity` can measure drops from it.

    Parameters
    ----------
    weights : array, sequence or mapping of arrays
        The weights pruned jointly (pass only those to prune, e.g. the matrices).
    evaluate : callable
        ``evaluate(pruned_weights) -> float`` (e.g. test accuracy), where
        ``pruned_weights`` has the structure of ``weights``.
    sparsities : sequence of float
        Fractions in [0, 1].

    Returns
    -------
    PruningCurve

    References
    ----------
    Jaiswal et al., arXiv:2306.03805.

    Examples
    --------
    >>> import numpy as np
    >>> from rmt_sparsity.metrics import magnitude_pruning_curve
    >>> w = np.arange(1.0, 11.0)               # |w| = 1..10, total mass 55
    >>> curve = magnitude_pruning_curve(w, lambda v: v.sum() / 55.0, [0.5, 0.2])
    >>> curve.sparsity, curve.metric.round(3)
    (array([0. , 0.2, 0.5]), array([1.   , 0.945, 0.727]))
    """
    if not callable(evaluate):
        raise TypeError(f"evaluate must be callable; got {type(evaluate).__name__}")
    s = check_array("sparsities", sparsities, ndim=1)
    for v in s:
        check_real("sparsities", float(v), lo=0.0, hi=1.0)
    s = np.unique(np.concatenate([[0.0], s]))
    arrs, rebuild = _flatten(weights)
    # one stable sort serves every sparsity: the masks are those of magnitude_mask (same count, same ties)
    sizes = [a.size for a in arrs]
    order = np.argsort(np.concatenate([np.abs(a).ravel() for a in arrs]), kind="stable")
    metric = []
    labels = []
    for v in s:
        label = "dense" if v == 0 else f"magnitude {v:g}"
        keep = np.ones(order.size, dtype=bool)
        keep[order[: int(np.rint(v * order.size))]] = False
        parts = np.split(keep, np.cumsum(sizes)[:-1])
        pruned = rebuild([np.where(m.reshape(a.shape), a, np.zeros((), dtype=a.dtype)) for a, m in zip(arrs, parts)])
        metric.append(_evaluate(evaluate, pruned, label))
        labels.append(label)
    return PruningCurve(sparsity=s, metric=np.asarray(metric), labels=tuple(labels))


def nm_pruning_curve(weights, evaluate: Callable, patterns=((2, 4), (1, 4))) -> PruningCurve:
    r"""Metric under N:M pruning for each pattern, with the dense point; sparsity ``1 - N/M``.

    Parameters
    ----------
    weights : array, sequence or mapping of ``(out, in)`` arrays
    evaluate : callable
        ``evaluate(pruned_weights) -> float``.
    patterns : sequence of (n, m)
        N:M patterns; points are sorted by sparsity (stable for equal sparsities).

    Returns
    -------
    PruningCurve

    References
    ----------
    Jaiswal et al., arXiv:2306.03805.

    Examples
    --------
    >>> import numpy as np
    >>> from rmt_sparsity.metrics import nm_pruning_curve
    >>> w = np.array([[4.0, 3.0, 2.0, 1.0]])
    >>> c = nm_pruning_curve(w, lambda v: v.sum() / 10.0, [(1, 4), (2, 4)])
    >>> c.labels, c.sparsity, c.metric
    (('dense', '2:4', '1:4'), array([0.  , 0.5 , 0.75]), array([1. , 0.7, 0.4]))
    """
    if not callable(evaluate):
        raise TypeError(f"evaluate must be callable; got {type(evaluate).__name__}")
    if isinstance(patterns, (str, bytes, Mapping)) or not hasattr(patterns, "__iter__"):
        raise TypeError(f"patterns must be a non-empty sequence of (n, m) pairs; got {type(patterns).__name__}")
    pats = [_check_nm(*p) if isinstance(p, (tuple, list)) and len(p) == 2 else None for p in patterns]
    if not pats or any(p is None for p in pats):
        raise ValueError(f"patterns must be a non-empty sequence of (n, m) pairs; got {patterns!r}")
    arrs, rebuild = _flatten(weights)
    points = [(0.0, "dense", _evaluate(evaluate, rebuild([a.copy() for a in arrs]), "dense"))]
    for n, m in pats:
        label = f"{n}:{m}"
        points.append((1.0 - n / m, label, _evaluate(evaluate, nm_prune(rebuild(arrs), n, m), label)))
    points.sort(key=lambda t: t[0])
    return PruningCurve(
        sparsity=np.array([p[0] for p in points]),
        metric=np.array([p[2] for p in points]),
        labels=tuple(p[1] for p in points),
    )


# --------------------------------------------------------------------------- essential sparsity


@dataclass(frozen=True)
class EssentialSparsity:
    """Result of :func:`essential_sparsity`.

    Attributes
    ----------
    sparsity : float
        Largest sparsity up to which every drop stays within ``delta``.
    knee : float
        Knee (maximum-distance-from-chord) estimate of the sharp drop; NaN if undefined.
    baseline : float
        Reference (dense) metric.
    delta : float
        Tolerated drop.
    drops : ndarray
        ``baseline - metric`` (or ``metric - baseline`` when lower is better) per point.
    """

    sparsity: float
    knee: float
    baseline: float
    delta: float
    drops: np.ndarray


def essential_sparsity(curve, delta, *, baseline=None, higher_is_better: bool = True) -> EssentialSparsity:
    r"""Essential sparsity: the largest sparsity before the "sharp drop", defined operationally.

    Jaiswal et al. (arXiv:2306.03805) call *essential sparsity* the sharp
    turning point of the one-shot magnitude-pruning curve, beyond which the
    metric falls steeply. This library defines that point **operationally** as

    .. math::

        s^\ast(\delta) = \max\{ s_j : \mathrm{drop}(s_i) \le \delta \ \ \forall\, s_i \le s_j \},
        \qquad \mathrm{drop}(s) = m(0) - m(s)

    (the drop is measured from the dense metric and must stay within
    :math:`\delta` at *every* sparsity up to :math:`s^\ast`, so a later
    recovery does not count; drops are compared up to a few ulps of rounding), with :math:`\mathrm{drop} = m(s) - m(0)` when
    lower is better (a loss). If even the first point exceeds :math:`\delta`,
    :math:`s^\ast = 0` (the dense model is within any tolerance of itself).

    A second, parameter-free estimate is the **knee**: with the curve rescaled
    so that its first point is (0, 1) and its last (1, 0), the knee is the
    point farthest above the chord, :math:`\arg\max_j \; y_j - (1 - x_j)`
    (Kneedle, Satopää et al. 2011). It needs at least 3 points and a drop
    between the first and last point; otherwise it is NaN.

    Parameters
    ----------
    curve : PruningCurve or (sparsities, metrics) pair
        Need not be sorted; it is sorted by sparsity (stably).
    delta : float
        Tolerated drop, in the metric's units (``>= 0``), e.g. 0.01 for 1 % accuracy.
    baseline : float, optional
        Dense metric; default: the metric at sparsity 0, which must then be present.
    higher_is_better : bool
        True for accuracy-like metrics, False for losses.

    Returns
    -------
    EssentialSparsity

    References
    ----------
    Jaiswal et al., arXiv:2306.03805.

    Examples
    --------
    >>> from rmt_sparsity.metrics import essential_sparsity
    >>> s = [0.0, 0.2, 0.4, 0.6, 0.8, 0.9]
    >>> acc = [0.90, 0.90, 0.895, 0.89, 0.60, 0.20]
    >>> r = essential_sparsity((s, acc), delta=0.01)
    >>> r.sparsity, r.knee
    (0.6, 0.6)
    """
    if isinstance(curve, PruningCurve):
        xs, ys = curve.sparsity, curve.metric
    else:
        try:
            xs, ys = curve
        except (TypeError, ValueError) as exc:
            raise TypeError("curve must be a PruningCurve or a (sparsities, metrics) pair") from exc
    xs = check_array("curve sparsities", xs, ndim=1).astype(np.float64)
    ys = check_array("curve metrics", ys, ndim=1).astype(np.float64)
    if xs.shape != ys.shape:
        raise ValueError(f"curve sparsities and metrics must have the same length; got {xs.size} and {ys.size}")
    if np.any((xs < 0) | (xs > 1)):
        raise ValueError(f"curve sparsities must lie in [0, 1]; got min {xs.min()!r}, max {xs.max()!r}")
    delta = check_real("delta", delta, lo=0.0)
    order = np.argsort(xs, kind="stable")
    xs, ys = xs[order], ys[order]
    sign = 1.0 if higher_is_better else -1.0
    if baseline is None:
        if xs[0] != 0.0:
            raise ValueError("curve must contain the dense point (sparsity 0) unless baseline is given")
        base = float(ys[0])
    else:
        base = check_real("baseline", baseline)
    drops = sign * (base - ys)
    # allowance for the rounding of the subtraction (a few ulps of the operands), so that
    # e.g. 0.90 - 0.89 counts as a drop of 0.01
    slack = 4.0 * np.finfo(np.float64).eps * (abs(base) + np.abs(ys))
    ok = np.cumprod(drops <= delta + slack).astype(bool)
    s_star = float(xs[ok][-1]) if ok.any() else 0.0
    knee = _knee(xs, sign * ys)
    return EssentialSparsity(sparsity=s_star, knee=knee, baseline=base, delta=delta, drops=drops)


def _knee(xs, ys) -> float:
    if xs.size < 3 or xs[-1] == xs[0] or ys[0] == ys[-1]:
        return float("nan")
    x = (xs - xs[0]) / (xs[-1] - xs[0])
    y = (ys - ys[-1]) / (ys[0] - ys[-1])
    return float(xs[int(np.argmax(y - (1.0 - x)))])
