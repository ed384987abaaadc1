"""Small statistics helpers shared by every subpackage: mean ± SE, the Student-t multiplier, binomial bands.

The standard error of a sample mean is

.. math:: \\mathrm{SE} = \\frac{s}{\\sqrt{m}}, \\qquad s^2 = \\frac{1}{m-1}\\sum_i (x_i - \\bar x)^2,

undefined (NaN) for a single value.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["mean_se", "t_multiplier", "binomial_band"]


def mean_se(values, axis=None):
    r"""Sample mean and its standard error :math:`s/\sqrt{m}` (``ddof = 1``).

    Parameters
    ----------
    values : array_like
        The ``m`` independent values (seeds, probes, matrices).
    axis : int, optional
        ``None`` (default): ``values`` is flattened and the result is two floats.
        An int: ``m`` is the length along ``axis`` and the result is two arrays
        (e.g. the mean curve over seeds and its pointwise SE).

    Returns
    -------
    mean, se : float or ndarray
        ``se`` is NaN when ``m < 2`` (one value carries no estimate of its spread).

    Examples
    --------
    >>> mean_se([1.0, 2.0, 3.0])
    (2.0, 0.5773502691896258)
    >>> mean_se([4.0])
    (4.0, nan)
    >>> m, se = mean_se([[1.0, 2.0], [3.0, 2.0]], axis=0)
    >>> m.tolist(), se.tolist()
    ([2.0, 2.0], [1.0, 0.0])
    """
    v = np.asarray(values, dtype=float)
    if axis is not None:
        m = v.shape[axis]
        if m == 0:
            raise ValueError(f"values must hold at least one value along axis {axis}; got shape {v.shape}")
        mean = v.mean(axis=axis)
        se = v.std(axis=axis, ddof=1) / math.sqrt(m) if m > 1 else np.full(mean.shape, math.nan)
        return mean, se
    v = v.ravel()
    if v.size == 0:
        raise ValueError("values must hold at least one value; got an empty array")
    mean = float(v.mean())
    se = float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else math.nan
    return mean, se


def t_multiplier(m: int, level: float = 0.95) -> float:
    r"""Two-sided Student-t multiplier :math:`t_{(1+\text{level})/2,\, m-1}` for the mean of ``m`` values.

    The interval :math:`\bar x \pm t\,\mathrm{SE}` (with :func:`mean_se`'s SE) covers
    the true mean with probability ``level`` for normal data. ``inf`` when
    ``m < 2`` (no degrees of freedom).

    Examples
    --------
    >>> round(t_multiplier(3), 4)   # t_{0.975, 2}
    4.3027
    >>> t_multiplier(1)
    inf
    """
    from scipy.stats import t

    return float(t.ppf(0.5 + level / 2, m - 1)) if m > 1 else float("inf")


def binomial_band(m: int, prob: float, level: float = 0.95) -> tuple[float, float]:
    r"""Central ``level`` band of :math:`X/m`, :math:`X \sim \mathrm{Binomial}(m, \text{prob})`.

    The sampling band of an observed rate (e.g. the fraction of ``m``
    independent draws that fall in a band of coverage ``prob``), from the exact
    binomial quantiles (``ppf`` at :math:`a = (1-\text{level})/2`, ``isf`` at
    :math:`a`), with no normal approximation.

    Examples
    --------
    >>> binomial_band(6, 0.95)   # P(X <= 3) = 0.002, P(X <= 4) = 0.033 for X ~ Bin(6, 0.95)
    (0.6666666666666666, 1.0)
    """
    from scipy.stats import binom

    a = (1.0 - level) / 2.0
    return float(binom.ppf(a, m, prob) / m), float(binom.isf(a, m, prob) / m)
