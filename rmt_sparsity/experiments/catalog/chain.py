r"""The paper's causal chain, measured link by link on one shared grid of trained networks.

Peng, Qi, Shi, Gao (arXiv 2309.03004; reworked in arXiv 2605.25612) argue

.. math::

    \text{weight noise / flat minima} \Rightarrow \text{small augmented flatness}
    \Rightarrow \text{gradient sparsity } (\|x\| \text{ cannot shrink}) \Rightarrow \text{activation sparsity},

and that gradient noise makes the key matrices' spectra concentrated. Every
claim here reads the same networks: the fixture ``chain_grid``
(:mod:`rmt_sparsity.experiments.chain_grid`, trained once per run), and each
loss (MSE, cross-entropy) gets its own claim and verdict. The claims:

* ``flatness_falls_with_noise_{loss}`` (equal steps) and
  ``flatness_falls_at_matched_loss_{loss}`` — tr H and the augmented flatness
  :math:`\frac1T\sum_t\|x_t\|^2\|\eta_t\|^2` are lower at :math:`\sigma > 0`;
* ``ln_norm_does_not_shrink_{loss}`` — with affine LayerNorm,
  :math:`\min\|x\|/\sqrt d` does not fall with :math:`\sigma` by more than the
  10 % the paper's restricted LayerNorm allows (the restricted-LN bound itself
  is an identity, tested in pytest);
* ``gradient_sparsity_rises_with_noise_{loss}`` — relative gradient sparsity
  at :math:`\tau \in \{10^{-3}, 10^{-2}\}` rises and the gradient-density ratio
  :math:`E[g^2 \mid \sigma' \ne 0]/E[g^2]` falls (the absolute grid is reported);
* ``gradient_sparsity_tracks_activation_sparsity_{loss}`` — Spearman's
  :math:`\rho` between zero fraction and the gradient sparsity of the active set,
  :math:`-\ln(E[g^2 \mid \sigma' \ne 0]/E[g^2])`, across :math:`\sigma` and
  seeds, bootstrap CI above 0.3 (the share of small :math:`|\eta|` is not used:
  for ReLU it contains the zero fraction by construction); carries the chain figure;
* ``shifted_s_control_{loss}`` — with the shifted S activation (flat at a
  non-zero output) noise raises the flat-region fraction and the gradient
  sparsity while exact zeros stay absent;
* ``noise_concentrates_key_spectrum_{loss}`` — the key matrices'
  :math:`\lambda_{\max}/\lambda_{\min}` is lower with noise;
* ``key_update_weighted_mp_{loss}`` — the update :math:`K_T - r^TK_0` of the SGD
  arm has the condition number of the weighted-MP law built from the nets' own
  discounted LayerNorm-ed inputs (rivals: the paper's heuristic, isotropic inputs);
* ``modules_raise_zero_fraction_{loss}`` (all modules against plain) and, on
  the full grid, ``module_ablation_{loss}`` (each module alone, all, the magic synapse);
* literature metrics: ``dormant_grows_with_noise_{loss}`` (ReDo),
  ``cett_sparsity_rises_with_noise_{loss}`` (PPL-1 %, Sparsing Law),
  ``relu2_sparser_than_relu_{loss}`` (full grid),
  ``essential_sparsity_rises_with_noise_{loss}`` and
  ``nm_pruning_tolerance_with_noise_{loss}`` (Essential Sparsity), and
  ``sparsing_law_fit_{loss}`` (the activation-ratio trajectory).

Rules (:mod:`rmt_sparsity.experiments.claims`): a directional claim compares
the seed-paired effect's interval :math:`v \pm t_{0.95,n-1}\mathrm{SE}` with its
region (:func:`~rmt_sparsity.experiments.claims.within_band`), part by part;
the claim passes when every judged part passes, fails when one fails, and is
inconclusive otherwise. Its control is the :math:`\sigma = 0` arm: the rival
"no effect" (:func:`~rmt_sparsity.experiments.claims.no_effect_rival`) is judged
by the same rule. Every claim attaches the training evidence of the cells it
reads (:class:`~rmt_sparsity.experiments.claims.ConvergenceRule`): a cell that
missed the grid's convergence rule within its cap makes the claim
``inconclusive: not converged at N steps``.
"""

from __future__ import annotations

import dataclasses

import math

import numpy as np

from ..._stats import mean_se
from ..claims import (
    Claim,
    ConvergenceRule,
    FigureData,
    Measurement,
    Prediction,
    Rival,
    TrainingEvidence,
    Verdict,
    ci_multiplier,
    equivalence,
    margin,
    no_effect_rival,
    within_band,
)

__all__ = ["CLAIMS", "FIXTURES", "chain_figure"]

GRID = "chain_grid"
LOSSES = ("mse", "ce")
SOURCE = "Peng, Qi, Shi, Gao, arXiv 2309.03004 (and its rework arXiv 2605.25612); docs/science.md §5"
_LOSS_NAME = {"mse": "MSE", "ce": "cross-entropy"}

#: Weights must move by at least this fraction of their initial norm for a net to count as trained.
MIN_WEIGHT_CHANGE = 0.1


# ============================================================================= the fixture


def _units(config):
    from ..chain_grid import arm_ids

    return arm_ids(config)


def _run_unit(config, unit, rng):
    from ..chain_grid import run_arm

    return run_arm(config, unit, rng)


def _grid_profiles():
    from ..chain_grid import GRID_PROFILES

    return GRID_PROFILES


#: The shared fixture (keyword arguments of :class:`rmt_sparsity.experiments.fixtures.Fixture`).
FIXTURES = [
    dict(
        id=GRID,
        description="digits (and, on full, MNIST-1D) FFN stacks trained with and without weight noise, MSE and "
        "cross-entropy, plain and with the paper's modules, an SGD arm and a shifted-S arm; 16 seeds per cell",
        profiles=_grid_profiles(),
        units=_units,
        run_unit=_run_unit,
    ),
]


# ============================================================================= reading the grid


class _Missing(Exception):
    """A claim's arm is not in this profile's grid."""


def _f(v) -> np.ndarray:
    return np.asarray(v, dtype=float)


def _dataset(config) -> str:
    """The data set a claim reads: ``"digits"`` unless its config names another (the MNIST-1D claims)."""
    return config.get("dataset", "digits")


def _arm(fixtures, loss, arch, optimizer="adamw", *, dataset="digits", required=True):
    units = fixtures[GRID].units
    aid = f"{dataset}/{loss}/{arch}/{optimizer}"
    if aid not in units:
        if required:
            raise _Missing(f"the {fixtures[GRID].profile} grid has no arm {aid!r} (arms: {', '.join(units)})")
        return None
    return units[aid]


def _levels(arm) -> list[float]:
    return sorted(float(k) for k in arm["cells"])


def _cell(arm, level):
    for k, c in arm["cells"].items():
        if float(k) == float(level):
            return c
    raise KeyError(level)


def _layers(arm):
    return arm["model"]["layer_names"]


def _probe(cell, key, layers, *, reduce="mean"):
    """Per seed: the mean (or min, or last layer) over key layers of one chain probe."""
    vals = np.stack([_f(cell["probes"][f"{n}.{key}"]) for n in layers])
    if reduce == "mean":
        return vals.mean(axis=0)
    if reduce == "min":
        return vals.min(axis=0)
    if reduce == "last":
        return vals[-1]
    raise ValueError(reduce)


def _spec(cell, key, layers):
    """Per seed: the mean over key layers of log(spectral quantity ``key``)."""
    return np.mean([np.log(_f(cell["spectra"][n][key])) for n in layers], axis=0)


def _part(diffs, *, statistic, judged=True, extra=None) -> dict:
    d = _f(diffs)
    m, se = mean_se(d)
    return {"value": float(m), "se": float(se), "n": int(d.size), "statistic": statistic, "judged": judged,
            "per_seed": d.tolist(), **(extra or {})}


