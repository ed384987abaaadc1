"""Argument validation: one place, clear messages.

Every public function validates its arguments here, at the Python boundary,
before any Numba or JAX code is reached. Messages name the argument, the value
received and what is allowed, e.g.::

    ValueError: ratio must be a finite number > 0; got -1.0

Distribution *methods* (pdf, cdf, ...) do not use these helpers: they follow
scipy and return NaN outside the domain. Constructors of law objects do.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = [
    "check_int",
    "check_real",
    "check_choice",
    "check_array",
    "check_probability",
    "check_finite_array",
    "check_key",
    "check_keys",
]


def _fmt(value) -> str:
    r = repr(value)
    return r if len(r) <= 80 else r[:77] + "..."


def check_int(name: str, value, *, min: int | None = None, max: int | None = None) -> int:
    """Return ``value`` as a Python ``int``, or raise.

    Booleans and non-integral floats are rejected (``TypeError``); values outside
    ``[min, max]`` raise ``ValueError``.

    Examples
    --------
    >>> check_int("n", 3, min=1)
    3
    >>> check_int("n", 0, min=1)
    Traceback (most recent call last):
    ...
    ValueError: n must be an integer >= 1; got 0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            raise TypeError(f"{name} must be an integer; got {_fmt(value)} of type {type(value).__name__}")
        raise TypeError(f"{name} must be an integer; got {type(value).__name__} {_fmt(value)}")
    v = int(value)
    if min is not None and v < min:
        raise ValueError(f"{name} must be an integer >= {min}" + (f" and <= {max}" if max is not None else "") + f"; got {v}")
    if max is not None and v > max:
        raise ValueError(f"{name} must be an integer <= {max}" + (f" and >= {min}" if min is not None else "") + f"; got {v}")
    return v


def _interval(lo, hi, lo_open, hi_open) -> str:
    parts = []
    if lo is not None:
        parts.append(f"{'>' if lo_open else '>='} {lo}")
    if hi is not None:
        parts.append(f"{'<' if hi_open else '<='} {hi}")
    return " and ".join(parts)


