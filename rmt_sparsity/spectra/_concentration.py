r"""Spectral concentration of a weight matrix and its null band for a Gaussian matrix of the same shape.

Convention (docs/design.md §3; docs/science.md §5; Peng et al., arXiv 2309.03004 and its code
cdgyp/sparsity): for a key matrix K (d_ff × d_model), concentration is
:math:`\lambda_{\max}/\lambda_{\min}` over the *non-zero* eigenvalues of
:math:`KK^\top`, where eigenvalues below ``zero_tol`` × mean count as zero.
The ratio does not depend on the normalisation; the reported eigenvalues are
those of :math:`KK^\top/n` (n = number of columns, docs/design.md §3).
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .._checks import check_choice, check_int, check_probability, check_real, check_size_budget
from .._io import to_jsonable
from .._rng import as_generator
from ._basic import as_weight_matrix, gram_eigenvalues

__all__ = ["Concentration", "ConcentrationTest", "spectral_concentration", "concentration_vs_random"]

_RELATIVE_TO = ("mean_all", "mean_nonzero")
_NOTES = {
    "soft_edge": (
        "both extreme eigenvalues are soft edges: the ratio tends to ((1+sqrt c)/(1-sqrt c))^2, "
        "c = min(p,n)/max(p,n), with Tracy-Widom fluctuations"
    ),
    "hard_edge": (
        "square matrix without an active cut: lambda_min sits at the hard edge, so the ratio is governed by "
        "Edelman's hard-edge law (kappa/n -> exp(-2/x - 2/x^2), 5/50/95% quantiles 1.22/3.67/40 for "
        "sqrt(ratio)/n), not by Tracy-Widom"
    ),
    "cut": (
        "the zero_tol cut removed non-zero eigenvalues: lambda_min is the smallest eigenvalue above the cut, "
        "so the ratio is set by the cut (e.g. ~38 for a square Gaussian matrix with the 0.1 x mean cut)"
    ),
}


def _to_builtin(obj):
    """Plain-Python copy of ``obj`` that keeps NaN floats (the records of ``spectra._analyze``).

    The result dataclasses of this package use :func:`rmt_sparsity._io.to_jsonable` instead.
    """
    if isinstance(obj, dict):
        return {str(k): _to_builtin(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_to_builtin(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_to_builtin(v) for v in obj.tolist()]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


@dataclass(frozen=True)
class Concentration:
    """Spectral concentration of one matrix (see :func:`spectral_concentration`).

    Attributes
    ----------
    ratio : float
        Eigenvalue ratio :math:`\\lambda_{\\max}/\\lambda_{\\min}` over the kept eigenvalues of :math:`WW^\\top`.
    sv_ratio : float
        Its square root, the singular-value ratio.
    lambda_max, lambda_min : float
        Extreme kept eigenvalues of :math:`WW^\\top/n`.
    n_kept : int
        Eigenvalues at or above the cut (those entering the ratio).
    n_zero : int
        Numerically zero eigenvalues (the ``p - n`` structural zeros when p > n, and any rank deficiency).
    n_cut : int
        Numerically non-zero eigenvalues removed by the cut.
    threshold : float
        The cut ``zero_tol`` × mean, in the units of :math:`WW^\\top/n`.
    zero_tol : float
    relative_to : {"mean_all", "mean_nonzero"}
        Which mean the cut is relative to (``"mean_all"`` is the paper code's).
    regime : {"soft_edge", "hard_edge", "cut"}
        What governs the ratio; ``note`` says it in words.
    shape : tuple of int
    """

    ratio: float
    sv_ratio: float
    lambda_max: float
    lambda_min: float
    n_kept: int
    n_zero: int
    n_cut: int
    threshold: float
    zero_tol: float
    relative_to: str
    regime: str
    note: str
    shape: tuple[int, int]
    normalisation: str = "eigenvalues of W W^T / n (the ratio is normalisation-free)"

    def to_dict(self) -> dict:
        """Plain-Python dict (strict JSON: non-finite floats as strings, :func:`rmt_sparsity._io.to_jsonable`)."""
        return to_jsonable(asdict(self))


def _concentration_from_eigs(lam, shape, zero_tol, relative_to) -> Concentration:
    p, n = shape
    lam_max = float(lam[-1])
    if not lam_max > 0:
        raise ValueError(f"W is the zero matrix (shape {shape}); its spectral concentration is undefined")
    num_tol = max(p, n) * np.finfo(np.float64).eps * lam_max
    nonzero = lam > num_tol
    n_nonzero = int(np.count_nonzero(nonzero))
    mean = float(lam.mean()) if relative_to == "mean_all" else float(lam[nonzero].mean())
    threshold = zero_tol * mean
    kept = nonzero & (lam >= threshold)
    n_kept = int(np.count_nonzero(kept))
    lam_min = float(lam[kept][0])
    n_cut = n_nonzero - n_kept
    if n_cut > 0:
        regime = "cut"
    elif p == n:
        regime = "hard_edge"
    else:
        regime = "soft_edge"
    ratio = lam_max / lam_min
    return Concentration(
        ratio=ratio,
        sv_ratio=math.sqrt(ratio),
        lambda_max=lam_max,
        lambda_min=lam_min,
        n_kept=n_kept,
        n_zero=int(p - n_nonzero),
        n_cut=n_cut,
        threshold=threshold,
        zero_tol=zero_tol,
        relative_to=relative_to,
        regime=regime,
        note=_NOTES[regime],
        shape=(int(p), int(n)),
    )


def _check_conc_args(zero_tol, relative_to):
    zero_tol = check_real("zero_tol", zero_tol, lo=0.0, hi=1.0, hi_open=True)
    check_choice("relative_to", relative_to, _RELATIVE_TO)
    return zero_tol, relative_to


def spectral_concentration(W, zero_tol=0.1, relative_to="mean_all") -> Concentration:
    r"""Spectral concentration :math:`\lambda_{\max}/\lambda_{\min}` of :math:`WW^\top` with the paper's zero cut.

    .. math::

        \kappa = \frac{\lambda_{\max}}{\min\{\lambda_i : \lambda_i \ge
        \mathrm{zero\_tol}\cdot\bar\lambda,\ \lambda_i > 0\}},\qquad
        \text{sv\_ratio} = \sqrt{\kappa},

    where :math:`\lambda_i` are the eigenvalues of :math:`WW^\top/n` (``W`` is
    p × n, stored (out, in); ratio :math:`c = p/n`), "> 0" means above the
    numerical-zero level :math:`\max(p,n)\,\epsilon\,\lambda_{\max}`, and
    :math:`\bar\lambda` is the mean over *all* p eigenvalues, structural zeros
    included (``relative_to="mean_all"``, the paper code's convention: for a
    4d × d key matrix the cut is then 0.025 × the non-zero mean), or over the
    non-zero ones (``"mean_nonzero"``).

    For a Gaussian matrix with :math:`c' = \min(p,n)/\max(p,n) < 1` and no
    active cut, :math:`\kappa \to ((1+\sqrt{c'})/(1-\sqrt{c'}))^2` (9 for a
    4d × d key matrix: sv_ratio 3). For a square matrix the ratio is governed
    by Edelman's hard-edge law without a cut, or set by the cut with one
    (about 38 with the default cut, which removes ~20 % of MP(c = 1)); the
    record's ``regime`` and ``note`` say which (docs/science.md §5).

    Parameters
    ----------
    W : array_like, shape (p, n)
        Real finite matrix (e.g. the key matrix K, d_ff × d_model).
    zero_tol : float in [0, 1), default 0.1
        Relative cut; 0 means no cut (only numerical zeros are dropped).
    relative_to : {"mean_all", "mean_nonzero"}
        Which mean the cut is relative to.

    Returns
    -------
    Concentration

    References
    ----------
    Peng, Qi, Shi, Gao, arXiv 2309.03004; Edelman, SIAM J. Matrix Anal. Appl. 9 (1988);
    Marchenko & Pastur (1967).

    Examples
    --------
    >>> import numpy as np
    >>> from rmt_sparsity.spectra import spectral_concentration
    >>> K = np.random.default_rng(0).standard_normal((1024, 256))
    >>> r = spectral_concentration(K)
    >>> r.regime, r.n_kept, r.relative_to, round(r.sv_ratio, 1)
    ('soft_edge', 256, 'mean_all', 3.0)
    >>> spectral_concentration(np.random.default_rng(0).standard_normal((256, 256))).regime
    'cut'
    """
    zero_tol, relative_to = _check_conc_args(zero_tol, relative_to)
    W = as_weight_matrix(W)
    lam = gram_eigenvalues(W)
    return _concentration_from_eigs(lam, W.shape, zero_tol, relative_to)


@dataclass(frozen=True)
class ConcentrationTest:
    """Observed concentration against its null law for a Gaussian matrix of the same shape.

    Attributes
    ----------
    observed : Concentration
    band : tuple of float
        Central ``level`` band of the null eigenvalue ratio.
    sv_band : tuple of float
        The same band for the singular-value ratio (square roots).
    median : float
        Null median of the eigenvalue ratio.
    p_value : float
        Null probability of a ratio at least as extreme (``alternative``).
    alternative : {"two-sided", "greater", "less"}
    method : {"tw_convolution", "tw_convolution_hard_edge", "monte_carlo"}
        How the null was computed (see :func:`concentration_vs_random`).
    n_mc : int
        Monte-Carlo draws behind ``band``/``p_value`` (0 for the analytic laws).
    limit : float
        :math:`((1+\\sqrt{c'})/(1-\\sqrt{c'}))^2` (``inf`` for square shapes).
    level : float
    details : dict
    """

    observed: Concentration
    band: tuple[float, float]
    sv_band: tuple[float, float]
    median: float
    p_value: float
    alternative: str
    method: str
    n_mc: int
    limit: float
    level: float
    details: dict = field(default_factory=dict)

    @property
    def in_band(self) -> bool:
        """Whether the observed ratio lies in the null band."""
        return bool(self.band[0] <= self.observed.ratio <= self.band[1])

    def to_dict(self) -> dict:
        """Plain-Python dict (strict JSON: non-finite floats as strings, :func:`rmt_sparsity._io.to_jsonable`)."""
        d = to_jsonable(asdict(self))
        d["in_band"] = self.in_band
        return d


@functools.lru_cache(maxsize=1)
def _leggauss256():
    """256-point Gauss-Legendre nodes and weights (computed once: leggauss solves a 256 x 256 eigenproblem)."""
    return np.polynomial.legendre.leggauss(256)


class _AnalyticRatioLaw:
    r"""CDF of :math:`R = \lambda_{\max}/\lambda_{\min}` for independent extremes (docs/science.md §2).

    :math:`P(R\le r) = \int_0^1 F_{\max}(r\,Q_{\min}(u))\,du` by 256-point
    Gauss–Legendre in u, as in :func:`rmt_sparsity.laws.edge_band` (whose band
    this reproduces); here it also gives the p-value. Units: unnormalised
    :math:`WW^\top` with σ² = 1 (the ratio is scale-free).
    """

    def __init__(self, p, n, kind):
        from ..laws import TracyWidom, soft_edge_params

        self.tw = TracyWidom(1)
        self.mu, self.s = soft_edge_params(p, n, 1, "max")
        self.kind, self.n = kind, n
        x, w = _leggauss256()
        u, self.w = 0.5 * (x + 1.0), 0.5 * w
        if kind == "soft":
            mu_m, s_m = soft_edge_params(p, n, 1, "min")
            self.qmin = mu_m - s_m * self.tw.isf(u)
        else:  # Edelman hard edge, square: n * lambda_min(WW^T) = z with P(z <= x) = 1 - exp(-x/2 - sqrt x)
            e = -np.log1p(-u)
            self.qmin = (np.sqrt(1.0 + 2.0 * e) - 1.0) ** 2 / n

    def cdf(self, r) -> float:
        return float(np.sum(self.w * _tw_cdf(self.tw, (r * self.qmin - self.mu) / self.s)))

    def ppf(self, q) -> float:
        from scipy.optimize import brentq

        lo = self.mu / float(self.qmin.max()) * 0.5
        hi = self.mu / float(self.qmin.min()) * 2.0
        while self.cdf(lo) > q:
            lo *= 0.5
        while self.cdf(hi) < q:
            hi *= 2.0
        return brentq(lambda r: self.cdf(r) - q, lo, hi, xtol=1e-12, rtol=1e-12)


#: Below this argument F_1 < 1e-13 (log F_1 ~ -|s|^3/24 = -30.4 at s = -9; Tracy & Widom 1996), so the
#: cdf is set to 0 and the survival function to 1 there without evaluating the determinant.
_TW_FLOOR = -9.0


def _tw_cdf(tw, x, *, upper=False):
    """``tw.cdf(x)`` (``tw.sf(x)`` when ``upper``), set to 0 (1) below ``_TW_FLOOR``."""
    x = np.asarray(x, dtype=float)
    out = np.full(x.shape, 1.0 if upper else 0.0)
    m = x > _TW_FLOOR
    if m.any():
        out[m] = (tw.sf if upper else tw.cdf)(x[m])
    return out


def _p_value(lower, upper, alternative):
    if alternative == "greater":
        return min(1.0, upper)
    if alternative == "less":
        return min(1.0, lower)
    return min(1.0, 2.0 * min(lower, upper))


def _mc_null_ratios(p, n, zero_tol, relative_to, n_mc, rng):
    """Null eigenvalue ratios with the cut, from Dumitriu–Edelman tridiagonals (exact in law).

    Per draw: the tridiagonal T (its eigenvalues are the m non-zero eigenvalues of WW^T/n for a
    Gaussian W, arXiv math-ph/0206043), the cut zero_tol * trace(T)/(p or m), the Sturm count k of
    eigenvalues below it, then eigenvalues k and m-1 by bisection (vectorised over draws; 48 halvings
    of the Gershgorin interval: absolute error < 4e-15 x its width, far below the band's MC error).
    """
    from ..ensembles import bisect_eigenvalues, count_below, laguerre_tridiagonal

    m = min(p, n)
    denom = p if relative_to == "mean_all" else m
    A = np.empty((n_mc, m))
    B = np.empty((n_mc, m - 1))
    for i in range(n_mc):
        A[i], B[i] = laguerre_tridiagonal(p, n, rng=rng)
    thr = zero_tol * A.sum(axis=1) / denom
    k = np.minimum(count_below(A, B, thr) if zero_tol > 0 else np.zeros(n_mc, np.int64), m - 1)
    rad = np.zeros((n_mc, m))
    rad[:, :-1] += np.abs(B)
    rad[:, 1:] += np.abs(B)
    lo = np.maximum((A - rad).min(axis=1), 0.0)
    hi = (A + rad).max(axis=1)
    lam_max = bisect_eigenvalues(A, B, m - 1, lo, hi, iters=48)
    lam_lo = bisect_eigenvalues(A, B, k, np.maximum(lo, thr), hi, iters=48)
    return lam_max / lam_lo


def concentration_vs_random(
    W,
    level=0.95,
    *,
    zero_tol=0.1,
    relative_to="mean_all",
    alternative="two-sided",
    n_mc=400,
    rng=None,
) -> ConcentrationTest:
    r"""Compare the spectral concentration of ``W`` with its law for a Gaussian matrix of the same shape.

    The null is a :math:`p\times n` matrix with iid :math:`N(0,\sigma^2)`
    entries; the ratio and the relative cut are scale-free, so the fitted
    σ² does not enter. The null law of :math:`R=\lambda_{\max}/\lambda_{\min}`:

    * **no active cut, soft edges** (``"tw_convolution"``): independent
      extremes with :math:`\lambda_{\max}\approx(\mu+sT)/n` (Johnstone 2001,
      arXiv math/0102013) and the reflected law of :math:`\lambda_{\min}`
      (Ma 2012, arXiv 0810.1329), :math:`T\sim F_1`,

      .. math:: P(R\le r) = \int_0^1 F_{\max}(r\,Q_{\min}(u))\,du ;

    * **square, no cut** (``"tw_convolution_hard_edge"``): the same with
      Edelman's hard edge, :math:`P(n^2\lambda_{\min}/\sigma^2 \le x) = 1-e^{-x/2-\sqrt x}`;
    * **otherwise** (an active cut, or a near-square shape where neither edge
      law applies) ``"monte_carlo"``: ``n_mc`` exact draws of the ratio with
      the same cut from Dumitriu–Edelman tridiagonal matrices
      (arXiv math-ph/0206043); the p-value is :math:`(1+\#)/(1+n_{mc})`.

    The cut is "active" when the null cut exceeds the 0.1 % quantile of the
    null :math:`\lambda_{\min}` (any positive cut at the hard edge); the
    reflected soft-edge law is used where :func:`rmt_sparsity.laws.min_edge_method`
    selects it (the lower edge at least 8 TW units from 0), as in :func:`rmt_sparsity.laws.edge_band`.

    Parameters
    ----------
    W : array_like, shape (p, n)
    level : float, default 0.95
        Coverage of the central band.
    zero_tol, relative_to :
        As in :func:`spectral_concentration`.
    alternative : {"two-sided", "greater", "less"}
        ``"greater"``: is W more concentrated than random?
    n_mc : int, default 400
        Draws for the Monte-Carlo null (used only when needed; >= 20).
    rng : None, int or numpy.random.Generator
        Used only by the Monte-Carlo null.

    Returns
    -------
    ConcentrationTest

    Examples
    --------
    >>> import numpy as np
    >>> from rmt_sparsity.spectra import concentration_vs_random
    >>> K = np.random.default_rng(1).standard_normal((512, 128))
    >>> t = concentration_vs_random(K)
    >>> t.method, t.in_band, round(t.limit, 1), t.p_value > 0.05
    ('tw_convolution', True, 9.0, True)
    >>> concentration_vs_random(np.random.default_rng(1).standard_normal((64, 64)), n_mc=50, rng=0).method
    'monte_carlo'
    """
    zero_tol, relative_to = _check_conc_args(zero_tol, relative_to)
    level = check_probability("level", level)
    check_choice("alternative", alternative, ("two-sided", "greater", "less"))
    n_mc = check_int("n_mc", n_mc, min=20)
    W = as_weight_matrix(W)
    p, n = W.shape
    if min(p, n) < 2:
        raise ValueError(f"W must have at least 2 rows and 2 columns for a concentration band; got shape {W.shape}")
    m = min(p, n)  # the Monte-Carlo null: four (n_mc, m) float64 arrays, ~100 bisection steps per entry
    check_size_budget("n_mc", n_mc, nbytes=4 * 8 * n_mc * m, iterations=100 * n_mc * m,
                      what=f"the Monte-Carlo null of the {p} x {n} concentration")
    obs = spectral_concentration(W, zero_tol, relative_to)
    return _concentration_test(obs, level, zero_tol, relative_to, alternative, n_mc, rng)


class _NullRatio:
    """The null law of the eigenvalue ratio for one (shape, cut, level): its band and its p-values.

    Built once per shape by :func:`_null_ratio` and reusable for every matrix of that shape
    (``analyze`` caches it): the analytic law when an edge law applies, else ``n_mc`` sorted
    Monte-Carlo ratios.
    """

    def __init__(self, method, band, median, draws, details, law=None, ratios=None):
        self.method, self.band, self.median, self.draws, self.details = method, band, median, draws, details
        self.law, self.ratios = law, ratios

    def tails(self, r) -> tuple[float, float]:
        """(P(R <= r), P(R >= r)) under the null; Monte Carlo: (1 + #)/(1 + n_mc) each."""
        if self.law is not None:
            c = self.law.cdf(r)
            return c, 1.0 - c
        n_le = int(np.searchsorted(self.ratios, r, side="right"))
        n_ge = self.ratios.size - int(np.searchsorted(self.ratios, r, side="left"))
        return (1.0 + n_le) / (self.draws + 1.0), (1.0 + n_ge) / (self.draws + 1.0)


def _null_ratio(p, n, zero_tol, relative_to, level, n_mc, rng) -> _NullRatio:
    from ..laws import TracyWidom, min_edge_method, soft_edge_params

    m = min(p, n)
    # null cut in units of WW^T/n with sigma^2 = 1: mean_all = 1, mean_nonzero = p/m
    thr_null = zero_tol * (1.0 if relative_to == "mean_all" else p / m)
    mu_m, s_m = soft_edge_params(p, n, 1, "min")
    units = mu_m / s_m if p != n and s_m > 0 else 0.0
    if p == n:
        kind = "hard" if thr_null == 0.0 else None  # any positive cut is active at the hard edge
        q001 = 0.0
    elif min_edge_method(p, n, 1) == "soft_edge":  # reflected soft edge (Ma 2012): 0.1 % quantile of lambda_min
        q001 = (mu_m - s_m * float(TracyWidom(1).isf(1e-3))) / n
        kind = "soft" if thr_null < q001 else None
    else:  # near-square: neither edge law applies
        kind, q001 = None, math.nan
    alpha = 1.0 - level
    details: dict[str, Any] = {"null_cut": thr_null, "null_lambda_min_q001": q001, "min_edge_units": units}
    if kind is not None:
        law = _AnalyticRatioLaw(p, n, kind)  # the law of laws.edge_band(p, n, which="ratio")
        band = (law.ppf(alpha / 2.0), law.ppf(1.0 - alpha / 2.0))
        details["law"] = "TW1 (Johnstone) max" + (" / reflected TW1 (Ma) min" if kind == "soft" else " / Edelman hard-edge min")
        method = "tw_convolution" if kind == "soft" else "tw_convolution_hard_edge"
        return _NullRatio(method, (float(band[0]), float(band[1])), float(law.ppf(0.5)), 0, details, law=law)
    gen = as_generator(rng)
    ratios = np.sort(_mc_null_ratios(p, n, zero_tol, relative_to, n_mc, gen))
    band = tuple(float(q) for q in np.quantile(ratios, [alpha / 2, 1 - alpha / 2]))
    details["mc_sampler"] = "Dumitriu-Edelman tridiagonal, Sturm count + stebz bisection"
    return _NullRatio("monte_carlo", band, float(np.median(ratios)), n_mc, details, ratios=ratios)


def _concentration_test(obs, level, zero_tol, relative_to, alternative, n_mc, rng, null=None) -> ConcentrationTest:
    """The test of ``obs`` against ``null`` (built here from ``rng`` when None)."""
    from ..laws import MarchenkoPastur

    p, n = obs.shape
    if null is None:
        null = _null_ratio(p, n, zero_tol, relative_to, level, n_mc, rng)
    lower, upper = null.tails(obs.ratio)
    band = null.band
    return ConcentrationTest(
        observed=obs,
        band=band,
        sv_band=(math.sqrt(band[0]), math.sqrt(band[1])),
        median=null.median,
        p_value=float(_p_value(lower, upper, alternative)),
        alternative=alternative,
        method=null.method,
        n_mc=null.draws,
        limit=MarchenkoPastur(min(p, n) / max(p, n)).extreme_ratio(),
        level=level,
        details=dict(null.details),
    )
