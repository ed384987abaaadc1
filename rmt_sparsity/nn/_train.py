"""The training core: one loop that trains K >= 1 members of one architecture.

* :func:`make_trainer` returns pure functions ``init(key) -> state`` and
  ``run(state, hparams, x, y, n_steps) -> (state, losses)`` (``jit`` +
  ``lax.scan``); everything that may differ between members -- the PRNG key,
  ``sigma``, ``noise_ratio``, the covariance discount (in ``hparams``) and the
  learning rate and weight decay (in the optax state, via
  ``optax.inject_hyperparams``) -- is an *array*, never a constant baked into
  the trace.
* :class:`TrainConfig` holds the settings of a run.
* The loop runs ``steps / eval_every`` compiled chunks and after each records
  the test loss and what its *hooks* return. One member runs
  ``jit(scan(step))``; several run the same step function as
  ``jit(vmap(scan(step)))``, in groups sized to a memory budget. The loop knows
  nothing of probes or flatness: :func:`train` (K = 1) and
  :func:`train_ensemble` (any K) pass them in as hooks, with the caller's own.
"""

from __future__ import annotations

import dataclasses
import functools
import numbers
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from .._checks import check_choice, check_int, check_key, check_keys, check_real, check_size_budget
from ._data import Dataset
from ._losses import LOSSES, model_output, per_example_loss
from ._memory import default_memory_budget, estimate_member_bytes
from ._models import MAX_DIM, MLP
from ._noise import perturb_weights
from ._optim import OPTIMIZERS, make_optimizer, set_hyperparams
from ._probes import check_flatness, check_model, check_n_classes, flatness_hook, probe_hook

__all__ = ["TrainConfig", "Trainer", "make_trainer", "TrainResult", "EnsembleResult", "train", "train_ensemble"]

#: Settings that may differ between members (a scalar for all, or one value per member).
MEMBER_SETTINGS = ("lr", "weight_decay", "sigma", "noise_ratio", "cov_discount")

#: Fields of :class:`MLP` that may differ between members (everything else must match).
_VECTORISABLE_MODEL_FIELDS = ("noise_ratio",)


# ============================================================================= configuration


def _real_check(**kw):
    def check(name, v):
        if hasattr(v, "shape") and np.ndim(v) == 0:
            v = float(v)
        return check_real(name, v, **kw)

    return check


_MEMBER_CHECKS = {
    "lr": _real_check(lo=0.0, lo_open=True),
    "weight_decay": _real_check(lo=0.0),
    "sigma": _real_check(lo=0.0),
    "noise_ratio": _real_check(lo=0.0),
    "cov_discount": _real_check(lo=0.0, hi=1.0, lo_open=True),
}


