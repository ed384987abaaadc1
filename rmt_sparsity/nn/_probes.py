"""Probes of a trained MLP: sparsity, gradient sparsity, dormancy, spectra, norms, flatness.

All per-token quantities use the *per-token* loss :math:`L_t` (not the batch
mean), so :math:`\\eta_t = \\partial L_t/\\partial h_t` and the thresholds
:math:`\\tau` do not depend on the batch size. The sparsity fractions are the
formulas of :mod:`rmt_sparsity.metrics.formulas`, evaluated with ``jax.numpy``.

The training loop records them through hooks (the protocol is in
:func:`rmt_sparsity.nn.train`): :func:`probe_hook` (the probes of
:func:`compute_probes`) and :func:`flatness_hook` (Hessian trace and top
eigenvalue).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_array, check_choice, check_int, check_key, check_size_budget
from ..metrics import DORMANT_TAUS, GRADIENT_LOG_EDGES, GRADIENT_SPARSITY_TAUS, RELATIVE_GRADIENT_TAUS, formulas
from ._activations import get_activation
from ._losses import LOSSES, model_output, per_example_loss
from ._models import MAX_DIM, MLP
from ._validate import check_jax_array, check_jax_int, check_jax_tree

__all__ = [
    "DORMANT_TAUS",
    "FLATNESS_MEASURES",
    "key_matrix_spectra",
    "per_token_eta",
    "gradient_identity_terms",
    "compute_probes",
    "chain_probes",
    "probe_hook",
    "flatness_hook",
    "check_flatness",
]

#: Flatness measures the training loop can record (``flatness={"measures": ...}``).
FLATNESS_MEASURES = ("trace", "top_eigenvalue")

_FLAT_SALT = 0x5F1A7  # fold_in salt of the flatness keys (kept apart from the training stream)


# ============================================================================= argument checks


def check_model(model, name="model") -> MLP:
    """``model`` if it is an :class:`MLP`, else ``TypeError`` naming ``name``."""
    if not isinstance(model, MLP):
        raise TypeError(f"{name} must be an rmt_sparsity.nn.MLP; got {type(model).__name__}")
    return model


def check_n_classes(n_classes, model):
    """``None`` (regression targets) or the model's number of outputs, as an ``int``.

    One-hot targets (``"mse"``) and the softmax (``"ce"``) have ``model.d_out``
    entries, so any other count is refused.
    """
    if n_classes is None:
        return None
    n = check_int("n_classes", n_classes, min=2, max=MAX_DIM)
    if n != model.d_out:
        raise ValueError(f"n_classes must equal the model's d_out = {model.d_out} (one output per class); got {n}")
    return n


def _check_targets(y, n, model, loss, n_classes):
    """Labels in ``[0, d_out)`` (classification or ``"ce"``) or float targets ``(n, d_out)`` (``"mse"`` regression)."""
    if n_classes is not None or loss == "ce":
        y = check_jax_array("y", y, ndim=1, dtypes="int")
        if not isinstance(y, jax.core.Tracer) and y.size and (int(y.min()) < 0 or int(y.max()) >= model.d_out):
            raise ValueError(f"y must hold class labels in [0, {model.d_out}); got labels in [{int(y.min())}, {int(y.max())}]")
    else:
        y = check_jax_array("y", y, ndim=2, dtypes="float")  # what per_example_loss takes: the shape of out
        if y.shape[1] != model.d_out:
            raise ValueError(f"y must have shape (n, {model.d_out}) (the model's d_out); got {tuple(y.shape)}")
    if y.shape[0] != n:
        raise ValueError(f"y must have one row per example of x ({n}); got shape {tuple(y.shape)}")
    return y


def _check_batch(model, params, x, y, *, loss, n_classes, step, key=None, stacked=False):
    """Validate the arguments of the probes (before any tracing); return ``(x, y, n_classes, step)``."""
    check_model(model)
    check_choice("loss", loss, LOSSES)
    if stacked:
        check_jax_tree("params", params)
        lead = {np.shape(a)[0] if np.ndim(a) else None for a in jax.tree_util.tree_leaves(params)}
        if len(lead) != 1 or None in lead:
            raise ValueError(f"stacked params must have one leading member axis on every leaf; got lengths {sorted(map(str, lead))}")
        model.check_params(jax.tree_util.tree_map(lambda a: a[0], params), finite=False)
    else:
        model.check_params(params)
    x = model.check_input(x, batched=True)
    n_classes = check_n_classes(n_classes, model)
    y = _check_targets(y, x.shape[0], model, loss, n_classes)
    step = 0 if step is None else check_jax_int("step", step, min=0, max=MAX_DIM)
    if key is not None:
        check_key("key", key)
    return x, y, n_classes, step


def key_matrix_spectra(k) -> dict:
    r"""Spectral probes of one key matrix :math:`K` (out, in): concentration, singular-value ratio, stable rank.

    Thin wrapper over :func:`rmt_sparsity.spectra.spectral_concentration` with the
    paper's convention (cut at ``0.1 ×`` the mean over *all* eigenvalues of
    :math:`KK^\top`, arXiv 2309.03004) and :func:`rmt_sparsity.spectra.stable_rank`,
    so training probes and weight analysis use one implementation.

    Examples
    --------
    >>> import numpy as np
    >>> r = key_matrix_spectra(np.random.default_rng(0).standard_normal((400, 100)))
    >>> bool(2.5 < r["sv_ratio"] < 3.5)   # MP with ratio 1/4: (1 + 1/2)/(1 - 1/2) = 3
    True
    """
    from ..spectra import spectral_concentration, stable_rank

    k = check_array("k", k, ndim=2, dtype=np.float64)  # float64, finite, non-empty
    sc = spectral_concentration(k, zero_tol=0.1, relative_to="mean_all")
    return {"concentration": float(sc.ratio), "sv_ratio": float(sc.sv_ratio), "stable_rank": float(stable_rank(k))}


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

    The arguments are checked as in :func:`compute_probes`.

    Examples
    --------
    >>> import jax, numpy as np
    >>> from rmt_sparsity.nn import MLP
    >>> m = MLP(d_in=3, d_out=2, width=8, depth=1)
    >>> x = np.random.default_rng(0).standard_normal((5, 3)).astype("float32")
    >>> eta, inter = per_token_eta(m, m.init(key=jax.random.key(0)), x, np.arange(5) % 2, n_classes=2)
    >>> eta["layer0"].shape == inter["layer0"]["h"].shape == (5, 8)
    True
    """
    x, y, n_classes, step = _check_batch(model, params, x, y, loss=loss, n_classes=n_classes, step=step, key=key)
    return _eta(model, params, jnp.asarray(x), jnp.asarray(y), loss=loss, n_classes=n_classes, step=step, key=key)


