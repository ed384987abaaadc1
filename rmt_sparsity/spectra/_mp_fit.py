r"""Calibrated Marchenko–Pastur fit of a weight spectrum, with Tracy–Widom outlier tests and BBP spikes.

Model (docs/design.md §3; docs/science.md §1–2). ``W`` is :math:`p\times n` (stored (out, in)),
ratio :math:`c = p/n`, spectrum of :math:`S = WW^\top/n`. The null is
:math:`W = G`, iid entries of variance :math:`\sigma^2` (the law's ``scale``);
the spiked model is :math:`W = G + \sum_i\theta_i u_iv_i^\top` with unit
:math:`u_i, v_i`.

**BBP location** (Benaych-Georges & Nadakuditi 2012, arXiv 1103.2221, rank
one, :math:`t = \theta^2/(n\sigma^2)`): an outlier separates iff
:math:`t > \sqrt c`, i.e. :math:`\theta > \sigma(pn)^{1/4}`, and then

.. math::

    \lambda_{\mathrm{out}} \to \sigma^2\,\frac{(1+t)(c+t)}{t}
    = \sigma^2\Big(t + 1 + c + \frac ct\Big),

which equals the bulk edge :math:`\sigma^2(1+\sqrt c)^2` at :math:`t=\sqrt c`.
*Derivation*: with :math:`X_0 = G/\sqrt n` and
:math:`s = \theta/\sqrt n`, a singular value :math:`z` of
:math:`X_0 + s\,uv^\top` outside the bulk solves
:math:`\varphi_1(z)\varphi_2(z) = (1/s + \psi(z))^2`,
:math:`\varphi_1 = z\,u^\top(z^2-X_0X_0^\top)^{-1}u`,
:math:`\varphi_2 = z\,v^\top(z^2-X_0^\top X_0)^{-1}v`,
:math:`\psi = u^\top X_0(z^2-X_0^\top X_0)^{-1}v`. In the limit
:math:`\varphi_1\to -z\,m_c(z^2)`, :math:`\varphi_2\to -z\,\underline m_c(z^2)`,
:math:`\psi\to0` (MP Stieltjes transforms), and solving
:math:`z^2 m_c\underline m_c = 1/s^2` gives the formula (checked numerically
in the tests: :math:`z^2 m\underline m\,t = 1` at the predicted point).

**Location SE** (delta method on the same equation): with Haar eigenvectors
:math:`\mathrm{Var}\,\varphi_1 \approx \tfrac2p z^2(A_2-A_1^2)`,
:math:`\mathrm{Var}\,\varphi_2 \approx \tfrac2n z^2(B_2-B_1^2)`,
:math:`\mathrm{Var}\,\psi \approx (wA_2-A_1)/n`, uncorrelated, where
:math:`A_k = \int (w-x)^{-k}d\mu_c`, :math:`B_k` the same for the law of
:math:`X_0^\top X_0` and :math:`w=z^2`; then
:math:`\mathrm{sd}(\lambda_{\mathrm{out}}) = 2z\,\mathrm{sd}(\delta F)/|F'(z)|`.
Agrees with Monte Carlo to ~10 % (tests).

**Scale** (robust to spikes). The trace is the Gaussian MLE of σ²; each
outlier at :math:`\lambda_i` carries :math:`\sigma^2 t_i` of the trace and
depletes the bulk by :math:`\sigma^2(1+c+c/t_i)`, so

.. math::

    \hat\sigma^2 = \frac{\operatorname{tr}S - \sum_{i\in O}\lambda_i}
                        {p - \sum_{i\in O}(1 + c + c/\hat t_i)},\qquad
    \hat t_i:\ \lambda_i = \hat\sigma^2(\hat t_i+1+c+c/\hat t_i),

solved by fixed-point iteration. Its relative standard error is
:math:`\tau = \sqrt{\mathrm{Var}(w^2)/(pn)}/\sigma^2` (:math:`\sqrt{2/(pn)}`
for Gaussian entries; estimated from the entries when ``W`` is given), and
the CI is the normal interval.

**Outliers.** Sequential Tracy–Widom tests (Kritchman & Nadler 2008, with
Johnstone's centring, arXiv math/0102013): the j-th largest eigenvalue is
compared with the largest eigenvalue of a null matrix whose smaller dimension
is reduced by j,

.. math::

    z_j = \frac{n\lambda_j/\hat\sigma^2 - \mu_j}{s_j},\qquad
    p_j = \mathrm E_\delta\,\bar F_1\big(z_j + \tfrac{n\lambda_j}{\hat\sigma^2 s_j}\delta\big),
    \quad \delta\sim N(0,\tau^2),

the expectation (40-point Gauss–Hermite) accounting for the scale's own
error. Testing stops at the first :math:`p_j \ge \alpha`, so a pure Gaussian
matrix reports a spike with probability α (calibrated in the slow tests).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from .._checks import check_array, check_int, check_probability, check_real
from .._io import to_jsonable
from ._basic import as_weight_matrix, esd_distances, gram_eigenvalues
from ._concentration import _tw_cdf

__all__ = ["MPFit", "BBPOutlier", "fit_mp", "bbp_threshold", "bbp_outlier"]

_GH = None


def _gauss_hermite():
    global _GH
    if _GH is None:
        x, w = np.polynomial.hermite.hermgauss(40)
        _GH = (math.sqrt(2.0) * x, w / math.sqrt(math.pi))
    return _GH


# ----------------------------------------------------------------------------- BBP


def bbp_threshold(p, n, scale=1.0) -> float:
    r"""BBP detection threshold :math:`\theta_c = \sigma(pn)^{1/4}` for ``W = G + θ u vᵀ`` (docs/design.md §3).

    Parameters
    ----------
    p, n : int
        Shape of W (ratio c = p/n).
    scale : float
        Entry variance σ² of G.

    Examples
    --------
    >>> from rmt_sparsity.spectra import bbp_threshold
    >>> bbp_threshold(16, 81, scale=4.0)  # 2 * 1296**0.25
    12.0
    """
    p = check_int("p", p, min=1)
    n = check_int("n", n, min=1)
    scale = check_real("scale", scale, lo=0.0, lo_open=True)
    return math.sqrt(scale) * (p * n) ** 0.25


@dataclass(frozen=True)
class BBPOutlier:
    """BBP prediction for one spike (see :func:`bbp_outlier`)."""

    theta: float
    location: float
    se: float
    detectable: bool
    t: float

    def to_dict(self) -> dict:
        """Plain-Python dict (strict JSON: non-finite floats as strings, :func:`rmt_sparsity._io.to_jsonable`)."""
        return to_jsonable(asdict(self))


def _mp_resolvent_moments(w, c, nodes=2000):
    r"""A1 = ∫(w−x)⁻¹dμ_c, A2 = ∫(w−x)⁻²dμ_c for the full MP(c, 1) law, w > b.

    Substitution x = (a+b)/2 + (b−a)/2·cos θ turns the density into a smooth periodic
    integrand, so the midpoint rule converges geometrically (rate set by the distance of
    w from b); the atom 1 − 1/c at 0 (c > 1) is added exactly.
    """
    a, b = (1.0 - math.sqrt(c)) ** 2, (1.0 + math.sqrt(c)) ** 2  # MP(c, 1) edges (docs/science.md §1)
    mid, half = 0.5 * (a + b), 0.5 * (b - a)
    th = (np.arange(nodes) + 0.5) * (math.pi / nodes)
    x = mid + half * np.cos(th)
    dens = half * half * np.sin(th) ** 2 / (2.0 * math.pi * c * x) * (math.pi / nodes)
    atom = max(0.0, 1.0 - 1.0 / c)
    r = 1.0 / (w - x)
    return float(np.sum(dens * r) + atom / w), float(np.sum(dens * r * r) + atom / w**2)


def _bbp_location_unit(t, c):
    return (1.0 + t) * (c + t) / t


def _bbp_se_unit(t, c, p, n):
    """SD of the outlier eigenvalue of WW^T/n for sigma^2 = 1 (delta method, module notes)."""
    w = _bbp_location_unit(t, c)
    z = math.sqrt(w)
    A1, A2 = _mp_resolvent_moments(w, c)
    B1, B2 = c * A1 + (1.0 - c) / w, c * A2 + (1.0 - c) / w**2
    ph1, ph2 = z * A1, z * B1
    var = ph2**2 * (2.0 / p) * w * (A2 - A1**2) + ph1**2 * (2.0 / n) * w * (B2 - B1**2)
    var += (4.0 / t) * (w * A2 - A1) / n

    def fbar(zz):
        a1, _ = _mp_resolvent_moments(zz * zz, c)
        return zz * zz * a1 * (c * a1 + (1.0 - c) / (zz * zz))

    h = 1e-5 * z
    dF = (fbar(z + h) - fbar(z - h)) / (2.0 * h)
    return 2.0 * z * math.sqrt(max(var, 0.0)) / abs(dF)


def bbp_outlier(theta, p, n, scale=1.0) -> BBPOutlier:
    r"""Predicted outlier eigenvalue of :math:`WW^\top/n` for ``W = G + θ u vᵀ`` and its standard error.

    .. math::

        t = \frac{\theta^2}{n\sigma^2},\qquad
        \lambda_{\mathrm{out}} = \sigma^2\frac{(1+t)(c+t)}{t}\ \ (t > \sqrt c),

    else the bulk edge :math:`\sigma^2(1+\sqrt c)^2` (no outlier; ``detectable``
    is False and ``se`` NaN). ``se`` is the delta-method standard deviation of
    the outlier over G (module notes of :mod:`rmt_sparsity.spectra._mp_fit`;
    Benaych-Georges & Nadakuditi 2012, arXiv 1103.2221).

    Examples
    --------
    >>> from rmt_sparsity.spectra import bbp_outlier, bbp_threshold
    >>> o = bbp_outlier(2 * bbp_threshold(400, 400), 400, 400)   # c = 1, t = 4
    >>> o.location, o.detectable
    (6.25, True)
    >>> bbp_outlier(0.5 * bbp_threshold(400, 400), 400, 400).location  # below threshold: the edge
    4.0
    """
    theta = check_real("theta", theta, lo=0.0)
    p = check_int("p", p, min=1)
    n = check_int("n", n, min=1)
    scale = check_real("scale", scale, lo=0.0, lo_open=True)
    c = p / n
    t = theta * theta / (n * scale)
    if t <= math.sqrt(c):
        from ..laws import MarchenkoPastur

        return BBPOutlier(theta, MarchenkoPastur(c, scale).edges[1], math.nan, False, t)
    return BBPOutlier(theta, scale * _bbp_location_unit(t, c), scale * _bbp_se_unit(t, c, p, n), True, t)


def _invert_bbp(lam_unit, c):
    """t > sqrt(c) with (1+t)(c+t)/t = lam_unit (larger root); sqrt(c) at or below the edge."""
    q = lam_unit - 1.0 - c
    disc = q * q - 4.0 * c
    if q <= 0 or disc <= 0:
        return math.sqrt(c)
    return max(0.5 * (q + math.sqrt(disc)), math.sqrt(c))


# ----------------------------------------------------------------------------- fit


@dataclass(frozen=True)
class MPFit:
    """Result of :func:`fit_mp` (eigenvalues in the units of :math:`WW^\\top/n`).

    Attributes
    ----------
    scale, scale_se : float
        :math:`\\hat\\sigma^2` and its standard error.
    scale_ci : tuple of float
        Central ``level`` confidence interval for σ².
    ratio : float
        c = p/n; ``ratio_source`` says where it came from ("shape", "n", "zeros" or "moments").
    p, n : int
    edges : tuple of float
        Fitted bulk edges of the non-zero eigenvalues, :math:`\\hat\\sigma^2(1\\mp\\sqrt c)^2`.
    tw_critical : float
        The level-α critical value for :math:`\\lambda_{\\max}` (TW₁ quantile, Johnstone scaling, ignoring τ).
    n_spikes : int
        Outliers detected at level ``alpha``.
    outliers : tuple of dict
        Per outlier: ``rank`` (0 = largest), ``eigenvalue``, ``tw_statistic``, ``p_value``,
        ``theta_hat`` (BBP inversion), ``theta_over_threshold``, ``bbp_location``
        (the location BBP predicts for ``theta_hat``, i.e. the eigenvalue itself) and
        ``location_se`` (its standard error).
    next_p_value : float
        TW p-value of the first eigenvalue that was *not* declared an outlier.
    ks, wasserstein1 : float
        Kolmogorov–Smirnov and Wasserstein-1 distances of the bulk (non-zero, non-outlier)
        eigenvalues to ``MarchenkoPastur(ratio, scale, nonzero=True)``.
    """

    scale: float
    scale_se: float
    scale_ci: tuple[float, float]
    level: float
    ratio: float
    ratio_source: str
    p: int
    n: int
    edges: tuple[float, float]
    tw_critical: float
    lambda_max: float
    n_spikes: int
    alpha: float
    outliers: tuple = ()
    next_p_value: float = math.nan
    ks: float = math.nan
    wasserstein1: float = math.nan
    n_bulk: int = 0
    bbp_threshold: float = math.nan
    scale_method: str = "trace with BBP outlier correction"
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain-Python dict (strict JSON: non-finite floats as strings, :func:`rmt_sparsity._io.to_jsonable`)."""
        return to_jsonable(asdict(self))


