r"""The grid of trained networks behind the causal-chain claims: one training, many measurements.

The paper's chain (arXiv 2309.03004, reworked in 2605.25612) is

.. math::

    \text{weight noise} \Rightarrow \text{small augmented flatness } \textstyle\sum_t\|x_t\|^2\|\eta_t\|^2
    \Rightarrow \text{gradient sparsity} \Rightarrow \text{activation sparsity},
    \qquad \text{gradient noise} \Rightarrow \text{spectral concentration of } K,

and every link is measured here on the *same* networks. The grid is a list of
**arms**; an arm is one compiled ensemble (:func:`rmt_sparsity.nn.train_ensemble`):
one data set, loss, architecture and optimiser, with every weight-noise level
:math:`\sigma` (relative, :math:`\sigma\cdot\mathrm{rms}(W)` at the gradient
point) times ``seeds`` members. A **cell** is one (arm, :math:`\sigma`).

Pairing. Member ``s`` of every arm and every :math:`\sigma` gets the same PRNG
key ``fold_in(base, s)``: the same initial weights (the weight shapes of all
architectures agree, and they are drawn in one call), the same minibatch
stream, and noise draws that differ only by the factor :math:`\sigma`. The
data split and ``base`` come from the fixture's own seed
(:func:`rmt_sparsity.experiments.fixtures.fixture_rng`), not from a claim or an
arm, so running a subset of claims or of arms never changes a number.

Steps: the convergence rule. Training runs in rounds; after
``min_steps`` and then every ``round_steps`` steps (checkpoints every
``eval_every``) the rule is checked on the seed-mean *clean* train loss
:math:`\bar L(T)` of each cell (full training set, no weight noise):

* **fitted**: :math:`\bar L(T) \le f\,L_0` and
* **settled**: :math:`\bar L(T') - \bar L(T) \le s\,L_0` with :math:`T'` the
  checkpoint nearest :math:`(1 - w)T`,

where :math:`L_0` is the loss of the best constant predictor on the training
labels (MSE :math:`\tfrac12(1 - \sum_k p_k^2)`, cross-entropy the label
entropy), :math:`f = 0.1`, :math:`s = 0.01`, :math:`w = 0.25`. The arm stops at
the first check where every cell meets both, or at ``max_steps`` (the cap),
where a cell that misses the rule is recorded as not converged. The rule and
its constants are the same in every profile; only the cap differs.

Measured at the final step of every member (``probe_size`` training examples
for the per-token measures; the test set for accuracies):
:func:`rmt_sparsity.nn.chain_probes` (zero fraction, activation
concentration, absolute and relative gradient sparsity, gradient-density ratio
and its :math:`\log_{10} g^2` histogram, augmented flatness,
:math:`\|x\|_{\min}/\sqrt d`, :math:`\tau`-dormant fractions); the Hessian
trace (Hutchinson); the spectral concentration of each key matrix
(:func:`rmt_sparsity.spectra.spectral_concentration`, paper convention) and of
its update :math:`K_T - r^T K_0`; the eigenvalues of each key layer's
discounted input covariance :math:`\sum_s r^{2(T-s)}\sum_i x_ix_i^\top`
(:math:`r = 1 - \mathrm{lr}\cdot\mathrm{wd}`); the weight change
:math:`\|K_T - K_0\|_F/\|K_0\|_F`; CETT sparsity and PPL-1 % sparsity
(arXiv 2411.02335); essential sparsity and 2:4 pruning tolerance (arXiv
2306.03805). For every :math:`\sigma = 0` member, the same per-token measures
and the trace are also taken at its **matched checkpoint**: the checkpoint
whose clean train loss is closest to the final loss of the same seed's member
at the largest :math:`\sigma` of the arm.

Everything returned is JSON (lists of floats), so the results store can keep it.
"""

from __future__ import annotations

import copy
import functools
import math
import time
from collections.abc import Mapping

import numpy as np

from .._checks import check_choice

__all__ = ["GRID_VERSION", "ARCHITECTURES", "OPTIMIZERS", "GRID_PROFILES", "chance_loss", "convergence_check",
           "arm_ids", "run_arm"]

#: Bumped whenever what an arm computes changes, so stored results of an older version are not reused.
GRID_VERSION = 2

