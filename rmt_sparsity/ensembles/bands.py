r"""Edge bands for every shape: the closed-form laws, or exact Monte-Carlo draws where none applies.

:func:`rmt_sparsity.laws.edge_band` holds the closed forms (Tracy–Widom soft
edges, Edelman's hard edge, their convolution for the ratio). Near c = 1 for a
non-square matrix no closed form describes :math:`\lambda_{\min}`; there
:func:`edge_band` draws the extremes exactly (Sturm bisection on
Dumitriu–Edelman matrices, :func:`rmt_sparsity.ensembles.extreme_eigenvalues`)
with a fixed seed, so the band is deterministic.
"""

from __future__ import annotations

from .._checks import check_choice, check_int, check_probability, check_real, check_size_budget
from ..laws.edges import edge_band as _closed_form_band
from ..laws.edges import min_edge_method
from .sturm import extreme_eigenvalues

__all__ = ["edge_band"]


def edge_band(p, n, beta=1, which="max", level=0.95, *, scale=1.0, mc_draws=4000, mc_seed=0):
    r"""Predicted finite-n law and central band of λ_max, λ_min or λ_max/λ_min of :math:`WW^\top/n`, any shape.

    The closed-form band of :func:`rmt_sparsity.laws.edge_band` wherever one
    applies. Where none applies to λ_min (:func:`rmt_sparsity.laws.min_edge_method`
    is None: near c = 1, not square) and ``which`` is ``"min"`` or ``"ratio"``,
    ``mc_draws`` exact draws of the extremes
    (:func:`extreme_eigenvalues`, seed ``mc_seed``) give the empirical band
    (``method="monte_carlo"``)

    .. math:: \bigl[\hat Q(\alpha/2),\ \hat Q(1 - \alpha/2)\bigr], \qquad \alpha = 1 - \text{level},

    with :math:`\hat Q` the empirical quantile function (``numpy.quantile``) of
    the draws of the statistic.

    Parameters
    ----------
    p, n, beta, which, level, scale :
        As in :func:`rmt_sparsity.laws.edge_band` (any shape with p, n >= 2;
        β in {1, 2, 4}; ``which`` in {"max", "min", "ratio"}).
    mc_draws, mc_seed : int
        Monte-Carlo size and seed, used only where no closed form applies.

    Returns
    -------
    rmt_sparsity.laws.EdgeBand
        ``method`` says which law was used; a Monte-Carlo band records
        ``mc_draws`` and ``mc_seed`` in ``details``.

    References
    ----------
    Johnstone 2001 (arXiv math/0102013); Ma 2012 (arXiv 0810.1329); Edelman 1988;
    Dumitriu & Edelman (arXiv math-ph/0206043).

    Examples
    --------
    >>> from rmt_sparsity.ensembles import edge_band
    >>> edge_band(200, 800, which="ratio").method
    'tw_convolution'
    >>> b = edge_band(95, 100, which="min", mc_draws=200)
    >>> b.method, b.details["mc_draws"], b.details["mc_seed"]
    ('monte_carlo', 200, 0)
    """
    p = check_int("p", p, min=2)
    n = check_int("n", n, min=2)
    which = check_choice("which", which, ("max", "min", "ratio"))
    level = check_probability("level", level)
    scale = check_real("scale", scale, lo=0.0, lo_open=True)
    mc_draws = check_int("mc_draws", mc_draws, min=100)
    # the Monte-Carlo fallback draws mc_draws bidiagonals of order min(p, n) (extreme_eigenvalues' memory)
    check_size_budget("mc_draws", mc_draws, nbytes=64 * min(p, n) * mc_draws,
                      what=f"{mc_draws} bidiagonal models of order min(p, n) = {min(p, n)}")
    mc_seed = check_int("mc_seed", mc_seed, min=0)
    if which == "max" or min_edge_method(p, n, beta) is not None:  # min_edge_method validates beta
        return _closed_form_band(p, n, beta, which, level, scale=scale)
    draws = extreme_eigenvalues(p, n, beta, scale, size=mc_draws, rng=mc_seed)
    band = _closed_form_band(p, n, beta, which, level, scale=scale, draws=draws)
    band.details["mc_seed"] = mc_seed
    return band
