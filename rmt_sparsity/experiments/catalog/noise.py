"""Claims about SGD gradient noise with weight decay (arXiv 2309.03004; Silverstein & Bai 1995; Dozier & Silverstein 2007).

Each claim judges a law by a distance of the simulated spectrum to it (or a statistic with a
predicted band), recomputed against each rival on the same simulated draws; every critical
value is a Monte-Carlo quantile at the claim's own sizes and seed count under the hypothesis'
canonical random-matrix model (:mod:`rmt_sparsity.experiments.nulls`, precomputed in
``data/null_quantiles.json``). The measurement comes from the SGD noise simulator
(:func:`rmt_sparsity.noise.simulate_sgd_noise`, LayerNorm-like inputs of norm √p); the nulls
come from Gaussian models of the laws, so a pass says that the simulator's spectrum is as close
to the law as the law's own Gaussian model is at this size.

* ``weighted_mp_discounted_covariance`` - the discounted input covariance follows the exact
  weighted (generalised) MP law; rivals: MP with the Kish effective sample size, the paper's
  heuristic MP and MP with c = p/(Bt) (no discount). Statistic: mean over seeds of the
  Wasserstein-1 distance of ESD/mean to law/mean.
* ``paper_heuristic_mp_ratio`` - the paper's heuristic MP(p/(B min(t, T_eff))) eigenvalue
  ratio against the simulated one, for r in {0.9, 0.99, 0.999}; rivals: MP with the Kish
  effective sample size and MP with c = p/(Bt). Band: the Monte-Carlo band of the seed-mean
  ratio under each model.
* ``weight_update_spectrum`` - the weight update from W0 = 0 follows the two-level weighted-MP
  law, rectangular (concentrated) and square (hard edge); rivals: an iid Gaussian matrix of the
  same shape (plain MP) and the one-level weighted law (the discount weights alone).
* ``info_plus_noise_concentration`` - W0 plus accumulated noise follows the
  information-plus-noise law; rivals: W0 alone and pure noise (MP).

Heavy imports (laws, simulator) happen inside predict/measure.
"""

from __future__ import annotations

import math

import numpy as np

from ..._stats import mean_se
from ..claims import Claim, FigureData, Measurement, Prediction, Rival, Verdict, critical_value, within_band
from ..nulls import NullSpec, null_band, null_critical_value

__all__ = ["CLAIMS"]

#: Level of every test here: a true law fails by chance with probability at most ALPHA.
ALPHA = 0.05

_DE = "Dumitriu-Edelman tridiagonal Laguerre (beta = 1)"


def _lr_wd(r, lr=0.1):
    return lr, (1.0 - r) / lr


def _kish_n(batch, steps, r):
    """Kish effective sample size of the discounted sum, B (1+r)/(1-r) (1-r^t)/(1+r^t)."""
    from ...theory import kish_effective_samples

    lr, wd = _lr_wd(r)
    return kish_effective_samples(batch, steps, lr, wd)


def _normalised(ev):
    ev = np.asarray(ev, dtype=float)
    return ev / ev.mean()


def _mp_seed_mean_w1(p, n, seeds, law):
    """One draw of the mean over ``seeds`` of W1(ESD/mean, law/mean) for p x n Wishart matrices."""
    from ...ensembles import laguerre_eigenvalues
    from ..spectral import esd_distance

    def draw(g):
        return float(np.mean([esd_distance(laguerre_eigenvalues(p, n, rng=g), law, metric="w1", normalise=True)
                              for _ in range(seeds)]))

    return draw


# ============================================================================= weighted MP

_WMP_ID = "weighted_mp_discounted_covariance"
_WMP_STAT = "mean over seeds of W1(ESD/mean, law/mean)"


def _wmp_sizes(config, **extra):
    return {"p": config["p"], "batch": config["batch"], "steps": config["steps"], "r": config["r"],
            "seeds": config["seeds"], **extra}


def _wmp_prediction(config, name, law, spec, density, details) -> Prediction:
    crit = null_critical_value(spec, alpha=ALPHA, name="w1_critical_value")
    return Prediction(value=0.0, band=(0.0, crit.value), level=1.0 - ALPHA,
                      details={"hypothesis": name, "statistic": _WMP_STAT, **details},
                      thresholds=(crit,), law=law, density=density)