#: Architectures of the grid (keyword arguments of :class:`rmt_sparsity.nn.MLP`).
ARCHITECTURES = {
    "plain": {"activation": "relu", "layernorm": "affine", "zeroth_bias": False},
    "modules": {"activation": "jsrelu", "layernorm": "restricted", "zeroth_bias": True},
    "jsrelu": {"activation": "jsrelu", "layernorm": "affine", "zeroth_bias": False},
    "zeroth_bias": {"activation": "relu", "layernorm": "affine", "zeroth_bias": True},
    "restricted_ln": {"activation": "relu", "layernorm": "restricted", "zeroth_bias": False},
    "relu2": {"activation": "relu2", "layernorm": "affine", "zeroth_bias": False},
    # flat (zero derivative) on [-3.1, -0.1] at the non-zero output 1.6: the paper's control (shift 1.6, its code)
    "shifted_s": {"activation": "shifted_s", "activation_params": {"shift_x": -1.6, "shift_y": 1.6},
                  "layernorm": "affine", "zeroth_bias": False},
    # the magic synapse: y = Wx + rho ||W||_F/sqrt(numel) ||x|| eps on the key layers; rho per member
    "magic": {"activation": "relu", "layernorm": "affine", "zeroth_bias": False, "noise_ratio": 0.0},
}

#: Optimisers: AdamW at the library's usual setting, and plain SGD with coupled weight decay (the
#: setting of the paper's RMT theorem, discount r = 1 - lr·wd per step).
OPTIMIZERS = {
    "adamw": {"optimizer": "adamw", "lr": 3e-3, "weight_decay": 0.0},
    "sgd": {"optimizer": "sgd", "lr": 0.03, "weight_decay": 0.02},
}

_RULE = {"fit_fraction": 0.1, "settle_fraction": 0.01, "settle_window": 0.25}
#: Measurement settings: Hutchinson probes and the examples of its loss; the pruning grid and the allowed
#: accuracy drop; the CETT target, the PPL-p % bound, the threshold grid and the tokens used for CETT.
_MEASURE = {"hutchinson_probes": 16, "trace_size": 256, "prune_step": 0.02, "prune_delta": 0.01, "nm": [2, 4],
            "cett_target": 0.2, "ppl_p": 1.0, "ppl_tol": 0.01, "cett_grid": 1024, "cett_tokens": 256}


def _arm(dataset, loss, arch, optimizer, levels, level_kind="sigma"):
    return {"id": f"{dataset}/{loss}/{arch}/{optimizer}", "dataset": dataset, "loss": loss, "arch": arch,
            "optimizer": optimizer, "levels": list(levels), "level_kind": level_kind}


def _quick_arms():
    arms = []
    for loss in ("mse", "ce"):
        for arch in ("plain", "modules"):
            arms.append(_arm("digits", loss, arch, "adamw", [0.0, 0.1]))
    arms.append(_arm("digits", "mse", "plain", "sgd", [0.0, 0.1]))
    arms.append(_arm("digits", "mse", "shifted_s", "adamw", [0.0, 0.1]))
    return arms


def _full_arms():
    arms = []
    for dataset in ("digits", "mnist1d"):
        for loss in ("mse", "ce"):
            for arch in ("plain", "modules"):
                arms.append(_arm(dataset, loss, arch, "adamw", [0.0, 0.05, 0.1]))
    for loss in ("mse", "ce"):
        for arch in ("jsrelu", "zeroth_bias", "restricted_ln", "relu2", "shifted_s"):
            arms.append(_arm("digits", loss, arch, "adamw", [0.0, 0.05, 0.1]))
        arms.append(_arm("digits", loss, "plain", "sgd", [0.0, 0.05, 0.1]))
        arms.append(_arm("digits", loss, "magic", "adamw", [0.05, 0.1], level_kind="noise_ratio"))
    return arms


