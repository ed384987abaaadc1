"""Boundary checks for JAX arrays, scalars and pytrees that also work on tracers.

The nn building blocks run both eagerly and inside ``jax.jit``/``vmap``/``grad``.
Static properties (type, dtype, ndim, shape) are known in both cases and are
always checked. Value checks (finite entries, ranges) need concrete numbers:
they run on concrete inputs only and are skipped on tracers, so tracing is
never broken and no device sync is added to a traced hot loop. Messages follow
:mod:`rmt_sparsity._checks`: they name the argument and show the value, dtype
or shape received.

Dtype policies (``dtypes=``):

``"float"``
    float32 or float64 (float16, bfloat16, integers, bools, complex refused).
``"int"``
    signed or unsigned integers (class labels, step counters).
``"real"``
    integers or float32/float64.
``"any"``
    any numeric dtype (bool, integer, float, complex); objects, strings and
    PRNG key arrays refused.
"""

from __future__ import annotations


import jax
import jax.numpy as jnp
import numpy as np

from .._checks import _fmt, check_callable, check_int, check_real, is_tracer
from .._jaxchecks import check_finite_named

__all__ = [
    "is_tracer",
    "check_jax_array",
    "check_jax_scalar",
    "check_jax_int",
    "check_axis",
    "check_jax_tree",
    "check_finite_named",
    "check_callable",
]

_POLICY_TEXT = {
    "float": "float32 or float64 numbers",
    "int": "integers",
    "real": "real numbers (integers, float32 or float64)",
    "any": "numbers",
}


def _dtype_ok(dtype, dtypes: str) -> bool:
    if jnp.issubdtype(dtype, jax.dtypes.prng_key):
        return False
    dt = np.dtype(dtype)
    if dt.name == "bfloat16":
        return dtypes == "any"
    kind = dt.kind
    if dtypes == "float":
        return kind == "f" and dt.itemsize >= 4
    if dtypes == "int":
        return kind in "iu"
    if dtypes == "real":
        return kind in "iu" or (kind == "f" and dt.itemsize >= 4)
    if dtypes == "any":
        return kind in "biufc"
    raise ValueError(f"unknown dtype policy {dtypes!r}")  # pragma: no cover - a bug in the caller


def _ndim_text(allowed) -> str:
    return " or ".join(f"{d}-D" for d in allowed)


def check_jax_array(name: str, x, *, ndim=None, min_ndim: int | None = None, dtypes: str = "float",
                    finite: bool = True, nonempty: bool = True):
    """Validate an array argument (NumPy, JAX, a tracer, or a nested list of numbers).

    Type, dtype (``dtypes``, see the module docstring), ``ndim`` (an int or a
    tuple of allowed values), ``min_ndim`` and non-emptiness are checked
    always; ``finite`` (no NaN/inf entries) only on concrete input. Returns
    ``x`` itself when it is a JAX or NumPy array (no copy, no device transfer)
    and the converted NumPy array otherwise.

    Raises
    ------
    TypeError
        ``x`` is not an array of numbers, or its dtype is outside the policy.
    ValueError
        Wrong number of dimensions, no elements, or (concrete input) NaN/inf entries.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> check_jax_array("h", jnp.ones(3)).shape
    (3,)
    >>> check_jax_array("h", jnp.arange(3))
    Traceback (most recent call last):
    ...
    TypeError: h must hold float32 or float64 numbers; got dtype int32
    >>> check_jax_array("h", jnp.array([1.0, jnp.nan]))
    Traceback (most recent call last):
    ...
    ValueError: h must be finite; found 1 non-finite entries
    """
    if isinstance(x, (jax.Array, np.ndarray)):
        arr = x
    else:
        if x is None or isinstance(x, (str, bytes)):
            raise TypeError(f"{name} must be an array of {_POLICY_TEXT[dtypes]}; got {type(x).__name__} {_fmt(x)}")
        try:
            arr = np.asarray(x)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be an array of {_POLICY_TEXT[dtypes]}; got {type(x).__name__}") from exc
        if arr.dtype.kind in "OUSV" and arr.dtype.name != "bfloat16":
            raise TypeError(f"{name} must be an array of {_POLICY_TEXT[dtypes]}; got {type(x).__name__} {_fmt(x)}")
    if not _dtype_ok(arr.dtype, dtypes):
        raise TypeError(f"{name} must hold {_POLICY_TEXT[dtypes]}; got dtype {arr.dtype}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            raise ValueError(f"{name} must be {_ndim_text(allowed)}; got a {arr.ndim}-D array of shape {tuple(arr.shape)}")
    if min_ndim is not None and arr.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s); got shape {tuple(arr.shape)}")
    if nonempty and arr.size == 0:
        raise ValueError(f"{name} must be non-empty; got shape {tuple(arr.shape)}")
    if finite and not is_tracer(arr) and np.dtype(arr.dtype).kind in "fc":
        if isinstance(arr, np.ndarray):
            bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        else:  # a concrete JAX array, possibly a constant met while tracing: evaluate now, on its device
            with jax.ensure_compile_time_eval():
                bad = int(arr.size - int(jnp.count_nonzero(jnp.isfinite(arr))))
        if bad:
            raise ValueError(f"{name} must be finite; found {bad} non-finite entries")
    return arr


