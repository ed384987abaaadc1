"""Claims about the Marchenko-Pastur law on sampled Wishart matrices (docs/science.md §1).

* ``mp_esd_matches_wishart`` - the pooled ESD of independent Wishart matrices
  passes a Kolmogorov-Smirnov test against the MP law.
* ``mp_extreme_ratio`` - the extreme-eigenvalue ratio of WWᵀ/n lies in its
  predicted finite-size band around the limit ((1+√c)/(1−√c))².
"""

from __future__ import annotations

import math

import numpy as np

from ..claims import Claim, FigureData, Measurement, Prediction, Verdict, coverage_prediction, within_band

__all__ = ["CLAIMS"]


# ----------------------------------------------------------------------------- ESD vs MP


def _esd_predict(config) -> Prediction:
    """KS critical value for the pooled sample; the MP law predicts D -> 0.

    The pooled eigenvalues of ``m`` independent p x n matrices are *not* iid:
    eigenvalue repulsion (rigidity) makes the ESD of one matrix fluctuate by
    O(log n / n) rather than O(1/sqrt(p)), so the iid KS critical value
    ``kolmogorov.isf(alpha)/sqrt(N)`` with N = m·p is conservative for the
    fluctuations. The finite-n bias of the expected ESD is O(1/n) in
    Kolmogorov distance (Götze & Tikhomirov 2004); the config keeps
    ``1/n`` well below the critical value, and both are reported.
    """
    from scipy.stats import kstwobign

    p, n, m, level = config["p"], config["n"], config["matrices"], config.get("level", 0.95)
    n_pooled = m * p
    crit = float(kstwobign.isf(1.0 - level) / math.sqrt(n_pooled))
    return Prediction(
        value=0.0,
        band=(0.0, crit),
        level=level,
        details={
            "statistic": "Kolmogorov distance sup|F_ESD - F_MP| of the pooled ESD",
            "ratio": p / n,
            "pooled_eigenvalues": n_pooled,
            "iid_ks_critical_value": crit,
            "finite_n_bias_scale_1_over_n": 1.0 / n,
        },
    )


def _esd_measure(config, rng) -> Measurement:
    from ...ensembles import wishart_eigenvalues
    from ...laws import MarchenkoPastur
    from ...spectra import esd_distances

    p, n, m, scale = config["p"], config["n"], config["matrices"], config.get("scale", 1.0)
    law = MarchenkoPastur(p / n, scale=scale)
    eigs = np.sort(np.concatenate([wishart_eigenvalues(p, n, scale, rng=rng) for _ in range(m)]))
    dist, _ = esd_distances(eigs, law.cdf, law.support())
    a, b = law.support()
    x = np.linspace(a, b, 400)
    fig = FigureData(
        kind="esd_vs_density",
        title=f"ESD of {m} Wishart matrices (p={p}, n={n}) vs MP(c={p / n:g})",
        data={"eigenvalues": eigs, "x": x, "density": law.pdf(x), "label": f"MP(c={p / n:g}, σ²={scale:g})"},
    )
    return Measurement(
        value=dist,
        se=None,
        n=m,
        details={"matrices": m, "p": p, "n": n, "min_eig": float(eigs[0]), "max_eig": float(eigs[-1])},
        figures=(fig,),
    )


def _esd_compare(pred: Prediction, meas: Measurement) -> Verdict:
    return within_band(pred, meas)


# ----------------------------------------------------------------------------- extreme ratio


def _ratio_band(config):
    from ...laws import edge_band

    return edge_band(config["p"], config["n"], beta=1, which="ratio", level=config.get("level", 0.95))


def _ratio_predict(config) -> Prediction:
    """Coverage of the Tracy-Widom edge-law band for λmax/λmin, with its binomial band.

    ``edge_band(p, n, which="ratio")`` gives the finite-size law of one
    matrix's ratio (Johnstone centring/scaling at the top, Ma's reflected soft
    edge at the bottom, combined by TW convolution). If it is right, a fraction
    ``level`` of ``m`` independent matrices falls inside its central band; the
    prediction's band is the central 95 % binomial interval of that fraction
    (exact quantiles, :func:`rmt_sparsity._stats.binomial_band`; no normal approximation). The TW approximation itself
    has an O(n^{-2/3}) error, which at small sizes can move the coverage.
    """
    from ...laws import MarchenkoPastur

    p, n, m = config["p"], config["n"], config["matrices"]
    eb = _ratio_band(config)
    return coverage_prediction(
        m,
        eb.level,
        {
            "statistic": "fraction of independent matrices whose ratio lies in the edge-law band",
            "edge_band": list(eb.band),
            "edge_band_level": eb.level,
            "edge_band_method": eb.method,
            "predicted_median_ratio": eb.median,
            "limit_ratio": MarchenkoPastur(p / n).extreme_ratio() if p < n else float("inf"),
            "ratio": p / n,
        },
    )


def _ratio_measure(config, rng) -> Measurement:
    from ...ensembles import extreme_eigenvalues

    p, n, m = config["p"], config["n"], config["matrices"]
    lmax, lmin = extreme_eigenvalues(p, n, 1.0, size=m, rng=rng)
    ratios = lmax / lmin
    lo, hi = _ratio_band(config).band
    inside = float(np.mean((ratios >= lo) & (ratios <= hi)))
    return Measurement(
        value=inside,
        se=None,  # the binomial band already carries the sampling spread of the fraction
        n=m,
        details={
            "median_ratio": float(np.median(ratios)),
            "mean_ratio": float(ratios.mean()),
            "binomial_se": math.sqrt(inside * (1 - inside) / m),
            "sampler": "exact λmax, λmin by Sturm bisection on Dumitriu-Edelman matrices",
        },
    )


CLAIMS = [
    Claim(
        id="mp_esd_matches_wishart",
        statement="The Marchenko-Pastur law matches sampled Wishart spectra (pooled ESD passes KS against MP).",
        source="Marchenko & Pastur 1967; docs/science.md §1",
        predict=_esd_predict,
        measure=_esd_measure,
        compare=_esd_compare,
        profiles={
            "smoke": {"p": 50, "n": 100, "matrices": 4},
            "quick": {"p": 300, "n": 600, "matrices": 10},
            "full": {"p": 1000, "n": 2000, "matrices": 20},
        },
    ),
    Claim(
        id="mp_extreme_ratio",
        statement=(
            "The extreme-eigenvalue ratio of WW^T/n lies in its Tracy-Widom edge-law band "
            "(the band's coverage over independent matrices is its level); it tends to ((1+sqrt c)/(1-sqrt c))^2."
        ),
        source="docs/science.md §1-2; Johnstone 2001 (arXiv math/0102013)",
        predict=_ratio_predict,
        measure=_ratio_measure,
        compare=lambda pred, meas: within_band(pred, meas),
        profiles={
            "smoke": {"p": 50, "n": 200, "matrices": 300},
            "quick": {"p": 200, "n": 800, "matrices": 1000},
            "full": {"p": 1000, "n": 4000, "matrices": 4000},
        },
    ),
]