#: ``seeds`` (members per cell) is sized for power, not for speed: at 8 seeds the "no effect" control of
#: the small-but-real effects (essential sparsity with MSE, 2:4 tolerance with cross-entropy) was rejected
#: in 13/20 and 7/20 independent quick grids; the interval ``v +- t_{0.95,n-1} SE`` narrows by
#: ``sqrt(n/8) t_{0.95,7}/t_{0.95,n-1}``, which projects 0.93 and 0.65 at 16 seeds and 0.99 and 0.82 at 24.
#: 24 seeds would put the quick run near its 10-minute limit on 2 cores, so 16 (docs/science.md, "Seeds per cell").
_BASE = {"version": GRID_VERSION, "width": 32, "d_ff": 128, "depth": 2, "batch_size": 128, "seeds": 16,
         "eval_every": 50, "round_steps": 250, "min_steps": 500, "probe_size": 512, "rule": _RULE,
         "measure": _MEASURE}

#: The grid by profile. ``max_steps`` is the cap of the convergence rule; everything else is shared.
GRID_PROFILES = {
    "smoke": {**_BASE, "width": 8, "d_ff": 16, "seeds": 2, "eval_every": 5, "round_steps": 20, "min_steps": 20,
              "max_steps": 40, "probe_size": 64,
              "measure": {**_MEASURE, "hutchinson_probes": 2, "trace_size": 32, "prune_step": 0.25, "cett_grid": 64,
                          "cett_tokens": 32, "ppl_tol": 0.05},
              "arms": [_arm("digits", "mse", "plain", "adamw", [0.0, 0.1])]},
    "quick": {**_BASE, "max_steps": 2000, "arms": _quick_arms()},
    "full": {**_BASE, "max_steps": 4000, "arms": _full_arms()},
}


def arm_ids(config) -> list[str]:
    """The arm ids of a grid config, in order.

    Examples
    --------
    >>> arm_ids(GRID_PROFILES["quick"])[:2]
    ['digits/mse/plain/adamw', 'digits/mse/modules/adamw']
    >>> len(arm_ids(GRID_PROFILES["quick"])) * 2 * GRID_PROFILES["quick"]["seeds"]   # networks
    192
    """
    return [a["id"] for a in config["arms"]]


# ============================================================================= the convergence rule


def chance_loss(loss: str, labels, n_classes: int) -> float:
    r"""The loss of the best constant predictor on ``labels``: the scale of the convergence rule.

    .. math::

        L_0^{\mathrm{mse}} = \tfrac12\Big(1 - \sum_k p_k^2\Big), \qquad
        L_0^{\mathrm{ce}} = -\sum_k p_k \log p_k,

    with :math:`p_k` the label frequencies (the MSE is :math:`\tfrac12\|f - e_y\|^2`,
    minimised by :math:`f = p`; the cross-entropy by :math:`\mathrm{softmax}(f) = p`).

    Examples
    --------
    >>> round(chance_loss("mse", [0, 1, 2, 3], 4), 6), round(chance_loss("ce", [0, 1, 2, 3], 4), 6)
    (0.375, 1.386294)
    """
    check_choice("loss", loss, ("mse", "ce"))
    p = np.bincount(np.asarray(labels, dtype=np.int64), minlength=n_classes) / len(labels)
    if loss == "mse":
        return float(0.5 * (1.0 - np.sum(p * p)))
    nz = p[p > 0]
    return float(-np.sum(nz * np.log(nz)))


def convergence_check(steps, losses, chance, rule, at=None) -> dict:
    r"""The convergence rule at step ``at`` (default the last checkpoint) for one cell.

    ``steps`` are the checkpoints, ``losses`` the seed-mean clean train loss at
    each; fitted: :math:`\bar L(T) \le f L_0`; settled: :math:`\bar L(T') -
    \bar L(T) \le s L_0`, :math:`T'` the checkpoint nearest :math:`(1-w)T`
    (constants ``rule``; see the module docstring).

    Examples
    --------
    >>> rule = {"fit_fraction": 0.1, "settle_fraction": 0.01, "settle_window": 0.25}
    >>> c = convergence_check([0, 100, 200, 300, 400], [1.0, 0.2, 0.06, 0.05, 0.049], 1.0, rule)
    >>> c["fitted"], c["settled"], c["converged"]
    (True, True, True)
    >>> convergence_check([0, 100, 200], [1.0, 0.5, 0.2], 1.0, rule)["converged"]
    False
    """
    steps = np.asarray(steps, dtype=float)
    losses = np.asarray(losses, dtype=float)
    j = len(steps) - 1 if at is None else int(np.flatnonzero(steps == at)[0])
    t = steps[j]
    jp = int(np.argmin(np.abs(steps[: j + 1] - (1.0 - rule["settle_window"]) * t)))
    fit_level = rule["fit_fraction"] * chance
    settle_level = rule["settle_fraction"] * chance
    drop = float(losses[jp] - losses[j])
    fitted = bool(losses[j] <= fit_level)
    settled = bool(drop <= settle_level)
    return {"step": int(t), "loss": float(losses[j]), "fit_level": fit_level, "fitted": fitted,
            "earlier_step": int(steps[jp]), "drop": drop, "settle_level": settle_level, "settled": settled,
            "converged": fitted and settled}


