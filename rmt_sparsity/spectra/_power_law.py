r"""Power-law tail fit of an eigenvalue spectrum, with xmax-aware likelihood, bootstrap and model comparison.

For heavy-tailed weights with entry tail :math:`P(|w|>x)\sim x^{-\mu}`,
:math:`\mu<2`, the eigenvalues of :math:`WW^\top/n` have a tail density
:math:`\rho(\lambda)\sim\lambda^{-\alpha}` with :math:`\alpha = \mu/2 + 1`
(the largest eigenvalues are squared largest entries; Auffinger, Ben Arous &
Péché 2009, arXiv 0707.2159; Martin & Mahoney 2021, arXiv 1901.08276). A
Gaussian (Marchenko–Pastur) spectrum has a compact support and *no* power-law
tail: the fit must say so (STYLE.md: labels must not fire on random matrices).

**Likelihood.** On :math:`[x_{\min}, x_{\max}]`, with :math:`x_{\max}` the
largest eigenvalue, the truncated power law
:math:`f(x) = (\alpha-1)x^{-\alpha}/(x_{\min}^{1-\alpha}-x_{\max}^{1-\alpha})`
becomes, in :math:`y = \log(x/x_{\min})\in[0, L]`, :math:`L=\log(x_{\max}/x_{\min})`,
a truncated exponential with rate :math:`\beta = \alpha - 1` (any real β).
When xmin and xmax are the tail's own extreme points the likelihood is the
conditional one given them: the :math:`k-2` interior points are iid on
:math:`[x_{\min}, x_{\max}]` (the extremes sit on the boundary and would bias
β). The MLE solves :math:`\bar y = 1/\beta - L/(e^{\beta L}-1)` (monotone in β;
bisection). Ignoring :math:`x_{\max}` (the untruncated Hill/Clauset MLE)
biases α upward when the tail is cut by the matrix size (Aban, Meerschaert &
Panorska 2006). :math:`x_{\min}` minimises the Kolmogorov–Smirnov distance of
the tail to its fit (Clauset, Shalizi & Newman 2009, arXiv 0706.1062), over
the upper half of the spectrum with at least ``k_min`` points.

**Comparison.** Exponential and lognormal tails, truncated to the same
:math:`[x_{\min}, x_{\max}]`, are fitted by maximum likelihood; the
log-likelihood ratio :math:`R` and Vuong's normalised statistic
:math:`z = R/(\hat s\sqrt k)` (two-sided p-value) say which is preferred.

**Decision** (``has_tail``): a power-law tail is reported only when (i) the
tail spans at least one decade (:math:`x_{\max}/x_{\min}\ge 10`; a law
observed over less cannot be told from a curved one, Clauset et al. §3), and
(ii) the power law beats the exponential and is not worse than the
lognormal (Vuong p < 0.1 against exponential, and :math:`R \ge 0` or p ≥
0.1 against lognormal). On Gaussian spectra (i) already fails: the whole MP
bulk spans :math:`((1+\sqrt c)/(1-\sqrt c))^2` and its top is far narrower.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from .._checks import check_array, check_int, check_probability, check_real
from .._io import to_jsonable
from .._rng import as_generator

__all__ = ["PowerLawFit", "fit_power_law"]

_MIN_DECADES = 1.0
_VUONG_P = 0.1


@dataclass(frozen=True)
class PowerLawFit:
    """Result of :func:`fit_power_law`.

    Attributes
    ----------
    alpha : float
        Tail exponent of the density :math:`\\rho(x)\\propto x^{-\\alpha}` on [xmin, xmax].
    alpha_se : float
        Fisher-information standard error at the chosen xmin.
    alpha_ci : tuple of float
        Bootstrap percentile interval (xmin re-selected in each replicate); NaN when ``n_boot = 0``.
    xmin, xmax : float
    n_tail : int
        Points in [xmin, xmax] (the likelihood uses the interior ones, module notes).
    decades : float
        :math:`\\log_{10}(x_{\\max}/x_{\\min})`.
    ks : float
        KS distance of the tail to the fitted truncated power law.
    comparisons : dict
        ``{"exponential": {...}, "lognormal": {...}}`` with ``loglik_ratio`` (power law minus
        alternative), ``vuong_z``, ``p_value`` and ``preferred``.
    has_tail : bool
        The decision (module notes); ``verdict`` says it in words ("power-law tail" or
        "no power-law tail: ..." with the reason).
    """

    alpha: float
    alpha_se: float
    alpha_ci: tuple[float, float]
    level: float
    xmin: float
    xmax: float
    n_tail: int
    n_total: int
    decades: float
    ks: float
    comparisons: dict
    has_tail: bool
    verdict: str
    n_boot: int
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain-Python dict (strict JSON: non-finite floats as strings, :func:`rmt_sparsity._io.to_jsonable`)."""
        return to_jsonable(asdict(self))


