"""Training loop: ``jax.jit`` + ``lax.scan`` chunks, weight noise, constraints and probes.

The loop is split so that an ensemble can ``vmap`` it (:func:`train_ensemble`):

* :func:`make_trainer` returns pure functions ``init(key) -> state`` and
  ``run(state, hparams, x, y, n_steps) -> (state, losses)``;
* everything that varies between ensemble members — the PRNG key, ``sigma``,
  ``noise_ratio``, the covariance discount (in ``hparams``) and the learning
  rate / weight decay (in the optax state, via ``optax.inject_hyperparams``) —
  is an *array*, never a Python constant baked into the trace.

:func:`train` is the K = 1 case of :func:`train_ensemble` (the shared driver
``_ensemble._fit``): a Python loop over ``steps / eval_every`` compiled chunks,
with probes in between and a tqdm bar over chunks.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from .._checks import check_choice, check_int, check_real
from ._data import Dataset
from ._models import MLP
from ._noise import perturb_weights
from ._probes import LOSSES, _model_out, per_example_loss

__all__ = ["OPTIMIZERS", "make_optimizer", "set_hyperparams", "Trainer", "make_trainer", "TrainResult", "train"]

#: Optimiser names understood by :func:`make_optimizer`.
OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")


def _sgd(learning_rate, weight_decay):
    return optax.chain(optax.add_decayed_weights(weight_decay), optax.sgd(learning_rate))


def _momentum(learning_rate, weight_decay):
    return optax.chain(optax.add_decayed_weights(weight_decay), optax.sgd(learning_rate, momentum=0.9))


def _adam(learning_rate, weight_decay):
    return optax.chain(optax.add_decayed_weights(weight_decay), optax.adam(learning_rate))


def _adamw(learning_rate, weight_decay):
    return optax.adamw(learning_rate, weight_decay=weight_decay)


_FACTORIES = {"sgd": _sgd, "momentum": _momentum, "adam": _adam, "adamw": _adamw}


def make_optimizer(name="adamw", *, lr=1e-3, weight_decay=0.0) -> optax.GradientTransformation:
    r"""An optax optimiser whose learning rate and weight decay are *arrays in its state*.

    Built with ``optax.inject_hyperparams``, so ``lr`` and ``weight_decay`` can
    differ between ``vmap`` ped ensemble members without recompiling.
    ``"sgd"``/``"momentum"``/``"adam"`` add L2 decay to the gradient
    (:math:`g + \lambda W`); ``"adamw"`` decouples it. For SGD the per-step
    shrink factor is :math:`r = 1 - \eta\lambda`, the discount of the
    input-covariance probe (DESIGN §4.5).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> opt = make_optimizer("sgd", lr=0.1)
    >>> float(opt.init({"w": jnp.zeros(2)}).hyperparams["learning_rate"])
    0.1
    """
    check_choice("optimizer", name, OPTIMIZERS)
    lr = check_real("lr", lr, lo=0.0, lo_open=True)
    weight_decay = check_real("weight_decay", weight_decay, lo=0.0)
    return optax.inject_hyperparams(_FACTORIES[name])(learning_rate=lr, weight_decay=weight_decay)


def set_hyperparams(opt_state, **values):
    """Return ``opt_state`` (from :func:`make_optimizer`) with new hyper-parameter arrays.

    Keys: ``lr`` (``learning_rate``) and ``weight_decay``; dtypes are kept, so no recompilation.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> st = make_optimizer("sgd").init({"w": jnp.zeros(2)})
    >>> float(set_hyperparams(st, lr=0.5).hyperparams["learning_rate"])
    0.5
    """
    names = {"lr": "learning_rate", "weight_decay": "weight_decay"}
    hyper = dict(opt_state.hyperparams)
    for k, v in values.items():
        if k not in names:
            raise ValueError(f"unknown hyper-parameter {k!r}; allowed: {', '.join(names)}")
        old = hyper[names[k]]
        hyper[names[k]] = jnp.asarray(v, dtype=jnp.asarray(old).dtype)
    return opt_state._replace(hyperparams=hyper)


class Trainer(NamedTuple):
    """Pure training functions of one model (see :func:`make_trainer`)."""

    init: Any
    step: Any
    run: Any
    loss_fn: Any


def make_trainer(
    model: MLP,
    optimizer: optax.GradientTransformation,
    *,
    loss="mse",
    n_classes=None,
    batch_size=128,
    weight_noise=False,
    relative=False,
    track_covariance=False,
) -> Trainer:
    r"""Pure, jit-compiled training functions (the building block of :func:`train` and of ensembles).

    One step, at state :math:`(W, \text{opt}, k, t)` and ``hparams``:

    1. split :math:`k`; draw a minibatch of ``batch_size`` indices uniformly *with replacement*;
    2. if ``weight_noise``: :math:`\tilde W = W + \varepsilon` (:func:`perturb_weights`, scale ``hparams["sigma"]``);
    3. :math:`g = \nabla_W \bar L(\tilde W)` (magic synapse with ``hparams["noise_ratio"]`` if the model is stochastic);
    4. optax update of the clean :math:`W`, then :meth:`MLP.project` (restricted LN, zeroth-bias clip);
    5. if ``track_covariance``: :math:`C_\ell \leftarrow r\,C_\ell + \sum_{i \in \text{batch}} x_i x_i^\top`
       for each key layer's input :math:`x` (LayerNorm-ed), :math:`r` = ``hparams["cov_discount"]``.

    Returns
    -------
    Trainer
        ``init(key, params=None) -> state``; ``step(state, hparams, x, y) -> (state, loss)``
        (jitted); ``run(state, hparams, x, y, n_steps) -> (state, losses)`` (jitted
        ``lax.scan``, ``n_steps`` static); ``loss_fn(params, x, y, key, step, hparams)``.
        ``hparams`` is a dict of scalar arrays with keys ``sigma``, ``noise_ratio``, ``cov_discount``.

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> m = MLP(d_in=2, d_out=2, width=4, depth=1)
    >>> tr = make_trainer(m, make_optimizer("sgd", lr=0.1), n_classes=2, batch_size=4)
    >>> hp = {"sigma": jnp.array(0.0), "noise_ratio": jnp.array(0.0), "cov_discount": jnp.array(1.0)}
    >>> state, losses = tr.run(tr.init(jax.random.key(0)), hp, jnp.ones((8, 2)), jnp.zeros(8, int), n_steps=5)
    >>> losses.shape, int(state["step"])
    ((5,), 5)
    """
    check_choice("loss", loss, LOSSES)
    batch_size = check_int("batch_size", batch_size, min=1)

    def loss_fn(params, xb, yb, key, step, hp):
        nr = hp["noise_ratio"] if model.stochastic else None
        out, inter = model.forward(params, xb, key=key if model.stochastic else None, step=step, noise_ratio=nr)
        if model.n_tokens > 1:
            out = jnp.mean(out, axis=-2)
        return jnp.mean(per_example_loss(loss, out, yb, n_classes)), inter

    vg = jax.value_and_grad(loss_fn, has_aux=True)

    def init(key, params=None):
        k_init, k_run = jax.random.split(key)
        if params is None:
            params = model.init(key=k_init)
        state = {"params": params, "opt_state": optimizer.init(params), "key": k_run, "step": jnp.zeros((), jnp.int32)}
        if track_covariance:
            dt = jax.tree_util.tree_leaves(params)[0].dtype
            state["cov"] = {n: jnp.zeros((model.key_shape(i)[1],) * 2, dt) for i, n in enumerate(model.layer_names)}
        return state

    def step(state, hp, x, y):
        params = state["params"]
        key, kb, kn, km = jax.random.split(state["key"], 4)
        idx = jax.random.randint(kb, (batch_size,), 0, x.shape[0])
        xb, yb = x[idx], y[idx]
        p_eval = perturb_weights(params, key=kn, sigma=hp["sigma"], relative=relative) if weight_noise else params
        (lval, inter), g = vg(p_eval, xb, yb, km, state["step"], hp)
        updates, opt_state = optimizer.update(g, state["opt_state"], params)
        new_params = model.project(optax.apply_updates(params, updates), state["step"] + 1, params)
        new = {"params": new_params, "opt_state": opt_state, "key": key, "step": state["step"] + 1}
        if track_covariance:
            r = hp["cov_discount"]
            new["cov"] = {}
            for n in model.layer_names:
                xi = inter[n]["x"].reshape(-1, inter[n]["x"].shape[-1])
                new["cov"][n] = r * state["cov"][n] + xi.T @ xi
        return new, lval

    def run(state, hp, x, y, n_steps):
        return jax.lax.scan(lambda s, _: step(s, hp, x, y), state, None, length=n_steps)

    init_jit = jax.jit(init)

    def init_(key, params=None):
        return init_jit(key, params)

    return Trainer(init=init_, step=jax.jit(step), run=jax.jit(run, static_argnames="n_steps"), loss_fn=loss_fn)


@dataclasses.dataclass
class TrainResult:
    """Output of :func:`train`.

    Attributes
    ----------
    params : dict
        Final parameters.
    history : dict of str -> ndarray
        One entry per evaluation (step 0, then every ``eval_every`` steps):
        ``step``, ``train_loss`` (mean over the chunk; NaN at step 0),
        ``test_loss``, ``test_accuracy`` (NaN for regression) and the probes
        ``f"layer{i}.{metric}"`` of :func:`compute_probes`.
    state : dict
        Final trainer state (params, optax state, key, step, covariances).
    covariance : dict or None
        ``{layer: C}``, the discounted input covariance
        :math:`C_t = \\sum_s r^{t-s}\\sum_{i \\in \\text{batch}_s} x_i x_i^\\top` (un-normalised).
    config : dict
        The arguments of the run (discount ``r`` included).
    """

    params: dict
    history: dict
    state: dict
    covariance: dict | None
    config: dict


def _evaluate(model, loss, n_classes, params, x, y, step):
    out, _ = _model_out(model, params, x, jax.random.key(0), step)
    lval = jnp.mean(per_example_loss(loss, out, y, n_classes))
    acc = jnp.mean(jnp.argmax(out, -1) == y) if n_classes is not None else jnp.nan
    return lval, acc


_evaluate_jit = jax.jit(_evaluate, static_argnames=("model", "loss", "n_classes"))


def train(
    model: MLP,
    data: Dataset,
    optimizer="adamw",
    *,
    key,
    steps,
    eval_every=None,
    batch_size=128,
    loss="mse",
    lr=None,
    weight_decay=None,
    sigma=None,
    relative=False,
    noise_ratio=None,
    params=None,
    probes=True,
    probe_size=256,
    track_covariance=False,
    cov_discount=None,
    quiet=None,
    flatness=None,
) -> TrainResult:
    r"""Train ``model`` on ``data``: jit + ``lax.scan`` chunks, probes every ``eval_every`` steps.

    Parameters
    ----------
    model : MLP
    data : Dataset
    optimizer : str or optax.GradientTransformation
        A name in :data:`OPTIMIZERS` (built by :func:`make_optimizer` with
        ``lr`` default 1e-3 and ``weight_decay`` default 0), or any optax
        transformation (then ``lr``/``weight_decay`` must not be given).
    key : jax PRNG key
        The only source of randomness: same key, same trajectory.
    steps : int
        Optimiser steps.
    eval_every : int, optional
        Steps per compiled chunk and between evaluations (default ``steps``).
    batch_size : int
    loss : {"mse", "ce"}
        See :func:`per_example_loss`: with cross-entropy the loss goes to ~0 and the
        noise pressure on sparsity fades; MSE keeps curvature.
    sigma : float, optional
        Weight-noise standard deviation at the gradient point (absolute, or a
        factor of rms(W) with ``relative=True``); ``None`` compiles no noise.
    noise_ratio : float, optional
        Overrides a stochastic model's magic-synapse :math:`\rho`.
    params : dict, optional
        Starting parameters (e.g. for finetuning); default ``model.init``.
    probes : bool
        Record :func:`compute_probes` on the first ``probe_size`` training examples.
    track_covariance : bool
        Accumulate the discounted covariance of each key layer's input.
    cov_discount : float, optional
        :math:`r`; default :math:`1 - \text{lr}\cdot\text{wd}` for a named optimiser, else 1.
    quiet : bool, optional
        Hide the progress bar (default: hidden unless stderr is a TTY).
    flatness : mapping, optional
        Also record flatness measures at every evaluation (see :func:`train_ensemble`).

    Returns
    -------
    TrainResult

    Notes
    -----
    ``train`` is the K = 1 case of :func:`train_ensemble`: both run the shared
    driver (validation, chunk loop, records) and the step function of
    :func:`make_trainer`; one member runs it as ``jit(scan(step))``, several as
    ``jit(vmap(scan(step)))``.

    Examples
    --------
    >>> import jax
    >>> from rmt_sparsity.nn import MLP, gaussian_mixture, train
    >>> ds = gaussian_mixture(n_train=64, n_test=32, d=4, n_classes=2, rng=0)
    >>> res = train(MLP(d_in=4, d_out=2, width=8, depth=1), ds, key=jax.random.key(0),
    ...             steps=20, eval_every=10, batch_size=16, quiet=True)
    >>> res.history["step"].tolist(), bool(res.history["test_accuracy"][-1] > 0.5)
    ([0, 10, 20], True)
    """
    from ._ensemble import _fit  # the shared driver: train is the K = 1 ensemble

    res = _fit(model, data, optimizer, keys=key, steps=steps, eval_every=eval_every, batch_size=batch_size, loss=loss,
               lr=lr, weight_decay=weight_decay, sigma=sigma, relative=relative, noise_ratio=noise_ratio,
               params=params, probes=probes, probe_size=probe_size, track_covariance=track_covariance,
               cov_discount=cov_discount, quiet=quiet, flatness=flatness, single=True)
    return res.member(0)
