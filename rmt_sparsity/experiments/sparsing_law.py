r"""Sparsing-law analysis of an activation-ratio trajectory: the law against its two simpler rivals.

The activation ratio :math:`A = 1 - \text{zero fraction}` of a net recorded over
training is fitted by the ReLU sparsing law
:math:`A(D) = \exp(-cD^\alpha + b) + A_0` (Luo et al., arXiv 2411.02335;
:func:`rmt_sparsity.metrics.fit_sparsing_law`) in the training amount :math:`D`,
and compared by Gaussian AIC with a constant (no trend) and a pure power law
:math:`A = kD^{-\beta}` (:func:`sparsing_analysis`); :func:`sparsing_verdict`
is the decision rule of the ``sparsing_law_fit`` claim, and the sweep
experiment ``activation_ratio_vs_steps`` returns the same analysis.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["DELTA_AIC", "activation_trajectory", "gaussian_aic", "fit_pure_power_law", "sparsing_analysis",
           "sparsing_verdict"]

#: ΔAIC at which the worse model has essentially no support (Burnham & Anderson 2002, §2.6).
#: Training trajectories have autocorrelated residuals, which inflates |ΔAIC|: hence the
#: strict 10 rather than the customary 2.
DELTA_AIC = 10.0


def activation_trajectory(history, layer_names, batch_size):
    """(steps, D, A) from a training history: D = examples seen / 1000, A = 1 - mean zero fraction over layers.

    ``history`` is a :class:`rmt_sparsity.nn.TrainResult` history (``"step"`` and
    ``"<layer>.zero_fraction"`` per evaluation); the zero fractions are averaged
    over ``layer_names`` in float64.

    Examples
    --------
    >>> import numpy as np
    >>> h = {"step": np.array([0, 10]), "a.zero_fraction": np.array([0.5, 0.7]), "b.zero_fraction": np.array([0.3, 0.5])}
    >>> [x.tolist() for x in activation_trajectory(h, ("a", "b"), 100)]
    [[0.0, 10.0], [0.0, 1.0], [0.6, 0.4]]
    """
    steps = np.asarray(history["step"], np.float64)
    zf = np.mean([np.asarray(history[f"{n}.zero_fraction"], np.float64) for n in layer_names], axis=0)
    return steps, steps * batch_size / 1000.0, 1.0 - zf


def gaussian_aic(rss: float, n: int, p: int) -> float:
    r"""Gaussian AIC :math:`n\log(\mathrm{RSS}/n) + 2p` of a least-squares fit with ``p`` parameters (``-inf`` for an exact fit).

    Examples
    --------
    >>> round(gaussian_aic(2.0, 10, 2), 6)
    -12.094379
    >>> gaussian_aic(0.0, 10, 2)
    -inf
    """
    return n * math.log(rss / n) + 2 * p if rss > 0 else -math.inf


def fit_pure_power_law(D, A) -> dict:
    r"""Least-squares pure power law :math:`A = k D^{-\beta}` (2 parameters), started from the log-log line.

    Returns ``{"k", "beta", "rss", "aic", "r2"}`` (AIC :math:`n\log(\mathrm{RSS}/n) + 4`,
    :func:`gaussian_aic`, as in :func:`rmt_sparsity.metrics.fit_sparsing_law`); NaN
    entries when some ``A <= 0``.

    Examples
    --------
    >>> D = np.arange(1.0, 11.0)
    >>> f = fit_pure_power_law(D, 0.5 * D**-0.3)
    >>> round(f["k"], 6), round(f["beta"], 6)
    (0.5, 0.3)
    """
    from scipy.optimize import least_squares

    D, A = np.asarray(D, np.float64), np.asarray(A, np.float64)
    n = D.size
    nan = {"k": math.nan, "beta": math.nan, "rss": math.nan, "aic": math.nan, "r2": math.nan}
    if np.any(A <= 0):
        return nan
    slope, icpt = np.polyfit(np.log(D), np.log(A), 1)

    def resid(th):
        with np.errstate(over="ignore", invalid="ignore"):
            r = th[0] * D ** (-th[1]) - A
        return np.where(np.isfinite(r), r, 1e10)

    def jac(th):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            p = D ** (-th[1])
            J = np.column_stack([p, -th[0] * np.log(D) * p])
        return np.where(np.isfinite(J), J, 0.0)

    th = least_squares(resid, [math.exp(icpt), -slope], jac=jac, method="lm").x
    r = resid(th)
    rss = float(r @ r)
    tss = float(np.sum((A - A.mean()) ** 2))
    return {"k": float(th[0]), "beta": float(th[1]), "rss": rss, "aic": gaussian_aic(rss, n, 2),
            "r2": 1.0 - rss / tss if tss > 0 else math.nan}


def sparsing_analysis(D, A, *, a0_method="profile") -> dict:
    r"""The ReLU sparsing-law fit of one trajectory and its two simpler rivals (a constant, a pure power law).

    Parameters
    ----------
    D, A : array_like
        Training amount (> 0) and activation ratio, one entry per evaluation.
    a0_method : {"profile", "wald"}
        Interval for the limit :math:`A_0` (:func:`rmt_sparsity.metrics.fit_sparsing_law`).

    Returns
    -------
    dict
        ``n_points``; ``law`` (the fitted parameters, ``r2``, ``aic``, ``rss``,
        ``a0_interval``, ``a0_method``, ``optimizer_converged``) and ``law_curve``;
        ``constant`` (``value``, ``rss``, ``aic`` with 1 parameter); ``power_law``
        (:func:`fit_pure_power_law`) and ``power_law_curve`` (None when undefined).

    Examples
    --------
    >>> from rmt_sparsity.metrics import sparsing_law_relu
    >>> D = np.linspace(1.0, 60.0, 40)
    >>> an = sparsing_analysis(D, sparsing_law_relu(D, alpha=0.5, b=0.0, c=0.5, a0=0.4), a0_method="wald")
    >>> round(an["law"]["a0"], 6), an["law"]["r2"] > 0.999999
    (0.4, True)
    """
    from ..metrics import fit_sparsing_law

    D, A = np.asarray(D, np.float64), np.asarray(A, np.float64)
    n = D.size
    law = fit_sparsing_law(D, A, "relu", a0_method=a0_method)
    rss_c = float(np.sum((A - A.mean()) ** 2))
    pw = fit_pure_power_law(D, A)
    return {
        "n_points": n,
        "law": {**law.params, "r2": law.r2, "aic": law.aic, "rss": law.rss, "a0_interval": list(law.a0_interval),
                "a0_method": law.a0_method, "optimizer_converged": law.success},
        "law_curve": law.predict(D).tolist(),
        "constant": {"value": float(A.mean()), "rss": rss_c, "aic": gaussian_aic(rss_c, n, 1)},
        "power_law": pw,
        "power_law_curve": (pw["k"] * D ** (-pw["beta"])).tolist() if math.isfinite(pw["k"]) else None,
    }


def sparsing_verdict(an, *, r2_min, daic=DELTA_AIC) -> tuple[str, str]:
    """The verdict ``(status, reason)`` of the sparsing-law rule on one :func:`sparsing_analysis` result.

    In order: no trend (constant within ``daic`` of the law) -> inconclusive; the fitted law
    rises (:math:`c\\alpha \\le 0`; the ReLU law decreases) -> fail; :math:`R^2 <` ``r2_min``
    -> fail; the pure power law better by ``daic`` -> fail; :math:`A_0 \\notin [0, 1]` (no
    limit identified in the window) -> inconclusive; law better than the power law by
    ``daic`` -> pass; otherwise inconclusive.

    Examples
    --------
    >>> D = np.linspace(1.0, 60.0, 50)
    >>> A = 0.45 + 1e-3 * np.random.default_rng(1).standard_normal(D.size)   # no trend
    >>> sparsing_verdict(sparsing_analysis(D, A, a0_method="wald"), r2_min=0.9)[0]
    'inconclusive'
    """
    law, const, pw = an["law"], an["constant"], an["power_law"]
    d_const = const["aic"] - law["aic"]
    d_pow = pw["aic"] - law["aic"] if math.isfinite(pw["aic"]) else math.inf
    desc = (f"R2 {law['r2']:.4f} (min {r2_min}); AIC law {law['aic']:.1f}, constant {const['aic']:.1f} "
            f"(dAIC {d_const:+.1f}), power law {pw['aic']:.1f} (dAIC {d_pow:+.1f}); fit alpha {law['alpha']:.3g}, "
            f"c {law['c']:.3g}, A0 {law['a0']:.4g}; {an['n_points']} points")
    if not (d_const >= daic):  # NaN-safe: an undefined comparison is not evidence of a trend
        return "inconclusive", f"no trend beyond a constant (dAIC < {daic:g}); " + desc
    if not law["c"] * law["alpha"] > 0:
        return "fail", "the fitted law rises with D (the ReLU sparsing law decreases); " + desc
    if not law["r2"] >= r2_min:
        return "fail", "the sparsing-law form does not describe the trajectory; " + desc
    if d_pow <= -daic:
        return "fail", "a pure power law describes it better; " + desc
    if not 0.0 <= law["a0"] <= 1.0:
        return "inconclusive", "the limit A0 is not identified in this window (outside [0, 1]); " + desc
    if d_pow >= daic:
        return "pass", desc
    return "inconclusive", f"not distinguishable from a pure power law (|dAIC| < {daic:g}); " + desc
