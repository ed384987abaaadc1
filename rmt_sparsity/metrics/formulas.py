r"""The sparsity fractions as array formulas: one definition each, for NumPy and for traced JAX code.

Each function here is the single definition of its formula and takes the
array namespace as ``xp`` (``numpy`` by default, ``jax.numpy`` inside
``jax.jit``/``jax.vmap``), so the same expression serves two callers:

* the validated NumPy metrics of :mod:`rmt_sparsity.metrics`
  (:func:`~rmt_sparsity.metrics.zero_fraction`,
  :func:`~rmt_sparsity.metrics.gradient_sparsity`,
  :func:`~rmt_sparsity.metrics.activation_concentration` with a derivative
  callable, :func:`~rmt_sparsity.metrics.dormant_scores`,
  :func:`~rmt_sparsity.metrics.dormant_fraction`), which check their arguments
  and then call the formula's unvalidated core;
* the training probes of :func:`rmt_sparsity.nn.compute_probes`, which call
  these functions with ``xp=jax.numpy`` on traced arrays.

**Validation.** Every function here checks its arguments, in two tiers, so
that it is safe to call directly and still traces:

* *static* checks, always (they read only shape, ndim and dtype, which a JAX
  tracer knows): an argument must be an array of real numbers (bool, int,
  float or bfloat16; complex, object, string and ``None`` raise ``TypeError``),
  non-empty, of the stated ndim, ``axis`` an int in range or ``None``, and
  thresholds real scalars;
* *value* checks, only on concrete inputs (NumPy arrays, Python numbers,
  concrete JAX arrays): array entries must be finite and thresholds finite and
  ``>= 0``, else ``ValueError`` naming the argument. This is one O(n) pass over
  the input, the cost of the formula itself.

Under a JAX trace the values are unknown and nothing can raise, so a count
never turns non-finite input into a silent number there either: **a traced
input with a NaN or inf entry gives NaN** (per reduced slice for ``axis``),
decided inside the same compiled computation (no host sync is added).

Shapes follow the metrics: the last axis of an activation array indexes the
neurons. ``axis=None`` reduces over every entry, which for a rectangular array
equals the mean over rows of the per-row fractions.

Examples
--------
>>> import numpy as np
>>> from rmt_sparsity.metrics import formulas
>>> a = np.array([[0.0, 1.0, 0.0, 2.0], [0.0, 0.0, 0.0, 3.0]])
>>> formulas.zero_fraction(a), float(formulas.zero_fraction(a, axis=None))
(array([0.5 , 0.75]), 0.625)
>>> formulas.zero_fraction(np.array([0.0, np.nan]))
Traceback (most recent call last):
...
ValueError: a must be finite; found 1 non-finite entries
"""

from __future__ import annotations


import numpy as np

from .._checks import _fmt, check_int, check_real, is_tracer

__all__ = ["zero_fraction", "gradient_sparsity", "relative_gradient_sparsity", "gradient_density_ratio",
           "log10_square_histogram", "dormant_scores", "dormant_fraction"]


# ----------------------------------------------------------------------------------------
# argument checks: static ones always, value ones on concrete input only
# ----------------------------------------------------------------------------------------
def _array(name, value, *, ndim=None, finite=True, bool_only=False):
    """``value`` as an array (NumPy, JAX or a tracer, kept as is); raise on a wrong type, dtype, ndim or size."""
    if hasattr(value, "dtype") and hasattr(value, "shape") and hasattr(value, "ndim"):
        arr = value
    else:
        try:
            arr = np.asarray(value)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be an array of real numbers; got {type(value).__name__}") from exc
    dt = arr.dtype
    kind = getattr(dt, "kind", None)
    if bool_only:
        if kind != "b":
            raise TypeError(f"{name} must be a boolean array; got dtype {dt}")
    elif kind not in ("b", "i", "u", "f") and getattr(dt, "name", "") != "bfloat16":
        shown = f" ({type(value).__name__} {_fmt(value)})" if kind == "O" and np.ndim(arr) == 0 else ""
        raise TypeError(f"{name} must be an array of real numbers; got dtype {dt}{shown}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}; got a {arr.ndim}-D array of shape {tuple(arr.shape)}")
    if arr.size == 0:
        raise ValueError(f"{name} must be non-empty; got shape {tuple(arr.shape)}")
    if finite and kind in ("f", "V") and not is_tracer(arr):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(np.asarray(arr))))
        if bad:
            raise ValueError(f"{name} must be finite; found {bad} non-finite entries")
    return arr


