"""Vectorised ensembles: K small MLPs trained as one compiled ``jit(vmap(scan(step)))`` program.

The members of an ensemble share the architecture, the data, the optimiser, the
batch size and the number of steps; they differ in what :func:`make_trainer`
keeps as *arrays*: the PRNG key (initialisation, minibatch order, weight-noise
and magic-synapse draws), the weight-noise ``sigma``, the magic-synapse
``noise_ratio``, the covariance discount (``hparams``) and the learning rate and
weight decay (in the optax state, via ``optax.inject_hyperparams``).

:func:`train` (single model) and :func:`train_ensemble` are the same driver,
:func:`_fit`: one validation, one chunk loop, one record layout, and the same
``step`` function of :func:`make_trainer`. A run of one member uses that step
function directly (``jit(scan(step))``, exactly what :func:`train` always did);
a run of several members vmaps it (``jit(vmap(scan(step)))``).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import os
import sys
from collections.abc import Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from .._checks import check_choice, check_int, check_real
from ._data import Dataset
from ._models import MLP, _check_key
from ._noise import _check_sigma
from ._probes import (
    LOSSES,
    _model_out,
    _probe_core,
    compute_probes,
    key_matrix_spectra,
    per_example_loss,
)
from ._train import OPTIMIZERS, TrainResult, _evaluate, _evaluate_jit, make_optimizer, make_trainer, set_hyperparams

__all__ = ["EnsembleResult", "FLATNESS_MEASURES", "estimate_member_bytes", "train_ensemble"]

#: Flatness measures :func:`train_ensemble` can record (``flatness={"measures": ...}``).
FLATNESS_MEASURES = ("trace", "top_eigenvalue")

#: Fields of :class:`MLP` that may differ between members (everything else must match).
_VECTORISABLE_MODEL_FIELDS = ("noise_ratio",)

_FLAT_SALT = 0x5F1A7  # fold_in salt of the flatness keys (kept apart from the training stream)


# ============================================================================= validation


def _check_keys(keys):
    """Normalise ``keys`` to a typed PRNG key array of shape (K,), K >= 1."""
    if isinstance(keys, (jax.Array, np.ndarray)):
        if isinstance(keys, jax.Array) and jnp.issubdtype(keys.dtype, jax.dtypes.prng_key):
            if keys.ndim != 1:
                raise ValueError(
                    f"keys must be a 1-D array of K PRNG keys (e.g. jax.random.split(key, K)); got shape {keys.shape}"
                )
            typed = keys
        else:
            arr = np.asarray(keys)
            if arr.dtype != np.uint32 or arr.ndim != 2 or arr.shape[1] != 2:
                if arr.dtype == np.uint32 and arr.shape == (2,):
                    raise ValueError("keys holds a single raw PRNG key of shape (2,); pass keys=[key] or jax.random.split(key, K)")
                raise TypeError(
                    "keys must be K JAX PRNG keys: a key array of shape (K,), raw keys of shape (K, 2) "
                    f"and dtype uint32, or a list of keys; got dtype {arr.dtype} and shape {arr.shape}"
                )
            typed = jax.random.wrap_key_data(jnp.asarray(arr))
    elif isinstance(keys, Sequence) and not isinstance(keys, (str, bytes)):
        if len(keys) == 0:
            raise ValueError("keys must hold at least one PRNG key (K >= 1); got an empty sequence")
        data = []
        for i, k in enumerate(keys):
            k = _check_key(f"keys[{i}]", k)
            data.append(jax.random.key_data(k) if jnp.issubdtype(k.dtype, jax.dtypes.prng_key) else jnp.asarray(k))
        typed = jax.random.wrap_key_data(jnp.stack(data))
    else:
        raise TypeError(
            f"keys must be K JAX PRNG keys (jax.random.split(key, K), or a list of keys); got {type(keys).__name__}"
        )
    if typed.shape[0] == 0:
        raise ValueError("keys must hold at least one PRNG key (K >= 1); got K = 0")
    return typed


def _per_member(name, value, n, check, *, allow_none=False):
    """``value`` as a list of ``n`` checked entries: None, a scalar (broadcast) or a sequence of length ``n``."""
    if value is None:
        return [None] * n
    if isinstance(value, numbers.Real) or (hasattr(value, "shape") and np.ndim(value) == 0):
        v = check(name, value)
        return [v] * n
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (Sequence, np.ndarray, jax.Array)):
        raise TypeError(f"{name} must be a number or a sequence of K = {n} numbers; got {type(value).__name__}")
    if isinstance(value, (np.ndarray, jax.Array)) and value.ndim != 1:
        raise ValueError(f"{name} must be a scalar or a 1-D sequence; got shape {value.shape}")
    vals = list(value)
    if len(vals) != n:
        raise ValueError(
            f"{name} has {len(vals)} values but there are K = {n} keys: give one value per member, or one scalar for all"
        )
    out = []
    for i, v in enumerate(vals):
        if v is None and allow_none:
            out.append(None)
        elif v is None:
            raise TypeError(f"{name}[{i}] is None; give a number for every member (or None for the whole argument)")
        else:
            out.append(check(f"{name}[{i}]", v))
    return out


def _real_check(**kw):
    def check(name, v):
        if hasattr(v, "shape") and np.ndim(v) == 0:
            v = float(v)
        return check_real(name, v, **kw)

    return check


def _sigma_check(name, v):
    if name == "sigma":
        return _check_sigma(v)  # the single-model message, unchanged
    return _real_check(lo=0.0)(name, v)


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


def _check_flatness(flatness, model):
    if flatness is None:
        return None
    if not isinstance(flatness, Mapping):
        raise TypeError(f"flatness must be None or a mapping like {{'measures': ('trace',), 'probes': 16}}; got {type(flatness).__name__}")
    unknown = set(flatness) - {"measures", "probes", "iters"}
    if unknown:
        raise ValueError(f"flatness has unknown entries {sorted(unknown)}; allowed: 'measures', 'probes', 'iters'")
    measures = tuple(flatness.get("measures", FLATNESS_MEASURES))
    if not measures:
        raise ValueError("flatness['measures'] must name at least one of " + ", ".join(map(repr, FLATNESS_MEASURES)))
    for m in measures:
        check_choice("flatness measure", m, FLATNESS_MEASURES)
    probes = check_int("flatness['probes']", flatness.get("probes", 16), min=1)
    n_params = sum(math.prod(s) for s in jax.tree_util.tree_leaves(model.param_shapes(), is_leaf=lambda s: isinstance(s, tuple)))
    iters = min(check_int("flatness['iters']", flatness.get("iters", 16), min=1), n_params)
    return (tuple(m for m in FLATNESS_MEASURES if m in measures), probes, iters)


# ============================================================================= memory estimate


def _opt_state_bytes(opt, model, dtype):
    shapes = model.param_shapes()
    abstract = jax.tree_util.tree_map(lambda s: jax.ShapeDtypeStruct(s, dtype), shapes, is_leaf=lambda s: isinstance(s, tuple))
    st = jax.eval_shape(opt.init, abstract)
    return sum(math.prod(x.shape) * jnp.dtype(x.dtype).itemsize for x in jax.tree_util.tree_leaves(st))


def _activation_floats_per_token(model):
    """Floats per token of one forward pass: input, every key layer's (x, h, a), residual/FFN streams, head."""
    total = model.d_in
    for i in range(model.depth):
        out, inn = model.key_shape(i)
        total += inn + 2 * out
        if model.variant != "mlp":
            total += 2 * model.width  # residual stream and (ffn) down-projection output
    return total + model.width + 2 * model.d_out