def _wmp_predict(config) -> Prediction:
    """The exact weighted MP law of C_t/n (weights r^(t-s), ratio p/(Bt)); null: Gaussian weighted covariances."""
    from ...laws.weighted_covariance import discounted
    from ..spectral import esd_distance, tabulated, weighted_covariance_eigenvalues

    p, b, t, r, seeds = config["p"], config["batch"], config["steps"], config["r"], config["seeds"]
    law = tabulated(discounted(p / (b * t), r, t, b))
    weights = np.repeat(r ** np.arange(t)[::-1], b)  # one weight per token

    def draw(g):
        return float(np.mean([esd_distance(weighted_covariance_eigenvalues(p, weights, rng=g), law, metric="w1",
                                           normalise=True) for _ in range(seeds)]))

    spec = NullSpec(_WMP_ID, "weighted MP", _WMP_STAT, _wmp_sizes(config), draw,
                    draws=config.get("null_draws", 300),
                    sampler="Gaussian X (p x Bt), eigenvalues of X diag(r^(t-s)) X^T / (Bt)")
    m1 = law.mean()
    lo, hi = law.support()
    return _wmp_prediction(
        config, "weighted MP (exact)", law, spec, lambda x: np.asarray(law.law.pdf(np.asarray(x) * m1)) * m1,
        {"law": f"WeightedCovarianceLaw(c = {p / (b * t):.4g}, weights r^k, k < {t}, r = {r})",
         "law_ratio_of_edges": hi / lo if lo > 0 else math.inf, "law_support_over_mean": [lo / m1, hi / m1],
         "cdf_tabulation_max_step": law.max_step})


def _wmp_mp_rival(config, name, n_samples, why) -> Prediction:
    from ...laws import MarchenkoPastur
    from ..spectral import tabulated

    p, seeds = config["p"], config["seeds"]
    n = max(int(round(n_samples)), 1)
    law = tabulated(MarchenkoPastur(p / n))
    spec = NullSpec(_WMP_ID, f"MP(p/{n})", _WMP_STAT, _wmp_sizes(config, n=n), _mp_seed_mean_w1(p, n, seeds, law),
                    draws=config.get("null_draws", 500), sampler=_DE + f", p x {n}")
    return _wmp_prediction(config, name, law, spec, law.pdf,
                           {"law": f"MP(c = p/n = {p}/{n} = {p / n:.4g})", "why": why})


def _wmp_kish(config):
    n = _kish_n(config["batch"], config["steps"], config["r"])
    return _wmp_mp_rival(config, "MP with Kish n_eff", n, f"n_eff = B(1+r)/(1-r)(1-r^t)/(1+r^t) = {n:.1f}")


def _wmp_heuristic(config):
    from ...theory import heuristic_mp

    h = heuristic_mp(config["p"], config["r"], config["steps"], config["batch"])
    n = config["batch"] * min(config["steps"], h.window)
    return _wmp_mp_rival(config, "paper's heuristic MP", n, f"c = p/(B min(t, T_eff)), T_eff = {h.window:g}")


def _wmp_flat(config):
    n = config["batch"] * config["steps"]
    return _wmp_mp_rival(config, "MP with c = p/(Bt)", n, "all Bt tokens counted equally (no discount)")


def _wmp_measure(config, rng) -> Measurement:
    from ..._rng import spawn
    from ...noise import simulate_sgd_noise

    p, b, t, r = config["p"], config["batch"], config["steps"], config["r"]
    lr, wd = _lr_wd(r)
    pooled, ratios = [], []
    for g in spawn(rng, config["seeds"]):
        sim = simulate_sgd_noise(p, 1, b, t, lr, wd, rng=g, record_weights=False)
        pooled.append(_normalised(sim.cov_eigenvalues[-1]))
        ratios.append(float(sim.cov_ratio[-1]))
    lo = min(float(e.min()) for e in pooled)
    hi = max(float(e.max()) for e in pooled)
    x = np.linspace(max(lo * 0.9, 1e-6), hi * 1.1, config.get("figure_points", 120))
    fig = FigureData(
        kind="esd_vs_density",
        title=f"Discounted covariance / mean (p={p}, B={b}, t={t}, r={r})",
        data={"eigenvalues": np.concatenate(pooled), "x": x, "label": f"weighted MP (c={p / (b * t):.3g}, r={r})"},
    )
    return Measurement(value=math.nan, se=None, n=len(pooled), raw=pooled, figures=(fig,),
                       details={"ratio_per_seed": ratios, "simulator": "simulate_sgd_noise, inputs of norm sqrt(p)"})


