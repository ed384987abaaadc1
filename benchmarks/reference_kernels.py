r"""Reference "union rows" down-projection: the baseline that the batched sparse kernel must beat.

This file is a transcription, independent of :mod:`rmt_sparsity.kernels`
(it imports nothing from the package), of the usual way to use activation
sparsity at batch size B with a dense BLAS:

1. find the union ``U`` of the neurons active in at least one of the B rows;
2. gather the union columns of the activations, ``H_U`` (B × |U|), and the
   union rows of ``W_out^T``, ``W_U`` (|U| × d_model);
3. one dense GEMM, :math:`Y = H_U W_U`.

It reads each union row once and does :math:`2 B |U| d_\mathrm{model}` flops:
the zeros inside the union block are multiplied like any other number. For
independent neurons of density ρ the union covers
:math:`1-(1-\rho)^B` of them, so at large batch it approaches the dense
product plus the cost of the gather.

To make it a fair baseline it is implemented with care:

* the gather writes into a workspace that is allocated once and reused
  (no page faults from a fresh 100 MB array on every call);
* the GEMM runs in either memory layout: ``"rows"`` gathers rows of
  ``W_out^T`` and computes ``H_U @ W_U``; ``"cols"`` gathers columns of
  ``W_out`` (d_model × d_ff, row-major, as ``torch.nn.Linear`` stores it) and
  computes ``(W_out[:, U] @ H_U^T)^T``. OpenBLAS is much faster in the second
  layout at small batches; :meth:`UnionRowsReference.pick_layout` times both
  and keeps the faster, as the benchmark does for the dense baseline.

Run ``python benchmarks/reference_kernels.py`` for a small self-check against
the dense product.
"""

from __future__ import annotations

import time

import numpy as np

__all__ = ["UnionRowsReference", "union_rows"]


def union_rows(h: np.ndarray, w_out_t: np.ndarray) -> np.ndarray:
    """One-shot reference: ``h[:, U] @ w_out_t[U]`` with U the union of active neurons (no workspace)."""
    h2 = np.atleast_2d(h)
    u = np.flatnonzero(np.any(h2 != 0, axis=0))
    y = h2[:, u] @ w_out_t[u]
    return y[0] if h.ndim == 1 else y


class UnionRowsReference:
    """The union-rows down-projection with a reusable workspace and a choice of GEMM layout.

    Parameters
    ----------
    w_out_t : ndarray, shape (d_ff, d_model), C-contiguous
        ``W_out^T`` (used by the ``"rows"`` layout).
    w_out : ndarray, shape (d_model, d_ff), C-contiguous, optional
        ``W_out`` itself (used by the ``"cols"`` layout); the same values.
    layout : {"rows", "cols"}
    """

    def __init__(self, w_out_t: np.ndarray, w_out: np.ndarray | None = None, layout: str = "rows"):
        if w_out_t.ndim != 2 or not w_out_t.flags.c_contiguous:
            raise ValueError("w_out_t must be a C-contiguous 2-D array")
        if w_out is not None and (w_out.shape != w_out_t.shape[::-1] or not w_out.flags.c_contiguous):
            raise ValueError("w_out must be C-contiguous with shape (d_model, d_ff)")
        if layout not in ("rows", "cols") or (layout == "cols" and w_out is None):
            raise ValueError("layout must be 'rows', or 'cols' when w_out is given")
        self.w_out_t = w_out_t
        self.w_out = w_out
        self.layout = layout
        self._work = None  # flat workspace, grown on demand and reused

    def _buffer(self, shape) -> np.ndarray:
        n = shape[0] * shape[1]
        if self._work is None or self._work.size < n:
            self._work = np.empty(n, self.w_out_t.dtype)
            self._work[:] = 0  # touch every page once, here, not inside a timed call
        return self._work[:n].reshape(shape)

    def __call__(self, h: np.ndarray) -> np.ndarray:
        h2 = h.reshape(1, -1) if h.ndim == 1 else h
        u = np.flatnonzero(np.any(h2 != 0, axis=0))
        d_model = self.w_out_t.shape[1]
        if u.size == 0:
            y = np.zeros((h2.shape[0], d_model), self.w_out_t.dtype)
        elif self.layout == "rows":
            hu = h2[:, u]
            wu = self._buffer((u.size, d_model))
            np.take(self.w_out_t, u, axis=0, out=wu)
            y = hu @ wu
        else:
            hu_t = np.ascontiguousarray(h2[:, u].T)
            wu = self._buffer((d_model, u.size))
            np.take(self.w_out, u, axis=1, out=wu)
            y = (wu @ hu_t).T
        return y[0] if h.ndim == 1 else y

    def pick_layout(self, h: np.ndarray, repeats: int = 3, clock=time.thread_time) -> dict:
        """Time both layouts on ``h`` (interleaved, median of ``repeats``), keep the faster; returns the medians."""
        if self.w_out is None:
            return {"rows": float("nan")}
        times = {"rows": [], "cols": []}
        for _ in range(repeats):
            for lay in times:
                self.layout = lay
                t0 = clock()
                self(h)
                times[lay].append(clock() - t0)
        med = {k: float(np.median(v)) for k, v in times.items()}
        self.layout = min(med, key=med.get)
        return med


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    w_out = rng.standard_normal((48, 200)).astype(np.float32)
    w_out_t = np.ascontiguousarray(w_out.T)
    h = (rng.random((9, 200)) < 0.1) * rng.random((9, 200)).astype(np.float32)
    h = h.astype(np.float32)
    ref = h.astype(np.float64) @ w_out_t.astype(np.float64)
    for lay in ("rows", "cols"):
        y = UnionRowsReference(w_out_t, w_out, lay)(h)
        print(lay, "max |error| =", float(np.max(np.abs(y - ref))))
    print("one-shot max |error| =", float(np.max(np.abs(union_rows(h, w_out_t) - ref))))
