"""Per-example losses and the noise-free model output that training, evaluation and the probes share."""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["LOSSES", "per_example_loss", "model_output"]

#: Losses understood by :func:`per_example_loss`.
LOSSES = ("mse", "ce")


def per_example_loss(kind, out, y, n_classes=None):
    r"""Per-token loss (no batch mean).

    ``"mse"``: :math:`\tfrac12\|f - y\|^2` with :math:`y` one-hot for
    classification; ``"ce"``: :math:`-\log\mathrm{softmax}(f)_y`.

    With cross-entropy the training loss goes to ~0 on separable data, so the
    curvature, and the flatness pressure of weight noise on sparsity
    (:math:`\tfrac{s^2}{2}\operatorname{tr}H`), fades; the MSE keeps
    :math:`H \succeq J^\top J` whatever the fit, so the pressure persists.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> per_example_loss("mse", jnp.array([[1.0, 0.0]]), jnp.array([0]), 2).tolist()
    [0.0]
    """
    if kind == "mse":
        target = jax.nn.one_hot(y, n_classes, dtype=out.dtype) if n_classes is not None else y
        return 0.5 * jnp.sum(jnp.square(out - target), axis=-1)
    logp = jax.nn.log_softmax(out, axis=-1)
    return -jnp.take_along_axis(logp, y[..., None].astype(jnp.int32), axis=-1)[..., 0]


def model_output(model, params, x, key, step, hooks=None):
    """Unvalidated forward pass without magic-synapse noise, token outputs averaged: ``(out, intermediates)``.

    A stochastic model runs with ``noise_ratio=0``, so evaluation, probes and
    flatness measures see the deterministic network.
    """
    nr = 0.0 if model.stochastic else None
    k = key if model.stochastic else None
    out, inter = model.forward(params, x, key=k, hooks=hooks, step=step, noise_ratio=nr)
    if model.n_tokens > 1:
        out = jnp.mean(out, axis=-2)
    return out, inter
