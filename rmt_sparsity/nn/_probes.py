"""Probes of a trained MLP: sparsity, gradient sparsity, dormancy, spectra, norms, flatness, covariance.

All per-token quantities use the *per-token* loss :math:`L_t` (not the batch
mean), so :math:`\\eta_t = \\partial L_t/\\partial h_t` and the thresholds
:math:`\\tau` do not depend on the batch size.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_choice
from ._activations import get_activation

__all__ = [
    "GRAD_TAUS",
    "DORMANT_TAUS",
    "key_matrix_spectra",
    "per_example_loss",
    "per_token_eta",
    "gradient_identity_terms",
    "compute_probes",
]

#: Thresholds of the gradient-sparsity probe (fraction of :math:`|\eta| < \tau`).
GRAD_TAUS = (1e-9, 1e-6, 1e-3)
#: Thresholds of the :math:`\tau`-dormant probe (ReDo, arXiv 2302.12902).
DORMANT_TAUS = (0.0, 0.025, 0.1)
#: Losses understood by :func:`per_example_loss`.
LOSSES = ("mse", "ce")


def key_matrix_spectra(k) -> dict:
    r"""Spectral probes of one key matrix :math:`K` (out, in): concentration, singular-value ratio, stable rank.

    Thin wrapper over :func:`rmt_sparsity.spectra.spectral_concentration` with the
    paper's convention (cut at ``0.1 ×`` the mean over *all* eigenvalues of
    :math:`KK^\top`, DESIGN §4.5) and :func:`rmt_sparsity.spectra.stable_rank`,
    so training probes and weight analysis use one implementation.

    Examples
    --------
    >>> import numpy as np
    >>> r = key_matrix_spectra(np.random.default_rng(0).standard_normal((400, 100)))
    >>> bool(2.5 < r["sv_ratio"] < 3.5)   # MP with ratio 1/4: (1 + 1/2)/(1 - 1/2) = 3
    True
    """
    from ..spectra import spectral_concentration, stable_rank

    k = np.asarray(k, dtype=np.float64)
    sc = spectral_concentration(k, zero_tol=0.1, relative_to="mean_all")
    return {"concentration": float(sc.ratio), "sv_ratio": float(sc.sv_ratio), "stable_rank": float(stable_rank(k))}


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


def _model_out(model, params, x, key, step, hooks=None):
    nr = 0.0 if model.stochastic else None
    k = key if model.stochastic else None
    out, inter = model.forward(params, x, key=k, hooks=hooks, step=step, noise_ratio=nr)
    if model.n_tokens > 1:
        out = jnp.mean(out, axis=-2)
    return out, inter


def per_token_eta(model, params, x, y, *, loss="mse", n_classes=None, step=None, key=None):
    r"""Per-token :math:`\eta_t = \partial L_t/\partial h_t` and the intermediates, via ``vmap`` over examples.

    :math:`\eta` is obtained by differentiating the per-example loss with
    respect to an additive perturbation of :math:`h` inserted with the
    ``layer{i}.pre`` hook, so it is the gradient the real model sees. A
    stochastic model is evaluated without noise (``noise_ratio=0``).

    Returns
    -------
    eta : dict
        ``{layer: array of the shape of h}``.
    inter : dict
        ``{layer: {"x", "h", "a"}}`` for the same batch.
    """
    if key is None:
        key = jax.random.key(0)

    def one(xe, ye):
        _, inter0 = _model_out(model, params, xe, key, step)
        deltas = {n: jnp.zeros_like(inter0[n]["h"]) for n in model.layer_names}

        def f(d):
            hooks = {f"{n}.pre": functools.partial(lambda h, n: h + d[n], n=n) for n in model.layer_names}
            out, inter = _model_out(model, params, xe, key, step, hooks)
            return per_example_loss(loss, out, ye, n_classes), inter

        return jax.grad(f, has_aux=True)(deltas)

    return jax.vmap(one)(x, y)


@functools.partial(jax.jit, static_argnames=("model", "loss", "n_classes"))
def _gi_core(model, params, x, y, step, key, *, loss, n_classes):
    def loss_t(p, xe, ye):
        return per_example_loss(loss, _model_out(model, p, xe, key, step)[0], ye, n_classes)

    grads = jax.vmap(jax.grad(loss_t), in_axes=(None, 0, 0))(params, x, y)
    eta, inter = per_token_eta(model, params, x, y, loss=loss, n_classes=n_classes, step=step, key=key)

    def g_post(xe, ye):  # g = dL_t/da through an additive perturbation of every layer's a
        def f(d):
            hooks = {f"{n}.post": functools.partial(lambda a, n: a + d[n], n=n) for n in model.layer_names}
            return per_example_loss(loss, _model_out(model, params, xe, key, step, hooks)[0], ye, n_classes)

        _, inter0 = _model_out(model, params, xe, key, step)
        return jax.grad(f)({n: jnp.zeros_like(inter0[n]["a"]) for n in model.layer_names})

    g = jax.vmap(g_post)(x, y)
    out = {}
    for n in model.layer_names:
        tok = lambda v: v.reshape(v.shape[0], -1, v.shape[-1])  # noqa: E731  (examples, tokens, features)
        a = tok(inter[n]["a"])
        out[n] = {
            "grad_sq": jnp.sum(jnp.square(grads[n]["w"]), axis=(-2, -1)),
            "x_sq": jnp.sum(jnp.square(tok(inter[n]["x"])), axis=-1),
            "eta_sq": jnp.sum(jnp.square(tok(eta[n])), axis=-1),
            "active_g_sq": jnp.sum(jnp.square(jnp.where(a != 0, tok(g[n]), 0.0)), axis=-1),
        }
    return out


def gradient_identity_terms(model, params, x, y, *, loss="mse", n_classes=None, step=None) -> dict:
    r"""The terms of the gradient identity per example and key layer, all by autodiff of the real model.

    For a key layer :math:`h = Kx`, :math:`a = \sigma(h)`, :math:`g = \partial L_t/\partial a`,
    :math:`\eta = g \odot \sigma'(h)`:

    .. math::

        \Big\|\frac{\partial L_t}{\partial K}\Big\|_F^2 = \|x_t\|^2\,\|\eta_t\|^2,
        \qquad \|\eta_t\|^2 \;\begin{cases} = \sum_{a_i \ne 0} g_i^2 & \text{ReLU} \\
        \ge \sum_{a_i \ne 0} g_i^2 & \text{J-SquaredReLU } (\sigma' \ge 1 \text{ on the active set})\end{cases}

    (arXiv 2309.03004; DESIGN §4.5). The identity holds for one token; for an
    example with several tokens the left side is the example's gradient and the
    right side's per-token terms are returned for the caller to combine.

    Returns
    -------
    dict
        ``{layer: {"grad_sq", "x_sq", "eta_sq", "active_g_sq"}}``: ``grad_sq`` has
        shape (n,) (per example, :math:`\|\partial L_t/\partial K\|_F^2` from
        ``vmap(grad)`` over the parameters); the others have shape (n, T) (T = 1 for
        plain inputs): :math:`\|x\|^2`, :math:`\|\eta\|^2` (via the ``pre`` hook) and
        :math:`\sum_{active} g_i^2` (via the ``post`` hook).

    Examples
    --------
    >>> import jax, numpy as np
    >>> from rmt_sparsity.nn import MLP
    >>> m = MLP(d_in=3, d_out=2, width=8, depth=1)
    >>> p = m.init(key=jax.random.key(0))
    >>> x = np.random.default_rng(0).standard_normal((5, 3)).astype("float32")
    >>> t = gradient_identity_terms(m, p, x, np.arange(5) % 2, n_classes=2)["layer0"]
    >>> bool(np.allclose(t["grad_sq"], t["x_sq"][:, 0] * t["eta_sq"][:, 0], rtol=1e-4))
    True
    """
    check_choice("loss", loss, LOSSES)
    model.check_params(params)
    out = _gi_core(model, params, jnp.asarray(x), jnp.asarray(y), jnp.asarray(0 if step is None else step),
                   jax.random.key(0), loss=loss, n_classes=n_classes)
    return jax.device_get(out)


@functools.partial(jax.jit, static_argnames=("model", "loss", "n_classes"))
def _probe_core(model, params, x, y, step, key, *, loss, n_classes):
    eta, inter = per_token_eta(model, params, x, y, loss=loss, n_classes=n_classes, step=step, key=key)
    act = get_activation(model.activation, dict(model.activation_params))
    res = {}
    for name in model.layer_names:
        xi, h, a = inter[name]["x"], inter[name]["h"], inter[name]["a"]
        e = eta[name]
        d = h.shape[-1]
        h2, a2, e2, x2 = h.reshape(-1, d), a.reshape(-1, d), e.reshape(-1, d), xi.reshape(-1, xi.shape[-1])
        _, dh = jax.jvp(lambda u: act(u, step), (h2,), (jnp.ones_like(h2),))
        r = {
            "zero_fraction": jnp.mean(a2 == 0),
            "activation_concentration": jnp.mean(dh == 0),
        }
        for tau in GRAD_TAUS:
            r[f"grad_sparsity@{tau:g}"] = jnp.mean(jnp.abs(e2) < tau)
        mabs = jnp.mean(jnp.abs(a2), axis=0)
        s = mabs / jnp.maximum(jnp.mean(mabs), jnp.finfo(mabs.dtype).tiny)
        for tau in DORMANT_TAUS:
            r[f"dormant@{tau:g}"] = jnp.mean(s <= tau)
        xn2 = jnp.sum(x2 * x2, axis=-1)
        en2 = jnp.sum(e2 * e2, axis=-1)
        r["x_norm_mean"] = jnp.mean(jnp.sqrt(xn2))
        r["x_norm_min"] = jnp.min(jnp.sqrt(xn2))
        r["augmented_flatness"] = jnp.sum(xn2 * en2)
        res[name] = r
    return res


def compute_probes(model, params, x, y, *, loss="mse", n_classes=None, step=None, key=None) -> dict:
    r"""All probes of :class:`MLP` ``model`` at ``params`` on a probe batch.

    Per key layer ``layer{i}`` (flat keys ``f"layer{i}.{metric}"``):

    * ``zero_fraction`` — share of exact zeros in :math:`a` (arXiv 2210.06313);
    * ``activation_concentration`` — share of :math:`h` where :math:`\sigma'(h) = 0`;
    * ``grad_sparsity@tau`` — share of :math:`|\eta| < \tau`, :math:`\tau \in \{10^{-9}, 10^{-6}, 10^{-3}\}`;
    * ``dormant@tau`` — share of neurons with :math:`s_i = E|a_i|/\mathrm{mean}_k E|a_k| \le \tau`
      (ReDo, arXiv 2302.12902), :math:`\tau \in \{0, 0.025, 0.1\}`;
    * ``concentration`` / ``sv_ratio`` — :func:`key_matrix_spectra` of the key matrix
      (zero_tol 0.1, ``relative_to="mean_all"``); ``stable_rank``;
    * ``x_norm_mean`` / ``x_norm_min`` — :math:`\|x_t\|` of the layer input (LayerNorm output plus zeroth bias);
    * ``augmented_flatness`` — :math:`\sum_t \|x_t\|^2\|\eta_t\|^2` summed over the probe tokens
      (arXiv 2309.03004): by the gradient identity this is :math:`\sum_t \|\partial L_t/\partial K\|_F^2`.

    Examples
    --------
    >>> import jax, numpy as np
    >>> from rmt_sparsity.nn import MLP
    >>> m = MLP(d_in=3, d_out=2, width=8, depth=1)
    >>> p = m.init(key=jax.random.key(0))
    >>> x = np.random.default_rng(0).standard_normal((16, 3)).astype("float32")
    >>> pr = compute_probes(m, p, x, np.arange(16) % 2, n_classes=2)
    >>> 0 <= pr["layer0.zero_fraction"] <= 1, "layer0.grad_sparsity@1e-06" in pr
    (True, True)
    """
    check_choice("loss", loss, LOSSES)
    model.check_params(params)
    if step is None:
        step = 0
    out = _probe_core(model, params, jnp.asarray(x), jnp.asarray(y), jnp.asarray(step), key if key is not None else jax.random.key(0), loss=loss, n_classes=n_classes)
    flat = {}
    for name, r in jax.device_get(out).items():
        for k, v in r.items():
            flat[f"{name}.{k}"] = float(v)
        for k, v in key_matrix_spectra(np.asarray(params[name]["w"])).items():
            flat[f"{name}.{k}"] = v
    return flat