def _wmp_statistic(pred: Prediction, meas: Measurement) -> Measurement:
    from ..spectral import esd_distance

    w1s = [esd_distance(ev, pred.law, metric="w1", normalise=True) for ev in meas.raw]
    figs = meas.figures
    if pred.details["hypothesis"].startswith("weighted MP"):  # the claim's own density on its figure
        figs = tuple(FigureData(f.kind, f.title, {**f.data, "density": pred.density(np.asarray(f.data["x"]))})
                     for f in figs)
    m, se = mean_se(w1s)
    return Measurement(value=m, se=None, n=len(w1s), figures=figs,
                       details=dict(meas.details, w1_per_seed=w1s, se_over_seeds=se if len(w1s) > 1 else None))


# ============================================================================= heuristic

_HEUR_ID = "paper_heuristic_mp_ratio"
_HEUR_STAT = "mean over seeds of lambda_max/lambda_min (non-zero) of the covariance"


def _heur_windows(config, r):
    from ...theory import heuristic_mp

    h = heuristic_mp(config["p"], r, config["steps"], config["batch"])
    return {
        "paper's heuristic MP": config["batch"] * min(config["steps"], h.window),
        "MP with Kish n_eff": _kish_n(config["batch"], config["steps"], r),
        "MP with c = p/(Bt)": config["batch"] * config["steps"],
    }


def _heur_hypothesis(config, name) -> Prediction:
    """Per r, the MP(p/n) extreme ratio of the hypothesis and the Monte-Carlo central 95 % band of the mean over
    ``seeds`` independent ratios of p x n Wishart matrices (the model the hypothesis asserts)."""
    from ...ensembles import laguerre_eigenvalues
    from ...laws import MarchenkoPastur
    from ...noise import extreme_ratio

    p, seeds = config["p"], config["seeds"]
    cases, thresholds = {}, []
    for r in config["rs"]:
        n = max(int(round(_heur_windows(config, r)[name])), 1)

        def draw(g, n=n):
            return float(np.mean([extreme_ratio(laguerre_eigenvalues(p, n, rng=g)) for _ in range(seeds)]))

        spec = NullSpec(_HEUR_ID, f"MP(p/{n})", _HEUR_STAT, {"p": p, "n": n, "seeds": seeds}, draw,
                        draws=config.get("null_draws", 1000), sampler=_DE + f", p x {n}")
        band = null_band(spec, level=0.95, name=f"band_r={r}")
        thresholds.append(band)
        cases[str(r)] = {"c": p / n, "n": n, "mp_ratio": MarchenkoPastur(p / n).extreme_ratio(),
                         "band": list(band.value)}
    head = cases[str(config["headline_r"])]
    return Prediction(value=head["mp_ratio"], band=tuple(head["band"]), details={"hypothesis": name, "cases": cases},
                      thresholds=tuple(thresholds))


def _heur_measure(config, rng) -> Measurement:
    from ..._rng import spawn
    from ...noise import simulate_sgd_noise

    p, b, t = config["p"], config["batch"], config["steps"]
    cases = {}
    for r, gens in zip(config["rs"], [spawn(rng, config["seeds"]) for _ in config["rs"]]):
        lr, wd = _lr_wd(r)
        vals = [float(simulate_sgd_noise(p, 1, b, t, lr, wd, rng=g, record_weights=False).cov_ratio[-1]) for g in gens]
        m, se = mean_se(vals)
        cases[str(r)] = {"mean": m, "se_over_seeds": se, "values": vals}
    head = cases[str(config["headline_r"])]
    return Measurement(value=head["mean"], se=None, n=config["seeds"], details={"cases": cases})


def _heur_compare(pred: Prediction, meas: Measurement) -> Verdict:
    """Each r: the seed-mean ratio against the hypothesis' Monte-Carlo band of the seed mean; any fail fails."""
    parts, statuses = [], []
    for r, pc in pred.details["cases"].items():
        mc = meas.details["cases"][r]
        v = within_band(Prediction(pc["mp_ratio"], tuple(pc["band"])), Measurement(mc["mean"], None, meas.n))
        statuses.append(v.status)
        parts.append(f"r={r}: MP({pc['c']:.3g}) ratio {pc['mp_ratio']:.3g}, seed-mean band "
                     f"[{pc['band'][0]:.3g}, {pc['band'][1]:.3g}], measured {mc['mean']:.3g} -> {v.status}")
    status = "fail" if "fail" in statuses else ("pass" if all(s == "pass" for s in statuses) else "inconclusive")
    return Verdict(status, "; ".join(parts), alpha=1 - (1 - ALPHA) ** len(statuses))


