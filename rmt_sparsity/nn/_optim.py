"""Optimisers whose learning rate and weight decay are arrays in their state, so ensemble members can differ."""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np
import optax

from .._checks import check_choice, check_real

__all__ = ["OPTIMIZERS", "make_optimizer", "set_hyperparams"]

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
    input-covariance probe (arXiv 2309.03004).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> opt = make_optimizer("sgd", lr=0.1)
    >>> float(opt.init({"w": jnp.zeros(2)}).hyperparams["learning_rate"])
    0.1
    """
    check_choice("name", name, OPTIMIZERS)
    lr = check_real("lr", lr, lo=0.0, lo_open=True)
    weight_decay = check_real("weight_decay", weight_decay, lo=0.0)
    return optax.inject_hyperparams(_FACTORIES[name])(learning_rate=lr, weight_decay=weight_decay)


_HYPER_CHECKS = {"lr": {"lo": 0.0, "lo_open": True}, "weight_decay": {"lo": 0.0}}


def _check_hyper(name, value, old):
    """``value`` as an array of ``old``'s dtype and shape; values checked as ``make_optimizer`` checks them."""
    bounds = _HYPER_CHECKS[name]
    if isinstance(value, jax.core.Tracer):  # inside a trace: static checks only
        if not jnp.issubdtype(value.dtype, jnp.integer) and not jnp.issubdtype(value.dtype, jnp.floating):
            raise TypeError(f"{name} must hold real numbers; got dtype {value.dtype}")
    elif np.ndim(value) == 0 and not isinstance(value, (np.ndarray, jax.Array)):
        check_real(name, value, **bounds)
    else:
        arr = np.asarray(value)
        if arr.dtype.kind not in "iuf" and arr.dtype.name != "bfloat16":
            raise TypeError(f"{name} must hold real numbers; got dtype {arr.dtype}")
        for i, v in enumerate(np.ravel(arr).astype(np.float64)):
            check_real(name if arr.ndim == 0 else f"{name}[{i}]", float(v), **bounds)
    if np.shape(value) != np.shape(old):
        raise ValueError(f"{name} must have the shape of the state's value, {np.shape(old)} (one per member "
                         f"of a stacked state); got {np.shape(value)}")
    return jnp.asarray(value, dtype=jnp.asarray(old).dtype)


def set_hyperparams(opt_state, **values):
    """Return ``opt_state`` (from :func:`make_optimizer`) with new hyper-parameter arrays.

    Keys: ``lr`` (``learning_rate``, > 0) and ``weight_decay`` (>= 0), finite,
    each a scalar or an array of the state's shape (one value per member of a
    stacked state); dtypes are kept, so no recompilation.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> st = make_optimizer("sgd").init({"w": jnp.zeros(2)})
    >>> float(set_hyperparams(st, lr=0.5).hyperparams["learning_rate"])
    0.5
    """
    names = {"lr": "learning_rate", "weight_decay": "weight_decay"}
    hyper = getattr(opt_state, "hyperparams", None)
    if not isinstance(hyper, Mapping) or not hasattr(opt_state, "_replace"):
        raise TypeError(f"opt_state must be the state of an optimizer from make_optimizer (optax.inject_hyperparams); "
                        f"got {type(opt_state).__name__}")
    hyper = dict(hyper)
    for k, v in values.items():
        if k not in names:
            raise ValueError(f"unknown hyper-parameter {k!r}; allowed: {', '.join(names)}")
        if names[k] not in hyper:
            raise ValueError(f"opt_state has no {names[k]!r} hyper-parameter; it must come from make_optimizer")
        hyper[names[k]] = _check_hyper(k, v, hyper[names[k]])
    return opt_state._replace(hyperparams=hyper)