def _evidence(cells, arms) -> TrainingEvidence:
    """Training evidence of ``cells`` (from ``arms``): every member's clean train loss under the rule's level,
    its weights moved, and every cell settled (the grid's convergence rule)."""
    chance = {a["chance_loss"] for a in arms}
    rule_cfg = arms[0]["cells"][next(iter(arms[0]["cells"]))]["rule"]
    level = max(c["rule"]["fit_level"] for c in cells)
    rule = ConvergenceRule(
        max_train_loss=level,
        min_weight_change=MIN_WEIGHT_CHANGE,
        justification=(
            f"the grid's convergence rule: the seed-mean clean train loss is at most 10 % of the loss of the best "
            f"constant predictor (L0 = {', '.join(f'{c:.4g}' for c in sorted(chance))}) and fell by at most 1 % of "
            f"L0 over the last quarter of training (settled); every member must also be under the level, and "
            f"its weights must have moved by at least {MIN_WEIGHT_CHANGE:.0%} of their initial norm (the trained "
            f"net is not its initialisation)"),
    )
    steps = max(int(a["steps"]) for a in arms)
    loss = np.concatenate([_f(c["train_loss"]) for c in cells])
    dw = np.concatenate([_f(c["weight_change_all"]) for c in cells])
    ev = rule.evidence(steps=steps, train_loss=loss, weight_change=dw)
    unsettled = [f"{a['arm']['id']} sigma={c['level']:g}" for a in arms for c in cells
                 if any(c is cc for cc in a["cells"].values()) and not c["rule"]["converged"]]
    if unsettled:
        return TrainingEvidence(steps=ev.steps, train_loss=ev.train_loss, weight_change=ev.weight_change, rule=rule,
                                reached=False, reason=ev.reason + "; convergence rule not met by " +
                                ", ".join(unsettled) + f" (cap {steps} steps; drop over the last quarter "
                                f"vs {rule_cfg['settle_level']:.3g})")
    return ev


def _arm_steps(*arms) -> str:
    return ", ".join(f"{a['arm']['id']} {a['steps']} steps" for a in arms)


# ============================================================================= the multi-part rule


def _parts_verdict(pred: Prediction, meas: Measurement) -> Verdict:
    """Every judged part of ``meas.details["parts"]`` against the region ``pred.band`` (:func:`within_band`).

    ``fail`` if a part fails, ``pass`` if every part passes, ``inconclusive`` otherwise.
    """
    if meas.details.get("missing"):
        return Verdict("inconclusive", meas.details["missing"])
    parts = meas.details.get("parts")
    if not parts:
        return within_band(pred, meas)
    statuses, reasons, thresholds = [], [], ()
    for name, p in parts.items():
        if not p.get("judged", True):
            continue
        v = within_band(Prediction(float("nan"), pred.band), Measurement(p["value"], p["se"], p["n"]))
        statuses.append(v.status)
        reasons.append(f"{name}: {v.status} ({p['value']:+.4g} ± {p['se']:.2g})")
        thresholds = v.thresholds
    if "fail" in statuses:
        status = "fail"
    elif statuses and all(s == "pass" for s in statuses):
        status = "pass"
    else:
        status = "inconclusive"
    lo, hi = pred.band
    summary = meas.details.get("summary", "")
    return Verdict(status, f"region ({lo:g}, {hi:g}): " + "; ".join(reasons) + (f"; {summary}" if summary else ""),
                   tuple(pred.thresholds) + tuple(thresholds), 0.05)


def _directional_prediction(statistic: str, m=None, *, what: str) -> Prediction:
    thr = () if m is None else (m,)
    lo = 0.0 if m is None else float(m.value)
    return Prediction(float("nan"), (lo, math.inf), details={"statistic": statistic, "prediction": what,
                                                              "rule": "every judged part: t-interval of the seed-"
                                                              "paired mean inside the region (one-sided 95 %)"},
                      thresholds=thr)


def _missing_measurement(exc) -> Measurement:
    return Measurement(float("nan"), None, 0, details={"missing": str(exc)})


def _guard(fn):
    """Measure with ``fn``; an arm absent from this profile's grid gives a NaN measurement (inconclusive)."""

    def measure(config, rng, *, fixtures):
        try:
            return fn(config, rng, fixtures)
        except _Missing as exc:
            return _missing_measurement(exc)

    return measure


def _bars(title, parts, ylabel):
    labels = list(parts)
    q = [ci_multiplier(max(p["n"], 2)) for p in parts.values()]
    return FigureData(kind="bars", title=title, data={"labels": labels, "values": [p["value"] for p in parts.values()],
                                                      "errors": [qq * p["se"] for qq, p in zip(q, parts.values())],
                                                      "ylabel": ylabel})


# ============================================================================= 2.1 flatness


def _flat_measure(matched: bool):
    def measure(config, rng, fixtures):
        loss = config["loss"]
        arm = _arm(fixtures, loss, "plain", dataset=_dataset(config))
        lv = _levels(arm)
        top = lv[-1]
        c0, c1 = _cell(arm, 0.0), _cell(arm, top)
        layers = _layers(arm)
        aug1 = np.sum([_f(c1["probes"][f"{n}.augmented_flatness"]) for n in layers], axis=0)
        tr1 = _f(c1["hessian_trace"])
        if matched:
            mt = c0["matched"]
            tr0 = _f(mt["hessian_trace"])
            aug0 = np.sum([_f(mt["probes"][f"{n}.augmented_flatness"]) for n in layers], axis=0)
            extra = {"matched_step": mt["step"], "plain_train_loss_at_match": mt["train_loss"],
                     "noisy_final_train_loss": mt["target_train_loss"]}
        else:
            tr0 = _f(c0["hessian_trace"])
            aug0 = np.sum([_f(c0["probes"][f"{n}.augmented_flatness"]) for n in layers], axis=0)
            extra = {}
        positive = bool(np.all(tr0 > 0) and np.all(tr1 > 0))
        parts = {
            "tr H": _part(np.log(tr0 / tr1) if positive else np.full(tr0.size, np.nan),
                          statistic="log(tr H plain / tr H noisy), Hutchinson on the probe batch"),
            "augmented flatness": _part(np.log(aug0 / aug1),
                                        statistic="log(A plain / A noisy), A = sum over key layers of "
                                        "mean_t ||x_t||^2 ||eta_t||^2"),
        }
        where = "the plain arm's checkpoint matched in train loss" if matched else "equal steps"
        summary = (f"{_LOSS_NAME[loss]}, sigma {top:g} vs 0 at {where}: tr H {np.mean(tr0):.4g} -> {np.mean(tr1):.4g}, "
                   f"augmented flatness {np.mean(aug0):.4g} -> {np.mean(aug1):.4g}; train loss "
                   f"{np.mean(c0['train_loss']):.4g} -> {np.mean(c1['train_loss']):.4g}; {_arm_steps(arm)}")
        if matched:
            summary += (f"; matched plain checkpoints at steps {mt['step']} (train loss "
                        f"{np.mean(mt['train_loss']):.4g} vs noisy final {np.mean(mt['target_train_loss']):.4g})")
        head = parts["tr H"]
        fig = _bars(f"Flatness, {_LOSS_NAME[loss]}, weight noise σ={top:g} vs none ({where})", parts,
                    "log(plain / noisy) (mean ± t·SE over seeds)")
        return Measurement(head["value"], head["se"], head["n"],
                           details={"parts": parts, "summary": summary, "trace_plain": tr0.tolist(),
                                    "trace_noisy": tr1.tolist(), "augmented_flatness_plain": aug0.tolist(),
                                    "augmented_flatness_noisy": aug1.tolist(), **extra},
                           figures=(fig,), training=_evidence([c0, c1], [arm]))

    return _guard(measure)


# ============================================================================= 2.2 the denominator


_LN_MARGIN = margin(
    "max_fall", -math.log(1.0 / 0.9),
    "ln 0.9: the paper's restricted LayerNorm with the zeroth bias guarantees ||x|| >= 0.9 sqrt(d) "
    "(arXiv 2309.03004); a fall of the affine-LN minimum norm by more than that 10 % would let the network buy "
    "flatness with a denominator the modules are designed to forbid")


def _ln_predict(config) -> Prediction:
    m = float(_LN_MARGIN.value)
    return Prediction(float("nan"), (m, math.inf), thresholds=(_LN_MARGIN,),
                      details={"statistic": "seed-paired log(min ||x||/sqrt d at sigma / at 0), min over key layers "
                               "and probe examples, affine LayerNorm (plain arm)",
                               "prediction": "does not fall by more than the margin"})


def _ln_shrinks(config) -> Prediction:
    m = float(_LN_MARGIN.value)
    return Prediction(float("nan"), (-math.inf, m), thresholds=(_LN_MARGIN,),
                      details={"rival": "the denominator shrinks: flatness bought with a small ||x||"})