# ----------------------------------------------------------------------------- truncated exponential


def _trunc_exp_mean(beta, L):
    """Mean of the exponential with rate beta truncated to [0, L] (beta any real; vectorised)."""
    bl = beta * L
    small = np.abs(bl) < 1e-6
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        out = 1.0 / beta - L / np.expm1(bl)
    # series about beta = 0: L/2 - beta L^2/12
    return np.where(small, L / 2.0 - beta * L * L / 12.0, out)


def _trunc_exp_mle(ybar, L, iters=80):
    """Rate beta with _trunc_exp_mean(beta, L) = ybar, by bisection on a bracket (vectorised)."""
    ybar = np.asarray(ybar, dtype=float)
    L = np.broadcast_to(np.asarray(L, dtype=float), ybar.shape)
    # the mean decreases from L (beta -> -inf) to 0 (beta -> +inf); bracket in units of 1/L
    lo = np.full(ybar.shape, -1.0)
    hi = np.full(ybar.shape, 1.0)
    for _ in range(200):  # expand until bracketed
        need_lo = _trunc_exp_mean(lo, L) < ybar
        need_hi = _trunc_exp_mean(hi, L) > ybar
        if not (need_lo.any() or need_hi.any()):
            break
        lo = np.where(need_lo, lo * 2.0, lo)
        hi = np.where(need_hi, hi * 2.0, hi)
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        go_right = _trunc_exp_mean(mid, L) > ybar
        lo = np.where(go_right, mid, lo)
        hi = np.where(go_right, hi, mid)
    return 0.5 * (lo + hi)


def _trunc_exp_logpdf(y, beta, L):
    """log density of the rate-beta exponential truncated to [0, L]."""
    bl = beta * L
    if abs(bl) < 1e-8:
        return np.full(np.shape(y), -math.log(L)) - beta * (np.asarray(y) - L / 2.0)
    if bl > 0:
        lognorm = math.log(beta) - math.log(-math.expm1(-bl))
    else:
        lognorm = math.log(-beta) - math.log(math.expm1(-bl))
    return lognorm - beta * np.asarray(y)


def _trunc_exp_cdf(y, beta, L):
    bl = beta * L
    if abs(bl) < 1e-8:
        return np.asarray(y) / L
    return np.expm1(-beta * np.asarray(y)) / math.expm1(-bl)


def _trunc_exp_var(beta, L):
    """Variance of the truncated exponential (Fisher information per point of its rate)."""
    bl = beta * L
    if abs(bl) < 1e-4:
        return L * L / 12.0
    return 1.0 / beta**2 - L * L * math.exp(bl) / math.expm1(bl) ** 2 if bl < 700 else 1.0 / beta**2


# ----------------------------------------------------------------------------- xmin scan


