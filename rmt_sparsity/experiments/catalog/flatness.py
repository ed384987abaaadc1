"""Claims about flatness measures (arXiv 2309.03004; weight-noise sharpness and Hessian measures).

* ``noise_sharpness_taylor`` (identity) - weight-noise sharpness against its quadratic
  prediction, :math:`\\mathbb E[L(W+E)] - L(W) = \\tfrac{s^2}{2}\\operatorname{tr}H + O(s^4)`,
  on a small trained MLP with a smooth activation (GELU): Taylor's theorem, true by
  construction, reported outside the tally. The ratio :math:`R(s)` is measured with
  paired draws (:func:`rmt_sparsity.flatness.noise_sharpness` with ``hessian_term=True``)
  and Richardson-extrapolated to :math:`s \\to 0` from :math:`s_0, 2s_0`; that it
  agrees with 1 to within 1e-3 shows the estimator resolves the ReLU claim's margin.
* ``noise_sharpness_trace`` - the same ratio, setting and estimator with ReLU: the
  autodiff Hessian misses the kinks, which add positive curvature, so
  :math:`R_0 > 1` by at least the stated margin 1 %; the rival is "no kink effect"
  (:math:`R_0 = 1` within the margin, Taylor's prediction for a smooth loss).
* ``noise_trained_flatter`` - networks trained with Gaussian weight noise at
  the gradient point end in flatter minima than the same networks (same init,
  same data, same minibatches) trained without: lower Hessian trace
  (Hutchinson) and lower top eigenvalue (Lanczos, largest algebraic), as paired
  log-ratios over seeds.

Both train :class:`rmt_sparsity.nn.MLP` networks with :func:`rmt_sparsity.nn.train`
on :func:`rmt_sparsity.nn.teacher_student` data. Heavy imports (JAX, the nn
and flatness subpackages) happen inside ``measure``.
"""

from __future__ import annotations

import math

import numpy as np

from ..._stats import mean_se
from ..claims import (
    Claim,
    FigureData,
    Measurement,
    Prediction,
    Rival,
    Verdict,
    agrees_within_se,
    margin,
    within_band,
)

__all__ = ["CLAIMS"]


def _mse_loss(model):
    """``loss(params, (x, y)) = mean_i 1/2 ||f(x_i) - y_i||^2`` through the unchecked (traceable) forward."""
    import jax.numpy as jnp

    def loss(params, batch):
        x, y = batch
        out, _ = model.forward(params, x)
        return 0.5 * jnp.mean(jnp.sum(jnp.square(out - y), axis=-1))

    return loss


def _data(config, rng, dtype):
    from ...nn import teacher_student

    return teacher_student(
        n_train=config["n_train"], n_test=config.get("n_test", 128), d_in=config["d_in"], d_out=1,
        teacher_width=config.get("teacher_width", 16), noise=config.get("label_noise", 0.1), rng=rng, dtype=dtype,
    )


# ============================================================================= noise sharpness vs trace

#: The smallest kink effect that matters (relative excess of the noise sharpness over (s^2/2) tr H).
KINK_MARGIN = margin(
    "kink_margin", 0.01,
    "1 %: a kink effect below it could not change any flatness comparison the toolkit makes (the paired "
    "Hessian-trace log-ratios between trained arms have seed SEs of several %), and it is 100x the resolution "
    "the GELU identity demonstrates in the same setting with the same estimator (its margin 1e-3, reached at ~1e-5)")

#: Agreement the smooth (GELU) identity must reach: 10x finer than the ReLU claim's margin.
TAYLOR_MARGIN = margin(
    "taylor_margin", 1e-3,
    "Taylor's theorem gives R0 = 1 exactly; 1e-3 is 10x finer than the 1 % kink margin of noise_sharpness_trace, "
    "so an agreement within it shows that the estimator resolves that claim's effect")


def _nst_statistic_desc():
    return ("R0 = lim_{s->0} (E[L(W+E)] - L(W)) / ((s^2/2) tr H), Richardson-extrapolated from s0 and 2 s0: "
            "R0 = (4 R(s0) - R(2 s0)) / 3 (cancels an O(s^2) term)")


def _taylor_predict(config) -> Prediction:
    return Prediction(
        value=1.0,
        details={
            "statistic": _nst_statistic_desc(),
            "why": "second-order Taylor expansion of a C^4 loss with E ~ N(0, s^2 I); antithetic draws remove odd orders",
        },
        thresholds=(TAYLOR_MARGIN,),
    )