@_guard
def _ln_measure(config, rng, fixtures):
    loss = config["loss"]
    arm = _arm(fixtures, loss, "plain", dataset=_dataset(config))
    top = _levels(arm)[-1]
    c0, c1 = _cell(arm, 0.0), _cell(arm, top)
    layers = _layers(arm)
    mn0, mn1 = _probe(c0, "x_norm_min_over_sqrt_d", layers, reduce="min"), _probe(c1, "x_norm_min_over_sqrt_d", layers, reduce="min")
    me0, me1 = _probe(c0, "x_norm_mean_over_sqrt_d", layers), _probe(c1, "x_norm_mean_over_sqrt_d", layers)
    parts = {"min ||x||/sqrt d": _part(np.log(mn1 / mn0), statistic="log ratio of the minimum"),
             "mean ||x||/sqrt d": _part(np.log(me1 / me0), statistic="log ratio of the mean", judged=False)}
    per_layer = {n: {"sigma0": _f(c0["probes"][f"{n}.x_norm_min_over_sqrt_d"]).tolist(),
                     f"sigma{top:g}": _f(c1["probes"][f"{n}.x_norm_min_over_sqrt_d"]).tolist()} for n in layers}
    summary = (f"{_LOSS_NAME[loss]}: min ||x||/sqrt d {np.mean(mn0):.4f} -> {np.mean(mn1):.4f}, mean "
               f"{np.mean(me0):.4f} -> {np.mean(me1):.4f} (sigma 0 -> {top:g}); {_arm_steps(arm)}")
    fig = FigureData(kind="bars", title=f"LayerNorm-ed input norm, {_LOSS_NAME[loss]} (affine LN, plain arm)",
                     data={"labels": ["min, σ=0", f"min, σ={top:g}", "mean, σ=0", f"mean, σ={top:g}"],
                           "values": [float(np.mean(v)) for v in (mn0, mn1, me0, me1)],
                           "errors": [mean_se(v)[1] for v in (mn0, mn1, me0, me1)],
                           "ylabel": "||x|| / sqrt(d) (mean ± SE over seeds)"})
    head = parts["min ||x||/sqrt d"]
    return Measurement(head["value"], head["se"], head["n"],
                       details={"parts": parts, "summary": summary, "per_layer_min": per_layer},
                       figures=(fig,), training=_evidence([c0, c1], [arm]))


# ============================================================================= 2.3 gradient sparsity


@_guard
def _gs_measure(config, rng, fixtures):
    from ...metrics import GRADIENT_SPARSITY_TAUS, RELATIVE_GRADIENT_TAUS

    loss = config["loss"]
    arm = _arm(fixtures, loss, "plain", dataset=_dataset(config))
    top = _levels(arm)[-1]
    c0, c1 = _cell(arm, 0.0), _cell(arm, top)
    layers = _layers(arm)
    parts = {}
    for tau in RELATIVE_GRADIENT_TAUS:
        k = f"rel_grad_sparsity@{tau:g}"
        parts[f"relative sparsity tau={tau:g}"] = _part(_probe(c1, k, layers) - _probe(c0, k, layers),
                                                        statistic=f"paired difference of the share of |eta_i| <= "
                                                        f"{tau:g} rms(eta_t), mean over key layers")
    d0, d1 = _probe(c0, "density_ratio", layers), _probe(c1, "density_ratio", layers)
    parts["gradient-density ratio"] = _part(np.log(d0 / d1), statistic="log(rho_g plain / rho_g noisy), rho_g = "
                                            "E[g^2 | sigma' != 0] / E[g^2], mean over key layers")
    for tau in GRADIENT_SPARSITY_TAUS:
        k = f"grad_sparsity@{tau:g}"
        parts[f"absolute sparsity tau={tau:g}"] = _part(_probe(c1, k, layers) - _probe(c0, k, layers),
                                                        statistic=f"paired difference of the share of |eta| < {tau:g}",
                                                        judged=False)
    e0, e1 = _probe(c0, "eta_rms", layers), _probe(c1, "eta_rms", layers)
    z0, z1 = _probe(c0, "zero_fraction", layers), _probe(c1, "zero_fraction", layers)
    summary = (f"{_LOSS_NAME[loss]}: relative sparsity@1e-2 {np.mean(_probe(c0, 'rel_grad_sparsity@0.01', layers)):.4f}"
               f" -> {np.mean(_probe(c1, 'rel_grad_sparsity@0.01', layers)):.4f}, density ratio {np.mean(d0):.4f} -> "
               f"{np.mean(d1):.4f}, zero fraction {np.mean(z0):.4f} -> {np.mean(z1):.4f}, rms(eta) {np.mean(e0):.3g} -> "
               f"{np.mean(e1):.3g} (the absolute grid is reported, not judged: the arms' gradient scales differ); "
               f"{_arm_steps(arm)}")
    edges = _f(arm["g2_edges"])
    centres = (0.5 * (edges[:-1] + edges[1:])).tolist()
    series = {}
    for lab, c in (("σ=0", c0), (f"σ={top:g}", c1)):
        for kind in ("all", "active"):
            h = np.sum([_f(c["g2_histograms"][f"{n}.g2_hist_{kind}"]) for n in layers], axis=0)
            series[f"{lab}, {'all entries' if kind == 'all' else 'active (σ′≠0)'}"] = (h / max(h.sum(), 1.0)).tolist()
    hist = FigureData(kind="lines", title=f"log10 g² of key-layer activations' gradients, {_LOSS_NAME[loss]} (share per bin)",
                      data={"x": centres, "series": series, "xlabel": "log10 g², g = ∂L/∂a", "ylabel": "share of entries"})
    head = parts["relative sparsity tau=0.01"]
    return Measurement(head["value"], head["se"], head["n"], details={"parts": parts, "summary": summary},
                       figures=(_bars(f"Gradient sparsity, {_LOSS_NAME[loss]}, σ={top:g} vs 0",
                                      {k: v for k, v in parts.items() if v["judged"]}, "paired effect (mean ± t·SE)"),
                                hist),
                       training=_evidence([c0, c1], [arm]))


# ============================================================================= 2.4 association and the chain figure


_RHO_MARGIN = margin(
    "rho_min", 0.3,
    "0.3: below it an association explains under 10 % of the rank variance (rho^2 < 0.09); the claim is that the "
    "two sparsities move together, not merely that they are not independent")


def _rho_predict(config) -> Prediction:
    return Prediction(float("nan"), (0.3, 1.0), thresholds=(_RHO_MARGIN,),
                      details={"statistic": "Spearman rho between the zero fraction and the gradient sparsity of the "
                               "active set, -ln(E[g^2 | sigma' != 0] / E[g^2]) (the paper's gradient-density ratio), "
                               "both means over key layers, across the plain arm's nets (every sigma and seed); 90 % "
                               "percentile-bootstrap CI (nets resampled)",
                               "why_not_relative_sparsity": "for ReLU eta = 0 wherever a = 0, so the share of small "
                               "|eta| is at least the zero fraction: their association is built in (reported beside)",
                               "rule": "pass if the CI lies above 0.3, fail if below, else inconclusive"})


def _rho_none(config) -> Prediction:
    return Prediction(0.0, (-0.3, 0.3), thresholds=(_RHO_MARGIN,), details={"rival": "no association (|rho| < 0.3)"})


def _ci_rule(pred: Prediction, meas: Measurement) -> Verdict:
    ci = meas.details.get("ci")
    if meas.details.get("missing"):
        return Verdict("inconclusive", meas.details["missing"])
    if ci is None or not all(math.isfinite(v) for v in ci):
        return Verdict("inconclusive", meas.details.get("missing", "no bootstrap interval"))
    lo, hi = pred.band
    a, b = ci
    desc = (f"rho {meas.value:+.3f}, 90 % bootstrap CI [{a:+.3f}, {b:+.3f}] vs region [{lo:g}, {hi:g}]; "
            f"{meas.details.get('summary', '')}")
    if lo <= a and b <= hi:
        return Verdict("pass", desc, pred.thresholds, 0.05)
    if b < lo or a > hi:
        return Verdict("fail", desc, pred.thresholds, 0.05)
    return Verdict("inconclusive", desc + "; the interval straddles an edge of the region", pred.thresholds, 0.05)