def _eta(model, params, x, y, *, loss, n_classes, step, key):
    """:func:`per_token_eta` without the checks (traceable)."""
    if key is None:
        key = jax.random.key(0)

    def one(xe, ye):
        _, inter0 = model_output(model, params, xe, key, step)
        deltas = {n: jnp.zeros_like(inter0[n]["h"]) for n in model.layer_names}

        def f(d):
            hooks = {f"{n}.pre": functools.partial(lambda h, n: h + d[n], n=n) for n in model.layer_names}
            out, inter = model_output(model, params, xe, key, step, hooks)
            return per_example_loss(loss, out, ye, n_classes), inter

        return jax.grad(f, has_aux=True)(deltas)

    return jax.vmap(one)(x, y)


@functools.partial(jax.jit, static_argnames=("model", "loss", "n_classes"))
def _gi_core(model, params, x, y, step, key, *, loss, n_classes):
    def loss_t(p, xe, ye):
        return per_example_loss(loss, model_output(model, p, xe, key, step)[0], ye, n_classes)

    grads = jax.vmap(jax.grad(loss_t), in_axes=(None, 0, 0))(params, x, y)
    eta, inter = _eta(model, params, x, y, loss=loss, n_classes=n_classes, step=step, key=key)

    def g_post(xe, ye):  # g = dL_t/da through an additive perturbation of every layer's a
        def f(d):
            hooks = {f"{n}.post": functools.partial(lambda a, n: a + d[n], n=n) for n in model.layer_names}
            return per_example_loss(loss, model_output(model, params, xe, key, step, hooks)[0], ye, n_classes)

        _, inter0 = model_output(model, params, xe, key, step)
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

    (arXiv 2309.03004). The identity holds for one token; for an
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
    x, y, n_classes, step = _check_batch(model, params, x, y, loss=loss, n_classes=n_classes, step=step)
    out = _gi_core(model, params, jnp.asarray(x), jnp.asarray(y), jnp.asarray(step),
                   jax.random.key(0), loss=loss, n_classes=n_classes)
    return jax.device_get(out)


