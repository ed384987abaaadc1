"""Device-memory planning of ensemble training: the estimate of one member and the default budget."""

from __future__ import annotations

import math
import os

import jax
import jax.numpy as jnp
import optax

from .._checks import check_choice, check_int
from ._models import MAX_DIM, MLP
from ._optim import OPTIMIZERS, make_optimizer

__all__ = ["estimate_member_bytes", "default_memory_budget"]


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
    batch_size = check_int("batch_size", batch_size, min=1, max=MAX_DIM)
    eval_rows = check_int("eval_rows", eval_rows, min=1, max=MAX_DIM)
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


def default_memory_budget() -> int:
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