def _spearman_ci(x, y, rng, n_boot=2000, level=0.90):
    """Spearman rho and its percentile-bootstrap interval (nets resampled with replacement), with the bootstrap SD.

    Each resample's rho is Pearson's correlation of its midranks (``scipy.stats.rankdata``), which is Spearman's
    rho; resamples in which a variable is constant have no rho and are dropped.
    """
    from scipy.stats import rankdata, spearmanr

    x, y = _f(x), _f(y)
    rho = float(spearmanr(x, y).statistic) if np.ptp(x) > 0 and np.ptp(y) > 0 else float("nan")
    idx = rng.integers(0, x.size, size=(n_boot, x.size))
    rx, ry = rankdata(x[idx], axis=1), rankdata(y[idx], axis=1)
    rx -= rx.mean(axis=1, keepdims=True)
    ry -= ry.mean(axis=1, keepdims=True)
    den = np.sqrt(np.sum(rx * rx, axis=1) * np.sum(ry * ry, axis=1))
    ok = den > 0
    boots = np.sum(rx * ry, axis=1)[ok] / den[ok]
    a = (1.0 - level) / 2
    return rho, (float(np.quantile(boots, a)), float(np.quantile(boots, 1 - a))), float(np.std(boots, ddof=1))


@_guard
def _rho_measure(config, rng, fixtures):
    from scipy.stats import spearmanr

    loss = config["loss"]
    arm = _arm(fixtures, loss, "plain", dataset=_dataset(config))
    layers = _layers(arm)
    zf, gs, dr, lv_of = [], [], [], []
    within = {}
    for lv in _levels(arm):
        c = _cell(arm, lv)
        z, d = _probe(c, "zero_fraction", layers), -np.log(_probe(c, "density_ratio", layers))
        zf += z.tolist()
        dr += d.tolist()
        gs += _probe(c, "rel_grad_sparsity@0.01", layers).tolist()
        lv_of += [lv] * z.size
        within[f"{lv:g}"] = float(spearmanr(z, d).statistic) if np.ptp(z) > 0 and np.ptp(d) > 0 else float("nan")
    if len(zf) < 4:
        raise _Missing(f"only {len(zf)} nets: too few for a rank correlation")
    rho, ci, se = _spearman_ci(zf, dr, rng)
    rho_rel, ci_rel, _ = _spearman_ci(zf, gs, rng)
    summary = (f"{_LOSS_NAME[loss]}: {len(zf)} nets ({len(_levels(arm))} sigma levels x {arm['seeds']} seeds); "
               f"within-sigma rho " + ", ".join(f"sigma={k}: {v:+.3f}" for k, v in within.items())
               + f"; beside it, rho with the relative gradient sparsity (tau 1e-2) {rho_rel:+.3f} "
               f"[{ci_rel[0]:+.3f}, {ci_rel[1]:+.3f}], which for ReLU is built in (eta = 0 wherever a = 0, so that "
               "sparsity is at least the zero fraction) and is therefore not the judged statistic")
    series, xs = {}, {}
    for lv in _levels(arm):
        sel = sorted([i for i, v in enumerate(lv_of) if v == lv], key=lambda i: dr[i])
        xs[f"σ={lv:g}"] = [dr[i] for i in sel]
        series[f"σ={lv:g}"] = [zf[i] for i in sel]
    scatter = FigureData(kind="lines", title=f"Zero fraction vs gradient sparsity across nets, {_LOSS_NAME[loss]}",
                         data={"x": dr, "series": series, "xs": xs, "ylabel": "zero fraction",
                               "xlabel": "-ln(E[g² | σ′≠0] / E[g²]) (gradient sparsity of the active set)"})
    return Measurement(rho, se, len(zf), details={"ci": list(ci), "ci_level": 0.90, "bootstrap": 2000,
                                                  "zero_fraction": zf, "neg_log_density_ratio": dr,
                                                  "relative_gradient_sparsity": gs, "sigma": lv_of,
                                                  "rho_relative_sparsity": rho_rel, "ci_relative_sparsity": list(ci_rel),
                                                  "within_sigma_rho": within, "summary": summary},
                       figures=(chain_figure(fixtures, loss), scatter),
                       training=_evidence([_cell(arm, lv) for lv in _levels(arm)], [arm]))


def chain_figure(fixtures, loss) -> FigureData:
    r"""The chain figure of one loss: flatness, :math:`\|x\|_{\min}/\sqrt d`, gradient sparsity, zero fraction and
    key-matrix concentration against :math:`\sigma`, one line per arm of the grid (mean ± SE over seeds).

    ``fixtures`` maps ``"chain_grid"`` to its :class:`~rmt_sparsity.experiments.fixtures.FixtureResult`
    (or to any object with a ``units`` mapping of arm results). Rendered by the ``chain_panels``
    renderer of :mod:`rmt_sparsity.report.figures`.
    """
    units = fixtures[GRID].units
    arms = [a for a in units.values() if a["arm"]["loss"] == loss and a["arm"]["level_kind"] == "sigma"
            and a["arm"]["dataset"] == "digits"]

    def pts(arm, fn):
        ys, es = [], []
        for lv in _levels(arm):
            v = fn(_cell(arm, lv))
            m, se = mean_se(v)
            ys.append(float(m))
            es.append(float(se) if math.isfinite(se) else 0.0)
        return {"x": _levels(arm), "y": ys, "err": es}

    def rel(arm, key_fn):
        base = key_fn(_cell(arm, 0.0))
        return pts(arm, lambda c: key_fn(c) / base)

    panels = [
        {"title": "flatness (relative to σ = 0)", "ylabel": "tr H, augmented flatness (ratio)", "logy": True,
         "series": {}},
        {"title": "‖x‖min / √d", "ylabel": "min over layers and examples", "series": {}},
        {"title": "gradient sparsity", "ylabel": "share |η| ≤ 0.01 rms(η)", "series": {}},
        {"title": "zero fraction", "ylabel": "exact zeros of a", "series": {}},
        {"title": "key-matrix concentration", "ylabel": "λmax/λmin of KKᵀ (paper cut)", "logy": True, "series": {}},
    ]
    for arm in arms:
        if 0.0 not in _levels(arm):
            continue
        lab = f"{arm['arm']['arch']}/{arm['arm']['optimizer']}"
        layers = _layers(arm)
        panels[0]["series"][f"{lab} tr H"] = rel(arm, lambda c: _f(c["hessian_trace"]))
        panels[0]["series"][f"{lab} aug. flatness"] = rel(
            arm, lambda c, layers=layers: np.sum([_f(c["probes"][f"{n}.augmented_flatness"]) for n in layers], axis=0))
        panels[1]["series"][lab] = pts(arm, lambda c, layers=layers: _probe(c, "x_norm_min_over_sqrt_d", layers, reduce="min"))
        panels[2]["series"][lab] = pts(arm, lambda c, layers=layers: _probe(c, "rel_grad_sparsity@0.01", layers))
        panels[3]["series"][lab] = pts(arm, lambda c, layers=layers: _probe(c, "zero_fraction", layers))
        if arm["arm"]["arch"] == "shifted_s":
            panels[3]["series"][f"{lab} (flat region)"] = pts(
                arm, lambda c, layers=layers: _probe(c, "activation_concentration", layers))
        panels[4]["series"][lab] = pts(arm, lambda c, layers=layers: np.exp(_spec(c, "concentration", layers)))
    title = f"The causal chain against weight noise σ, {_LOSS_NAME[loss]} (digits)"
    return FigureData(kind="chain_panels", title=title,
                      data={"title": title, "xlabel": "relative weight noise σ", "panels": panels})


# ============================================================================= shifted-S control


@_guard
def _ss_measure(config, rng, fixtures):
    loss = config["loss"]
    arm = _arm(fixtures, loss, "shifted_s", dataset=_dataset(config))
    top = _levels(arm)[-1]
    c0, c1 = _cell(arm, 0.0), _cell(arm, top)
    layers = _layers(arm)
    z0, z1 = _probe(c0, "zero_fraction", layers), _probe(c1, "zero_fraction", layers)
    parts = {
        "flat-region share": _part(_probe(c1, "activation_concentration", layers) - _probe(c0, "activation_concentration", layers),
                                   statistic="paired difference of the share of sigma'(h) = 0 (the flat region, "
                                   "output 1.6), mean over key layers"),
        "relative gradient sparsity": _part(_probe(c1, "rel_grad_sparsity@0.01", layers) - _probe(c0, "rel_grad_sparsity@0.01", layers),
                                            statistic="paired difference of the share of |eta_i| <= 0.01 rms(eta_t)"),
        "exact zeros": _part(z1 - z0, statistic="paired difference of the exact-zero share (0 by construction: the "
                             "flat region's output is 1.6)", judged=False),
    }
    summary = (f"{_LOSS_NAME[loss]}, shifted S (flat on [-3.1, -0.1] at output 1.6): flat-region share "
               f"{np.mean(_probe(c0, 'activation_concentration', layers)):.4f} -> "
               f"{np.mean(_probe(c1, 'activation_concentration', layers)):.4f}; exact-zero share {np.max(z0):.3g} / "
               f"{np.max(z1):.3g} (max over nets, sigma 0 / {top:g}); {_arm_steps(arm)}")
    head = parts["flat-region share"]
    return Measurement(head["value"], head["se"], head["n"], details={"parts": parts, "summary": summary,
                                                                      "max_exact_zero_share": float(max(z0.max(), z1.max()))},
                       figures=(_bars(f"Shifted-S control, {_LOSS_NAME[loss]}, σ={top:g} vs 0", parts,
                                      "paired effect (mean ± t·SE)"),),
                       training=_evidence([c0, c1], [arm]))


