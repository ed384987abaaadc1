"""NumPy reference FFN, activations and argument checks shared by the kernels (no Numba here)."""

from __future__ import annotations

import numbers

import numpy as np

from .threads import _STATE as _THREAD_STATE
from .threads import MAX_THREADS

__all__ = ["ACTIVATIONS", "ffn_dense", "get_activation"]


def _relu(h):
    return np.maximum(h, 0)


def _relu2(h):
    r = np.maximum(h, 0)
    return r * r


def _jsrelu(h):
    r = np.maximum(h, 0)
    return r * (r * 0.5 + 1)


#: Named activations. Each maps ``h <= 0`` to exactly 0, so its output is sparse
#: (``jsrelu`` is the J-SquaredReLU ``(h^2/2 + h) 1[h >= 0]`` of arXiv 2309.03004).
ACTIVATIONS = {"relu": _relu, "relu2": _relu2, "jsrelu": _jsrelu}


def get_activation(activation):
    """Return the activation function for a name in :data:`ACTIVATIONS` or a callable.

    A callable must map an array to an array of the same shape and dtype.

    Examples
    --------
    >>> import numpy as np
    >>> get_activation("relu")(np.array([-1.0, 2.0]))
    array([0., 2.])
    """
    if callable(activation):
        return activation
    if isinstance(activation, str) and activation in ACTIVATIONS:
        return ACTIVATIONS[activation]
    raise ValueError(
        f"activation must be one of {', '.join(map(repr, ACTIVATIONS))} or a callable; got {activation!r}"
    )


# ----------------------------------------------------------------------------- checks


def _float_dtype_name(a) -> str:
    return str(a.dtype) if isinstance(a, np.ndarray) else type(a).__name__


def check_weight(name: str, w, *, ndim: int = 2) -> np.ndarray:
    """A weight matrix: an ndarray of float32/float64, C-contiguous, non-empty; never copied or scanned."""
    if not isinstance(w, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray of float32 or float64; got {type(w).__name__}")
    if w.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name} must have dtype float32 or float64; got {w.dtype}")
    if w.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D; got a {w.ndim}-D array of shape {w.shape}")
    if w.size == 0:
        raise ValueError(f"{name} must be non-empty; got shape {w.shape}")
    if not w.flags.c_contiguous:
        raise ValueError(
            f"{name} must be C-contiguous (row-major); got strides {w.strides} for shape {w.shape}: "
            f"pass np.ascontiguousarray({name}) once, outside the hot loop"
        )
    return w


def check_activations(name: str, a, dtype, width: int, width_name: str, source: str = "") -> np.ndarray:
    """A (width,) or (B, width) C-contiguous ndarray of exactly ``dtype`` (no silent casts).

    ``source`` names the weight the width comes from (``"w_in"``), so a mismatch
    message names both arguments.
    """
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray of dtype {np.dtype(dtype)}; got {type(a).__name__}")
    if a.dtype != dtype:
        raise TypeError(
            f"{name} has dtype {a.dtype} but the weights have dtype {np.dtype(dtype)}; mixed dtypes are not "
            f"supported (cast explicitly, e.g. {name}.astype(np.{np.dtype(dtype)}))"
        )
    if a.ndim not in (1, 2):
        raise ValueError(f"{name} must be 1-D (one token) or 2-D (batch, features); got shape {a.shape}")
    if a.shape[-1] != width:
        of = f" (from {source})" if source else ""
        raise ValueError(f"{name} must have last dimension {width_name} = {width}{of}; got shape {a.shape}")
    if a.ndim == 2 and a.shape[0] == 0:
        raise ValueError(f"{name} must have at least one row; got shape {a.shape}")
    if not a.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous; got strides {a.strides} for shape {a.shape}")
    return a


def check_threads(threads) -> int:
    if threads is None:
        return _THREAD_STATE["threads"]
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral):
        raise TypeError(f"threads must be an integer in [1, {MAX_THREADS}] or None; got {type(threads).__name__} {threads!r}")
    if not 1 <= threads <= MAX_THREADS:
        raise ValueError(f"threads must be an integer in [1, {MAX_THREADS}] or None; got {threads!r}")
    return int(threads)


# ----------------------------------------------------------------------------- reference


def ffn_dense(x, w_in, b_in, w_out, activation):
    r"""Dense feed-forward block in NumPy: the reference every sparse kernel is tested against.

    .. math::

        y = W_\mathrm{out}\, \sigma(W_\mathrm{in} x + b_\mathrm{in})

    Weights follow the ``(out, in)`` convention of ``torch.nn.Linear.weight``:
    the key matrix ``W_in`` is (d_ff, d_model) and ``W_out`` is
    (d_model, d_ff), so ``W_out[:, i]`` is neuron ``i``'s output column
    (the convention of CETT, arXiv 2411.02335).

    Parameters
    ----------
    x : ndarray, shape (d_model,) or (B, d_model)
        One token or a batch of tokens (rows).
    w_in : ndarray, shape (d_ff, d_model)
    b_in : ndarray, shape (d_ff,), or None
    w_out : ndarray, shape (d_model, d_ff)
    activation : {"relu", "relu2", "jsrelu"} or callable

    Returns
    -------
    ndarray, shape (d_model,) or (B, d_model)
        Same dtype as the inputs (all must share one float dtype).

    Raises
    ------
    ValueError, TypeError
        On shape mismatches or mixed dtypes.

    Examples
    --------
    >>> import numpy as np
    >>> w_in = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> w_out = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]])
    >>> ffn_dense(np.array([1.0, -2.0]), w_in, None, w_out, "relu")
    array([1., 0.])
    """
    act = get_activation(activation)
    w_in = np.asarray(w_in)
    w_out = np.asarray(w_out)
    if w_in.ndim != 2 or w_out.ndim != 2:
        raise ValueError(f"w_in and w_out must be 2-D; got shapes {w_in.shape} and {w_out.shape}")
    d_ff, d_model = w_in.shape
    if w_out.shape != (d_model, d_ff):
        raise ValueError(
            f"w_out must have shape (d_model, d_ff) = {(d_model, d_ff)} to match w_in {w_in.shape}; got {w_out.shape}"
        )
    dt = w_in.dtype
    if dt not in (np.float32, np.float64) or w_out.dtype != dt:
        raise TypeError(f"w_in and w_out must share dtype float32 or float64; got {w_in.dtype} and {w_out.dtype}")
    x = check_activations("x", np.ascontiguousarray(x), dt, d_model, "d_model", "w_in")
    h = x @ w_in.T
    if b_in is not None:
        b_in = np.asarray(b_in)
        if b_in.shape != (d_ff,):
            raise ValueError(f"b_in must have shape (d_ff,) = ({d_ff},); got {b_in.shape}")
        if b_in.dtype != dt:
            raise TypeError(f"b_in has dtype {b_in.dtype} but the weights have dtype {dt}")
        h = h + b_in
    return act(h) @ w_out.T
