"""Shared argument validation for :mod:`rmt_sparsity.metrics` (private).

Thin wrappers around :mod:`rmt_sparsity._checks` for the shapes of docs/design.md §3:
activations are ``(..., d_ff)`` (the last axis indexes neurons) and ``w_out``
is ``(d_model, d_ff)``, so ``w_out[:, i]`` is neuron ``i``'s output column.
"""

from __future__ import annotations

import numpy as np

from .._checks import check_array

__all__ = ["as_activations", "as_pair"]


def as_activations(name: str, value, *, ndim=None) -> np.ndarray:
    """Finite, non-empty real array with at least one axis (last axis = neurons)."""
    arr = check_array(name, value, ndim=ndim)
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} must be real; got complex dtype {arr.dtype}")
    if arr.ndim == 0:
        raise ValueError(f"{name} must have at least 1 axis (the last one indexes neurons); got a scalar")
    return arr


def as_pair(activations, w_out) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``activations`` (tokens, d_ff) and ``w_out`` (d_model, d_ff); return float64 copies-as-needed."""
    a = as_activations("activations", activations, ndim=(1, 2))
    if a.ndim == 1:
        a = a[None, :]
    w = as_activations("w_out", w_out, ndim=2)
    if w.shape[1] != a.shape[1]:
        raise ValueError(
            "w_out must have shape (d_model, d_ff) with d_ff equal to activations.shape[-1] "
            f"(w_out[:, i] is neuron i's output column); got activations of shape {a.shape} "
            f"and w_out of shape {w.shape}"
        )
    return a.astype(np.float64, copy=False), w.astype(np.float64, copy=False)
