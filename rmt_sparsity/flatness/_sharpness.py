"""Perturbation sharpness: Gaussian weight-noise sharpness and first-order SAM sharpness."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from .._checks import check_int, check_key, check_size_budget
from ._common import (
    _check_loss,
    _check_params,
    _flat_loss,
    _jit_static,
    _map,
    _mean_se,
    _probe_keys,
    _raise_if_nonfinite,
    _real,
)
from ._hessian import _pytree_dataclass

__all__ = ["NoiseSharpness", "SAMSharpness", "noise_sharpness", "sam_sharpness"]


# ============================================================================= weight noise


@_pytree_dataclass(
    data=("sharpness", "se", "values", "loss", "sigma", "quadratic", "quadratic_values", "ratio", "ratio_se"),
    meta=("samples", "relative", "antithetic"),
)
class NoiseSharpness:
    """Result of :func:`noise_sharpness`.

    Attributes
    ----------
    sharpness : jax.Array
        Monte-Carlo estimate of :math:`\\mathbb E[L(W+E)] - L(W)`.
    se : jax.Array
        Its standard error ``std(values, ddof=1)/sqrt(samples)`` (NaN for one sample).
    values : jax.Array, shape (samples,)
        Per-draw differences (antithetic: :math:`\\tfrac12[L(W+E)+L(W-E)] - L(W)`).
    loss : jax.Array
        :math:`L(W)`.
    sigma : pytree like ``params`` of scalars
        The noise standard deviation used for each leaf (``sigma`` itself, or
        ``sigma * rms(leaf)`` when ``relative``).
    quadratic : jax.Array or None
        With ``hessian_term=True``: the mean of :math:`q_i = \\tfrac12 E_i^\\top H E_i`
        over the same draws, an unbiased estimate of :math:`\\tfrac12\\operatorname{tr}(\\Sigma H)`
        (:math:`\\tfrac{\\sigma^2}{2}\\operatorname{tr}H` for absolute noise), autodiff Hessian.
    quadratic_values : jax.Array of shape (samples,) or None
        The :math:`q_i`.
    ratio, ratio_se : jax.Array or None
        :math:`R = \\bar d / \\bar q` (measured sharpness over its quadratic
        prediction, paired draws) and its delta-method standard error
        :math:`\\operatorname{sd}(d_i - R q_i)/(\\sqrt{m}\\,|\\bar q|)`.
    samples : int
    relative, antithetic : bool

    Examples
    --------
    >>> from rmt_sparsity.flatness import NoiseSharpness
    >>> r = NoiseSharpness(sharpness=0.03, se=0.001, values=None, loss=1.0, sigma=0.1, quadratic=None,
    ...                    quadratic_values=None, ratio=None, ratio_se=None, samples=100, relative=False,
    ...                    antithetic=True)
    >>> r.sharpness, r.antithetic
    (0.03, True)
    """

    sharpness: jax.Array
    se: jax.Array
    values: jax.Array
    loss: jax.Array
    sigma: object
    quadratic: jax.Array | None
    quadratic_values: jax.Array | None
    ratio: jax.Array | None
    ratio_se: jax.Array | None
    samples: int
    relative: bool
    antithetic: bool


def _noise_impl(params, batch, key, sigma, *, loss, samples, relative, antithetic, chunk, hessian_term):
    f, x, unravel = _flat_loss(loss, params, batch)
    if relative:
        leaf_sigma = jax.tree_util.tree_map(
            lambda p: sigma * jnp.sqrt(jnp.mean(jnp.square(p))).astype(x.dtype), params
        )
    else:
        leaf_sigma = jax.tree_util.tree_map(lambda p: jnp.asarray(sigma, x.dtype), params)
    scale, _ = ravel_pytree(
        jax.tree_util.tree_map(lambda p, s: jnp.broadcast_to(s, jnp.shape(p)).astype(x.dtype), params, leaf_sigma)
    )
    base = f(x)
    keys = _probe_keys(key, 0, samples)
    if hessian_term:
        _, lin = jax.linearize(jax.grad(f), x)

    def one(k):
        e = scale * jax.random.normal(k, x.shape, x.dtype)
        d = 0.5 * (f(x + e) + f(x - e)) - base if antithetic else f(x + e) - base
        if not hessian_term:
            return d, d
        return d, 0.5 * jnp.vdot(e, lin(e))

    vals, qvals = _map(one, keys, chunk)
    est, se = _mean_se(vals)
    quad = ratio = ratio_se = None
    if hessian_term:
        quad = jnp.mean(qvals)
        ratio = est / quad
        ratio_se = _mean_se(vals - ratio * qvals)[1] / jnp.abs(quad)
    else:
        qvals = None
    return NoiseSharpness(
        sharpness=est, se=se, values=vals, loss=base, sigma=leaf_sigma, quadratic=quad,
        quadratic_values=qvals, ratio=ratio, ratio_se=ratio_se,
        samples=samples, relative=relative, antithetic=antithetic,
    )


_noise_jit = _jit_static(_noise_impl, ("loss", "samples", "relative", "antithetic", "chunk", "hessian_term"))


def noise_sharpness(
    loss, params, batch, *, key, sigma, samples=100, relative=False, antithetic=True, hessian_term=False, chunk=1
):
    """Gaussian weight-noise sharpness :math:`\\mathbb E[L(W+E)] - L(W)` with its Monte-Carlo error.

    .. math::

        S(\\sigma) = \\mathbb E_E[L(W+E)] - L(W) = \\frac{1}{2}\\operatorname{tr}(\\Sigma H) + O(\\sigma^4),
        \\qquad E \\sim \\mathcal N(0, \\Sigma),

    with :math:`\\Sigma = \\sigma^2 I` for absolute noise, so that
    :math:`S = \\tfrac{\\sigma^2}{2}\\operatorname{tr} H + O(\\sigma^4)` for a
    :math:`C^4` loss. With ``relative=True`` each leaf (weight matrix, bias
    vector, ...) gets :math:`\\sigma_\\ell = \\sigma\\cdot\\mathrm{rms}(W_\\ell)`,
    :math:`\\mathrm{rms}(W_\\ell) = \\sqrt{\\operatorname{mean}(W_\\ell^2)}` (docs/design.md §3
    "relative"); an all-zero leaf then receives no noise.

    With ``antithetic=True`` (default) each draw evaluates :math:`\\pm E`:
    :math:`d = \\tfrac12[L(W+E)+L(W-E)] - L(W)` has the same expectation and no
    first-order (gradient) term, which removes the dominant variance away from
    a critical point. For a quadratic loss :math:`d = \\tfrac12 E^\\top H E`
    exactly, so :math:`\\mathbb E d = \\tfrac12\\operatorname{tr}(\\Sigma H)` with no
    truncation error.

    Parameters
    ----------
    loss : callable
        ``loss(params, batch) -> scalar``.
    params : pytree of float arrays
    batch : pytree of arrays or None
    key : jax.random key
        Draw ``i`` is :math:`E_i = s \\odot \\xi_i` with
        ``xi_i = jax.random.normal(jax.random.fold_in(key, i), (n,))`` in
        ``ravel_pytree`` order and :math:`s` the per-entry standard deviation.
    sigma : float
        Noise standard deviation, ``>= 0`` (absolute, or relative to each leaf's rms).
    samples : int, default 100
        Number of noise draws (each costs 2 loss evaluations when antithetic).
    relative : bool, default False
    antithetic : bool, default True
    hessian_term : bool, default False
        Also evaluate :math:`q_i = \\tfrac12 E_i^\\top H E_i` on the same draws (one
        Hessian-vector product each) and return the paired ratio
        :math:`R = \\bar d/\\bar q` with its standard error. Pairing cancels most
        of the noise: :math:`d_i - q_i = O(\\sigma^4)` for a smooth loss, so
        :math:`R - 1` is measured far more precisely than either term. For
        ReLU networks :math:`R - 1` is the kink contribution the autodiff Hessian misses.
    chunk : int, default 1
        Draws evaluated together (vectorised); 1 is a sequential loop, the
        fastest on CPU (``benchmarks/flatness.py``).
    Returns
    -------
    NoiseSharpness
        ``sharpness``, ``se``, ``values``, ``loss``, per-leaf ``sigma``.

    Raises
    ------
    ValueError
        ``sigma < 0`` or not finite, ``samples < 1``, a non-finite loss at ``params``
        or at a perturbed point (when not traced).

    Notes
    -----
    For ReLU networks the loss is only piecewise smooth: noise that moves a
    pre-activation across 0 adds a kink term that the autodiff Hessian (zero
    second derivative of ReLU) does not see, so :math:`S` and
    :math:`\\tfrac{\\sigma^2}{2}\\operatorname{tr}H` differ (docs/science.md §5).
    vmap-compatible over ``params``.

    References
    ----------
    Neyshabur et al., arXiv 1706.08947; Jiang et al., "Fantastic generalization
    measures", arXiv 1912.02178 (PAC-Bayes sharpness).

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> from rmt_sparsity.flatness import noise_sharpness
    >>> loss = lambda w, b: 0.5 * jnp.sum(b * w**2)     # tr H = 6; (s^2/2) tr H = 0.03 at s = 0.1
    >>> r = noise_sharpness(loss, jnp.ones(3), jnp.array([1.0, 2.0, 3.0]), key=jax.random.key(0),
    ...                     sigma=0.1, samples=4000)
    >>> abs(float(r.sharpness) - 0.03) < 4 * float(r.se)
    True
    >>> r = noise_sharpness(loss, jnp.ones(3), jnp.array([1.0, 2.0, 3.0]), key=jax.random.key(0),
    ...                     sigma=0.1, samples=100, hessian_term=True)
    >>> round(float(r.ratio), 5)                       # quadratic loss: d_i = q_i draw by draw
    1.0
    """
    _check_loss(loss)
    n = _check_params(params)
    check_key("key", key)
    sigma = _real("sigma", sigma, lo=0.0)
    samples = check_int("samples", samples, min=1)
    check_size_budget("samples", samples, nbytes=16 * samples, iterations=samples * n,
                      what="one key, one perturbed loss and one value per sample")
    chunk = check_int("chunk", chunk, min=1)
    # as requested (before the cap at samples): a vectorised chunk holds a few n-vectors per lane
    check_size_budget("chunk", chunk, nbytes=4 * 8 * chunk * n, what="the perturbed parameters of one chunk")
    chunk = min(chunk, samples)
    res = _noise_jit(params, batch, key, sigma, loss=loss, samples=samples, relative=bool(relative),
                     antithetic=bool(antithetic), chunk=chunk, hessian_term=bool(hessian_term))
    _raise_if_nonfinite("loss(params, batch)", res.loss)
    _raise_if_nonfinite("the loss at a noise-perturbed point L(W + E)", res.values)
    return res


# ============================================================================= SAM


@_pytree_dataclass(data=("sharpness", "se", "values", "loss", "grad_norm", "rho"), meta=("m", "chunks"))
class SAMSharpness:
    """Result of :func:`sam_sharpness`.

    Attributes
    ----------
    sharpness : jax.Array
        First-order SAM sharpness (mean over chunks for m-sharpness).
    se : jax.Array
        Standard error over the ``chunks`` values (NaN when ``chunks == 1``).
    values : jax.Array, shape (chunks,)
        Per-chunk sharpness :math:`L_c(W + \\epsilon_c) - L_c(W)`.
    loss : jax.Array
        Mean of the per-chunk losses :math:`L_c(W)` (the full-batch loss when ``m`` is None).
    grad_norm : jax.Array, shape (chunks,)
        :math:`\\|\\nabla L_c(W)\\|_2` per chunk.
    rho : jax.Array
        Perturbation radius.
    m : int or None
        Chunk size (None: the whole batch).
    chunks : int

    Examples
    --------
    >>> from rmt_sparsity.flatness import SAMSharpness
    >>> r = SAMSharpness(sharpness=5.5, se=float("nan"), values=[5.5], loss=12.5, grad_norm=[5.0], rho=1.0,
    ...                  m=None, chunks=1)
    >>> r.sharpness, r.chunks
    (5.5, 1)
    """

    sharpness: jax.Array
    se: jax.Array
    values: jax.Array
    loss: jax.Array
    grad_norm: jax.Array
    rho: jax.Array
    m: int | None
    chunks: int


def _sam_one(loss, params, batch, rho):
    f, x, _ = _flat_loss(loss, params, batch)
    value, g = jax.value_and_grad(f)(x)
    gn = jnp.linalg.norm(g)
    eps = jnp.where(gn > 0, rho / jnp.where(gn > 0, gn, 1.0), 0.0) * g
    return f(x + eps) - value, value, gn


def _sam_impl(params, batch, rho, *, loss, m, chunks):
    rho = jnp.asarray(rho, ravel_pytree(params)[0].dtype)
    if m is None:
        d, v, gn = _sam_one(loss, params, batch, rho)
        vals, losses, gns = d[None], v[None], gn[None]
    else:
        split = jax.tree_util.tree_map(lambda a: a.reshape((chunks, m) + a.shape[1:]), batch)
        vals, losses, gns = jax.lax.map(lambda b: _sam_one(loss, params, b, rho), split)
    est, se = _mean_se(vals)
    return SAMSharpness(sharpness=est, se=se, values=vals, loss=jnp.mean(losses), grad_norm=gns, rho=rho,
                        m=m, chunks=chunks)


_sam_jit = _jit_static(_sam_impl, ("loss", "m", "chunks"))


def sam_sharpness(loss, params, batch, *, rho, m=None):
    """First-order SAM sharpness, and its m-sharpness variant over disjoint sub-batches.

    SAM's sharpness is :math:`\\max_{\\|\\epsilon\\|_2 \\le \\rho} L(W+\\epsilon) - L(W)`;
    its first-order maximiser is :math:`\\epsilon^* = \\rho\\, g / \\|g\\|_2` with
    :math:`g = \\nabla L(W)`, giving

    .. math:: S_\\rho = L\\big(W + \\rho\\, g/\\|g\\|_2\\big) - L(W)
              \\;(\\le \\max_{\\|\\epsilon\\|\\le\\rho} \\ldots),

    and :math:`S_\\rho = 0` where :math:`g = 0`. The perturbation is one global
    :math:`\\ell_2` ball over all parameters (no per-leaf scaling).

    m-sharpness (``m`` given) splits the batch along axis 0 of every leaf into
    :math:`B/m` disjoint chunks of ``m`` examples, computes :math:`S_\\rho` on
    each chunk with its own gradient, and averages:
    :math:`S_\\rho^{(m)} = \\frac{m}{B}\\sum_c S_\\rho(\\text{chunk}_c)`.

    Parameters
    ----------
    loss : callable
        ``loss(params, batch) -> scalar`` (a mean over the examples of ``batch``).
    params : pytree of float arrays
    batch : pytree of arrays
        With ``m``: every leaf must have the same leading size :math:`B`, a multiple of ``m``.
    rho : float
        Radius :math:`\\rho \\ge 0`.
    m : int, optional
        Chunk size for m-sharpness.

    Returns
    -------
    SAMSharpness
        ``sharpness`` (mean over chunks), ``se`` over chunks, per-chunk ``values``,
        ``loss``, ``grad_norm``.

    Raises
    ------
    ValueError
        ``rho < 0``, ``m < 1``, a batch size that ``m`` does not divide, or a
        non-finite loss (when not traced).

    References
    ----------
    Foret et al., SAM, arXiv 2010.01412; Andriushchenko & Flammarion,
    m-sharpness, arXiv 2206.06232.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from rmt_sparsity.flatness import sam_sharpness
    >>> loss = lambda w, b: 0.5 * jnp.sum(w**2)          # g = w, eps = rho w/|w|
    >>> r = sam_sharpness(loss, jnp.array([3.0, 4.0]), None, rho=1.0)
    >>> float(r.sharpness)                               # 0.5 (6^2 - 5^2)
    5.5
    """
    _check_loss(loss)
    _check_params(params)
    rho = _real("rho", rho, lo=0.0)
    chunks = 1
    if m is not None:
        m = check_int("m", m, min=1)
        leaves = jax.tree_util.tree_leaves(batch)
        if not leaves:
            raise ValueError("m-sharpness needs a batch with array leaves to split; got an empty batch")
        sizes = {int(jnp.shape(a)[0]) if jnp.ndim(a) else None for a in leaves}
        if len(sizes) != 1 or None in sizes:
            raise ValueError(f"every batch leaf must share one leading size to split into chunks; got sizes {sizes}")
        B = sizes.pop()
        if B % m:
            raise ValueError(f"m must divide the batch size {B}; got m = {m}")
        chunks = B // m
    res = _sam_jit(params, batch, rho, loss=loss, m=m, chunks=chunks)
    _raise_if_nonfinite("loss(params, batch)", res.loss)
    _raise_if_nonfinite("the loss at the SAM-perturbed point", res.values)
    return res
