"""Claims about weight-spectrum analysis on Gaussian matrices (docs/science.md §1, §2, §5).

* ``gaussian_concentration_band`` - the spectral concentration (λ_max/λ_min with the
  paper's 0.1 × mean_all cut) of Gaussian 4d × d key matrices lies in its predicted
  95 % band (Johnstone/Ma edge laws), and approaches ((1+√c)/(1−√c))² = 9, c = 1/4.
  Rival: the same band moved to the limit 9 (the finite-size shift ignored).
* ``random_layers_read_random`` - pure Gaussian layers read as random: ``fit_mp``
  reports spikes at its nominal rate α = 0.05 and ``fit_power_law`` reports no tail.
"""

from __future__ import annotations

import math

import numpy as np

from ..._stats import binomial_band, mean_se
from ..claims import Claim, FigureData, Measurement, Prediction, Rival, critical_value, coverage_prediction, within_band

__all__ = ["CLAIMS"]


# ----------------------------------------------------------------------------- concentration band


def _conc_hypothesis(config, name, *, limit_centred=False) -> Prediction:
    """Coverage of a per-matrix 95 % band for the concentration over ``matrices`` independent Gaussian keys.

    Theory: the finite-size edge-law band of λmax/λmin (``edge_band(4d, d, "ratio")``);
    rival: the same band moved multiplicatively so that its median is the MP limit 9. The
    prediction's band is the central 95 % binomial interval of the covered fraction.
    """
    from ...laws import MarchenkoPastur, edge_band

    d, m = config["d"], config["matrices"]
    eb = edge_band(4 * d, d, 1, "ratio", 0.95)
    limit = MarchenkoPastur(d / (4 * d)).extreme_ratio()
    shift = limit / eb.median if limit_centred else 1.0
    band = (eb.band[0] * shift, eb.band[1] * shift)
    pred = coverage_prediction(
        m,
        0.95,
        {
            "hypothesis": name,
            "statistic": f"fraction of {m} Gaussian {4 * d}x{d} matrices whose concentration lies in the "
            "hypothesis' 95% band",
            "single_matrix_band": list(band),
            "band_method": eb.method + (" moved to the MP limit" if limit_centred else ""),
            "limit": limit,
            "finite_n_median": eb.median,
            "convention": "lambda_max/lambda_min(non-zero) of K K^T, cut 0.1 x mean over all 4d eigenvalues",
        },
    )
    return Prediction(pred.value, pred.band, pred.level, pred.details, pred.thresholds, law=band)


def _conc_measure(config, rng) -> Measurement:
    from ...laws import MarchenkoPastur, edge_band
    from ...spectra import spectral_concentration
    from ...spectra._concentration import _AnalyticRatioLaw

    d, m = config["d"], config["matrices"]
    eb = edge_band(4 * d, d, 1, "ratio", 0.95)
    ratios = np.array([spectral_concentration(rng.standard_normal((4 * d, d))).ratio for _ in range(m)])
    law = _AnalyticRatioLaw(4 * d, d, "soft")
    x = np.linspace(float(ratios.min()) * 0.97, float(ratios.max()) * 1.03, 200)
    cdf = np.array([law.cdf(v) for v in x])
    pdf = np.gradient(cdf, x)
    limit = MarchenkoPastur(d / (4 * d)).extreme_ratio()
    shift = limit / eb.median
    pdf_shifted = np.interp(x / shift, x, pdf, left=0.0, right=0.0) / shift
    fig = FigureData(
        kind="hist_vs_pdf",
        title=f"Concentration of {m} Gaussian {4 * d}x{d} key matrices vs edge-law prediction",
        data={
            "samples": ratios,
            "x": x,
            "pdf": pdf,
            "label": "TW1 (Johnstone) / reflected TW1 (Ma) ratio law",
            "xlabel": "lambda_max / lambda_min of K K^T",
            "overlays": {"rival: band at the MP limit (same law moved to 9)": pdf_shifted},
        },
    )
    mean_ratio, se_ratio = mean_se(ratios)
    return Measurement(
        value=math.nan,
        se=None,  # the band is the binomial sampling band of the rate
        n=m,
        raw=ratios,
        details={
            "mean_ratio": mean_ratio,
            "se_mean_ratio": se_ratio,
            "limit": limit,
            "mean_sv_ratio": float(np.sqrt(ratios).mean()),
        },
        figures=(fig,),
    )


def _conc_statistic(pred: Prediction, meas: Measurement) -> Measurement:
    lo, hi = pred.law
    inside = float(np.mean((meas.raw >= lo) & (meas.raw <= hi)))
    return Measurement(inside, None, meas.n, dict(meas.details, band=[lo, hi]), figures=meas.figures)