@functools.partial(jax.jit, static_argnames=("model", "loss", "n_classes"))
def _probe_core(model, params, x, y, step, key, *, loss, n_classes):
    eta, inter = _eta(model, params, x, y, loss=loss, n_classes=n_classes, step=step, key=key)
    act = get_activation(model.activation, dict(model.activation_params))
    res = {}
    for name in model.layer_names:
        xi, h, a = inter[name]["x"], inter[name]["h"], inter[name]["a"]
        e = eta[name]
        d = h.shape[-1]
        h2, a2, e2, x2 = h.reshape(-1, d), a.reshape(-1, d), e.reshape(-1, d), xi.reshape(-1, xi.shape[-1])
        _, dh = jax.jvp(lambda u: act(u, step), (h2,), (jnp.ones_like(h2),))
        r = {
            "zero_fraction": formulas.zero_fraction(a2, axis=None, xp=jnp),
            "activation_concentration": formulas.zero_fraction(dh, axis=None, xp=jnp),  # share of sigma'(h) = 0
        }
        for tau in GRADIENT_SPARSITY_TAUS:
            r[f"grad_sparsity@{tau:g}"] = formulas.gradient_sparsity(e2, tau, axis=None, xp=jnp)
        scores = formulas.dormant_scores(a2, xp=jnp)
        for tau in DORMANT_TAUS:
            r[f"dormant@{tau:g}"] = formulas.dormant_fraction(scores, tau, xp=jnp)
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

    Parameters
    ----------
    model : MLP
    params : dict
        ``model``'s parameters: the shapes of :meth:`MLP.init`, float32/float64, finite.
    x : array, shape (n, d_in), or (n, n_tokens, d_in) with several tokens
        float32/float64, non-empty, finite.
    y : array
        Integer labels in ``[0, d_out)``, shape (n,), for classification (``n_classes``
        given) or ``loss="ce"``; otherwise float targets of shape (n, d_out).
    loss : {"mse", "ce"}
        See :func:`per_example_loss`.
    n_classes : int, optional
        ``None`` (regression) or the model's ``d_out``.
    step : int, optional
        Training step in ``[0, 2**31 - 1]`` (default 0), for step-dependent activations.
    key : jax PRNG key, optional
        Only used by a stochastic model, which the probes run without noise.

    Every argument is checked before anything is traced (``ValueError``/``TypeError``
    naming it); :func:`per_token_eta`, :func:`gradient_identity_terms` and
    :func:`chain_probes` check theirs the same way.

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
    x, y, n_classes, step = _check_batch(model, params, x, y, loss=loss, n_classes=n_classes, step=step, key=key)
    return _probes_flat(model, params, x, y, loss=loss, n_classes=n_classes, step=step, key=key)


def _probes_flat(model, params, x, y, *, loss, n_classes, step, key=None):
    """:func:`compute_probes` without the checks (the training hook's inputs are checked once, up front)."""
    out = _probe_core(model, params, jnp.asarray(x), jnp.asarray(y), jnp.asarray(0 if step is None else step),
                      key if key is not None else jax.random.key(0), loss=loss, n_classes=n_classes)
    flat = {}
    for name, r in jax.device_get(out).items():
        for k, v in r.items():
            flat[f"{name}.{k}"] = float(v)
        for k, v in key_matrix_spectra(np.asarray(params[name]["w"])).items():
            flat[f"{name}.{k}"] = v
    return flat


