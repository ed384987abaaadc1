"""Weight-decay discounting: effective window, heuristic ratio, Kish effective samples, anisotropy.

Setting (docs/science.md §5): SGD with learning rate ``lr`` and decoupled-from-nothing
L2 weight decay ``weight_decay`` multiplies the weights by ``r = 1 - lr·wd`` at
every step, so the contribution of step ``s`` to the state at step ``t`` carries
the weight ``r^(t-s)``. The discounted input covariance is

.. math:: C_t = \\sum_{s=1}^{t} r^{t-s} \\sum_{i \\in \\text{batch } s} x_i x_i^\\top .

Reference: Peng, Qi, Shi, Gao, arXiv 2309.03004 (the RMT theorem; "Theorem 8"
in its code, cdgyp/sparsity ``codes/scripts/marchenko_pastur/mnist.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._checks import check_array, check_int, check_real

__all__ = [
    "discount_factor",
    "discount_window",
    "effective_window",
    "effective_ratio",
    "kish_effective_samples",
    "alpha_anisotropy",
    "predicted_alpha",
    "HeuristicMP",
    "heuristic_mp",
]


def discount_factor(lr, weight_decay) -> float:
    """Per-step weight-decay discount ``r = 1 - lr·weight_decay``.

    Parameters
    ----------
    lr : float
        Learning rate, > 0.
    weight_decay : float
        L2 weight-decay coefficient, >= 0, with ``lr·weight_decay < 1``.

    Returns
    -------
    float
        ``r`` in (0, 1].

    Raises
    ------
    ValueError
        ``lr <= 0``, ``weight_decay < 0``, ``lr·weight_decay >= 1`` or NaN.

    Notes
    -----
    .. math:: r = 1 - \\eta\\,\\lambda,

    the factor applied to the weights by SGD with weight decay (``torch.optim.SGD``
    adds ``λ w`` to the gradient). Reference: arXiv 2309.03004.

    Examples
    --------
    >>> discount_factor(0.1, 0.1)
    0.99
    >>> discount_factor(0.1, 0.0)
    1.0
    """
    lr = check_real("lr", lr, lo=0.0, lo_open=True)
    weight_decay = check_real("weight_decay", weight_decay, lo=0.0)
    prod = lr * weight_decay
    if not prod < 1.0:
        raise ValueError(f"lr*weight_decay must be < 1 (r = 1 - lr*weight_decay > 0); got {prod!r}")
    return 1.0 - prod


def discount_window(r, theta=1e-3) -> float:
    """The paper's effective window ``T_eff`` of a per-step discount ``r``.

    .. math::

        T_\\mathrm{eff} = \\left\\lceil \\frac{\\log(\\theta(1-r))}{\\log r} - 1 \\right\\rceil
        \\quad (\\text{at least } 0;\\ \\infty \\text{ for } r = 1),

    the smallest integer ``T >= 0`` with ``Σ_{j>T} r^j <= theta`` (see
    :func:`effective_window`, which takes ``lr`` and ``weight_decay``).
    Reference: arXiv 2309.03004.

    Parameters
    ----------
    r : float
        Discount per step, ``0 < r <= 1``.
    theta : float, default 1e-3
        Absolute tail threshold, in (0, 1).

    Returns
    -------
    float
        An integer-valued float, or ``math.inf`` for ``r = 1``.

    Examples
    --------
    >>> discount_window(0.99)
    1145.0
    >>> discount_window(1.0)
    inf
    """
    r = check_real("r", r, lo=0.0, hi=1.0, lo_open=True)
    theta = check_real("theta", theta, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    return _window_from_r(r, theta)


def _window_from_r(r: float, theta: float) -> float:
    """:func:`discount_window` for validated arguments."""
    if r >= 1.0:
        return math.inf
    t = math.log(theta * (1.0 - r)) / math.log(r) - 1.0
    return float(max(0, math.ceil(t)))


def _heuristic_ratio(p: int, batch: int, t: float, window: float) -> float:
    """``c = p / (B · min(t, T_eff))``."""
    return p / (batch * min(float(t), window))


def _kish_from_r(batch: int, t: float, r: float) -> float:
    """Kish effective samples of the discounted sum for a validated discount ``r`` (see :func:`kish_effective_samples`)."""
    if r == 1.0:
        return batch * t
    limit = (1.0 + r) / (1.0 - r)
    if math.isinf(t):
        return batch * limit
    # (1 - r^t)^2 / (1 - r^{2t}) = (1 - r^t)/(1 + r^t), computed without cancellation.
    rt = math.exp(t * math.log(r))
    return batch * limit * (1.0 - rt) / (1.0 + rt)


def effective_window(lr, weight_decay, theta=1e-3) -> float:
    """The paper's effective window ``T_eff`` of weight-decay discounting.

    .. math::

        T_\\mathrm{eff} = \\left\\lceil \\frac{\\log(\\theta(1-r))}{\\log r} - 1 \\right\\rceil,
        \\qquad r = 1 - \\mathrm{lr}\\cdot\\mathrm{wd}.

    **What it means.** ``T_eff`` is the smallest integer ``T >= 0`` whose
    *absolute* geometric tail is at most ``theta``:

    .. math:: \\sum_{j > T} r^j = \\frac{r^{T+1}}{1-r} \\le \\theta .

    Relative to the total weight ``1/(1-r)`` the neglected tail is therefore
    ``r^(T+1) <= theta·(1-r)``, *not* ``theta`` (for ``r = 0.99`` it is 1e-5 of
    the total at ``theta = 1e-3``). Without weight decay (``r = 1``) the window is
    infinite.

    Parameters
    ----------
    lr : float
        Learning rate, > 0.
    weight_decay : float
        Weight decay, >= 0, ``lr·weight_decay < 1``.
    theta : float, default 1e-3
        Absolute tail threshold, in (0, 1).

    Returns
    -------
    float
        ``T_eff`` as a float holding an integer, or ``math.inf`` when ``weight_decay == 0``.

    Notes
    -----
    The paper's public code (cdgyp/sparsity, ``effective_T`` in
    ``codes/scripts/marchenko_pastur/mnist.py``) uses the same formula but with
    ``r = sqrt(1 - weight_decay)`` (no ``lr``) and ``threshold = 1e-6`` by default,
    while its covariance accumulator discounts by ``1 - weight_decay``. This
    library follows docs/science.md §5: ``r = 1 - lr·wd`` and ``theta = 1e-3``; pass
    other values explicitly to reproduce the code. Reference: arXiv 2309.03004.

    Examples
    --------
    >>> effective_window(0.1, 0.1)          # r = 0.99
    1145.0
    >>> effective_window(0.1, 0.0)
    inf
    """
    r = discount_factor(lr, weight_decay)
    theta = check_real("theta", theta, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    return _window_from_r(r, theta)


def effective_ratio(p, batch, t, lr, weight_decay, theta=1e-3) -> float:
    """The paper's heuristic aspect ratio ``c = p / (B · min(t, T_eff))``.

    .. math:: c_\\mathrm{heur} = \\frac{p}{B\\,\\min(t, T_\\mathrm{eff})}

    The paper predicts that ``aC_t`` (``a = tr C/‖C‖_F²``) follows the
    Marchenko-Pastur law with this ratio (convention: ratio = p/n, p the
    dimension, n the number of samples). **This is a heuristic**: a geometrically
    weighted sum is not an unweighted sum of ``B·T_eff`` samples; the exact limit
    is the weighted MP law (``rmt_sparsity.laws``) and the second moment is
    governed by :func:`kish_effective_samples` instead (docs/science.md §5).

    Parameters
    ----------
    p : int
        Input dimension (>= 1).
    batch : int
        Tokens per step ``B`` (>= 1).
    t : int
        Number of steps so far (>= 1).
    lr, weight_decay, theta : float
        As in :func:`effective_window`.

    Returns
    -------
    float

    Examples
    --------
    >>> round(effective_ratio(100, 1, 3000, 0.1, 0.1), 6)   # T_eff = 1145
    0.087336
    >>> effective_ratio(128, 2, 256, 0.1, 0.0)               # no decay: p/(B t)
    0.25
    """
    p = check_int("p", p, min=1)
    batch = check_int("batch", batch, min=1)
    t = check_int("t", t, min=1)
    window = effective_window(lr, weight_decay, theta)
    return _heuristic_ratio(p, batch, t, window)


def kish_effective_samples(batch, t, lr, weight_decay) -> float:
    """Kish effective sample count of the discounted sum.

    Each of the ``B`` samples of step ``s`` carries the weight ``w = r^(t-s)``:

    .. math::

        n_\\mathrm{eff} = \\frac{(\\sum w)^2}{\\sum w^2}
        = B\\,\\frac{(1-r^t)^2 (1+r)}{(1-r)(1-r^{2t})}
        \\xrightarrow[t\\to\\infty]{} B\\,\\frac{1+r}{1-r},

    and ``n_eff = B t`` when ``r = 1``. For the weighted sample covariance with
    ratio ``p/n_eff`` the normalised second moment is exactly
    ``m_2/m_1^2 = 1 + p/n_eff`` in the large-``p`` limit (see
    :func:`predicted_alpha`).

    Parameters
    ----------
    batch : int
        Tokens per step (>= 1).
    t : int or float
        Number of steps (>= 1); ``math.inf`` gives the stationary limit.
    lr, weight_decay : float
        As in :func:`effective_window`.

    Returns
    -------
    float

    Examples
    --------
    >>> kish_effective_samples(1, math.inf, 0.1, 0.1)    # B (1+r)/(1-r), r = 0.99
    199.0...
    >>> kish_effective_samples(4, 10, 0.1, 0.0)
    40.0
    """
    batch = check_int("batch", batch, min=1)
    t = check_real("t", t, lo=1.0, allow_inf=True)
    if math.isfinite(t) and t != math.floor(t):
        raise ValueError(f"t must be an integer number of steps >= 1 or inf; got {t!r}")
    return _kish_from_r(batch, t, discount_factor(lr, weight_decay))


def alpha_anisotropy(cov) -> tuple[float, float]:
    """The paper's scale-free anisotropy statistics ``(alpha, A)`` of a covariance.

    With ``a = tr C / ‖C‖_F²`` (the scalar minimising ``‖aC - I‖_F``),

    .. math::

        \\alpha = \\frac{\\operatorname{tr}(aC)}{p} = \\frac{(\\operatorname{tr} C)^2}{p\\,‖C‖_F^2},
        \\qquad
        A = \\frac{\\sqrt{p}\\,‖aC - I‖_F}{p} = \\sqrt{1-\\alpha}.

    The identity ``A = sqrt(1 - alpha)`` holds exactly with this normalisation
    (expand ``‖aC - I‖_F² = a² ‖C‖_F² - 2a tr C + p = p(1 - alpha)``), so ``A``
    carries no information beyond ``alpha``; it is returned for the paper's
    convention (its code logs ``sqrt(p)‖aC - I‖_F`` and its ratio to ``p``).
    ``alpha = 1`` iff ``C`` is a multiple of the identity; ``alpha = 1/(1 + c)``
    for a large MP(c) sample covariance.

    Parameters
    ----------
    cov : array_like, shape (p, p)
        Symmetric positive semi-definite, not all zero.

    Returns
    -------
    (float, float)
        ``(alpha, A)``; ``A`` is computed from its definition (not from ``alpha``).

    References
    ----------
    arXiv 2309.03004; cdgyp/sparsity ``CovariancePlugin.scale``/``anisotropy``.

    Examples
    --------
    >>> alpha_anisotropy(np.eye(3))
    (1.0, 0.0)
    >>> a, A = alpha_anisotropy(np.diag([1.0, 0.0]))
    >>> a, round(A, 12)
    (0.5, 0.707106781187)
    """
    c = check_array("cov", cov, ndim=2)
    if c.shape[0] != c.shape[1]:
        raise ValueError(f"cov must be square; got shape {c.shape}")
    p = c.shape[0]
    tr = float(np.trace(c))
    fro2 = float(np.sum(c * c))
    if fro2 == 0.0:
        raise ValueError("cov must not be the zero matrix")
    a = tr / fro2
    alpha = a * tr / p
    dev = a * c
    dev[np.diag_indices(p)] -= 1.0
    aniso = math.sqrt(p) * float(np.linalg.norm(dev)) / p
    return float(alpha), float(aniso)


def predicted_alpha(p, batch, t, lr, weight_decay) -> float:
    """Large-``p`` prediction of ``alpha`` for the discounted covariance of isotropic inputs.

    For ``C = sum_k w_k x_k x_kᵀ`` with isotropic ``x_k`` (``E x xᵀ = I``) the
    weighted MP law has moments ``m_1 = sum w / p · p`` and
    ``m_2/m_1² = 1 + p sum w² / (sum w)²``, hence

    .. math:: \\alpha = \\frac{m_1^2}{m_2} = \\frac{1}{1 + p/n_\\mathrm{eff}},

    with ``n_eff`` from :func:`kish_effective_samples`. Finite-``p``
    corrections are O(1/p) (the normalisation ‖x‖ = √p adds its own O(1/p)).

    Examples
    --------
    >>> round(predicted_alpha(100, 1, math.inf, 0.1, 0.1), 4)   # n_eff = 199
    0.6656
    """
    p = check_int("p", p, min=1)
    n_eff = kish_effective_samples(batch, t, lr, weight_decay)
    return 1.0 / (1.0 + p / n_eff)


@dataclass(frozen=True)
class HeuristicMP:
    """The paper's heuristic MP prediction for the discounted covariance (see :func:`heuristic_mp`).

    Attributes
    ----------
    ratio : float
        ``c = p / (B · min(t, T_eff))``.
    window : float
        ``T_eff = ⌈log(θ(1-r))/log r - 1⌉`` (``inf`` for ``r = 1``).
    eigenvalue_ratio : float
        ``λ_max/λ_min`` of the non-zero eigenvalues of MP(c),
        ``((1 + √c)/(1 - √c))²`` (:meth:`rmt_sparsity.laws.MarchenkoPastur.extreme_ratio`;
        ``inf`` at ``c = 1``).
    n_eff_kish : float
        Kish effective samples ``B(1+r)/(1-r)·(1-r^t)/(1+r^t)`` (``B t`` for ``r = 1``).
    dim, batch, steps : int
    r, theta : float

    Examples
    --------
    >>> h = heuristic_mp(100, 0.99, 3000)
    >>> round(h.n_eff_kish, 6), h.window
    (199.0, 1145.0)
    """

    ratio: float
    window: float
    eigenvalue_ratio: float
    n_eff_kish: float
    dim: int
    batch: int
    steps: int
    r: float
    theta: float

    def law(self):
        """``MarchenkoPastur(ratio)`` (scale 1)."""
        from ..laws import MarchenkoPastur

        return MarchenkoPastur(self.ratio)


def heuristic_mp(dim, r, steps, batch=1, theta=1e-3) -> HeuristicMP:
    """The paper's heuristic: ``aC_t`` follows MP with ratio ``c = p/(B·min(t, T_eff))``.

    .. math::

        T_\\mathrm{eff} = \\left\\lceil \\frac{\\log(\\theta(1-r))}{\\log r} - 1 \\right\\rceil,
        \\qquad c = \\frac{p}{B \\min(t, T_\\mathrm{eff})},
        \\qquad \\frac{\\lambda_{\\max}}{\\lambda_{\\min}} = \\Bigl(\\frac{1+\\sqrt c}{1-\\sqrt c}\\Bigr)^2.

    **A heuristic, not a theorem**: the exact limit is
    :func:`rmt_sparsity.laws.discounted` (a geometrically weighted sum is not an
    unweighted one). Reference: arXiv 2309.03004.

    Parameters
    ----------
    dim : int
        Input dimension ``p``.
    r : float
        Discount per step, ``0 < r <= 1``.
    steps : int
        ``t >= 1``.
    batch : int, default 1
    theta : float, default 1e-3
        Absolute tail threshold of ``T_eff``.

    Returns
    -------
    HeuristicMP

    Examples
    --------
    >>> h = heuristic_mp(100, 0.99, 3000)
    >>> h.window, round(h.ratio, 6), round(h.eigenvalue_ratio, 2)
    (1145.0, 0.087336, 3.38)
    >>> from rmt_sparsity.laws import discounted
    >>> round(discounted(100 / 3000, 0.99, 3000).ratio_of_edges(), 1)   # the exact law
    20.0
    """
    from ..laws import MarchenkoPastur

    dim = check_int("dim", dim, min=1)
    r = check_real("r", r, lo=0.0, hi=1.0, lo_open=True)
    steps = check_int("steps", steps, min=1)
    batch = check_int("batch", batch, min=1)
    theta = check_real("theta", theta, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    window = _window_from_r(r, theta)
    c = _heuristic_ratio(dim, batch, steps, window)
    return HeuristicMP(
        ratio=c,
        window=window,
        eigenvalue_ratio=MarchenkoPastur(c).extreme_ratio(),
        n_eff_kish=_kish_from_r(batch, float(steps), r),
        dim=dim,
        batch=batch,
        steps=steps,
        r=r,
        theta=theta,
    )