def estimate_member_bytes(
    model, *, batch_size=128, optimizer="adamw", weight_noise=False, track_covariance=False, eval_rows=256, dtype=None
) -> dict:
    r"""Estimated device memory of one ensemble member (bytes), used to size the vectorised chunks.

    With :math:`P` parameters of :math:`b` bytes, :math:`S_{opt}` the optimiser
    state (exact, from ``jax.eval_shape`` of ``optimizer.init``), :math:`A` the
    activation floats per token of one forward pass (inputs, every key layer's
    :math:`x, h, a`, the residual/FFN streams and the head), :math:`B` tokens per
    step (``batch_size`` times ``n_tokens``) and :math:`E` rows evaluated at once
    by the test loss and the probes (``eval_rows``):

    .. math::

        M = b\,\big[P\,(1 + 2 + 2\,[\text{noise}]) + \textstyle\sum_\ell d_\ell^2\,[\text{cov}]
            + \max(2BA,\ 3EA)\big] + S_{opt},

    i.e. the parameters, their gradient and update (and the noisy copy and the
    noise draw with weight noise), the covariances, and the larger of the
    training step's activations (forward values and their cotangents) and the
    evaluation's (forward, hooked forward and :math:`\eta`). The data set is
    shared by all members and is not counted. This is a planning estimate: XLA
    fuses and reuses buffers, so the true peak is usually lower (within about a
    factor of 2 in our checks); ``jax.jit(...).lower(...).compile().memory_analysis()``
    gives the exact figure of a compiled program.

    Examples
    --------
    >>> from rmt_sparsity.nn import MLP
    >>> est = estimate_member_bytes(MLP(d_in=4, d_out=2, width=8, depth=1), batch_size=16, optimizer="sgd")
    >>> est["n_params"], est["bytes"] > 0   # LN(4) + 8x4 + 8, head LN(8) + 2x8 + 2
    (82, True)
    """
    if not isinstance(model, MLP):
        raise TypeError(f"model must be an rmt_sparsity.nn.MLP; got {type(model).__name__}")
    batch_size = check_int("batch_size", batch_size, min=1)
    eval_rows = check_int("eval_rows", eval_rows, min=1)
    dtype = jnp.zeros(()).dtype if dtype is None else jnp.dtype(dtype)
    b = dtype.itemsize
    if isinstance(optimizer, str):
        check_choice("optimizer", optimizer, OPTIMIZERS)
        opt = make_optimizer(optimizer)
    elif isinstance(optimizer, optax.GradientTransformation):
        opt = optimizer
    else:
        raise TypeError(f"optimizer must be one of {OPTIMIZERS} or an optax.GradientTransformation; got {optimizer!r}")
    shapes = jax.tree_util.tree_leaves(model.param_shapes(), is_leaf=lambda s: isinstance(s, tuple))
    n_params = sum(math.prod(s) for s in shapes)
    a = _activation_floats_per_token(model)
    cov = sum(model.key_shape(i)[1] ** 2 for i in range(model.depth)) if track_covariance else 0
    act = max(2 * batch_size * model.n_tokens * a, 3 * eval_rows * model.n_tokens * a)
    param_like = n_params * (3 + (2 if weight_noise else 0))
    opt_bytes = _opt_state_bytes(opt, model, dtype)
    total = b * (param_like + cov + act) + opt_bytes
    return {"bytes": int(total), "n_params": int(n_params), "param_bytes": int(b * param_like),
            "optimizer_state_bytes": int(opt_bytes), "covariance_bytes": int(b * cov), "activation_bytes": int(b * act)}


