"""Matrix and spectrum samplers: dense Wishart, β-Laguerre tridiagonals, Sturm counting, extreme eigenvalues.

Importing this package compiles no Numba code. :func:`edge_band` completes the
closed-form edge bands of :mod:`rmt_sparsity.laws` with exact Monte-Carlo draws
where no closed form applies.
"""

from .bands import edge_band
from .laguerre import laguerre_eigenvalues, laguerre_tridiagonal
from .sturm import bisect_eigenvalues, count_below, extreme_eigenvalues, laguerre_histogram
from .wishart import wishart_eigenvalues

__all__ = [
    "bisect_eigenvalues",
    "count_below",
    "edge_band",
    "extreme_eigenvalues",
    "laguerre_eigenvalues",
    "laguerre_histogram",
    "laguerre_tridiagonal",
    "wishart_eigenvalues",
]
