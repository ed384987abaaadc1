"""Claims about the theory's networks and modules (arXiv 2309.03004).

``gradient_identity`` and ``layernorm_norm_facts`` are identities (true by construction:
the chain rule; the gamma clamp and a constructed input): ``kind="identity"``, reported
apart and outside the pass/fail tally; their checks also live in pytest.

* ``gradient_identity`` - per token, :math:`\\|\\partial L_t/\\partial K\\|_F^2 = \\|x_t\\|^2\\|\\eta_t\\|^2`,
  with :math:`\\|\\eta_t\\|^2 = \\sum_{active} g_i^2` for ReLU and :math:`\\ge` for J-SquaredReLU,
  through autodiff of the real model in float64.
* ``layernorm_norm_facts`` - :math:`\\|\\mathrm{LN}(x)\\|^2 = d v/(v+\\varepsilon)`; restricted
  LayerNorm keeps :math:`|\\gamma| \\ge 1` after every training step; with the zeroth bias and
  :math:`\\varepsilon = 0`, :math:`\\|x\\| \\ge 0.9\\sqrt d`, attained.

The trained-network effects (noise, modules, their ablation) are claims of
:mod:`rmt_sparsity.experiments.catalog.chain`, measured on its shared grid.
Heavy imports (JAX, :mod:`rmt_sparsity.nn`) happen inside ``measure``.
"""

from __future__ import annotations

import math

import numpy as np

from ..claims import Claim, FigureData, Measurement, Prediction, margin, within_band

__all__ = ["CLAIMS"]

SOURCE = "Peng, Qi, Shi, Gao, arXiv 2309.03004 (and 2605.25612); docs/science.md §5"


# ============================================================================= gradient identity


def _gi_predict(config) -> Prediction:
    return Prediction(
        value=0.0,
        band=(0.0, config["tol"]),
        details={
            "statistic": "max over tokens, layers and cases of the relative violation of "
            "||dL_t/dK||^2 = ||x_t||^2 ||eta_t||^2, of the ReLU equality with sum_active g^2, "
            "and of the J-SquaredReLU inequality (>=)",
            "why": "dL_t/dK = eta_t x_t^T (chain rule); float64 rounding is ~1e-15",
        },
        thresholds=(margin("tolerance", config["tol"], "float64 rounding of the autodiff chain rule is ~1e-15 "
                           "relative; the tolerance leaves orders of magnitude of headroom, while a wrong formula "
                           "violates the identity by O(1)"),),
    )


def _gi_measure(config, rng) -> Measurement:
    import jax

    from ..._rng import jax_key_from
    from ...nn import MLP, gradient_identity_terms

    key = jax_key_from(rng)
    per_case = {}
    worst = 0.0
    with jax.enable_x64(True):
        for j, (variant, act) in enumerate(config["cases"]):
            m = MLP(d_in=config["d_in"], d_out=config["d_out"], width=config["width"], depth=config["depth"],
                    variant=variant, d_ff=config.get("d_ff"), activation=act, zeroth_bias=True)
            p = m.init(key=jax.random.fold_in(key, j))
            # move biases and the zeroth bias off zero so that every term is exercised
            p = jax.tree_util.tree_map(lambda v: v + 0.05 * rng.standard_normal(v.shape), p)
            x = rng.standard_normal((config["tokens"], config["d_in"]))
            y = rng.integers(0, config["d_out"], config["tokens"])
            ident = act_rel = 0.0
            for t in gradient_identity_terms(m, p, x, y, loss="mse", n_classes=config["d_out"]).values():
                lhs, xn2, en2, ga2 = t["grad_sq"], t["x_sq"][:, 0], t["eta_sq"][:, 0], t["active_g_sq"][:, 0]
                scale = np.maximum(lhs, np.finfo(float).tiny)
                ident = max(ident, float(np.max(np.abs(lhs - xn2 * en2) / scale)))
                if act == "relu":
                    act_rel = max(act_rel, float(np.max(np.abs(lhs - xn2 * ga2) / scale)))
                else:  # inequality: only a shortfall counts
                    act_rel = max(act_rel, float(np.max(np.maximum(xn2 * ga2 - lhs, 0.0) / scale)))
            per_case[f"{variant}/{act}"] = {"identity_rel_err": ident, "activation_statement_rel_err": act_rel}
            worst = max(worst, ident, act_rel)
    fig = FigureData(
        kind="bars",
        title="Gradient identity: worst relative violation (log10), float64",
        data={
            "labels": list(per_case),
            "values": [math.log10(max(v["identity_rel_err"], v["activation_statement_rel_err"], 1e-300)) for v in per_case.values()],
            "ylabel": "log10 max relative violation",
        },
    )
    return Measurement(value=worst, se=0.0, n=config["tokens"] * len(config["cases"]), details={"per_case": per_case}, figures=(fig,))


# ============================================================================= LayerNorm facts


def _ln_predict(config) -> Prediction:
    return Prediction(
        value=0.0,
        band=(0.0, 1.0),
        details={
            "statistic": "max over the three facts of (violation / its tolerance)",
            "tolerances": {"ln_norm_rel": config["tol_ln"], "gamma_floor": config["tol_floor"],
                           "zeroth_bias_floor_and_attainment": config["tol_floor"]},
        },
        thresholds=(
            margin("tol_ln", config["tol_ln"], "relative error of ||LN(x)||^2 = d v/(v+eps) in float64 over variances "
                   "from eps-dominated to 1e4 (cancellation in v + eps bounds it far below this)"),
            margin("tol_floor", config["tol_floor"], "the gamma clamp and the 0.9 sqrt(d) floor are exact "
                   "(a projection and a constructed input); 1e-9 allows float64 rounding only"),
        ),
    )


