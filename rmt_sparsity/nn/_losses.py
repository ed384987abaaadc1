"""Per-example losses and the noise-free model output that training, evaluation and the probes share."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_choice, check_int
from ._validate import check_jax_array, is_tracer

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

    Parameters
    ----------
    kind : {"mse", "ce"}
    out : array, shape (..., C), float32 or float64
        Model outputs. NaN or inf entries are not refused: they propagate to
        that example's loss (NaN in, NaN out, as :func:`jax.nn.log_softmax`),
        so a diverged model shows as a non-finite loss, eagerly or under ``jit``.
    y : array
        Classification (``kind="ce"``, or ``"mse"`` with ``n_classes``):
        integer labels of shape ``out.shape[:-1]`` in ``[0, C)`` (the range is
        checked on concrete input). Regression (``"mse"`` without
        ``n_classes``): float targets of the shape of ``out``.
    n_classes : int >= 2, optional
        Number of classes; must equal ``C``.

    Types, dtypes and shapes are checked before any JAX work, also on tracers.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> per_example_loss("mse", jnp.array([[1.0, 0.0]]), jnp.array([0]), 2).tolist()
    [0.0]
    """
    kind = check_choice("kind", kind, LOSSES)
    out = check_jax_array("out", out, min_ndim=1, finite=False)
    n_out = out.shape[-1]
    if n_classes is not None:
        n_classes = check_int("n_classes", n_classes, min=2)
        if n_classes != n_out:
            raise ValueError(f"out must have n_classes = {n_classes} columns; got shape {tuple(out.shape)}")
    if kind == "ce" or n_classes is not None:
        y = check_jax_array("y", y, dtypes="int", nonempty=False)
        if tuple(y.shape) != tuple(out.shape[:-1]):
            raise ValueError(f"y must hold one label per row of out, shape {tuple(out.shape[:-1])}; "
                             f"got shape {tuple(y.shape)}")
        if not is_tracer(y) and y.size:
            lo, hi = int(np.min(np.asarray(y))), int(np.max(np.asarray(y)))
            if lo < 0 or hi >= n_out:
                raise ValueError(f"y must hold class labels in [0, {n_out}); got range [{lo}, {hi}]")
    else:
        y = check_jax_array("y", y, nonempty=False)
        if tuple(y.shape) != tuple(out.shape):
            raise ValueError(f"y (regression targets) must have the shape of out, {tuple(out.shape)}; "
                             f"got shape {tuple(y.shape)}")
    out, y = jnp.asarray(out), jnp.asarray(y)
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
