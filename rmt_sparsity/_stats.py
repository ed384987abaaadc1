"""Small statistics helpers shared by every subpackage: one home for mean ± SE.

The standard error of a sample mean is

.. math:: \\mathrm{SE} = \\frac{s}{\\sqrt{m}}, \\qquad s^2 = \\frac{1}{m-1}\\sum_i (x_i - \\bar x)^2,

undefined (NaN) for a single value.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["mean_se"]


def mean_se(values) -> tuple[float, float]:
    r"""Sample mean and its standard error :math:`s/\sqrt{m}` (``ddof = 1``).

    Parameters
    ----------
    values : array_like
        The ``m`` independent values (seeds, probes, matrices); flattened.

    Returns
    -------
    mean, se : float
        ``se`` is NaN when ``m < 2`` (one value carries no estimate of its spread).

    Examples
    --------
    >>> mean_se([1.0, 2.0, 3.0])
    (2.0, 0.5773502691896258)
    >>> mean_se([4.0])
    (4.0, nan)
    """
    v = np.asarray(values, dtype=float).ravel()
    if v.size == 0:
        raise ValueError("values must hold at least one value; got an empty array")
    mean = float(v.mean())
    se = float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else math.nan
    return mean, se
