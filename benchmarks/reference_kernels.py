r"""Reference "union rows" down-projection: the baseline that the batched sparse kernel must beat.

This file is an independent transcription (it imports nothing from
:mod:`rmt_sparsity`) of the plain way to exploit activation sparsity in the
down-projection :math:`Y = H\,W_\mathrm{out}^\top`, with ``w_out_t`` =
:math:`W_\mathrm{out}^\top` of shape (d_ff, d_model), row-major, so neuron
``i``'s output weights ``w_out_t[i]`` are one contiguous row.

Batch (``h`` of shape (B, d_ff)), "union rows accumulate":

1. build the compressed-sparse-column index of ``h``: for every neuron ``i``
   the list of batch rows ``b`` with ``h[b, i] != 0`` and their values
   (two passes over ``h``: count per neuron, then fill);
2. for every neuron of the union (at least one active row), in increasing
   order, read ``w_out_t[i]`` once and, for each of its active rows ``b`` in
   increasing order, ``y[b] += h[b, i] * w_out_t[i]`` (the inner loop runs
   over the contiguous d_model axis).

So each union row of the weights is read from memory once per call (the
repeats come from cache: a row is d_model values, 16 KB at d_model = 4096
in float32), and the arithmetic is exactly the non-zero products,
:math:`\mathrm{nnz}(H)\,d_\mathrm{model}` multiply-adds. No tiling, no
blocking, no prefetching, one thread.

Batch 1 (``h`` of shape (d_ff,)), "gather": ``y = sum_{i: h[i] != 0} h[i] *
w_out_t[i]``, one active row at a time, in increasing ``i``.

Numerics: the same dtype as the inputs (no up-casting), and the same
floating-point freedom as the project's kernels, ``fastmath={"contract"}``
(fusing ``a*b + c`` into an FMA; no reassociation), so the comparison is fair.
Numba compiles on the first call (``warm_up`` does it outside any timing).

Run ``python benchmarks/reference_kernels.py`` for a small self-check against
the dense product.
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["UnionRowsReference", "union_rows"]

_JIT = dict(nogil=True, fastmath={"contract"}, boundscheck=False)


@nb.njit(**_JIT)
def _csc(h):
    """Compressed-sparse-column index of ``h`` (B, m): ``rows[p], vals[p]`` for ``ptr[i] <= p < ptr[i+1]``."""
    B, m = h.shape
    ptr = np.zeros(m + 1, np.int64)
    for b in range(B):
        for i in range(m):
            if h[b, i] != 0:
                ptr[i + 1] += 1
    for i in range(m):
        ptr[i + 1] += ptr[i]
    pos = ptr[:m].copy()
    rows = np.empty(ptr[m], np.int64)
    vals = np.empty(ptr[m], h.dtype)
    for b in range(B):
        for i in range(m):
            v = h[b, i]
            if v != 0:
                p = pos[i]
                rows[p] = b
                vals[p] = v
                pos[i] = p + 1
    return ptr, rows, vals


@nb.njit(**_JIT)
def _union_rows_accumulate(h, w):
    """``y[b] += h[b, i] * w[i]`` for each union neuron ``i`` (row read once) and each of its active rows ``b``."""
    ptr, rows, vals = _csc(h)
    B = h.shape[0]
    m, D = w.shape
    y = np.zeros((B, D), w.dtype)
    for i in range(m):
        p0 = ptr[i]
        p1 = ptr[i + 1]
        if p1 > p0:
            wi = w[i]
            for p in range(p0, p1):
                yb = y[rows[p]]
                v = vals[p]
                for j in range(D):
                    yb[j] += v * wi[j]
    return y


@nb.njit(**_JIT)
def _gather(h, w):
    """Batch 1: ``y = sum_{i: h[i] != 0} h[i] * w[i]``, one active row at a time."""
    m, D = w.shape
    y = np.zeros(D, w.dtype)
    for i in range(m):
        v = h[i]
        if v != 0:
            wi = w[i]
            for j in range(D):
                y[j] += v * wi[j]
    return y


def union_rows(h: np.ndarray, w_out_t: np.ndarray) -> np.ndarray:
    """``h @ w_out_t`` by the union-rows accumulate kernel (``h`` 2-D) or the gather kernel (``h`` 1-D)."""
    if w_out_t.ndim != 2 or not w_out_t.flags.c_contiguous:
        raise ValueError("w_out_t must be a C-contiguous 2-D array")
    if h.ndim not in (1, 2) or h.shape[-1] != w_out_t.shape[0] or h.dtype != w_out_t.dtype:
        raise ValueError(f"h must be 1-D or 2-D with last axis {w_out_t.shape[0]} and dtype {w_out_t.dtype}")
    h = np.ascontiguousarray(h)
    return _gather(h, w_out_t) if h.ndim == 1 else _union_rows_accumulate(h, w_out_t)


class UnionRowsReference:
    """The reference bound to one weight matrix: ``ref(h)`` is :func:`union_rows` ``(h, w_out_t)``.

    Parameters
    ----------
    w_out_t : ndarray, shape (d_ff, d_model), C-contiguous
        ``W_out^T``.
    """

    name = "union rows accumulate (CSC of h, each union row of w_out_t read once)"

    def __init__(self, w_out_t: np.ndarray):
        if w_out_t.ndim != 2 or not w_out_t.flags.c_contiguous:
            raise ValueError("w_out_t must be a C-contiguous 2-D array")
        self.w_out_t = w_out_t

    def warm_up(self) -> None:
        """Compile both paths for this dtype (outside any timing)."""
        h = np.zeros((2, self.w_out_t.shape[0]), self.w_out_t.dtype)
        h[0, 0] = 1
        union_rows(h, self.w_out_t)
        union_rows(h[0], self.w_out_t)

    def __call__(self, h: np.ndarray) -> np.ndarray:
        return union_rows(h, self.w_out_t)


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    w_out_t = rng.standard_normal((200, 48)).astype(np.float32)
    h = (rng.random((9, 200)) < 0.1) * rng.random((9, 200))
    h = h.astype(np.float32)
    ref = h.astype(np.float64) @ w_out_t.astype(np.float64)
    print("batch max |error| =", float(np.max(np.abs(union_rows(h, w_out_t) - ref))))
    print("batch-1 max |error| =", float(np.max(np.abs(union_rows(h[0], w_out_t) - ref[0]))))
