r"""Claims about trained networks: key-matrix spectra, the sparsing law, pruning tolerance.

* ``trained_key_concentration`` - the spectral concentration
  :math:`\lambda_{\max}/\lambda_{\min}^{\ne 0}` of :math:`KK^\top` (paper convention: cut
  0.1 × the mean over *all* eigenvalues, as in the paper's code) of the key matrices
  :math:`K` (d_ff × d, d_ff = 4d) of a trained LayerNorm FFN stack, against the
  predicted 95 % band for a Gaussian matrix of the same shape
  (:func:`rmt_sparsity.spectra.concentration_vs_random`: Johnstone/Ma
  Tracy-Widom edges, limit :math:`((1+\sqrt c)/(1-\sqrt c))^2 = 9` with
  :math:`c = d/d_{ff} = 1/4` after transposing), with the same matrices at
  initialisation as the control. **What is predicted:** RMT gives the band
  only for the Gaussian matrix at initialisation; the theory (arXiv 2309.03004)
  needs the concentration to stay moderate (not blow up) during training, it does
  not predict that trained K stays Gaussian. The registered statement is tested
  literally: the fraction of trained key matrices inside their random band is
  compared with the binomial band of that fraction under the null (0.95 per
  matrix); the ratio to initialisation and which edge moved are reported beside it.
* ``sparsing_law_fit`` - the activation ratio :math:`A = 1 - \text{zero fraction}`
  recorded every ``eval_every`` steps follows the ReLU sparsing law
  :math:`A(D) = \exp(-cD^\alpha + b) + A_0` (arXiv 2411.02335) in the training
  amount :math:`D` (thousands of examples seen), judged by :math:`R^2` and by AIC
  against a constant and a pure power law :math:`A = kD^{-\beta}`.
* ``noise_tolerates_pruning`` - nets trained with weight noise keep a larger
  essential sparsity (largest one-shot global magnitude-pruning sparsity whose
  test-accuracy drop stays within :math:`\delta`, arXiv 2306.03805) than
  paired-seed nets trained without it.

The training setup is :mod:`rmt_sparsity.experiments.training` (as in the nn claims):
digits, MSE, AdamW lr 3e-3, batch 128, relative weight noise σ = 0.1 at the
gradient point, paired seeds (same initialisation and minibatch stream in both
arms) and the paired Student-t rule (:func:`~rmt_sparsity.experiments.claims.paired_effect`).
The sparsing-law analysis is :mod:`rmt_sparsity.experiments.sparsing_law`. Heavy
imports happen inside ``measure``.

Notes
-----
Verdicts depend on the training window; measured with run seed 0 when the claims
were written (recorded here so that a reader does not mistake a window for a law):

* ``trained_key_concentration``: quick (32-wide, 400 steps) ``pass``, all 6 trained
  ratios in the band but λ_max already up ×1.15; full (64-wide, 3000 steps) ``fail``,
  all 10 above the band (ratios 11.6-15.8 against [7.2, 9.5]; ×1.6 over init, almost
  all from λ_max ×1.7, λ_min ×1.07): training grows the top of the spectrum, the
  concentration stays moderate (does not blow up) but leaves the random band.
* ``sparsing_law_fit``: 400 steps ``fail`` (R² 0.59: the fast initial drop and small
  rebound of the first ~100 steps dominate), 800 and 1500 (quick) ``pass``, 6000
  (full) ``inconclusive`` (good fit but fitted A0 < 0: no plateau within the window).
* ``noise_tolerates_pruning``: quick (400 steps, 3 seeds) ``inconclusive``, essential
  sparsity 0.207 -> 0.213 (+0.007 ± 0.02; the noise nets degrade more gracefully past
  the knee, 0.45 -> 0.49, but not before it); full (3000 steps, 5 seeds) ``pass``,
  0.28 -> 0.69 (+0.40 ± 0.045) at equal dense accuracy (0.985 vs 0.983).
"""

from __future__ import annotations

import math

import numpy as np

from ..._stats import mean_se, t_multiplier
from ..claims import Claim, FigureData, Measurement, Prediction, Verdict, coverage_prediction, paired_effect, within_band
from ..sparsing_law import DELTA_AIC, activation_trajectory, sparsing_analysis, sparsing_verdict
from ..training import TRAIN_PROFILES, digits_model, digits_setup, seed_mean_se, train_digits

