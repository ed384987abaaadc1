"""Argument validation: one place, clear messages.

Every public function validates its arguments here, at the Python boundary,
before any Numba or JAX code is reached. Messages name the argument, the value
received and what is allowed, e.g.::

    ValueError: ratio must be a finite number > 0; got -1.0

Distribution *methods* (pdf, cdf, ...) do not use these helpers: they follow
scipy and return NaN outside the domain (their argument is converted by
:func:`as_float_array`, which only refuses what is not a number at all).
Constructors of law objects do.

Sizes are refused up front: :func:`check_size_budget` estimates the memory a
call will allocate (and, for loops, the work it will do) from its arguments and
raises a ``ValueError`` naming the argument before anything is allocated, so a
size such as ``2**64`` or ``10**12`` never reaches NumPy, Numba or JAX.
"""

from __future__ import annotations

import math
import numbers
import os
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
    "as_float_array",
    "check_shape",
    "check_callable",
    "check_size_budget",
    "available_memory",
    "MAX_ITERATIONS",
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


def check_callable(name: str, value, *, none_ok: bool = False):
    """Return ``value`` if it is callable (or ``None`` when ``none_ok``), else raise ``TypeError``.

    Examples
    --------
    >>> check_callable("where", 1)
    Traceback (most recent call last):
    ...
    TypeError: where must be callable; got int 1
    """
    if value is None and none_ok:
        return value
    if not callable(value):
        raise TypeError(f"{name} must be callable; got {type(value).__name__} {_fmt(value)}")
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
    complex_ok: bool = False,
) -> np.ndarray:
    """Convert ``value`` to an ndarray and validate it.

    Parameters
    ----------
    name : str
        Argument name used in messages.
    ndim : int or tuple of int, optional
        Allowed number(s) of dimensions.
    dtype : dtype, optional
        If given, convert to this dtype (after the checks below); otherwise
        integer/boolean input is converted to float64 and float input is kept.
    finite : bool
        Raise ``ValueError`` on NaN or infinite entries.
    nonempty : bool
        Raise ``ValueError`` on an array with zero elements.
    complex_ok : bool
        Accept complex input (default: ``TypeError``, since a complex array
        reaching real-valued code would silently lose its imaginary part or
        give complex results).

    Strings, ``None``, objects and other non-numeric input raise ``TypeError``
    whatever ``dtype`` is, so ``"1"`` is never parsed as a number.

    Examples
    --------
    >>> check_array("W", [[1.0, 2.0]], ndim=2).shape
    (1, 2)
    >>> check_array("W", [1.0, float("inf")])
    Traceback (most recent call last):
    ...
    ValueError: W must be finite; found 1 non-finite entries
    >>> check_array("W", [1 + 2j])
    Traceback (most recent call last):
    ...
    TypeError: W must hold real numbers; got dtype complex128
    """
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be array-like of numbers; got {type(value).__name__}") from exc
    kinds = "biufc" if complex_ok else "biuf"
    if raw.dtype.kind not in kinds:
        want = "numbers" if complex_ok else "real numbers"
        raise TypeError(f"{name} must hold {want}; got dtype {raw.dtype}" +
                        (f" ({type(value).__name__})" if raw.dtype.kind == "O" else ""))
    try:
        arr = np.array(raw, dtype=dtype, copy=True) if copy else np.asarray(raw, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be array-like of numbers convertible to {np.dtype(dtype)}; got dtype {raw.dtype}") from exc
    if dtype is None and arr.dtype.kind in "biu":
        arr = arr.astype(np.float64)
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


def as_float_array(name: str, value, *, complex_ok: bool = False) -> np.ndarray:
    """The argument of a distribution method (``x`` of ``cdf``, ``q`` of ``ppf``) as a float array.

    Follows scipy: any real number is accepted, NaN and ±inf included (the
    method maps them as scipy does); what is not a number at all -- ``None``,
    a string, an object -- raises ``TypeError`` naming the argument. Bools and
    integers are converted to float64.

    Examples
    --------
    >>> as_float_array("x", [0.5, float("nan")])
    array([0.5, nan])
    >>> as_float_array("x", None)
    Traceback (most recent call last):
    ...
    TypeError: x must be a real number or an array of real numbers; got NoneType
    """
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a real number or an array of real numbers; got {type(value).__name__}") from exc
    kinds = "biufc" if complex_ok else "biuf"
    if raw.dtype.kind not in kinds:
        what = "numbers" if complex_ok else "real numbers"
        shown = type(value).__name__ if raw.dtype.kind == "O" and raw.ndim == 0 else f"dtype {raw.dtype}"
        raise TypeError(f"{name} must be a {what[:-1]} or an array of {what}; got {shown}")
    return raw.astype(np.complex128 if raw.dtype.kind == "c" else np.float64)


def check_shape(name: str, value, *, allow_none: bool = True):
    """A NumPy-style ``size=`` argument: ``None`` (if allowed), an int >= 0 or a tuple of them.

    Returns ``(shape, count)``: the shape as a tuple (``None`` kept) and the
    number of elements it holds (a Python int, so ``2**64`` cannot overflow;
    pass it on to :func:`check_size_budget`).

    Examples
    --------
    >>> check_shape("size", 3), check_shape("size", (2, 3)), check_shape("size", None)
    (((3,), 3), ((2, 3), 6), (None, 1))
    >>> check_shape("size", -1)
    Traceback (most recent call last):
    ...
    ValueError: size must be an integer >= 0; got -1
    """
    if value is None:
        if not allow_none:
            raise TypeError(f"{name} must be an int or a tuple of ints; got None")
        return None, 1
    if isinstance(value, (tuple, list)):
        dims = tuple(check_int(f"{name}[{i}]", v, min=0) for i, v in enumerate(value))
    else:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be None, an int or a tuple of ints; got {type(value).__name__} {_fmt(value)}")
        dims = (check_int(name, value, min=0),)
    return dims, math.prod(dims)


# ---------------------------------------------------------------------------------------
# sizes refused up front
# ---------------------------------------------------------------------------------------

#: Default cap on the elementary operations one call may plan (about a day at 10^9 per second).
MAX_ITERATIONS = 10**14

_GIB = 2**30


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_available() -> int | None:
    """Room left under a cgroup v2 memory limit (containers, batch jobs), if there is one."""
    try:
        with open("/sys/fs/cgroup/memory.max") as fh:
            limit = fh.read().strip()
        if limit == "max":
            return None
        with open("/sys/fs/cgroup/memory.current") as fh:
            used = int(fh.read().strip())
        return max(int(limit) - used, 0)
    except (OSError, ValueError):
        return None


def available_memory() -> int:
    """Bytes this process can still allocate: the least of the system's, the cgroup's and the rlimit's.

    Reads ``MemAvailable`` from ``/proc/meminfo`` (Linux), else
    ``os.sysconf("SC_AVPHYS_PAGES") * SC_PAGE_SIZE``; then lowers it to the room
    left under a cgroup v2 ``memory.max`` and under the process's
    ``RLIMIT_AS``/``RLIMIT_DATA`` soft limits, where those exist. Falls back to
    4 GiB when the platform reports nothing (psutil is not a dependency).

    Examples
    --------
    >>> available_memory() > 0
    True
    """
    candidates = []
    avail = _meminfo_available()
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            avail = None
    if avail is not None and avail > 0:
        candidates.append(avail)
    cg = _cgroup_available()
    if cg is not None:
        candidates.append(cg)
    try:
        import resource

        for lim in (resource.RLIMIT_AS, resource.RLIMIT_DATA):
            soft = resource.getrlimit(lim)[0]
            if soft != resource.RLIM_INFINITY and soft > 0:
                candidates.append(soft)
    except (ImportError, AttributeError, ValueError, OSError):
        pass
    return int(min(candidates)) if candidates else 4 * _GIB


def _fmt_bytes(n) -> str:
    n = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} PiB"  # pragma: no cover


