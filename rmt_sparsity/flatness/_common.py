"""Shared plumbing of the flatness measures: validation, flattening and Hessian-vector products.

Every measure works on a scalar loss ``loss(params, batch)`` and a parameter
pytree ``params``. Internally the pytree is flattened once with
:func:`jax.flatten_util.ravel_pytree` into a vector ``x`` of ``n`` entries, and
Hessian-vector products are taken forward-over-reverse,

.. math:: H v = \\partial_t \\nabla L(x + t v)\\big|_{t=0},

i.e. ``jax.jvp`` of ``jax.grad`` (here through :func:`jax.linearize`, which is
the same forward-over-reverse product with the primal pass done once and reused
for every probe). The full Hessian is never formed.

Validation happens at the Python boundary. Static arguments (counts, choices,
``sigma``) and the parameters' structure (float32 or float64 leaves: half
precision is refused, since curvature estimates in float16/bfloat16 are noise
and several XLA kernels lack it) are always checked; data-dependent checks (NaN
or inf in ``params`` or in a direction, a non-finite loss) can only run on
concrete values, so under an outer ``jax.jit``/``jax.vmap`` they are skipped and
non-finite values propagate as NaN.
"""

from __future__ import annotations

import math
import numbers

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from .._checks import check_real
from .._jaxchecks import check_finite_named

__all__ = ["hvp", "num_params"]


# ----------------------------------------------------------------------------- validation


def _check_loss(loss):
    if not callable(loss):
        raise TypeError(f"loss must be a callable loss(params, batch) -> scalar; got {type(loss).__name__}")
    return loss


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _leaf_dtype(name, i, leaf):
    """The dtype of pytree leaf ``i`` of argument ``name``: float32 or float64, else ``TypeError``."""
    try:
        dt = jnp.result_type(leaf)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a pytree of floating-point arrays; leaf {i} is a {type(leaf).__name__}") from exc
    if dt not in _FLOATS:
        raise TypeError(
            f"{name} must hold float32 or float64 arrays; leaf {i} has dtype {dt} "
            "(cast integer and half-precision leaves to float32; complex parameters are not supported)"
        )
    return dt


def _check_finite_leaves(name, leaves) -> None:
    """``ValueError`` naming ``name`` and the leaf if a concrete leaf holds NaN/inf (skipped when traced)."""
    check_finite_named([(f"{name} leaf {i} (shape {tuple(jnp.shape(leaf))})", leaf) for i, leaf in enumerate(leaves)])


def _check_params(params):
    leaves = jax.tree_util.tree_leaves(params)
    if not leaves:
        raise ValueError("params must be a non-empty pytree of floating-point arrays; got no leaves")
    for i, leaf in enumerate(leaves):
        _leaf_dtype("params", i, leaf)
    n = sum(int(np.prod(jnp.shape(leaf))) for leaf in leaves)
    if n == 0:
        raise ValueError("params must have at least one entry; all leaves are empty")
    _check_finite_leaves("params", leaves)
    return n


def _check_vector(vector, params):
    """A direction with the structure, shapes and a float dtype of ``params``; finite when concrete."""
    if jax.tree_util.tree_structure(vector) != jax.tree_util.tree_structure(params):
        raise ValueError("vector must have the same pytree structure as params")
    leaves = jax.tree_util.tree_leaves(vector)
    for i, (v, p) in enumerate(zip(leaves, jax.tree_util.tree_leaves(params))):
        _leaf_dtype("vector", i, v)
        if tuple(jnp.shape(v)) != tuple(jnp.shape(p)):
            raise ValueError(f"vector must have the shapes of params; leaf {i} has shape {tuple(jnp.shape(v))}, "
                             f"params {tuple(jnp.shape(p))}")
    _check_finite_leaves("vector", leaves)


def _real(name, value, **kwargs) -> float:
    """check_real that also accepts concrete 0-d arrays (NumPy or JAX)."""
    if not isinstance(value, numbers.Real) and hasattr(value, "shape") and jnp.ndim(value) == 0:
        try:
            value = float(np.asarray(value))
        except jax.errors.JAXTypeError as exc:
            raise TypeError(f"{name} must be a concrete Python number, not a traced value") from exc
    return check_real(name, value, **kwargs)


def _is_concrete(x) -> bool:
    try:
        np.asarray(x)
    except jax.errors.JAXTypeError:
        return False
    return True


def _raise_if_nonfinite(what: str, value) -> None:
    """Raise ValueError if ``value`` is concrete and holds a NaN or an infinity (no-op under tracing)."""
    if not _is_concrete(value):
        return
    arr = np.asarray(value)
    if arr.size and not np.all(np.isfinite(arr)):
        bad = arr[~np.isfinite(arr)].ravel()[0]
        raise ValueError(
            f"{what} is not finite (found {bad!r}); flatness measures need a loss that is finite "
            "at params (and at the perturbed points they evaluate)"
        )


def _jit_static(fun, static_argnames):
    """``jax.jit`` whose static ``loss`` argument falls back to eager tracing when it is unhashable."""
    jitted = jax.jit(fun, static_argnames=static_argnames)

    def call(*args, loss, **kwargs):
        try:
            hash(loss)
        except TypeError:
            return fun(*args, loss=loss, **kwargs)
        return jitted(*args, loss=loss, **kwargs)

    return call