__all__ = ["CLAIMS"]

SOURCE_CONC = "Peng, Qi, Shi, Gao, arXiv 2309.03004; Johnstone 2001 (math/0102013); Ma 2012; docs/science.md §5"
SOURCE_SPARSING = "Luo et al., 'Sparsing Law', arXiv 2411.02335"
SOURCE_PRUNING = "Jaiswal et al., 'Essential sparsity', arXiv 2306.03805; Peng et al., arXiv 2309.03004"

# ============================================================================= 1. trained key concentration


def _conc_predict(config) -> Prediction:
    from ...laws import MarchenkoPastur, edge_band

    d, d_ff = config["width"], 4 * config["width"]
    m = config["seeds"] * config["depth"]
    eb = edge_band(d_ff, d, 1, "ratio", 0.95)
    c = d / d_ff
    return coverage_prediction(
        m,
        0.95,
        {
            "statistic": f"fraction of the {m} trained key matrices K ({d_ff}x{d}; {config['depth']} layers x "
            f"{config['seeds']} seeds) whose concentration lies in the 95% band of a Gaussian {d_ff}x{d} matrix",
            "null": "each matrix is in its band with probability 0.95, independently (a Gaussian K): "
            "the fraction's central 95% band is Binomial(m, 0.95)/m",
            "single_matrix_band": list(eb.band),
            "single_matrix_band_method": eb.method,
            "single_matrix_null_median": eb.median,
            "limit": MarchenkoPastur(c).extreme_ratio(),
            "limit_formula": "((1+sqrt c)/(1-sqrt c))^2, c = d/d_ff (non-zero eigenvalues of K K^T = those of K^T K)",
            "convention": "lambda_max/lambda_min(non-zero) of K K^T, eigenvalues below 0.1 x mean over all d_ff "
            "eigenvalues (structural zeros included; paper code) count as zero; mean_nonzero reported beside it",
            "what_is_predicted": "RMT predicts the band for the Gaussian K at initialisation only; the theory "
            "(arXiv 2309.03004) needs the concentration to stay moderate during training, not that trained K "
            "stays Gaussian. The statement is tested literally; ratio to init is reported.",
        },
    )


