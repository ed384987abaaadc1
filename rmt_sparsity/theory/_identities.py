"""The theory's exact identities: gradient norms, augmented flatness, LayerNorm norms, weight noise.

All functions are pure NumPy (docs/science.md §5). Shapes follow docs/design.md §3: the key
matrix ``K`` is ``(d_ff, d)``; per-token inputs ``x`` are ``(tokens, d)`` and
per-token back-propagated pre-activation gradients ``eta`` are ``(tokens, d_ff)``.

Reference: Peng, Qi, Shi, Gao, arXiv 2309.03004.
"""

from __future__ import annotations

import math

import numpy as np

from .._checks import check_array, check_int, check_real, check_size_budget

__all__ = [
    "key_gradient",
    "key_gradient_sq_norms",
    "augmented_flatness",
    "layernorm_sq_norm",
    "layernorm_norm_lower_bound",
    "layernorm_bound_attaining_configuration",
    "restricted_layernorm",
    "noise_sharpness_prediction",
]


def _pair(x, eta):
    x = check_array("x", x, ndim=2)
    eta = check_array("eta", eta, ndim=2)
    if x.shape[0] != eta.shape[0]:
        raise ValueError(
            f"x and eta must have the same number of tokens (rows); got x {x.shape} and eta {eta.shape}"
        )
    return x, eta


def key_gradient(x, eta) -> np.ndarray:
    """Per-token gradient of the loss with respect to the key matrix, ``eta_t x_tᵀ``.

    For ``h = Kx``, ``a = sigma(h)``, ``g = dL/da`` and ``eta = g ⊙ sigma'(h)``,

    .. math:: \\frac{\\partial L}{\\partial K} = \\eta\\, x^\\top \\in \\mathbb{R}^{d_{ff} \\times d}.

    Parameters
    ----------
    x : array_like, shape (tokens, d)
        Inputs of the key layer.
    eta : array_like, shape (tokens, d_ff)
        Gradients with respect to the pre-activations ``h``.

    Returns
    -------
    ndarray, shape (tokens, d_ff, d)
        One gradient matrix per token, stored (out, in) like ``K``.

    References
    ----------
    arXiv 2309.03004, docs/science.md §5.

    Examples
    --------
    >>> key_gradient([[1.0, 2.0]], [[3.0]]).tolist()
    [[[3.0, 6.0]]]
    """
    x, eta = _pair(x, eta)
    return eta[:, :, None] * x[:, None, :]


def key_gradient_sq_norms(x, eta) -> np.ndarray:
    """Per-token ``‖dL/dK‖_F² = ‖x_t‖² ‖eta_t‖²`` (the gradient identity).

    .. math:: \\|\\eta x^\\top\\|_F^2 = \\operatorname{tr}(x \\eta^\\top \\eta x^\\top) = \\|x\\|^2 \\|\\eta\\|^2 .

    For ReLU this is ``‖x‖² sum_{active} g_i²``; for J-SquaredReLU
    (``sigma' >= 1`` on the active set) it is ``>= ‖x‖² sum_{active} g_i²``.

    Parameters
    ----------
    x : array_like, shape (tokens, d)
    eta : array_like, shape (tokens, d_ff)

    Returns
    -------
    ndarray, shape (tokens,)

    References
    ----------
    arXiv 2309.03004, docs/science.md §5.

    Examples
    --------
    >>> key_gradient_sq_norms([[3.0, 4.0]], [[1.0, 2.0]]).tolist()
    [125.0]
    """
    x, eta = _pair(x, eta)
    return np.einsum("td,td->t", x, x) * np.einsum("tf,tf->t", eta, eta)


def augmented_flatness(x, eta) -> float:
    """Augmented flatness ``sum_t ‖x_t‖² ‖eta_t‖²``: the sum of per-token squared gradient norms.

    .. math:: \\mathcal{F} = \\sum_t \\|x_t\\|^2\\,\\|\\eta_t\\|^2 = \\sum_t \\|\\eta_t x_t^\\top\\|_F^2 .

    This is **not** the squared norm of the batch gradient
    ``‖sum_t eta_t x_tᵀ‖_F²`` (which has cross terms); it needs per-token
    gradients.

    Parameters
    ----------
    x : array_like, shape (tokens, d)
    eta : array_like, shape (tokens, d_ff)

    Returns
    -------
    float

    References
    ----------
    arXiv 2309.03004, docs/science.md §5.

    Examples
    --------
    >>> augmented_flatness([[1.0, 0.0], [0.0, 2.0]], [[1.0], [1.0]])
    5.0
    """
    return float(np.sum(key_gradient_sq_norms(x, eta)))


