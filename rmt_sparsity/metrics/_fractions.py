"""Basic sparsity fractions: zero fraction, activation ratio, activation concentration,
gradient sparsity and tau-dormant neurons.

All functions are pure functions of arrays (NumPy or anything ``np.asarray``
accepts, e.g. JAX arrays). Activations have shape ``(..., d_ff)``: the last axis
indexes neurons and every leading axis (layers, tokens) is kept, so an array of
shape ``(layers, tokens, d_ff)`` gives one value per layer and token.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._checks import check_array, check_choice, check_real
from . import formulas
from ._validate import as_activations

__all__ = [
    "zero_fraction",
    "activation_ratio",
    "activation_concentration",
    "gradient_sparsity",
    "GRADIENT_SPARSITY_TAUS",
    "relative_gradient_sparsity",
    "RELATIVE_GRADIENT_TAUS",
    "gradient_density_ratio",
    "gradient_log_histogram",
    "GRADIENT_LOG_EDGES",
    "dormant_scores",
    "dormant_fraction",
    "DORMANT_TAUS",
]

#: Default thresholds tau for :func:`gradient_sparsity` (docs/science.md §6).
GRADIENT_SPARSITY_TAUS = (1e-9, 1e-6, 1e-3)
#: Default thresholds tau of :func:`relative_gradient_sparsity` (fractions of the token's rms gradient).
RELATIVE_GRADIENT_TAUS = (1e-3, 1e-2)
#: Default bins of :func:`gradient_log_histogram`: log10 g^2 from -20 to 5 in 0.25-wide bins.
GRADIENT_LOG_EDGES = tuple(float(v) for v in np.linspace(-20.0, 5.0, 101))
#: The :math:`\tau` values of ReDo's dormant-neuron counts (arXiv 2302.12902), recorded by the training probes.
DORMANT_TAUS = (0.0, 0.025, 0.1)

_NAMED_ACTIVATIONS = ("relu", "relu2", "jsrelu")


def _fraction(formula, x, reduce: str, *args):
    """``formula(x, *args)`` per leading index (``reduce="none"``) or over every entry (``"mean"``, a float).

    Every row has ``d_ff`` entries, so the fraction over every entry equals the
    mean of the per-row fractions.
    """
    check_choice("reduce", reduce, ("none", "mean"))
    if reduce == "mean":
        return float(formula(x, *args, axis=None))
    return formula(x, *args, axis=-1)


def zero_fraction(activations, *, atol: float = 0.0, reduce: str = "none"):
    r"""Fraction of (near-)zero activations per token (and layer).

    .. math::

        z(t) = \frac{1}{d_\mathrm{ff}} \#\{ i : |a_{t,i}| \le \mathrm{atol} \}

    With ``atol=0`` (default) only exact zeros count, as in Li et al. (2022),
    who report the *percentage of nonzero entries* (3.0 % in T5-Base, 6.3 % in
    ViT-B16): that is :func:`activation_ratio` ``= 1 - z``.

    Parameters
    ----------
    activations : array_like, shape (..., d_ff)
        Post-activation values; the last axis indexes neurons.
    atol : float, optional
        Entries with ``|a| <= atol`` count as zero (``>= 0``).
    reduce : {"none", "mean"}
        ``"none"`` returns one value per leading index (shape ``activations.shape[:-1]``);
        ``"mean"`` returns the mean of those values as a float.

    Returns
    -------
    ndarray or float
        Values in [0, 1].

    References
    ----------
    Li et al., "The Lazy Neuron Phenomenon", arXiv:2210.06313.

    Examples
    --------
    >>> from rmt_sparsity.metrics import zero_fraction
    >>> zero_fraction([[0.0, 1.0, 0.0, 2.0], [0.0, 0.0, 0.0, 3.0]])
    array([0.5 , 0.75])
    >>> zero_fraction([[0.0, 1e-9, 2.0]], atol=1e-6, reduce="mean")
    0.666...
    """
    a = as_activations("activations", activations)
    atol = check_real("atol", atol, lo=0.0)
    return _fraction(formulas._zero_fraction, a, reduce, atol)


def _active_fraction(a, atol, *, axis):
    return np.mean(np.abs(a) > atol, axis=axis)


def activation_ratio(activations, *, atol: float = 0.0, reduce: str = "none"):
    r"""Fraction of active (non-zero) neurons per token (and layer): ``1 - zero_fraction``.

    .. math::

        r(t) = \frac{1}{d_\mathrm{ff}} \#\{ i : |a_{t,i}| > \mathrm{atol} \}

    This is the "activation ratio" of the Sparsing Law (arXiv:2411.02335) when
    the activations were already thresholded (e.g. by CETT), and Li et al.'s
    percentage of nonzero entries (arXiv:2210.06313) with ``atol=0``.

    Parameters
    ----------
    activations : array_like, shape (..., d_ff)
    atol : float, optional
        Entries with ``|a| <= atol`` count as inactive.
    reduce : {"none", "mean"}
        See :func:`zero_fraction`.

    Examples
    --------
    >>> from rmt_sparsity.metrics import activation_ratio
    >>> activation_ratio([[0.0, 1.0, 0.0, 2.0]])
    array([0.5])
    """
    a = as_activations("activations", activations)
    atol = check_real("atol", atol, lo=0.0)
    return _fraction(_active_fraction, a, reduce, atol)


def _negative_fraction(h, *, axis):
    """The zero-derivative region of ReLU, squared ReLU and J-SquaredReLU is h < 0."""
    return np.mean(h < 0, axis=axis)


def activation_concentration(preactivations, activation="relu", *, reduce: str = "none"):
    r"""Fraction of pre-activations in the activation's zero-derivative region.

    .. math::

        c(t) = \frac{1}{d_\mathrm{ff}} \#\{ i : \sigma'(h_{t,i}) = 0 \}

    For the named activations ``"relu"``, ``"relu2"`` (squared ReLU) and
    ``"jsrelu"`` (J-SquaredReLU, :math:`f'(h) = (h+1)\,1[h \ge 0]`) the region is
    :math:`h < 0`. **Boundary convention:** :math:`h = 0` counts as *active*
    (outside the region), matching J-SquaredReLU's :math:`f'(0) = 1`. (JAX's
    ``relu`` gradient at 0 is 0, so for ReLU an exact 0 would be counted
    differently by autodiff; pass a derivative callable to choose otherwise.)

    A callable ``activation`` is treated as the *derivative* :math:`\sigma'`:
    it is applied elementwise to the array and entries where it returns exactly 0
    are counted.

    Parameters
    ----------
    preactivations : array_like, shape (..., d_ff)
        Pre-activation values :math:`h = K x`.
    activation : {"relu", "relu2", "jsrelu"} or callable
        Named activation, or a derivative callable ``h -> sigma'(h)`` (vectorised).
    reduce : {"none", "mean"}
        See :func:`zero_fraction`.

    References
    ----------
    Peng, Qi, Shi, Gao, arXiv:2309.03004 (gradient sparsity and activation concentration).

    Examples
    --------
    >>> import numpy as np
    >>> from rmt_sparsity.metrics import activation_concentration
    >>> activation_concentration([[-1.0, 0.0, 2.0, -3.0]])
    array([0.5])
    >>> # a derivative callable: zero derivative outside |h| < 1
    >>> activation_concentration([[-2.0, 0.5, 3.0]], lambda h: (np.abs(h) < 1).astype(float))
    array([0.666...])
    """
    h = as_activations("preactivations", preactivations)
    if callable(activation):
        deriv = np.asarray(activation(h))
        if deriv.shape != h.shape:
            raise ValueError(
                f"activation derivative callable must return an array of the input's shape {h.shape}; "
                f"got shape {deriv.shape}"
            )
        if deriv.dtype.kind in "fc" and not np.all(np.isfinite(deriv)):
            raise ValueError("activation derivative callable returned non-finite values")
        return _fraction(formulas._zero_fraction, deriv, reduce)
    check_choice("activation", activation, _NAMED_ACTIVATIONS)
    return _fraction(_negative_fraction, h, reduce)


def gradient_sparsity(eta, taus: Sequence[float] = GRADIENT_SPARSITY_TAUS, *, reduce: str = "none"):
    r"""Fraction of entries of :math:`\eta = g \odot \sigma'(h)` with :math:`|\eta| < \tau`.

    .. math::

        s_\tau(t) = \frac{1}{d_\mathrm{ff}} \#\{ i : |\eta_{t,i}| < \tau \}

    :math:`\eta` is the gradient of the loss with respect to the pre-activation
    of the key layer (docs/science.md §5: :math:`\partial L/\partial K = \eta x^\top`).

    Parameters
    ----------
    eta : array_like, shape (..., d_ff)
        Per-token gradients with respect to the pre-activations.
    taus : sequence of float, optional
        Thresholds, each ``> 0``; default ``(1e-9, 1e-6, 1e-3)``.
    reduce : {"none", "mean"}
        See :func:`zero_fraction`.

    Returns
    -------
    dict
        ``{tau: fraction}`` with fractions shaped like ``eta.shape[:-1]`` (or floats for
        ``reduce="mean"``), in the order of ``taus``.

    References
    ----------
    Peng, Qi, Shi, Gao, arXiv:2309.03004.

    Examples
    --------
    >>> from rmt_sparsity.metrics import gradient_sparsity
    >>> gradient_sparsity([[0.0, 1e-8, 1e-4, 0.5]], reduce="mean")
    {1e-09: 0.25, 1e-06: 0.5, 0.001: 0.75}
    """
    e = as_activations("eta", eta)
    if np.ndim(taus) == 0:
        taus = (taus,)
    taus = [check_real("taus", t, lo=0.0, lo_open=True) for t in taus]
    if not taus:
        raise ValueError("taus must hold at least one threshold > 0; got an empty sequence")
    return {t: _fraction(formulas._gradient_sparsity, e, reduce, t) for t in taus}


def relative_gradient_sparsity(eta, taus: Sequence[float] = RELATIVE_GRADIENT_TAUS, *, reduce: str = "none"):
    r"""Fraction of entries with :math:`|\eta_{t,i}| \le \tau\,\mathrm{rms}(\eta_t)`: gradient sparsity relative to each token's scale.

    .. math::

        s^{\mathrm{rel}}_\tau(t) = \frac{1}{d_\mathrm{ff}} \#\Big\{ i : |\eta_{t,i}| \le
        \tau \Big(\frac{1}{d_\mathrm{ff}}\sum_k \eta_{t,k}^2\Big)^{1/2} \Big\}

    The absolute grid of :func:`gradient_sparsity` depends on the gradient's
    overall scale, which differs between networks trained with and without
    weight noise, or with MSE and cross-entropy; this version does not
    (it is invariant to :math:`\eta_t \to c\,\eta_t`). A token whose
    :math:`\eta_t` is exactly 0 counts as fully sparse.

    Parameters
    ----------
    eta : array_like, shape (..., d_ff)
        Per-token gradients with respect to the pre-activations.
    taus : sequence of float, optional
        Thresholds, each ``> 0``; default ``(1e-3, 1e-2)``.
    reduce : {"none", "mean"}
        See :func:`zero_fraction`.

    Returns
    -------
    dict
        ``{tau: fraction}``, as in :func:`gradient_sparsity`.

    References
    ----------
    Peng, Qi, Shi, Gao, arXiv:2309.03004 (gradient sparsity); docs/science.md §6.

    Examples
    --------
    >>> from rmt_sparsity.metrics import relative_gradient_sparsity
    >>> relative_gradient_sparsity([[0.0, 1e-3, 1.0, -1.0]], reduce="mean")
    {0.001: 0.25, 0.01: 0.5}
    >>> relative_gradient_sparsity([[0.0, 1e-6, 1e-3, -1e-3]], reduce="mean")   # same shape, 1000x smaller
    {0.001: 0.25, 0.01: 0.5}
    """
    e = as_activations("eta", eta)
    if np.ndim(taus) == 0:
        taus = (taus,)
    taus = [check_real("taus", t, lo=0.0, lo_open=True) for t in taus]
    if not taus:
        raise ValueError("taus must hold at least one threshold > 0; got an empty sequence")
    e = e.astype(np.float64, copy=False)
    return {t: _fraction(formulas._relative_gradient_sparsity, e, reduce, t) for t in taus}


def _active_mask(name, g, active):
    m = np.asarray(active)
    if m.dtype != np.bool_:
        raise TypeError(f"{name} must be a boolean array (True where sigma'(h) != 0); got dtype {m.dtype}")
    if m.shape != g.shape:
        raise ValueError(f"{name} must have the shape of g {g.shape}; got {m.shape}")
    return m


def gradient_density_ratio(g, active) -> float:
    r"""The gradient-density ratio :math:`E[g^2 \mid \sigma'(h) \ne 0] / E[g^2]` of arXiv 2309.03004.

    .. math::

        \rho_g = \frac{E[g^2 \mid \text{active}]}{E[g^2]}, \qquad g = \frac{\partial L}{\partial a}

    over every token and neuron. :math:`g` is the gradient at the activation's
    *output*, before the activation's derivative masks it; "active" means
    :math:`\sigma'(h) \ne 0` (:math:`a > 0` for ReLU). Below 1, the neurons
    that pass gradient back carry less of :math:`g` than the average neuron.

    The paper's code (``codes/scripts/after_training/gradient_density.py`` of
    cdgyp/sparsity) estimates a ratio of this kind from log-binned histograms
    of :math:`|g|` with "activated" meaning :math:`\eta \ne 0`; here it is
    computed exactly from the values (the two agree up to the binning and
    the power of :math:`|g|`), and :func:`gradient_log_histogram` gives the histogram.

    Parameters
    ----------
    g : array_like
        :math:`\partial L/\partial a`, any shape.
    active : array_like of bool, the shape of ``g``

    Returns
    -------
    float
        NaN when no entry is active or every :math:`g` is 0.

    Examples
    --------
    >>> import numpy as np
    >>> from rmt_sparsity.metrics import gradient_density_ratio
    >>> g = np.array([[1.0, 3.0], [1.0, 1.0]])
    >>> gradient_density_ratio(g, g < 2)            # 1 / ((1 + 9 + 1 + 1) / 4)
    0.333...
    >>> gradient_density_ratio(g, np.ones_like(g, dtype=bool))
    1.0
    """
    g = as_activations("g", g).astype(np.float64, copy=False)
    m = _active_mask("active", g, active)
    return float(formulas._gradient_density_ratio(g, m))


def gradient_log_histogram(g, active=None, *, edges=GRADIENT_LOG_EDGES):
    r"""Histogram of :math:`\log_{10} g^2` over all entries and over the active ones (the paper's figure).

    .. math::

        n_k = \#\{(t, i) : \mathrm{clip}(\log_{10} g_{t,i}^2, e_0, e_K) \in [e_k, e_{k+1})\}

    Values outside ``[edges[0], edges[-1]]`` are clamped into the end bins
    (exact zeros into the first), as the paper's code clamps at its log range
    (arXiv 2309.03004; ``codes/modules/hooks.py``, ``GradientDensityPlugin``, of cdgyp/sparsity).

    Parameters
    ----------
    g : array_like
        :math:`\partial L/\partial a`.
    active : array_like of bool, optional
        :math:`\sigma'(h) \ne 0`, the shape of ``g``.
    edges : sequence of float
        Increasing bin edges of :math:`\log_{10} g^2` (default -20 to 5 in steps of 0.25).

    Returns
    -------
    dict
        ``edges``, ``all`` (counts over every entry) and, with ``active``, ``active`` (counts over active entries).

    Examples
    --------
    >>> from rmt_sparsity.metrics import gradient_log_histogram
    >>> h = gradient_log_histogram([0.0, 1e-3, 1.0, 1e3], [False, True, True, False], edges=[-4.0, -2.0, 0.0, 2.0])
    >>> h["all"].tolist(), h["active"].tolist()
    ([2.0, 0.0, 2.0], [1.0, 0.0, 1.0])
    """
    g = as_activations("g", g).astype(np.float64, copy=False)
    e = check_array("edges", edges, ndim=1).astype(np.float64)
    if e.size < 2 or np.any(np.diff(e) <= 0):
        raise ValueError(f"edges must be at least 2 strictly increasing values; got {e.tolist()}")
    out = {"edges": e, "all": formulas._log10_square_histogram(g, e)}
    if active is not None:
        out["active"] = formulas._log10_square_histogram(g, e, where=_active_mask("active", g, active))
    return out


def dormant_scores(activations) -> np.ndarray:
    r"""ReDo neuron scores :math:`s_i = \mathbb{E}|a_i| / \frac{1}{d}\sum_k \mathbb{E}|a_k|`.

    .. math::

        s_i = \frac{\frac{1}{T}\sum_t |a_{t,i}|}{\frac{1}{d_\mathrm{ff}} \sum_k \frac{1}{T}\sum_t |a_{t,k}|}

    The expectation is the mean over tokens (axis 0) of the *post-activation*
    outputs; the normalising mean runs over the layer's ``d_ff`` neurons, so the
    scores average to 1. If every activation is 0 the ratio is 0/0; the scores
    are then defined as 0 (every neuron dormant).

    Parameters
    ----------
    activations : array_like, shape (tokens, d_ff)

    Returns
    -------
    ndarray, shape (d_ff,)

    References
    ----------
    Sokar et al., "The Dormant Neuron Phenomenon in Deep RL" (ReDo), arXiv:2302.12902.

    Examples
    --------
    >>> from rmt_sparsity.metrics import dormant_scores
    >>> dormant_scores([[0.0, 1.0, 3.0], [0.0, 3.0, 5.0]])   # E|a| = 0, 2, 4; mean 2
    array([0., 1., 2.])
    """
    a = as_activations("activations", activations, ndim=2)
    return formulas._dormant_scores(a.astype(np.float64, copy=False))


def dormant_fraction(activations, tau=0.0):
    r"""Fraction of :math:`\tau`-dormant neurons, :math:`\#\{i : s_i \le \tau\}/d_\mathrm{ff}`.

    Scores :math:`s_i` are those of :func:`dormant_scores`. ReDo uses
    :math:`\tau = 0` (exactly dead) and small values such as 0.025 or 0.1.

    Parameters
    ----------
    activations : array_like, shape (tokens, d_ff)
        Post-activation outputs.
    tau : float or sequence of float
        Threshold(s), each ``>= 0``.

    Returns
    -------
    float or ndarray
        One fraction per ``tau`` (a float for a scalar ``tau``).

    References
    ----------
    Sokar et al., arXiv:2302.12902.

    Examples
    --------
    >>> from rmt_sparsity.metrics import dormant_fraction
    >>> acts = [[0.0, 1.0, 3.0], [0.0, 3.0, 5.0]]   # scores 0, 1, 2
    >>> dormant_fraction(acts, 0.0)
    0.333...
    >>> dormant_fraction(acts, [0.0, 1.0, 2.0])
    array([0.333..., 0.666..., 1.  ])
    """
    s = dormant_scores(activations)
    scalar = np.ndim(tau) == 0
    taus = np.array([check_real("tau", t, lo=0.0) for t in np.atleast_1d(np.asarray(tau, dtype=object))])
    out = np.array([formulas._dormant_fraction(s, t) for t in taus], dtype=np.float64)
    return float(out[0]) if scalar else out