# ============================================================================= 2.5 spectral concentration


@_guard
def _conc_measure(config, rng, fixtures):
    loss = config["loss"]
    arm = _arm(fixtures, loss, "plain", dataset=_dataset(config))
    top = _levels(arm)[-1]
    c0, c1 = _cell(arm, 0.0), _cell(arm, top)
    layers = _layers(arm)
    parts = {"AdamW, plain": _part(_spec(c0, "concentration", layers) - _spec(c1, "concentration", layers),
                                   statistic="seed-paired log(conc plain / conc noisy), mean over key layers; conc = "
                                   "lambda_max/lambda_min(non-zero) of K K^T, cut 0.1 x mean over all eigenvalues")}
    cells, arms = [c0, c1], [arm]
    for arch, opt, lab in (("modules", "adamw", "AdamW, modules"), ("plain", "sgd", "SGD, plain")):
        other = _arm(fixtures, loss, arch, opt, required=False, dataset=_dataset(config))
        if other is not None:
            t = _levels(other)[-1]
            parts[lab] = _part(_spec(_cell(other, 0.0), "concentration", layers) - _spec(_cell(other, t), "concentration", layers),
                               statistic="the same, reported beside the judged main cells", judged=False)
    summary = (f"{_LOSS_NAME[loss]}: concentration per layer sigma 0 -> {top:g}: "
               + ", ".join(f"{n} {np.mean(_f(c0['spectra'][n]['concentration'])):.3g} -> "
                           f"{np.mean(_f(c1['spectra'][n]['concentration'])):.3g}" for n in layers)
               + f" (a Gaussian {arm['model']['d_ff']}x{arm['model']['width']} K gives about 9); {_arm_steps(arm)}")
    head = parts["AdamW, plain"]
    return Measurement(head["value"], head["se"], head["n"], details={"parts": parts, "summary": summary},
                       figures=(_bars(f"Key-matrix concentration, {_LOSS_NAME[loss]}: log(plain / noisy)", parts,
                                      "paired log ratio (mean ± t·SE); > 0: noise concentrates"),),
                       training=_evidence(cells, arms))


_WMP_MARGIN = margin(
    "log_ratio_margin", math.log(1.5),
    "ln 1.5: a law that misses the update's condition number by more than a factor 1.5 does not describe its "
    "spectrum; the finite-size edge fluctuation of a d = 32 spectrum (relative O(d^(-2/3)) ~ 0.1 per edge) is well "
    "inside it, and the rivals (isotropic inputs, the paper's heuristic MP) differ from the exact law by more when "
    "the inputs are anisotropic")


def _outer_ratio(mu, d_ff):
    """Condition number of the non-zero eigenvalues of Z diag(mu) Z^T / p, Z (d_ff x p) iid: the weighted-MP law."""
    from ...laws import WeightedCovarianceLaw

    mu = _f(mu)
    mu = mu[mu > 0]
    return float(WeightedCovarianceLaw(d_ff / mu.size, mu / mu.mean()).ratio_of_edges())


def _wmp_law_own(arm, cell, layers):
    """Per seed: the predicted condition number (mean over layers of its log) from the nets' own input covariance."""
    d_ff = arm["model"]["d_ff"]
    out = []
    for s in range(len(cell["train_loss"])):
        out.append(np.mean([math.log(_outer_ratio(cell["covariance_eigenvalues"][n][s], d_ff)) for n in layers]))
    return _f(out)


def _wmp_law_heuristic(arm, cell, layers):
    from ...laws import MarchenkoPastur
    from ...theory import heuristic_mp

    d, d_ff = arm["model"]["width"], arm["model"]["d_ff"]
    r2 = arm["discount_r"] ** 2
    h = heuristic_mp(d, r2, int(arm["steps"]), batch=int(arm["batch_size"]))
    mu = MarchenkoPastur(min(h.ratio, 0.999)).ppf((np.arange(d) + 0.5) / d)
    val = math.log(_outer_ratio(mu, d_ff))
    return np.full(len(cell["train_loss"]), val)


def _wmp_law_isotropic(arm, cell, layers):
    return np.full(len(cell["train_loss"]), math.log(_outer_ratio(np.ones(arm["model"]["width"]), arm["model"]["d_ff"])))


_WMP_LAWS = {"own inputs": _wmp_law_own, "heuristic": _wmp_law_heuristic, "isotropic": _wmp_law_isotropic}


def _wmp_prediction(which, desc):
    def predict(config):
        return Prediction(0.0, None, thresholds=(_WMP_MARGIN,), law=which,
                          details={"statistic": "mean over seeds of log(measured / predicted condition number) of the "
                                   "update K_T - r^T K_0 of the noisy SGD nets (all d non-zero eigenvalues, no cut), "
                                   "mean over key layers", "law": desc,
                                   "square_layers": "none: the grid's key matrices are 4d x d; for a square K the "
                                   "law's lower edge is a hard edge at 0 and the condition number follows Edelman's "
                                   "law (docs/science.md §5), so no ratio would be predicted"})

    return predict


def _wmp_statistic(pred: Prediction, raw: Measurement) -> Measurement:
    if raw.raw is None:
        return raw
    arm, cell, layers, measured = raw.raw
    predicted = _WMP_LAWS[pred.law](arm, cell, layers)
    d = measured - predicted
    m, se = mean_se(d)
    return Measurement(float(m), float(se), int(d.size),
                       details={**raw.details, "predicted_log_condition": predicted.tolist(),
                                "per_seed_log_ratio": d.tolist(),
                                "predicted_condition_mean": float(np.exp(np.mean(predicted)))},
                       figures=raw.figures, training=raw.training)


def _wmp_compare(pred: Prediction, meas: Measurement) -> Verdict:
    if meas.details.get("missing"):
        return Verdict("inconclusive", meas.details["missing"])
    v = equivalence(Prediction(0.0), meas, margin=_WMP_MARGIN)
    return Verdict(v.status, f"{pred.details.get('law', '')}: {v.reason}; {meas.details.get('summary', '')}",
                   v.thresholds, v.alpha)


@_guard
def _wmp_measure(config, rng, fixtures):
    loss = config["loss"]
    arm = _arm(fixtures, loss, "plain", "sgd", dataset=_dataset(config))
    top = _levels(arm)[-1]
    cell = _cell(arm, top)
    layers = _layers(arm)
    measured = np.mean([np.log(_f(cell["spectra"][n]["update_condition"])) for n in layers], axis=0)
    findings = {}
    for a in (arm, _arm(fixtures, loss, "plain", "adamw", required=False, dataset=_dataset(config))):
        if a is None:
            continue
        for lv in _levels(a):
            c = _cell(a, lv)
            meas_c = np.mean([np.log(_f(c["spectra"][n]["update_condition"])) for n in layers], axis=0)
            findings[f"{a['arm']['optimizer']} sigma={lv:g}"] = {
                "measured_condition": float(np.exp(np.mean(meas_c))),
                "own_inputs_law": float(np.exp(np.mean(_wmp_law_own(a, c, layers)))),
                "discount_r": a["discount_r"], "steps": a["steps"]}
    summary = (f"{_LOSS_NAME[loss]}, SGD arm sigma={top:g}, r = 1 - lr wd = {arm['discount_r']:.6g}, "
               f"r^T = {arm['discount_r'] ** arm['steps']:.3g} after {arm['steps']} steps; measured condition number "
               f"of the update {np.exp(np.mean(measured)):.4g}; beside it (finding): "
               + "; ".join(f"{k}: measured {v['measured_condition']:.4g} vs own-input law {v['own_inputs_law']:.4g}"
                           for k, v in findings.items()))
    labels = list(findings)
    fig = FigureData(kind="bars", title=f"Update condition number vs the weighted-MP law of the own inputs, {_LOSS_NAME[loss]}",
                     data={"labels": [f"{k} measured" for k in labels] + [f"{k} law" for k in labels],
                           "values": [findings[k]["measured_condition"] for k in labels]
                           + [findings[k]["own_inputs_law"] for k in labels],
                           "ylabel": "λmax/λmin of ΔK ΔKᵀ (non-zero)"})
    return Measurement(float(np.mean(measured)), mean_se(measured)[1], int(measured.size),
                       details={"summary": summary, "measured_log_condition": measured.tolist(), "findings": findings},
                       figures=(fig,), raw=(arm, cell, layers, measured), training=_evidence([cell], [arm]))