def check_real(
    name: str,
    value,
    *,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
    allow_inf: bool = False,
) -> float:
    """Return ``value`` as a finite Python ``float`` in the stated interval, or raise.

    NaN always raises; infinities raise unless ``allow_inf``.

    Examples
    --------
    >>> check_real("ratio", 0.5, lo=0, lo_open=True)
    0.5
    >>> check_real("ratio", float("nan"), lo=0, lo_open=True)
    Traceback (most recent call last):
    ...
    ValueError: ratio must be a finite number > 0; got nan
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
            value = value.item()
        else:
            raise TypeError(f"{name} must be a real number; got {type(value).__name__} {_fmt(value)}")
    v = float(value)
    cond = _interval(lo, hi, lo_open, hi_open)
    desc = f"{name} must be a {'' if allow_inf else 'finite '}number" + (f" {cond}" if cond else "")
    if math.isnan(v) or (math.isinf(v) and not allow_inf):
        raise ValueError(f"{desc}; got {v!r}")
    if lo is not None and (v < lo or (lo_open and v == lo)):
        raise ValueError(f"{desc}; got {v!r}")
    if hi is not None and (v > hi or (hi_open and v == hi)):
        raise ValueError(f"{desc}; got {v!r}")
    return v


def check_probability(name: str, value, *, open_left: bool = True, open_right: bool = True) -> float:
    """A level or probability in (0, 1) (ends open by default).

    Examples
    --------
    >>> check_probability("level", 0.95)
    0.95
    """
    return check_real(name, value, lo=0.0, hi=1.0, lo_open=open_left, hi_open=open_right)


def check_choice(name: str, value, allowed: Iterable):
    """Return ``value`` if it is one of ``allowed``, or raise ``ValueError`` listing them.

    Examples
    --------
    >>> check_choice("which", "max", ("max", "min", "ratio"))
    'max'
    >>> check_choice("which", "mid", ("max", "min"))
    Traceback (most recent call last):
    ...
    ValueError: which must be one of 'max', 'min'; got 'mid'
    """
    allowed = tuple(allowed)
    try:
        ok = value in allowed
    except TypeError:  # unhashable or incomparable
        ok = False
    if not ok:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {_fmt(value)}")
    return value


def check_array(
    name: str,
    value,
    *,
    ndim: int | tuple[int, ...] | None = None,
    dtype=None,
    finite: bool = True,
    nonempty: bool = True,
    copy: bool = False,
) -> np.ndarray:
    """Convert ``value`` to an ndarray and validate it.

    Parameters
    ----------
    name : str
        Argument name used in messages.
    ndim : int or tuple of int, optional
        Allowed number(s) of dimensions.
    dtype : dtype, optional
        If given, convert to this dtype (``np.asarray(value, dtype)``); otherwise
        integer/boolean input is converted to float64 and float input is kept.
    finite : bool
        Raise ``ValueError`` on NaN or infinite entries.
    nonempty : bool
        Raise ``ValueError`` on an array with zero elements.

    Examples
    --------
    >>> check_array("W", [[1.0, 2.0]], ndim=2).shape
    (1, 2)
    >>> check_array("W", [1.0, float("inf")])
    Traceback (most recent call last):
    ...
    ValueError: W must be finite; found 1 non-finite entries
    """
    try:
        arr = np.array(value, dtype=dtype, copy=True) if copy else np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be array-like of numbers; got {type(value).__name__}") from exc
    if dtype is None and arr.dtype.kind in "biu":
        arr = arr.astype(np.float64)
    if arr.dtype.kind not in "fc":
        raise TypeError(f"{name} must hold real numbers; got dtype {arr.dtype}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}; got a {arr.ndim}-D array of shape {arr.shape}")
    if nonempty and arr.size == 0:
        raise ValueError(f"{name} must be non-empty; got shape {arr.shape}")
    if finite:
        bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        if bad:
            raise ValueError(f"{name} must be finite; found {bad} non-finite entries")
    return arr


def check_finite_array(name: str, value, **kwargs) -> np.ndarray:
    """Shorthand for :func:`check_array` with ``finite=True``."""
    return check_array(name, value, finite=True, **kwargs)


def check_key(name: str, value):
    """Return ``value`` if it is one JAX PRNG key, or raise.

    Accepted: a typed key (``jax.random.key(seed)``, shape ``()``) or a raw
    legacy key (``jax.random.PRNGKey(seed)``: uint32, shape ``(2,)``), concrete
    or traced (under ``jax.jit``/``jax.vmap`` the dtype and shape are still
    known, so the same rule applies). The key is returned unchanged. JAX is
    imported only when this function runs, so importing this module stays light.

    Examples
    --------
    >>> import jax
    >>> check_key("key", jax.random.key(0)).shape
    ()
    >>> check_key("key", 0)
    Traceback (most recent call last):
    ...
    TypeError: key must be a JAX PRNG key (jax.random.key(seed)); got int
    >>> check_key("key", jax.random.split(jax.random.key(0), 2))
    Traceback (most recent call last):
    ...
    ValueError: key must be a single PRNG key; got a key array of shape (2,)
    """
    import jax
    import jax.numpy as jnp

    if not isinstance(value, (jax.Array, np.ndarray)):
        raise TypeError(f"{name} must be a JAX PRNG key (jax.random.key(seed)); got {type(value).__name__}")
    if jnp.issubdtype(value.dtype, jax.dtypes.prng_key):
        if value.shape != ():
            raise ValueError(f"{name} must be a single PRNG key; got a key array of shape {value.shape}")
        return value
    if value.dtype != np.uint32 or value.shape != (2,):
        raise TypeError(
            f"{name} must be a JAX PRNG key (jax.random.key(seed)); got {type(value).__name__} "
            f"of dtype {value.dtype} and shape {value.shape}"
        )
    return value


def check_keys(name: str, value):
    """Return ``value`` as a typed JAX PRNG key array of shape ``(K,)``, K >= 1, or raise.

    Accepted: a typed key array of shape ``(K,)`` (``jax.random.split(key, K)``),
    raw uint32 keys of shape ``(K, 2)``, or a sequence of K single keys (each as
    in :func:`check_key`). JAX is imported only when this function runs.

    Examples
    --------
    >>> import jax
    >>> check_keys("keys", [jax.random.key(0), jax.random.key(1)]).shape
    (2,)
    >>> check_keys("keys", [])
    Traceback (most recent call last):
    ...
    ValueError: keys must hold at least one PRNG key (K >= 1); got an empty sequence
    """
    import jax
    import jax.numpy as jnp

    if isinstance(value, (jax.Array, np.ndarray)):
        if isinstance(value, jax.Array) and jnp.issubdtype(value.dtype, jax.dtypes.prng_key):
            if value.ndim != 1:
                raise ValueError(
                    f"{name} must be a 1-D array of K PRNG keys (e.g. jax.random.split(key, K)); got shape {value.shape}"
                )
            typed = value
        else:
            if value.dtype != np.uint32 or value.ndim != 2 or value.shape[1] != 2:
                if value.dtype == np.uint32 and value.shape == (2,):
                    raise ValueError(
                        f"{name} holds a single raw PRNG key of shape (2,); pass {name}=[key] or jax.random.split(key, K)"
                    )
                raise TypeError(
                    f"{name} must be K JAX PRNG keys: a key array of shape (K,), raw keys of shape (K, 2) "
                    f"and dtype uint32, or a list of keys; got dtype {value.dtype} and shape {value.shape}"
                )
            typed = jax.random.wrap_key_data(jnp.asarray(value))
    elif isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        if len(value) == 0:
            raise ValueError(f"{name} must hold at least one PRNG key (K >= 1); got an empty sequence")
        data = []
        for i, k in enumerate(value):
            k = check_key(f"{name}[{i}]", k)
            data.append(jax.random.key_data(k) if jnp.issubdtype(k.dtype, jax.dtypes.prng_key) else jnp.asarray(k))
        typed = jax.random.wrap_key_data(jnp.stack(data))
    else:
        raise TypeError(
            f"{name} must be K JAX PRNG keys (jax.random.split(key, K), or a list of keys); got {type(value).__name__}"
        )
    if typed.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one PRNG key (K >= 1); got K = 0")
    return typed