def _kink_predict(config) -> Prediction:
    m = KINK_MARGIN.value
    return Prediction(
        value=float("nan"),
        band=(1.0 + m, math.inf),
        details={"statistic": _nst_statistic_desc() + ", ReLU network",
                 "why": "ReLU's kinks add curvature (a delta function in sigma'') that the autodiff Hessian misses; "
                 "for a convex kink it is positive, so R0 > 1"},
        thresholds=(KINK_MARGIN,),
    )


def _no_kink_predict(config) -> Prediction:
    m = KINK_MARGIN.value
    return Prediction(1.0, (1.0 - m, 1.0 + m), details={"statistic": "R0 within the kink margin of 1"},
                      thresholds=(KINK_MARGIN,))


def _nst_measure(config, rng) -> Measurement:
    import jax

    from ..._rng import jax_key_from
    from ...flatness import noise_sharpness
    from ...nn import MLP, train

    act = config["activation"]
    sigmas = [config["sigma0"] * 2.0**j for j in range(config["n_sigmas"])]
    key = jax_key_from(rng)
    with jax.enable_x64(True):  # float64: the paired differences d_i - q_i are O(s^4) small
        ds = _data(config, rng, np.float64)
        batch = (jax.numpy.asarray(ds.x_train), jax.numpy.asarray(ds.y_train))
        model = MLP(d_in=config["d_in"], d_out=1, width=config["width"], depth=config["depth"],
                    activation=act, layernorm="none")
        kt, km = jax.random.split(key)
        res = train(model, ds, "adam", key=kt, steps=config["steps"], lr=config["lr"],
                    batch_size=config["batch_size"], probes=False, quiet=True)
        loss = _mse_loss(model)
        R, se, trace = [], [], []
        for i, s in enumerate(sigmas):
            r = noise_sharpness(loss, res.params, batch, key=jax.random.fold_in(km, i), sigma=s,
                                samples=config["samples"], hessian_term=True)
            R.append(float(r.ratio))
            se.append(float(r.ratio_se))
            trace.append(float(2.0 * r.quadratic / s**2))
    r0 = (4.0 * R[0] - R[1]) / 3.0
    se0 = math.sqrt(16.0 * se[0] ** 2 + se[1] ** 2) / 3.0  # independent draws per sigma
    fig = FigureData(
        kind="lines",
        title=f"Weight-noise sharpness / ((s^2/2) tr H), {act} MLP",
        data={
            "x": sigmas,
            "series": {act: R},
            "errors": {act: se},
            "hlines": {"quadratic prediction (Taylor)": 1.0, "1 + kink margin": 1.0 + KINK_MARGIN.value},
            "logx": True,
            "xlabel": "s (absolute weight-noise std)",
            "ylabel": "R(s) = measured / predicted",
        },
    )
    return Measurement(
        value=r0,
        se=se0,
        n=config["samples"] * 2,
        details={"activation": act, "sigmas": sigmas, "ratio": R, "ratio_se": se, "trace_estimate": trace,
                 "train_loss": float(r.loss), "samples_per_sigma": config["samples"],
                 "network": "MLP, layernorm='none', MSE on teacher data"},
        figures=(fig,),
    )


def _taylor_compare(pred: Prediction, meas: Measurement) -> Verdict:
    return agrees_within_se(pred, meas, k=4.0, margin=TAYLOR_MARGIN)


def _kink_compare(pred: Prediction, meas: Measurement) -> Verdict:
    v = within_band(pred, meas)
    R = ", ".join(f"{x:.4f}" for x in meas.details["ratio"])
    sig = ", ".join(f"{s:g}" for s in meas.details["sigmas"])
    return Verdict(v.status, f"R0 {v.reason}; R(s) = [{R}] at s = [{sig}]", v.thresholds, v.alpha)


_NST_PROFILES = {
    "smoke": {"d_in": 4, "width": 8, "depth": 1, "n_train": 64, "n_test": 32, "steps": 50, "lr": 1e-2,
              "batch_size": 32, "sigma0": 0.01, "n_sigmas": 2, "samples": 200},
    "quick": {"d_in": 8, "width": 32, "depth": 2, "n_train": 256, "steps": 400, "lr": 1e-2,
              "batch_size": 64, "sigma0": 0.0025, "n_sigmas": 5, "samples": 1000},
    "full": {"d_in": 16, "width": 64, "depth": 2, "n_train": 1024, "steps": 2000, "lr": 5e-3,
             "batch_size": 128, "sigma0": 0.00125, "n_sigmas": 7, "samples": 4000},
}