def _threshold(name, value):
    """A threshold ``>= 0``: checked when concrete, passed through when traced (a real scalar is still required)."""
    if is_tracer(value):
        if value.ndim != 0 or getattr(value.dtype, "kind", None) not in ("b", "i", "u", "f"):
            raise TypeError(f"{name} must be a real scalar; got a traced array of dtype {value.dtype} "
                            f"and shape {tuple(value.shape)}")
        return value
    if (type(value).__module__ or "").startswith("jax") and getattr(value, "ndim", None) == 0 \
            and getattr(value.dtype, "kind", None) in ("i", "u", "f"):
        value = float(value)  # a concrete JAX scalar (outside any trace)
    return check_real(name, value, lo=0.0)


def _axis(name, arr, axis):
    """``None`` or an int in ``[-ndim, ndim)`` of ``arr`` (``name`` is the array's argument name)."""
    if axis is None:
        return None
    axis = check_int("axis", axis)
    if not -arr.ndim <= axis < arr.ndim:
        raise ValueError(f"axis must be None or an integer in [{-arr.ndim}, {arr.ndim - 1}] for the "
                         f"{arr.ndim}-D {name}; got {axis}")
    return axis


def _nan_if_nonfinite(result, arrays, xp, axis=None):
    """Under a trace: NaN where a reduced slice of any of ``arrays`` holds a NaN/inf (a count never hides one)."""
    ok = None
    for arr in arrays:
        if getattr(arr.dtype, "kind", None) not in ("f", "V"):
            continue
        fin = xp.all(xp.isfinite(arr), axis=axis)
        ok = fin if ok is None else ok & fin
    return result if ok is None else xp.where(ok, result, xp.nan)


def _traced(*values):
    return any(is_tracer(v) for v in values)


def zero_fraction(a, atol=0.0, *, axis=-1, xp=np):
    r"""Share of entries with :math:`|a| \le \mathrm{atol}` along ``axis``.

    .. math::

        z = \frac{1}{d} \#\{ i : |a_i| \le \mathrm{atol} \}

    With ``atol = 0`` this counts exact zeros (Li et al., arXiv 2210.06313).
    Applied to a derivative :math:`\sigma'(h)` it is the activation
    concentration (arXiv 2309.03004).

    Parameters
    ----------
    a : array
        Real numbers (bool, int, float); finite where concrete (see the module docstring).
    atol : float
        ``>= 0``.
    axis : int or None
        Axis of the count (default the last, the neurons); ``None`` for all entries.
    xp : module
        Array namespace (``numpy`` or ``jax.numpy``).

    Examples
    --------
    >>> zero_fraction(np.array([[0.0, -0.0, 1e-9, 2.0]]), 1e-6)
    array([0.75])
    """
    a = _array("a", a)
    atol = _threshold("atol", atol)
    axis = _axis("a", a, axis)
    out = _zero_fraction(a, atol, axis=axis, xp=xp)
    return _nan_if_nonfinite(out, (a,), xp, axis) if is_tracer(a) else out


def _zero_fraction(a, atol=0.0, *, axis=-1, xp=np):
    return xp.mean(xp.abs(a) <= atol, axis=axis)


def gradient_sparsity(eta, tau, *, axis=-1, xp=np):
    r"""Share of entries with :math:`|\eta| < \tau` along ``axis``.

    .. math::

        s_\tau = \frac{1}{d} \#\{ i : |\eta_i| < \tau \}

    :math:`\eta = \partial L/\partial h` is the gradient with respect to a key
    layer's pre-activation (arXiv 2309.03004).

    Parameters
    ----------
    eta : array
    tau : float
        Threshold (``>= 0``; the strict inequality makes ``tau = 0`` count nothing).
    axis : int or None
        As in :func:`zero_fraction`.
    xp : module
        Array namespace.

    Examples
    --------
    >>> float(gradient_sparsity(np.array([0.0, 1e-8, 1e-4, 0.5]), 1e-6))
    0.5
    """
    eta = _array("eta", eta)
    tau = _threshold("tau", tau)
    axis = _axis("eta", eta, axis)
    out = _gradient_sparsity(eta, tau, axis=axis, xp=xp)
    return _nan_if_nonfinite(out, (eta,), xp, axis) if is_tracer(eta) else out


def _gradient_sparsity(eta, tau, *, axis, xp=np):
    return xp.mean(xp.abs(eta) < tau, axis=axis)