def _conc_measure(config, rng) -> Measurement:
    import jax

    from ...spectra import concentration_vs_random, spectral_concentration

    key, ds = digits_setup(rng)
    model = digits_model(config, variant="ffn", d_ff=4 * config["width"])
    names = model.layer_names
    per = {n: {k: [] for k in ("init", "trained", "trained_mean_nonzero", "trained_p_value", "trained_in_band",
                               "init_in_band", "lambda_max_ratio", "lambda_min_ratio", "curve")} for n in names}
    acc, steps_axis, null = [], None, {}
    for s in range(config["seeds"]):
        k_init, k_train = jax.random.split(jax.random.fold_in(key, s))
        p0 = model.init(key=k_init)
        res = train_digits(model, ds, config, k_train, sigma=None, params=p0)
        acc.append(float(res.history["test_accuracy"][-1]))
        steps_axis = res.history["step"].tolist()
        for n in names:
            k0, k1 = np.asarray(p0[n]["w"], np.float64), np.asarray(res.params[n]["w"], np.float64)
            test = concentration_vs_random(k1, 0.95, zero_tol=0.1, relative_to="mean_all", rng=rng)
            null.setdefault("band", test.band)
            null.setdefault("method", test.method)
            null.setdefault("median", test.median)
            null.setdefault("limit", test.limit)
            c0 = spectral_concentration(k0, 0.1, "mean_all")
            lo, hi = test.band
            r = per[n]
            r["init"].append(c0.ratio)
            r["init_in_band"].append(bool(lo <= c0.ratio <= hi))
            r["trained"].append(test.observed.ratio)
            r["trained_in_band"].append(test.in_band)
            r["trained_p_value"].append(test.p_value)
            r["trained_mean_nonzero"].append(spectral_concentration(k1, 0.1, "mean_nonzero").ratio)
            r["lambda_max_ratio"].append(test.observed.lambda_max / c0.lambda_max)
            r["lambda_min_ratio"].append(test.observed.lambda_min / c0.lambda_min)
            r["curve"].append(np.asarray(res.history[f"{n}.concentration"], float).tolist())
    m = len(names) * config["seeds"]
    trained = np.array([v for n in names for v in per[n]["trained"]])
    init = np.array([v for n in names for v in per[n]["init"]])
    frac = float(np.mean([v for n in names for v in per[n]["trained_in_band"]]))
    frac0 = float(np.mean([v for n in names for v in per[n]["init_in_band"]]))
    lo, hi = null["band"]
    above, below = int(np.sum(trained > hi)), int(np.sum(trained < lo))
    growth = trained / init
    lmax_r = np.array([v for n in names for v in per[n]["lambda_max_ratio"]])
    lmin_r = np.array([v for n in names for v in per[n]["lambda_min_ratio"]])
    summary = (f"trained ratios {trained.min():.3g}..{trained.max():.3g} (mean {trained.mean():.3g}; "
               f"{above} above, {below} below the random band [{lo:.3g}, {hi:.3g}], null median {null['median']:.3g}); "
               f"init {init.min():.3g}..{init.max():.3g}, {frac0:.0%} in band; trained/init {growth.mean():.3g} "
               f"(lambda_max x{lmax_r.mean():.3g}, lambda_min x{lmin_r.mean():.3g}); test accuracy {np.mean(acc):.3f}")
    bands = {n: seed_mean_se(per[n]["curve"]) for n in names}
    fig_lines = FigureData(
        kind="lines",
        title=f"Key-matrix concentration over training ({4 * config['width']}x{config['width']} FFN keys, digits)",
        data={
            "x": steps_axis,
            "series": {n: bands[n][0] for n in names},
            "errors": {n: bands[n][1] for n in names},
            "hlines": {"random 95% band (lower)": lo, "random 95% band (upper)": hi,
                       "MP limit 9 (c = 1/4)": null["limit"]},
            "xlabel": "step",
            "ylabel": "λmax/λmin of KKᵀ (cut 0.1 × mean_all)",
        },
    )
    labels, vals, errs = [], [], []
    for n in names:
        for stage in ("init", "trained"):
            mu, se = mean_se(per[n][stage])
            labels.append(f"{n} {stage}")
            vals.append(mu)
            errs.append(se if math.isfinite(se) else 0.0)
    fig_bars = FigureData(kind="bars", title="Key-matrix concentration: initialisation vs trained (mean ± SE over seeds)",
                          data={"labels": labels, "values": vals, "errors": errs,
                                "ylabel": "λmax/λmin of KKᵀ (cut 0.1 × mean_all)"})
    return Measurement(
        value=frac,
        se=None,
        n=m,
        details={
            "summary": summary,
            "statistic": "fraction of trained key matrices inside their random 95% band (mean_all cut)",
            "random_band": list(null["band"]),
            "band_method": null["method"],
            "null_median": null["median"],
            "init_fraction_in_band": frac0,
            "trained_above_band": above,
            "trained_below_band": below,
            "trained_over_init_mean": float(growth.mean()),
            "lambda_max_trained_over_init_mean": float(lmax_r.mean()),
            "lambda_min_trained_over_init_mean": float(lmin_r.mean()),
            "per_layer": {n: {k: v for k, v in per[n].items() if k != "curve"} for n in names},
            "test_accuracy": acc,
            "settings": {"model": f"FFN stack, d_model {config['width']}, d_ff {4 * config['width']}, depth "
                         f"{config['depth']}, ReLU, affine pre-LayerNorm", "data": "digits", "loss": config["loss"],
                         "optimizer": config["optimizer"], "lr": config["lr"], "steps": config["steps"],
                         "batch_size": config["batch_size"], "seeds": config["seeds"], "weight_noise": None,
                         "over_training_curve": "nn probes (key_matrix_spectra = spectra.spectral_concentration, same convention)"},
        },
        figures=(fig_lines, fig_bars),
    )


def _conc_compare(pred: Prediction, meas: Measurement) -> Verdict:
    v = within_band(pred, meas)
    return Verdict(v.status, f"{v.reason}; {meas.details.get('summary', '')}")


# ============================================================================= 2. sparsing-law fit


