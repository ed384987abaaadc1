"""Matrix and spectrum samplers (dense Wishart, beta-Laguerre, Sturm counting).

Each capability owns one section below. Importing this package compiles no Numba code.
"""

# --- dense reference sampler (issue 2) ---
from .wishart import wishart_eigenvalues  # noqa: E402

__all__ = globals().get("__all__", []) + ["wishart_eigenvalues"]

# --- beta-Laguerre tridiagonal samplers, Sturm counting, extreme eigenvalues (issue 3) ---