# ----------------------------------------------------------------------------- flattening / products


def _flat_loss(loss, params, batch):
    """``f(x) = loss(unravel(x), batch)`` on the flat parameter vector, plus ``x`` and ``unravel``."""
    x, unravel = ravel_pytree(params)

    def f(z):
        out = loss(unravel(z), batch)
        if jnp.ndim(out) != 0:
            raise TypeError(f"loss(params, batch) must return a scalar; got shape {jnp.shape(out)}")
        if not jnp.issubdtype(jnp.result_type(out), jnp.floating):
            raise TypeError(f"loss(params, batch) must return a real float; got dtype {jnp.result_type(out)}")
        return out

    return f, x, unravel


def _linearized_hvp(loss, params, batch):
    """``(value, x, unravel, matvec)`` with ``matvec(v) = H v`` (forward-over-reverse, primal cached)."""
    f, x, unravel = _flat_loss(loss, params, batch)
    (value, _), lin = jax.linearize(jax.value_and_grad(f), x)

    def matvec(v):
        return lin(v)[1]

    return value, x, unravel, matvec


def hvp(loss, params, batch, vector):
    """Hessian-vector product :math:`H v` of ``loss`` at ``params`` (forward-over-reverse).

    .. math:: H v = \\frac{d}{dt} \\nabla_W L(W + t v, \\text{batch})\\Big|_{t=0}

    computed as ``jax.jvp(jax.grad(L), (W,), (v,))``; the Hessian is never formed.
    Cost: about two to three gradient evaluations.

    Parameters
    ----------
    loss : callable
        ``loss(params, batch) -> scalar``.
    params : pytree of float32/float64 arrays
        The point :math:`W` (finite where concrete).
    batch : pytree of arrays or None
        Passed through to ``loss``.
    vector : pytree
        Direction :math:`v`: the structure and shapes of ``params``, float32/float64 leaves, finite
        where concrete.

    Returns
    -------
    pytree
        :math:`Hv` with the structure of ``params``.

    References
    ----------
    Pearlmutter, "Fast exact multiplication by the Hessian", Neural Comput. 1994.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from rmt_sparsity.flatness import hvp
    >>> loss = lambda w, b: 0.5 * jnp.sum(b * w**2)      # H = diag(b)
    >>> hvp(loss, jnp.ones(3), jnp.array([1.0, 2.0, 3.0]), jnp.ones(3))
    Array([1., 2., 3.], dtype=float32)
    """
    _check_loss(loss)
    _check_params(params)
    _check_vector(vector, params)
    f, x, unravel = _flat_loss(loss, params, batch)
    v, _ = ravel_pytree(vector)
    if v.shape != x.shape:
        raise ValueError(f"vector must have the shapes of params ({x.shape[0]} entries); got {v.shape[0]}")
    _, hv = jax.jvp(jax.grad(f), (x,), (v.astype(x.dtype),))
    return unravel(hv)


def num_params(params) -> int:
    """Number of scalar parameters :math:`n` in a pytree (the dimension of the Hessian).

    ``params`` is checked as by every flatness measure: float32/float64 leaves,
    finite where concrete (an O(n) pass).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from rmt_sparsity.flatness import num_params
    >>> num_params({"W": jnp.zeros((3, 4)), "b": jnp.zeros(3)})
    15
    """
    return _check_params(params)


def _rademacher(key, n: int, dtype):
    """``n`` iid Rademacher signs (+-1) from 32 random bits per uint32 word.

    Same law as ``jax.random.rademacher`` but about 7x cheaper for large ``n``
    (one threefry word per 32 entries); deterministic in ``key``.
    """
    words = jax.random.bits(key, (-(-n // 32),), jnp.uint32)
    bits = (words[:, None] >> jnp.arange(32, dtype=jnp.uint32)) & jnp.uint32(1)
    return (1 - 2 * bits.reshape(-1)[:n].astype(jnp.int8)).astype(dtype)


def _map(fun, xs, chunk: int):
    """``jax.lax.map`` over ``xs``: a sequential loop for ``chunk == 1``, else ``chunk`` items vectorised at a time."""
    return jax.lax.map(fun, xs, batch_size=None if chunk == 1 else chunk)


def _probe_keys(key, start: int, count: int):
    """Keys for probes ``start, ..., start + count - 1``: ``fold_in(key, i)`` (so blocks reproduce one run)."""
    idx = jnp.arange(start, start + count, dtype=jnp.uint32)
    return jax.vmap(lambda i: jax.random.fold_in(key, i))(idx)


def _mean_se(values):
    """Sample mean and its standard error ``std(ddof=1)/sqrt(m)`` (NaN for a single value), traceable.

    The ``jax.numpy`` form of :func:`rmt_sparsity._stats.mean_se`, for the
    estimates computed inside ``jax.jit``/``jax.vmap`` (the measures of this
    subpackage); concrete values use :func:`~rmt_sparsity._stats.mean_se` itself.
    """
    m = values.shape[0]
    mean = jnp.mean(values)
    if m < 2:
        return mean, jnp.full((), jnp.nan, values.dtype)
    se = jnp.std(values, ddof=1) / math.sqrt(m)
    return mean, se