def layernorm_sq_norm(d, v, eps=1e-5) -> float:
    """Squared norm of a LayerNorm output without affine parameters: ``d·v/(v + eps)``.

    For ``z = (h - mean(h))/sqrt(v + eps)`` with ``v`` the biased variance of
    ``h`` (``ddof = 0``),

    .. math:: \\|z\\|^2 = \\frac{\\sum_j (h_j - \\bar h)^2}{v + \\varepsilon} = \\frac{d\\, v}{v + \\varepsilon} \\xrightarrow[\\varepsilon\\to 0]{} d .

    The ``eps`` term matters for inputs with ``v`` comparable to ``eps``.

    Parameters
    ----------
    d : int
        Width (>= 1).
    v : float
        Biased variance of the input, >= 0.
    eps : float, default 1e-5
        LayerNorm epsilon, >= 0 (``v + eps`` must be > 0).

    Returns
    -------
    float

    References
    ----------
    arXiv 2309.03004, docs/science.md §5.

    Examples
    --------
    >>> layernorm_sq_norm(4, 1.0, 0.0)
    4.0
    >>> layernorm_sq_norm(4, 1e-5, 1e-5)
    2.0
    """
    d = check_int("d", d, min=1)
    v = check_real("v", v, lo=0.0)
    eps = check_real("eps", eps, lo=0.0)
    if v + eps <= 0.0:
        raise ValueError(f"v + eps must be > 0; got v={v!r}, eps={eps!r}")
    return d * v / (v + eps)


def layernorm_norm_lower_bound(d, *, zeroth_bias=False, bias_ratio=0.1) -> float:
    """Lower bound on ``‖x‖`` after a restricted LayerNorm (``eps -> 0``).

    * Without ``beta`` and with ``|gamma_j| >= 1``: ``‖x‖ >= sqrt(d)``.
    * With the zeroth bias ``B`` added after it, ``|B_j| <= rho |gamma_j|``
      (``rho = bias_ratio = 0.1`` in the paper):

      .. math:: \\|x\\| \\ge (1 - \\rho)\\sqrt{d} .

      Proof: ``|x_j| = |gamma_j z_j + B_j| >= (|z_j| - rho)_+ |gamma_j| >= (|z_j| - rho)_+``,
      and ``phi(u) = (sqrt(u) - rho)_+²`` is convex on ``u >= 0``, so Jensen with
      ``mean_j z_j² = 1`` gives ``mean_j x_j² >= phi(1) = (1 - rho)²``. Equality
      needs ``|z_j| = 1`` for every ``j`` (strict convexity on ``u > rho²``),
      which a zero-mean ``z`` allows only for even ``d``
      (:func:`layernorm_bound_attaining_configuration`).

    Parameters
    ----------
    d : int
        Width (>= 1).
    zeroth_bias : bool, default False
        Include the zeroth bias.
    bias_ratio : float, default 0.1
        ``rho`` in ``[0, 1]``.

    Returns
    -------
    float

    References
    ----------
    arXiv 2309.03004, docs/science.md §5.

    Examples
    --------
    >>> layernorm_norm_lower_bound(100)
    10.0
    >>> layernorm_norm_lower_bound(100, zeroth_bias=True)
    9.0
    """
    d = check_int("d", d, min=1)
    rho = check_real("bias_ratio", bias_ratio, lo=0.0, hi=1.0)
    return (1.0 - rho) * math.sqrt(d) if zeroth_bias else math.sqrt(d)