def check_jax_scalar(name: str, value, *, lo=None, hi=None, lo_open: bool = False, hi_open: bool = False):
    """A real scalar: a Python number, or a 0-d integer/float32/float64 array (concrete or traced).

    Concrete values go through :func:`rmt_sparsity._checks.check_real` (finite,
    in the stated interval) and come back as a Python ``float`` (weakly typed
    in JAX arithmetic, so a float64 scalar never promotes float32 weights). A
    tracer is checked for shape and dtype only and returned unchanged.

    Examples
    --------
    >>> check_jax_scalar("k", 0.5, lo=0.0, hi=1.0)
    0.5
    >>> check_jax_scalar("k", 1.5, lo=0.0, hi=1.0)
    Traceback (most recent call last):
    ...
    ValueError: k must be a finite number >= 0.0 and <= 1.0; got 1.5
    """
    if isinstance(value, (jax.Array, np.ndarray)):
        if not _dtype_ok(value.dtype, "real") or value.ndim != 0:
            raise TypeError(f"{name} must be a real number (a Python number or a 0-d float array); got an array "
                            f"of dtype {value.dtype} and shape {tuple(value.shape)}")
        if is_tracer(value):
            return value
        value = float(value)
    return check_real(name, value, lo=lo, hi=hi, lo_open=lo_open, hi_open=hi_open)


def check_jax_int(name: str, value, *, min: int | None = None, max: int | None = None):
    """An integer: a Python/NumPy integer, or a 0-d integer array (concrete or traced).

    Concrete values go through :func:`rmt_sparsity._checks.check_int` (bools
    and floats refused, range checked) and come back as a Python ``int``. A
    tracer is checked for shape and dtype only and returned unchanged.

    Examples
    --------
    >>> check_jax_int("step", 3, min=0)
    3
    >>> check_jax_int("step", 2.5, min=0)
    Traceback (most recent call last):
    ...
    TypeError: step must be an integer; got 2.5 of type float
    """
    if isinstance(value, (jax.Array, np.ndarray)):
        if jnp.issubdtype(value.dtype, jax.dtypes.prng_key) or np.dtype(value.dtype).kind not in "iu" or value.ndim != 0:
            raise TypeError(f"{name} must be an integer (a Python int or a 0-d integer array); got an array "
                            f"of dtype {value.dtype} and shape {tuple(value.shape)}")
        if is_tracer(value):
            return value
        value = int(value)
    return check_int(name, value, min=min, max=max)


def check_axis(name: str, arr, axis: int, size: int, what: str) -> None:
    """Raise ``ValueError`` unless ``arr.shape[axis] == size`` (``what`` says where ``size`` comes from).

    Examples
    --------
    >>> import numpy as np
    >>> check_axis("b", np.zeros(3), -1, 2, "w.shape[0]")
    Traceback (most recent call last):
    ...
    ValueError: b must have length 2 (w.shape[0]) along axis -1; got shape (3,)
    """
    if arr.shape[axis] != size:
        raise ValueError(f"{name} must have length {size} ({what}) along axis {axis}; got shape {tuple(arr.shape)}")


def check_jax_tree(name: str, tree, *, dtypes: str = "float", finite: bool = True, nonempty: bool = True):
    """A pytree of arrays (network parameters): every leaf as in :func:`check_jax_array` (any ndim).

    Leaves must be arrays (JAX, NumPy) or Python floats; ``None`` or a tree
    without leaves is refused when ``nonempty``. Each message names the leaf by
    its path, e.g. ``params['layer0']['w']``. Returns ``tree`` unchanged.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> check_jax_tree("params", {"w": jnp.ones(2)})["w"].shape
    (2,)
    >>> check_jax_tree("params", {"w": jnp.ones(2, jnp.int32)})
    Traceback (most recent call last):
    ...
    TypeError: params['w'] must hold float32 or float64 numbers; got dtype int32
    """
    if tree is None:
        raise TypeError(f"{name} must be a pytree of arrays (a dict of arrays); got None")
    leaves = jax.tree_util.tree_leaves_with_path(tree)
    if nonempty and not leaves:
        raise ValueError(f"{name} must hold at least one array; got {_fmt(tree)}")
    named = []
    for path, leaf in leaves:
        where = name + jax.tree_util.keystr(path)
        if not isinstance(leaf, (jax.Array, np.ndarray, float)) or isinstance(leaf, bool):
            raise TypeError(f"{where} must be an array of {_POLICY_TEXT[dtypes]}; got {type(leaf).__name__} {_fmt(leaf)}")
        named.append((where, check_jax_array(where, leaf, dtypes=dtypes, finite=False, nonempty=False)))
    if finite:
        check_finite_named(named)
    return tree
