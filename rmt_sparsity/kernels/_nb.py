"""Numba kernels behind :mod:`rmt_sparsity.kernels` (private).

Nothing here validates its input: the public functions in :mod:`.sparse` do
that before any of these is called. All dispatchers are lazy (no signatures),
so importing this module compiles nothing; ``cache=True`` makes later
processes load the machine code from disk.

Accumulation scheme (docs/science.md §7). ``w`` is ``W_out^T`` (d_ff, d_model),
row-major, so neuron ``i``'s output weights ``w[i]`` are contiguous. The
down-projection ``y = sum_i a_i w[i]`` reads only the active rows, eight rows
per pass: each pass loads and stores ``y`` once for eight fused multiply-adds
per output, and keeps eight independent read streams in flight for the
hardware prefetcher (measured on Zen 4: 8 rows per pass beat 4 and 16).
While one group is accumulated, the first few cache lines of the next
group's rows are software-prefetched, to hide the latency of starting new
streams (prefetching whole rows was slower).

The kernels are serial and release the GIL (``nogil=True``); every kernel
works on a column range ``[c0, c1)`` (or a range of selected rows), so
:mod:`.sparse` runs several threads by splitting that range over a thread
pool. (``parallel=True``/``prange`` versions measured 25-35 % slower even on
one thread: the outlined loop body was not vectorised as well.)

Floating point: ``fastmath={"contract"}`` only allows fusing ``a*b + c`` into
an FMA (one rounding instead of two); the order of the additions is the
program order. The up-projection dot products also allow ``reassoc`` (needed
to vectorise a reduction); the worst-case bound ``gamma_n sum |a||w|`` holds
for every summation order, so the tests' tolerance covers both.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

_DOWN = dict(cache=True, nogil=True, fastmath={"contract"}, boundscheck=False)
_UP = dict(cache=True, nogil=True, fastmath={"contract", "reassoc"}, boundscheck=False)
_PLAIN = dict(cache=True, nogil=True, boundscheck=False)


#: Cache lines (64 bytes) at the head of each of the next group's rows that are prefetched
#: while the current group is accumulated (4 measured best on Zen 4: hides the start-up
#: latency of the new read streams without competing with the hardware prefetcher).
_PREFETCH_LINES = 4


@intrinsic
def _prefetch(typingctx, arr, i, j):
    """``llvm.prefetch`` (read, high locality) of the address of ``arr[i, j]``; no bounds check, never faults."""
    sig = types.void(arr, i, j)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1], args[2]], wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen


@nb.njit(**_PLAIN)
def union_active(a):
    """Increasing int64 indices of the columns of ``a`` (B, m) with a non-zero entry, and nnz(a)."""
    B, m = a.shape
    mask = np.zeros(m, np.bool_)
    nnz = 0
    for b in range(B):
        for i in range(m):
            if a[b, i] != 0:
                mask[i] = True
                nnz += 1
    cnt = 0
    for i in range(m):
        if mask[i]:
            cnt += 1
    out = np.empty(cnt, np.int64)
    k = 0
    for i in range(m):
        if mask[i]:
            out[k] = i
            k += 1
    return out, nnz


@nb.njit(**_PLAIN)
def gather_cols(a, cols):
    """``a[:, cols]`` as a new C-contiguous array."""
    B = a.shape[0]
    n = cols.shape[0]
    out = np.empty((B, n), a.dtype)
    for b in range(B):
        for k in range(n):
            out[b, k] = a[b, cols[k]]
    return out


@nb.njit(**_DOWN)
def _axpy8(vals, rows, n, w, ys, c0, c1):
    """``ys += sum_{k<n} vals[k] * w[rows[k], c0:c1]``, eight rows per pass (``ys`` is the column slice)."""
    L = c1 - c0
    line = 64 // w.itemsize
    pf_end = min(c1, c0 + _PREFETCH_LINES * line)
    k = 0
    while k + 8 <= n:
        for q in range(k + 8, min(n, k + 16)):
            for j in range(c0, pf_end, line):
                _prefetch(w, rows[q], j)
        a0 = vals[k]
        a1 = vals[k + 1]
        a2 = vals[k + 2]
        a3 = vals[k + 3]
        a4 = vals[k + 4]
        a5 = vals[k + 5]
        a6 = vals[k + 6]
        a7 = vals[k + 7]
        r0 = w[rows[k], c0:c1]
        r1 = w[rows[k + 1], c0:c1]
        r2 = w[rows[k + 2], c0:c1]
        r3 = w[rows[k + 3], c0:c1]
        r4 = w[rows[k + 4], c0:c1]
        r5 = w[rows[k + 5], c0:c1]
        r6 = w[rows[k + 6], c0:c1]
        r7 = w[rows[k + 7], c0:c1]
        for j in range(L):
            ys[j] += a0 * r0[j] + a1 * r1[j] + a2 * r2[j] + a3 * r3[j] + a4 * r4[j] + a5 * r5[j] + a6 * r6[j] + a7 * r7[j]
        k += 8
    if k + 4 <= n:
        a0 = vals[k]
        a1 = vals[k + 1]
        a2 = vals[k + 2]
        a3 = vals[k + 3]
        r0 = w[rows[k], c0:c1]
        r1 = w[rows[k + 1], c0:c1]
        r2 = w[rows[k + 2], c0:c1]
        r3 = w[rows[k + 3], c0:c1]
        for j in range(L):
            ys[j] += a0 * r0[j] + a1 * r1[j] + a2 * r2[j] + a3 * r3[j]
        k += 4
    while k < n:
        a0 = vals[k]
        r0 = w[rows[k], c0:c1]
        for j in range(L):
            ys[j] += a0 * r0[j]
        k += 1


#: Capacity of the scan buffers (non-zero values and their rows): small enough to stay in L1
#: and to avoid large allocations per call, a multiple of 8 so full buffers keep 8-row passes.
_BUF = 1024


@nb.njit(**_DOWN)
def _scan_accumulate(arow, idx, w, ys, c0, c1, vals, rows):
    """Find the non-zeros of ``arow`` and accumulate ``arow[k] * w[idx[k], c0:c1]`` into ``ys``; returns nnz."""
    m = arow.shape[0]
    cap = vals.shape[0]
    n = 0
    total = 0
    for k in range(m):
        v = arow[k]
        if v != 0:
            vals[n] = v
            rows[n] = idx[k]
            n += 1
            if n == cap:
                _axpy8(vals, rows, n, w, ys, c0, c1)
                total += n
                n = 0
    _axpy8(vals, rows, n, w, ys, c0, c1)
    return total + n


@nb.njit(**_DOWN)
def down_rows(a, idx, w, y, c0, c1):
    """Per-row accumulation: ``y[b, c0:c1] += sum_{k: a[b,k] != 0} a[b,k] * w[idx[k], c0:c1]``.

    ``a`` is (B, m), ``idx`` (m,) maps its columns to rows of ``w``; each batch
    row gathers its own non-zeros and streams only those rows of ``w``.
    Returns the number of non-zeros of ``a``.
    """
    B = a.shape[0]
    vals = np.empty(_BUF, a.dtype)
    rows = np.empty(_BUF, np.int64)
    nnz = 0
    for b in range(B):
        nnz += _scan_accumulate(a[b], idx, w, y[b, c0:c1], c0, c1, vals, rows)
    return nnz


@nb.njit(**_DOWN)
def down_vec(h, w):
    """One token: ``y = sum_{i: h[i] != 0} h[i] * w[i]`` as a new array (the hot path of ``sparse_down``)."""
    D = w.shape[1]
    y = np.zeros(D, w.dtype)
    vals = np.empty(_BUF, h.dtype)
    rows = np.empty(_BUF, np.int64)
    m = h.shape[0]
    n = 0
    for k in range(m):
        v = h[k]
        if v != 0:
            vals[n] = v
            rows[n] = k
            n += 1
            if n == _BUF:
                _axpy8(vals, rows, n, w, y, 0, D)
                n = 0
    _axpy8(vals, rows, n, w, y, 0, D)
    return y


@nb.njit(**_DOWN)
def down_union(a, idx, w, y, c0, c1, tile):
    """Union-of-active accumulation: every union row ``w[idx[k]]`` is read once per column tile.

    ``a`` (B, m) holds the values of the m union neurons ``idx`` for every batch
    row (zeros where a row is inactive). For each tile of ``tile`` columns, each
    group of eight union rows is loaded once and applied to every batch row
    whose eight coefficients are not all zero (those rows are skipped), so the
    tile's weights are reused from cache across the batch.
    """
    B, m = a.shape
    for t0 in range(c0, c1, tile):
        t1 = min(c1, t0 + tile)
        L = t1 - t0
        k = 0
        while k + 8 <= m:
            r0 = w[idx[k], t0:t1]
            r1 = w[idx[k + 1], t0:t1]
            r2 = w[idx[k + 2], t0:t1]
            r3 = w[idx[k + 3], t0:t1]
            r4 = w[idx[k + 4], t0:t1]
            r5 = w[idx[k + 5], t0:t1]
            r6 = w[idx[k + 6], t0:t1]
            r7 = w[idx[k + 7], t0:t1]
            for b in range(B):
                a0 = a[b, k]
                a1 = a[b, k + 1]
                a2 = a[b, k + 2]
                a3 = a[b, k + 3]
                a4 = a[b, k + 4]
                a5 = a[b, k + 5]
                a6 = a[b, k + 6]
                a7 = a[b, k + 7]
                if a0 == 0 and a1 == 0 and a2 == 0 and a3 == 0 and a4 == 0 and a5 == 0 and a6 == 0 and a7 == 0:
                    continue
                ys = y[b, t0:t1]
                for j in range(L):
                    ys[j] += a0 * r0[j] + a1 * r1[j] + a2 * r2[j] + a3 * r3[j] + a4 * r4[j] + a5 * r5[j] + a6 * r6[j] + a7 * r7[j]
            k += 8
        while k < m:
            r0 = w[idx[k], t0:t1]
            for b in range(B):
                a0 = a[b, k]
                if a0 == 0:
                    continue
                ys = y[b, t0:t1]
                for j in range(L):
                    ys[j] += a0 * r0[j]
            k += 1


@nb.njit(**_UP)
def up_rows(x, w, idx, out, k0, k1):
    """``out[b, k] = sum_j w[idx[k], j] * x[b, j]`` for ``k0 <= k < k1``: only selected rows of ``w`` are read.

    Four selected rows share each load of ``x[b]``.
    """
    B, D = x.shape
    k = k0
    while k + 4 <= k1:
        r0 = w[idx[k]]
        r1 = w[idx[k + 1]]
        r2 = w[idx[k + 2]]
        r3 = w[idx[k + 3]]
        for b in range(B):
            xb = x[b]
            s0 = xb[0] * 0
            s1 = s0
            s2 = s0
            s3 = s0
            for j in range(D):
                xj = xb[j]
                s0 += r0[j] * xj
                s1 += r1[j] * xj
                s2 += r2[j] * xj
                s3 += r3[j] * xj
            out[b, k] = s0
            out[b, k + 1] = s1
            out[b, k + 2] = s2
            out[b, k + 3] = s3
        k += 4
    while k < k1:
        r0 = w[idx[k]]
        for b in range(B):
            xb = x[b]
            s0 = xb[0] * 0
            for j in range(D):
                s0 += r0[j] * xb[j]
            out[b, k] = s0
        k += 1