def _nst_profiles(act):
    return {k: dict(v, activation=act) for k, v in _NST_PROFILES.items()}


# ============================================================================= noise-trained minima are flatter


def _ntf_predict(config) -> Prediction:
    return Prediction(
        value=float("nan"),
        band=(-math.inf, 0.0),
        details={
            "statistic": "mean over seeds of log(measure_noisy / measure_plain), for tr H and lambda_max",
            "rule": "pass if both are < 0 by 2 SE, fail if either is > 0 by 2 SE, else inconclusive",
            "why": "weight noise descends E[L(W+E)] ~ L + (s^2/2) tr(S H): an explicit curvature penalty",
        },
    )


def _ntf_measure(config, rng) -> Measurement:
    import jax
    import jax.numpy as jnp

    from ..._rng import jax_key_from
    from ...flatness import hutchinson_trace, lanczos
    from ...nn import MLP, train_ensemble

    key = jax_key_from(rng)
    ds = _data(config, rng, np.float32)
    batch = (jnp.asarray(ds.x_train), jnp.asarray(ds.y_train))
    model = MLP(d_in=config["d_in"], d_out=1, width=config["width"], depth=config["depth"], activation="relu",
                layernorm=config.get("layernorm", "affine"))
    loss = _mse_loss(model)
    # Both arms and all seeds train as ONE vectorised ensemble (nn.train_ensemble): member (seed, arm) equals
    # train(..., key=fold_in(key, seed), sigma=arm's sigma) to rounding. The plain arm has sigma = 0
    # (W + 0 * xi = W exactly), so both arms see the same initialisation and minibatch stream per seed.
    arms = {"plain": 0.0, "noisy": config["train_sigma"]}
    members = [(s, arm) for s in range(config["seeds"]) for arm in arms]
    ens = train_ensemble(model, ds, "adam", keys=[jax.random.fold_in(key, s) for s, _ in members],
                         steps=config["steps"], lr=config["lr"], batch_size=config["batch_size"],
                         sigma=[arms[a] for _, a in members], relative=True, probes=False, quiet=True)
    params = {a: [] for a in arms}
    info = {a: {"train_loss": [], "test_loss": [], "weight_rms": []} for a in arms}
    for i, (_, arm) in enumerate(members):
        res = ens.member(i)
        params[arm].append(res.params)
        info[arm]["test_loss"].append(float(res.history["test_loss"][-1]))
        w = [np.asarray(v) for p, v in jax.tree_util.tree_leaves_with_path(res.params)
             if getattr(p[-1], "key", None) == "w"]
        info[arm]["weight_rms"].append(float(np.sqrt(np.mean(np.concatenate([x.ravel() ** 2 for x in w])))))

    kh, kl = jax.random.split(jax.random.fold_in(key, 10**6))

    def measures(p):  # vmapped over the seeds of one arm (the ensemble use of the flatness API)
        t = hutchinson_trace(loss, p, batch, key=kh, probes=config["probes"])
        e = lanczos(loss, p, batch, key=kl, k=1, iters=config["iters"], which="LA")
        return t.estimate, t.se, e.eigenvalues[0], e.residuals[0], t.loss

    ensemble = jax.jit(jax.vmap(measures))  # jit the vmapped ensemble once: both arms reuse the compilation
    out = {}
    for arm in arms:
        stacked = jax.tree_util.tree_map(lambda *a: jnp.stack(a), *params[arm])
        tr, tr_se, lam, lam_res, tl = (np.asarray(v, dtype=float) for v in ensemble(stacked))
        out[arm] = {"trace": tr, "trace_se": tr_se, "lambda_max": lam, "lambda_residual": lam_res}
        info[arm]["train_loss"] = tl.tolist()
    positive = all(np.all(out[a][m] > 0) for a in arms for m in ("trace", "lambda_max"))
    if positive:
        lt = np.log(out["noisy"]["trace"] / out["plain"]["trace"])
        ll = np.log(out["noisy"]["lambda_max"] / out["plain"]["lambda_max"])
    else:
        lt = ll = np.full(config["seeds"], np.nan)
    (mt, st), (ml, sl) = mean_se(lt), mean_se(ll)
    details = {
        "log_ratio_trace": lt.tolist(), "log_ratio_lambda_max": ll.tolist(),
        "mean_log_ratio_lambda_max": ml, "se_log_ratio_lambda_max": sl,
        "train_sigma_relative": config["train_sigma"],
        "per_arm": {a: {**{k: np.asarray(v).tolist() for k, v in out[a].items()}, **info[a]} for a in arms},
        "all_positive": positive,
        "caveat": "flatness measures are not reparametrisation-invariant; weight_rms and losses are reported beside them",
    }
    fig = FigureData(
        kind="bars",
        title=f"Noise-trained (relative s = {config['train_sigma']}) vs plain, paired over {config['seeds']} seeds",
        data={"labels": ["log tr H ratio", "log lambda_max ratio"],
              "values": [mt, ml], "errors": [st, sl],
              "ylabel": "log(noise-trained / plain)"},
    )
    return Measurement(value=mt, se=st, n=config["seeds"], details=details, figures=(fig,))


