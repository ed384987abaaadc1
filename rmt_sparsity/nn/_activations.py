"""Activation functions of the theory (docs/science.md §5) and the usual baselines.

All functions are elementwise, pure :mod:`jax.numpy`, and differentiable with
:func:`jax.grad`. They are looked up by name through :func:`get_activation`,
which validates the name and the keyword parameters at the Python boundary.

The public functions validate ``h`` first: a non-empty array of float32 or
float64 numbers (``TypeError`` for other dtypes, ``None`` or objects); on
concrete input NaN or inf entries raise ``ValueError`` (so ``relu(-inf)`` is
refused rather than given a limit). Inside ``jit``/``vmap``/``grad`` only the
dtype and shape are checked, and NaN propagates as in :func:`jax.nn.relu`.
The functions :func:`get_activation` returns skip these checks (the model
validates its inputs once, before tracing).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp

from .._checks import check_choice, check_int, check_real
from ._validate import check_jax_array, check_jax_int, check_jax_scalar

__all__ = [
    "ACTIVATIONS",
    "relu",
    "gelu",
    "silu",
    "relu2",
    "jsrelu",
    "shifted_s",
    "relu_jsrelu_mix",
    "mix_weight",
    "get_activation",
]

#: Point where the safe J-SquaredReLU switches from the parabola to its tangent line.
JSRELU_KNEE = 4.0


def relu(h):
    r"""Rectified linear unit, :math:`\max(h, 0)` (derivative 0 at :math:`h = 0`).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> relu(jnp.array([-1.0, 0.0, 2.0])).tolist()
    [0.0, 0.0, 2.0]
    """
    return jax.nn.relu(_check_h(h))


def gelu(h):
    r"""GELU with the exact Gaussian CDF, :math:`h\,\Phi(h)` (never exactly zero for :math:`h \neq 0`).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> round(float(gelu(jnp.array(1.0))), 6)
    0.841345
    """
    return _gelu(_check_h(h))


def _gelu(h):
    return jax.nn.gelu(h, approximate=False)


def silu(h):
    r"""SiLU (swish), :math:`h/(1 + e^{-h})`.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> round(float(silu(jnp.array(1.0))), 6)
    0.731059
    """
    return jax.nn.silu(_check_h(h))


def relu2(h):
    r"""Squared ReLU, :math:`\max(h, 0)^2` (So et al., arXiv 2109.08668).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> relu2(jnp.array([-1.0, 3.0])).tolist()
    [0.0, 9.0]
    """
    return _relu2(_check_h(h))


def _relu2(h):
    r = jax.nn.relu(h)
    return r * r


def jsrelu(h):
    r"""J-SquaredReLU with the safe linear continuation (Peng et al., arXiv 2309.03004).

    .. math::

        f(h) = \begin{cases} 0 & h < 0 \\ h^2/2 + h & 0 \le h \le 4 \\ 12 + 5(h - 4) & h > 4 \end{cases}
        \qquad
        f'(h) = \begin{cases} 0 & h < 0 \\ h + 1 & 0 < h \le 4 \\ 5 & h > 4 \end{cases}

    The continuation is the tangent line at :math:`h = 4`, so :math:`f` is
    :math:`C^1` there; it keeps activations and gradients from exploding. On the
    active set :math:`f'(h) \ge 1`, which turns the gradient identity into an
    inequality (docs/science.md §5). The derivative at exactly :math:`h = 0` is 0 (the
    same convention as ReLU in JAX).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> jsrelu(jnp.array([-1.0, 2.0, 4.0, 5.0])).tolist()
    [0.0, 4.0, 12.0, 17.0]
    """
    return _jsrelu(_check_h(h))


def _jsrelu(h):
    r = jax.nn.relu(h)
    q = jnp.minimum(r, JSRELU_KNEE)
    return 0.5 * q * q + q + (JSRELU_KNEE + 1.0) * (r - q)


def _s_core(u):
    a = jax.nn.relu(u - 1.5)
    b = jax.nn.relu(-u - 1.5)
    return a * a - b * b


def shifted_s(h, *, shift_x=0.0, shift_y=0.0):
    r"""The shifted S-activation :math:`f(h) = S(h - s_x) + s_y` (arXiv 2309.03004 code).

    .. math::

        S(u) = \operatorname{relu}(u - 1.5)^2 - \operatorname{relu}(-u - 1.5)^2

    :math:`f'` vanishes on the plateau :math:`|h - s_x| \le 1.5`, where the
    output is :math:`s_y`. With :math:`s_y \ne 0` the activations are *not*
    zero there while the gradient :math:`\eta` is: the activation that separates
    "gradient sparsity" from "zero output".

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> shifted_s(jnp.array([0.0, 3.0, -3.0]), shift_y=1.0).tolist()
    [1.0, 3.25, -1.25]
    """
    h = _check_h(h)
    shift_x = check_jax_scalar("shift_x", shift_x)
    shift_y = check_jax_scalar("shift_y", shift_y)
    return _shifted_s(h, shift_x, shift_y)


def _shifted_s(h, shift_x, shift_y):
    return _s_core(h - shift_x) + shift_y


def mix_weight(step, mix_steps):
    r"""The finetuning mix weight :math:`k = \min(t / T_{mix}, 1)` (``mix_steps = 0`` gives 1).

    Examples
    --------
    >>> float(mix_weight(50, 200))
    0.25

    ``step`` is an integer >= 0 (a Python int or a 0-d integer array, traced
    or not) and ``mix_steps`` a Python int >= 0; others raise ``TypeError`` or
    ``ValueError`` naming the argument.
    """
    step = check_jax_int("step", step, min=0)
    mix_steps = check_int("mix_steps", mix_steps, min=0)
    return _mix_weight(step, mix_steps)


def _mix_weight(step, mix_steps):
    """Unchecked :func:`mix_weight` (sizes beyond float range never reach JAX as integers)."""
    if mix_steps == 0:
        return jnp.ones_like(jnp.asarray(step), dtype=jnp.result_type(float))
    if isinstance(step, int):  # a Python int (possibly > 2**63): divide in Python floats
        return jnp.asarray(min(max(step / mix_steps, 0.0), 1.0), dtype=jnp.result_type(float))
    return jnp.clip(step / float(mix_steps), 0.0, 1.0)


def relu_jsrelu_mix(h, *, k):
    r"""Finetuning blend :math:`(1-k)\,\mathrm{ReLU}(h) + k\,\mathrm{JSReLU}(h)` (arXiv 2309.03004).

    ``k`` is usually :func:`mix_weight` of the training step.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> relu_jsrelu_mix(jnp.array(2.0), k=0.5).tolist()
    3.0
    """
    h = _check_h(h)
    k = check_jax_scalar("k", k, lo=0.0, hi=1.0)
    return _relu_jsrelu_mix(h, k)


def _relu_jsrelu_mix(h, k):
    return (1.0 - k) * jax.nn.relu(h) + k * _jsrelu(h)


def _check_h(h):
    return check_jax_array("h", h, dtypes="float")


_SIMPLE: dict[str, Callable] = {  # unchecked: get_activation's functions run inside the model's trace
    "relu": jax.nn.relu,
    "gelu": _gelu,
    "silu": jax.nn.silu,
    "relu2": _relu2,
    "jsrelu": _jsrelu,
}

#: Allowed activation names and their keyword parameters.
ACTIVATIONS: dict[str, tuple[str, ...]] = {
    "relu": (),
    "gelu": (),
    "silu": (),
    "relu2": (),
    "jsrelu": (),
    "shifted_s": ("shift_x", "shift_y"),
    "relu_jsrelu_mix": ("mix_steps",),
}


def check_activation(name, params: Mapping | None = None, *, name_arg: str = "activation",
                     params_arg: str = "activation_params") -> tuple[str, dict]:
    """Validate an activation name and its parameters; return ``(name, params)``.

    ``name_arg``/``params_arg`` are the argument names the messages use (the
    caller's spelling: ``activation``/``activation_params`` for :class:`MLP`).
    """
    if not isinstance(name, str):
        raise TypeError(f"{name_arg} must be a string, one of {', '.join(map(repr, ACTIVATIONS))}; got {name!r}")
    check_choice(name_arg, name, ACTIVATIONS)
    if params is not None and not isinstance(params, Mapping):
        raise TypeError(f"{params_arg} must be a mapping of parameter names to values, or None; "
                        f"got {type(params).__name__} {params!r:.80}")
    params = dict(params or {})
    allowed = ACTIVATIONS[name]
    for k in params:
        if k not in allowed:
            raise ValueError(
                f"{params_arg} key {k!r} is not a parameter of {name!r}; allowed: {allowed or 'none'}"
            )
    if name == "shifted_s":
        for k in ("shift_x", "shift_y"):
            params[k] = check_real(f"{params_arg}[{k!r}]", params.get(k, 0.0))
    if name == "relu_jsrelu_mix":
        if "mix_steps" not in params:
            raise ValueError(f"activation 'relu_jsrelu_mix' needs {params_arg}={{'mix_steps': T_mix}}")
        params["mix_steps"] = check_int(f"{params_arg}['mix_steps']", params["mix_steps"], min=0)
    return name, params


def get_activation(name: str, params: Mapping | None = None) -> Callable:
    r"""Return the activation ``f(h, step)`` for ``name`` (validated before any tracing).

    Parameters
    ----------
    name : {"relu", "gelu", "silu", "relu2", "jsrelu", "shifted_s", "relu_jsrelu_mix"}
    params : mapping, optional
        ``shifted_s``: ``shift_x``, ``shift_y`` (default 0); ``relu_jsrelu_mix``:
        ``mix_steps`` :math:`T_{mix}` (required), with :math:`k = \min(t/T_{mix}, 1)`.

    Returns
    -------
    callable
        ``f(h, step)``; ``step`` (the training step, an array) is used only by the
        mixing schedule, which raises if it is ``None``. ``f`` is the unchecked
        building block the model traces: ``h`` is not validated (NaN in, NaN out).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> f = get_activation("relu_jsrelu_mix", {"mix_steps": 100})
    >>> float(f(jnp.array(2.0), step=100))
    4.0
    >>> get_activation("tanh")
    Traceback (most recent call last):
    ...
    ValueError: name must be one of 'relu', 'gelu', 'silu', 'relu2', 'jsrelu', 'shifted_s', 'relu_jsrelu_mix'; got 'tanh'
    """
    name, params = check_activation(name, params, name_arg="name", params_arg="params")
    if name in _SIMPLE:
        fn = _SIMPLE[name]
        return lambda h, step=None: fn(h)
    if name == "shifted_s":
        sx, sy = params["shift_x"], params["shift_y"]
        return lambda h, step=None: _shifted_s(h, sx, sy)
    t_mix = params["mix_steps"]

    def mixed(h, step=None):
        if step is None:
            raise ValueError("activation 'relu_jsrelu_mix' needs the training step: pass step= to apply")
        return _relu_jsrelu_mix(h, _mix_weight(step, t_mix))

    return mixed


def zero_derivative_mask(name: str, params: Mapping | None, h, step=None):
    """Boolean mask of pre-activations in the activation's zero-derivative region.

    Computed from the activation's forward-mode derivative (exactly zero there).
    """
    f = get_activation(name, params)
    _, d = jax.jvp(lambda u: f(u, step), (h,), (jnp.ones_like(h),))
    return d == 0