# ============================================================================= the causal chain's per-layer measures


@functools.partial(jax.jit, static_argnames=("model", "loss", "n_classes"))
def _chain_core(model, params, x, y, step, edges, *, loss, n_classes):
    key = jax.random.key(0)

    def one(xe, ye):  # eta = dL_t/dh (pre hook) and g = dL_t/da (post hook) of one example, in one backward pass
        _, inter0 = model_output(model, params, xe, key, step)
        zeros = {n: jnp.zeros_like(inter0[n]["h"]) for n in model.layer_names}

        def f(dh, da):
            hooks = {}
            for n in model.layer_names:
                hooks[f"{n}.pre"] = functools.partial(lambda h, n: h + dh[n], n=n)
                hooks[f"{n}.post"] = functools.partial(lambda a, n: a + da[n], n=n)
            out, inter = model_output(model, params, xe, key, step, hooks)
            return per_example_loss(loss, out, ye, n_classes), inter

        (eta, g), inter = jax.grad(f, argnums=(0, 1), has_aux=True)(zeros, zeros)
        return eta, g, inter

    eta, g, inter = jax.vmap(one)(x, y)
    act = get_activation(model.activation, dict(model.activation_params))
    res = {}
    for name in model.layer_names:
        d = inter[name]["h"].shape[-1]
        h, a = inter[name]["h"].reshape(-1, d), inter[name]["a"].reshape(-1, d)
        e, gg = eta[name].reshape(-1, d), g[name].reshape(-1, d)
        xi = inter[name]["x"].reshape(-1, inter[name]["x"].shape[-1])
        _, dh = jax.jvp(lambda u: act(u, step), (h,), (jnp.ones_like(h),))
        active = dh != 0
        r = {
            "zero_fraction": formulas.zero_fraction(a, axis=None, xp=jnp),
            "activation_concentration": formulas.zero_fraction(dh, axis=None, xp=jnp),
            "density_ratio": formulas.gradient_density_ratio(gg, active, xp=jnp),
            "g2_hist_all": formulas.log10_square_histogram(gg, edges, xp=jnp),
            "g2_hist_active": formulas.log10_square_histogram(gg, edges, where=active, xp=jnp),
            "eta_rms": jnp.sqrt(jnp.mean(e * e)),
        }
        for tau in GRADIENT_SPARSITY_TAUS:
            r[f"grad_sparsity@{tau:g}"] = formulas.gradient_sparsity(e, tau, axis=None, xp=jnp)
        for tau in RELATIVE_GRADIENT_TAUS:
            r[f"rel_grad_sparsity@{tau:g}"] = formulas.relative_gradient_sparsity(e, tau, axis=None, xp=jnp)
        scores = formulas.dormant_scores(a, xp=jnp)
        for tau in DORMANT_TAUS:
            r[f"dormant@{tau:g}"] = formulas.dormant_fraction(scores, tau, xp=jnp)
        xn2 = jnp.sum(xi * xi, axis=-1)
        sqrt_d = math.sqrt(xi.shape[-1])
        r["x_norm_min_over_sqrt_d"] = jnp.sqrt(jnp.min(xn2)) / sqrt_d
        r["x_norm_mean_over_sqrt_d"] = jnp.mean(jnp.sqrt(xn2)) / sqrt_d
        r["augmented_flatness"] = jnp.mean(xn2 * jnp.sum(e * e, axis=-1))
        res[name] = r
    return res


@functools.partial(jax.jit, static_argnames=("model", "loss", "n_classes"))
def _chain_core_v(model, params, x, y, step, edges, *, loss, n_classes):
    return jax.vmap(lambda p: _chain_core(model, p, x, y, step, edges, loss=loss, n_classes=n_classes))(params)