# ============================================================================= weight update

_WU_ID = "weight_update_spectrum"
_WU_STAT = "KS distance of the seed-pooled ESD/mean of dW dW^T to law/mean"


def _quantiles_of(law, k, grid=4000):
    """``k`` mid-point quantiles ``F^{-1}((i - 1/2)/k)`` by inverting the cdf on a grid."""
    lo, hi = law.support()
    x = np.linspace(lo, hi, grid)
    f = np.maximum.accumulate(np.asarray(law.cdf(x), dtype=float))
    q = (np.arange(k) + 0.5) / k
    return np.interp(q, f, x)


def _update_law(p, d_out, batch, steps, r):
    """Exact law of ΔW ΔWᵀ (up to scale) for W0 = 0, isotropic g: the two-level weighted MP law.

    ΔW = -(lr/B) Gᵀ D X̂; rotating G, ΔWΔWᵀ ∝ Z diag(μ) Zᵀ with Z (d_out × p) iid and μ the
    eigenvalues of X̂ᵀ D² X̂ (discount r²). μ is replaced by the p mid-point quantiles of
    its weighted-MP law (deterministic equivalent, O(1/p)); the outer law is then
    WeightedCovarianceLaw(d_out/p, μ).
    """
    from ...laws.weighted_covariance import WeightedCovarianceLaw, discounted

    inner = discounted(p / (batch * steps), r * r, steps, batch)
    mu = _quantiles_of(inner, p)
    return WeightedCovarianceLaw(d_out / p, mu / mu.mean())


def _one_level_weights(p, steps, r):
    """The p mid-point quantiles of the discount weights r^(2k), k < t, normalised to mean 1."""
    w = np.sort(r ** (2.0 * np.arange(steps)))
    q = w[np.minimum((np.arange(p) + 0.5) / p * steps, steps - 1).astype(int)]
    return q / q.mean()