# ============================================================================= modules and ablation


def _modules_measure(arches, *, level=0.0):
    def measure(config, rng, fixtures):
        loss = config["loss"]
        base = _arm(fixtures, loss, "plain", dataset=_dataset(config))
        b = _cell(base, level)
        layers = _layers(base)
        zb = _probe(b, "zero_fraction", layers)
        parts, cells, arms = {}, [b], [base]
        for arch in arches:
            if arch.startswith("magic"):
                ratio = float(arch.split(":")[1])
                a = _arm(fixtures, loss, "magic", dataset=_dataset(config))
                c = _cell(a, ratio)
                lab = f"magic synapse rho={ratio:g}"
            else:
                a = _arm(fixtures, loss, arch, dataset=_dataset(config))
                c = _cell(a, level)
                lab = {"modules": "all modules"}.get(arch, arch)
            parts[lab] = _part(_probe(c, "zero_fraction", layers) - zb,
                               statistic="seed-paired difference of the zero fraction (mean over key layers) against "
                               "the plain ReLU / affine-LN arm; same initial weights and minibatches per seed",
                               extra={"test_accuracy_change": float(np.mean(_f(c["test_accuracy"]) - _f(b["test_accuracy"])))})
            cells.append(c)
            arms.append(a)
        summary = (f"{_LOSS_NAME[loss]}, sigma={level:g}: zero fraction plain {np.mean(zb):.4f}; "
                   + "; ".join(f"{k} {p['value']:+.4f} (test accuracy {p['test_accuracy_change']:+.4f})"
                               for k, p in parts.items()) + f"; {_arm_steps(*dict((id(a), a) for a in arms).values())}")
        head = next(iter(parts.values()))
        return Measurement(head["value"], head["se"], head["n"], details={"parts": parts, "summary": summary},
                           figures=(_bars(f"Zero fraction against the plain arm, {_LOSS_NAME[loss]}", parts,
                                          "paired difference (mean ± t·SE)"),),
                           training=_evidence(cells, list({id(a): a for a in arms}.values())))

    return _guard(measure)


# ============================================================================= literature metrics


def _literature_measure(key, label, *, transform, reduce="mean", arch="plain", other_arch=None):
    """Paired effect of a per-net literature metric: noisy - plain (or ``other_arch`` - plain at each level)."""

    def measure(config, rng, fixtures):
        loss = config["loss"]
        arm = _arm(fixtures, loss, arch, dataset=_dataset(config))
        layers = _layers(arm)
        get = _getter(key, layers, reduce)
        if other_arch is None:
            top = _levels(arm)[-1]
            c0, c1 = _cell(arm, 0.0), _cell(arm, top)
            v0, v1 = get(c0), get(c1)
            parts = {f"σ={top:g} vs 0": _part(transform(v1, v0), statistic=label)}
            cells, arms = [c0, c1], [arm]
            what = f"sigma 0 -> {top:g}"
        else:
            oth = _arm(fixtures, loss, other_arch, dataset=_dataset(config))
            parts, cells, arms = {}, [], [arm, oth]
            for lv in _levels(arm):
                c0, c1 = _cell(arm, lv), _cell(oth, lv)
                parts[f"σ={lv:g}"] = _part(transform(get(c1), get(c0)), statistic=label, judged=(lv == 0.0))
                cells += [c0, c1]
            v0, v1 = get(_cell(arm, 0.0)), get(_cell(oth, 0.0))
            what = f"{arch} -> {other_arch} at sigma 0"
        summary = f"{_LOSS_NAME[loss]}: {key} {np.mean(v0):.4f} -> {np.mean(v1):.4f} ({what}); {_arm_steps(*arms)}"
        head = next(iter(parts.values()))
        return Measurement(head["value"], head["se"], head["n"], details={"parts": parts, "summary": summary},
                           figures=(_bars(f"{key}, {_LOSS_NAME[loss]}", parts, "paired effect (mean ± t·SE)"),),
                           training=_evidence(cells, arms))

    return _guard(measure)


def _getter(key, layers, reduce):
    def get(cell):
        if key.startswith("pruning.") or key.startswith("cett."):
            grp, k = key.split(".", 1)
            return _f(cell[grp][k])
        return _probe(cell, key, layers, reduce=reduce)

    return get


def _diff(v1, v0):
    return v1 - v0


def _rev_diff(v1, v0):
    return v0 - v1


_SPARSITY_MARGIN = margin(
    "min_effect", 0.05,
    "5 percentage points of neurons: for any activation ratio rho <= 0.5 it changes the ideal sparse-kernel speed-up "
    "1/rho by at least 10 % (docs/science.md §7), the smallest change that matters for compute")
_DORMANT_MARGIN = margin(
    "min_effect", 0.05,
    "5 percentage points of the last key layer's neurons (6 of 128): ReDo (arXiv 2302.12902) treats dormancy of "
    "tens of percent as a loss of capacity; under 5 points the change is below a tenth of the +0.34 an earlier run "
    "of this kind saw")
_PRUNE_MARGIN = margin(
    "min_effect", 0.05,
    "5 % of all weights: 2.5 steps of the 0.02 pruning grid, and the smallest change in prunable weights worth "
    "reporting as a difference in essential sparsity (arXiv 2306.03805)")
_NM_MARGIN = margin(
    "min_effect", 0.01,
    "one point of test accuracy: the tolerance delta = 0.01 that defines essential sparsity here (a smaller change in "
    "the 2:4 drop is within what the definition itself ignores)")


def _dir_predict(m, statistic, what):
    def predict(config):
        return _directional_prediction(statistic, m, what=what)

    return predict


# ============================================================================= sparsing law


def _sl_predict(config) -> Prediction:
    return Prediction(float("nan"), (-math.inf, -config["daic"]), law="law", details={
        "statistic": "AIC of the hypothesis' form minus the best AIC among the other forms, fitted to the seed-mean "
        "activation ratio (1 - zero fraction, mean over key layers) of the plain sigma = 0 cell against D = examples "
        "seen / 1000 (grid checkpoints, step 0 dropped)",
        "forms": "law: A(D) = exp(-c D^alpha + b) + A0 (arXiv 2411.02335); rivals: a constant, a pure power law k D^-beta",
        "rule": f"pass if below -{config['daic']:g} (the form beats every other by dAIC {config['daic']:g}), fail if above "
        f"+{config['daic']:g}; the law must also decrease, have R^2 >= {config['r2_min']} and A0 in [0, 1] "
        "(else fail / inconclusive)"})


def _sl_rival(form, desc):
    def predict(config):
        return Prediction(float("nan"), (-math.inf, -config["daic"]), law=form, details={"rival": desc})

    return Rival(form, predict, desc)


def _sl_statistic(pred: Prediction, raw: Measurement) -> Measurement:
    if raw.raw is None:
        return raw
    an = raw.raw
    aics = {"law": an["law"]["aic"], "constant": an["constant"]["aic"], "power law": an["power_law"]["aic"]}
    aics = {k: (v if math.isfinite(v) else math.inf) for k, v in aics.items()}
    mine = aics[pred.law]
    best_other = min(v for k, v in aics.items() if k != pred.law)
    return Measurement(float(mine - best_other), None, 1, details={**raw.details, "aic": aics, "form": pred.law},
                       figures=raw.figures, training=raw.training)