# ============================================================================= building blocks


def _dataset(name, rng):
    from ..nn import load_digits

    if name == "digits":
        return load_digits(rng=rng)
    if name == "mnist1d":
        return _mnist1d()
    raise ValueError(f"unknown data set {name!r}; known: 'digits', 'mnist1d'")


@functools.lru_cache(maxsize=1)
def _mnist1d():
    """MNIST-1D with its published construction (seed 42; the split is the generator's own): built once per process."""
    from ..nn import load_mnist1d

    return load_mnist1d(num_samples=5000, seed=42)


def _model(config, arm, data):
    from ..nn import MLP

    kw = dict(ARCHITECTURES[arm["arch"]])
    return MLP(d_in=data.d_in, d_out=data.d_out, width=config["width"], depth=config["depth"], variant="ffn",
               d_ff=config["d_ff"], **kw)


def _stack(trees):
    import jax

    return jax.tree_util.tree_map(lambda *a: np.stack(a), *trees)


def _pick(tree, idx):
    import jax

    return jax.tree_util.tree_map(lambda a: np.asarray(a)[idx], tree)


def _weight_names(model):
    names = [("embed", "w")]
    for n in model.layer_names:
        names += [(n, "w"), (n, "w_out")]
    return names + [("head", "w")]


class _Programs:
    """Jitted, member-vectorised evaluations of one model and loss (built once per model, see :func:`_programs`)."""

    def __init__(self, model, loss, n_classes, probes):
        import jax
        import jax.numpy as jnp

        from ..flatness import hutchinson_trace
        from ..nn._losses import model_output, per_example_loss

        self.model = model

        def evaluate(p, x, y):
            out, inter = model_output(model, p, x, jax.random.key(0), 0)
            per = per_example_loss(loss, out, y, n_classes)
            acc = jnp.mean(jnp.argmax(out, -1) == y)
            zf = jnp.mean(jnp.stack([jnp.mean(inter[n]["a"] == 0) for n in model.layer_names]))
            return jnp.mean(per), acc, zf

        self.evaluate = jax.jit(jax.vmap(evaluate, in_axes=(0, None, None)))

        def per_example(p, x, y, thresholds, colnorms):  # CETT masking: zero |a_i| ||w_out[:, i]|| <= t per layer
            hooks = {}
            for j, n in enumerate(model.layer_names):
                hooks[f"{n}.post"] = (lambda a, t=thresholds[j], c=colnorms[j]: jnp.where(jnp.abs(a) * c <= t, 0.0, a))
            out, _ = model_output(model, p, x, jax.random.key(0), 0, hooks)
            return per_example_loss(loss, out, y, n_classes)

        self.masked_losses = jax.jit(per_example)

        def accuracy(p, x, y):
            out, _ = model_output(model, p, x, jax.random.key(0), 0)
            return jnp.mean(jnp.argmax(out, -1) == y)

        self.accuracy = jax.jit(accuracy)

        def acts(p, x):
            _, inter = model_output(model, p, x, jax.random.key(0), 0)
            return {n: inter[n]["a"] for n in model.layer_names}

        self.activations = jax.jit(acts)

        def lossf(p, batch):
            xb, yb = batch
            out, _ = model_output(model, p, xb, jax.random.key(0), 0)
            return jnp.mean(per_example_loss(loss, out, yb, n_classes))

        def trace_one(p, batch, key):
            t = hutchinson_trace(lossf, p, batch, key=key, probes=probes)
            return t.estimate, t.se

        self.trace = jax.jit(jax.vmap(trace_one, in_axes=(0, None, None)))


