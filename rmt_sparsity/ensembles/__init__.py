"""Matrix and spectrum samplers (dense Wishart, beta-Laguerre, Sturm counting).

Each capability owns one section below. Importing this package compiles no Numba code.
"""

# --- dense reference sampler (issue 2) ---
from .wishart import wishart_eigenvalues  # noqa: E402

__all__ = globals().get("__all__", []) + ["wishart_eigenvalues"]

# --- beta-Laguerre tridiagonal samplers, Sturm counting, extreme eigenvalues (issue 3) ---
from .laguerre import laguerre_eigenvalues, laguerre_tridiagonal  # noqa: E402
from .sturm import count_below, extreme_eigenvalues, laguerre_histogram  # noqa: E402

__all__ = globals().get("__all__", []) + [
    "laguerre_eigenvalues",
    "laguerre_tridiagonal",
    "count_below",
    "extreme_eigenvalues",
    "laguerre_histogram",
]