def _sl_compare(pred: Prediction, meas: Measurement) -> Verdict:
    if meas.details.get("missing"):
        return Verdict("inconclusive", meas.details["missing"])
    daic = -pred.band[1]
    v = float(meas.value)
    form = meas.details.get("form", pred.law)
    desc = f"{form}: AIC minus the best other form {v:+.1f} (dAIC {daic:g}); {meas.details.get('summary', '')}"
    if not math.isfinite(v):
        return Verdict("inconclusive", desc)
    thr = (margin("delta_aic", daic, "Burnham & Anderson (2002, §2.6): a model 10 AIC units worse has essentially no "
                  "support; strict because training-trajectory residuals are autocorrelated"),)
    if v >= daic:
        return Verdict("fail", desc, thr)
    if v > -daic:
        return Verdict("inconclusive", desc + "; not separated from the best other form", thr)
    if form == "law":
        law = meas.details["law"]
        if not law["c"] * law["alpha"] > 0:
            return Verdict("fail", desc + "; the fitted law rises with D (the ReLU sparsing law decreases)", thr)
        if not law["r2"] >= meas.details["r2_min"]:
            return Verdict("fail", desc + f"; R^2 {law['r2']:.3f} < {meas.details['r2_min']}", thr)
        if not 0.0 <= law["a0"] <= 1.0:
            return Verdict("inconclusive", desc + f"; the limit A0 = {law['a0']:.3g} is not identified in this window", thr)
    return Verdict("pass", desc, thr)


@_guard
def _sl_measure(config, rng, fixtures):
    from ..sparsing_law import sparsing_analysis

    loss = config["loss"]
    arm = _arm(fixtures, loss, "plain", dataset=_dataset(config))
    c0 = _cell(arm, 0.0)
    steps = _f(arm["checkpoint_steps"])
    zf = _f(c0["trajectory"]["zero_fraction"])  # (seeds, checkpoints), mean over key layers, full training set
    A = 1.0 - zf.mean(axis=0)
    D = steps * arm["batch_size"] / 1000.0
    if D.size - 1 < 6:
        raise _Missing(f"only {D.size - 1} checkpoints after step 0: the 4-parameter law needs at least 6")
    an = sparsing_analysis(D[1:], A[1:])
    law = an["law"]
    series = {"measured": A[1:].tolist(), "law fit": an["law_curve"]}
    if an["power_law_curve"] is not None:
        series["pure power law (rival)"] = an["power_law_curve"]
    series["constant (rival)"] = [an["constant"]["value"]] * (len(A) - 1)
    fig = FigureData(kind="lines", title=f"Activation ratio over training, {_LOSS_NAME[loss]} (plain arm, σ = 0)",
                     data={"x": D[1:].tolist(), "series": series, "xlabel": "D = examples seen / 1000",
                           "ylabel": "activation ratio (1 - zero fraction)"})
    summary = (f"{_LOSS_NAME[loss]}: R^2 {law['r2']:.4f}, alpha {law['alpha']:.3g}, c {law['c']:.3g}, A0 {law['a0']:.4g}; "
               f"{an['n_points']} checkpoints to step {int(steps[-1])}; {arm['seeds']} seeds averaged")
    return Measurement(float(law["r2"]), None, int(arm["seeds"]),
                       details={"summary": summary, "law": law, "r2_min": config["r2_min"], "D": D[1:].tolist(),
                                "activation_ratio": A[1:].tolist(), "constant": an["constant"],
                                "power_law": an["power_law"]},
                       figures=(fig,), raw=an, training=_evidence([c0], [arm]))


# ============================================================================= registry


def _p(loss, **extra):
    """Every profile reads the grid of the same name; the claim's own config only names the loss."""
    return {prof: {"loss": loss, **extra} for prof in ("smoke", "quick", "full")}


def _literature_claim(loss, id, statement, source, *, margin, predicted, measure) -> Claim:
    """A literature metric on the grid, judged in its source's direction against the "no effect" rival.

    ``margin`` is the minimum effect stated in advance; the prediction's region and the rival's
    no-effect band both use it, so the two cannot disagree. ``predicted`` is ``(statistic, direction)``
    as :func:`_dir_predict` takes them.
    """
    return Claim(id=id, statement=statement, source=source, predict=_dir_predict(margin, *predicted),
                 measure=measure, compare=_parts_verdict, profiles=_p(loss), kind="empirical",
                 rivals=(no_effect_rival(margin),), fixtures=(GRID,))