def _fmt_value(value) -> str:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and abs(int(value)) >= 10**6:
        v = int(value)
        for base, label in ((2, "2**"), (10, "10**")):
            e = round(math.log(abs(v), base))
            if base**e == abs(v):
                return ("-" if v < 0 else "") + f"{label}{e}"
        return f"{v:.3e}"
    return _fmt(value)


def check_size_budget(
    name: str,
    value=None,
    *,
    nbytes: float = 0,
    iterations: float = 0,
    max_bytes: float | None = None,
    max_iterations: float | None = MAX_ITERATIONS,
    what: str = "",
) -> None:
    """Refuse a call whose planned memory or work is out of reach, before anything is allocated.

    The caller estimates, from its validated arguments, the bytes the call will
    allocate at its peak (``nbytes``) and, for loops, the number of elementary
    steps it will run (``iterations``: loop trips times the work per trip).
    This raises ``ValueError`` naming ``name`` (the argument that sets the
    size) and showing ``value`` when

    * ``nbytes`` exceeds ``max_bytes`` if given, else :func:`available_memory`; or
    * ``iterations`` exceeds ``max_iterations`` (default :data:`MAX_ITERATIONS`
      = 10^14, about a day at 10^9 steps per second; pass a smaller cap for a
      Python-level loop, ``None`` for no cap).

    Estimates are computed with Python integers or floats, so a size of
    ``2**64`` cannot overflow on the way; pass the product of the sizes, not a
    NumPy integer. Call it after the arguments are validated (``check_int``)
    and before the first allocation or loop.

    Parameters
    ----------
    name : str
        The argument that sets the size (as the caller spells it; several may
        be named, e.g. ``"p, n"``).
    value : object, optional
        Its value, shown in the message.
    nbytes : int or float
        Estimated peak allocation in bytes.
    iterations : int or float
        Estimated elementary steps.
    max_bytes, max_iterations : float, optional
        Caps (``max_bytes`` defaults to the memory available now).
    what : str, optional
        What the memory or work is for (e.g. ``"the p x n Gaussian matrix"``).

    Raises
    ------
    ValueError
        With the estimate and the limit.

    Examples
    --------
    >>> check_size_budget("n", 1000, nbytes=8 * 1000**2, what="an n x n float64 matrix")
    >>> check_size_budget("n", 2**64, nbytes=8 * (2**64) ** 2, what="an n x n float64 matrix")
    Traceback (most recent call last):
    ...
    ValueError: n = 2**64 needs about ... of memory for an n x n float64 matrix; only ... is available
    >>> check_size_budget("repeats", 10**12, iterations=10**12 * 10**6, max_iterations=10**12)
    Traceback (most recent call last):
    ...
    ValueError: repeats = 10**12 means about 1e+18 elementary steps, above the cap of 1e+12
    """
    for_what = f" for {what}" if what else ""
    if nbytes and nbytes > 0:
        limit = max_bytes if max_bytes is not None else available_memory()
        if nbytes > limit:
            kind = "the stated cap of" if max_bytes is not None else "only"
            tail = "" if max_bytes is not None else " is available"
            raise ValueError(
                f"{name} = {_fmt_value(value)} needs about {_fmt_bytes(nbytes)} of memory{for_what}; "
                f"{kind} {_fmt_bytes(limit)}{tail}"
            )
    if iterations and max_iterations is not None and iterations > max_iterations:
        raise ValueError(
            f"{name} = {_fmt_value(value)} means about {float(iterations):.3g} elementary steps{for_what}, "
            f"above the cap of {float(max_iterations):.3g}"
        )


# --- metrics/spectra/flatness phase B
def is_tracer(value) -> bool:
    """True when ``value`` is a JAX tracer (inside ``jit``/``vmap``/``grad``), whose values are unknown.

    Shape, ndim and dtype checks work on tracers; value checks (finite, ranges)
    must skip them. JAX is never imported here: a tracer exists only once JAX is.

    Examples
    --------
    >>> is_tracer(1.0)
    False
    """
    import sys

    jax = sys.modules.get("jax")
    return jax is not None and isinstance(value, jax.core.Tracer)