def _scale_estimate(total, out_eigs, p, c, sigma2_init):
    """Spike-corrected trace estimator (module notes); returns (sigma2, method)."""
    if len(out_eigs) == 0:
        return total / p, "trace"
    s2 = sigma2_init
    num = total - float(np.sum(out_eigs))
    for _ in range(100):
        dep = sum(1.0 + c + c / _invert_bbp(lam / s2, c) for lam in out_eigs)
        den = p - dep
        if den <= 0.25 * p:
            return math.nan, "failed"
        new = num / den
        if abs(new - s2) <= 1e-14 * new:
            s2 = new
            break
        s2 = new
    return s2, "trace with BBP outlier correction"


def _tw_pvalues(lams, p, n, sigma2, tau, tw):
    """Sequential Johnstone/TW1 p-values of the j-th largest eigenvalues lams[j] (module notes)."""
    from ..laws import soft_edge_params

    j = np.arange(lams.size)
    pj, nj = (p - j, np.full(j.size, n)) if p <= n else (np.full(j.size, p), n - j)
    mu, s = np.array([soft_edge_params(int(a), int(b), 1, "max") for a, b in zip(pj, nj)]).reshape(-1, 2).T
    y = n * lams / sigma2
    z = (y - mu) / s
    x, w = _gauss_hermite()
    pv = _tw_cdf(tw, z[:, None] + ((y / s) * tau)[:, None] * x[None, :], upper=True) @ w
    return z, np.clip(pv, 0.0, 1.0)