def _wu_shapes(config):
    p = config["p"]
    return {"rectangular": p // config["rect_factor"], "square": p}


def _wu_hypothesis(config, name, laws, samplers, sampler_desc) -> Prediction:
    """Per part (rectangular, square): KS critical value at level ALPHA/2 (Bonferroni over the two parts)."""
    from ..spectral import esd_distance, tabulated

    p, seeds = config["p"], config["seeds"]
    crits, tab = {}, {}
    for part, d in _wu_shapes(config).items():
        law = tabulated(laws[part], points=4096)
        tab[part] = law

        def draw(g, part=part, law=law):
            eigs = np.concatenate([_normalised(samplers[part](g)) for _ in range(seeds)])
            return esd_distance(eigs, law, normalise=True)

        sizes = {"p": p, "d_out": d, "batch": config["batch"], "steps": config["steps"], "r": config["r"],
                 "seeds": seeds}
        spec = NullSpec(_WU_ID, f"{name} ({part})", _WU_STAT, sizes, draw, draws=config.get("null_draws", 500),
                        sampler=sampler_desc[part])
        crits[part] = null_critical_value(spec, alpha=ALPHA / 2, name=f"ks_critical_value_{part}")
    rect = tab["rectangular"]
    m1 = rect.mean()
    return Prediction(
        value=0.0,
        band=(0.0, 1.0),
        level=1.0 - ALPHA,
        details={"hypothesis": name, "statistic": "max over parts of KS / its critical value (each at level "
                 f"{ALPHA / 2:g}, Bonferroni)", "critical_values": {k: c.value for k, c in crits.items()},
                 "laws": {k: repr(v.law) for k, v in tab.items()}},
        thresholds=tuple(crits.values()),
        law=tab,
        # the figure shows the rectangular part, eigenvalues / mean
        density=lambda x: np.asarray(rect.law.pdf(np.asarray(x) * m1)) * m1,
    )


def _wu_predict(config) -> Prediction:
    """The two-level law; null: ΔW = Gᵀ D X with Gaussian G (Bt x d_out) and X (Bt x p), D = diag(r^(t-s))."""
    p, b, t, r = config["p"], config["batch"], config["steps"], config["r"]
    shapes = _wu_shapes(config)
    laws = {part: _update_law(p, d, b, t, r) for part, d in shapes.items()}
    w = np.repeat(r ** np.arange(t)[::-1], b)

    def sampler(d):
        def draw(g):
            x = g.standard_normal((w.size, p))
            gg = g.standard_normal((w.size, d))
            dw = (gg * w[:, None]).T @ x
            return np.linalg.svd(dw, compute_uv=False) ** 2
        return draw

    return _wu_hypothesis(config, "two-level weighted MP", laws, {k: sampler(d) for k, d in shapes.items()},
                          {k: f"Gaussian G ({b * t} x {d}), X ({b * t} x {p}), squared singular values of "
                           "G^T diag(r^(t-s)) X" for k, d in shapes.items()})


def _wu_iid(config):
    from ...ensembles import laguerre_eigenvalues
    from ...laws import MarchenkoPastur

    p = config["p"]
    shapes = _wu_shapes(config)
    laws = {k: MarchenkoPastur(d / p) for k, d in shapes.items()}
    samplers = {k: (lambda g, d=d: laguerre_eigenvalues(d, p, rng=g)) for k, d in shapes.items()}
    return _wu_hypothesis(config, "iid Gaussian (plain MP)", laws, samplers,
                          {k: _DE + f", {d} x {p}" for k, d in shapes.items()})


def _wu_one_level(config):
    """The one-level weighted law: WeightedCovarianceLaw(d_out/p, w) with w the p mid-point quantiles of the
    discount weights r^(2k), k < t - the inputs' own sample-covariance level ignored."""
    from ...laws.weighted_covariance import WeightedCovarianceLaw
    from ..spectral import weighted_covariance_eigenvalues

    p, t, r = config["p"], config["steps"], config["r"]
    shapes = _wu_shapes(config)
    w = _one_level_weights(p, t, r)
    laws = {k: WeightedCovarianceLaw(d / p, w) for k, d in shapes.items()}
    samplers = {k: (lambda g, d=d: weighted_covariance_eigenvalues(d, w, rng=g)) for k, d in shapes.items()}
    return _wu_hypothesis(config, "one-level weighted law", laws, samplers,
                          {k: f"Gaussian Z ({d} x {p}), eigenvalues of Z diag(w) Z^T / {p}" for k, d in shapes.items()})


def _wu_measure(config, rng) -> Measurement:
    from ..._rng import spawn
    from ...noise import simulate_sgd_noise

    p, b, t, r = config["p"], config["batch"], config["steps"], config["r"]
    lr, wd = _lr_wd(r)
    raw, ratios = {}, {}
    for part, d in _wu_shapes(config).items():
        eigs = [simulate_sgd_noise(p, d, b, t, lr, wd, rng=g).weight_sv2[-1] for g in spawn(rng, config["seeds"])]
        raw[part] = np.concatenate([_normalised(e) for e in eigs])
        ratios[part] = [float(e.max() / e.min()) if e.min() > 0 else math.inf for e in eigs]
    eps = config.get("hard_edge_eps", 0.01)
    d = _wu_shapes(config)["rectangular"]
    x = np.linspace(0.0, float(raw["rectangular"].max()) * 1.15, 160)[1:]
    fig = FigureData(kind="esd_vs_density", title=f"Rectangular weight update / mean ({d}x{p}, t={t}, r={r})",
                     data={"eigenvalues": raw["rectangular"], "x": x, "label": "two-level weighted MP"})
    return Measurement(value=math.nan, se=None, n=config["seeds"], raw=raw, figures=(fig,), details={
        "rectangular_ratios": ratios["rectangular"], "square_median_ratio": float(np.median(ratios["square"])),
        "square_fraction_below_eps_mean": float(np.mean(raw["square"] < eps)), "hard_edge_eps": eps})


def _wu_statistic(pred: Prediction, meas: Measurement) -> Measurement:
    from ..spectral import esd_distance

    ks = {part: esd_distance(meas.raw[part], law, normalise=True) for part, law in pred.law.items()}
    crit = pred.details["critical_values"]
    ratio = {part: ks[part] / crit[part] for part in ks}
    details = dict(meas.details, ks=ks, ks_over_critical_value=ratio)
    sq = pred.law["square"]
    details["law_square_fraction_below_eps_mean"] = float(sq.cdf(meas.details["hard_edge_eps"] * sq.mean()))
    figs = meas.figures
    if pred.details["hypothesis"] == "two-level weighted MP":  # the claim's own density on its figure
        figs = tuple(FigureData(f.kind, f.title, {**f.data, "density": pred.density(np.asarray(f.data["x"]))})
                     for f in figs)
    return Measurement(value=max(ratio.values()), se=None, n=meas.n, details=details, figures=figs)


def _wu_compare(pred: Prediction, meas: Measurement) -> Verdict:
    v = within_band(pred, meas)
    parts = ", ".join(f"{k}: KS {meas.details['ks'][k]:.4g} vs critical value {c:.4g}"
                      for k, c in pred.details["critical_values"].items())
    return Verdict(v.status, f"{parts} (max ratio {meas.value:.3g}, pass if <= 1)", pred.thresholds, ALPHA)


# ============================================================================= info + noise

_IPN_ID = "info_plus_noise_concentration"
_IPN_STAT = "KS distance of the seed-pooled ESD/mean of W W^T to law/mean"


def _ipn_setup(config):
    p, d_out, b, t, r = config["p"], config["d_out"], config["batch"], config["steps"], config["r"]
    lr, wd = _lr_wd(r, config.get("lr", 0.1))
    gen = np.random.default_rng(config.get("w0_seed", 7))
    u, _ = np.linalg.qr(gen.standard_normal((d_out, d_out)))
    v, _ = np.linalg.qr(gen.standard_normal((p, d_out)))
    s = config["w0_scale"] * np.linspace(1.0, 2.0, d_out)
    w0 = (u * s) @ v.T
    noise_var = lr * lr / b * (1 - r ** (2 * t)) / (1 - r * r)
    rt = r**t
    r_eigs = (rt * s) ** 2 / p  # eigenvalues of R Rᵀ / n with R = r^t W0, n = p columns
    return w0, lr, wd, noise_var, r_eigs


def _ipn_spec(config, name, law, draw, sampler):
    sizes = {k: config[k] for k in ("p", "d_out", "batch", "steps", "r", "w0_scale", "seeds")}
    sizes["w0_seed"] = config.get("w0_seed", 7)
    return NullSpec(_IPN_ID, name, _IPN_STAT, sizes, draw, draws=config.get("null_draws", 1000), sampler=sampler)


def _ipn_pooled_draw(config, law, one):
    from ..spectral import esd_distance

    def draw(g):
        eigs = np.concatenate([_normalised(one(g)) for _ in range(config["seeds"])])
        return esd_distance(eigs, law, normalise=True)

    return draw


def _ipn_prediction(config, name, law, crit, density, details) -> Prediction:
    return Prediction(value=0.0, band=(0.0, crit.value), level=1.0 - ALPHA,
                      details={"hypothesis": name, "statistic": _IPN_STAT, **details}, thresholds=(crit,), law=law,
                      density=density)


def _ipn_predict(config) -> Prediction:
    """The information-plus-noise law of (R + σX)(R + σX)ᵀ/p, R = r^t W0; null: R + σ·Gaussian."""
    from ...laws import InformationPlusNoiseLaw
    from ..spectral import tabulated

    w0, _, _, noise_var, r_eigs = _ipn_setup(config)
    p, t, r = config["p"], config["steps"], config["r"]
    law = tabulated(InformationPlusNoiseLaw(r_eigs, config["d_out"] / p, noise_var), points=4096)
    R = r**t * w0
    sd = math.sqrt(noise_var)

    def one(g):
        w = R + sd * g.standard_normal(R.shape)
        return np.linalg.svd(w, compute_uv=False) ** 2 / p

    spec = _ipn_spec(config, "information-plus-noise", law, _ipn_pooled_draw(config, law, one),
                     f"R + sigma X, X Gaussian ({config['d_out']} x {p}), sigma^2 = {noise_var:.4g}")
    crit = null_critical_value(spec, alpha=ALPHA, name="ks_critical_value")
    m1 = law.mean()
    lo, hi = law.support()
    return _ipn_prediction(config, "information-plus-noise", law, crit,
                           lambda x: np.asarray(law.law.pdf(np.asarray(x) * m1)) * m1,
                           {"noise_var": noise_var, "r_eigs_range": [float(r_eigs.min()), float(r_eigs.max())],
                            "w0_ratio": float(r_eigs.max() / r_eigs.min()), "law_ratio_of_edges": hi / lo,
                            "cdf_tabulation_max_step": law.max_step})


def _ipn_w0_alone(config) -> Prediction:
    _, _, _, _, r_eigs = _ipn_setup(config)
    crit = critical_value("ks_critical_value", 0.0, "W0 alone is deterministic: its spectrum is the atoms "
                          "(r^t s_i)^2/p, so the distance of its own model to it is exactly 0")
    return _ipn_prediction(config, "W0 alone", np.asarray(r_eigs), crit, None,
                           {"law": "the atoms of r^(2t) W0 W0^T / p (no noise)"})


def _ipn_pure_noise(config) -> Prediction:
    from ...ensembles import laguerre_eigenvalues
    from ...laws import MarchenkoPastur

    p, d = config["p"], config["d_out"]
    law = MarchenkoPastur(d / p)
    spec = _ipn_spec(config, "pure noise", law, _ipn_pooled_draw(config, law, lambda g: laguerre_eigenvalues(d, p, rng=g)),
                     _DE + f", {d} x {p}")
    crit = null_critical_value(spec, alpha=ALPHA, name="ks_critical_value")
    return _ipn_prediction(config, "pure noise (MP)", law, crit, law.pdf, {"law": f"MP(c = {d / p:g})"})


def _ipn_measure(config, rng) -> Measurement:
    from ..._rng import spawn
    from ...noise import simulate_sgd_noise

    w0, lr, wd, _, _ = _ipn_setup(config)
    p = config["p"]
    eigs, ratios = [], []
    for g in spawn(rng, config["seeds"]):
        sv2 = simulate_sgd_noise(p, config["d_out"], config["batch"], config["steps"], lr, wd, w0=w0, rng=g).weight_sv2[-1]
        eigs.append(_normalised(sv2 / p))
        ratios.append(float(sv2.max() / sv2.min()))
    pooled = np.concatenate(eigs)
    x = np.linspace(float(pooled.min()) * 0.8, float(pooled.max()) * 1.15, 200)
    fig = FigureData(kind="esd_vs_density",
                     title=f"W0 + accumulated SGD noise / mean ({config['d_out']}x{p}, t={config['steps']})",
                     data={"eigenvalues": pooled, "x": x, "label": "information-plus-noise"})
    return Measurement(value=math.nan, se=None, n=config["seeds"], raw=pooled, figures=(fig,),
                       details={"ratios": ratios, "mean_ratio": float(np.mean(ratios))})


def _ipn_statistic(pred: Prediction, meas: Measurement) -> Measurement:
    from ..spectral import esd_distance

    figs = meas.figures
    if pred.details["hypothesis"] == "information-plus-noise":
        figs = tuple(FigureData(f.kind, f.title, {**f.data, "density": pred.density(np.asarray(f.data["x"]))})
                     for f in figs)
    return Measurement(esd_distance(meas.raw, pred.law, normalise=True), None, meas.n, dict(meas.details),
                       figures=figs)


CLAIMS = [
    Claim(
        id=_WMP_ID,
        statement="The discounted input covariance sum_s r^(t-s) X_s^T X_s follows the weighted (generalised) MP law, "
        "and not MP with the Kish effective sample size, the paper's heuristic MP or MP without the discount "
        "(Wasserstein-1 of ESD/mean within its Monte-Carlo critical value).",
        source="Silverstein & Bai 1995; docs/science.md §5",
        predict=_wmp_predict,
        measure=_wmp_measure,
        compare=within_band,
        statistic=_wmp_statistic,
        rivals=[
            Rival("MP with Kish n_eff", _wmp_kish, "plain MP with the Kish effective sample size B(1+r)/(1-r)"),
            Rival("paper's heuristic MP", _wmp_heuristic, "MP(p/(B min(t, T_eff))), arXiv 2309.03004"),
            Rival("MP with c = p/(Bt)", _wmp_flat, "plain MP of all Bt tokens, no discount"),
        ],
        profiles={
            "smoke": {"p": 48, "batch": 4, "steps": 200, "r": 0.99, "seeds": 2, "figure_points": 40},
            "quick": {"p": 128, "batch": 4, "steps": 2000, "r": 0.99, "seeds": 3},
            "full": {"p": 256, "batch": 8, "steps": 4000, "r": 0.995, "seeds": 4, "null_draws": 100},
        },
        kind="theorem",
    ),
    Claim(
        id=_HEUR_ID,
        statement="The paper's heuristic MP(c = p/(B min(t, T_eff))) predicts the eigenvalue ratio of the discounted "
        "covariance, for r in {0.9, 0.99, 0.999} (rivals: MP with the Kish n_eff, MP with c = p/(Bt)).",
        source="Peng et al., arXiv 2309.03004 (Theorem 8 in its code); docs/science.md §5",
        predict=lambda cfg: _heur_hypothesis(cfg, "paper's heuristic MP"),
        measure=_heur_measure,
        compare=_heur_compare,
        rivals=[
            Rival("MP with Kish n_eff", lambda cfg: _heur_hypothesis(cfg, "MP with Kish n_eff"),
                  "plain MP with the Kish effective sample size"),
            Rival("MP with c = p/(Bt)", lambda cfg: _heur_hypothesis(cfg, "MP with c = p/(Bt)"),
                  "plain MP of all Bt tokens, no discount"),
        ],
        profiles={
            "smoke": {"p": 24, "batch": 1, "steps": 600, "rs": [0.9, 0.99, 0.999], "headline_r": 0.99, "seeds": 2},
            "quick": {"p": 100, "batch": 1, "steps": 3000, "rs": [0.9, 0.99, 0.999], "headline_r": 0.99, "seeds": 4},
            "full": {"p": 100, "batch": 1, "steps": 3000, "rs": [0.9, 0.99, 0.999], "headline_r": 0.99, "seeds": 16},
        },
        kind="heuristic",
    ),
    Claim(
        id=_WU_ID,
        statement="From W0 = 0 the weight update follows the two-level weighted-MP law, rectangular (concentrated) "
        "and square (hard edge), and not plain MP (an iid Gaussian of the same shape) or the one-level weighted law.",
        source="docs/science.md §5; Silverstein & Bai 1995",
        predict=_wu_predict,
        measure=_wu_measure,
        compare=_wu_compare,
        statistic=_wu_statistic,
        rivals=[
            Rival("iid Gaussian (plain MP)", _wu_iid, "an iid Gaussian matrix of the same shape"),
            Rival("one-level weighted law", _wu_one_level,
                  "the discount weights r^(2k) alone, without the inputs' sample-covariance level"),
        ],
        profiles={
            "smoke": {"p": 32, "batch": 4, "steps": 150, "r": 0.99, "rect_factor": 4, "seeds": 2, "hard_edge_eps": 0.01},
            "quick": {"p": 128, "batch": 4, "steps": 1000, "r": 0.99, "rect_factor": 4, "seeds": 4,
                      "hard_edge_eps": 0.01},
            "full": {"p": 256, "batch": 8, "steps": 2000, "r": 0.99, "rect_factor": 4, "seeds": 8, "hard_edge_eps": 0.01,
                     "null_draws": 100},
        },
        kind="theorem",
    ),
    Claim(
        id=_IPN_ID,
        statement="W0 plus accumulated SGD noise follows the information-plus-noise law (spectrum of W W^T), "
        "not W0 alone and not pure noise.",
        source="Dozier & Silverstein 2007; docs/science.md §4",
        predict=_ipn_predict,
        measure=_ipn_measure,
        compare=within_band,
        statistic=_ipn_statistic,
        rivals=[
            Rival("W0 alone", _ipn_w0_alone, "the information without the accumulated noise"),
            Rival("pure noise (MP)", _ipn_pure_noise, "the accumulated noise without the information"),
        ],
        profiles={
            "smoke": {"p": 32, "d_out": 16, "batch": 4, "steps": 100, "r": 0.99, "w0_scale": 10.0, "seeds": 2},
            "quick": {"p": 128, "d_out": 64, "batch": 4, "steps": 100, "r": 0.99, "w0_scale": 10.0, "seeds": 4},
            "full": {"p": 256, "d_out": 128, "batch": 8, "steps": 100, "r": 0.99, "w0_scale": 10.0, "seeds": 8},
        },
        kind="theorem",
    ),
]
