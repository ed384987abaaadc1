"""Optimisers whose learning rate and weight decay are arrays in their state, so ensemble members can differ."""

from __future__ import annotations

import jax.numpy as jnp
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
