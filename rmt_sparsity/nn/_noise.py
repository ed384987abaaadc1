"""Weight noise at the point where the gradient is taken (docs/science.md §5).

An optax ``GradientTransformation`` only sees gradients, so it cannot move the
point at which they are evaluated. Weight noise is therefore a wrapper around
the *loss*: :func:`weight_noise_value_and_grad` evaluates the gradient at
:math:`W + \\varepsilon` and returns it for the update of :math:`W`, so it
composes with any optax optimiser.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_key
from ._validate import check_callable, check_jax_scalar, check_jax_tree

__all__ = ["default_noise_filter", "perturb_weights", "weight_noise_value_and_grad"]


def default_noise_filter(path, leaf) -> bool:
    """Noise goes on weight matrices: leaves named ``"w"`` or ``"w_out"`` (not biases, LayerNorm or zeroth bias).

    ``path`` is a pytree key path (a tuple of ``jax.tree_util`` key entries, as
    :func:`jax.tree_util.tree_flatten_with_path` gives); ``leaf`` is not used.

    Examples
    --------
    >>> import jax
    >>> default_noise_filter((jax.tree_util.DictKey("layer0"), jax.tree_util.DictKey("w")), None)
    True
    """
    if not isinstance(path, (tuple, list)):
        raise TypeError(f"path must be a pytree key path (a tuple of jax.tree_util key entries); "
                        f"got {type(path).__name__} {path!r:.80}")
    last = path[-1] if path else None
    name = getattr(last, "key", getattr(last, "name", None))
    return name in ("w", "w_out")


def _check_sigma(sigma):
    return check_jax_scalar("sigma", sigma, lo=0.0)


def perturb_weights(params, *, key, sigma, relative=False, where: Callable | None = None):
    r"""Add Gaussian weight noise to the selected leaves of a parameter pytree.

    .. math::

        W \mapsto W + \varepsilon, \qquad \varepsilon_{ij} \sim N(0, s^2), \qquad
        s = \begin{cases} \sigma & \text{relative=False} \\
                          \sigma \cdot \mathrm{rms}(W) = \sigma\|W\|_F/\sqrt{\mathrm{numel}\,W} & \text{relative=True} \end{cases}

    The relative scale is computed from the current :math:`W` and is a constant
    (no gradient flows through it), as in the magic synapse (arXiv 2309.03004).

    Parameters
    ----------
    params : pytree
        Of float32/float64 arrays (every leaf; on concrete input every leaf
        must also be finite: weights already NaN are refused, not perturbed).
    key : jax PRNG key
        One Gaussian vector is drawn for all selected leaves together and cut
        into pieces in pytree flattening order.
    sigma : float or array
        Absolute standard deviation (``sigma`` >= 0), or the factor of rms(W) when ``relative``.
    relative : bool
    where : callable, optional
        ``where(path, leaf) -> bool`` selects the noisy leaves; default
        :func:`default_noise_filter` (weight matrices only).

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> p = {"w": jnp.zeros((2, 2)), "b": jnp.zeros(2)}
    >>> q = perturb_weights(p, key=jax.random.key(0), sigma=0.5)
    >>> bool((q["b"] == 0).all()), bool((q["w"] != 0).all())
    (True, True)
    """
    params = check_jax_tree("params", params)
    key = check_key("key", key)
    sigma = _check_sigma(sigma)
    if not isinstance(relative, bool):
        raise TypeError(f"relative must be a bool; got {relative!r}")
    where = default_noise_filter if check_callable("where", where, none_ok=True) is None else where
    leaves, treedef = jax.tree_util.tree_flatten_with_path(params)
    chosen = [i for i, (path, leaf) in enumerate(leaves) if where(path, leaf)]
    out = [leaf for _, leaf in leaves]
    if not chosen:
        return params
    # one normal draw for all selected leaves, split in flattening order (one threefry kernel to compile)
    dtype = jnp.result_type(*(out[i] for i in chosen))
    sizes = [int(np.prod(jnp.shape(out[i]))) for i in chosen]
    flat = jax.random.normal(key, (sum(sizes),), dtype)
    start = 0
    for i, n in zip(chosen, sizes):
        leaf = out[i]
        scale = sigma
        if relative:
            scale = sigma * jnp.sqrt(jnp.mean(jnp.square(jax.lax.stop_gradient(leaf))))
        eps = flat[start : start + n].reshape(jnp.shape(leaf)).astype(jnp.result_type(leaf))
        out[i] = leaf + scale * eps
        start += n
    return jax.tree_util.tree_unflatten(treedef, out)


def weight_noise_value_and_grad(loss_fn: Callable, *, relative=False, where=None, has_aux=False):
    r"""Wrap ``loss_fn(params, *args)`` so that its gradient is taken at noisy weights.

    The returned function ``f(params, *args, key, sigma, **kwargs)`` computes

    .. math:: (L(W + \varepsilon),\ \nabla L(W + \varepsilon)), \qquad \varepsilon \text{ as in } :func:`perturb_weights`,

    and the caller updates the *clean* :math:`W` with that gradient, with any
    optax optimiser::

        loss, g = f(params, batch, key=k, sigma=0.01)
        updates, opt_state = opt.update(g, opt_state, params)
        params = optax.apply_updates(params, updates)

    In expectation this descends the smoothed loss
    :math:`E_\varepsilon L(W + \varepsilon) \approx L(W) + \tfrac{s^2}{2}\operatorname{tr} H`
    (docs/science.md §5), the pressure towards flat minima.

    Parameters
    ----------
    loss_fn : callable
        ``loss_fn(params, *args, **kwargs) -> scalar`` (or ``(scalar, aux)`` with ``has_aux``).
    relative, where
        As in :func:`perturb_weights`.
    has_aux : bool
        Passed to :func:`jax.value_and_grad`.

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> f = weight_noise_value_and_grad(lambda p: jnp.sum(p["w"] ** 2) / 2)
    >>> loss, g = f({"w": jnp.ones((1, 2))}, key=jax.random.key(0), sigma=0.0)
    >>> g["w"].tolist()
    [[1.0, 1.0]]
    """
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable; got {type(loss_fn).__name__}")
    if not isinstance(relative, bool):
        raise TypeError(f"relative must be a bool; got {relative!r}")
    check_callable("where", where, none_ok=True)
    vg = jax.value_and_grad(loss_fn, has_aux=has_aux)

    def wrapped(params, *args, key, sigma, **kwargs):
        noisy = perturb_weights(params, key=key, sigma=sigma, relative=relative, where=where)
        return vg(noisy, *args, **kwargs)

    return wrapped
