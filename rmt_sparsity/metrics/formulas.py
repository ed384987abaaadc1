r"""The sparsity fractions as array formulas: one definition each, for NumPy and for traced JAX code.

Each function here is the single definition of its formula. It does no
validation and takes the array namespace as ``xp`` (``numpy`` by default,
``jax.numpy`` inside ``jax.jit``/``jax.vmap``), so the same expression serves
two callers:

* the validated NumPy metrics of :mod:`rmt_sparsity.metrics`
  (:func:`~rmt_sparsity.metrics.zero_fraction`,
  :func:`~rmt_sparsity.metrics.gradient_sparsity`,
  :func:`~rmt_sparsity.metrics.activation_concentration` with a derivative
  callable, :func:`~rmt_sparsity.metrics.dormant_scores`,
  :func:`~rmt_sparsity.metrics.dormant_fraction`), which check their arguments
  and then call these with ``xp=numpy``;
* the training probes of :func:`rmt_sparsity.nn.compute_probes`, which call
  them with ``xp=jax.numpy`` on traced arrays.

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
"""

from __future__ import annotations

import numpy as np

__all__ = ["zero_fraction", "gradient_sparsity", "dormant_scores", "dormant_fraction"]


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
    atol : float
    axis : int or None
        Axis of the count (default the last, the neurons); ``None`` for all entries.
    xp : module
        Array namespace (``numpy`` or ``jax.numpy``).

    Examples
    --------
    >>> zero_fraction(np.array([[0.0, -0.0, 1e-9, 2.0]]), 1e-6)
    array([0.75])
    """
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
        Threshold (``> 0``; the strict inequality makes ``tau = 0`` count nothing).
    axis : int or None
        As in :func:`zero_fraction`.
    xp : module
        Array namespace.

    Examples
    --------
    >>> float(gradient_sparsity(np.array([0.0, 1e-8, 1e-4, 0.5]), 1e-6))
    0.5
    """
    return xp.mean(xp.abs(eta) < tau, axis=axis)


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
    return xp.mean(scores <= tau)