def _claims_for(loss) -> list[Claim]:
    name = _LOSS_NAME[loss]
    nf = no_effect_rival(0.0, name="no effect (sigma = 0 control)",
                         description="weight noise changes nothing: every judged paired effect is 0")
    flat_stat = "log(plain / noisy) of tr H and of the augmented flatness, seed-paired"
    out = [
        Claim(id=f"flatness_falls_with_noise_{loss}",
              statement=f"Weight noise lowers tr H and the augmented flatness sum_t ||x_t||^2 ||eta_t||^2 at equal "
              f"steps ({name}, digits FFN).",
              source=SOURCE, predict=_dir_predict(None, flat_stat, "both fall with noise"),
              measure=_flat_measure(False), compare=_parts_verdict, profiles=_p(loss), kind="empirical",
              rivals=(nf,), fixtures=(GRID,)),
        Claim(id=f"flatness_falls_at_matched_loss_{loss}",
              statement=f"Weight noise lowers tr H and the augmented flatness also at matched train loss: the noisy "
              f"nets against the plain nets' checkpoint of the same train loss ({name}).",
              source=SOURCE, predict=_dir_predict(None, flat_stat + " (plain at its matched checkpoint)",
                                                  "both fall with noise at matched train loss"),
              measure=_flat_measure(True), compare=_parts_verdict, profiles=_p(loss), kind="empirical",
              rivals=(nf,), fixtures=(GRID,)),
        Claim(id=f"ln_norm_does_not_shrink_{loss}",
              statement=f"With affine LayerNorm, min ||x||/sqrt(d) over layers and examples does not fall with weight "
              f"noise: flatness is not bought with a small denominator ({name}).",
              source=SOURCE, predict=_ln_predict, measure=_ln_measure, compare=_parts_verdict, profiles=_p(loss),
              kind="empirical", rivals=(Rival("the denominator shrinks", _ln_shrinks,
                                              "noise lowers min ||x|| by more than the margin"),), fixtures=(GRID,)),
        Claim(id=f"gradient_sparsity_rises_with_noise_{loss}",
              statement=f"Weight noise raises gradient sparsity: the share of |eta_i| <= tau rms(eta_t) (tau 1e-3, "
              f"1e-2) rises and the gradient-density ratio E[g^2 | active] / E[g^2] falls ({name}).",
              source=SOURCE + "; the density ratio as in codes/scripts/after_training/gradient_density.py of cdgyp/sparsity",
              predict=_dir_predict(None, "paired effects oriented so that > 0 is sparser with noise",
                                   "gradient sparsity rises"),
              measure=_gs_measure, compare=_parts_verdict, profiles=_p(loss), kind="empirical", rivals=(nf,),
              fixtures=(GRID,)),
        Claim(id=f"gradient_sparsity_tracks_activation_sparsity_{loss}",
              statement=f"Across weight-noise levels and seeds, the zero fraction and the gradient sparsity of the "
              f"active set (-ln of the gradient-density ratio) move together: Spearman rho's bootstrap CI lies above "
              f"0.3 ({name}).",
              source=SOURCE, predict=_rho_predict, measure=_rho_measure, compare=_ci_rule, profiles=_p(loss), kind="empirical",
              rivals=(Rival("no association", _rho_none, "|rho| < 0.3"),), fixtures=(GRID,)),
        Claim(id=f"shifted_s_control_{loss}",
              statement=f"With the shifted S activation (flat, zero derivative, at the non-zero output 1.6), weight "
              f"noise raises the flat-region share and the gradient sparsity while exact zeros stay absent: noise "
              f"drives gradient sparsity, not zero outputs ({name}).",
              source=SOURCE + "; the shifted activation of its code (shift 1.6)",
              predict=_dir_predict(None, "paired effects (noisy - plain) of the flat-region share and of the "
                                   "relative gradient sparsity", "both rise"),
              measure=_ss_measure, compare=_parts_verdict, profiles=_p(loss), kind="empirical", rivals=(nf,),
              fixtures=(GRID,)),
        Claim(id=f"noise_concentrates_key_spectrum_{loss}",
              statement=f"Weight noise makes the trained key matrices' spectra more concentrated: lower "
              f"lambda_max/lambda_min of K K^T than without noise ({name}).",
              source=SOURCE + "; docs/science.md §5 (spectral concentration, paper-code convention)",
              predict=_dir_predict(None, "seed-paired log(conc plain / conc noisy)", "> 0"),
              measure=_conc_measure, compare=_parts_verdict, profiles=_p(loss), kind="empirical", rivals=(nf,),
              fixtures=(GRID,)),
        Claim(id=f"key_update_weighted_mp_{loss}",
              statement=f"The update K_T - r^T K_0 of the noisy SGD nets has the condition number of the weighted-MP "
              f"law built from the nets' own discounted LayerNorm-ed inputs (r = 1 - lr wd) ({name}).",
              source="Peng et al., arXiv 2309.03004 (its RMT theorem, 'Theorem 8' in its code); Silverstein & Bai "
              "1995; docs/science.md §5",
              predict=_wmp_prediction("own inputs", "weighted MP, weights = eigenvalues of sum_s r^(2(T-s)) sum_i x_i "
                                      "x_i^T of the net's own inputs"),
              measure=_wmp_measure, compare=_wmp_compare, statistic=_wmp_statistic, profiles=_p(loss),
              kind="heuristic",
              rivals=(Rival("paper heuristic", _wmp_prediction("heuristic", "the paper's heuristic input spectrum "
                                                               "MP(d / (B min(T, T_eff)))"),
                            "inner spectrum from the heuristic MP instead of the nets' own inputs"),
                      Rival("isotropic inputs", _wmp_prediction("isotropic", "isotropic inputs: MP(d_ff/d), as a "
                                                                "Gaussian K"), "no input anisotropy (a random K)")),
              fixtures=(GRID,)),
        Claim(id=f"modules_raise_zero_fraction_{loss}",
              statement=f"J-SquaredReLU + zeroth bias + restricted LayerNorm together raise the zero fraction "
              f"against the plain ReLU / affine-LN arm ({name}, no weight noise).",
              source="Peng et al., arXiv 2309.03004 (the modules)",
              predict=_dir_predict(None, "seed-paired zero-fraction difference", "> 0"),
              measure=_modules_measure(("modules",)), compare=_parts_verdict, profiles=_p(loss), kind="empirical",
              rivals=(nf,), fixtures=(GRID,)),
        Claim(id=f"module_ablation_{loss}",
              statement=f"Each module alone (J-SquaredReLU, zeroth bias, restricted LayerNorm), all together, and the "
              f"magic synapse (rho 0.05, 0.1) raise the zero fraction against the plain arm ({name}; full grid).",
              source="Peng et al., arXiv 2309.03004 (the modules and the magic synapse)",
              predict=_dir_predict(None, "seed-paired zero-fraction difference per module", "> 0 for each"),
              measure=_modules_measure(("jsrelu", "zeroth_bias", "restricted_ln", "modules", "magic:0.05", "magic:0.1")),
              compare=_parts_verdict, profiles=_p(loss), kind="empirical", rivals=(nf,), fixtures=(GRID,)),
        _literature_claim(loss, f"dormant_grows_with_noise_{loss}",
              statement=f"Weight noise raises the share of tau-dormant neurons (tau = 0.1, last key layer) by at least "
              f"5 points ({name}).",
              source="Sokar et al., ReDo, arXiv 2302.12902; Peng et al., arXiv 2309.03004",
              margin=_DORMANT_MARGIN, predicted=("paired difference of the dormant@0.1 share, last key layer",
                                                 "rises by more than the margin"),
              measure=_literature_measure("dormant@0.1", "paired difference of the tau = 0.1 dormant share, last key "
                                          "layer", transform=_diff, reduce="last")),
        _literature_claim(loss, f"cett_sparsity_rises_with_noise_{loss}",
              statement=f"Weight noise raises the PPL-1% sparsity (the sparsest CETT thresholding within 1 % "
              f"perplexity) by at least 5 points ({name}).",
              source="Luo et al., 'Sparsing Law', arXiv 2411.02335; Zhang et al., arXiv 2402.03804",
              margin=_SPARSITY_MARGIN, predicted=("paired difference of the PPL-1% sparsity (mean over key layers)",
                                                  "rises by more than the margin"),
              measure=_literature_measure("cett.ppl_sparsity", "paired difference of the PPL-1% sparsity",
                                          transform=_diff)),
        _literature_claim(loss, f"relu2_sparser_than_relu_{loss}",
              statement=f"At matched CETT (0.2), squared ReLU prunes more neurons than ReLU, by at least 5 points "
              f"({name}; full grid).",
              source="Zhang et al., 'ReLU^2 wins', arXiv 2402.03804; Luo et al., arXiv 2411.02335",
              margin=_SPARSITY_MARGIN, predicted=("seed-paired difference of the CETT-0.2 sparsity, relu2 - relu",
                                                  "relu2 sparser by more than the margin"),
              measure=_literature_measure("cett.cett_sparsity", "paired difference of the pruned share at CETT 0.2",
                                          transform=_diff, other_arch="relu2")),
        _literature_claim(loss, f"essential_sparsity_rises_with_noise_{loss}",
              statement=f"Nets trained with weight noise keep a larger essential sparsity (one-shot global magnitude "
              f"pruning within 1 accuracy point), by at least 5 % of the weights ({name}).",
              source="Jaiswal et al., 'Essential sparsity', arXiv 2306.03805; Peng et al., arXiv 2309.03004",
              margin=_PRUNE_MARGIN, predicted=("paired difference of the essential sparsity",
                                               "rises by more than the margin"),
              measure=_literature_measure("pruning.essential_sparsity", "paired difference of the essential sparsity",
                                          transform=_diff)),
        _literature_claim(loss, f"nm_pruning_tolerance_with_noise_{loss}",
              statement=f"Nets trained with weight noise lose less test accuracy under 2:4 pruning (keep 2 of every "
              f"4 weights), by at least one accuracy point ({name}).",
              source="Jaiswal et al., arXiv 2306.03805 (N:M pruning); Peng et al., arXiv 2309.03004",
              margin=_NM_MARGIN, predicted=("paired difference of the 2:4 accuracy drop (plain - noisy)",
                                            "the noisy drop is smaller by more than the margin"),
              measure=_literature_measure("pruning.nm_accuracy_drop", "paired difference of the 2:4 accuracy drop, "
                                          "plain - noisy", transform=_rev_diff)),
        Claim(id=f"sparsing_law_fit_{loss}",
              statement=f"The activation ratio over training follows the ReLU sparsing-law form exp(-c D^alpha + b) + "
              f"A0 better than a constant or a pure power law ({name}, plain arm).",
              source="Luo et al., 'Sparsing Law', arXiv 2411.02335",
              predict=_sl_predict, measure=_sl_measure, compare=_sl_compare, statistic=_sl_statistic,
              profiles=_p(loss, daic=10.0, r2_min=0.9), kind="empirical",
              rivals=(_sl_rival("constant", "no trend: a constant activation ratio"),
                      _sl_rival("power law", "a pure power law k D^-beta")),
              fixtures=(GRID,)),
    ]
    return [_full_only(c) if c.id in _full_only_ids(loss) else c for c in out] + _mnist1d_claims(out, loss)


def _full_only_ids(loss) -> set[str]:
    """Claims whose arms only the full grid trains (each module alone, the magic synapse, ReLU²; the shifted-S and
    SGD arms with cross-entropy)."""
    ids = {f"module_ablation_{loss}", f"relu2_sparser_than_relu_{loss}"}
    if loss == "ce":
        ids |= {"shifted_s_control_ce", "key_update_weighted_mp_ce"}
    return ids


def _full_only(claim: Claim, **extra) -> Claim:
    """``claim`` defined for the full profile only: smaller profiles' runs leave it out (:meth:`Claim.runs_in`)."""
    return dataclasses.replace(claim, profiles={"full": {**claim.profiles["full"], **extra}})


#: The chain's links re-measured on the full grid's MNIST-1D arms (plain and all modules, AdamW).
_MNIST1D_LINKS = ("flatness_falls_with_noise", "flatness_falls_at_matched_loss", "ln_norm_does_not_shrink",
                  "gradient_sparsity_rises_with_noise", "gradient_sparsity_tracks_activation_sparsity",
                  "noise_concentrates_key_spectrum", "modules_raise_zero_fraction")


def _mnist1d_claims(claims, loss) -> list[Claim]:
    out = []
    for c in claims:
        if c.id[: -len(loss) - 1] not in _MNIST1D_LINKS:
            continue
        statement = (c.statement.replace("digits", "MNIST-1D") if "digits" in c.statement
                     else c.statement.rstrip(".") + " (MNIST-1D).")
        out.append(dataclasses.replace(_full_only(c, dataset="mnist1d"), id=c.id[: -len(loss)] + "mnist1d_" + loss,
                                       statement=statement))
    return out


CLAIMS = [c for loss in LOSSES for c in _claims_for(loss)]
