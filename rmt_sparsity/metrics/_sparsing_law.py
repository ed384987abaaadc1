r"""Sparsing-law fits: activation ratio against training amount, and against width/depth.

Luo et al., "Sparsing Law: Towards Large Language Models with Greater Activation
Sparsity", arXiv:2411.02335. Their fitted curves (public data repository
Raincleared-Song/SparsingLawData) use the parameter order (alpha, b, c, A0) and
D in **billions of training tokens**; e.g. the 0.1B ReLU model has
alpha = 0.101, b = -0.0151, c = 3.20, A0 = 0.0614.

Fits are nonlinear least squares (``scipy.optimize.least_squares``,
Levenberg-Marquardt) started from a profiled grid search, with Wald standard
errors from the Jacobian at the optimum, :math:`\mathrm{Cov} = s^2 (J^\top J)^{-1}`,
:math:`s^2 = \mathrm{RSS}/(n - p)`, and Student-t intervals with :math:`n - p`
degrees of freedom. These assume independent homoscedastic noise; training
trajectories are autocorrelated, so treat the intervals as optimistic there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._checks import check_array, check_choice, check_probability, check_real

__all__ = [
    "sparsing_law_relu",
    "sparsing_law_silu",
    "SPARSING_LAW_0P1B_RELU",
    "SparsingLawFit",
    "fit_sparsing_law",
    "BreakpointFit",
    "fit_breakpoint_linear",
]

#: Published fit of the 0.1B ReLU model (arXiv:2411.02335; D in billions of tokens).
SPARSING_LAW_0P1B_RELU = {"alpha": 0.101, "b": -0.0151, "c": 3.20, "a0": 0.0614}

_PARAMS = {"relu": ("alpha", "b", "c", "a0"), "silu": ("alpha", "c", "a0")}


def sparsing_law_relu(D, alpha, b, c, a0):
    r"""ReLU sparsing law :math:`A(D) = \exp(-c D^\alpha + b) + A_0`.

    The activation ratio decreases (for :math:`c, \alpha > 0`) towards its limit
    :math:`A_0` as the amount of training data :math:`D` grows (arXiv:2411.02335).
    ``D`` is a non-empty, finite array with entries :math:`\ge 0`; the parameters are finite reals.

    Examples
    --------
    >>> from rmt_sparsity.metrics import sparsing_law_relu
    >>> round(float(sparsing_law_relu(1.0, 0.101, -0.0151, 3.20, 0.0614)), 6)   # exp(-3.2151) + 0.0614
    0.101551
    """
    D = _check_law_args(D, alpha=alpha, b=b, c=c, a0=a0)
    return _relu(D, alpha, b, c, a0)


def sparsing_law_silu(D, alpha, c, a0):
    r"""SiLU sparsing law :math:`A(D) = A_0 - c D^{-\alpha}`.

    The activation ratio increases (for :math:`c, \alpha > 0`) towards
    :math:`A_0` (arXiv:2411.02335). ``D`` is a non-empty, finite array with
    entries :math:`\ge 0`; the parameters are finite reals.

    Examples
    --------
    >>> from rmt_sparsity.metrics import sparsing_law_silu
    >>> float(sparsing_law_silu(4.0, 0.5, 0.1, 0.4))   # 0.4 - 0.1 / 2
    0.35
    """
    D = _check_law_args(D, alpha=alpha, c=c, a0=a0)
    return _silu(D, alpha, c, a0)


def _check_law_args(D, **params):
    """Finite real parameters; ``D`` a finite, non-negative real array (training amount)."""
    for name, value in params.items():
        check_real(name, value)
    D = check_array("D", D).astype(np.float64, copy=False)
    if np.any(D < 0):
        raise ValueError(f"D must be >= 0 (an amount of training data); got min(D) = {D.min()!r}")
    return D


def _relu(D, alpha, b, c, a0):
    return np.exp(-c * D**alpha + b) + a0


def _silu(D, alpha, c, a0):
    return a0 - c * D ** (-alpha)


def _model(form, D, theta):  # unchecked: called on every step of the fit
    if form == "relu":
        return _relu(D, *theta)
    return _silu(D, *theta)


def _jac(form, D, theta):
    logD = np.log(D)
    if form == "relu":
        alpha, b, c, _ = theta
        Da = D**alpha
        E = np.exp(-c * Da + b)
        return np.column_stack([-E * c * Da * logD, E, -E * Da, np.ones_like(D)])
    alpha, c, _ = theta
    Dm = D ** (-alpha)
    return np.column_stack([c * Dm * logD, -Dm, np.ones_like(D)])


def _linfit(X, y):
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    return coef


def _simple_regression(u, z):
    """Vectorised least squares z ~ b + m u along the last axis; returns (b, m)."""
    um = u.mean(axis=-1, keepdims=True)
    zm = z.mean(axis=-1, keepdims=True)
    var = np.sum((u - um) ** 2, axis=-1)
    cov = np.sum((u - um) * (z - zm), axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.where(var > 0, cov / var, 0.0)
    b = zm[..., 0] - m * um[..., 0]
    return b, m


def _initial_guess(form, D, A):
    """Profile the linear parameters on a grid of the nonlinear ones; return the best start."""
    alphas = np.geomspace(1e-2, 3.0, 41)[:, None]
    if form == "relu":
        span = max(float(A.max() - A.min()), 1e-12)
        a0 = float(A.min()) - np.geomspace(1e-3, 3.0, 31)[:, None, None] * span  # (31, 1, 1)
        z = np.log(A[None, None, :] - a0)  # (31, 1, n)
        Da = np.broadcast_to(D[None, :] ** alphas, (a0.shape[0], alphas.shape[0], D.size))
        b, negc = _simple_regression(Da, np.broadcast_to(z, Da.shape))
        with np.errstate(over="ignore", invalid="ignore"):
            pred = np.exp(b[..., None] + negc[..., None] * Da) + a0
            rss = np.sum((A - pred) ** 2, axis=-1)
        rss = np.where(np.isfinite(rss), rss, np.inf)
        i, j = np.unravel_index(int(np.argmin(rss)), rss.shape)
        return np.array([alphas[j, 0], b[i, j], -negc[i, j], a0[i, 0, 0]])
    Dm = D[None, :] ** (-alphas)
    a0, negc = _simple_regression(Dm, np.broadcast_to(A, Dm.shape))
    rss = np.sum((A - (a0[:, None] + negc[:, None] * Dm)) ** 2, axis=-1)
    j = int(np.argmin(rss))
    return np.array([alphas[j, 0], -negc[j], a0[j]])


def _wald(J, rss, n, p, level):
    from scipy.special import stdtrit  # Student-t quantile (lighter import than scipy.stats)

    dof = n - p
    s2 = rss / dof
    try:
        cov = s2 * np.linalg.inv(J.T @ J)
    except np.linalg.LinAlgError:
        cov = np.full((p, p), np.nan)
    se = np.sqrt(np.where(np.diag(cov) >= 0, np.diag(cov), np.nan))
    tq = float(stdtrit(dof, 0.5 + level / 2.0))
    return cov, se, tq, dof


def _profile_interval(form, D, A, theta, rss_min, crit, se_a0):
    """Profile-likelihood interval for A0: {a0 : RSS_p(a0) - RSS_min <= crit}.

    RSS_p(a0) minimises the RSS over the other parameters with a0 held fixed
    (warm-started Levenberg-Marquardt). Each end is bracketed by steps that
    double from the Wald standard error, then located by Brent's method.
    An end that is not bracketed within 40 doublings is +-inf.
    """
    from scipy.optimize import brentq, least_squares

    free0 = np.asarray(theta[:-1], dtype=np.float64)

    def rss_p(a0, start):
        def resid(free):
            with np.errstate(over="ignore", invalid="ignore"):
                r = _model(form, D, (*free, a0)) - A
            return np.where(np.isfinite(r), r, 1e10)

        def jac(free):
            with np.errstate(over="ignore", invalid="ignore"):
                J = _jac(form, D, (*free, a0))[:, :-1]
            return np.where(np.isfinite(J), J, 0.0)

        res = least_squares(resid, start, jac=jac, method="lm", x_scale="jac")
        r = resid(res.x)
        return min(float(r @ r), 1e300), res.x

    a0_hat = float(theta[-1])
    # A fit exact to rounding (each residual ~ eps |A|, so RSS ~ eps^2 sum A^2): the profile is
    # numerical noise and the interval collapses to the point estimate.
    if rss_min <= 100.0 * np.finfo(np.float64).eps ** 2 * float(A @ A):
        return (a0_hat, a0_hat)
    h0 = se_a0 if np.isfinite(se_a0) and se_a0 > 0 else max(abs(a0_hat), 1.0) * 1e-3
    ends = []
    for sign in (-1.0, 1.0):
        start = free0.copy()
        prev, h = a0_hat, h0
        end = sign * np.inf
        for _ in range(40):
            a = a0_hat + sign * h
            val, start = rss_p(a, start)
            if val - rss_min > crit:
                warm = start.copy()

                def g(t, warm=warm):
                    return rss_p(t, warm)[0] - rss_min - crit

                # re-evaluate both ends from the same warm start (the profile optimisation
                # depends slightly on its starting point in the near-degenerate valley)
                g_out, g_in = g(a), g(prev)
                if g_out > 0 and g_in < 0:
                    end = brentq(g, min(prev, a), max(prev, a), xtol=1e-3 * h0)
                    break
                if g_out > 0:  # the inner point fails too: keep the outer, conservative end
                    end = a
                    break
            prev, h = a, 2.0 * h
        ends.append(float(end))
    return tuple(ends)


@dataclass(frozen=True)
class SparsingLawFit:
    """Result of :func:`fit_sparsing_law`.

    Attributes
    ----------
    form : {"relu", "silu"}
    params : dict
        Fitted parameters: ``alpha, b, c, a0`` (ReLU) or ``alpha, c, a0`` (SiLU).
    se : dict
        Wald standard errors of the parameters.
    cov : ndarray
        Their covariance matrix (parameter order as in ``params``).
    a0_interval : tuple of float
        Interval at ``level`` for the limit activation ratio :math:`A_0`
        (profile likelihood by default; see ``a0_method``).
    level : float
    rss : float
        Residual sum of squares.
    dof : int
        ``n - number of parameters``.
    r2 : float
        Coefficient of determination.
    aic : float
        Gaussian AIC, :math:`n \\log(\\mathrm{RSS}/n) + 2p` (for comparing forms).
    a0_method : {"profile", "wald"}
        How ``a0_interval`` was computed.
    success : bool
        Whether the optimiser reported convergence. For the ReLU form it is
        typically False when the least-squares optimum lies at the degenerate
        boundary :math:`\\alpha \\to 0` (then :math:`b, c \\to \\infty` and the law
        tends to the power law :math:`A_0 + K D^{-c\\alpha}`); :math:`A_0` and its
        profile interval stay meaningful, the other parameters do not.
    """

    form: str
    params: dict
    se: dict
    cov: np.ndarray
    a0_interval: tuple
    a0_method: str
    level: float
    rss: float
    dof: int
    r2: float
    aic: float
    success: bool = field(default=True)

    def predict(self, D) -> np.ndarray:
        """Evaluate the fitted law at ``D`` (same units as the fitted data)."""
        return _model(self.form, np.asarray(D, dtype=np.float64), tuple(self.params.values()))

    def interval(self, name: str) -> tuple:
        """Student-t interval at ``level`` for parameter ``name``."""
        from scipy.special import stdtrit

        check_choice("name", name, tuple(self.params))
        tq = float(stdtrit(self.dof, 0.5 + self.level / 2.0))
        v, s = self.params[name], self.se[name]
        return (v - tq * s, v + tq * s)


def fit_sparsing_law(
    D, A, form: str = "relu", *, level: float = 0.95, p0=None, a0_method: str = "profile"
) -> SparsingLawFit:
    r"""Fit a sparsing law to activation ratios :math:`A` measured after training amounts :math:`D`.

    .. math::

        \text{ReLU:}\quad A(D) = \exp(-c D^\alpha + b) + A_0, \qquad
        \text{SiLU:}\quad A(D) = A_0 - c D^{-\alpha}

    Nonlinear least squares (Levenberg-Marquardt, ``scipy.optimize.least_squares``
    with the analytic Jacobian) started from ``p0`` or, by default, from the best
    point of a grid over the nonlinear parameters (:math:`\alpha`, and
    :math:`A_0` for ReLU) with the others profiled by linear least squares
    (for ReLU, :math:`\log(A - A_0) = b - c D^\alpha` is linear in :math:`b, c`).
    Standard errors are Wald, :math:`s^2 (J^\top J)^{-1}`. The :math:`A_0`
    interval is by default the **profile-likelihood** interval
    :math:`\{A_0 : \mathrm{RSS}_p(A_0) \le \mathrm{RSS}_\min (1 + t^2_{n-p}/(n-p))\}`
    (``a0_method="profile"``), or the Wald interval
    :math:`\hat A_0 \pm t_{n-p}\,\mathrm{se}` (``a0_method="wald"``).

    For ReLU, :math:`b` and :math:`c` are nearly unidentified over a short
    range of :math:`D^\alpha`: the law degenerates to a power law as
    :math:`\alpha \to 0` with :math:`b, c \to \infty`. Refitting the 0.1B
    ReLU curve with the paper's own residual level (noise sd 5e-4 on the
    paper's 28 training amounts) puts about a quarter of the replicates'
    optima on that boundary, and the Wald :math:`A_0` interval then
    under-covers (0.87-0.90 measured at level 0.95), while the profile interval
    is calibrated to slightly conservative (0.97-0.98 measured) and narrower
    in the median (see ``tests/test_metrics_sparsing_law.py``).

    Parameters
    ----------
    D : array_like, shape (n,)
        Training amounts, all ``> 0`` (any unit; the paper uses billions of tokens).
    A : array_like, shape (n,)
        Activation ratios.
    form : {"relu", "silu"}
    level : float
        Interval level in (0, 1); default 0.95.
    p0 : sequence of float, optional
        Starting point in the order of ``SparsingLawFit.params``.

    Returns
    -------
    SparsingLawFit

    References
    ----------
    Luo et al., arXiv:2411.02335.

    Examples
    --------
    >>> import numpy as np
    >>> from rmt_sparsity.metrics import fit_sparsing_law, sparsing_law_relu, SPARSING_LAW_0P1B_RELU
    >>> D = np.linspace(0.8, 41.6, 28)                      # billions of tokens
    >>> A = sparsing_law_relu(D, **SPARSING_LAW_0P1B_RELU)
    >>> A = A + 5e-4 * np.random.default_rng(0).standard_normal(D.size)
    >>> fit = fit_sparsing_law(D, A, "relu")
    >>> lo, hi = fit.a0_interval
    >>> bool(lo < 0.0614 < hi), fit.r2 > 0.99
    (True, True)
    """
    from scipy.optimize import least_squares

    form = check_choice("form", form, ("relu", "silu"))
    level = check_probability("level", level)
    D = check_array("D", D, ndim=1).astype(np.float64)
    A = check_array("A", A, ndim=1).astype(np.float64)
    if D.shape != A.shape:
        raise ValueError(f"D and A must have the same length; got {D.size} and {A.size}")
    if np.any(D <= 0):
        raise ValueError(f"D must be > 0 (D**alpha, log D); got min {D.min()!r}")
    names = _PARAMS[form]
    p = len(names)
    n = D.size
    if n <= p:
        raise ValueError(f"need more than {p} points to fit the {form} form with errors; got {n}")
    if p0 is None:
        theta0 = _initial_guess(form, D, A)
    else:
        theta0 = check_array("p0", p0, ndim=1).astype(np.float64)
        if theta0.size != p:
            raise ValueError(f"p0 must have {p} entries {names}; got {theta0.size}")

    def resid(theta):
        with np.errstate(over="ignore", invalid="ignore"):
            r = _model(form, D, theta) - A
        return np.where(np.isfinite(r), r, 1e10)

    def jac(theta):
        with np.errstate(over="ignore", invalid="ignore"):
            J = _jac(form, D, theta)
        return np.where(np.isfinite(J), J, 0.0)

    res = least_squares(resid, theta0, jac=jac, method="lm", x_scale="jac")
    theta = res.x
    r = _model(form, D, theta) - A
    rss = float(r @ r)
    J = _jac(form, D, theta)
    cov, se, tq, dof = _wald(J, rss, n, p, level)
    tss = float(np.sum((A - A.mean()) ** 2))
    r2 = 1.0 - rss / tss if tss > 0 else float("nan")
    aic = n * np.log(rss / n) + 2 * p if rss > 0 else -np.inf
    a0, a0_se = theta[-1], se[-1]
    a0_method = check_choice("a0_method", a0_method, ("profile", "wald"))
    if a0_method == "wald":
        a0_interval = (float(a0 - tq * a0_se), float(a0 + tq * a0_se))
    else:
        # profile-likelihood (F) interval: RSS_p(a0) <= RSS_min (1 + t^2 / dof)
        a0_interval = _profile_interval(form, D, A, theta, rss, rss / dof * tq**2, a0_se)
    return SparsingLawFit(
        form=form,
        params={k: float(v) for k, v in zip(names, theta)},
        se={k: float(v) for k, v in zip(names, se)},
        cov=cov,
        a0_interval=a0_interval,
        a0_method=a0_method,
        level=level,
        rss=rss,
        dof=dof,
        r2=float(r2),
        aic=float(aic),
        success=bool(res.success),
    )


@dataclass(frozen=True)
class BreakpointFit:
    """Result of :func:`fit_breakpoint_linear`.

    Attributes
    ----------
    intercept, slope, breakpoint : float
        The model :math:`y = a + s\\,\\min(x, x_b)`.
    se : dict
        Approximate Wald standard errors of ``intercept``, ``slope``, ``breakpoint``.
    breakpoint_interval : tuple of float
        Student-t interval for the breakpoint at ``level`` (approximate: the model
        is not differentiable in :math:`x_b` at the data points).
    level : float
    rss : float
    dof : int
    """

    intercept: float
    slope: float
    breakpoint: float
    se: dict
    breakpoint_interval: tuple
    level: float
    rss: float
    dof: int

    def predict(self, x) -> np.ndarray:
        """Evaluate :math:`a + s \\min(x, x_b)`."""
        x = np.asarray(x, dtype=np.float64)
        return self.intercept + self.slope * np.minimum(x, self.breakpoint)


def fit_breakpoint_linear(x, y, *, level: float = 0.95) -> BreakpointFit:
    r"""Linear below a breakpoint, flat above: :math:`y = a + s \min(x, x_b)`, with :math:`x_b` estimated.

    The Sparsing Law paper finds that the activation ratio grows linearly with
    the width/depth ratio below a bottleneck point and stays roughly constant
    above it (arXiv:2411.02335). The fit profiles :math:`(a, s)` by linear
    least squares over a grid of candidate breakpoints (the data's distinct
    ``x`` values and 64 points between each pair of neighbours, from the
    second-smallest to the largest ``x``), then refines all three parameters
    with ``scipy.optimize.least_squares`` (bounded to the data range). A
    breakpoint at ``max(x)`` means no plateau was detected.

    Parameters
    ----------
    x, y : array_like, shape (n,)
        ``n >= 4`` points, at least 2 distinct ``x``.
    level : float
        Interval level.

    Returns
    -------
    BreakpointFit

    References
    ----------
    Luo et al., arXiv:2411.02335.

    Examples
    --------
    >>> import numpy as np
    >>> from rmt_sparsity.metrics import fit_breakpoint_linear
    >>> x = np.arange(1.0, 11.0)
    >>> y = 0.1 + 0.02 * np.minimum(x, 6.5)
    >>> fit = fit_breakpoint_linear(x, y)
    >>> round(fit.breakpoint, 6), round(fit.slope, 6), round(fit.intercept, 6)
    (6.5, 0.02, 0.1)
    """
    from scipy.optimize import least_squares

    level = check_probability("level", level)
    x = check_array("x", x, ndim=1).astype(np.float64)
    y = check_array("y", y, ndim=1).astype(np.float64)
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same length; got {x.size} and {y.size}")
    if x.size < 4:
        raise ValueError(f"need at least 4 points to fit intercept, slope and breakpoint; got {x.size}")
    ux = np.unique(x)
    if ux.size < 2:
        raise ValueError("x must hold at least 2 distinct values")
    cands = [ux[1:]]
    for lo_, hi_ in zip(ux[1:-1], ux[2:]):
        cands.append(np.linspace(lo_, hi_, 66)[1:-1])
    cands = np.concatenate(cands)
    best, best_rss = None, np.inf
    for xb in cands:
        X = np.column_stack([np.ones_like(x), np.minimum(x, xb)])
        a, s = _linfit(X, y)
        r = y - X @ np.array([a, s])
        rss = float(r @ r)
        if rss < best_rss:  # strict: the first (smallest) breakpoint wins ties
            best, best_rss = (a, s, xb), rss

    def resid(th):
        return th[0] + th[1] * np.minimum(x, th[2]) - y

    def jac(th):
        return np.column_stack([np.ones_like(x), np.minimum(x, th[2]), th[1] * (x > th[2])])

    lo_b, hi_b = float(ux[0]), float(ux[-1])
    start = np.array(best)
    start[2] = np.clip(start[2], lo_b, hi_b)
    res = least_squares(resid, start, jac=jac, bounds=([-np.inf, -np.inf, lo_b], [np.inf, np.inf, hi_b]))
    th = res.x if float(res.cost) * 2 <= best_rss else start
    r = resid(th)
    rss = float(r @ r)
    n, p = x.size, 3
    cov, se, tq, dof = _wald(jac(th), rss, n, p, level)
    return BreakpointFit(
        intercept=float(th[0]),
        slope=float(th[1]),
        breakpoint=float(th[2]),
        se={"intercept": float(se[0]), "slope": float(se[1]), "breakpoint": float(se[2])},
        breakpoint_interval=(float(th[2] - tq * se[2]), float(th[2] + tq * se[2])),
        level=level,
        rss=rss,
        dof=dof,
    )
