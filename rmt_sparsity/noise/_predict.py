"""Predictions beside simulations: exact weighted-MP law, the paper's heuristic, Monte-Carlo SEs.

The exact laws come from :mod:`rmt_sparsity.laws` (``discounted`` /
``WeightedCovarianceLaw``, ``MarchenkoPastur``); this module only pairs them
with :func:`simulate_sgd_noise` and tabulates the distances.
"""

from __future__ import annotations

import math

import numpy as np

from .._checks import check_array, check_int, check_real, check_size_budget
from .._rng import spawn
from .._stats import mean_se
from ..theory import discount_factor, effective_ratio, effective_window
from ._simulate import simulate_sgd_noise

__all__ = ["predict_vs_simulate", "wasserstein1_to_law"]


def wasserstein1_to_law(eigenvalues, cdf, lo, hi) -> float:
    """Wasserstein-1 distance ``∫ |F_emp(x) - F(x)| dx`` between an ESD and a law.

    The W1 part of :func:`rmt_sparsity.spectra.esd_distances` (exact in the
    step function, Gauss–Legendre on the smooth pieces of the law's cdf).

    Parameters
    ----------
    eigenvalues : array_like
    cdf : callable
        Vectorised cdf of the law.
    lo, hi : float
        Support of the law (its cdf is 0 below ``lo`` and 1 above ``hi``);
        finite, ``lo <= hi`` (equal for a point mass).

    Examples
    --------
    >>> import numpy as np
    >>> cdf = lambda x: np.clip(x, 0.0, 1.0)       # uniform(0, 1): W1 = 1/(4N) for the grid (i + 1/2)/N
    >>> round(wasserstein1_to_law((np.arange(1000) + 0.5) / 1000, cdf, 0.0, 1.0), 8)
    0.00025
    """
    from ..spectra import esd_distances

    eigenvalues = check_array("eigenvalues", eigenvalues, ndim=1)
    if not callable(cdf):
        raise TypeError(f"cdf must be a callable cdf(x) -> array; got {type(cdf).__name__}")
    lo = check_real("lo", lo)
    hi = check_real("hi", hi)
    if not lo <= hi:
        raise ValueError(f"lo must be <= hi; got lo={lo!r}, hi={hi!r}")
    return esd_distances(eigenvalues, cdf, (lo, hi))[1]


def _law_mean(law) -> float:
    # the weighted law's mean eigenvalue is E_H[t] (its own atoms and masses)
    return float(np.dot(law.probs, law.weights))


