r"""CETT (cumulative errors of tail truncation) and PPL-p% sparsity.

Definitions follow the Sparsing Law paper (Luo et al., arXiv:2411.02335) and
ProSparse / "ReLU²  wins" (Zhang et al., arXiv:2402.03804), checked against the
public reference code (thunlp/SparsingLaw, ``model_utils.py`` and ``calc_cett.py``).

Shapes (docs/design.md §3): ``activations`` is ``(tokens, d_ff)`` (the FFN's
intermediate values, i.e. the input of the down-projection), ``w_out`` is
``(d_model, d_ff)`` and ``w_out[:, i]`` is neuron ``i``'s output column. The FFN
output of token ``t`` is :math:`y_t = \sum_i a_{t,i} W_\mathrm{out}[:, i]`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .._checks import check_int, check_real, check_size_budget
from ._validate import as_pair

__all__ = [
    "neuron_scores",
    "cett",
    "cett_pruned_fraction",
    "threshold_for_cett",
    "ppl_p_sparsity",
    "PPLpResult",
    "DEFAULT_CETT_GRID",
]

#: Number of grid thresholds searched by :func:`threshold_for_cett` (as in the reference code).
DEFAULT_CETT_GRID = 65536


def neuron_scores(activations, w_out) -> np.ndarray:
    r"""Per-token neuron scores :math:`|a_{t,i}| \, \lVert W_\mathrm{out}[:, i] \rVert_2`.

    The score is the norm of neuron ``i``'s contribution :math:`a_{t,i} W_\mathrm{out}[:, i]`
    to token ``t``'s FFN output (arXiv:2411.02335, arXiv:2402.03804).

    Parameters
    ----------
    activations : array_like, shape (tokens, d_ff)
    w_out : array_like, shape (d_model, d_ff)

    Returns
    -------
    ndarray, shape (tokens, d_ff), float64

    Examples
    --------
    >>> from rmt_sparsity.metrics import neuron_scores
    >>> neuron_scores([[2.0, -1.0]], [[3.0, 0.0], [4.0, 1.0]])   # column norms 5 and 1
    array([[10.,  1.]])
    """
    a, w = as_pair(activations, w_out)
    return _scores(a, w)


def _scores(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    return np.abs(a) * np.linalg.norm(w, axis=0)[None, :]


def _cett_from(a, w, scores, dense_norm, keep_tokens, t) -> float:
    if not keep_tokens.any():
        return 0.0
    pruned = np.where(scores <= t, a, 0.0)
    tail = np.linalg.norm(pruned[keep_tokens] @ w.T, axis=1)
    return float(np.mean(tail / dense_norm[keep_tokens]))


def _dense_norm(a, w):
    dense = np.linalg.norm(a @ w.T, axis=1)
    return dense, dense > 0


#: Largest tokens x d_ff x d_model for which the searches tabulate CETT with per-token prefix sums
#: (float64: 8 bytes each, so at most 256 MB); larger problems evaluate CETT directly at each step.
_TABLE_MAX_ENTRIES = 32_000_000


class _CettTable:
    r"""CETT at any threshold from per-token prefix sums, for the searches (one product instead of one per step).

    For each kept token, the contributions :math:`a_{t,i} W_{out}[:, i]` are sorted by
    score and summed cumulatively, so the pruned tail at a threshold :math:`t` is the
    prefix of the :math:`k` smallest scores, :math:`k = \#\{i : s_{t,i} \le t\}`:
    :math:`\mathrm{CETT}(t)` is then a gather of precomputed norms. It equals the direct
    sum of :func:`cett` up to the order of the floating-point additions.
    """

    def __init__(self, a, w, scores, dense, keep):
        self.empty = not keep.any()
        if self.empty:
            return
        ak, sk = a[keep], scores[keep]
        order = np.argsort(sk, axis=1, kind="stable")
        self.sorted_scores = np.take_along_axis(sk, order, axis=1)
        contrib = np.take_along_axis(ak, order, axis=1)[:, :, None] * w.T[order]  # (tokens, d_ff, d_model)
        norms = np.linalg.norm(np.cumsum(contrib, axis=1), axis=2)
        self.ratio = np.concatenate([np.zeros((norms.shape[0], 1)), norms], axis=1) / dense[keep][:, None]
        self.rows = np.arange(norms.shape[0])

    def __call__(self, t) -> float:
        if self.empty:
            return 0.0
        k = np.sum(self.sorted_scores <= t, axis=1)
        return float(np.mean(self.ratio[self.rows, k]))


def _cett_function(a, w, scores, dense, keep):
    """CETT as a function of the threshold: tabulated when small enough, else the direct formula."""
    if a.shape[0] * a.shape[1] * w.shape[0] <= _TABLE_MAX_ENTRIES:
        return _CettTable(a, w, scores, dense, keep)
    return lambda t: _cett_from(a, w, scores, dense, keep, t)


def cett(activations, w_out, threshold) -> float:
    r"""Cumulative errors of tail truncation at a score threshold.

    .. math::

        \mathrm{CETT}(t) = \frac{1}{|\mathcal T|}\sum_{\tau \in \mathcal T}
        \frac{\bigl\lVert \sum_{i:\, s_{\tau,i} \le t} a_{\tau,i} W_\mathrm{out}[:, i] \bigr\rVert_2}
             {\bigl\lVert \sum_{i} a_{\tau,i} W_\mathrm{out}[:, i] \bigr\rVert_2},
        \qquad s_{\tau,i} = |a_{\tau,i}|\,\lVert W_\mathrm{out}[:, i]\rVert_2 .

    Neurons with score :math:`\le t` are *pruned* (their contributions form the
    truncated tail); the numerator is the norm of what pruning removes. This is
    computed exactly as defined: it is **not** bounded by 1, because the pruned
    contributions can cancel the retained ones (see the example).

    **Zero-output tokens.** A token whose dense output norm is exactly 0 has an
    undefined ratio; such tokens are *excluded* from the mean
    (:math:`\mathcal T` = tokens with non-zero output). If no token has a
    non-zero output the CETT is defined as 0.

    Parameters
    ----------
    activations : array_like, shape (tokens, d_ff)
        Input of the down-projection (a 1-D array is one token).
    w_out : array_like, shape (d_model, d_ff)
        Down-projection; ``w_out[:, i]`` is neuron ``i``'s output column.
    threshold : float
        Score threshold :math:`t` (any finite real; ``t < 0`` prunes nothing).

    Returns
    -------
    float

    References
    ----------
    Luo et al., "Sparsing Law", arXiv:2411.02335; Zhang et al., arXiv:2402.03804.

    Examples
    --------
    Two neurons with output columns ``e1`` and ``e1 + e2``; token activations
    (1, -1) give output ``-e2`` (norm 1). Neuron 0's score is 1, neuron 1's is
    :math:`\sqrt 2`. A threshold of 1 prunes neuron 0, removing ``e1`` (norm 1):

    >>> from rmt_sparsity.metrics import cett
    >>> W = [[1.0, 1.0], [0.0, 1.0]]
    >>> cett([[1.0, -1.0]], W, 1.0)
    1.0

    Cancellation: columns ``e1`` and ``-e1 + 0.1 e2``, activations (1, 1). The
    output is ``0.1 e2`` (norm 0.1); pruning the small-score neuron 0 (score 1
    < 1.005) removes ``e1``, ten times the output norm:

    >>> cett([[1.0, 1.0]], [[1.0, -1.0], [0.0, 0.1]], 1.0)
    10.0
    """
    a, w = as_pair(activations, w_out)
    t = check_real("threshold", threshold)
    dense, keep = _dense_norm(a, w)
    return _cett_from(a, w, _scores(a, w), dense, keep, t)


def cett_pruned_fraction(activations, w_out, threshold) -> float:
    r"""Fraction of (token, neuron) entries pruned at a score threshold: :math:`\Pr[s_{t,i} \le t]`.

    .. math::

        \frac{1}{T\, d_\mathrm{ff}} \#\{(\tau, i) : |a_{\tau,i}|\,\lVert W_\mathrm{out}[:, i]\rVert \le t\}

    This is the sparsity (1 − activation ratio) obtained by CETT thresholding
    (arXiv:2411.02335). It is non-decreasing in ``threshold``. Entries with score
    0 (zero activation or zero column) count as pruned at any ``t >= 0``.

    Examples
    --------
    >>> from rmt_sparsity.metrics import cett_pruned_fraction
    >>> cett_pruned_fraction([[0.0, 1.0, 2.0, 3.0]], [[1.0, 1.0, 1.0, 1.0]], 1.0)
    0.5
    """
    a, w = as_pair(activations, w_out)
    t = check_real("threshold", threshold)
    return float(np.mean(_scores(a, w) <= t))


def threshold_for_cett(activations, w_out, target, *, n_grid: int = DEFAULT_CETT_GRID) -> float:
    r"""Largest grid score threshold whose CETT is at most ``target``.

    The grid is ``n_grid`` evenly spaced thresholds from the minimum score to its
    99th percentile (``numpy.quantile``, linear interpolation, over all
    ``tokens * d_ff`` scores), as in the reference code (which uses 65536 points
    and a strided subsample for the percentile). A binary search over the grid
    returns the largest grid threshold :math:`t_j` with
    :math:`\mathrm{CETT}(t_j) \le \mathrm{target}`; the search assumes CETT is
    non-decreasing in :math:`t` (it is not always, because of cancellation),
    but the returned threshold always satisfies the bound: it is one at which
    CETT was evaluated and found :math:`\le` target.

    If no grid threshold qualifies (e.g. ``target = 0`` while the smallest score
    is positive), the threshold ``0.0`` is returned: it prunes only
    zero-score entries, which contribute nothing, so CETT(0) = 0 and no
    output changes. With ``target = 0`` nothing with a non-zero contribution
    is pruned (unless a set of contributions cancels exactly).

    Parameters
    ----------
    activations : array_like, shape (tokens, d_ff)
    w_out : array_like, shape (d_model, d_ff)
    target : float
        CETT target, ``>= 0``.
    n_grid : int, optional
        Grid size (``>= 2``); default 65536. Cost: about ``log2(n_grid) + 1``
        CETT evaluations; up to ``tokens * d_ff * d_model = 3.2e7`` they read per-token
        prefix sums of the sorted contributions (one pass), beyond that each is a
        ``(tokens, d_ff) @ (d_ff, d_model)`` product.

    Returns
    -------
    float
        The score threshold; prune neuron ``i`` of token ``t`` when
        :math:`|a_{t,i}|\,\lVert W_\mathrm{out}[:, i]\rVert \le` threshold.

    References
    ----------
    Luo et al., arXiv:2411.02335 (reference code: thunlp/SparsingLaw).

    Examples
    --------
    >>> import numpy as np
    >>> from rmt_sparsity.metrics import cett, threshold_for_cett
    >>> rng = np.random.default_rng(0)
    >>> acts = np.maximum(rng.standard_normal((64, 32)), 0.0)
    >>> W = rng.standard_normal((16, 32))
    >>> t = threshold_for_cett(acts, W, 0.2, n_grid=1024)
    >>> cett(acts, W, t) <= 0.2
    True
    >>> threshold_for_cett(acts, W, 0.0, n_grid=1024)   # min score is 0 (ReLU zeros)
    0.0
    """
    a, w = as_pair(activations, w_out)
    target = check_real("target", target, lo=0.0)
    n_grid = check_int("n_grid", n_grid, min=2)
    check_size_budget("n_grid", n_grid, nbytes=8 * n_grid, what="the float64 threshold grid")
    scores = _scores(a, w)
    dense, keep = _dense_norm(a, w)
    grid = _grid(scores, n_grid)
    return _search(_cett_function(a, w, scores, dense, keep), grid, target)


def _grid(scores: np.ndarray, n_grid: int) -> np.ndarray:
    lo = float(scores.min())
    hi = float(np.quantile(scores, 0.99))
    return np.linspace(lo, hi, n_grid)


def _search(cett_at: Callable[[float], float], grid: np.ndarray, target: float) -> float:
    # Invariant: index lo is "ok" (CETT <= target; lo = -1 is the virtual prune-nothing
    # threshold 0.0 with CETT 0), index hi is "too much" (hi = len(grid) is virtual).
    lo, hi = -1, len(grid)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if cett_at(float(grid[mid])) <= target:
            lo = mid
        else:
            hi = mid
    return float(grid[lo]) if lo >= 0 else 0.0


@dataclass(frozen=True)
class PPLpResult:
    """Result of :func:`ppl_p_sparsity`.

    Attributes
    ----------
    sparsity : float
        Mean over layers of :func:`cett_pruned_fraction` on the supplied (dense)
        activations at ``thresholds`` (the reference code's "calc sparsity").
    activation_ratio : float
        ``1 - sparsity``.
    cett : float
        The CETT target found (largest evaluated target meeting the PPL bound).
    thresholds : tuple of float
        Per-layer score thresholds at that target.
    ppl_ratio : float
        :math:`\\mathrm{mean}\\, \\exp(L_\\mathrm{sparse} - L_\\mathrm{dense})` at that target.
    p : float
        The allowed perplexity increase in percent.
    n_evals : int
        Number of calls of ``loss_fn`` with thresholds (the dense call excluded).
    """

    sparsity: float
    activation_ratio: float
    cett: float
    thresholds: tuple
    ppl_ratio: float
    p: float
    n_evals: int


def _as_losses(name, value, n_expected=None) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim > 1:
        raise ValueError(f"loss_fn must return a scalar or 1-D array of per-example losses; got shape {arr.shape}")
    arr = np.atleast_1d(arr)
    if arr.size == 0:
        raise ValueError("loss_fn returned an empty array of losses")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"loss_fn returned non-finite {name} losses")
    if n_expected is not None and arr.shape[0] != n_expected:
        raise ValueError(
            f"loss_fn must return the same number of losses for every call; got {arr.shape[0]} "
            f"{name} losses and {n_expected} dense ones"
        )
    return arr


def ppl_p_sparsity(
    loss_fn: Callable,
    layers: Sequence,
    p: float = 1.0,
    *,
    cett_max: float = 1.0,
    tol: float = 1e-3,
    n_grid: int = DEFAULT_CETT_GRID,
) -> PPLpResult:
    r"""PPL-p% sparsity: the sparsest CETT thresholding whose perplexity rises by at most p %.

    For a CETT target :math:`c`, each layer :math:`l` gets the score threshold
    :math:`t_l(c)` = :func:`threshold_for_cett` ``(activations_l, w_out_l, c)``.
    The outer search bisects :math:`c \in [0, c_\max]` (default [0, 1], tolerance
    ``tol``, as the reference ``calc_cett.py``) for the largest :math:`c` with

    .. math::

        \frac{1}{B}\sum_{b=1}^{B} \exp\bigl(L_b^\mathrm{sparse}(t(c)) - L_b^\mathrm{dense}\bigr)
        \le 1 + \frac{p}{100},

    assuming the ratio grows with :math:`c`. The returned target is always one at
    which the bound was evaluated and held (or :math:`c = 0`, dense, ratio 1).
    The sparsity is the mean over layers of the pruned fraction at
    :math:`t_l(c)` computed on the supplied dense activations (the reference's
    "calc sparsity"; downstream activations of the sparse model may differ).

    **The masking-callable protocol.** ``loss_fn(thresholds)`` evaluates the model
    on a fixed evaluation set and returns per-example (or per-batch) losses, a
    1-D array of length B (the same B on every call):

    - ``thresholds is None``: the dense model;
    - otherwise a tuple of one float per layer, in the order of ``layers``: the
      model zeroes, in layer :math:`l`, every intermediate value with
      :math:`|a_{t,i}|\,\lVert W_\mathrm{out}[:, i]\rVert \le t_l` before the
      down-projection (equivalently :math:`|a_{t,i}| \le t_l / \lVert W_\mathrm{out}[:, i]\rVert`).

    With the JAX models of :mod:`rmt_sparsity.nn` the masking is a ``post`` hook
    per key layer, e.g. ``hooks={f"layer{i}.post": lambda a, t=t_i, n=colnorm_i:
    jnp.where(jnp.abs(a) * n <= t, 0.0, a)}`` with ``colnorm_i`` the column norms
    of the matrix that consumes ``a`` (``w_out``, or the next layer's ``w``,
    both ``(out, in)``); any other framework only needs a closure of that form.

    Parameters
    ----------
    loss_fn : callable
        ``loss_fn(None | tuple[float, ...]) -> array_like, shape (B,)``.
    layers : sequence of (activations, w_out) pairs
        Dense activations ``(tokens, d_ff_l)`` collected on the calibration data and
        each layer's ``w_out`` ``(d_model, d_ff_l)``.
    p : float, optional
        Allowed perplexity increase in percent (``>= 0``); default 1.
    cett_max : float, optional
        Upper end of the CETT search (``> 0``); default 1.
    tol : float, optional
        Bisection stops when the bracket is narrower than ``tol`` (``> 0``).
    n_grid : int, optional
        Grid size passed to :func:`threshold_for_cett`.

    Returns
    -------
    PPLpResult

    References
    ----------
    Luo et al., arXiv:2411.02335; Zhang et al., arXiv:2402.03804.

    Examples
    --------
    A one-layer linear "model" whose loss is the squared output error:

    >>> import numpy as np
    >>> from rmt_sparsity.metrics import ppl_p_sparsity
    >>> rng = np.random.default_rng(0)
    >>> acts = np.maximum(rng.standard_normal((32, 16)), 0.0)
    >>> W = rng.standard_normal((8, 16))
    >>> col = np.linalg.norm(W, axis=0)
    >>> def loss_fn(thresholds):
    ...     a = acts if thresholds is None else np.where(np.abs(acts) * col <= thresholds[0], 0.0, acts)
    ...     return 0.01 * np.sum((a @ W.T - acts @ W.T) ** 2, axis=1)
    >>> res = ppl_p_sparsity(loss_fn, [(acts, W)], p=1.0, n_grid=256)
    >>> res.ppl_ratio <= 1.01 and 0.5 <= res.sparsity < 1.0
    True
    """
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable; got {type(loss_fn).__name__}")
    p = check_real("p", p, lo=0.0)
    cett_max = check_real("cett_max", cett_max, lo=0.0, lo_open=True)
    tol = check_real("tol", tol, lo=0.0, lo_open=True)
    n_grid = check_int("n_grid", n_grid, min=2)
    check_size_budget("n_grid", n_grid, nbytes=8 * n_grid * max(len(layers), 1) if isinstance(layers, Sequence) else 0,
                      what="the float64 threshold grids, one per layer")
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence) or len(layers) == 0:
        raise TypeError("layers must be a non-empty sequence of (activations, w_out) pairs")
    prepared = []
    for j, pair in enumerate(layers):
        if not (isinstance(pair, Sequence) and len(pair) == 2):
            raise TypeError(f"layers[{j}] must be an (activations, w_out) pair")
        a, w = as_pair(*pair)
        scores = _scores(a, w)
        dense, keep = _dense_norm(a, w)
        prepared.append((scores, _cett_function(a, w, scores, dense, keep), _grid(scores, n_grid)))

    def thresholds_at(c):
        return tuple(_search(f, g, c) for (_, f, g) in prepared)

    dense_losses = _as_losses("dense", loss_fn(None))
    bound = 1.0 + p / 100.0

    def ratio_at(th):
        sparse = _as_losses("sparse", loss_fn(th), dense_losses.shape[0])
        return float(np.mean(np.exp(sparse - dense_losses)))

    best_c, best_th, best_ratio = 0.0, tuple(0.0 for _ in prepared), 1.0
    lo, hi, n_evals = 0.0, cett_max, 0
    # Try the upper end first: if it passes, the bisection is unnecessary.
    th = thresholds_at(hi)
    r = ratio_at(th)
    n_evals += 1
    if r <= bound:
        best_c, best_th, best_ratio = hi, th, r
    else:
        while hi - lo > tol:
            mid = 0.5 * (lo + hi)
            th = thresholds_at(mid)
            r = ratio_at(th)
            n_evals += 1
            if r <= bound:
                lo = mid
                best_c, best_th, best_ratio = mid, th, r
            else:
                hi = mid
    if best_c == 0.0:
        best_th = thresholds_at(0.0)
    sparsity = float(np.mean([np.mean(s <= t) for (s, _, _), t in zip(prepared, best_th)]))
    return PPLpResult(
        sparsity=sparsity,
        activation_ratio=1.0 - sparsity,
        cett=float(best_c),
        thresholds=tuple(float(t) for t in best_th),
        ppl_ratio=float(best_ratio),
        p=p,
        n_evals=n_evals,
    )