def _sl_predict(config) -> Prediction:
    return Prediction(
        value=float("nan"),
        band=(config["r2_min"], 1.0),
        details={
            "statistic": "R^2 of the ReLU sparsing law A(D) = exp(-c D^alpha + b) + A0 fitted to the seed-mean "
            "activation ratio (1 - zero fraction, mean over key layers) against D = examples seen / 1000 (step 0 dropped)",
            "alternatives": "constant (1 parameter) and pure power law A = k D^-beta (2 parameters), by Gaussian AIC",
            "rule": f"inconclusive if the constant is within dAIC {DELTA_AIC:g} of the law (no trend); fail if the "
            f"fitted law rises, or R^2 < {config['r2_min']}, or the power law is better by {DELTA_AIC:g}; "
            f"inconclusive if A0 is outside [0, 1] (limit not identified); pass if the law beats the power law by "
            f"{DELTA_AIC:g}; else inconclusive",
            "caveat": "residuals of a training trajectory are autocorrelated, so AIC differences and the Wald/profile "
            "intervals are optimistic; hence the strict dAIC threshold",
        },
    )


def _sl_measure(config, rng) -> Measurement:
    import jax

    key, ds = digits_setup(rng)
    model = digits_model(config, activation="relu")
    trajs, acc, per_seed = [], [], []
    steps = D = None
    for s in range(config["seeds"]):
        res = train_digits(model, ds, config, jax.random.fold_in(key, s), sigma=config["sigma"])
        steps, D, A = activation_trajectory(res.history, model.layer_names, config["batch_size"])
        trajs.append(A)
        acc.append(float(res.history["test_accuracy"][-1]))
        if config["seeds"] > 1:
            a = sparsing_analysis(D[1:], A[1:], a0_method="wald")
            per_seed.append({"r2": a["law"]["r2"], "a0": a["law"]["a0"], "alpha": a["law"]["alpha"],
                             "verdict": sparsing_verdict(a, r2_min=config["r2_min"])[0]})
    A = np.mean(trajs, axis=0)
    an = sparsing_analysis(D[1:], A[1:])
    status, reason = sparsing_verdict(an, r2_min=config["r2_min"])
    series = {"measured": A[1:].tolist(), "fit": an["law_curve"]}
    if an["power_law_curve"] is not None:
        series["pure power law"] = an["power_law_curve"]
    fig = FigureData(
        kind="lines",
        title="Activation ratio over training and the ReLU sparsing-law fit (digits, 2-layer ReLU MLP)",
        data={"x": D[1:].tolist(), "series": series, "xlabel": "D = examples seen / 1000",
              "ylabel": "activation ratio (1 - zero fraction)"},
    )
    return Measurement(
        value=an["law"]["r2"],
        se=None,
        n=int(D.size - 1),
        details={
            "summary": reason,
            "rule_status": status,
            "analysis": {k: v for k, v in an.items() if not k.endswith("_curve")},
            "trajectory": {"step": steps.tolist(), "D": D.tolist(), "activation_ratio": A.tolist()},
            "per_seed": per_seed,
            "test_accuracy": acc,
            "settings": {"model": f"ReLU MLP {config['depth']}x{config['width']}, affine pre-LayerNorm", "data": "digits",
                         "loss": config["loss"], "optimizer": config["optimizer"], "lr": config["lr"],
                         "steps": config["steps"], "eval_every": config["eval_every"], "batch_size": config["batch_size"],
                         "seeds": config["seeds"], "weight_noise_relative_sigma": config["sigma"],
                         "probe_size": config["probe_size"]},
        },
        figures=(fig,),
    )


def _sl_compare(pred: Prediction, meas: Measurement) -> Verdict:
    status = meas.details.get("rule_status")
    if status is None:  # a measurement from elsewhere: fall back to the R^2 band
        return within_band(pred, meas)
    return Verdict(status, meas.details["summary"])


# ============================================================================= 3. pruning tolerance


def _prune_grid(step):
    """Pruning sparsities step, 2 step, ... below 1 (the dense point is added by the curve).

    Examples
    --------
    >>> _prune_grid(0.25).tolist()
    [0.25, 0.5, 0.75]
    """
    k = int(round(1.0 / step))
    return np.round(np.arange(1, k) * step, 12)