def _member_values(name, value):
    """``value`` checked: None, one float (every member) or a tuple of floats and Nones (one per member)."""
    check = _MEMBER_CHECKS[name]
    if value is None:
        return None
    if isinstance(value, numbers.Real) or (hasattr(value, "shape") and np.ndim(value) == 0):
        return check(name, value)
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (Sequence, np.ndarray, jax.Array)):
        raise TypeError(f"{name} must be a number or a sequence of one number per member; got {type(value).__name__}")
    if isinstance(value, (np.ndarray, jax.Array)) and value.ndim != 1:
        raise ValueError(f"{name} must be a scalar or a 1-D sequence; got shape {value.shape}")
    return tuple(None if v is None else check(f"{name}[{i}]", v) for i, v in enumerate(value))


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainConfig:
    r"""The settings of a training run, shared by :func:`train` and :func:`train_ensemble`.

    Every field is checked on construction. The member settings (``lr``,
    ``weight_decay``, ``sigma``, ``noise_ratio``, ``cov_discount``) take one
    number for every member or a sequence with one value per member; their
    length is checked against the number of keys when the run starts.

    Parameters
    ----------
    steps : int
        Optimiser steps (at most ``2**31 - 1``: the step counter is int32).
    optimizer : str or optax.GradientTransformation
        A name in :data:`OPTIMIZERS` (built by :func:`make_optimizer` with
        ``lr`` default 1e-3 and ``weight_decay`` default 0), or any optax
        transformation (then ``lr``/``weight_decay`` must not be given).
    eval_every : int, optional
        Steps per compiled chunk and between evaluations (default ``steps``).
    batch_size : int
        Examples per step, drawn uniformly with replacement.
    loss : {"mse", "ce"}
        See :func:`per_example_loss`: with cross-entropy the loss goes to ~0 and the
        noise pressure on sparsity fades; MSE keeps curvature.
    lr, weight_decay : float or sequence, optional
        Of a named optimiser.
    sigma : float or sequence, optional
        Weight-noise standard deviation at the gradient point (absolute, or a
        factor of rms(W) with ``relative=True``); ``None`` compiles no noise. In an
        ensemble, ``None`` entries beside numbers get :math:`\sigma = 0`:
        :math:`W + 0\cdot\varepsilon = W` exactly, the trajectory without noise.
    relative : bool
        Scale ``sigma`` by each weight matrix's rms.
    noise_ratio : float or sequence, optional
        Overrides a stochastic model's magic-synapse :math:`\rho`.
    cov_discount : float or sequence, optional
        :math:`r` of the covariance probe; default :math:`1 - \text{lr}\cdot\text{wd}`
        for a named optimiser, else 1.
    probes : bool
        Record :func:`compute_probes` on the first ``probe_size`` training examples.
    probe_size : int
    track_covariance : bool
        Accumulate the discounted covariance of each key layer's input.
    flatness : mapping, optional
        Also record flatness measures of the probe-batch loss at every evaluation:
        ``{"measures": ("trace", "top_eigenvalue"), "probes": 16, "iters": 16}``
        (see :func:`flatness_hook`).
    max_memory_bytes : int, optional
        Device-memory budget of an ensemble. Members run in groups of
        ``budget // estimate_member_bytes(...)["bytes"]`` (the last group padded
        to the same size, so one program is compiled); default budget: half the
        device's free memory, or a quarter of host RAM on CPU. ``ValueError``
        if one member alone exceeds an explicit budget, or twice the default one
        (the device's free memory; half the host RAM on CPU).
    quiet : bool, optional
        Hide the progress bar. Default: shown in a terminal and in Jupyter, hidden in CI logs
        (:func:`rmt_sparsity._progress.show_progress`).

    Examples
    --------
    >>> cfg = TrainConfig(steps=100, eval_every=25, sigma=[0.0, 0.1])
    >>> cfg.eval_every, cfg.sigma, cfg.optimizer
    (25, (0.0, 0.1), 'adamw')
    >>> TrainConfig(steps=10, eval_every=20)
    Traceback (most recent call last):
    ...
    ValueError: eval_every must be an integer <= 10 and >= 1; got 20
    """

    steps: int
    optimizer: Any = "adamw"
    eval_every: int | None = None
    batch_size: int = 128
    loss: str = "mse"
    lr: Any = None
    weight_decay: Any = None
    sigma: Any = None
    relative: bool = False
    noise_ratio: Any = None
    cov_discount: Any = None
    probes: bool = True
    probe_size: int = 256
    track_covariance: bool = False
    flatness: Mapping | None = None
    max_memory_bytes: int | None = None
    quiet: bool | None = None

    def __post_init__(self):
        set_ = functools.partial(object.__setattr__, self)
        steps = check_int("steps", self.steps, min=1, max=MAX_DIM)  # the step counter is int32
        set_("steps", steps)
        set_("eval_every", steps if self.eval_every is None else check_int("eval_every", self.eval_every, min=1, max=steps))
        set_("batch_size", check_int("batch_size", self.batch_size, min=1, max=MAX_DIM))
        check_choice("loss", self.loss, LOSSES)
        for name in MEMBER_SETTINGS:
            set_(name, _member_values(name, getattr(self, name)))
        if not isinstance(self.relative, bool):
            raise TypeError(f"relative must be a bool; got {self.relative!r}")
        if self.relative and not self.weight_noise:
            raise ValueError("relative=True needs sigma")
        if isinstance(self.optimizer, str):
            check_choice("optimizer", self.optimizer, OPTIMIZERS)
        elif isinstance(self.optimizer, optax.GradientTransformation):
            if _given(self.lr) or _given(self.weight_decay):
                raise ValueError("lr/weight_decay apply to a named optimizer; build them into your optax transformation")
        else:
            raise TypeError(f"optimizer must be one of {OPTIMIZERS} or an optax.GradientTransformation; got {self.optimizer!r}")
        set_("probe_size", check_int("probe_size", self.probe_size, min=1, max=MAX_DIM))
        for name in ("probes", "track_covariance"):
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be a bool; got {getattr(self, name)!r}")
        if self.quiet is not None and not isinstance(self.quiet, bool):
            raise TypeError(f"quiet must be None or a bool; got {self.quiet!r}")
        set_("flatness", check_flatness(self.flatness))
        if self.max_memory_bytes is not None:
            set_("max_memory_bytes", check_int("max_memory_bytes", self.max_memory_bytes, min=1))

    @property
    def weight_noise(self) -> bool:
        """Whether the step adds weight noise (``sigma`` is given for some member)."""
        return _given(self.sigma)

    def member_values(self, name: str, n: int) -> list:
        """The member setting ``name`` (``"lr"``, ``"sigma"``, ...) as a list of ``n`` entries (floats or None).

        Examples
        --------
        >>> TrainConfig(steps=1, sigma=0.1).member_values("sigma", 3)
        [0.1, 0.1, 0.1]
        """
        check_choice("name", name, MEMBER_SETTINGS)
        value = getattr(self, name)
        if value is None or isinstance(value, float):
            return [value] * n
        if len(value) != n:
            raise ValueError(
                f"{name} has {len(value)} values but there are K = {n} keys: give one value per member, or one scalar for all"
            )
        return list(value)


def _given(value) -> bool:
    return value is not None and (not isinstance(value, tuple) or any(v is not None for v in value))


def _make_config(caller, config, optimizer, settings) -> TrainConfig:
    """The run's :class:`TrainConfig`: ``config`` (or the defaults) with ``optimizer`` and ``settings`` applied."""
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(settings) - fields)
    if unknown:
        raise TypeError(f"{caller}() got an unexpected keyword argument {unknown[0]!r}; "
                        f"the settings are the fields of TrainConfig: {', '.join(sorted(fields))}")
    if optimizer is not None:
        settings = {**settings, "optimizer": optimizer}
    if config is None:
        if "steps" not in settings:
            raise TypeError(f"{caller}() needs steps= (or config=TrainConfig(steps=...))")
        return TrainConfig(**settings)
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be an rmt_sparsity.nn.TrainConfig; got {type(config).__name__}")
    return dataclasses.replace(config, **settings) if settings else config