def relative_gradient_sparsity(eta, tau, *, axis=-1, xp=np):
    r"""Share of entries with :math:`|\eta_i| \le \tau\,\mathrm{rms}(\eta_t)`, the rms taken per token (last axis).

    .. math::

        s^{\mathrm{rel}}_\tau = \frac{1}{d} \#\Big\{ i : |\eta_{t,i}| \le \tau
        \sqrt{\tfrac1d \textstyle\sum_k \eta_{t,k}^2} \Big\}

    Scale-free: multiplying a token's :math:`\eta` by a constant leaves it
    unchanged, so networks whose gradients have different overall scales
    compare directly (the absolute grid of :func:`gradient_sparsity` does not).
    A token with :math:`\eta_t = 0` counts every entry (``0 <= 0``): all of its
    gradient is sparse.

    Parameters
    ----------
    eta : array, shape (..., d)
    tau : float
    axis : int or None
        Axis of the count (default the last); ``None`` for all entries (the
        rms is always per token, along the last axis).
    xp : module
        Array namespace.

    Examples
    --------
    >>> e = np.array([[0.0, 1e-3, 1.0, -1.0], [0.0, 0.0, 0.0, 0.0]])
    >>> relative_gradient_sparsity(e, 1e-2)   # rms of row 0 = sqrt(2.000001/4) ~ 0.707
    array([0.5, 1. ])
    """
    eta = _array("eta", eta)
    if eta.ndim == 0:
        raise ValueError("eta must have at least 1 axis (the rms is taken along the last one); got a 0-D array")
    tau = _threshold("tau", tau)
    axis = _axis("eta", eta, axis)
    out = _relative_gradient_sparsity(eta, tau, axis=axis, xp=xp)
    if is_tracer(eta) and getattr(eta.dtype, "kind", None) in ("f", "V"):  # a NaN row poisons its rms: every slice it meets
        row_ok = xp.broadcast_to(xp.all(xp.isfinite(eta), axis=-1, keepdims=True), eta.shape)
        out = xp.where(xp.all(row_ok, axis=axis), out, xp.nan)
    return out


def _relative_gradient_sparsity(eta, tau, *, axis, xp=np):
    rms = xp.sqrt(xp.mean(eta * eta, axis=-1, keepdims=True))
    return xp.mean(xp.abs(eta) <= tau * rms, axis=axis)


def gradient_density_ratio(g, active, *, xp=np):
    r"""The paper's gradient-density ratio :math:`E[g^2 \mid \text{active}] / E[g^2]` over every entry.

    .. math::

        \rho_g = \frac{\sum_{t,i} g_{t,i}^2\,\mathbf 1[\sigma'(h_{t,i}) \ne 0] \,\big/\, \#\{\sigma' \ne 0\}}
                      {\sum_{t,i} g_{t,i}^2 \,\big/\, \#\{(t, i)\}}

    with :math:`g = \partial L/\partial a` (the gradient *at the activation
    output*) and "active" meaning a non-zero derivative :math:`\sigma'(h) \ne 0`
    (:math:`a > 0` for ReLU). A value below 1 says the neurons that pass
    gradient back carry less of :math:`g` than average: gradient sparsity that
    the active set buys (arXiv 2309.03004; its code plots this ratio per layer,
    ``codes/scripts/after_training/gradient_density.py`` of cdgyp/sparsity,
    estimated there from log-binned histograms of :math:`|g|`). NaN when no entry
    is active or every :math:`g` is 0.

    Parameters
    ----------
    g : array
    active : array of bool, the shape of ``g``
    xp : module

    Examples
    --------
    >>> g = np.array([[1.0, 3.0], [1.0, 1.0]])
    >>> float(gradient_density_ratio(g, g < 2))   # E[g^2|active] = 1, E[g^2] = 12/4 = 3
    0.333...
    """
    g = _array("g", g)
    active = _array("active", active, bool_only=True)
    if tuple(active.shape) != tuple(g.shape):
        raise ValueError(f"active must have the shape of g {tuple(g.shape)}; got {tuple(active.shape)}")
    out = _gradient_density_ratio(g, active, xp=xp)
    return _nan_if_nonfinite(out, (g,), xp) if is_tracer(g) else out


def _gradient_density_ratio(g, active, *, xp=np):
    g2 = g * g
    n_active = xp.sum(active)
    cond = xp.sum(xp.where(active, g2, 0.0)) / xp.where(n_active > 0, n_active, 1)
    total = xp.mean(g2)
    ok = (n_active > 0) & (total > 0)
    return xp.where(ok, cond / xp.where(total > 0, total, 1), xp.nan)