def fit_mp(data, *, n=None, alpha=0.05, level=0.95, max_spikes=None) -> MPFit:
    r"""Fit the Marchenko–Pastur law to a weight matrix (or its spectrum), with calibrated spike detection.

    See the module notes of :mod:`rmt_sparsity.spectra._mp_fit` for the
    estimator, its standard error, the sequential Tracy–Widom outlier test
    (Johnstone scaling, arXiv math/0102013) and the BBP spike model
    :math:`W = G + \sum\theta_iu_iv_i^\top` (threshold
    :math:`\theta > \sigma(pn)^{1/4}`; outlier at
    :math:`\sigma^2(1+t)(c+t)/t`, :math:`t = \theta^2/(n\sigma^2)`).

    Parameters
    ----------
    data : array_like
        A p × n matrix ``W`` (stored (out, in); ratio = p/n, spectrum of
        :math:`WW^\top/n`), or a 1-D array of all p eigenvalues of
        :math:`WW^\top/n` (structural zeros included).
    n : int, optional
        Number of columns, for eigenvalue input. Without it, the ratio is
        fixed by the number of zero eigenvalues when there are any
        (``n = p - #zeros``), else estimated by moments
        (:math:`c = \mathrm{Var}\,\lambda/\bar\lambda^2` over the bulk).
    alpha : float, default 0.05
        Level of each sequential outlier test (the false-spike rate on a pure
        Gaussian matrix).
    level : float, default 0.95
        Coverage of the scale's confidence interval.
    max_spikes : int, optional
        Most outliers tested (default ``min(p, n) // 2``).

    Returns
    -------
    MPFit

    Raises
    ------
    ValueError
        Non-finite, empty or wrongly shaped input, negative eigenvalues, a zero matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from rmt_sparsity.spectra import fit_mp, bbp_threshold
    >>> g = np.random.default_rng(0)
    >>> G = g.standard_normal((300, 600))
    >>> f = fit_mp(G)
    >>> f.n_spikes, f.ratio, f.scale_ci[0] < 1.0 < f.scale_ci[1]
    (0, 0.5, True)
    >>> u, v = g.standard_normal(300), g.standard_normal(600)
    >>> theta = 3 * bbp_threshold(300, 600)
    >>> f = fit_mp(G + theta * np.outer(u / np.linalg.norm(u), v / np.linalg.norm(v)))
    >>> f.n_spikes, round(f.outliers[0]["theta_over_threshold"], 1)
    (1, 3.0)
    """
    alpha = check_probability("alpha", alpha)
    level = check_probability("level", level)
    arr = check_array("data", data, ndim=(1, 2), finite=False)
    return _fit_mp(arr, n, alpha, level, max_spikes, None)