# ============================================================================= the step


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
    check_model(model)
    if not isinstance(optimizer, optax.GradientTransformation):
        raise TypeError(f"optimizer must be an optax.GradientTransformation (e.g. make_optimizer('sgd')); "
                        f"got {type(optimizer).__name__}")
    check_choice("loss", loss, LOSSES)
    n_classes = check_n_classes(n_classes, model)
    batch_size = check_int("batch_size", batch_size, min=1, max=MAX_DIM)
    for name, flag in (("weight_noise", weight_noise), ("relative", relative), ("track_covariance", track_covariance)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be a bool; got {flag!r}")

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


# ============================================================================= results


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
        ``test_loss``, ``test_accuracy`` (NaN for regression), the probes
        ``f"layer{i}.{metric}"`` of :func:`compute_probes` and the flatness
        measures when requested.
    state : dict
        Final trainer state (params, optax state, key, step, covariances).
    covariance : dict or None
        ``{layer: C}``, the discounted input covariance
        :math:`C_t = \\sum_s r^{t-s}\\sum_{i \\in \\text{batch}_s} x_i x_i^\\top` (un-normalised).
    config : dict
        The settings of the run (discount ``r`` included).
    """

    params: dict
    history: dict
    state: dict
    covariance: dict | None
    config: dict


@dataclasses.dataclass
class EnsembleResult:
    """Output of :func:`train_ensemble`: :class:`TrainResult` fields stacked along a leading member axis K.

    Attributes
    ----------
    params : dict
        Final parameters, every leaf of shape (K, ...).
    history : dict of str -> ndarray, shape (K, n_evals)
        The keys of :attr:`TrainResult.history` (``step``, ``train_loss``,
        ``test_loss``, ``test_accuracy``, the probes, and the flatness measures
        ``hessian_trace``, ``hessian_trace_se``, ``hessian_top_eigenvalue``,
        ``hessian_top_residual`` when requested); row k is member k.
    state : dict
        Final trainer states, leaves of shape (K, ...).
    covariance : dict or None
        ``{layer: C}`` with C of shape (K, d, d).
    configs : list of dict
        Member k's :attr:`TrainResult.config` (its own key-independent settings: lr, weight decay, sigma, ...).
    members_per_run : int
        Members trained together in one compiled program (K, unless memory-limited).
    memory : dict
        :func:`estimate_member_bytes` of one member and the budget used.
    """

    params: dict
    history: dict
    state: dict
    covariance: dict | None
    configs: list
    members_per_run: int
    memory: dict

    def __len__(self) -> int:
        return len(self.configs)

    def member(self, k: int) -> TrainResult:
        """Member ``k`` as a :class:`TrainResult` (what :func:`train` returns for it).

        Examples
        --------
        >>> import jax
        >>> from rmt_sparsity.nn import MLP, gaussian_mixture, train_ensemble
        >>> ds = gaussian_mixture(n_train=32, n_test=16, d=4, n_classes=2, rng=0)
        >>> ens = train_ensemble(MLP(d_in=4, d_out=2, width=8, depth=1), ds, "sgd", keys=jax.random.split(jax.random.key(0), 2),
        ...                      steps=4, batch_size=8, lr=[0.1, 0.2], probes=False, quiet=True)
        >>> ens.member(1).config["lr"], ens.member(1).history["test_loss"].shape
        (0.2, (2,))
        """
        k = check_int("k", k, min=0, max=len(self) - 1)
        pick = lambda t: jax.tree_util.tree_map(lambda a: a[k], t)  # noqa: E731
        return TrainResult(
            params=pick(self.params),
            history={name: v[k] for name, v in self.history.items()},
            state=pick(self.state),
            covariance=None if self.covariance is None else {n: c[k] for n, c in self.covariance.items()},
            config=dict(self.configs[k]),
        )


# ============================================================================= validation and planning


def _check_models(model, n):
    """One :class:`MLP` and per-member noise ratios from ``model`` (an MLP or K MLPs equal but for noise_ratio)."""
    if isinstance(model, MLP):
        return model, None
    if isinstance(model, Sequence) and not isinstance(model, (str, bytes)):
        models = list(model)
        if len(models) != n:
            raise ValueError(f"model is a sequence of {len(models)} MLPs but there are K = {n} keys; give one model per member or a single MLP")
        for i, m in enumerate(models):
            if not isinstance(m, MLP):
                raise TypeError(f"model[{i}] must be an rmt_sparsity.nn.MLP; got {type(m).__name__}")
        ref = dataclasses.asdict(models[0])
        for i, m in enumerate(models[1:], start=1):
            d = dataclasses.asdict(m)
            diff = [f for f in ref if f not in _VECTORISABLE_MODEL_FIELDS and ref[f] != d[f]]
            if m.stochastic != models[0].stochastic:
                diff.append("noise_ratio (None vs a number: with and without a magic synapse)")
            if diff:
                f = diff[0]
                detail = f" ({ref[f]!r} vs {d[f]!r})" if f in ref else ""
                raise ValueError(
                    f"models of members 0 and {i} differ in {', '.join(diff)}{detail}: an ensemble is one compiled "
                    "program, so only the keys, sigma, lr, weight_decay, noise_ratio and cov_discount may vary; "
                    "train different architectures in separate calls"
                )
        base = dataclasses.replace(models[0], noise_ratio=0.0) if models[0].stochastic else models[0]
        ratios = [m.noise_ratio for m in models] if models[0].stochastic else None
        return base, ratios
    raise TypeError(f"model must be an rmt_sparsity.nn.MLP (or a sequence of K equal MLPs); got {type(model).__name__}")


def _check_data(data, model, loss):
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be one rmt_sparsity.nn.Dataset shared by all members; got {type(data).__name__}")
    if data.d_in != model.d_in:
        raise ValueError(f"data has d_in = {data.d_in} but the model expects d_in = {model.d_in}")
    if data.d_out != model.d_out:
        raise ValueError(f"data needs d_out = {data.d_out} outputs but the model has d_out = {model.d_out}")
    if loss == "ce" and data.n_classes is None:
        raise ValueError("loss='ce' needs a classification data set (n_classes set); use loss='mse' for regression")
    want_x = (model.n_tokens, model.d_in) if model.n_tokens > 1 else (model.d_in,)
    if data.x_train.shape[1:] != want_x:
        raise ValueError(f"data.x_train rows have shape {data.x_train.shape[1:]}; the model expects {want_x}")


def _check_start(params, model, n, single):
    """Whether ``params`` (one model's parameters, or a stack of K) is stacked; raises on a mismatch."""
    if params is None:
        return False
    try:
        model.check_params(params)
        return False
    except ValueError as exc_shared:
        if single:
            raise
        try:
            model.check_params(jax.tree_util.tree_map(lambda a: a[0], params))
        except (ValueError, IndexError, TypeError):
            raise ValueError(f"params must be one model's parameters (shared by all members) or a stack "
                             f"with a leading axis of K = {n}: {exc_shared}") from None
        lead = {int(np.shape(a)[0]) for a in jax.tree_util.tree_leaves(params)}
        if lead != {n}:
            raise ValueError(f"stacked params must have a leading axis of K = {n} on every leaf; got {sorted(lead)}") from None
        return True


class _Plan(NamedTuple):
    """A validated run: the shared model, per-member settings and derived quantities."""

    model: MLP  # shared (noise_ratio 0.0 when the members carry their own ratios)
    model_ratios: list | None  # per-member magic-synapse ratios from a sequence of models
    data: Dataset
    config: TrainConfig
    keys: Any  # typed key array (K,)
    params: Any
    params_stacked: bool
    optimizer: optax.GradientTransformation
    opt_name: str
    lrs: list | None
    wds: list | None
    sigmas: list
    ratios: list
    discounts: list
    resume: Any = None  # stacked trainer states (leading axis K) to continue from, or None


def _check_resume(resume, model, n, params, config):
    """The stacked state of ``resume`` (an :class:`EnsembleResult` of the same model and K members), or None."""
    if resume is None:
        return None
    if not isinstance(resume, EnsembleResult):
        raise TypeError(f"resume must be an EnsembleResult from train_ensemble; got {type(resume).__name__}")
    if params is not None:
        raise ValueError("give either params= (a fresh start) or resume= (continue a run), not both")
    if len(resume) != n:
        raise ValueError(f"resume has {len(resume)} members but there are K = {n} keys")
    model.check_params(jax.tree_util.tree_map(lambda a: a[0], resume.params))
    if ("cov" in resume.state) != config.track_covariance:
        raise ValueError("resume must use the same track_covariance setting as the run it continues")
    return resume.state


def _plan(model, data, config, keys, params, single, resume=None) -> _Plan:
    """Check everything about a run before anything is traced."""
    n = int(keys.shape[0])
    model, model_ratios = _check_models(model, n)
    _check_data(data, model, config.loss)
    sigmas = config.member_values("sigma", n)
    ratios = config.member_values("noise_ratio", n)
    given_ratios = any(r is not None for r in ratios)
    if given_ratios and not model.stochastic:
        raise ValueError("noise_ratio is given but the model has no magic synapse (construct MLP(noise_ratio=...))")
    if given_ratios and model_ratios is not None:
        raise ValueError("give the magic-synapse noise_ratio either through the models or through noise_ratio=, not both")
    if model_ratios is not None:
        ratios = model_ratios
    if model.stochastic:
        ratios = [model.noise_ratio if r is None else r for r in ratios]
    lrs = config.member_values("lr", n)
    wds = config.member_values("weight_decay", n)
    if isinstance(config.optimizer, str):
        lrs = [1e-3 if v is None else v for v in lrs]
        wds = [0.0 if v is None else v for v in wds]
        default_r = [1.0 - float(a) * float(b) for a, b in zip(lrs, wds)]
        opt, opt_name = make_optimizer(config.optimizer), config.optimizer
    else:
        lrs = wds = None
        default_r = [1.0] * n
        opt, opt_name = config.optimizer, type(config.optimizer).__name__
    rs = config.member_values("cov_discount", n)
    rs = [d if r is None else r for r, d in zip(rs, default_r)]
    params_stacked = _check_start(params, model, n, single)
    if config.flatness is not None:
        config = dataclasses.replace(config, flatness=check_flatness(config.flatness, model))
    resume_state = _check_resume(resume, model, n, params, config)
    return _Plan(model=model, model_ratios=model_ratios, data=data, config=config, keys=keys, params=params,
                 resume=resume_state,
                 params_stacked=params_stacked, optimizer=opt, opt_name=opt_name, lrs=lrs, wds=wds, sigmas=sigmas,
                 ratios=ratios, discounts=rs)


def _member_config(plan: _Plan, i: int, n_probe: int, hp_ratio) -> dict:
    """Member ``i``'s :attr:`TrainResult.config`."""
    cfg, model = plan.config, plan.model
    out = {
        "model": dataclasses.asdict(model if plan.model_ratios is None else dataclasses.replace(model, noise_ratio=plan.ratios[i])),
        "data": plan.data.name,
        "optimizer": plan.opt_name,
        "lr": plan.lrs[i] if plan.lrs is not None else None,
        "weight_decay": plan.wds[i] if plan.wds is not None else None,
        "steps": cfg.steps,
        "eval_every": cfg.eval_every,
        "batch_size": cfg.batch_size,
        "loss": cfg.loss,
        "sigma": plan.sigmas[i],
        "relative": cfg.relative,
        "noise_ratio": None if not model.stochastic else float(hp_ratio),
        "cov_discount": plan.discounts[i],
        "probe_size": n_probe,
    }
    if cfg.flatness is not None:
        out["flatness"] = {"measures": list(cfg.flatness["measures"]), "probes": cfg.flatness["probes"],
                           "iters": cfg.flatness["iters"]}
    return out


# ============================================================================= compiled programs


class _Programs:
    """The trainer of one (model, optimiser, static options) and its vmapped programs."""

    def __init__(self, trainer):
        self.trainer = trainer
        tr = trainer

        def vinit(keys, params, stacked):
            return jax.vmap(tr.init, in_axes=(0, 0 if stacked else None))(keys, params)

        self.vinit = jax.jit(vinit, static_argnames="stacked")

        def vrun(states, hps, x, y, n_steps):
            return jax.vmap(lambda s, h: tr.run(s, h, x, y, n_steps=n_steps))(states, hps)

        self.vrun = jax.jit(vrun, static_argnames="n_steps")


_PROGRAMS: dict = {}


def _cached_programs(model, optimizer, **kw) -> _Programs:
    """One trainer (and its vmapped programs) per (model, optimiser, static options); seeds and hyper-parameters reuse it."""
    key = (model, optimizer, tuple(sorted(kw.items())))
    if key not in _PROGRAMS:
        opt = make_optimizer(optimizer) if isinstance(optimizer, str) else optimizer
        if len(_PROGRAMS) > 32:
            _PROGRAMS.clear()
        _PROGRAMS[key] = _Programs(make_trainer(model, opt, **kw))
    return _PROGRAMS[key]


def _evaluate(model, loss, n_classes, params, x, y, step):
    out, _ = model_output(model, params, x, jax.random.key(0), step)
    lval = jnp.mean(per_example_loss(loss, out, y, n_classes))
    acc = jnp.mean(jnp.argmax(out, -1) == y) if n_classes is not None else jnp.nan
    return lval, acc


_evaluate_jit = jax.jit(_evaluate, static_argnames=("model", "loss", "n_classes"))


@functools.partial(jax.jit, static_argnames=("model", "loss", "n_classes"))
def _evaluate_v(model, loss, n_classes, params, x, y, step):
    return jax.vmap(lambda p: _evaluate(model, loss, n_classes, p, x, y, step))(params)


# ============================================================================= the loop


def _fit(plan: _Plan, hooks=()) -> EnsembleResult:
    """Train the K members of ``plan`` in memory-sized groups; record the test loss and ``hooks`` at every evaluation."""
    model, data, cfg = plan.model, plan.data, plan.config
    n = int(plan.keys.shape[0])
    from .._progress import show_progress

    quiet = not show_progress(None if cfg.quiet is None else not cfg.quiet)  # bars in terminals and Jupyter, not in CI logs
    dtype = jnp.zeros(()).dtype

    # ---------------------------------------------------------------- members per compiled run
    est = estimate_member_bytes(model, batch_size=cfg.batch_size, optimizer=plan.optimizer, weight_noise=cfg.weight_noise,
                                track_covariance=cfg.track_covariance,
                                eval_rows=max(len(data.x_test), min(cfg.probe_size, len(data.x_train))), dtype=dtype)
    if cfg.max_memory_bytes is None:
        budget = default_memory_budget()
        check_size_budget("batch_size", cfg.batch_size, nbytes=est["bytes"], max_bytes=2 * budget,
                          what="one member's training step and evaluation (estimate_member_bytes)")
        per_run = max(1, min(n, budget // max(est["bytes"], 1)))
    else:
        budget = cfg.max_memory_bytes
        if est["bytes"] > budget:
            raise ValueError(f"one member needs about {est['bytes']:,} bytes (estimate_member_bytes) but "
                             f"max_memory_bytes = {budget:,}: raise the budget or shrink the model / batch")
        per_run = min(n, budget // est["bytes"])
    memory = {"member_bytes": est["bytes"], "budget_bytes": int(budget), "members_per_run": int(per_run)}

    # ---------------------------------------------------------------- compiled pieces and shared arrays
    ds = data.astype(np.dtype(dtype.name))
    arrays = (jnp.asarray(ds.x_train), jnp.asarray(ds.y_train), jnp.asarray(ds.x_test), jnp.asarray(ds.y_test),
              (jnp.asarray(ds.x_train[:cfg.probe_size]), jnp.asarray(ds.y_train[:cfg.probe_size])))
    opt_key = cfg.optimizer  # the name, or the transformation itself
    progs = _cached_programs(model, opt_key, loss=cfg.loss, n_classes=data.n_classes, batch_size=cfg.batch_size,
                             weight_noise=cfg.weight_noise, relative=cfg.relative, track_covariance=cfg.track_covariance)
    hp_all = {
        "sigma": np.asarray([0.0 if s is None else s for s in plan.sigmas], dtype.name),
        "noise_ratio": np.asarray(plan.ratios if model.stochastic else [0.0] * n, dtype.name),
        "cov_discount": np.asarray(plan.discounts, dtype.name),
    }
    n_chunks, rem = divmod(cfg.steps, cfg.eval_every)
    time_chunks = [cfg.eval_every] * n_chunks + ([rem] if rem else [])
    groups = [list(range(i, min(i + per_run, n))) for i in range(0, n, per_run)]
    from tqdm.auto import tqdm

    bar = tqdm(total=len(groups) * len(time_chunks), desc="train" if n == 1 else f"train ×{n}", unit="chunk", disable=quiet)
    runs = []
    try:
        for members in groups:
            runs.append(_run_group(plan, progs, members, per_run, hp_all=hp_all, arrays=arrays,
                                   time_chunks=time_chunks, hooks=hooks, bar=bar))
    finally:
        bar.close()

    # ---------------------------------------------------------------- assemble
    state = jax.tree_util.tree_map(lambda *a: jnp.concatenate(a, axis=0), *[r[0] for r in runs])
    history = {k: np.concatenate([r[1][k] for r in runs], axis=0) for k in runs[0][1]}
    cov = {k: np.asarray(v) for k, v in state["cov"].items()} if cfg.track_covariance else None
    n_probe = int(min(cfg.probe_size, len(ds.x_train)))
    configs = [_member_config(plan, i, n_probe, hp_all["noise_ratio"][i]) for i in range(n)]
    return EnsembleResult(params=state["params"], history=history, state=state, covariance=cov, configs=configs,
                          members_per_run=int(per_run), memory=memory)


def _run_group(plan, progs, members, size, *, hp_all, arrays, time_chunks, hooks, bar):
    """Train ``members`` (indices) together; a group smaller than ``size`` is padded with copies of its first member.

    Returns the stacked final state and the history (arrays (len(members), n_evals)). A group of size 1
    runs the un-vmapped ``jit(scan(step))`` program (what :func:`train` runs).
    """
    model, cfg, n_classes = plan.model, plan.config, plan.data.n_classes
    x_tr, y_tr, x_te, y_te, probe_batch = arrays
    c = len(members)
    idx = np.asarray(members + [members[0]] * (size - c))
    stacked = size > 1
    tr = progs.trainer
    dtype = hp_all["sigma"].dtype
    lrs, wds, params = plan.lrs, plan.wds, plan.params
    if stacked:
        hp = {k: jnp.asarray(v[idx]) for k, v in hp_all.items()}
        hook_keys = plan.keys[idx]
        if plan.resume is not None:  # continue: the state carries the optimiser (with its lr, wd), key and step
            state = jax.tree_util.tree_map(lambda a: a[idx], plan.resume)
        else:
            p_in = jax.tree_util.tree_map(lambda a: a[idx], params) if plan.params_stacked else params
            state = progs.vinit(plan.keys[idx], p_in, stacked=plan.params_stacked)
        if lrs is not None and plan.resume is None:
            state["opt_state"] = set_hyperparams(state["opt_state"], lr=np.asarray(lrs, dtype)[idx],
                                                 weight_decay=np.asarray(wds, dtype)[idx])
    else:
        i = members[0]
        hp = {k: jnp.asarray(v[i]) for k, v in hp_all.items()}
        if plan.resume is not None:
            state = jax.tree_util.tree_map(lambda a: a[i], plan.resume)
        else:
            p_in = jax.tree_util.tree_map(lambda a: a[i], params) if plan.params_stacked else params
            state = tr.init(plan.keys[i], p_in)
        if lrs is not None and plan.resume is None:
            state["opt_state"] = set_hyperparams(state["opt_state"], lr=lrs[i], weight_decay=wds[i])
        hook_keys = plan.keys[i]

    history: dict[str, list] = {"step": [], "train_loss": [], "test_loss": [], "test_accuracy": []}

    def add(k, values):
        dt = np.int64 if k == "step" else np.float64
        history.setdefault(k, []).append(np.asarray(values, dtype=dt).reshape(-1)[:c])

    def record(state, train_loss):
        t = int(np.asarray(state["step"]).reshape(-1)[0])
        if stacked:
            te_loss, te_acc = _evaluate_v(model, cfg.loss, n_classes, state["params"], x_te, y_te, t)
        else:
            te_loss, te_acc = _evaluate_jit(model, cfg.loss, n_classes, state["params"], x_te, y_te, state["step"])
        add("step", np.full(c, t))
        add("train_loss", train_loss)
        add("test_loss", te_loss)
        add("test_accuracy", te_acc)
        recorded = {"step", "train_loss", "test_loss", "test_accuracy"}
        for j, hook in enumerate(hooks):
            for k, v in hook(state["params"], t, probe_batch, hook_keys, stacked=stacked).items():
                if k in recorded:
                    raise ValueError(f"hook {j} returned {k!r}, a name another record already uses")
                if np.size(v) != size:
                    raise ValueError(f"hook {j} returned {np.size(v)} values for {k!r}; "
                                     f"expected {size} ({'one per member of the group' if stacked else 'one'})")
                recorded.add(k)
                add(k, v)

    record(state, np.full(c, np.nan))
    for n_steps in time_chunks:
        if stacked:
            state, losses = progs.vrun(state, hp, x_tr, y_tr, n_steps=n_steps)
            tl = np.mean(np.asarray(losses), axis=1)
        else:
            state, losses = tr.run(state, hp, x_tr, y_tr, n_steps=n_steps)
            tl = np.asarray([float(jnp.mean(losses))])
        bar.update()
        bar.set_postfix(loss=f"{float(np.mean(tl[:c])):.4g}")
        record(state, tl)
    if stacked:
        state = jax.tree_util.tree_map(lambda a: a[:c], state)
    else:
        state = jax.tree_util.tree_map(lambda a: a[None], state)
    return state, {k: np.stack(v, axis=1) for k, v in history.items()}


def _check_hooks(hooks) -> list:
    if callable(hooks) or not isinstance(hooks, Sequence):
        raise TypeError(f"hooks must be a sequence of callables hook(params, step, batch, keys, *, stacked); got {type(hooks).__name__}")
    for j, h in enumerate(hooks):
        if not callable(h):
            raise TypeError(f"hooks[{j}] must be callable; got {type(h).__name__}")
    return list(hooks)


def _standard_hooks(plan: _Plan) -> list:
    """The probes (``config.probes``) and the flatness measures (``config.flatness``), as loop hooks."""
    cfg, n_classes = plan.config, plan.data.n_classes
    hooks = []
    if cfg.probes:
        hooks.append(probe_hook(plan.model, loss=cfg.loss, n_classes=n_classes))
    if cfg.flatness is not None:
        hooks.append(flatness_hook(plan.model, cfg.flatness, loss=cfg.loss, n_classes=n_classes))
    return hooks


# ============================================================================= entry points


def train(model: MLP, data: Dataset, optimizer=None, *, key, params=None, config=None, hooks=(), **settings) -> TrainResult:
    r"""Train ``model`` on ``data``: jit + ``lax.scan`` chunks, probes every ``eval_every`` steps.

    Parameters
    ----------
    model : MLP
    data : Dataset
    optimizer : str or optax.GradientTransformation, optional
        See :class:`TrainConfig` (default ``"adamw"``, or ``config.optimizer``).
    key : jax PRNG key
        The only source of randomness: same key, same trajectory.
    params : dict, optional
        Starting parameters (e.g. for finetuning); default ``model.init``.
    config : TrainConfig, optional
        The settings; ``optimizer`` and ``settings`` override its fields.
    hooks : sequence of callables, optional
        Extra records, called at every evaluation after the probes (``probes=True``)
        and the flatness measures (``flatness=...``), which are hooks of the same
        kind: ``hook(params, step, batch, keys, *, stacked) -> {name: value}``,
        with ``batch`` the probe batch ``(x, y)``. With ``stacked=False``,
        ``params`` and ``keys`` are one member's and each value a scalar; with
        ``stacked=True`` (a vmapped group of members) every leaf and ``keys`` carry a
        leading member axis and each value has one entry per member. Names must
        not repeat those of other records.
    **settings
        Fields of :class:`TrainConfig`: ``steps`` (required unless ``config`` is
        given), ``eval_every``, ``batch_size``, ``loss``, ``lr``,
        ``weight_decay``, ``sigma``, ``relative``, ``noise_ratio``,
        ``cov_discount``, ``probes``, ``probe_size``, ``track_covariance``,
        ``flatness``, ``max_memory_bytes``, ``quiet``.

    Returns
    -------
    TrainResult

    Notes
    -----
    ``train`` is the K = 1 case of :func:`train_ensemble`: one loop, one record
    layout and the step function of :func:`make_trainer`, run as
    ``jit(scan(step))``.

    Examples
    --------
    >>> import jax
    >>> from rmt_sparsity.nn import MLP, gaussian_mixture, train
    >>> ds = gaussian_mixture(n_train=64, n_test=32, d=4, n_classes=2, rng=0)
    >>> res = train(MLP(d_in=4, d_out=2, width=8, depth=1), ds, key=jax.random.key(0),
    ...             steps=20, eval_every=10, batch_size=16, quiet=True)
    >>> res.history["step"].tolist(), bool(res.history["test_accuracy"][-1] > 0.5)
    ([0, 10, 20], True)

    A hook adds a record (here the squared norm of the first key matrix):

    >>> norm = lambda params, step, batch, keys, *, stacked: {"w0_sq": (params["layer0"]["w"] ** 2).sum((-2, -1))}
    >>> res = train(MLP(d_in=4, d_out=2, width=8, depth=1), ds, key=jax.random.key(0), steps=20, eval_every=10,
    ...             batch_size=16, probes=False, hooks=[norm], quiet=True)
    >>> sorted(res.history), res.history["w0_sq"].shape
    (['step', 'test_accuracy', 'test_loss', 'train_loss', 'w0_sq'], (3,))
    """
    cfg = _make_config("train", config, optimizer, settings)
    hooks = _check_hooks(hooks)
    if not isinstance(model, MLP):
        raise TypeError(f"model must be an rmt_sparsity.nn.MLP; got {type(model).__name__}")
    key = check_key("key", key)
    if not jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        key = jax.random.wrap_key_data(jnp.asarray(key))
    plan = _plan(model, data, cfg, key[None], params, single=True)
    return _fit(plan, _standard_hooks(plan) + hooks).member(0)


def train_ensemble(
    model, data: Dataset, optimizer=None, *, keys, params=None, config=None, hooks=(), resume=None, **settings
) -> EnsembleResult:
    r"""Train K models at once: one ``jit(vmap(scan(step)))`` program over the members.

    Member :math:`k` is the run ``train(model, data, optimizer, key=keys[k],
    lr=lr[k], weight_decay=weight_decay[k], sigma=sigma[k], ...)`` of
    :func:`train`: the same step function (:func:`make_trainer`), with its own
    initialisation, minibatch order and noise draws from ``keys[k]``
    (:math:`W_{t+1}^{(k)} = \mathrm{opt}_k(W_t^{(k)}, \nabla \bar L(W_t^{(k)} +
    \sigma_k \varepsilon_t^{(k)}))`). Only array-valued settings can differ
    between members, so they compile once; everything else is shared.

    Parameters
    ----------
    model : MLP or sequence of K MLPs
        One architecture. A sequence must hold K models that are equal except for
        ``noise_ratio`` (the magic-synapse :math:`\rho`, then per member);
        different widths, depths, activations, ... raise ``ValueError``.
    data : Dataset
        Shared by all members (held once on the device).
    optimizer : str or optax.GradientTransformation, optional
        As in :func:`train`.
    keys : PRNG key array of shape (K,), raw keys (K, 2) or a list of K keys
        Member k's only source of randomness (e.g. ``jax.random.split(key, K)``).
    params : dict, optional
        One model's parameters (every member starts there) or a stack with leading axis K.
    config : TrainConfig, optional
        The settings; ``optimizer`` and ``settings`` override its fields.
    hooks : sequence of callables, optional
        Extra records, as in :func:`train`.
    resume : EnsembleResult, optional
        Continue that run for ``steps`` more steps from its final states
        (parameters, optimiser state with its learning rate and weight decay,
        PRNG key and step counter), with the same ``keys``, ``model`` and
        settings. The first record repeats the resumed step; the steps of the
        history continue. A run of :math:`s_1` steps resumed for :math:`s_2`
        equals one run of :math:`s_1 + s_2` steps (the same compiled chunks
        when both are multiples of ``eval_every``). Not with ``params``.
    **settings
        Fields of :class:`TrainConfig`, as in :func:`train`. ``lr``,
        ``weight_decay``, ``sigma``, ``noise_ratio`` and ``cov_discount`` take a
        scalar for all members or one value per member. With ``flatness``,
        member k's keys are ``fold_in(fold_in(keys[k], 0x5F1A7), step)``.

    Returns
    -------
    EnsembleResult
        Stacked parameters, states and histories (leading axis K);
        :meth:`EnsembleResult.member` gives member k as a :class:`TrainResult`.

    Notes
    -----
    Member k agrees with the single run of :func:`train` with the same key and
    settings to rounding: ``vmap`` turns each matrix product into a batched one
    and XLA may order the floating-point sums of a batched product or reduction
    differently, so the two agree to a few units of rounding per step
    (``tests/test_nn_ensemble.py`` bounds it: 1e-12 relative in float64, 1e-5 in float32).
    A group of one member (K = 1, or a memory budget that fits one member) runs
    the program of :func:`train` exactly.

    The JAX probes of :func:`compute_probes` (sparsity, gradient sparsity,
    dormancy, norms, augmented flatness), the test loss and the flatness
    measures are vmapped over the members; the spectral probes
    (``concentration``, ``sv_ratio``, ``stable_rank``) are host eigenvalue
    computations, done per member by the same functions as :func:`compute_probes`.

    Speed: on a GPU the members fill the device; on a CPU the single-model
    program is already mostly compute-bound at width >= 128 and XLA:CPU runs the
    batched weight-gradient products (a contraction over the minibatch axis)
    through a slower generic kernel, so the gain is modest there
    (``benchmarks/ensemble.py`` measures both, and the end-to-end saving of the
    per-call overheads of K :func:`train` calls).

    Examples
    --------
    >>> import jax
    >>> from rmt_sparsity.nn import MLP, gaussian_mixture, train_ensemble
    >>> ds = gaussian_mixture(n_train=64, n_test=32, d=4, n_classes=2, rng=0)
    >>> ens = train_ensemble(MLP(d_in=4, d_out=2, width=8, depth=1), ds, keys=jax.random.split(jax.random.key(0), 3),
    ...                      sigma=[0.0, 0.05, 0.1], steps=20, eval_every=10, batch_size=16, quiet=True)
    >>> len(ens), ens.history["test_loss"].shape, ens.params["layer0"]["w"].shape
    (3, (3, 3), (3, 8, 4))
    """
    cfg = _make_config("train_ensemble", config, optimizer, settings)
    hooks = _check_hooks(hooks)
    plan = _plan(model, data, cfg, check_keys("keys", keys), params, single=False, resume=resume)
    return _fit(plan, _standard_hooks(plan) + hooks)