def chain_probes(model, params, x, y, *, loss="mse", n_classes=None, step=0, stacked=False, edges=GRADIENT_LOG_EDGES) -> dict:
    r"""The per-layer measures of the paper's causal chain (flatness ⇒ gradient sparsity ⇒ activation sparsity) on one batch.

    For each key layer ``layer{i}`` (:math:`h = Kx`, :math:`a = \sigma(h)`), with
    per-token :math:`\eta_t = \partial L_t/\partial h_t` and
    :math:`g_t = \partial L_t/\partial a_t` from one backward pass per example
    (``pre`` and ``post`` hooks), and "active" meaning :math:`\sigma'(h) \ne 0`:

    * ``zero_fraction`` — share of exact zeros of :math:`a`;
    * ``activation_concentration`` — share of :math:`\sigma'(h) = 0`;
    * ``grad_sparsity@tau`` — share of :math:`|\eta| < \tau`, :math:`\tau \in \{10^{-9}, 10^{-6}, 10^{-3}\}`;
    * ``rel_grad_sparsity@tau`` — share of :math:`|\eta_{t,i}| \le \tau\,\mathrm{rms}(\eta_t)`,
      :math:`\tau \in \{10^{-3}, 10^{-2}\}` (:func:`rmt_sparsity.metrics.relative_gradient_sparsity`);
    * ``density_ratio`` — :math:`E[g^2 \mid \sigma' \ne 0]/E[g^2]`
      (:func:`rmt_sparsity.metrics.gradient_density_ratio`), and ``g2_hist_all`` /
      ``g2_hist_active``, the counts of :math:`\log_{10} g^2` in ``edges``;
    * ``augmented_flatness`` — :math:`\frac1T\sum_t \|x_t\|^2\|\eta_t\|^2` (the mean over tokens of
      :math:`\|\partial L_t/\partial K\|_F^2`, arXiv 2309.03004);
    * ``x_norm_min_over_sqrt_d``, ``x_norm_mean_over_sqrt_d`` — :math:`\min_t \|x_t\|/\sqrt d` and the mean;
    * ``dormant@tau`` — ReDo's :math:`\tau`-dormant share (arXiv 2302.12902);
    * ``eta_rms`` — :math:`\sqrt{E[\eta^2]}`, the scale the absolute grid is read against.

    The fractions are the formulas of :mod:`rmt_sparsity.metrics.formulas`.

    Parameters
    ----------
    model : MLP
    params : dict
        One model's parameters, or (``stacked=True``) a stack with a leading member axis.
    x, y : arrays
        The batch (every example is one token for ``n_tokens = 1``).
    loss, n_classes :
        As in :func:`rmt_sparsity.nn.train`.
    step : int
        Training step (for step-dependent activations).
    stacked : bool
        Vectorise over the members of a stacked ``params`` (one ``vmap``).
    edges : sequence of float
        Bin edges of :math:`\log_{10} g^2`.

    Returns
    -------
    dict
        ``{f"{layer}.{measure}": value}``: floats (arrays of one value per member
        when ``stacked``); the histograms are arrays of ``len(edges) - 1`` counts
        (with a leading member axis when ``stacked``).

    Examples
    --------
    >>> import jax, numpy as np
    >>> from rmt_sparsity.nn import MLP
    >>> m = MLP(d_in=3, d_out=2, width=8, depth=1)
    >>> p = m.init(key=jax.random.key(0))
    >>> x = np.random.default_rng(0).standard_normal((16, 3)).astype("float32")
    >>> pr = chain_probes(m, p, x, np.arange(16) % 2, n_classes=2)
    >>> pr["layer0.x_norm_min_over_sqrt_d"] <= pr["layer0.x_norm_mean_over_sqrt_d"], float(pr["layer0.g2_hist_all"].sum())
    (True, 128.0)
    """
    if not isinstance(stacked, bool):
        raise TypeError(f"stacked must be a bool; got {stacked!r}")
    x, y, n_classes, step = _check_batch(model, params, x, y, loss=loss, n_classes=n_classes, step=step, stacked=stacked)
    e = check_array("edges", edges, ndim=1, dtype=np.float64)
    if e.size < 2 or np.any(np.diff(e) <= 0):
        raise ValueError(f"edges must be at least 2 strictly increasing values; got {e.tolist()}")
    dt = jax.tree_util.tree_leaves(params)[0].dtype
    args = (model, params, jnp.asarray(x), jnp.asarray(y), jnp.asarray(step), jnp.asarray(e, dt))
    out = jax.device_get((_chain_core_v if stacked else _chain_core)(*args, loss=loss, n_classes=n_classes))
    flat = {}
    for name, r in out.items():
        for k, v in r.items():
            v = np.asarray(v, dtype=np.float64)
            flat[f"{name}.{k}"] = v if (stacked or v.ndim) else float(v)
    return flat