def _ln_measure(config, rng) -> Measurement:
    import jax
    import jax.numpy as jnp

    from ..._rng import jax_key_from
    from ...nn import MLP, gaussian_mixture, layer_norm, make_optimizer, make_trainer

    key = jax_key_from(rng)
    d = config["d"]
    details = {}
    with jax.enable_x64(True):
        # (1) ||LN(z)||^2 = d v / (v + eps), variances from eps-dominated to large
        eps = config["eps"]
        z = rng.standard_normal((config["n_inputs"], d)) * 10.0 ** rng.uniform(-5, 2, (config["n_inputs"], 1))
        y = np.asarray(layer_norm(jnp.asarray(z), eps=eps))
        v = z.var(axis=1)
        want = d * v / (v + eps)
        ln_err = float(np.max(np.abs((y**2).sum(1) - want) / want))
        details["ln_norm_max_rel_err"] = ln_err
        details["ln_norm_over_d_range"] = [float(want.min() / d), float(want.max() / d)]

        # (2) restricted LayerNorm under strong weight decay: min |gamma| after every step
        ds = gaussian_mixture(n_train=128, n_test=32, d=d, n_classes=3, rng=rng, dtype=np.float64)
        m = MLP(d_in=d, d_out=3, width=config["width"], depth=2, layernorm="restricted", zeroth_bias=True)
        tr = make_trainer(m, make_optimizer("sgd", lr=0.1, weight_decay=3.0), n_classes=3, batch_size=32)
        hp = {"sigma": jnp.float64(0), "noise_ratio": jnp.float64(0), "cov_discount": jnp.float64(1)}
        s = tr.init(jax.random.fold_in(key, 0))
        x, yy = jnp.asarray(ds.x_train), jnp.asarray(ds.y_train)
        floor = math.inf
        for _ in range(config["steps"]):
            s, _ = tr.step(s, hp, x, yy)
            floor = min(floor, min(float(jnp.min(jnp.abs(s["params"][n]["ln"]["gamma"]))) for n in (*m.layer_names, "head")))
        details["restricted_min_abs_gamma_over_steps"] = floor
        gamma_viol = max(0.0, 1.0 - floor)

        # (3) zeroth bias, eps = 0: ||x|| >= 0.9 sqrt(d), attained
        mz = MLP(d_in=d, d_out=2, width=4, depth=1, layernorm="restricted", ln_eps=0.0, zeroth_bias=True)
        p = mz.init(key=jax.random.fold_in(key, 1))
        gamma = np.sign(rng.standard_normal(d)) * (1.0 + rng.exponential(size=d))
        p["layer0"]["ln"]["gamma"] = jnp.asarray(gamma)
        p["layer0"]["zb"] = jnp.asarray(5.0 * rng.standard_normal((1, d)))
        p = mz.project(p, 1)
        zin = rng.standard_normal((config["n_inputs"], d)) * rng.exponential(size=(config["n_inputs"], 1))
        _, inter = mz.apply_with_intermediates(p, zin)
        ratio_min = float(np.min(np.linalg.norm(np.asarray(inter["layer0"]["x"]), axis=1)) / (0.9 * math.sqrt(d)))
        zs = np.tile([1.0, -1.0], d // 2)
        p["layer0"]["ln"]["gamma"] = jnp.ones(d)
        p["layer0"]["zb"] = jnp.asarray(-0.1 * zs[None, :])
        _, inter = mz.apply_with_intermediates(p, zs[None, :])
        attained = float(np.linalg.norm(np.asarray(inter["layer0"]["x"]))) / (0.9 * math.sqrt(d))
        details["zeroth_bias_min_norm_over_0.9sqrt_d"] = ratio_min
        details["zeroth_bias_attained_ratio"] = attained
        zb_viol = max(0.0, 1.0 - ratio_min, abs(attained - 1.0))
    value = max(ln_err / config["tol_ln"], gamma_viol / config["tol_floor"], zb_viol / config["tol_floor"])
    return Measurement(value=value, se=0.0, n=config["n_inputs"], details=details)


CLAIMS = [
    Claim(
        id="gradient_identity",
        statement="||dL/dK||_F^2 = ||x||^2 ||eta||^2 per token (equality for ReLU, >= for J-SquaredReLU).",
        source=SOURCE,
        predict=_gi_predict,
        measure=_gi_measure,
        compare=within_band,
        profiles={
            "smoke": {"cases": [["ffn", "jsrelu"]], "d_in": 6, "d_out": 3, "width": 8, "d_ff": 12, "depth": 2, "tokens": 20, "tol": 1e-6},
            "quick": {"cases": [["mlp", "relu"], ["mlp", "jsrelu"], ["ffn", "relu"], ["ffn", "jsrelu"]],
                      "d_in": 16, "d_out": 4, "width": 32, "depth": 2, "tokens": 128, "tol": 1e-6},
        },
        kind="identity",
    ),
    Claim(
        id="layernorm_norm_facts",
        statement="||LN(x)||^2 = d v/(v+eps); restricted LN keeps |gamma| >= 1 after every step; "
        "with the zeroth bias and eps = 0, ||x|| >= 0.9 sqrt(d), attained.",
        source=SOURCE,
        predict=_ln_predict,
        measure=_ln_measure,
        compare=within_band,
        profiles={
            "smoke": {"d": 8, "eps": 1e-5, "n_inputs": 200, "width": 8, "steps": 5, "tol_ln": 1e-6, "tol_floor": 1e-9},
            "quick": {"d": 32, "eps": 1e-5, "n_inputs": 2000, "width": 16, "steps": 30, "tol_ln": 1e-6, "tol_floor": 1e-9},
        },
        kind="identity",
    ),
]