# ----------------------------------------------------------------------------- random reads random


def _rr_predict(config) -> Prediction:
    """Flagged fraction under the null: spikes at the nominal alpha, no tails; band [0, 97.5 % binomial quantile]."""
    m = config["matrices"] * len(config["shapes"])
    alpha = config.get("alpha", 0.05)
    lo, hi = binomial_band(m, alpha)
    return Prediction(
        value=alpha,
        band=(0.0, hi),
        level=0.975,
        thresholds=(critical_value("binomial_upper", hi, f"97.5 % quantile of Binomial(m = {m}, alpha = {alpha:g})/m "
                                   "(exact): the flagged fraction if each detector fires at its nominal rate",
                                   level=0.975),),
        details={
            "statistic": "fraction of pure Gaussian matrices flagged as structured (any TW spike or a power-law tail)",
            "spike_rate_nominal": alpha,
            "tail_rate_nominal": 0.0,
            "band": "[0, 97.5% quantile of Binomial(m, alpha)/m]",
            "matrices": m,
        },
    )


def _rr_measure(config, rng) -> Measurement:
    from ...laws import MarchenkoPastur
    from ...spectra import fit_mp, fit_power_law, gram_eigenvalues

    alpha = config.get("alpha", 0.05)
    spikes = tails = flagged = 0
    total = 0
    fig = None
    for p, n in config["shapes"]:
        for _ in range(config["matrices"]):
            scale = float(rng.uniform(0.5, 2.0)) ** 2
            W = math.sqrt(scale) * rng.standard_normal((p, n))
            lam = gram_eigenvalues(W)
            f = fit_mp(W, alpha=alpha)
            t = fit_power_law(lam[lam > 0], n_boot=0)
            spikes += f.n_spikes > 0
            tails += t.has_tail
            flagged += (f.n_spikes > 0) or t.has_tail
            total += 1
            if fig is None:
                law = MarchenkoPastur(p / n, f.scale, nonzero=True)
                a, b = law.edges
                x = np.linspace(a, b, 300)
                fig = FigureData(
                    kind="esd_vs_density",
                    title=f"Gaussian {p}x{n} layer: ESD vs fitted MP (spikes {f.n_spikes}, {t.verdict.split(':')[0]})",
                    data={
                        "eigenvalues": lam[lam > 0],
                        "x": x,
                        "density": law.pdf(x),
                        "label": f"MP(c={p / n:g}, fitted sigma^2={f.scale:.3g})",
                    },
                )
    rate = flagged / total
    return Measurement(
        value=rate,
        se=None,
        n=total,
        details={"spike_rate": spikes / total, "tail_rate": tails / total, "matrices": total,
                 "shapes": [list(s) for s in config["shapes"]]},
        figures=(fig,) if fig is not None else (),
    )


CLAIMS = [
    Claim(
        id="gaussian_concentration_band",
        statement="Gaussian matrices' concentration lies in its predicted band "
        "(4d x d key matrices, paper's 0.1 x mean_all cut; limit ((1+sqrt c)/(1-sqrt c))^2 = 9, c = 1/4).",
        source="Johnstone 2001 (arXiv math/0102013); Ma 2012 (arXiv 0810.1329); docs/science.md §2, §5",
        predict=lambda cfg: _conc_hypothesis(cfg, "finite-size TW edge-law band"),
        measure=_conc_measure,
        compare=within_band,
        statistic=_conc_statistic,
        rivals=[
            Rival("band at the MP limit", lambda cfg: _conc_hypothesis(cfg, "band at the MP limit", limit_centred=True),
                  "the same band centred on the limit 9: the finite-size shift ignored"),
        ],
        profiles={
            "smoke": {"d": 32, "matrices": 20},
            "quick": {"d": 128, "matrices": 200},
            "full": {"d": 512, "matrices": 400},
        },
        kind="theorem",
    ),
    Claim(
        id="random_layers_read_random",
        statement="Random layers read as random: no spikes and no heavy tail "
        "(fit_mp flags spikes at its nominal rate alpha = 0.05, fit_power_law finds no tail).",
        source="docs/science.md §1; Martin & Mahoney, arXiv 1810.01075 (random matrices as the null for spectral labels)",
        predict=_rr_predict,
        measure=_rr_measure,
        compare=within_band,
        profiles={
            "smoke": {"shapes": [(64, 64), (128, 64)], "matrices": 5},
            "quick": {"shapes": [(64, 64), (256, 128), (128, 512), (384, 384), (1024, 256)], "matrices": 40},
            "full": {"shapes": [(64, 64), (256, 128), (128, 512), (384, 384), (1024, 256), (4096, 1024)],
                     "matrices": 100},
        },
        kind="theorem",
    ),
]
