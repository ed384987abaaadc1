"""Layers of the theory's MLPs: LayerNorm (plain, affine, restricted), zeroth bias, dense (magic synapse).

Parameters are plain dicts of arrays (pure-JAX pytrees); every function here is
pure and traceable. Weights are stored (out, in) as in ``torch.nn.Linear``.

Each public function validates its arguments before any JAX work: arrays must
hold float32 or float64 numbers, be non-empty and have matching shapes
(checked also on tracers, at trace time); on concrete input, NaN or inf
entries and out-of-range scalars raise ``ValueError`` (inside ``jit`` those
value checks are skipped). The ``_``-prefixed twins are the unchecked kernels.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .._checks import check_int, check_key
from ._validate import check_axis, check_jax_array, check_jax_int, check_jax_scalar

__all__ = [
    "layer_norm",
    "restricted_gamma_lower",
    "project_restricted_gamma",
    "clip_zeroth_bias",
    "dense",
    "magic_synapse_scale",
]

#: Clip factor of the zeroth bias: |B_ij| <= ZEROTH_BIAS_CLIP * |gamma_j|.
ZEROTH_BIAS_CLIP = 0.1


def layer_norm(z, gamma=None, beta=None, *, eps=1e-5):
    r"""LayerNorm over the last axis, with optional affine parameters.

    .. math::

        \mathrm{LN}(z) = \gamma \odot \frac{z - \bar z}{\sqrt{v + \varepsilon}} + \beta,
        \qquad v = \frac{1}{d}\sum_j (z_j - \bar z)^2 \ \text{(biased variance)}.

    Without affine parameters :math:`\|\mathrm{LN}(z)\|^2 = d\,v/(v+\varepsilon)`
    exactly (docs/science.md §5; arXiv 2309.03004), which tends to :math:`d` as
    :math:`\varepsilon \to 0`.

    Parameters
    ----------
    z : array, shape (..., d)
    gamma, beta : array, shape (d,), optional
        ``None`` leaves out the scale (resp. shift).
    eps : float
        :math:`\varepsilon` added to the variance.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> y = layer_norm(jnp.array([1.0, 2.0, 3.0, 4.0]), eps=0.0)
    >>> round(float((y ** 2).sum()), 5)
    4.0
    """
    z = check_jax_array("z", z, min_ndim=1)
    d = z.shape[-1]
    if gamma is not None:
        gamma = check_jax_array("gamma", gamma, ndim=1)
        check_axis("gamma", gamma, 0, d, "z.shape[-1]")
    if beta is not None:
        beta = check_jax_array("beta", beta, ndim=1)
        check_axis("beta", beta, 0, d, "z.shape[-1]")
    eps = check_jax_scalar("eps", eps, lo=0.0)
    return _layer_norm(z, gamma, beta, eps)


def _layer_norm(z, gamma, beta, eps):
    mean = jnp.mean(z, axis=-1, keepdims=True)
    c = z - mean
    v = jnp.mean(c * c, axis=-1, keepdims=True)
    y = c * jax.lax.rsqrt(v + eps)
    if gamma is not None:
        y = y * gamma
    if beta is not None:
        y = y + beta
    return y


def restricted_gamma_lower(step, uplift_steps):
    r"""Lower bound on :math:`|\gamma|` of the restricted LayerNorm at step :math:`t`.

    From scratch (``uplift_steps = 0``) the bound is 1; when finetuning it is the
    uplift schedule :math:`\min(t/T_{up}, 1)` (arXiv 2309.03004 code).

    Examples
    --------
    >>> float(restricted_gamma_lower(10, 40)), float(restricted_gamma_lower(10, 0))
    (0.25, 1.0)

    ``step`` is an integer >= 0 (a Python int or a 0-d integer array, traced
    or not); ``uplift_steps`` a Python int >= 0.
    """
    step = check_jax_int("step", step, min=0)
    uplift_steps = check_int("uplift_steps", uplift_steps, min=0)
    ftype = jnp.result_type(float)
    if isinstance(step, int):  # Python ints (possibly > 2**63) are divided in Python floats
        return jnp.asarray(1.0 if uplift_steps == 0 else min(step / uplift_steps, 1.0), dtype=ftype)
    step = jnp.asarray(step, dtype=ftype)
    if uplift_steps == 0:
        return jnp.ones_like(step)
    return jnp.clip(step / float(uplift_steps), 0.0, 1.0)


def project_restricted_gamma(gamma, lower):
    r"""Project :math:`\gamma` onto :math:`\{|\gamma_j| \ge \ell\}`, keeping each sign.

    .. math:: \gamma_j \leftarrow \operatorname{sign}(\gamma_j)\,\max(|\gamma_j|, \ell),
        \qquad \operatorname{sign}(0) := +1.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> project_restricted_gamma(jnp.array([0.5, -0.2, 0.0, 3.0]), 1.0).tolist()
    [1.0, -1.0, 1.0, 3.0]
    """
    gamma = check_jax_array("gamma", gamma)
    lower = check_jax_scalar("lower", lower, lo=0.0)
    gamma = jnp.asarray(gamma)
    sign = jnp.where(gamma >= 0, 1.0, -1.0).astype(gamma.dtype)
    return sign * jnp.maximum(jnp.abs(gamma), lower)


def clip_zeroth_bias(bias, gamma=None):
    r"""Clip the zeroth bias to :math:`|B_{ij}| \le 0.1\,|\gamma_j|` of the preceding LayerNorm.

    ``gamma=None`` (a LayerNorm without scale) means :math:`\gamma = 1`. With
    :math:`\varepsilon = 0`, no :math:`\beta` and :math:`|\gamma_j| \ge 1`, the
    layer input :math:`x = \mathrm{LN}(z) + B` then satisfies
    :math:`\|x\| \ge 0.9\sqrt d` (docs/science.md §5).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> clip_zeroth_bias(jnp.array([[0.5, -0.05]]), jnp.array([2.0, 1.0])).tolist()
    [[0.2, -0.05]]
    """
    bias = check_jax_array("bias", bias, min_ndim=1)
    if gamma is not None:
        gamma = check_jax_array("gamma", gamma, ndim=1)
        check_axis("gamma", gamma, 0, bias.shape[-1], "bias.shape[-1]")
    bias = jnp.asarray(bias)
    bound = ZEROTH_BIAS_CLIP * (jnp.ones(bias.shape[-1], bias.dtype) if gamma is None else jnp.abs(gamma))
    return jnp.clip(bias, -bound, bound)


def magic_synapse_scale(w, noise_ratio):
    r"""The magic synapse's noise scale :math:`s = \rho\,\|W\|_F/\sqrt{\mathrm{numel}(W)}` (no gradient).

    :math:`\|W\|_F/\sqrt{\mathrm{numel}\,W}` is rms(W), so ``noise_ratio`` plays
    the role of ``sigma`` with ``relative=True`` in the weight-noise wrapper.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> float(magic_synapse_scale(jnp.full((2, 2), 3.0), 0.1))
    0.3...
    """
    w = check_jax_array("w", w, ndim=2)
    noise_ratio = check_jax_scalar("noise_ratio", noise_ratio, lo=0.0)
    return _magic_synapse_scale(w, noise_ratio)


def _magic_synapse_scale(w, noise_ratio):
    rms = jnp.sqrt(jnp.mean(jnp.square(jax.lax.stop_gradient(w))))
    return noise_ratio * rms


def dense(x, w, b=None, *, noise_ratio=None, key=None):
    r"""Affine map :math:`y = W x + b` with an optional per-token magic synapse.

    .. math:: y = W x + b + s\,\|x\|\,\epsilon, \qquad \epsilon \sim N(0, I_{out}),
        \quad s = \rho\,\mathrm{sg}\!\left(\|W\|_F/\sqrt{\mathrm{numel}\,W}\right).

    Per token this has the law of :math:`(W + E)x` with fresh iid
    :math:`E_{ij} \sim N(0, s^2)` (arXiv 2309.03004, "magic synapse"), at the
    cost of one Gaussian vector per token instead of a weight matrix.

    Parameters
    ----------
    x : array, shape (..., in)
    w : array, shape (out, in)
    b : array, shape (out,), optional
    noise_ratio : float or array, optional
        :math:`\rho`; ``None`` gives the deterministic layer.
    key : jax PRNG key
        Required when ``noise_ratio`` is not ``None``.

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> y = dense(jnp.ones(3), jnp.eye(2, 3), noise_ratio=0.0, key=jax.random.key(0))
    >>> y.tolist()
    [1.0, 1.0]
    """
    w = check_jax_array("w", w, ndim=2)
    x = check_jax_array("x", x, min_ndim=1)
    check_axis("x", x, -1, w.shape[1], "w.shape[1]")
    if b is not None:
        b = check_jax_array("b", b, ndim=1)
        check_axis("b", b, 0, w.shape[0], "w.shape[0]")
    if noise_ratio is not None:
        noise_ratio = check_jax_scalar("noise_ratio", noise_ratio, lo=0.0)
        key = check_key("key", key)
    return _dense(x, w, b, noise_ratio, key)


def _dense(x, w, b=None, noise_ratio=None, key=None):
    x, w = jnp.asarray(x), jnp.asarray(w)
    y = x @ w.T
    if b is not None:
        y = y + b
    if noise_ratio is not None:
        s = _magic_synapse_scale(w, noise_ratio)
        eps = jax.random.normal(key, y.shape, y.dtype)
        y = y + s * _safe_norm(x) * eps
    return y


def _safe_norm(x):
    """``||x||`` over the last axis with a finite (zero) gradient at ``x = 0``."""
    sq = jnp.sum(x * x, axis=-1, keepdims=True)
    pos = sq > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, sq, 1.0)), 0.0)