def _fit_mp(arr, n, alpha, level, max_spikes, lam, moments=None):
    """fit_mp after argument checks; ``lam`` = precomputed gram eigenvalues of a 2-D ``arr`` (or None);
    ``moments`` = precomputed (trace of WW^T/n, mean of W^2, variance of W^2) of a validated float64 ``arr``."""
    if arr.ndim == 2:
        W = as_weight_matrix(arr, "data") if moments is None else arr
        p, n_cols = W.shape
        if n is not None and check_int("n", n, min=1) != n_cols:
            raise ValueError(f"n={n} contradicts the matrix shape {W.shape} (n is its number of columns)")
        n = n_cols
        if lam is None:
            lam = gram_eigenvalues(W)
        if moments is None:
            W2 = W * W
            total, mean_sq, var_w2 = float(np.sum(W2)) / n, float(np.mean(W2)), float(np.var(W2))
            del W2
        else:
            total, mean_sq, var_w2 = moments
        ratio_source = "shape"
        kurt_known = True
    else:
        if arr.dtype.kind == "c":
            raise TypeError("data must be real eigenvalues; got complex")
        lam = np.asarray(arr, dtype=np.float64)
        if lam.size == 0:
            raise ValueError("data must be non-empty; got 0 eigenvalues")
        bad = int(lam.size - np.count_nonzero(np.isfinite(lam)))
        if bad:
            raise ValueError(f"data must be finite; found {bad} non-finite eigenvalues")
        lam = np.sort(lam)
        p = lam.size
        if lam[0] < -1e-10 * max(abs(lam[-1]), 1e-300):
            raise ValueError(f"eigenvalues of WW^T/n must be >= 0; got minimum {lam[0]!r}")
        lam = np.clip(lam, 0.0, None)
        total = float(lam.sum())
        kurt_known = False
        n_zero = int(np.count_nonzero(lam <= p * np.finfo(np.float64).eps * lam[-1]))
        if n is not None:
            n = check_int("n", n, min=1)
            ratio_source = "n"
        elif n_zero > 0:
            n = p - n_zero
            ratio_source = "zeros"
        else:
            n = None
            ratio_source = "moments"
    if not lam[-1] > 0:
        raise ValueError("data is the zero matrix (all eigenvalues 0); the MP fit is undefined")
    if min(p, n or p) < 2:
        raise ValueError(f"need at least 2 rows and 2 columns for an MP fit; got p={p}, n={n}")
    if n is None:  # moment estimate of c <= 1 from the bulk (top 1 % trimmed), then refined below
        bulk = lam[: max(2, int(0.99 * p))]
        c_hat = float(np.var(bulk) / np.mean(bulk) ** 2)
        n = max(p, int(round(p / max(c_hat, 1e-12))))
    from ..laws import MarchenkoPastur, TracyWidom

    tw = TracyWidom(1)
    m = min(p, n)
    c = p / n
    if max_spikes is None:
        max_spikes = m // 2
    max_spikes = check_int("max_spikes", max_spikes, min=0, max=m - 1)
    nz = lam[p - m:]  # the m eigenvalues that are not structural zeros, ascending
    desc = nz[::-1]

    def run(n_, c_):
        sigma2, method = total / p, "trace"
        k = 0
        found = []
        for _ in range(30):
            sigma2_new, method_new = _scale_estimate(total, desc[:k], p, c_, sigma2)
            if not math.isfinite(sigma2_new):  # too many outliers for the trace correction: MP median match
                bulk = nz[: m - k]
                sigma2_new = float(np.median(bulk) / MarchenkoPastur(c_, 1.0, nonzero=True).ppf(0.5))
                method_new = "median matching (trace correction failed)"
            sigma2, method = sigma2_new, method_new
            if kurt_known:
                tau = math.sqrt(max(var_w2, 0.0) / (p * n_)) / mean_sq
            else:
                tau = math.sqrt(2.0 / (p * n_))
            found = []
            next_pv = math.nan
            # candidates: eigenvalues above 0.8 x the bulk edge (below it z << 0 and p ~ 1)
            n_cand = int(np.count_nonzero(desc[: max_spikes + 1] > 0.8 * MarchenkoPastur(c_, sigma2).edges[1]))
            n_cand = max(1, n_cand)
            zs, pvs = _tw_pvalues(desc[:n_cand], p, n_, sigma2, tau, tw)
            for j in range(n_cand):
                if j < max_spikes and pvs[j] < alpha:
                    found.append((j, float(desc[j]), float(zs[j]), float(pvs[j])))
                else:
                    next_pv = float(pvs[j])
                    break
            else:
                next_pv = 1.0 if n_cand < m else math.nan
            if len(found) == k:
                break
            k = len(found)
        return sigma2, method, tau, found, next_pv

    sigma2, method, tau, found, next_pv = run(n, c)
    if ratio_source == "moments":  # refine c from the bulk without the outliers
        for _ in range(3):
            bulk = nz[: m - len(found)]
            c_hat = float(np.var(bulk) / np.mean(bulk) ** 2)
            n = max(p, int(round(p / max(c_hat, 1e-12))))
            c = p / n
            m = min(p, n)
            sigma2, method, tau, found, next_pv = run(n, c)
    se = sigma2 * tau
    zq = float(_norm_isf((1.0 - level) / 2.0))
    law = MarchenkoPastur(c, sigma2, nonzero=True)
    k = len(found)
    bulk = nz[: m - k]
    ks, w1 = esd_distances(bulk, law.cdf, law.support())
    from ..laws import soft_edge_params

    mu, s = soft_edge_params(p, n, 1, "max")
    crit = sigma2 * (mu + s * float(tw.isf(alpha))) / n
    thr = math.sqrt(sigma2) * (p * n) ** 0.25
    outliers = []
    for j, lam_j, z, pv in found:
        t = _invert_bbp(lam_j / sigma2, c)
        theta = math.sqrt(t * n * sigma2)
        outliers.append(
            {
                "rank": j,
                "eigenvalue": lam_j,
                "tw_statistic": z,
                "p_value": pv,
                "theta_hat": theta,
                "theta_over_threshold": theta / thr,
                "bbp_location": sigma2 * _bbp_location_unit(t, c),
                "location_se": sigma2 * _bbp_se_unit(t, c, p, n) if t > math.sqrt(c) * (1 + 1e-9) else math.nan,
            }
        )
    a_edge, b_edge = law.edges
    return MPFit(
        scale=float(sigma2),
        scale_se=float(se),
        scale_ci=(float(sigma2 - zq * se), float(sigma2 + zq * se)),
        level=level,
        ratio=float(c),
        ratio_source=ratio_source,
        p=int(p),
        n=int(n),
        edges=(float(a_edge), float(b_edge)),
        tw_critical=float(crit),
        lambda_max=float(lam[-1]),
        n_spikes=k,
        alpha=alpha,
        outliers=tuple(outliers),
        next_p_value=float(next_pv),
        ks=ks,
        wasserstein1=w1,
        n_bulk=int(bulk.size),
        bbp_threshold=float(thr),
        scale_method=method,
        details={"scale_rel_se": tau, "entry_moments_known": kurt_known},
    )


def _norm_isf(q):
    from scipy.special import ndtri

    return -ndtri(q)