def _scan(x, k_min, start_min):
    """Fit at every candidate xmin = x[i], i in [start_min, N - k_min]; return (i*, beta*, D*)."""
    N = x.size
    logx = np.log(x)
    L_all = logx[-1] - logx
    idx = np.arange(start_min, N - k_min + 1)
    if idx.size == 0:
        return None
    csum = np.concatenate([[0.0], np.cumsum(logx[::-1])])[::-1]  # csum[i] = sum(logx[i:])
    k = N - idx
    L = L_all[idx]
    # conditional likelihood given the tail's extreme order statistics: the k - 2 interior points
    # are iid truncated on [xmin, xmax] (y = 0 and y = L are the conditioning points)
    ybar = (csum[idx] - k * logx[idx] - L) / (k - 2)
    ok = L > 0
    beta = np.full(idx.size, np.nan)
    beta[ok] = _trunc_exp_mle(ybar[ok], L[ok])
    D = np.full(idx.size, np.inf)
    # KS for each candidate: chunks to bound memory (O(N^2) total)
    chunk = max(1, 2_000_000 // max(N, 1))
    for s0 in range(0, idx.size, chunk):
        sl = slice(s0, s0 + chunk)
        ii = idx[sl]
        b = beta[sl]
        Lc = L[sl]
        for j, (i0, bj, Lj) in enumerate(zip(ii, b, Lc)):
            if not np.isfinite(bj):
                continue
            y = logx[i0 + 1 : -1] - logx[i0]
            F = _trunc_exp_cdf(y, bj, Lj)
            kk = y.size
            r = np.arange(1, kk + 1)
            D[s0 + j] = max(np.max(r / kk - F), np.max(F - (r - 1) / kk))
    best = int(np.argmin(D))
    return int(idx[best]), float(beta[best]), float(D[best])


# ----------------------------------------------------------------------------- alternatives


def _vuong(ll_a, ll_b):
    d = ll_a - ll_b
    R = float(d.sum())
    sd = float(d.std())
    k = d.size
    if sd == 0 or k < 2:
        return R, math.nan, math.nan
    z = R / (sd * math.sqrt(k))
    from scipy.special import erfc

    return R, z, float(erfc(abs(z) / math.sqrt(2.0)))


def _fit_trunc_lognormal(t, xmin, xmax):
    """MLE of a lognormal truncated to [xmin, xmax]; returns pointwise log-likelihoods."""
    from scipy.optimize import minimize
    from scipy.special import log_ndtr, ndtr

    lt = np.log(t)
    a, b = math.log(xmin), math.log(xmax)

    def nll(par):
        mu, ls = par
        s = math.exp(ls)
        za, zb = (a - mu) / s, (b - mu) / s
        # log(Phi(zb) - Phi(za)) without cancellation in either tail
        if za > 0:
            mass = math.log(max(ndtr(-za) - ndtr(-zb), 1e-300))
        else:
            mass = float(log_ndtr(zb)) + math.log(max(-math.expm1(float(log_ndtr(za) - log_ndtr(zb))), 1e-300))
        z = (lt - mu) / s
        return float(np.sum(0.5 * z * z + math.log(s) + lt) + t.size * (0.5 * math.log(2 * math.pi) + mass))

    x0 = np.array([float(lt.mean()), math.log(max(float(lt.std()), 1e-3))])
    res = minimize(nll, x0, method="Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 2000})
    mu, ls = res.x
    s = math.exp(ls)
    za, zb = (a - mu) / s, (b - mu) / s
    mass = float(np.log(max(ndtr(zb) - ndtr(za), 1e-300))) if za <= 0 else math.log(max(ndtr(-za) - ndtr(-zb), 1e-300))
    z = (lt - mu) / s
    return -(0.5 * z * z + math.log(s) + lt + 0.5 * math.log(2 * math.pi) + mass), (float(mu), float(s))


def _tail_fit(x, k_min, frac):
    N = x.size
    start = max(0, int(math.floor((1.0 - frac) * N)))
    start = min(start, N - k_min)
    return _scan(x, k_min, start)


def fit_power_law(eigenvalues, *, xmin=None, k_min=10, tail_fraction=0.5, n_boot=200, level=0.95, rng=None):
    r"""Fit a power-law tail :math:`\rho(x)\propto x^{-\alpha}` to the largest eigenvalues, or say there is none.

    Method (module notes of :mod:`rmt_sparsity.spectra._power_law`): xmax-aware
    (truncated) maximum likelihood; xmin by minimum KS distance (Clauset et
    al. 2009, arXiv 0706.1062); bootstrap percentile interval with xmin
    re-selected; Vuong comparison with truncated exponential and lognormal
    tails; a tail is reported only if it spans a decade and the power law is
    preferred. For iid heavy-tailed entries with index μ < 2 the eigenvalue
    tail has :math:`\alpha = \mu/2 + 1`.

    Parameters
    ----------
    eigenvalues : array_like, 1-D
        Eigenvalues (e.g. of :math:`WW^\top/n`); zeros and numerical zeros are dropped.
    xmin : float, optional
        Fix the lower cut-off instead of selecting it.
    k_min : int, default 10
        Fewest points in the tail.
    tail_fraction : float in (0, 1], default 0.5
        xmin is searched among the top ``tail_fraction`` of the points.
    n_boot : int, default 200
        Bootstrap replicates (0: no interval).
    level : float, default 0.95
    rng : None, int or numpy.random.Generator
        For the bootstrap (same seed, same interval).

    Returns
    -------
    PowerLawFit

    Examples
    --------
    >>> import numpy as np
    >>> from rmt_sparsity.spectra import fit_power_law, gram_eigenvalues
    >>> g = np.random.default_rng(0)
    >>> fit_power_law(gram_eigenvalues(g.standard_normal((200, 400))), n_boot=0).has_tail
    False
    >>> W = g.choice([-1, 1], (200, 400)) * g.uniform(size=(200, 400)) ** (-1 / 1.0)  # Pareto, mu = 1
    >>> f = fit_power_law(gram_eigenvalues(W), n_boot=50, rng=1)
    >>> f.has_tail, f.alpha_ci[0] < 1.5 < f.alpha_ci[1]
    (True, True)
    """
    x = check_array("eigenvalues", eigenvalues, ndim=1)
    if np.any(x < 0) and float(x.min()) < -1e-10 * float(np.abs(x).max()):
        raise ValueError(f"eigenvalues must be >= 0; got minimum {float(x.min())!r}")
    k_min = check_int("k_min", k_min, min=3)
    tail_fraction = check_real("tail_fraction", tail_fraction, lo=0.0, hi=1.0, lo_open=True)
    n_boot = check_int("n_boot", n_boot, min=0)
    level = check_probability("level", level)
    x = np.sort(x)
    x = x[x > x.size * np.finfo(np.float64).eps * x[-1]] if x[-1] > 0 else x[:0]
    if x.size < k_min:
        raise ValueError(f"need at least k_min={k_min} positive eigenvalues ; got {x.size}")
    if xmin is not None:
        xmin = check_real("xmin", xmin, lo=0.0, lo_open=True)
        if int(np.count_nonzero(x >= xmin)) < k_min:
            raise ValueError(f"xmin={xmin!r} leaves fewer than k_min={k_min} points in the tail")

    def fit(xs):
        hi = xs[-1]
        if xmin is None:
            r = _tail_fit(xs, k_min, tail_fraction)
            i0, beta, D = r
            lo = xs[i0]
        else:
            lo = xmin
            t = xs[(xs > lo) & (xs < hi)]  # interior points (module notes)
            L = math.log(hi / lo)
            beta = float(_trunc_exp_mle(np.array([np.mean(np.log(t / lo))]), np.array([L]))[0])
            F = _trunc_exp_cdf(np.log(t / lo), beta, L)
            r_ = np.arange(1, t.size + 1)
            D = float(max(np.max(r_ / t.size - F), np.max(F - (r_ - 1) / t.size)))
        return lo, hi, beta, D

    lo, hi, beta, D = fit(x)
    tail = x[x >= lo]
    k = tail.size
    inner = tail[1:-1] if xmin is None else tail[(tail > lo) & (tail < hi)]
    L = math.log(hi / lo) if hi > lo else 0.0
    alpha = beta + 1.0
    var_y = _trunc_exp_var(beta, L) if L > 0 else math.nan
    alpha_se = 1.0 / math.sqrt(inner.size * var_y) if var_y and var_y > 0 else math.nan

    ci = (math.nan, math.nan)
    boots = np.empty(0)
    if n_boot:
        g = as_generator(rng)
        boots = np.empty(n_boot)
        for b in range(n_boot):
            xs = np.sort(g.choice(x, size=x.size, replace=True))
            try:
                boots[b] = fit(xs)[2] + 1.0
            except (TypeError, ValueError, FloatingPointError):
                boots[b] = np.nan
        a2 = (1.0 - level) / 2.0
        good = boots[np.isfinite(boots)]
        if good.size:
            ci = (float(np.quantile(good, a2)), float(np.quantile(good, 1.0 - a2)))

    # comparisons on the same [lo, hi]
    comps = {}
    span = hi - lo
    if span > 0 and inner.size >= 2:
        y = np.log(inner / lo)
        ll_pl = _trunc_exp_logpdf(y, beta, L) - np.log(inner)
        lam_e = float(_trunc_exp_mle(np.array([np.mean(inner - lo)]), np.array([span]))[0])
        ll_exp = _trunc_exp_logpdf(inner - lo, lam_e, span)
        R, z, pv = _vuong(ll_pl, ll_exp)
        comps["exponential"] = {"loglik_ratio": R, "vuong_z": z, "p_value": pv, "rate": lam_e,
                                "preferred": _preferred(R, pv)}
        ll_ln, (mu_ln, s_ln) = _fit_trunc_lognormal(inner, lo, hi)
        R, z, pv = _vuong(ll_pl, ll_ln)
        comps["lognormal"] = {"loglik_ratio": R, "vuong_z": z, "p_value": pv, "mu": mu_ln, "sigma": s_ln,
                              "preferred": _preferred(R, pv)}
    decades = math.log10(hi / lo) if hi > lo else 0.0
    reasons = []
    if decades < _MIN_DECADES:
        reasons.append(f"the tail spans {decades:.2f} < {_MIN_DECADES:g} decade")
    ce, cl = comps.get("exponential"), comps.get("lognormal")
    if ce is None or not (ce["loglik_ratio"] > 0 and ce["p_value"] < _VUONG_P):
        reasons.append("not preferred over an exponential tail")
    if cl is None or (cl["loglik_ratio"] < 0 and cl["p_value"] < _VUONG_P):
        reasons.append("a lognormal tail fits better")
    has_tail = not reasons
    verdict = "power-law tail" if has_tail else "no power-law tail: " + "; ".join(reasons)
    return PowerLawFit(
        alpha=float(alpha),
        alpha_se=float(alpha_se),
        alpha_ci=ci,
        level=level,
        xmin=float(lo),
        xmax=float(hi),
        n_tail=int(k),
        n_total=int(x.size),
        decades=float(decades),
        ks=float(D),
        comparisons=comps,
        has_tail=bool(has_tail),
        verdict=verdict,
        n_boot=int(n_boot),
        details={"xmin_selection": "fixed" if xmin is not None else "minimum KS (Clauset et al. 2009)",
                 "likelihood": "truncated at xmax (Aban et al. 2006)",
                 "bootstrap_failures": int(np.count_nonzero(~np.isfinite(boots)))},
    )


def _preferred(R, pv):
    if not math.isfinite(pv) or pv >= _VUONG_P:
        return "neither"
    return "power_law" if R > 0 else "alternative"
