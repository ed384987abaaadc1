r"""Finite-size laws and bands of the extreme eigenvalues of :math:`WW^\top/n` (and their ratio).

Convention (docs/design.md §3, docs/science.md §2): W is :math:`p\times n`, iid entries of variance
:math:`\sigma^2` (``scale``), ratio :math:`c = p/n`, spectrum of
:math:`S = WW^\top/n`; :math:`m = \min(p, n)`, :math:`N = \max(p, n)`, and
:math:`\lambda_{\min}` is the smallest *non-zero* eigenvalue.

* **Largest eigenvalue** (soft edge). :math:`\lambda_{\max} \approx \sigma^2(\mu + s\,T_\beta)/n`:

  - β = 1, Johnstone 2001 (arXiv math/0102013):
    :math:`\mu = (\sqrt{n-1} + \sqrt p)^2`,
    :math:`s = (\sqrt{n-1} + \sqrt p)(1/\sqrt{n-1} + 1/\sqrt p)^{1/3}`, :math:`T_1 \sim F_1`;
  - β = 2, El Karoui 2006 (arXiv math/0503109): :math:`\mu = (\sqrt n + \sqrt p)^2`,
    :math:`s = (\sqrt n + \sqrt p)(1/\sqrt n + 1/\sqrt p)^{1/3}`, :math:`T_2 \sim F_2`;
  - β = 4 (β-Laguerre, Ramírez–Rider–Virág 2011, arXiv math/0607331): the β = 2
    centring and scaling with :math:`T = 2^{-1/6}X`, :math:`X \sim F_4` in
    Tracy–Widom's convention (:class:`TracyWidom` ``(4)``); confirmed on
    Dumitriu–Edelman samples in the tests.

* **Smallest eigenvalue**, c bounded away from 1 (reflected soft edge; Ma 2012,
  arXiv 0810.1329; Feldheim & Sodin 2010):
  :math:`\lambda_{\min} \approx \sigma^2(\mu_- - s_-T_\beta)/n` with, for β = 1,
  :math:`\mu_- = (\sqrt{N-\frac12} - \sqrt{m-\frac12})^2`,
  :math:`s_- = (\sqrt{N-\frac12} - \sqrt{m-\frac12})(1/\sqrt{m-\frac12} - 1/\sqrt{N-\frac12})^{1/3}`
  (without the ½ shifts for β = 2, 4). It is used while
  :math:`\mu_-/s_- \ge 8` (the lower edge is then at least 8 TW units from the
  hard edge at 0, so the whole 99.9 % band stays positive).
* **Near c = 1** (:math:`\mu_-/s_- < 8`): for a square matrix (p = n) the
  hard-edge limit of Edelman 1988: :math:`n^2\lambda_{\min}/\sigma^2` has cdf
  :math:`1 - e^{-x/2-\sqrt x}` (β = 1) or :math:`1 - e^{-x}` (β = 2). Otherwise
  no closed form applies: :func:`edge_band` then needs draws of the extremes
  (``draws=``), and :func:`rmt_sparsity.ensembles.edge_band` supplies exact
  ones (Sturm bisection on Dumitriu–Edelman matrices, fixed seed).
  :func:`min_edge_method` says which case a shape falls in, and the returned
  :class:`EdgeBand` which law was used.
* **Ratio** :math:`\lambda_{\max}/\lambda_{\min}`: the extremes are
  asymptotically independent, so
  :math:`P(R \le r) = \int_0^1 F_{\max}(r\,Q_{\min}(u))\,du`, computed by
  256-point Gauss–Legendre quadrature in u (method ``"tw_convolution"``), or
  from the Monte-Carlo draws.

Bands are central ``level`` intervals (docs/design.md §3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._checks import check_array, check_choice, check_int, check_probability, check_real
from .tracy_widom import TracyWidom, _check_beta

__all__ = ["EdgeBand", "edge_band", "min_edge_method", "soft_edge_params", "SOFT_EDGE_MIN_UNITS"]

#: Minimal mu_-/s_- (distance of the lower edge from 0 in TW units) for the reflected soft-edge law.
SOFT_EDGE_MIN_UNITS = 8.0
_BETA4_FACTOR = 2.0 ** (-1.0 / 6.0)


@dataclass(frozen=True)
class EdgeBand:
    """Predicted law of an extreme eigenvalue (or their ratio) of :math:`WW^\\top/n`.

    Attributes
    ----------
    which : {"max", "min", "ratio"}
    p, n, beta, scale, level :
        The inputs.
    method : str
        ``"soft_edge"`` (TW with the centring/scaling in ``details``),
        ``"hard_edge"`` (Edelman's square-matrix law), ``"tw_convolution"``
        (ratio from the two edge laws) or ``"monte_carlo"``.
    band : tuple of float
        Central ``level`` interval.
    median : float
    quantiles : dict
        ``{probability: quantile}`` for 0.025, 0.05, 0.5, 0.95, 0.975 and the band ends.
    details : dict
        Centring and scaling, law names, Monte-Carlo draws and seed.
    """

    which: str
    p: int
    n: int
    beta: int
    scale: float
    level: float
    method: str
    band: tuple[float, float]
    median: float
    quantiles: dict = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def contains(self, x) -> np.ndarray:
        """Whether ``x`` lies in the band."""
        x = np.asarray(x, dtype=float)
        return (x >= self.band[0]) & (x <= self.band[1])


def soft_edge_params(p, n, beta=1, which="max"):
    r"""Centring and scaling :math:`(\mu, s)` of the extreme eigenvalue of the *unnormalised* :math:`WW^\top`.

    ``which="max"``: :math:`(\lambda_{\max} - \mu)/s \to T_\beta`;
    ``which="min"``: :math:`(\mu_- - \lambda_{\min})/s_- \to T_\beta` (see the
    module notes for the formulas and references). Divide by n (and multiply by
    σ²) for :math:`WW^\top/n`.

    Examples
    --------
    >>> from rmt_sparsity.laws.edges import soft_edge_params
    >>> mu, s = soft_edge_params(100, 401, beta=1)
    >>> round(mu, 6), round(s, 6)
    (900.0, 15.939879)
    """
    p = check_int("p", p, min=1)
    n = check_int("n", n, min=1)
    beta = _check_beta(beta)
    which = check_choice("which", which, ("max", "min"))
    if which == "max":
        a = math.sqrt(n - 1) if beta == 1 else math.sqrt(n)
        b = math.sqrt(p)
        if a == 0:
            raise ValueError("n must be >= 2 for Johnstone's centring (beta=1)")
        return (a + b) ** 2, (a + b) * (1.0 / a + 1.0 / b) ** (1.0 / 3.0)
    m, N = min(p, n), max(p, n)
    sh = 0.5 if beta == 1 else 0.0
    a, b = math.sqrt(N - sh), math.sqrt(m - sh)
    if a == b:
        return 0.0, math.inf
    return (a - b) ** 2, (a - b) * (1.0 / b - 1.0 / a) ** (1.0 / 3.0)


class _Edge:
    """Law of one extreme eigenvalue of WW^T/n: cdf and quantile function (vectorised)."""

    def __init__(self, kind, beta, mu=0.0, s=1.0, n=1, scale=1.0):
        self.kind, self.beta, self.mu, self.s, self.n, self.scale = kind, beta, mu, s, n, scale
        self.tw = TracyWidom(beta)
        self.c = _BETA4_FACTOR if beta == 4 else 1.0  # T = c X

    def cdf(self, x):
        x = np.asarray(x, dtype=float)
        y = x * self.n / self.scale  # unnormalised eigenvalue
        if self.kind == "max":
            return self.tw.cdf((y - self.mu) / (self.s * self.c))
        if self.kind == "min":
            return self.tw.sf((self.mu - y) / (self.s * self.c))
        # hard edge, square: x' = n^2 lambda / sigma^2 = n * y
        z = np.maximum(self.n * y, 0.0)
        if self.beta == 1:
            return -np.expm1(-z / 2.0 - np.sqrt(z))
        return -np.expm1(-z)

    def ppf(self, u):
        u = np.asarray(u, dtype=float)
        if self.kind == "max":
            y = self.mu + self.s * self.c * self.tw.ppf(u)
        elif self.kind == "min":
            y = self.mu - self.s * self.c * self.tw.isf(u)
        else:
            e = -np.log1p(-u)
            if self.beta == 1:  # z/2 + sqrt z = e
                z = (np.sqrt(1.0 + 2.0 * e) - 1.0) ** 2
            else:
                z = e
            y = z / self.n
        return y * self.scale / self.n


_GL_U = None


def _ratio_quantiles(fmax: _Edge, fmin: _Edge, probs):
    """Quantiles of lambda_max / lambda_min for independent extremes: P(R <= r) = int_0^1 F_max(r Q_min(u)) du."""
    from scipy.optimize import brentq

    global _GL_U
    if _GL_U is None:
        x, w = np.polynomial.legendre.leggauss(256)
        _GL_U = (0.5 * (x + 1.0), 0.5 * w)
    u, w = _GL_U
    qmin = fmin.ppf(u)
    if np.any(qmin <= 0):
        raise ValueError("the lambda_min law puts mass at or below 0; the ratio band is undefined")

    def cdf(r):
        return float(np.sum(w * fmax.cdf(r * qmin)))

    lo_r = float(fmax.ppf(1e-6) / fmin.ppf(1 - 1e-9))
    hi_r = float(fmax.ppf(1 - 1e-9) / fmin.ppf(1e-9))
    return [brentq(lambda r, pr=pr: cdf(r) - pr, lo_r, hi_r, xtol=1e-12, rtol=1e-12) for pr in probs]


def min_edge_method(p, n, beta=1):
    r"""Which closed-form law describes the smallest non-zero eigenvalue of a :math:`p\times n` matrix.

    The reflected soft edge (Ma 2012, arXiv 0810.1329) while the lower edge lies
    at least ``SOFT_EDGE_MIN_UNITS`` Tracy–Widom units from the hard edge at 0,

    .. math:: \mu_-/s_- \ge 8 ,

    (:func:`soft_edge_params` ``(p, n, beta, "min")``); else Edelman's hard-edge
    law for a square matrix with β = 1 or 2; else none.

    Returns
    -------
    {"soft_edge", "hard_edge"} or None
        ``None``: no closed form applies (near c = 1, not square); the band of
        λ_min and of the ratio then needs draws of the extremes (see :func:`edge_band`).

    Examples
    --------
    >>> from rmt_sparsity.laws import min_edge_method
    >>> min_edge_method(100, 400), min_edge_method(100, 100), min_edge_method(95, 100)
    ('soft_edge', 'hard_edge', None)
    """
    p = check_int("p", p, min=1)
    n = check_int("n", n, min=1)
    beta = _check_beta(beta)
    mu_m, s_m = soft_edge_params(p, n, beta, "min")
    units = mu_m / s_m if math.isfinite(s_m) and s_m > 0 else 0.0
    if units >= SOFT_EDGE_MIN_UNITS:
        return "soft_edge"
    if p == n and beta in (1, 2):
        return "hard_edge"
    return None


def edge_band(p, n, beta=1, which="max", level=0.95, *, scale=1.0, draws=None):
    r"""Predicted finite-n law and central band of λ_max, λ_min or λ_max/λ_min of :math:`WW^\top/n`.

    Closed forms only (see the module notes): Tracy–Widom soft edges, Edelman's
    hard edge, and their convolution for the ratio. Where none applies to
    λ_min (near c = 1, not square; :func:`min_edge_method` is None), the band
    of λ_min and of the ratio is the empirical one of ``draws``;
    :func:`rmt_sparsity.ensembles.edge_band` draws them.

    Parameters
    ----------
    p, n : int
        Rows and columns of W (ratio c = p/n; any c, including c > 1).
    beta : {1, 2, 4}
        1 real, 2 complex Gaussian entries, 4 quaternion (β-Laguerre).
    which : {"max", "min", "ratio"}
        The statistic; ``"min"`` is the smallest non-zero eigenvalue.
    level : float
        Coverage of the central band (0.95 by convention).
    scale : float
        Entry variance σ² (the ratio does not depend on it).
    draws : tuple of two 1-D arrays, optional
        Independent draws ``(lam_max, lam_min)`` of the extremes of :math:`WW^\top/n`
        (same p, n, β, σ²), used only where no closed form applies to λ_min
        and ``which`` is ``"min"`` or ``"ratio"``; the band is then their
        empirical quantiles (``method="monte_carlo"``, ``details["mc_draws"]``).

    Returns
    -------
    EdgeBand
        With ``method`` saying which law was used (see the module notes).

    Raises
    ------
    ValueError
        Bad arguments, or ``which`` in ("min", "ratio") for a shape without a
        closed-form λ_min law and no ``draws``.

    Examples
    --------
    >>> from rmt_sparsity.laws import edge_band
    >>> b = edge_band(200, 800, which="max")
    >>> b.method, round(b.median, 2)
    ('soft_edge', 2.23)
    >>> r = edge_band(200, 800, which="ratio")
    >>> r.method, r.band[0] < ((1 + 0.5) / (1 - 0.5)) ** 2 < r.band[1]
    ('tw_convolution', True)
    >>> edge_band(300, 300, which="min").method
    'hard_edge'
    """
    p = check_int("p", p, min=2)
    n = check_int("n", n, min=2)
    beta = _check_beta(beta)
    which = check_choice("which", which, ("max", "min", "ratio"))
    level = check_probability("level", level)
    scale = check_real("scale", scale, lo=0.0, lo_open=True)
    alpha = 1.0 - level
    probs = [0.025, 0.05, 0.5, 0.95, 0.975, alpha / 2, 1 - alpha / 2]

    mu, s = soft_edge_params(p, n, beta, "max")
    fmax = _Edge("max", beta, mu, s, n, scale)
    mu_m, s_m = soft_edge_params(p, n, beta, "min")
    units = mu_m / s_m if math.isfinite(s_m) and s_m > 0 else 0.0
    details: dict[str, Any] = {
        "ratio_c": p / n,
        "max_centre": mu / n * scale,
        "max_scale": s / n * scale,
        "max_law": f"TW{beta}" + (" x 2^(-1/6)" if beta == 4 else ""),
        "min_edge_units": units,
    }
    min_method = min_edge_method(p, n, beta)
    if min_method == "soft_edge":
        fmin = _Edge("min", beta, mu_m, s_m, n, scale)
        details.update(min_centre=mu_m / n * scale, min_scale=s_m / n * scale, min_law="reflected " + details["max_law"])
    elif min_method == "hard_edge":
        fmin = _Edge("hard", beta, n=n, scale=scale)
        details.update(min_law="Edelman hard edge: n^2 lambda_min/sigma^2 ~ " + ("1 - exp(-x/2 - sqrt x)" if beta == 1 else "Exp(1)"))

    if which == "max":
        qs = list(fmax.ppf(np.array(probs)))
        method = "soft_edge"
    elif min_method is not None:
        if which == "min":
            qs = list(fmin.ppf(np.array(probs)))
            method = min_method
        else:
            qs = _ratio_quantiles(fmax, fmin, probs)
            method = "tw_convolution" if min_method == "soft_edge" else "tw_convolution_hard_edge"
    else:
        if draws is None:
            raise ValueError(
                f"no closed-form law of lambda_min for p={p}, n={n}, beta={beta}: the lower edge is {units:.3g} "
                f"Tracy-Widom units from 0 (< {SOFT_EDGE_MIN_UNITS}) and the matrix is not square (or beta = 4); "
                "pass draws=(lam_max, lam_min), or use rmt_sparsity.ensembles.edge_band, which samples them"
            )
        lmax, lmin = _check_draws(draws)
        stat = lmin if which == "min" else lmax / lmin
        qs = list(np.quantile(stat, probs))
        method = "monte_carlo"
        details.update(mc_draws=int(lmin.size))
    quantiles = {float(pr): float(q) for pr, q in zip(probs, qs)}
    return EdgeBand(
        which=which,
        p=p,
        n=n,
        beta=beta,
        scale=scale,
        level=level,
        method=method,
        band=(float(qs[-2]), float(qs[-1])),
        median=float(qs[2]),
        quantiles=quantiles,
        details=details,
    )


def _check_draws(draws):
    if not isinstance(draws, (tuple, list)) or len(draws) != 2:
        raise TypeError(f"draws must be a pair (lam_max, lam_min) of 1-D arrays; got {type(draws).__name__}")
    lmax = check_array("draws[0] (lam_max)", draws[0], ndim=1)
    lmin = check_array("draws[1] (lam_min)", draws[1], ndim=1)
    if lmax.shape != lmin.shape:
        raise ValueError(f"draws must hold as many lam_max as lam_min; got {lmax.size} and {lmin.size}")
    if np.any(lmin <= 0):
        raise ValueError("draws[1] (lam_min) must be > 0 (smallest non-zero eigenvalues)")
    return lmax, lmin