# ============================================================================= training hooks


@functools.partial(jax.jit, static_argnames=("model", "loss", "n_classes"))
def _probe_core_v(model, params, x, y, step, key, *, loss, n_classes):
    return jax.vmap(lambda p: _probe_core(model, p, x, y, step, key, loss=loss, n_classes=n_classes))(params)


def probe_hook(model, *, loss="mse", n_classes=None):
    """Training hook that records :func:`compute_probes` on the probe batch.

    With ``stacked=True`` the JAX probes run as one ``vmap`` over the members and
    the spectral probes (host eigenvalue computations) run per member, with the
    functions :func:`compute_probes` uses; the keys are not used.

    Examples
    --------
    >>> import jax, numpy as np
    >>> from rmt_sparsity.nn import MLP
    >>> m = MLP(d_in=3, d_out=2, width=6, depth=1)
    >>> hook = probe_hook(m, n_classes=2)
    >>> x = np.random.default_rng(1).standard_normal((8, 3)).astype("float32")
    >>> out = hook(m.init(key=jax.random.key(0)), 0, (x, np.arange(8) % 2), jax.random.key(0), stacked=False)
    >>> sorted(out)[:3]
    ['layer0.activation_concentration', 'layer0.augmented_flatness', 'layer0.concentration']
    """
    check_choice("loss", loss, LOSSES)

    def hook(params, step, batch, keys, *, stacked):
        x, y = batch
        if not stacked:
            return _probes_flat(model, params, x, y, loss=loss, n_classes=n_classes, step=step)
        out = jax.device_get(_probe_core_v(model, params, jnp.asarray(x), jnp.asarray(y), jnp.asarray(step),
                                           jax.random.key(0), loss=loss, n_classes=n_classes))
        rec = {}
        for name, r in out.items():  # the layout of compute_probes, one entry per member
            for k, v in r.items():
                rec[f"{name}.{k}"] = v
            kmats = np.asarray(params[name]["w"])
            spectra = [key_matrix_spectra(k) for k in kmats]
            for k in ("concentration", "sv_ratio", "stable_rank"):
                rec[f"{name}.{k}"] = np.asarray([s[k] for s in spectra])
        return rec

    return hook


def check_flatness(flatness, model=None):
    """Validate a flatness request ``{"measures", "probes", "iters"}``; return it complete, or ``None``.

    ``iters`` (Lanczos steps) is capped at the number of parameters of ``model`` when it is given.

    Examples
    --------
    >>> check_flatness({"measures": ["trace"]})
    {'measures': ('trace',), 'probes': 16, 'iters': 16}
    """
    if flatness is None:
        return None
    if not isinstance(flatness, Mapping):
        raise TypeError(f"flatness must be None or a mapping like {{'measures': ('trace',), 'probes': 16}}; got {type(flatness).__name__}")
    unknown = set(flatness) - {"measures", "probes", "iters"}
    if unknown:
        raise ValueError(f"flatness has unknown entries {sorted(unknown)}; allowed: 'measures', 'probes', 'iters'")
    measures = tuple(flatness.get("measures", FLATNESS_MEASURES))
    if not measures:
        raise ValueError("flatness['measures'] must name at least one of " + ", ".join(map(repr, FLATNESS_MEASURES)))
    for m in measures:
        check_choice("flatness measure", m, FLATNESS_MEASURES)
    probes = check_int("flatness['probes']", flatness.get("probes", 16), min=1, max=MAX_DIM)
    iters = check_int("flatness['iters']", flatness.get("iters", 16), min=1, max=MAX_DIM)
    if model is not None:
        iters = min(iters, model.n_params)
        # each evaluation runs `probes` Hessian-vector products (about 4 passes over the parameters each)
        check_size_budget("flatness['probes']", probes, iterations=4 * probes * model.n_params,
                          what="the Hutchinson trace at each evaluation")
    return {"measures": tuple(m for m in FLATNESS_MEASURES if m in measures), "probes": probes, "iters": iters}