def _default_budget() -> int:
    """Half the free memory of the default device (GPU/TPU memory stats), or a quarter of host RAM on CPU."""
    dev = jax.devices()[0]
    try:
        stats = dev.memory_stats() or {}
    except Exception:  # noqa: BLE001  (backends without memory stats)
        stats = {}
    if "bytes_limit" in stats:
        return int(0.5 * (stats["bytes_limit"] - stats.get("bytes_in_use", 0)))
    try:
        return int(0.25 * os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 4 << 30


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


@functools.partial(jax.jit, static_argnames=("model", "loss", "n_classes"))
def _evaluate_v(model, loss, n_classes, params, x, y, step):
    return jax.vmap(lambda p: _evaluate(model, loss, n_classes, p, x, y, step))(params)


@functools.partial(jax.jit, static_argnames=("model", "loss", "n_classes"))
def _probe_core_v(model, params, x, y, step, key, *, loss, n_classes):
    return jax.vmap(lambda p: _probe_core(model, p, x, y, step, key, loss=loss, n_classes=n_classes))(params)


@functools.lru_cache(maxsize=16)
def _flatness_programs(model, loss, n_classes, spec):
    """``(single, vectorised)`` jitted flatness measures on the probe batch (noise-free model, mean per-token loss)."""
    from ..flatness import hutchinson_trace, lanczos

    measures, probes, iters = spec

    def lossf(p, batch):
        x, y, step = batch
        out, _ = _model_out(model, p, x, jax.random.key(0), step)
        return jnp.mean(per_example_loss(loss, out, y, n_classes))

    def one(p, key, x, y, step):
        batch = (x, y, step)
        res = {}
        if "trace" in measures:
            t = hutchinson_trace(lossf, p, batch, key=jax.random.fold_in(key, 0), probes=probes)
            res["hessian_trace"], res["hessian_trace_se"] = t.estimate, t.se
        if "top_eigenvalue" in measures:
            e = lanczos(lossf, p, batch, key=jax.random.fold_in(key, 1), k=1, iters=iters, which="LA")
            res["hessian_top_eigenvalue"], res["hessian_top_residual"] = e.eigenvalues[0], e.residuals[0]
        return res

    return jax.jit(one), jax.jit(jax.vmap(one, in_axes=(0, 0, None, None, None)))


# ============================================================================= results


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


# ============================================================================= the shared driver


def _fit(model, data, optimizer, *, keys, steps, eval_every, batch_size, loss, lr, weight_decay, sigma, relative,
         noise_ratio, params, probes, probe_size, track_covariance, cov_discount, quiet, flatness=None,
         max_memory_bytes=None, single=False):
    """Validate, then train K members in chunks; ``single`` makes ``keys`` one key (the :func:`train` path)."""
    # ---------------------------------------------------------------- validation (before tracing)
    if single:
        if not isinstance(model, MLP):
            raise TypeError(f"model must be an rmt_sparsity.nn.MLP; got {type(model).__name__}")
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be one rmt_sparsity.nn.Dataset shared by all members; got {type(data).__name__}")
    if single:
        keys = _check_key("key", keys)
        if not jnp.issubdtype(keys.dtype, jax.dtypes.prng_key):
            keys = jax.random.wrap_key_data(jnp.asarray(keys))
        keys = keys[None]
    else:
        keys = _check_keys(keys)
    n = int(keys.shape[0])
    model, model_ratios = _check_models(model, n)
    steps = check_int("steps", steps, min=1)
    eval_every = steps if eval_every is None else check_int("eval_every", eval_every, min=1, max=steps)
    batch_size = check_int("batch_size", batch_size, min=1)
    check_choice("loss", loss, LOSSES)
    if data.d_in != model.d_in:
        raise ValueError(f"data has d_in = {data.d_in} but the model expects d_in = {model.d_in}")
    if data.d_out != model.d_out:
        raise ValueError(f"data needs d_out = {data.d_out} outputs but the model has d_out = {model.d_out}")
    if loss == "ce" and data.n_classes is None:
        raise ValueError("loss='ce' needs a classification data set (n_classes set); use loss='mse' for regression")
    want_x = (model.n_tokens, model.d_in) if model.n_tokens > 1 else (model.d_in,)
    if data.x_train.shape[1:] != want_x:
        raise ValueError(f"data.x_train rows have shape {data.x_train.shape[1:]}; the model expects {want_x}")
    sigmas = _per_member("sigma", sigma, n, _sigma_check, allow_none=True)
    if not isinstance(relative, bool):
        raise TypeError(f"relative must be a bool; got {relative!r}")
    weight_noise = any(s is not None for s in sigmas)
    if relative and not weight_noise:
        raise ValueError("relative=True needs sigma")
    ratios = _per_member("noise_ratio", noise_ratio, n, _real_check(lo=0.0), allow_none=True)
    if all(r is None for r in ratios):
        noise_ratio = None
    if noise_ratio is not None and not model.stochastic:
        raise ValueError("noise_ratio is given but the model has no magic synapse (construct MLP(noise_ratio=...))")
    if noise_ratio is not None and model_ratios is not None:
        raise ValueError("give the magic-synapse noise_ratio either through the models or through noise_ratio=, not both")
    if model_ratios is not None:
        ratios = model_ratios
    if model.stochastic:
        ratios = [model.noise_ratio if r is None else r for r in ratios]
    probe_size = check_int("probe_size", probe_size, min=1)
    if not isinstance(probes, bool):
        raise TypeError(f"probes must be a bool; got {probes!r}")
    flat_spec = _check_flatness(flatness, model)
    lrs = _per_member("lr", lr, n, _real_check(lo=0.0, lo_open=True), allow_none=True)
    wds = _per_member("weight_decay", weight_decay, n, _real_check(lo=0.0), allow_none=True)
    if isinstance(optimizer, str):
        check_choice("optimizer", optimizer, OPTIMIZERS)
        lrs = [1e-3 if v is None else v for v in lrs]
        wds = [0.0 if v is None else v for v in wds]
        default_r = [1.0 - float(a) * float(b) for a, b in zip(lrs, wds)]
        opt_name, opt_key = optimizer, optimizer
        opt = make_optimizer(optimizer)
    elif isinstance(optimizer, optax.GradientTransformation):
        if any(v is not None for v in lrs + wds):
            raise ValueError("lr/weight_decay apply to a named optimizer; build them into your optax transformation")
        lrs = wds = None
        default_r = [1.0] * n
        opt, opt_key, opt_name = optimizer, optimizer, type(optimizer).__name__
    else:
        raise TypeError(f"optimizer must be one of {OPTIMIZERS} or an optax.GradientTransformation; got {optimizer!r}")
    rs = _per_member("cov_discount", cov_discount, n, _real_check(lo=0.0, hi=1.0, lo_open=True), allow_none=True)
    rs = [d if r is None else r for r, d in zip(rs, default_r)]
    params_stacked = False
    if params is not None:
        try:
            model.check_params(params)
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
            params_stacked = True
    if quiet is None:
        quiet = not sys.stderr.isatty()
    dtype = jnp.zeros(()).dtype

    # ---------------------------------------------------------------- members per compiled run
    est = estimate_member_bytes(model, batch_size=batch_size, optimizer=opt, weight_noise=weight_noise,
                                track_covariance=track_covariance,
                                eval_rows=max(len(data.x_test), min(probe_size, len(data.x_train))), dtype=dtype)
    if max_memory_bytes is None:
        budget = _default_budget()
        per_run = max(1, min(n, budget // max(est["bytes"], 1)))
    else:
        budget = check_int("max_memory_bytes", max_memory_bytes, min=1)
        if est["bytes"] > budget:
            raise ValueError(f"one member needs about {est['bytes']:,} bytes (estimate_member_bytes) but "
                             f"max_memory_bytes = {budget:,}: raise the budget or shrink the model / batch")
        per_run = min(n, budget // est["bytes"])
    memory = {"member_bytes": est["bytes"], "budget_bytes": int(budget), "members_per_run": int(per_run)}

    # ---------------------------------------------------------------- compiled pieces
    ds = data.astype(np.dtype(dtype.name))
    x_tr, y_tr = jnp.asarray(ds.x_train), jnp.asarray(ds.y_train)
    x_te, y_te = jnp.asarray(ds.x_test), jnp.asarray(ds.y_test)
    x_pr, y_pr = ds.x_train[:probe_size], ds.y_train[:probe_size]
    progs = _cached_programs(model, opt_key, loss=loss, n_classes=data.n_classes, batch_size=batch_size,
                             weight_noise=weight_noise, relative=relative, track_covariance=track_covariance)
    flat_progs = _flatness_programs(model, loss, data.n_classes, flat_spec) if flat_spec else None
    flat_keys = jax.vmap(lambda k: jax.random.fold_in(k, _FLAT_SALT))(keys) if flat_spec else None
    hp_all = {
        "sigma": np.asarray([0.0 if s is None else s for s in sigmas], dtype.name),
        "noise_ratio": np.asarray([0.0 if r is None else r for r in ratios] if model.stochastic else [0.0] * n, dtype.name),
        "cov_discount": np.asarray(rs, dtype.name),
    }
    n_chunks, rem = divmod(steps, eval_every)
    time_chunks = [eval_every] * n_chunks + ([rem] if rem else [])
    groups = [list(range(i, min(i + per_run, n))) for i in range(0, n, per_run)]
    from tqdm.auto import tqdm

    bar = tqdm(total=len(groups) * len(time_chunks), desc="train" if n == 1 else f"train ×{n}", unit="chunk", disable=quiet)
    runs = []
    try:
        for members in groups:
            runs.append(_run_group(
                progs, members, per_run, keys=keys, hp_all=hp_all, lrs=lrs, wds=wds, params=params,
                params_stacked=params_stacked, data=(x_tr, y_tr, x_te, y_te, x_pr, y_pr), model=model, loss=loss,
                n_classes=data.n_classes, probes=probes, time_chunks=time_chunks, bar=bar,
                flat=(flat_progs, flat_keys) if flat_spec else None,
            ))
    finally:
        bar.close()

    # ---------------------------------------------------------------- assemble
    state = jax.tree_util.tree_map(lambda *a: jnp.concatenate(a, axis=0), *[r[0] for r in runs])
    history = {k: np.concatenate([r[1][k] for r in runs], axis=0) for k in runs[0][1]}
    cov = None
    if track_covariance:
        cov = {k: np.asarray(v) for k, v in state["cov"].items()}
    configs = []
    for i in range(n):
        configs.append({
            "model": dataclasses.asdict(model if model_ratios is None else dataclasses.replace(model, noise_ratio=ratios[i])),
            "data": data.name,
            "optimizer": opt_name,
            "lr": lrs[i] if lrs is not None else None,
            "weight_decay": wds[i] if wds is not None else None,
            "steps": steps,
            "eval_every": eval_every,
            "batch_size": batch_size,
            "loss": loss,
            "sigma": sigmas[i],
            "relative": relative,
            "noise_ratio": None if not model.stochastic else float(hp_all["noise_ratio"][i]),
            "cov_discount": rs[i],
            "probe_size": int(min(probe_size, len(ds.x_train))),
        })
        if flat_spec:
            configs[-1]["flatness"] = {"measures": list(flat_spec[0]), "probes": flat_spec[1], "iters": flat_spec[2]}
    return EnsembleResult(params=state["params"], history=history, state=state, covariance=cov, configs=configs,
                          members_per_run=int(per_run), memory=memory)


def _run_group(progs, members, size, *, keys, hp_all, lrs, wds, params, params_stacked, data, model, loss, n_classes,
               probes, time_chunks, bar, flat):
    """Train ``members`` (indices) together; a group smaller than ``size`` is padded with copies of its first member.

    Returns the stacked final state and the history (arrays (len(members), n_evals)). A group of size 1
    runs the un-vmapped ``jit(scan(step))`` program (what :func:`train` runs).
    """
    x_tr, y_tr, x_te, y_te, x_pr, y_pr = data
    c = len(members)
    idx = np.asarray(members + [members[0]] * (size - c))
    vect = size > 1
    tr = progs.trainer
    dtype = hp_all["sigma"].dtype
    if vect:
        p_in = jax.tree_util.tree_map(lambda a: a[idx], params) if params_stacked else params
        state = progs.vinit(keys[idx], p_in, stacked=params_stacked)
        hp = {k: jnp.asarray(v[idx]) for k, v in hp_all.items()}
        if lrs is not None:
            state["opt_state"] = set_hyperparams(state["opt_state"], lr=np.asarray(lrs, dtype)[idx],
                                                 weight_decay=np.asarray(wds, dtype)[idx])
    else:
        i = members[0]
        p_in = jax.tree_util.tree_map(lambda a: a[i], params) if params_stacked else params
        state = tr.init(keys[i], p_in)
        hp = {k: jnp.asarray(v[i]) for k, v in hp_all.items()}
        if lrs is not None:
            state["opt_state"] = set_hyperparams(state["opt_state"], lr=lrs[i], weight_decay=wds[i])

    history: dict[str, list] = {"step": [], "train_loss": [], "test_loss": [], "test_accuracy": []}

    def add(k, values):
        dt = np.int64 if k == "step" else np.float64  # the dtypes of the single-model records
        history.setdefault(k, []).append(np.asarray(values, dtype=dt).reshape(-1)[:c])

    def record(state, train_loss):
        t = int(np.asarray(state["step"]).reshape(-1)[0])
        if vect:
            te_loss, te_acc = _evaluate_v(model, loss, n_classes, state["params"], x_te, y_te, t)
        else:
            te_loss, te_acc = _evaluate_jit(model, loss, n_classes, state["params"], x_te, y_te, state["step"])
        add("step", np.full(c, t))
        add("train_loss", train_loss)
        add("test_loss", te_loss)
        add("test_accuracy", te_acc)
        if probes:
            if vect:
                out = jax.device_get(_probe_core_v(model, state["params"], jnp.asarray(x_pr), jnp.asarray(y_pr),
                                                   jnp.asarray(t), jax.random.key(0), loss=loss, n_classes=n_classes))
                for name, r in out.items():  # the layout of compute_probes, one row per member
                    for k, v in r.items():
                        add(f"{name}.{k}", v)
                    kmats = np.asarray(state["params"][name]["w"])
                    sc = [key_matrix_spectra(kmats[j]) for j in range(c)]
                    for k in ("concentration", "sv_ratio", "stable_rank"):
                        add(f"{name}.{k}", [s[k] for s in sc])
            else:
                pr = compute_probes(model, state["params"], x_pr, y_pr, loss=loss, n_classes=n_classes, step=t)
                for k, v in pr.items():
                    add(k, v)
        if flat is not None:
            (f_single, f_vect), fkeys = flat
            xp, yp = jnp.asarray(x_pr), jnp.asarray(y_pr)
            if vect:
                ks = jax.vmap(lambda k: jax.random.fold_in(k, t))(fkeys[idx])
                out = f_vect(state["params"], ks, xp, yp, jnp.asarray(t))
            else:
                out = f_single(state["params"], jax.random.fold_in(fkeys[members[0]], t), xp, yp, jnp.asarray(t))
            for k, v in jax.device_get(out).items():
                add(k, v)

    record(state, np.full(c, np.nan))
    for n_steps in time_chunks:
        if vect:
            state, losses = progs.vrun(state, hp, x_tr, y_tr, n_steps=n_steps)
            tl = np.mean(np.asarray(losses), axis=1)
        else:
            state, losses = tr.run(state, hp, x_tr, y_tr, n_steps=n_steps)
            tl = np.asarray([float(jnp.mean(losses))])
        bar.update()
        bar.set_postfix(loss=f"{float(np.mean(tl[:c])):.4g}")
        record(state, tl)
    if vect:
        state = jax.tree_util.tree_map(lambda a: a[:c], state)
    else:
        state = jax.tree_util.tree_map(lambda a: a[None], state)
    return state, {k: np.stack(v, axis=1) for k, v in history.items()}


# ============================================================================= public entry point


def train_ensemble(
    model,
    data: Dataset,
    optimizer="adamw",
    *,
    keys,
    steps,
    eval_every=None,
    batch_size=128,
    loss="mse",
    lr=None,
    weight_decay=None,
    sigma=None,
    relative=False,
    noise_ratio=None,
    cov_discount=None,
    params=None,
    probes=True,
    probe_size=256,
    track_covariance=False,
    flatness=None,
    max_memory_bytes=None,
    quiet=None,
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
    optimizer : str or optax.GradientTransformation
        As in :func:`train`; ``lr``/``weight_decay`` need a named optimiser.
    keys : PRNG key array of shape (K,), raw keys (K, 2) or a list of K keys
        Member k's only source of randomness (e.g. ``jax.random.split(key, K)``).
    steps, eval_every, batch_size, loss, relative, params, probes, probe_size, track_covariance
        As in :func:`train` (shared). ``params`` is one model's parameters (every
        member starts there) or a stack with leading axis K.
    lr, weight_decay, sigma, noise_ratio, cov_discount : scalar or sequence of K, optional
        Per-member values (a scalar is used for all; defaults as in :func:`train`).
        ``sigma`` entries may be ``None`` beside numbers: those members get
        :math:`\sigma = 0` in the noisy program, :math:`W + 0\cdot\varepsilon = W`
        exactly, the same trajectory as a run without noise.
    flatness : mapping, optional
        Record flatness measures of the loss on the probe batch (noise-free, mean
        per-token loss) at every evaluation, vmapped over the members:
        ``{"measures": ("trace", "top_eigenvalue"), "probes": 16, "iters": 16}``
        (:func:`rmt_sparsity.flatness.hutchinson_trace`, Rademacher probes, and
        :func:`rmt_sparsity.flatness.lanczos`, largest algebraic eigenvalue, signed).
        Member k's keys are ``fold_in(fold_in(keys[k], 0x5F1A7), step)``.
    max_memory_bytes : int, optional
        Device-memory budget. Members run in chunks of
        ``budget // estimate_member_bytes(...)["bytes"]`` (the last chunk padded to
        the same size, so one program is compiled); default budget: half the
        device's free memory, or a quarter of host RAM on CPU. ``ValueError``
        if one member alone exceeds an explicit budget.
    quiet : bool, optional
        Hide the progress bar (default: hidden unless stderr is a TTY).

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
    return _fit(model, data, optimizer, keys=keys, steps=steps, eval_every=eval_every, batch_size=batch_size, loss=loss,
                lr=lr, weight_decay=weight_decay, sigma=sigma, relative=relative, noise_ratio=noise_ratio,
                params=params, probes=probes, probe_size=probe_size, track_covariance=track_covariance,
                cov_discount=cov_discount, quiet=quiet, flatness=flatness, max_memory_bytes=max_memory_bytes)