def log10_square_histogram(g, edges, *, where=None, xp=np):
    r"""Counts of :math:`\log_{10} g^2` in the bins ``edges``, out-of-range values clamped into the end bins.

    .. math::

        n_k = \#\{ (t, i) : \mathrm{clip}(\log_{10} g_{t,i}^2, e_0, e_K) \in [e_k, e_{k+1}) \}

    (the last bin closed). Exact zeros (:math:`\log_{10} 0 = -\infty`) land in
    the first bin, as the paper's code clamps at the lower end of its log range.
    ``where`` (bool, the shape of ``g``) restricts the count to those entries.

    Examples
    --------
    >>> g = np.array([0.0, 1e-3, 1.0, 1e3])
    >>> log10_square_histogram(g, np.array([-4.0, -2.0, 0.0, 2.0])).tolist()   # log10 g^2 = -inf, -6, 0, 6
    [2.0, 0.0, 2.0]
    """
    g = _array("g", g)
    edges = _array("edges", edges, ndim=1)
    if edges.shape[0] < 2:
        raise ValueError(f"edges must hold at least 2 bin edges; got shape {tuple(edges.shape)}")
    if not is_tracer(edges) and not bool(np.all(np.diff(np.asarray(edges, dtype=np.float64)) > 0)):
        raise ValueError(f"edges must be strictly increasing; got {_fmt(np.asarray(edges).tolist())}")
    if where is not None:
        where = _array("where", where, bool_only=True)
        if tuple(where.shape) != tuple(g.shape):
            raise ValueError(f"where must have the shape of g {tuple(g.shape)}; got {tuple(where.shape)}")
    out = _log10_square_histogram(g, edges, where=where, xp=xp)
    return _nan_if_nonfinite(out, (g, edges), xp) if _traced(g, edges) else out


def _log10_square_histogram(g, edges, *, where=None, xp=np):
    lo, hi = edges[0], edges[-1]
    v = xp.log10(xp.maximum(g * g, 10.0 ** (lo - 1.0)))
    v = xp.clip(v, lo, hi)
    k = xp.clip(xp.searchsorted(edges, v, side="right") - 1, 0, edges.shape[0] - 2)
    w = xp.ones_like(v) if where is None else xp.where(where, 1.0, 0.0)
    n_bins = edges.shape[0] - 1
    if xp is np:
        return np.bincount(k.ravel(), weights=w.ravel(), minlength=n_bins).astype(v.dtype)
    return xp.zeros(n_bins, dtype=v.dtype).at[k.ravel()].add(w.ravel())  # jax.numpy: a traceable scatter-add


def dormant_scores(a, *, xp=np):
    r"""ReDo scores of the neurons of ``a`` (tokens, d): :math:`s_i = d\,S_i/\sum_k S_k`, :math:`S_i = \sum_t |a_{t,i}|`.

    .. math::

        s_i = \frac{\frac1T\sum_t |a_{t,i}|}{\frac1d\sum_k \frac1T\sum_t |a_{t,k}|}
            = \frac{d\,S_i}{\sum_k S_k}

    written with one division (exact for integer-valued activations). When
    every activation is 0 the ratio is 0/0 and the scores are 0 (every neuron
    dormant). Sokar et al., arXiv 2302.12902.

    Parameters
    ----------
    a : array, shape (tokens, d)
        Post-activation outputs.
    xp : module
        Array namespace.

    Examples
    --------
    >>> dormant_scores(np.array([[0.0, 1.0, 3.0], [0.0, 3.0, 5.0]]))
    array([0., 1., 2.])
    """
    a = _array("a", a, ndim=2)
    out = _dormant_scores(a, xp=xp)
    return _nan_if_nonfinite(out, (a,), xp) if is_tracer(a) else out


def _dormant_scores(a, *, xp=np):
    col = xp.sum(xp.abs(a), axis=0)
    total = xp.sum(col)
    positive = total > 0
    scale = a.shape[-1] / xp.where(positive, total, 1)
    return xp.where(positive, col * scale, xp.zeros_like(col))


def dormant_fraction(scores, tau, *, xp=np):
    r"""Share of :math:`\tau`-dormant neurons, :math:`\#\{i : s_i \le \tau\}/d`, from :func:`dormant_scores`.

    Parameters
    ----------
    scores : array, shape (d,)
    tau : float
        Threshold (ReDo uses 0, 0.025 and 0.1; arXiv 2302.12902).
    xp : module
        Array namespace.

    Examples
    --------
    >>> float(dormant_fraction(np.array([0.0, 1.0, 2.0]), 1.0))
    0.666...
    """
    scores = _array("scores", scores, ndim=1)
    tau = _threshold("tau", tau)
    out = _dormant_fraction(scores, tau, xp=xp)
    return _nan_if_nonfinite(out, (scores,), xp) if is_tracer(scores) else out


def _dormant_fraction(scores, tau, *, xp=np):
    return xp.mean(scores <= tau)