@functools.lru_cache(maxsize=16)
def _flatness_programs(model, loss, n_classes, measures, probes, iters):
    """``(single, vectorised)`` jitted flatness measures on the probe batch (noise-free model, mean per-token loss)."""
    from ..flatness import hutchinson_trace, lanczos

    def lossf(p, batch):
        x, y, step = batch
        out, _ = model_output(model, p, x, jax.random.key(0), step)
        return jnp.mean(per_example_loss(loss, out, y, n_classes))

    def one(p, key, x, y, step):
        batch = (x, y, step)
        res = {}
        if "trace" in measures:
            t = hutchinson_trace(lossf, p, batch, key=jax.random.fold_in(key, 0), probes=probes)
            res["hessian_trace"], res["hessian_trace_se"] = t.estimate, t.se
        if "top_eigenvalue" in measures:
            e = lanczos(lossf, p, batch, key=jax.random.fold_in(key, 1), k=1, iters=iters, which="LA")
            res["hessian_top_eigenvalue"], res["hessian_top_residual"] = e.eigenvalues[0], e.residuals[0]
        return res

    return jax.jit(one), jax.jit(jax.vmap(one, in_axes=(0, 0, None, None, None)))


def _flatness_key(key, step):
    return jax.random.fold_in(jax.random.fold_in(key, _FLAT_SALT), step)


def flatness_hook(model, flatness, *, loss="mse", n_classes=None):
    r"""Training hook that records flatness measures of the probe-batch loss.

    The loss is the noise-free mean per-token loss on the probe batch. Measures
    (``flatness`` as in :func:`check_flatness`): ``"trace"`` records
    ``hessian_trace`` and ``hessian_trace_se``
    (:func:`rmt_sparsity.flatness.hutchinson_trace`, Rademacher probes);
    ``"top_eigenvalue"`` records ``hessian_top_eigenvalue`` (largest algebraic,
    signed) and ``hessian_top_residual`` (:func:`rmt_sparsity.flatness.lanczos`).
    At step :math:`t` a member with key :math:`k` uses
    ``fold_in(fold_in(k, 0x5F1A7), t)``, a stream apart from its training draws.

    Examples
    --------
    >>> import jax, numpy as np
    >>> from rmt_sparsity.nn import MLP
    >>> m = MLP(d_in=3, d_out=2, width=4, depth=1)
    >>> hook = flatness_hook(m, {"measures": ["trace"], "probes": 4}, n_classes=2)
    >>> x = np.random.default_rng(1).standard_normal((8, 3)).astype("float32")
    >>> out = hook(m.init(key=jax.random.key(0)), 0, (x, np.arange(8) % 2), jax.random.key(0), stacked=False)
    >>> sorted(out)
    ['hessian_trace', 'hessian_trace_se']
    """
    check_choice("loss", loss, LOSSES)
    spec = check_flatness(flatness, model)
    if spec is None:
        raise ValueError("flatness must name the measures to record; got None")
    single, vectorised = _flatness_programs(model, loss, n_classes, spec["measures"], spec["probes"], spec["iters"])

    def hook(params, step, batch, keys, *, stacked):
        x, y = (jnp.asarray(v) for v in batch)
        if stacked:
            ks = jax.vmap(lambda k: _flatness_key(k, step))(keys)
            return jax.device_get(vectorised(params, ks, x, y, jnp.asarray(step)))
        return jax.device_get(single(params, _flatness_key(keys, step), x, y, jnp.asarray(step)))

    return hook