def _paired_grid_se(diffs, step):
    r"""Mean and SE of paired differences of grid-valued answers.

    .. math:: \mathrm{SE} = \sqrt{s^2/n + (h/2)^2}

    with :math:`s` the sample SD of the differences and :math:`h` the grid step:
    each essential sparsity is only known to within one grid cell, so half a step
    is added in quadrature (conservative next to the :math:`h/\sqrt{12}` SD of a
    uniform rounding error).

    Examples
    --------
    >>> m, se = _paired_grid_se([0.1, 0.1, 0.1], 0.02)   # identical differences: only the grid term
    >>> round(m, 12), round(se, 12)
    (0.1, 0.01)
    """
    mean, se_seeds = mean_se(diffs)
    return mean, math.hypot(se_seeds, 0.5 * step)


def _prune_predict(config) -> Prediction:
    return Prediction(
        value=float("nan"),
        band=(0.0, math.inf),
        details={
            "statistic": "mean over paired seeds of essential sparsity (noise arm - plain arm); essential sparsity = "
            f"largest global one-shot magnitude-pruning sparsity on the grid (step {config['prune_step']}) up to which "
            f"the test-accuracy drop from the dense net stays <= delta = {config['delta']} "
            "(metrics.essential_sparsity)",
            "rule": "pass if mean - t_{0.975,n-1} SE > 0; fail if mean + t SE < 0; else inconclusive; "
            "SE = sqrt(s^2/n + (grid step/2)^2)",
            "pruned": "all weight matrices (key matrices and head) jointly; biases and LayerNorm parameters kept",
        },
    )


def _prune_measure(config, rng) -> Measurement:
    import jax
    import jax.numpy as jnp

    from ...metrics import essential_sparsity, magnitude_pruning_curve

    key, ds = digits_setup(rng)
    model = digits_model(config, activation="relu")
    names = (*model.layer_names, "head")
    grid = _prune_grid(config["prune_step"])
    x_te, y_te = jnp.asarray(ds.x_test), np.asarray(ds.y_test)
    arms = {"plain": 0.0, "noise": config["sigma"]}
    out = {a: {"essential_sparsity": [], "knee": [], "dense_accuracy": [], "curve": []} for a in arms}
    sparsity_axis = None
    for s in range(config["seeds"]):
        ks = jax.random.fold_in(key, s)  # same init and minibatch stream in both arms
        for arm, sigma in arms.items():
            params = train_digits(model, ds, config, ks, sigma=sigma).params
            weights = {n: np.asarray(params[n]["w"]) for n in names}

            def accuracy(pruned, params=params):
                p = {k: dict(v) for k, v in params.items()}
                for n in names:
                    p[n]["w"] = jnp.asarray(pruned[n])
                return float(np.mean(np.argmax(np.asarray(model.apply(p, x_te)), axis=-1) == y_te))

            curve = magnitude_pruning_curve(weights, accuracy, grid)
            es = essential_sparsity(curve, config["delta"])
            out[arm]["essential_sparsity"].append(es.sparsity)
            out[arm]["knee"].append(es.knee)
            out[arm]["dense_accuracy"].append(es.baseline)
            out[arm]["curve"].append(curve.metric.tolist())
            sparsity_axis = curve.sparsity.tolist()
    diff = np.subtract(out["noise"]["essential_sparsity"], out["plain"]["essential_sparsity"])
    d, se = _paired_grid_se(diff, config["prune_step"])
    stats = {a: {k: mean_se(out[a][k]) for k in ("essential_sparsity", "knee", "dense_accuracy")} for a in arms}
    summary = (f"essential sparsity {stats['plain']['essential_sparsity'][0]:.3f} -> "
               f"{stats['noise']['essential_sparsity'][0]:.3f} (delta {config['delta']} accuracy, grid step "
               f"{config['prune_step']}); knee {stats['plain']['knee'][0]:.3f} -> {stats['noise']['knee'][0]:.3f}; "
               f"dense test accuracy {stats['plain']['dense_accuracy'][0]:.3f} -> {stats['noise']['dense_accuracy'][0]:.3f}")
    labels = ["no noise", f"weight noise σ={config['sigma']}·rms(W)"]
    bars = FigureData(kind="bars", title=f"Essential sparsity (accuracy drop <= {config['delta']}), digits MLP",
                      data={"labels": labels,
                            "values": [stats[a]["essential_sparsity"][0] for a in arms],
                            "errors": [_paired_grid_se(out[a]["essential_sparsity"], config["prune_step"])[1]
                                       if config["seeds"] > 1 else 0.5 * config["prune_step"] for a in arms],
                            "ylabel": "essential sparsity (mean ± SE incl. half grid step)"})
    n = config["seeds"]
    bands = {lab: seed_mean_se(out[a]["curve"]) for lab, a in zip(labels, arms)}
    lines = FigureData(kind="lines", title="Test accuracy under one-shot global magnitude pruning",
                       data={"x": sparsity_axis,
                             "series": {lab: mean for lab, (mean, _) in bands.items()},
                             "errors": {lab: se for lab, (_, se) in bands.items()},
                             "xlabel": "pruned fraction of weights", "ylabel": "test accuracy"})
    return Measurement(
        value=d, se=se, n=n,
        details={"summary": summary, "paired_differences": diff.tolist(),
                 "se_components": {"seeds": mean_se(diff)[1] if n > 1 else None, "half_grid_step": 0.5 * config["prune_step"]},
                 "t_multiplier": t_multiplier(n),
                 "per_arm": {a: {k: v for k, v in out[a].items() if k != "curve"} for a in arms},
                 "mean_se": stats,
                 "settings": {"model": f"ReLU MLP {config['depth']}x{config['width']}, affine pre-LayerNorm",
                              "data": "digits", "loss": config["loss"], "optimizer": config["optimizer"],
                              "lr": config["lr"], "steps": config["steps"], "batch_size": config["batch_size"],
                              "seeds": n, "relative_sigma": config["sigma"], "delta": config["delta"],
                              "prune_step": config["prune_step"], "metric": "test accuracy"}},
        figures=(bars, lines),
    )


