"""LayerNorm MLPs with the theory's modules, as pure-JAX parameter pytrees.

Design choice: parameters are plain nested ``dict`` s of arrays and the model is
a frozen, hashable dataclass holding only static configuration. We chose this
over equinox/flax deliberately: a dict pytree is what :func:`jax.vmap` (model
ensembles), :mod:`optax` and ``safetensors`` already understand, it needs no
extra dependency, and its leaf names (``params["layer0"]["w"]``) are the names
used by the probes, hooks and the metrics/pruning code.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from .._checks import check_choice, check_int, check_key, check_real, check_size_budget
from ._activations import check_activation, get_activation
from ._validate import check_finite_named, check_jax_array, check_jax_int, check_jax_tree, is_tracer
from ._layers import (
    clip_zeroth_bias,
    dense,
    layer_norm,
    project_restricted_gamma,
    restricted_gamma_lower,
)

__all__ = ["MLP", "VARIANTS", "LAYERNORMS", "HOOK_POINTS", "MAX_DIM", "MAX_DEPTH"]

#: Model variants (see :class:`MLP`).
VARIANTS = ("mlp", "residual", "ffn")
#: LayerNorm modes (see :class:`MLP`).
LAYERNORMS = ("affine", "plain", "restricted", "restricted_finetune", "none")
#: Hook points of each key layer; a hook name is ``f"layer{i}.{point}"``.
HOOK_POINTS = ("input", "pre", "post")
#: Largest width, input/output dimension, token count, batch or step count accepted: JAX indexes
#: arrays and counts steps with int32 unless ``jax_enable_x64`` is set, so 2**31 - 1 is the last safe value.
MAX_DIM = 2**31 - 1
#: Largest depth: the key layers are unrolled in the traced forward pass (one copy of the layer's
#: program per layer), so compiling even 10^4 layers takes minutes; deeper stacks are refused.
MAX_DEPTH = 10_000


def _normal_pieces(key, shapes, dtype):
    """Standard normal arrays of the given shapes from a single draw (one threefry kernel to compile)."""
    sizes = [math.prod(sh) for sh in shapes]
    flat = jax.random.normal(key, (sum(sizes),), dtype)
    out, start = [], 0
    for sh, n in zip(shapes, sizes):
        out.append(flat[start : start + n].reshape(sh))
        start += n
    return out


def _check_finite(params, x=None) -> None:
    """``ValueError`` naming the first parameter leaf (or ``x``) with NaN/inf entries.

    Traced leaves are skipped one by one (their values are unknown); concrete ones,
    including constants closed over by a ``jit``/``vmap`` trace, are checked.
    """
    named = [("params" + jax.tree_util.keystr(p), v) for p, v in jax.tree_util.tree_leaves_with_path(params)]
    if x is not None:
        named.append(("x", x))
    check_finite_named(named)


@functools.partial(jax.jit, static_argnums=(0, 2))
def _init_jit(model, key, dtype_name):
    return model._init(key, jnp.dtype(dtype_name))


@functools.partial(jax.jit, static_argnums=(0, 1))
def _forward_jit(model, hooks_t, params, x, key, step, noise_ratio):
    return model.forward(params, x, key=key, hooks=dict(hooks_t), step=step, noise_ratio=noise_ratio)


@functools.lru_cache(maxsize=64)
def _param_shapes_cached(model):
    abstract = jax.eval_shape(lambda k: model.init(key=k), jax.random.key(0))
    return jax.tree_util.tree_map(lambda s: tuple(s.shape), abstract)


def _param_shapes(model):
    import copy

    return copy.deepcopy(_param_shapes_cached(model))


@dataclasses.dataclass(frozen=True)
class MLP:
    r"""A pre-LayerNorm MLP with the modules of Peng et al. (arXiv 2309.03004).

    Every *key layer* ``layer{i}`` computes, from its input stream :math:`z`,

    .. math::

        x = \mathrm{LN}(z) + B, \qquad h = K x + b, \qquad a = \sigma(h),

    with :math:`K` of shape (out, in) (``params[f"layer{i}"]["w"]``), the
    optional zeroth bias :math:`B` and the activation :math:`\sigma`. Variants:

    ``"mlp"``
        plain stack, :math:`z \leftarrow a` (key matrices (width, d_in) then (width, width));
    ``"residual"``
        pre-LN residual block, :math:`z \leftarrow z + a` with a square key
        matrix after an input embedding;
    ``"ffn"``
        transformer-style FFN, :math:`z \leftarrow z + W_{out} a + b_{out}` with
        :math:`K` (d_ff, width) and :math:`W_{out}` (width, d_ff): the
        down-projection follows the activation directly, so CETT is exact.

    A head :math:`y = W_{head}\,\mathrm{LN}(z) + b_{head}` gives ``d_out`` outputs.

    Parameters
    ----------
    d_in, d_out : int
        Input and output dimensions.
    width : int
        Hidden width (the residual stream width for ``residual``/``ffn``).
    depth : int
        Number of key layers.
    variant : {"mlp", "residual", "ffn"}
    d_ff : int, optional
        FFN width of the ``ffn`` variant (default ``4 * width``).
    activation : str
        One of :data:`rmt_sparsity.nn.ACTIVATIONS`.
    activation_params : mapping, optional
        ``{"shift_x", "shift_y"}`` for ``shifted_s``; ``{"mix_steps"}`` for ``relu_jsrelu_mix``.
    layernorm : {"affine", "plain", "restricted", "restricted_finetune", "none"}
        ``affine``: learnable :math:`\gamma, \beta`; ``plain``: none;
        ``restricted``: no :math:`\beta`, :math:`|\gamma| \ge 1` after every step;
        ``restricted_finetune``: :math:`\beta` frozen, :math:`|\gamma| \ge \min(t/T_{up}, 1)`
        with signs kept; ``none``: no LayerNorm at all.
    ln_eps : float
        LayerNorm :math:`\varepsilon` (0 allowed).
    ln_uplift_steps : int
        :math:`T_{up}` of ``restricted_finetune``.
    zeroth_bias : bool
        Add the learnable :math:`B \in \mathbb R^{T \times d}` (init 0) to each key
        layer's input, clipped to :math:`|B_{ij}| \le 0.1|\gamma_j|` by :meth:`project`.
    n_tokens : int
        :math:`T`. With ``T > 1`` inputs have shape (..., T, d_in).
    noise_ratio : float, optional
        Magic-synapse coefficient :math:`\rho` (``None``: deterministic model).
        Any float (0 included) makes the model stochastic: :meth:`apply` then
        requires ``key``. :meth:`apply` may override the value with an array.
    noise_layers : {"keys", "all"}
        Dense layers that carry the magic synapse.

    Raises
    ------
    ValueError
        A size above :data:`MAX_DIM` (``depth`` above :data:`MAX_DEPTH`), or a model whose
        :attr:`n_params` parameters would not fit in the memory available now
        (:func:`rmt_sparsity._checks.check_size_budget`): refused on construction,
        before anything is allocated or traced.

    Notes
    -----
    Hooks: ``apply(..., hooks={name: fn})`` with ``name`` = ``f"layer{i}.input"``
    (applied to :math:`x`), ``f"layer{i}.pre"`` (to :math:`h`, before the
    activation) or ``f"layer{i}.post"`` (to :math:`a`); ``fn``'s output replaces
    the tensor downstream. Hook names are checked before tracing.

    Examples
    --------
    >>> import jax
    >>> model = MLP(d_in=4, d_out=3, width=8, depth=2, activation="jsrelu", zeroth_bias=True)
    >>> params = model.init(key=jax.random.key(0))
    >>> params["layer0"]["w"].shape, params["layer1"]["zb"].shape
    ((8, 4), (1, 8))
    >>> model.apply(params, jax.numpy.ones((5, 4))).shape
    (5, 3)
    """

    d_in: int
    d_out: int
    width: int = 128
    depth: int = 2
    variant: str = "mlp"
    d_ff: int | None = None
    activation: str = "relu"
    activation_params: Mapping | tuple = ()
    layernorm: str = "affine"
    ln_eps: float = 1e-5
    ln_uplift_steps: int = 0
    zeroth_bias: bool = False
    n_tokens: int = 1
    noise_ratio: float | None = None
    noise_layers: str = "keys"

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        set_("d_in", check_int("d_in", self.d_in, min=1, max=MAX_DIM))
        set_("d_out", check_int("d_out", self.d_out, min=1, max=MAX_DIM))
        set_("width", check_int("width", self.width, min=1, max=MAX_DIM))
        set_("depth", check_int("depth", self.depth, min=1, max=MAX_DEPTH))
        check_choice("variant", self.variant, VARIANTS)
        if self.d_ff is not None:
            set_("d_ff", check_int("d_ff", self.d_ff, min=1, max=MAX_DIM))
        ap = dict(self.activation_params) if self.activation_params else {}
        _, ap = check_activation(self.activation, ap)
        set_("activation_params", tuple(sorted(ap.items())))
        check_choice("layernorm", self.layernorm, LAYERNORMS)
        set_("ln_eps", check_real("ln_eps", self.ln_eps, lo=0.0))
        set_("ln_uplift_steps", check_int("ln_uplift_steps", self.ln_uplift_steps, min=0))
        if self.ln_uplift_steps and self.layernorm != "restricted_finetune":
            raise ValueError("ln_uplift_steps is only used with layernorm='restricted_finetune'")
        if not isinstance(self.zeroth_bias, bool):
            raise TypeError(f"zeroth_bias must be a bool; got {self.zeroth_bias!r}")
        if self.zeroth_bias and self.layernorm == "none":
            raise ValueError("zeroth_bias is clipped by the preceding LayerNorm; it needs layernorm != 'none'")
        set_("n_tokens", check_int("n_tokens", self.n_tokens, min=1, max=MAX_DIM))
        if self.noise_ratio is not None:
            set_("noise_ratio", check_real("noise_ratio", self.noise_ratio, lo=0.0))
        check_choice("noise_layers", self.noise_layers, ("keys", "all"))
        # the parameters must fit in memory (in JAX's default float), before anything is allocated
        n = self.n_params
        sizes = {"d_in": self.d_in, "d_out": self.d_out, "width": self.width, "depth": self.depth}
        if self.variant == "ffn":
            sizes["d_ff"] = self.ffn_width
        if self.zeroth_bias:
            sizes["n_tokens"] = self.n_tokens
        check_size_budget(", ".join(sizes), tuple(sizes.values()), nbytes=n * jnp.zeros(()).dtype.itemsize,
                          what=f"the {n:,} parameters of the model")

    # ------------------------------------------------------------------ structure
    @property
    def stochastic(self) -> bool:
        """True when the model has a magic synapse (``apply`` then needs ``key``)."""
        return self.noise_ratio is not None

    @property
    def ffn_width(self) -> int:
        return self.d_ff if self.d_ff is not None else 4 * self.width

    @property
    def n_params(self) -> int:
        """Number of scalar parameters of :meth:`init` (closed form: no allocation, no trace).

        Examples
        --------
        >>> MLP(d_in=4, d_out=2, width=8, depth=1).n_params   # LN(4) + 8x4 + 8, head LN(8) + 2x8 + 2
        82
        """
        ln = {"affine": 2, "restricted_finetune": 2, "restricted": 1}.get(self.layernorm, 0)

        def layer(i):
            out, inn = self.key_shape(i)
            n = ln * inn + out * inn + out + (self.n_tokens * inn if self.zeroth_bias else 0)
            return n + (self.width * out + self.width if self.variant == "ffn" else 0)

        total = layer(0) + (self.depth - 1) * (layer(1) if self.depth > 1 else 0)  # layers >= 1 are alike
        if self.variant != "mlp":
            total += self.width * self.d_in + self.width
        return total + ln * self.width + self.d_out * self.width + self.d_out

    @property
    def layer_names(self) -> tuple[str, ...]:
        """Names of the key layers, ``("layer0", ..., f"layer{depth-1}")``."""
        return tuple(f"layer{i}" for i in range(self.depth))

    @property
    def hook_names(self) -> tuple[str, ...]:
        """All valid hook names."""
        return tuple(f"{n}.{p}" for n in self.layer_names for p in HOOK_POINTS)

    def key_shape(self, i: int) -> tuple[int, int]:
        """(out, in) shape of the key matrix of layer ``i``."""
        if self.variant == "mlp":
            return (self.width, self.d_in if i == 0 else self.width)
        if self.variant == "residual":
            return (self.width, self.width)
        return (self.ffn_width, self.width)

    def _ln_params(self, d, dtype):
        if self.layernorm in ("affine", "restricted_finetune"):
            return {"gamma": jnp.ones((d,), dtype), "beta": jnp.zeros((d,), dtype)}
        if self.layernorm == "restricted":
            return {"gamma": jnp.ones((d,), dtype)}
        return {}

    def init(self, *, key, dtype=None) -> dict:
        r"""Initial parameters: weights :math:`N(0, 1/\mathrm{fan\_in})`, biases 0, :math:`\gamma = 1`, :math:`\beta = 0`, :math:`B = 0`.

        Parameters
        ----------
        key : jax PRNG key
        dtype : dtype, optional
            float32 or float64. Default: JAX's default float (float32, or float64 under ``jax_enable_x64``).

        Examples
        --------
        >>> import jax
        >>> p = MLP(d_in=3, d_out=2, width=4, depth=1, variant="ffn", d_ff=6).init(key=jax.random.key(1))
        >>> p["layer0"]["w"].shape, p["layer0"]["w_out"].shape, sorted(p)
        ((6, 4), (4, 6), ['embed', 'head', 'layer0'])
        """
        key = check_key("key", key)
        dtype = jnp.zeros(()).dtype if dtype is None else jnp.dtype(dtype)
        if dtype not in (jnp.dtype(jnp.float32), jnp.dtype(jnp.float64)):  # what apply, the probes and training take
            raise TypeError(f"dtype must be float32 or float64; got {dtype}")
        if isinstance(key, jax.core.Tracer):
            return self._init(key, dtype)
        return _init_jit(self, key, dtype.name)

    def _init(self, key, dtype):
        shapes = []  # every weight matrix, in a fixed order; drawn with ONE normal call (cheap to compile)
        if self.variant != "mlp":
            shapes.append((self.width, self.d_in))
        for i in range(self.depth):
            shapes.append(self.key_shape(i))
            if self.variant == "ffn":
                shapes.append((self.width, self.key_shape(i)[0]))
        shapes.append((self.d_out, self.width))
        mats = iter(_normal_pieces(key, shapes, dtype))

        def w(shape):
            return next(mats) / math.sqrt(shape[1])

        params: dict = {}
        if self.variant != "mlp":
            params["embed"] = {"w": w((self.width, self.d_in)), "b": jnp.zeros((self.width,), dtype)}
        for i, name in enumerate(self.layer_names):
            out, inn = self.key_shape(i)
            layer = {"ln": self._ln_params(inn, dtype), "w": w((out, inn)), "b": jnp.zeros((out,), dtype)}
            if self.zeroth_bias:
                layer["zb"] = jnp.zeros((self.n_tokens, inn), dtype)
            if self.variant == "ffn":
                layer["w_out"] = w((self.width, out))
                layer["b_out"] = jnp.zeros((self.width,), dtype)
            params[name] = layer
        params["head"] = {
            "ln": self._ln_params(self.width, dtype),
            "w": w((self.d_out, self.width)),
            "b": jnp.zeros((self.d_out,), dtype),
        }
        return params

    def param_shapes(self) -> dict:
        """The pytree of parameter shapes (tuples), as :meth:`init` builds it."""
        return _param_shapes(self)

    def check_params(self, params, *, finite: bool = True) -> None:
        """Raise naming the first leaf whose presence, shape, dtype or (concrete) values are wrong.

        Every leaf must be a float32/float64 array of the shape :meth:`init`
        gives it (``ValueError`` for a missing, extra or misshaped leaf,
        ``TypeError`` for another dtype) and, when ``finite`` and the leaf is
        concrete (not a tracer inside ``jit``/``vmap``), hold no NaN/inf.
        """
        want = self.param_shapes()
        if not isinstance(params, Mapping):
            raise TypeError(f"params must be a dict pytree from MLP.init; got {type(params).__name__}")
        got_paths = {jax.tree_util.keystr(p): tuple(np.shape(v)) for p, v in jax.tree_util.tree_leaves_with_path(params)}
        want_paths = {
            jax.tree_util.keystr(p): v
            for p, v in jax.tree_util.tree_leaves_with_path(want, is_leaf=lambda x: isinstance(x, tuple))
        }
        for path, shape in want_paths.items():
            if path not in got_paths:
                raise ValueError(f"params{path} is missing (model expects shape {shape})")
            if got_paths[path] != shape:
                raise ValueError(f"params{path} has shape {got_paths[path]}; the model expects {shape}")
        extra = sorted(set(got_paths) - set(want_paths))
        if extra:
            raise ValueError(f"params has entries the model does not use: {', '.join(extra)}")
        check_jax_tree("params", params, dtypes="float", finite=False)
        if finite:
            _check_finite(params)

    # ------------------------------------------------------------------ forward
    def _ln(self, p, z):
        if self.layernorm == "none":
            return z
        return layer_norm(z, p.get("gamma"), p.get("beta"), eps=self.ln_eps)

    def _add_zb(self, x, zb):
        return x + (zb[0] if self.n_tokens == 1 else zb)

    def forward(self, params, x, *, key=None, hooks=None, step=None, noise_ratio=None):
        """Unchecked forward pass returning ``(output, intermediates)`` (traceable; used inside jit).

        ``intermediates[f"layer{i}"]`` holds ``x`` (the key layer's input, after
        LayerNorm, zeroth bias and the ``input`` hook), ``h`` (after the ``pre``
        hook) and ``a`` (after the ``post`` hook). Prefer :meth:`apply` /
        :meth:`apply_with_intermediates`, which validate their arguments.
        """
        act = get_activation(self.activation, dict(self.activation_params))
        hooks = hooks or {}
        rho = None
        if self.stochastic:
            rho = self.noise_ratio if noise_ratio is None else noise_ratio
            subkeys = list(jax.random.split(key, self.depth * 2 + 2))
        counter = iter(range(self.depth * 2 + 2))

        def lin(v, w, b, is_key):
            j = next(counter)
            if rho is not None and (is_key or self.noise_layers == "all"):
                return dense(v, w, b, noise_ratio=rho, key=subkeys[j])
            return dense(v, w, b)

        def hook(name, v):
            fn = hooks.get(name)
            return v if fn is None else fn(v)

        inter = {}
        z = x if self.variant == "mlp" else lin(x, params["embed"]["w"], params["embed"]["b"], False)
        for name in self.layer_names:
            p = params[name]
            xi = self._ln(p["ln"], z)
            if self.zeroth_bias:
                xi = self._add_zb(xi, p["zb"])
            xi = hook(f"{name}.input", xi)
            h = hook(f"{name}.pre", lin(xi, p["w"], p["b"], True))
            a = hook(f"{name}.post", act(h, step))
            inter[name] = {"x": xi, "h": h, "a": a}
            if self.variant == "mlp":
                z = a
            elif self.variant == "residual":
                z = z + a
            else:
                z = z + lin(a, p["w_out"], p["b_out"], False)
        head = params["head"]
        out = lin(self._ln(head["ln"], z), head["w"], head["b"], False)
        return out, inter

    def check_input(self, x, *, batched=None, finite=True):
        """Validate model input ``x`` (float32/float64, finite when concrete, non-empty) and return it.

        ``x`` is one example, shape ``(d_in,)`` (``(n_tokens, d_in)`` with several
        tokens), or a batch of them with one leading axis; ``batched=True``
        requires the batch axis, ``False`` forbids it, ``None`` takes either.
        """
        per = 1 if self.n_tokens == 1 else 2
        ndims = {None: (per, per + 1), True: (per + 1,), False: (per,)}[batched]
        arr = check_jax_array("x", x, ndim=ndims, dtypes="float", finite=finite)
        want = (self.d_in,) if self.n_tokens == 1 else (self.n_tokens, self.d_in)
        if tuple(arr.shape[-per:]) != want:
            lead = "n, " if arr.ndim > per else ""
            raise ValueError(f"x must have shape ({lead}{', '.join(map(str, want))}) (n_tokens = {self.n_tokens}, "
                             f"d_in = {self.d_in}); got {tuple(arr.shape)}")
        return arr

    def _check_call(self, params, x, key, hooks, step):
        self.check_params(params, finite=False)
        x = self.check_input(x, finite=False)
        _check_finite(params, x)  # one compiled pass over the parameters and x
        if key is not None:
            check_key("key", key)
        elif self.stochastic:
            raise ValueError("this model is stochastic (magic synapse, noise_ratio is set): pass key=")
        if step is not None:
            check_jax_int("step", step, min=0, max=MAX_DIM)
        if hooks is not None:
            if not isinstance(hooks, Mapping):
                raise TypeError(f"hooks must be a mapping from hook name to callable; got {type(hooks).__name__}")
            for name, fn in hooks.items():
                if name not in self.hook_names:
                    raise ValueError(f"unknown hook name {name!r}; valid names look like 'layer0.pre' ({', '.join(HOOK_POINTS)})")
                if not callable(fn):
                    raise TypeError(f"hooks[{name!r}] must be callable; got {type(fn).__name__}")
        if self.activation == "relu_jsrelu_mix" and step is None:
            raise ValueError("activation 'relu_jsrelu_mix' needs the training step: pass step=")

    def apply(self, params, x, *, key=None, hooks=None, step=None, noise_ratio=None):
        r"""Forward pass, validated before tracing.

        Parameters
        ----------
        params : dict
            From :meth:`init` (shapes and float32/float64 dtypes are checked, and
            finiteness when concrete: one pass over the parameters).
        x : array, shape ([n,] d_in) or ([n,] n_tokens, d_in)
            One example or a batch; float32/float64, non-empty, finite (checked when concrete).
        key : jax PRNG key, optional
            Required for a stochastic model (``noise_ratio`` set); not used otherwise,
            but checked when given.
        hooks : mapping, optional
            ``{f"layer{i}.{point}": fn}`` with ``point`` in ``input``, ``pre``, ``post``.
        step : int or array, optional
            Training step, an integer in ``[0, 2**31 - 1]`` (needed by the ``relu_jsrelu_mix`` activation).
        noise_ratio : float or array, optional
            Overrides the model's magic-synapse coefficient (stochastic models only).

        Returns
        -------
        array, shape (..., d_out)

        Examples
        --------
        >>> import jax, jax.numpy as jnp
        >>> m = MLP(d_in=2, d_out=1, width=4, depth=1, noise_ratio=0.1)
        >>> p = m.init(key=jax.random.key(0))
        >>> m.apply(p, jnp.ones((3, 2)))
        Traceback (most recent call last):
        ...
        ValueError: this model is stochastic (magic synapse, noise_ratio is set): pass key=
        >>> m.apply(p, jnp.ones((3, 2)), key=jax.random.key(1)).shape
        (3, 1)
        """
        self._check_call(params, x, key, hooks, step)
        return self._call(params, x, key, hooks, step, noise_ratio)[0]

    def apply_with_intermediates(self, params, x, *, key=None, hooks=None, step=None, noise_ratio=None):
        """Like :meth:`apply`, also returning ``{layer: {"x", "h", "a"}}`` (see :meth:`forward`).

        Examples
        --------
        >>> import jax, jax.numpy as jnp
        >>> m = MLP(d_in=2, d_out=1, width=4, depth=2)
        >>> out, inter = m.apply_with_intermediates(m.init(key=jax.random.key(0)), jnp.ones((3, 2)))
        >>> sorted(inter), inter["layer1"]["h"].shape
        (['layer0', 'layer1'], (3, 4))
        """
        self._check_call(params, x, key, hooks, step)
        return self._call(params, x, key, hooks, step, noise_ratio)

    def _call(self, params, x, key, hooks, step, noise_ratio):
        if any(is_tracer(v) for v in jax.tree_util.tree_leaves((params, x, key, step, noise_ratio))):
            return self.forward(params, x, key=key, hooks=hooks, step=step, noise_ratio=noise_ratio)
        hooks_t = tuple(sorted(hooks.items())) if hooks else ()
        return _forward_jit(self, hooks_t, params, jnp.asarray(x), key, step, noise_ratio)

    # ------------------------------------------------------------------ constraints
    def project(self, params, step, previous=None):
        r"""Apply the modules' constraints after an optimiser step (traceable).

        * ``restricted``: :math:`\gamma \leftarrow \operatorname{sign}(\gamma)\max(|\gamma|, 1)`;
        * ``restricted_finetune``: the bound is :math:`\min(t/T_{up}, 1)`, and
          :math:`\beta` is reset to ``previous`` (frozen) when given;
        * zeroth bias: clipped to :math:`|B_{ij}| \le 0.1|\gamma_j|` of its layer's LayerNorm.

        The bounds apply to every LayerNorm of the model, the head's included.

        Parameters
        ----------
        params : dict
        step : int or array
            Number of optimiser steps taken so far (:math:`t`).
        previous : dict, optional
            The parameters before the step (source of frozen leaves).

        Examples
        --------
        >>> import jax, jax.numpy as jnp
        >>> m = MLP(d_in=2, d_out=1, width=3, depth=1, layernorm="restricted")
        >>> p = m.init(key=jax.random.key(0))
        >>> p["layer0"]["ln"]["gamma"] = jnp.array([0.5, -0.5])
        >>> m.project(p, 1)["layer0"]["ln"]["gamma"].tolist()
        [1.0, -1.0]
        """
        if self.layernorm not in ("restricted", "restricted_finetune") and not self.zeroth_bias:
            return params
        out = jax.tree_util.tree_map(lambda v: v, params)  # shallow structural copy
        lower = restricted_gamma_lower(step, self.ln_uplift_steps if self.layernorm == "restricted_finetune" else 0)
        for name in (*self.layer_names, "head"):
            ln = dict(out[name]["ln"])
            if self.layernorm in ("restricted", "restricted_finetune"):
                ln["gamma"] = project_restricted_gamma(ln["gamma"], lower.astype(ln["gamma"].dtype))
            if self.layernorm == "restricted_finetune" and previous is not None:
                ln["beta"] = previous[name]["ln"]["beta"]
            layer = dict(out[name])
            layer["ln"] = ln
            if self.zeroth_bias and name != "head":
                layer["zb"] = clip_zeroth_bias(layer["zb"], ln.get("gamma"))
            out[name] = layer
        return out