@functools.lru_cache(maxsize=16)
def _programs(model, loss, n_classes, probes) -> _Programs:
    return _Programs(model, loss, n_classes, probes)


def _trace(progs, params, batch, key):
    """Hutchinson tr H of the clean mean loss on ``batch``, vectorised over the stacked members."""
    est, se = progs.trace(params, batch, key)
    return np.asarray(est, float), np.asarray(se, float)


def _spectra(model, k_final, k_init, r_total):
    """Per member and key layer: concentration of K_T (paper and non-zero-mean cuts) and of K_T - r^T K_0."""
    from ..spectra import spectral_concentration

    out = {"concentration": [], "concentration_mean_nonzero": [], "update_concentration": [],
           "update_condition": [], "weight_change": [], "sv_ratio": []}
    for kt, k0 in zip(k_final, k_init):
        kt = np.asarray(kt, np.float64)
        k0 = np.asarray(k0, np.float64)
        c = spectral_concentration(kt, 0.1, "mean_all")
        out["concentration"].append(float(c.ratio))
        out["sv_ratio"].append(float(c.sv_ratio))
        out["concentration_mean_nonzero"].append(float(spectral_concentration(kt, 0.1, "mean_nonzero").ratio))
        du = kt - r_total * k0
        out["update_concentration"].append(float(spectral_concentration(du, 0.1, "mean_all").ratio))
        s = np.linalg.svd(du, compute_uv=False)
        out["update_condition"].append(float((s[0] / s[-1]) ** 2) if s[-1] > 0 else math.inf)
        out["weight_change"].append(float(np.linalg.norm(kt - k0) / np.linalg.norm(k0)))
    return out


def _pruning(progs, model, params_list, data, m):
    """Per member: essential sparsity (global magnitude pruning) and the 2:4 accuracy drop, on the test set."""
    import jax.numpy as jnp

    from ..metrics import essential_sparsity, magnitude_pruning_curve, nm_prune

    names = _weight_names(model)
    x_te, y_te = jnp.asarray(data.x_test), jnp.asarray(data.y_test)
    k = int(round(1.0 / m["prune_step"]))
    grid = np.round(np.arange(1, k) * m["prune_step"], 12)
    out = {"essential_sparsity": [], "knee": [], "dense_accuracy": [], "nm_accuracy_drop": [], "curve": []}
    axis = None
    for p in params_list:
        weights = {f"{a}.{b}": np.asarray(p[a][b]) for a, b in names}

        def accuracy(pruned, p=p):
            q = copy.copy(p)
            for a, b in names:
                q[a] = dict(q[a])
                q[a][b] = jnp.asarray(pruned[f"{a}.{b}"])
            return float(progs.accuracy(q, x_te, y_te))

        curve = magnitude_pruning_curve(weights, accuracy, grid)
        es = essential_sparsity(curve, m["prune_delta"])
        out["essential_sparsity"].append(float(es.sparsity))
        out["knee"].append(float(es.knee))
        out["dense_accuracy"].append(float(es.baseline))
        out["curve"].append([float(v) for v in curve.metric])
        axis = [float(v) for v in curve.sparsity]
        n, mm = m["nm"]
        out["nm_accuracy_drop"].append(float(es.baseline - accuracy(nm_prune(weights, n, mm))))
    return out, axis


def _cett(progs, model, params_list, x, y, m):
    """Per member: mean over key layers of the pruned fraction at CETT = target, and the PPL-p% sparsity."""
    import jax.numpy as jnp

    from ..metrics import cett_pruned_fraction, ppl_p_sparsity, threshold_for_cett

    out = {"cett_sparsity": [], "ppl_sparsity": [], "ppl_cett": []}
    xj, yj = jnp.asarray(x), jnp.asarray(y)
    for p in params_list:
        acts = {n: np.asarray(a, np.float64) for n, a in progs.activations(p, xj).items()}
        layers = [(acts[n], np.asarray(p[n]["w_out"], np.float64)) for n in model.layer_names]
        fr = [cett_pruned_fraction(a, w, threshold_for_cett(a, w, m["cett_target"], n_grid=m["cett_grid"]))
              for a, w in layers]
        out["cett_sparsity"].append(float(np.mean(fr)))
        colnorms = tuple(jnp.asarray(np.linalg.norm(w, axis=0), jnp.float32) for _, w in layers)

        def loss_fn(th, p=p, colnorms=colnorms):
            t = (0.0,) * len(layers) if th is None else th
            ths = tuple(jnp.asarray(v if th is not None else -1.0, jnp.float32) for v in t)
            return np.asarray(progs.masked_losses(p, xj, yj, ths, colnorms), np.float64)

        res = ppl_p_sparsity(loss_fn, layers, p=m["ppl_p"], tol=m["ppl_tol"], n_grid=m["cett_grid"])
        out["ppl_sparsity"].append(float(res.sparsity))
        out["ppl_cett"].append(float(res.cett))
    return out