def _ntf_compare(pred: Prediction, meas: Measurement) -> Verdict:
    k = 2.0  # one-sided ~97.7 % for each sign decision
    mt, st = meas.value, meas.se
    ml, sl = meas.details["mean_log_ratio_lambda_max"], meas.details["se_log_ratio_lambda_max"]
    if not all(math.isfinite(x) for x in (mt, st, ml, sl)):
        return Verdict("inconclusive", f"non-finite statistics (trace {mt}, lambda {ml}; a measure was <= 0?)")
    pa = meas.details["per_arm"]
    desc = (
        f"log(noisy/plain): tr H {mt:+.3f} ± {st:.3f}, lambda_max {ml:+.3f} ± {sl:.3f} over {meas.n} seeds "
        f"(train loss plain {np.mean(pa['plain']['train_loss']):.3g} vs noisy {np.mean(pa['noisy']['train_loss']):.3g}; "
        f"weight rms {np.mean(pa['plain']['weight_rms']):.3g} vs {np.mean(pa['noisy']['weight_rms']):.3g})"
    )
    if mt + k * st < 0 and ml + k * sl < 0:
        return Verdict("pass", desc)
    if mt - k * st > 0 or ml - k * sl > 0:
        return Verdict("fail", desc)
    return Verdict("inconclusive", desc + f"; not both below 0 by {k:g} SE")


CLAIMS = [
    Claim(
        id="noise_sharpness_taylor",
        statement="Weight-noise sharpness = (s^2/2) tr H + O(s^4) on a smooth (GELU) network (Taylor's theorem).",
        source="Taylor expansion; docs/science.md §5",
        predict=_taylor_predict,
        measure=_nst_measure,
        compare=_taylor_compare,
        profiles=_nst_profiles("gelu"),
        kind="identity",
    ),
    Claim(
        id="noise_sharpness_trace",
        statement="On a ReLU network weight-noise sharpness exceeds (s^2/2) tr H by at least 1 % as s -> 0: "
        "the kinks add positive curvature that the autodiff Hessian misses.",
        source="docs/science.md §5; PAC-Bayes sharpness (Neyshabur et al., arXiv 1706.08947)",
        predict=_kink_predict,
        measure=_nst_measure,
        compare=_kink_compare,
        rivals=[Rival("no kink effect", _no_kink_predict,
                      "Taylor's prediction for a smooth loss: R0 = 1 within the kink margin")],
        profiles=_nst_profiles("relu"),
        kind="heuristic",
    ),
    Claim(
        id="noise_trained_flatter",
        statement="Noise-trained minima are flatter: lower Hessian trace and top eigenvalue.",
        source="arXiv 2309.03004 (weight noise -> flatness); docs/science.md §5",
        predict=_ntf_predict,
        measure=_ntf_measure,
        compare=_ntf_compare,
        profiles={
            "smoke": {"d_in": 4, "width": 8, "depth": 1, "n_train": 64, "n_test": 32, "steps": 50, "lr": 1e-2,
                      "batch_size": 32, "train_sigma": 0.1, "seeds": 2, "probes": 8, "iters": 10},
            "quick": {"d_in": 8, "width": 32, "depth": 2, "n_train": 256, "steps": 1000, "lr": 3e-3,
                      "batch_size": 64, "train_sigma": 0.1, "seeds": 6, "probes": 64, "iters": 30},
            "full": {"d_in": 16, "width": 64, "depth": 2, "n_train": 1024, "steps": 4000, "lr": 3e-3,
                     "batch_size": 128, "train_sigma": 0.1, "seeds": 16, "probes": 128, "iters": 50},
        },
        kind="empirical",
    ),
]