# ============================================================================= registry

_CONC_EXTRA = {"eval_every": 50}
_SL = {"sigma": 0.0, "r2_min": 0.9}
_PRUNE = {"sigma": 0.1, "delta": 0.01}

CLAIMS = [
    Claim(
        id="trained_key_concentration",
        statement="The spectral concentration of trained key matrices lies in the predicted band "
        "(Gaussian matrix of the same shape), reported against random initialization.",
        source=SOURCE_CONC,
        predict=_conc_predict,
        measure=_conc_measure,
        compare=_conc_compare,
        profiles={
            "smoke": dict(TRAIN_PROFILES["smoke"], width=32, depth=1),
            "quick": dict(TRAIN_PROFILES["quick"], width=32, **_CONC_EXTRA),
            "full": dict(TRAIN_PROFILES["full"], width=64),
        },
        kind="empirical",
    ),
    Claim(
        id="sparsing_law_fit",
        statement="The activation ratio over training follows a sparsing-law form "
        "(ReLU form exp(-c D^alpha + b) + A0; digits MLP).",
        source=SOURCE_SPARSING,
        predict=_sl_predict,
        measure=_sl_measure,
        compare=_sl_compare,
        profiles={
            "smoke": dict(TRAIN_PROFILES["smoke"], steps=40, eval_every=5, seeds=1, **_SL),
            "quick": dict(TRAIN_PROFILES["quick"], steps=1500, eval_every=30, seeds=2, **_SL),
            "full": dict(TRAIN_PROFILES["full"], steps=6000, eval_every=100, seeds=3, **_SL),
        },
        kind="empirical",
    ),
    Claim(
        id="noise_tolerates_pruning",
        statement="Nets trained with weight noise tolerate more one-shot magnitude pruning "
        "(larger essential sparsity at a fixed accuracy drop) than paired nets trained without it.",
        source=SOURCE_PRUNING,
        predict=_prune_predict,
        measure=_prune_measure,
        compare=paired_effect,
        profiles={
            "smoke": dict(TRAIN_PROFILES["smoke"], prune_step=0.05, **_PRUNE),
            "quick": dict(TRAIN_PROFILES["quick"], prune_step=0.02, **_PRUNE),
            "full": dict(TRAIN_PROFILES["full"], prune_step=0.01, **_PRUNE),
        },
        kind="empirical",
    ),
]