# ============================================================================= one arm


class _Clock:
    """Wall and CPU seconds of the measurement steps (reported with the arm; not part of any result)."""

    def __init__(self):
        self.parts: dict[str, list] = {}
        self._t, self._c = time.perf_counter(), time.process_time()

    def __call__(self, name):
        t, c = time.perf_counter(), time.process_time()
        self.parts[name] = [t - self._t, c - self._c]
        self._t, self._c = t, c


def _member_plan(arm, config, base_key):
    """Member order (level-major, then seed), keys and levels."""
    import jax

    seeds = config["seeds"]
    keys = [jax.random.fold_in(base_key, s) for _ in arm["levels"] for s in range(seeds)]
    levels = [lv for lv in arm["levels"] for _ in range(seeds)]
    return keys, levels


def run_arm(config: Mapping, arm_id: str, rng, *, progress: bool = False) -> dict:
    """Train one arm of the grid with the convergence rule and measure every member (see the module docstring).

    Parameters
    ----------
    config : mapping
        A grid config (:data:`GRID_PROFILES`).
    arm_id : str
        One of :func:`arm_ids` ``(config)``.
    rng : numpy Generator or seed
        The fixture's generator; the data split and the base key are drawn from
        it (the same in every arm), so pass a *fresh* generator of the fixture's
        seed for each arm.

    Returns
    -------
    dict
        JSON-serialisable: ``arm``, ``steps``, ``converged``, ``rule`` (per cell),
        ``checkpoints`` (per member trajectories), ``cells`` (per level: per-seed
        final and matched measurements, summed histograms), ``timings``.
    """
    import jax
    import jax.numpy as jnp

    from .._rng import as_generator, jax_key_from
    from ..metrics import GRADIENT_LOG_EDGES
    from ..nn import chain_probes, train_ensemble

    arms = {a["id"]: a for a in config["arms"]}
    if arm_id not in arms:
        raise ValueError(f"unknown arm {arm_id!r}; this grid has {', '.join(arms)}")
    arm = arms[arm_id]
    t_start = time.perf_counter()
    gen = as_generator(rng)
    base_key = jax_key_from(gen)
    data = _dataset(arm["dataset"], gen)
    model = _model(config, arm, data)
    opt = OPTIMIZERS[arm["optimizer"]]
    r = 1.0 - opt["lr"] * opt["weight_decay"]
    keys, levels = _member_plan(arm, config, base_key)
    n_mem, seeds = len(keys), config["seeds"]
    train_kw = dict(eval_every=config["eval_every"], batch_size=config["batch_size"], lr=opt["lr"],
                    weight_decay=opt["weight_decay"], loss=arm["loss"], probes=False, quiet=not progress,
                    track_covariance=True, cov_discount=r * r)
    if arm["level_kind"] == "sigma":
        train_kw.update(sigma=levels, relative=True)
        model_arg = model
    else:  # the magic synapse: the level is each member's noise ratio
        import dataclasses

        model_arg = [dataclasses.replace(model, noise_ratio=float(lv)) for lv in levels]
    progs = _programs(model, arm["loss"], data.n_classes, config["measure"]["hutchinson_probes"])
    x_tr, y_tr = jnp.asarray(data.x_train), jnp.asarray(data.y_train)
    chance = chance_loss(arm["loss"], data.y_train, data.n_classes)
    snaps: dict[int, object] = {}

    def snapshot(params, step, batch, keys_, *, stacked):
        snaps[int(step)] = jax.device_get(params)
        return {}

    steps_done, res, check = 0, None, None
    traj = {"step": [], "train_loss": [], "train_accuracy": [], "zero_fraction": []}
    rule_log = []
    t_train, c_train = time.perf_counter(), time.process_time()
    while True:
        n = config["min_steps"] if res is None else config["round_steps"]
        n = min(n, config["max_steps"] - steps_done)
        res = train_ensemble(model_arg, data, opt["optimizer"], keys=keys, steps=n, resume=res, hooks=[snapshot],
                             **train_kw)
        steps_done += n
        for st in sorted(snaps):
            if st in traj["step"]:
                continue
            lval, acc, zf = (np.asarray(v, float) for v in progs.evaluate(snaps[st], x_tr, y_tr))
            traj["step"].append(st)
            traj["train_loss"].append(lval.tolist())
            traj["train_accuracy"].append(acc.tolist())
            traj["zero_fraction"].append(zf.tolist())
        losses = np.asarray(traj["train_loss"])  # (checkpoints, members)
        check = {}
        for lv in arm["levels"]:
            cols = [i for i, v in enumerate(levels) if v == lv]
            mean_curve = np.nan_to_num(losses[:, cols].mean(axis=1), nan=np.inf)
            check[str(lv)] = convergence_check(traj["step"], mean_curve, chance, config["rule"])
        rule_log.append({"step": steps_done, "converged": {k: v["converged"] for k, v in check.items()}})
        if all(v["converged"] for v in check.values()) or steps_done >= config["max_steps"]:
            break
    train_s = time.perf_counter() - t_train
    train_cpu = time.process_time() - c_train
    converged = all(v["converged"] for v in check.values())

    # ---------------------------------------------------------------- the members to measure
    # every member at its final step, then each sigma = 0 member at its matched checkpoint: the checkpoint whose
    # clean train loss is closest to the final loss of the same seed at the arm's largest sigma. Measured in one
    # stacked call (one compiled program per measure).
    t_meas = time.perf_counter()
    clock = _Clock()
    params_T = jax.device_get(res.params)
    params_0 = snaps[0]
    probe = (data.x_train[: config["probe_size"]], data.y_train[: config["probe_size"]])
    m = config["measure"]
    top = arm["levels"][-1]
    picks = []
    steps_arr = np.asarray(traj["step"])
    losses_tr = np.asarray(traj["train_loss"])
    if arm["level_kind"] == "sigma" and 0.0 in arm["levels"] and top != 0.0:
        base_cols = [i for i, v in enumerate(levels) if v == 0.0]
        top_cols = [i for i, v in enumerate(levels) if v == top]
        for b, tcol in zip(base_cols, top_cols):  # same seed index
            picks.append((b, int(np.argmin(np.abs(losses_tr[:, b] - losses_tr[-1, tcol]))), tcol))
    measured = params_T
    if picks:
        mparams = _stack([_pick(snaps[int(steps_arr[j])], b) for b, j, _ in picks])
        measured = jax.tree_util.tree_map(lambda a, b: np.concatenate([np.asarray(a), b]), params_T, mparams)
    probes_all = chain_probes(model, measured, *probe, loss=arm["loss"], n_classes=data.n_classes, stacked=True)
    clock("chain_probes")
    tr_key = jax.random.fold_in(base_key, 0x7ACE)
    tr_batch = (jnp.asarray(probe[0][: m["trace_size"]]), jnp.asarray(probe[1][: m["trace_size"]]))
    trace_all, trace_se_all = _trace(progs, measured, tr_batch, tr_key)
    clock("hessian_trace")
    final = {k: np.asarray(v)[:n_mem] for k, v in probes_all.items()}
    trace, trace_se = trace_all[:n_mem], trace_se_all[:n_mem]
    matched = None
    if picks:
        matched = {"against_level": top, "step": [int(steps_arr[j]) for _, j, _ in picks],
                   "train_loss": [float(losses_tr[j, b]) for b, j, _ in picks],
                   "target_train_loss": [float(losses_tr[-1, t]) for _, _, t in picks],
                   "probes": {k: np.asarray(v)[n_mem:].tolist() for k, v in probes_all.items() if "hist" not in k},
                   "hessian_trace": trace_all[n_mem:].tolist(), "hessian_trace_se": trace_se_all[n_mem:].tolist()}
    te_loss, te_acc, _ = (np.asarray(v, float) for v in progs.evaluate(params_T, jnp.asarray(data.x_test),
                                                                           jnp.asarray(data.y_test)))
    members = [_pick(params_T, i) for i in range(n_mem)]
    prune, prune_axis = _pruning(progs, model, members, data, m)
    clock("pruning")
    cett = _cett(progs, model, members, probe[0][: m["cett_tokens"]], probe[1][: m["cett_tokens"]], m)
    clock("cett")
    r_total = r ** steps_done
    spectra = {n: _spectra(model, params_T[n]["w"], params_0[n]["w"], r_total) for n in model.layer_names}
    cov_eigs = {n: [np.linalg.eigvalsh(np.asarray(c, np.float64)).tolist() for c in res.covariance[n]]
                for n in model.layer_names}
    weight_change_all = []
    for i in range(n_mem):
        num = sum(float(np.sum((np.asarray(params_T[a][b][i]) - np.asarray(params_0[a][b][i])) ** 2))
                  for a, b in _weight_names(model))
        den = sum(float(np.sum(np.asarray(params_0[a][b][i]) ** 2)) for a, b in _weight_names(model))
        weight_change_all.append(math.sqrt(num / den))
    clock("spectra")
    meas_s = time.perf_counter() - t_meas

    # ---------------------------------------------------------------- per cell
    cells = {}
    for lv in arm["levels"]:
        cols = [i for i, v in enumerate(levels) if v == lv]
        pick = lambda seq: [seq[i] for i in cols]  # noqa: E731
        probes_c = {k: np.asarray(v)[cols].tolist() for k, v in final.items() if "hist" not in k}
        hists = {k: np.asarray(v)[cols].sum(axis=0).tolist() for k, v in final.items() if "hist" in k}
        cells[str(lv)] = {
            "level": lv,
            "probes": probes_c,
            "g2_histograms": hists,
            "hessian_trace": pick(trace.tolist()),
            "hessian_trace_se": pick(trace_se.tolist()),
            "train_loss": pick(np.asarray(traj["train_loss"][-1]).tolist()),
            "train_accuracy": pick(np.asarray(traj["train_accuracy"][-1]).tolist()),
            "test_loss": pick(te_loss.tolist()),
            "test_accuracy": pick(te_acc.tolist()),
            "weight_change_all": pick(weight_change_all),
            "spectra": {n: {k: pick(v) for k, v in spectra[n].items()} for n in model.layer_names},
            "covariance_eigenvalues": {n: pick(cov_eigs[n]) for n in model.layer_names},
            "pruning": {k: pick(v) for k, v in prune.items()},
            "cett": {k: pick(v) for k, v in cett.items()},
            "trajectory": {k: np.asarray(traj[k])[:, cols].T.tolist()  # (seeds, checkpoints)
                           for k in ("train_loss", "train_accuracy", "zero_fraction")},
            "rule": check[str(lv)],
        }
        if matched is not None and lv == 0.0:
            cells[str(lv)]["matched"] = matched
    return {
        "arm": dict(arm),
        "architecture": {k: v for k, v in ARCHITECTURES[arm["arch"]].items()},
        "optimizer": dict(opt),
        "discount_r": r,
        "steps": steps_done,
        "converged": converged,
        "rule_log": rule_log,
        "chance_loss": chance,
        "checkpoint_steps": traj["step"],
        "prune_sparsity_axis": prune_axis,
        "g2_edges": list(GRADIENT_LOG_EDGES),
        "model": {"variant": "ffn", "d_in": data.d_in, "width": config["width"], "d_ff": config["d_ff"],
                  "depth": config["depth"], "layer_names": list(model.layer_names)},
        "data": {"name": data.name, "n_train": int(len(data.x_train)), "n_test": int(len(data.x_test))},
        "batch_size": config["batch_size"],
        "seeds": seeds,
        "cells": cells,
        "timings": {"train_s": train_s, "measure_s": meas_s, "total_s": time.perf_counter() - t_start,
                    "measure_parts_s": clock.parts, "train_cpu_s": train_cpu},
    }