def restricted_layernorm(h, gamma=None, bias=None, eps=1e-5) -> np.ndarray:
    """Restricted LayerNorm (no ``beta``) followed by an optional zeroth bias, in NumPy.

    .. math:: x = \\gamma \\odot \\frac{h - \\bar h}{\\sqrt{v + \\varepsilon}} + B

    with ``v`` the biased variance over the last axis. No constraint on
    ``gamma``/``B`` is enforced here (the bounds of
    :func:`layernorm_norm_lower_bound` assume ``|gamma| >= 1``,
    ``|B| <= 0.1|gamma|``).

    Parameters
    ----------
    h : array_like, shape (..., d)
    gamma : array_like, shape (d,), optional
        Scale (ones if omitted).
    bias : array_like, shape (d,) or (..., d), optional
        Zeroth bias added after the normalisation (zeros if omitted).
    eps : float, default 1e-5

    Returns
    -------
    ndarray, shape (..., d)

    Examples
    --------
    >>> restricted_layernorm([[1.0, -1.0]], eps=0.0).tolist()
    [[1.0, -1.0]]
    """
    h = check_array("h", h, ndim=(1, 2, 3))
    eps = check_real("eps", eps, lo=0.0)
    d = h.shape[-1]
    mu = h.mean(axis=-1, keepdims=True)
    v = ((h - mu) ** 2).mean(axis=-1, keepdims=True)
    if np.any(v + eps <= 0.0):
        raise ValueError("h has a constant row and eps = 0: LayerNorm is undefined")
    z = (h - mu) / np.sqrt(v + eps)
    if gamma is not None:
        gamma = check_array("gamma", gamma, ndim=1)
        if gamma.shape[0] != d:
            raise ValueError(f"gamma must have shape ({d},) to match h's last dimension d = {d}; got {gamma.shape}")
        z = z * gamma
    if bias is not None:
        bias = check_array("bias", bias)
        if bias.shape[-1] != d:
            raise ValueError(f"bias must have the last dimension of h, d = {d}; got shape {bias.shape}")
        z = z + bias
    return z


def layernorm_bound_attaining_configuration(d, *, bias_ratio=0.1) -> dict:
    """A configuration attaining ``‖x‖ = (1 - rho) sqrt(d)`` (zeroth-bias bound, ``eps -> 0``).

    ``h`` alternates ``+1, -1`` (zero mean, biased variance 1, so ``z = h``),
    ``gamma = 1`` and ``B_j = -rho·sign(z_j)``: then ``x_j = (1 - rho) sign(z_j)``.
    Equality in the Jensen step requires ``|z_j| = 1`` for all ``j``, which a
    zero-mean vector allows only for even ``d``; for odd ``d`` the bound is not
    attained and this function raises.

    Parameters
    ----------
    d : int
        Even width (>= 2).
    bias_ratio : float, default 0.1

    Returns
    -------
    dict
        ``h``, ``gamma``, ``bias`` (shape (d,)), ``x = restricted_layernorm(h, gamma, bias, eps=0)``
        and ``norm = ‖x‖``.

    Examples
    --------
    >>> cfg = layernorm_bound_attaining_configuration(100)
    >>> round(cfg["norm"], 12)
    9.0
    """
    d = check_int("d", d, min=2)
    if d % 2:
        raise ValueError(f"d must be even: the bound (1 - rho) sqrt(d) is attained only for even d; got {d}")
    rho = check_real("bias_ratio", bias_ratio, lo=0.0, hi=1.0)
    check_size_budget("d", d, nbytes=8 * 8 * d, what="the configuration's length-d vectors")
    h = np.where(np.arange(d) % 2 == 0, 1.0, -1.0)
    gamma = np.ones(d)
    bias = -rho * np.sign(h)
    x = restricted_layernorm(h, gamma, bias, eps=0.0)
    return {"h": h, "gamma": gamma, "bias": bias, "x": x, "norm": float(np.linalg.norm(x))}


def noise_sharpness_prediction(sigma, hessian_trace) -> float:
    """Second-order weight-noise sharpness ``(s²/2) tr H``.

    For ``E`` with iid ``N(0, s²)`` entries and a twice-differentiable loss,

    .. math:: \\mathbb{E}[L(W+E)] - L(W) = \\frac{s^2}{2}\\operatorname{tr} H + O(s^4),

    exactly ``(s²/2) tr H`` for a quadratic loss (odd moments of ``E`` vanish).
    For ReLU networks the autodiff Hessian misses the kinks, so the two sides
    differ; that is a measured finding, not a bug (docs/science.md §5).

    Parameters
    ----------
    sigma : float
        Absolute noise standard deviation ``s`` (>= 0).
    hessian_trace : float
        ``tr H`` (any real number).

    Returns
    -------
    float

    Examples
    --------
    >>> noise_sharpness_prediction(0.1, 30.0)
    0.15...
    """
    s = check_real("sigma", sigma, lo=0.0)
    tr = check_real("hessian_trace", hessian_trace)
    return 0.5 * s * s * tr
