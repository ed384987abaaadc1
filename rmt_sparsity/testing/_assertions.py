r"""Calibrated assertions for random-matrix and sparse-kernel tests.

Every assertion here states its null hypothesis, derives its tolerance, and
takes a ``level`` (or ``k``) so that its false-alarm rate is known. The
statistical ones were calibrated on fixed seeds (``tests/test_testing_assertions.py``,
``pytest -m slow``): over 200 null data sets at ``level=0.95`` each fails at
most 19 times (the 95 % binomial bound for a 5 % level), and with a ratio
off by 10 % at n = 1000 each fails in at least 190 of 200.

Defaults are strict (``level=0.999``, ``k=4``): a fixed-seed unit test should
essentially never fail by chance, and still fail on any error of the size the
statistic is built to see.

Conventions (docs/design.md §3): W is :math:`p\times n` with iid entries of variance
:math:`\sigma^2` (the law's ``scale``), ratio :math:`c = p/n`, and the spectrum is
that of :math:`S = WW^\top/n`.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .._checks import check_array, check_int, check_probability, check_real, check_size_budget

__all__ = [
    "assert_spectrum_matches",
    "assert_ratio_within_band",
    "assert_close_statistically",
    "assert_sparse_matches_dense",
    "wishart_trace_moments",
]

#: Smallest min(p, n) for which the Tracy-Widom edge sub-tests are used (below it,
#: the edge law is too far from its limit to calibrate; only the trace tests run).
EDGE_MIN_DIM = 10


# ---------------------------------------------------------------------------------------
# exact finite-n moments of tr S and tr S^2 (beta-Laguerre, via Dumitriu-Edelman)
# ---------------------------------------------------------------------------------------
def _chi2_raw_moments(dof: np.ndarray, f: float):
    """E[(f X)^k], k = 1..4, for X ~ chi^2_dof: f^k dof (dof+2) ... (dof+2k-2)."""
    m1 = f * dof
    m2 = m1 * f * (dof + 2.0)
    m3 = m2 * f * (dof + 4.0)
    m4 = m3 * f * (dof + 6.0)
    return m1, m2, m3, m4


def wishart_trace_moments(p, n, scale=1.0, beta=1):
    r"""Exact mean and variance of :math:`T_1 = \operatorname{tr} S` and :math:`T_2 = \operatorname{tr} S^2` at finite p, n.

    :math:`S = WW^\top/n` with W a :math:`p\times n` β-Laguerre matrix (β = 1 real
    Gaussian, 2 complex, 4 quaternion; entry variance σ² = ``scale``).

    By Dumitriu & Edelman (arXiv math-ph/0206043) the spectrum of S is that of
    :math:`f\,BB^\top`, :math:`f = \sigma^2/(\beta n)`, with B lower bidiagonal and
    *independent* entries :math:`d_i^2 \sim \chi^2_{\beta(N-i+1)}` (i = 1..m) and
    :math:`e_i^2 \sim \chi^2_{\beta(m-i)}` (i = 1..m−1), m = min(p, n),
    N = max(p, n). Interleave them as the chain
    :math:`Z = f\,(d_1^2, e_1^2, d_2^2, e_2^2, \dots, d_m^2)`; since
    :math:`BB^\top` is tridiagonal with diagonal :math:`d_i^2 + e_{i-1}^2` and
    off-diagonal :math:`d_ie_i`,

    .. math::

        T_1 = \sum_j Z_j, \qquad
        T_2 = \sum_j g_j, \quad g_j = Z_j^2 + 2 Z_j Z_{j+1}.

    Only neighbouring :math:`g_j` share a variable, so
    :math:`\operatorname{Var} T_2 = \sum_j \operatorname{Var} g_j + 2\sum_j \operatorname{Cov}(g_j, g_{j+1})`,
    each term a polynomial in the χ² raw moments
    :math:`E(\chi^2_a)^k = a(a+2)\cdots(a+2k-2)`. No approximation is made.
    For β = 1 this gives :math:`E T_2 = \sigma^4 p(n+p+1)/n` (Wick calculus),
    and :math:`T_1 = f\chi^2_{\beta pn}` exactly. As p, n → ∞ with p/n → c,
    :math:`\operatorname{Var} T_2 \to (2/\beta)\,2c(2c^2+5c+2)\,\sigma^8`: O(1),
    the CLT for linear spectral statistics (Bai & Silverstein 2004, Ann.
    Probab. 32; checked in the tests).

    Parameters
    ----------
    p, n : int
        Rows and columns of W.
    scale : float
        Entry variance σ².
    beta : {1, 2, 4}

    Returns
    -------
    dict
        ``mean1, var1, mean2, var2, cov12``.

    Examples
    --------
    >>> from rmt_sparsity.testing import wishart_trace_moments
    >>> m = wishart_trace_moments(3, 5)
    >>> round(m["mean2"], 12) == round(3 * (5 + 3 + 1) / 5, 12), round(m["var1"], 12)
    (True, 1.2)
    """
    p = check_int("p", p, min=1)
    n = check_int("n", n, min=1)
    scale = check_real("scale", scale, lo=0.0, lo_open=True)
    beta = _check_beta(beta)
    m, N = min(p, n), max(p, n)
    check_size_budget("p, n", (p, n), nbytes=8 * 20 * m, what="the moment chain of order 2 min(p, n) - 1")
    dof = np.empty(2 * m - 1)
    dof[0::2] = beta * (float(N) - np.arange(m))
    dof[1::2] = beta * (m - 1 - np.arange(m - 1))
    f = scale / (beta * n)
    m1, m2, m3, m4 = _chi2_raw_moments(dof, f)
    z = np.zeros(1)
    n1 = np.concatenate([m1[1:], z])  # moments of Z_{j+1} (0 past the end)
    n2 = np.concatenate([m2[1:], z])
    n3 = np.concatenate([m3[1:], z])
    nn1 = np.concatenate([m1[2:], z, z])  # moments of Z_{j+2}
    eg = m2 + 2.0 * m1 * n1  # E g_j
    var_g = m4 + 4.0 * m3 * n1 + 4.0 * m2 * n2 - eg * eg
    e_gg = m2 * n2 + 2.0 * m2 * n1 * nn1 + 2.0 * m1 * n3 + 4.0 * m1 * n2 * nn1  # E g_j g_{j+1}
    cov_gg = (e_gg - eg * np.concatenate([eg[1:], z]))[:-1]
    # Cov(T1, T2) = sum_j Cov(Z_j, Z_j^2) + 2 Cov(Z_j, Z_j Z_{j+1}) + 2 Cov(Z_j, Z_{j-1} Z_j)
    v1 = m2 - m1 * m1
    prev1 = np.concatenate([z, m1[:-1]])
    cov12 = float(np.sum((m3 - m1 * m2) + 2.0 * v1 * n1 + 2.0 * v1 * prev1))
    return {
        "mean1": float(m1.sum()),
        "var1": float(v1.sum()),
        "mean2": float(eg.sum()),
        "var2": float(var_g.sum() + 2.0 * cov_gg.sum()),
        "cov12": cov12,
    }


def _check_beta(beta) -> int:
    b = check_real("beta", beta, lo=0.0, lo_open=True)
    if b not in (1.0, 2.0, 4.0):
        raise ValueError(f"beta must be 1, 2 or 4; got {beta!r}")
    return int(b)


def _mp_full_moment(k: int, c: float, s: float) -> float:
    """Moment of the full MP law (atom included): s^k sum_r c^r/(r+1) C(k,r) C(k-1,r)."""
    return s**k * sum(c**r / (r + 1) * math.comb(k, r) * math.comb(k - 1, r) for r in range(k))


def _law_params(law):
    from ..laws.marchenko_pastur import MarchenkoPastur

    if not isinstance(law, MarchenkoPastur):  # other laws also carry `ratio`: never read them as MP
        raise TypeError(f"law must be a Marchenko-Pastur law (rmt_sparsity.laws.MarchenkoPastur); got {type(law).__name__}")
    return law.ratio, law.scale


@functools.lru_cache(maxsize=256)
def _edge_band(p, n, beta, which, level, scale):
    """edge_band is deterministic (its Monte-Carlo fallback has a fixed seed): cache it for repeated assertions."""
    from ..ensembles import edge_band

    return edge_band(p, n, beta, which=which, level=level, scale=scale)


def _min_is_soft_edge(p, n, beta) -> bool:
    """Whether edge_band(which="min") uses the reflected soft edge (same rule as rmt_sparsity.laws.edges)."""
    from ..laws.edges import SOFT_EDGE_MIN_UNITS, soft_edge_params

    mu, s = soft_edge_params(p, n, beta, "min")
    return math.isfinite(s) and s > 0 and mu / s >= SOFT_EDGE_MIN_UNITS


def _gamma_band(mean: float, var: float, alpha: float):
    """Central 1 - alpha interval of the gamma law with this mean and variance (two-moment fit)."""
    from scipy import stats

    if var <= 0:
        return mean, mean
    shape, sc = mean * mean / var, var / mean
    return float(stats.gamma.ppf(alpha / 2, shape, scale=sc)), float(stats.gamma.isf(alpha / 2, shape, scale=sc))


def assert_spectrum_matches(law, eigenvalues, *, n, level=0.999, beta=1):
    r"""Assert that one matrix's spectrum is consistent with a Marchenko–Pastur law at finite n.

    Null hypothesis: ``eigenvalues`` are all p eigenvalues of :math:`S = WW^\top/n`
    (the p − n zeros included when p > n) for a :math:`p\times n` matrix W with
    iid Gaussian entries of variance σ² = ``law.scale`` (real for β = 1), and the
    limiting law of its spectrum is ``law``, i.e. p/n = ``law.ratio``. The
    eigenvalues of one matrix are strongly correlated (rigid), so a KS test on
    them is not calibrated; instead up to four sub-tests of statistics whose
    finite-n laws are known are combined with a Bonferroni correction, each at
    level :math:`1-\alpha/K` (:math:`\alpha = 1-` ``level``, K the number run), so
    the family-wise false-alarm rate is at most α:

    1. **Trace.** :math:`T_1 = \operatorname{tr}S = \frac{\sigma^2}{\beta n}\chi^2_{\beta pn}`
       exactly; its mean :math:`p\,m_1 = p\sigma^2` does not involve the ratio.
       Two-sided χ² interval.
    2. **Second linear spectral statistic.** :math:`T_2 = \operatorname{tr}S^2`
       fluctuates O(1), not O(√p) (CLT for linear spectral statistics, Bai &
       Silverstein 2004, Ann. Probab. 32), around
       :math:`p\,m_2(c) + b_2`, with :math:`m_2 = \sigma^4(1+c)` the law's moment
       at c = ``law.ratio`` and :math:`b_2 = E T_2 - p\,m_2(p/n)` the exact O(1)
       finite-n bias at the observed (p, n) (:math:`\sigma^4 p/n` for β = 1).
       Its exact variance comes from :func:`wishart_trace_moments`; the band is
       the central interval of the gamma law with that mean and variance (a
       two-moment fit that keeps the right skew at small p and tends to the
       CLT's normal). A wrong ratio c′ shifts the mean by
       :math:`p\sigma^4(c'-c)`, i.e. O(p) standard deviations.
    3. **Largest eigenvalue.** Tracy–Widom band of
       :func:`rmt_sparsity.laws.edge_band` (Johnstone 2001, arXiv
       math/0102013: O(n^{-2/3}) wide) at the observed (p, n), moved by the
       difference of the law's upper edge :math:`\sigma^2(1+\sqrt{c})^2` from
       the edge at p/n (zero under the null).
    4. **Smallest non-zero eigenvalue**, only where ``edge_band(..., which="min")``
       uses the reflected soft edge (c bounded away from 1, Ma 2012), moved in the
       same way by the law's lower edge :math:`\sigma^2(1-\sqrt{c})^2`.

    The edge sub-tests run only when min(p, n) ≥ 10 (:data:`EDGE_MIN_DIM`),
    below which the edge laws are too far from their limits.

    Parameters
    ----------
    law : rmt_sparsity.laws.MarchenkoPastur
        The law to test (its ``ratio`` and ``scale``; ``nonzero`` is ignored:
        pass all p eigenvalues either way).
    eigenvalues : array_like, shape (p,)
        All eigenvalues of :math:`WW^\top/n` (any order).
    n : int
        Number of columns of W (the 1/n normalisation).
    level : float
        Family-wise confidence level (default 0.999: a false alarm in 1000
        null matrices; use 0.95 to calibrate).
    beta : {1, 2, 4}
        Real, complex or quaternion entries.

    Raises
    ------
    AssertionError
        Listing every sub-test, its statistic and band, when one rejects.

    Notes
    -----
    Non-Gaussian entries with fourth cumulant κ₄ ≠ 0 add a term to the
    variance of :math:`T_2` (Bai & Silverstein 2004); this assertion is
    calibrated for Gaussian entries only.

    Examples
    --------
    >>> from rmt_sparsity.laws import MarchenkoPastur
    >>> from rmt_sparsity.ensembles import laguerre_eigenvalues
    >>> from rmt_sparsity.testing import assert_spectrum_matches
    >>> lam = laguerre_eigenvalues(300, 600, rng=0)
    >>> assert_spectrum_matches(MarchenkoPastur(0.5), lam, n=600)
    >>> assert_spectrum_matches(MarchenkoPastur(0.55), lam, n=600)
    Traceback (most recent call last):
    ...
    AssertionError: spectrum does not match MarchenkoPastur(ratio=0.55, scale=1.0) ...
    """
    ratio, s2 = _law_params(law)
    lam = check_array("eigenvalues", eigenvalues, ndim=1)
    n = check_int("n", n, min=1)
    level = check_probability("level", level)
    beta = _check_beta(beta)
    p = lam.size
    lam = np.sort(lam)
    m = min(p, n)
    c_obs = p / n
    run_edges = m >= EDGE_MIN_DIM
    run_min = False
    if run_edges:
        run_min = _min_is_soft_edge(p, n, beta)
    K = 2 + int(run_edges) + int(run_min)
    alpha = (1.0 - level) / K
    sub_level = 1.0 - alpha
    lines, failed = [], []

    def record(name, value, lo, hi, extra=""):
        ok = lo <= value <= hi
        lines.append(f"  [{'ok' if ok else 'REJECT'}] {name} = {value:.6g}, band [{lo:.6g}, {hi:.6g}]{extra}")
        if not ok:
            failed.append(name)

    from scipy import stats

    mom = wishart_trace_moments(p, n, s2, beta)
    f = s2 / (beta * n)
    # 1. tr S ~ f chi2_{beta p n}
    t1 = float(lam.sum())
    df = float(beta * p * n)  # a float: scipy's chi2 takes no Python int beyond int64
    record("tr S", t1, f * stats.chi2.ppf(alpha / 2, df), f * stats.chi2.isf(alpha / 2, df), f" (exact chi^2, mean {p * s2:.6g})")
    # 2. tr S^2: law moment + exact finite-n bias, exact variance, gamma band
    t2 = float(np.sum(lam * lam))
    bias2 = mom["mean2"] - p * _mp_full_moment(2, c_obs, s2)
    mean2 = p * _mp_full_moment(2, ratio, s2) + bias2
    lo2, hi2 = _gamma_band(mean2, mom["var2"], alpha)
    record("tr S^2", t2, lo2, hi2, f" (mean {mean2:.6g} = p m2(law) + finite-n bias {bias2:.3g}; sd {math.sqrt(mom['var2']):.3g})")
    # 3, 4. edges
    if run_edges:
        b = _edge_band(p, n, beta, "max", sub_level, s2)
        shift = s2 * ((1.0 + math.sqrt(ratio)) ** 2 - (1.0 + math.sqrt(c_obs)) ** 2)
        record("lambda_max", float(lam[-1]), b.band[0] + shift, b.band[1] + shift, f" (Tracy-Widom {b.details['max_law']})")
        if run_min:
            b = _edge_band(p, n, beta, "min", sub_level, s2)
            shift = s2 * ((1.0 - math.sqrt(ratio)) ** 2 - (1.0 - math.sqrt(c_obs)) ** 2)
            record("lambda_min", float(lam[p - m]), b.band[0] + shift, b.band[1] + shift, " (reflected Tracy-Widom)")
    if failed:
        head = (
            f"spectrum does not match MarchenkoPastur(ratio={ratio!r}, scale={s2!r}) at p={p}, n={n} "
            f"(p/n = {c_obs:.6g}), beta={beta}: {', '.join(failed)} rejected; family level {level} "
            f"(Bonferroni, {K} sub-tests at {sub_level:.6g} each)"
        )
        raise AssertionError(head + "\n" + "\n".join(lines))


def assert_ratio_within_band(observed, p, n, level=0.999, *, beta=1):
    r"""Assert that an extreme-eigenvalue ratio λ_max/λ_min lies in its finite-n band.

    ``observed`` is :math:`\lambda_{\max}/\lambda_{\min}` of :math:`WW^\top/n`
    (λ_min the smallest *non-zero* eigenvalue; the eigenvalue ratio, so square a
    singular-value ratio first) for one :math:`p\times n` Gaussian W. The band is
    the central ``level`` interval of :func:`rmt_sparsity.laws.edge_band`
    (``which="ratio"``): with the extremes asymptotically independent,

    .. math::

        P(R \le r) = \int_0^1 F_{\max}\big(r\,Q_{\min}(u)\big)\,du,

    :math:`F_{\max}` the Tracy–Widom law of λ_max (Johnstone 2001, arXiv
    math/0102013) and :math:`Q_{\min}` the quantile function of λ_min
    (reflected soft edge, Ma 2012, arXiv 0810.1329; Edelman's hard-edge law
    for p = n; exact Monte-Carlo draws with a fixed seed near c = 1). Its width
    is O(n^{-2/3}) relative, set by the TW fluctuations of both edges, which is
    why a fixed ``rtol`` is wrong: too loose at large n, too tight at small n.
    The ratio does not depend on σ².

    Parameters
    ----------
    observed : float
        The eigenvalue ratio (> 0).
    p, n : int
        Rows and columns of W (≥ 2).
    level : float
        Coverage of the band (default 0.999; 0.95 to calibrate).
    beta : {1, 2, 4}

    Examples
    --------
    >>> from rmt_sparsity.ensembles import extreme_eigenvalues
    >>> from rmt_sparsity.testing import assert_ratio_within_band
    >>> lmax, lmin = extreme_eigenvalues(250, 1000, rng=1)
    >>> assert_ratio_within_band(float(lmax[0] / lmin[0]), 250, 1000)
    >>> assert_ratio_within_band(float(lmax[0] / lmin[0]), 300, 1000)
    Traceback (most recent call last):
    ...
    AssertionError: eigenvalue ratio ... outside the 0.999 band ...
    """
    observed = check_real("observed", observed, lo=0.0, lo_open=True)
    p = check_int("p", p, min=2)
    n = check_int("n", n, min=2)
    level = check_probability("level", level)
    beta = _check_beta(beta)
    b = _edge_band(p, n, beta, "ratio", level, 1.0)
    lo, hi = b.band
    if not lo <= observed <= hi:
        raise AssertionError(
            f"eigenvalue ratio {observed:.6g} outside the {level} band [{lo:.6g}, {hi:.6g}] of lambda_max/lambda_min "
            f"for p={p}, n={n} (ratio p/n = {p / n:.6g}), beta={beta}; median {b.median:.6g}, method {b.method!r}"
        )


def assert_close_statistically(a, b, se, k=None, *, level=None, df=None):
    r"""Assert :math:`|a - b| \le k\,\mathrm{se}` elementwise, with k stated or derived from a level.

    Null hypothesis: :math:`(a-b)/\mathrm{se}` is standard normal (a Monte-Carlo
    mean and its standard error by the CLT, with ``se`` the standard error of
    the *difference*: :math:`\sqrt{se_a^2 + se_b^2}` when b is uncertain too), or
    Student-t with ``df`` degrees of freedom when se was estimated from
    ``df + 1`` replicates (then the statistic is exactly t for Gaussian data).

    * ``k`` (default 4): per element, two-sided false-alarm rate
      :math:`2(1-\Phi(4)) = 6.3\times10^{-5}` (normal).
    * ``level``: family-wise coverage over the m broadcast elements
      (Bonferroni): :math:`k = \Phi^{-1}(1-(1-\text{level})/(2m))` (or the
      t quantile with ``df``). Give ``k`` or ``level``, not both.

    Parameters
    ----------
    a, b : array_like
        Measured and predicted values (broadcast together).
    se : array_like
        Standard error(s) of a − b, finite and ≥ 0 (0 demands equality).
    k : float, optional
        Multiplier (> 0). Default 4 when ``level`` is not given.
    level : float, optional
        Family-wise confidence level in (0, 1).
    df : int, optional
        Degrees of freedom of an estimated se (used with ``level``).

    Examples
    --------
    >>> from rmt_sparsity.testing import assert_close_statistically
    >>> assert_close_statistically(1.02, 1.0, se=0.01)  # 2 SE < 4 SE
    >>> assert_close_statistically([1.0, 1.3], 1.0, se=0.05, level=0.99)
    Traceback (most recent call last):
    ...
    AssertionError: 1 of 2 values differ by more than k = 2.807 standard errors ...
    """
    from scipy import stats

    if k is not None and level is not None:
        raise ValueError("give k or level, not both")
    a_arr = np.asarray(check_array("a", a, finite=False, nonempty=True), dtype=float)
    b_arr = np.asarray(check_array("b", b, finite=False, nonempty=True), dtype=float)
    se_arr = check_array("se", se, finite=True, nonempty=True).astype(float)
    if np.any(se_arr < 0):
        raise ValueError(f"se must be >= 0; got min {float(se_arr.min())!r}")
    try:
        a_b, b_b, se_b = np.broadcast_arrays(a_arr, b_arr, se_arr)
    except ValueError as exc:
        raise ValueError(f"a, b and se must broadcast together; got shapes {a_arr.shape}, {b_arr.shape}, {se_arr.shape}") from exc
    m = a_b.size
    if df is not None:
        df = check_int("df", df, min=1)
    if level is not None:
        level = check_probability("level", level)
        q = 1.0 - (1.0 - level) / (2.0 * m)
        k = float(stats.t.ppf(q, df)) if df is not None else float(stats.norm.ppf(q))
        how = f"level {level} over {m} value(s)" + (f", t with {df} df" if df is not None else "")
    else:
        k = 4.0 if k is None else check_real("k", k, lo=0.0, lo_open=True)
        how = "per value"
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(a_b - b_b)
        bad = ~(diff <= k * se_b)  # NaN (also inf - inf) in a or b fails
    if bad.any():
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(bad, np.nan_to_num(diff / se_b, nan=np.inf), -np.inf).ravel()  # |a-b|/se; NaN -> inf
        j = int(np.argmax(z))
        raise AssertionError(
            f"{int(bad.sum())} of {m} values differ by more than k = {k:.4g} standard errors ({how}); worst at flat "
            f"index {j}: a = {a_b.ravel()[j]!r}, b = {b_b.ravel()[j]!r}, se = {se_b.ravel()[j]!r}, |a-b|/se = {z[j]:.4g}"
        )


def _unit_roundoff(dtype) -> float:
    return float(np.finfo(dtype).eps) / 2.0


def _gamma_n(nterms: int, dtype) -> float:
    u = _unit_roundoff(dtype)
    if nterms * u >= 1:
        return math.inf
    return nterms * u / (1.0 - nterms * u)


def assert_sparse_matches_dense(actual, a, w, *, bias=None, dtype=None):
    r"""Assert a (sparse) product equals the dense :math:`a\,w` (+ bias) within the rounding-error bound.

    The reference :math:`y = a w + b` is computed in float64 from the same
    inputs (float32 inputs are exact in float64). A sum of N products in
    floating point, in any order, blocked or with fused multiply-adds, obeys
    (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., §3.1,
    eq. 3.5)

    .. math::

        |\mathrm{fl}(\textstyle\sum_i a_i w_i) - \sum_i a_i w_i|
        \le \gamma_N \sum_i |a_i||w_i|, \qquad
        \gamma_N = \frac{N u}{1 - N u},

    with u the unit roundoff of the computation (``eps/2``) and N the
    accumulation length: the contracted dimension, plus one with a bias. The
    float64 reference obeys the same bound with its own u, so the tolerance is
    :math:`(\gamma_N(\text{dtype}) + \gamma_N(\text{float64}))(|a||w| + |b|)`.
    It is a worst-case bound, so the assertion cannot fail by chance; a dropped,
    duplicated or wrong active row changes the output by one term
    :math:`|a_iw_i|`, far above the bound unless the whole row of terms is tiny.
    Skipped terms must be exact zeros in ``a`` (a kernel that drops non-zero
    activations is not computing :math:`a w`).

    Parameters
    ----------
    actual : array_like, shape (..., d_out)
        The kernel's output.
    a : array_like, shape (..., N)
        Activations (the sparse operand).
    w : array_like, shape (N, d_out)
        Weights, e.g. ``w_out_t`` (d_ff, d_model) for the down-projection or
        ``w_in.T`` for the up-projection.
    bias : array_like, shape (d_out,), optional
    dtype : numpy dtype, optional
        Precision of the computation; default ``actual.dtype``.

    Examples
    --------
    >>> import numpy as np
    >>> from rmt_sparsity.testing import assert_sparse_matches_dense
    >>> rng = np.random.default_rng(0)
    >>> a = np.where(rng.random(64) < 0.1, rng.random(64), 0).astype(np.float32)
    >>> w = rng.standard_normal((64, 8)).astype(np.float32)
    >>> active = np.flatnonzero(a)
    >>> y = (a[active] @ w[active]).astype(np.float32)  # a sparse product
    >>> assert_sparse_matches_dense(y, a, w)
    >>> assert_sparse_matches_dense(a[active[1:]] @ w[active[1:]], a, w)  # one row dropped
    Traceback (most recent call last):
    ...
    AssertionError: sparse result differs from the dense reference beyond the rounding bound ...
    """
    actual_arr = check_array("actual", actual, finite=False, nonempty=False)
    a_arr = check_array("a", a, nonempty=False)
    w_arr = check_array("w", w, ndim=2, nonempty=False)
    if a_arr.ndim < 1:
        raise ValueError("a must have at least one dimension (..., N)")
    N = w_arr.shape[0]
    if a_arr.shape[-1] != N:
        raise ValueError(f"a's last dimension ({a_arr.shape[-1]}) must equal w's first ({N})")
    dt = np.dtype(actual_arr.dtype if dtype is None else dtype)
    if dt.kind != "f":
        raise TypeError(f"dtype must be a floating dtype; got {dt}")
    a64, w64 = a_arr.astype(np.float64), w_arr.astype(np.float64)
    ref = a64 @ w64
    absprod = np.abs(a64) @ np.abs(w64)
    nterms = N
    if bias is not None:
        b64 = check_array("bias", bias, ndim=1).astype(np.float64)
        if b64.shape[0] != w_arr.shape[1]:
            raise ValueError(f"bias must have shape ({w_arr.shape[1]},); got {b64.shape}")
        ref = ref + b64
        absprod = absprod + np.abs(b64)
        nterms += 1
    if actual_arr.shape != ref.shape:
        raise AssertionError(f"shape mismatch: actual {actual_arr.shape}, dense reference {ref.shape}")
    tol = (_gamma_n(nterms, dt) + _gamma_n(nterms, np.float64)) * absprod
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(actual_arr.astype(np.float64) - ref)
        bad = ~(err <= tol)  # NaN or inf in actual fails
    if bad.any():
        j = int(np.argmax(np.where(bad, np.nan_to_num(err, nan=np.inf) - tol, -np.inf)))
        raise AssertionError(
            f"sparse result differs from the dense reference beyond the rounding bound at {int(bad.sum())} of "
            f"{bad.size} entries (N = {nterms} terms, dtype {dt}); worst at flat index {j}: "
            f"|error| = {err.ravel()[j]:.3e} > bound {tol.ravel()[j]:.3e} = (gamma_N({dt}) + gamma_N(float64)) sum |a||w|"
        )