def predict_vs_simulate(
    p,
    batch,
    steps,
    lr,
    weight_decay,
    *,
    seeds=4,
    theta=1e-3,
    input_model="isotropic",
    rng=None,
) -> list[dict]:
    """Tidy table of exact and heuristic predictions beside the simulated discounted covariance.

    The simulated object is ``C_t = sum_s r^(t-s) X_sᵀX_s`` of
    :func:`simulate_sgd_noise` (``d_out = 1``: only the covariance is used),
    normalised by ``n = B t``. The predictions are

    * **exact**: the weighted MP law ``discounted(p/(B t), r, t, B)`` of
      :mod:`rmt_sparsity.laws` (Silverstein & Bai 1995);
    * **heuristic**: the paper's MP law with ratio
      ``c = p/(B min(t, T_eff))`` (:func:`rmt_sparsity.theory.effective_ratio`),
      rescaled to the same mean eigenvalue.

    Rows (``quantity``): ``cov_ratio`` (``λ_max/λ_min``), ``lambda_max_over_mean``,
    ``lambda_min_over_mean``, ``alpha`` (``m_1²/m_2``), ``anisotropy_A``
    (``sqrt(1 - alpha)``) and ``w1_over_mean`` (Wasserstein-1 distance between the
    ESD and the law, both divided by their mean; predicted 0).

    Parameters
    ----------
    p, batch, steps : int
    lr, weight_decay : float
    seeds : int, default 4
        Independent simulations (the SE is ``std(ddof=1)/sqrt(seeds)``; NaN for 1 seed).
    theta : float, default 1e-3
        ``T_eff`` threshold of the heuristic.
    input_model : see :func:`simulate_sgd_noise`
    rng : seed or Generator
        Split into ``seeds`` independent streams with :func:`rmt_sparsity._rng.spawn`.

    Returns
    -------
    list of dict
        Keys ``quantity, exact, heuristic, simulated, se, seeds, rel_error_exact,
        rel_error_heuristic`` (relative errors ``(sim - pred)/pred``; for
        ``w1_over_mean`` the absolute value is reported instead).

    References
    ----------
    Silverstein & Bai (1995); Peng et al., arXiv 2309.03004; docs/science.md §5.

    Examples
    --------
    >>> rows = predict_vs_simulate(16, 4, 40, 0.1, 0.1, seeds=2, rng=0)  # doctest: +SKIP
    >>> [r["quantity"] for r in rows]  # doctest: +SKIP
    ['cov_ratio', 'lambda_max_over_mean', 'lambda_min_over_mean', 'alpha', 'anisotropy_A', 'w1_over_mean']
    """
    p = check_int("p", p, min=1)
    batch = check_int("batch", batch, min=1)
    steps = check_int("steps", steps, min=1)
    seeds = check_int("seeds", seeds, min=1)
    r = discount_factor(lr, weight_decay)
    theta = check_real("theta", theta, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    check_size_budget("p, batch, steps, seeds", (p, batch, steps, seeds),
                      iterations=seeds * steps * batch * p * (p + 1) + seeds * p**3,
                      what=f"{seeds} simulations of {steps} steps of {batch} inputs in dimension {p}")
    from ..laws.marchenko_pastur import MarchenkoPastur
    from ..laws.weighted_covariance import discounted

    n = batch * steps
    law = discounted(p / n, r, steps, batch)
    m1 = _law_mean(law)
    lo, hi = law.support()
    # second moment from the free cumulants: m2 = kappa_2 + kappa_1^2 = c E t^2 + (E t)^2
    et2 = float(np.dot(law.probs, law.weights**2))
    alpha_exact = m1 * m1 / (p / n * et2 + m1 * m1)
    c_h = effective_ratio(p, batch, steps, lr, weight_decay, theta)
    heur = MarchenkoPastur(c_h)  # mean 1 (scale 1); compared after dividing by the mean
    h_lo, h_hi = heur.edges  # bulk edges: the lower one is that of the non-zero eigenvalues
    exact = {
        "cov_ratio": law.ratio_of_edges(),
        "lambda_max_over_mean": hi / m1,
        "lambda_min_over_mean": lo / m1,
        "alpha": alpha_exact,
        "anisotropy_A": math.sqrt(1.0 - alpha_exact),
        "w1_over_mean": 0.0,
    }
    heuristic = {
        "cov_ratio": heur.extreme_ratio(),
        "lambda_max_over_mean": h_hi,
        "lambda_min_over_mean": h_lo,
        "alpha": 1.0 / (1.0 + c_h),
        "anisotropy_A": math.sqrt(c_h / (1.0 + c_h)),
        "w1_over_mean": 0.0,
    }
    sims = {k: [] for k in exact}
    w1_heur = []
    for g in spawn(rng, seeds):
        sim = simulate_sgd_noise(p, 1, batch, steps, lr, weight_decay, input_model=input_model, rng=g, record_weights=False)
        ev = sim.cov_eigenvalues[-1] / n
        mean = float(ev.mean())
        sims["cov_ratio"].append(float(sim.cov_ratio[-1]))
        sims["lambda_max_over_mean"].append(float(ev[-1]) / mean)
        sims["lambda_min_over_mean"].append(float(ev[0]) / mean)
        sims["alpha"].append(float(sim.alpha[-1]))
        sims["anisotropy_A"].append(float(sim.anisotropy[-1]))
        sims["w1_over_mean"].append(wasserstein1_to_law(ev / mean, lambda x: law.cdf(x * m1), lo / m1, hi / m1))
        w1_heur.append(wasserstein1_to_law(ev / mean, heur.cdf, heur.support()[0], h_hi))
    rows = []
    for q in exact:
        sim_v, se = mean_se(sims[q])
        if q == "w1_over_mean":
            rel_e, rel_h = sim_v, float(np.mean(w1_heur))
        else:
            rel_e = (sim_v - exact[q]) / exact[q] if exact[q] not in (0.0, math.inf) else math.nan
            rel_h = (sim_v - heuristic[q]) / heuristic[q] if heuristic[q] not in (0.0, math.inf) else math.nan
        rows.append(
            {
                "quantity": q,
                "exact": float(exact[q]),
                "heuristic": float(heuristic[q]),
                "simulated": sim_v,
                "se": se,
                "seeds": seeds,
                "rel_error_exact": float(rel_e),
                "rel_error_heuristic": float(rel_h),
                "p": p,
                "batch": batch,
                "steps": steps,
                "r": r,
                "heuristic_ratio_c": c_h,
                "effective_window": effective_window(lr, weight_decay, theta),
            }
        )
    return rows
