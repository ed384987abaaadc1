"""Numba kernels behind :mod:`rmt_sparsity.kernels` (private).

Nothing here validates its input: the public functions in :mod:`.sparse` do
that before any of these is called. All dispatchers are lazy (no signatures),
so importing this module compiles nothing; ``cache=True`` makes later
processes load the machine code from disk.

Accumulation scheme. ``w`` is ``W_out^T`` (d_ff, d_model),
row-major, so neuron ``i``'s output weights ``w[i]`` are contiguous. The
down-projection ``y = sum_i a_i w[i]`` reads only the active rows, eight rows
per pass: each pass loads and stores ``y`` once for eight fused multiply-adds
per output, and keeps eight independent read streams in flight for the
hardware prefetcher (measured on Zen 4: 8 rows per pass beat 4 and 16).
While one group is accumulated, the first few cache lines of the next
group's rows are software-prefetched, to hide the latency of starting new
streams (prefetching whole rows was slower).

Batches (:func:`down_blocked`). Streaming each batch row's own active rows
re-reads a weight row once for every batch row where it is active (about
``B·ρ`` times). The blocked union pass instead cuts the output columns into
tiles and the neurons into blocks; for one tile and one block, every batch
row accumulates its own non-zeros of the block (from a blocked
compressed-row index of the activations, :func:`block_csr`, built once per
call in two branch-free passes). A weight row's tile segment comes from
memory for the first batch row that needs it and from cache for the others,
so the weights are streamed once while the work stays ``nnz · d_model``
multiply-adds. (Software prefetching of the next block, and a separate pass
touching the block's rows first, were both measured slower: the hardware
prefetcher already overlaps the streams with the arithmetic.)

The kernels are serial and release the GIL (``nogil=True``); every kernel
works on a column range ``[c0, c1)`` (or a range of selected rows or neuron
blocks), so
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


#: Columns per chunk of :func:`chunk_counts` (the block sizes of :func:`block_csr` are multiples of it).
CHUNK = 32


@nb.njit(**_PLAIN)
def chunk_counts(a):
    """Non-zeros of ``a`` (B, m) per row and chunk of ``CHUNK`` columns, and the union size.

    Returns ``(cnt, n_union)`` with ``cnt[b, c]`` the non-zeros of
    ``a[b, c*CHUNK:(c+1)*CHUNK]``. Branch-free int32 counts, so the scan vectorises.
    """
    B, m = a.shape
    nch = (m + CHUNK - 1) // CHUNK
    cnt = np.zeros((B, nch), np.int32)
    seen = np.zeros(m, np.int32)
    one = np.int32(1)
    zero = np.int32(0)
    for b in range(B):
        row = a[b]
        for c in range(nch):
            lo = c * CHUNK
            hi = min(m, lo + CHUNK)
            s = zero
            for i in range(lo, hi):
                nz = one if row[i] != 0 else zero
                s += nz
                seen[i] |= nz
            cnt[b, c] = s
    nu = 0
    for i in range(m):
        nu += seen[i]
    return cnt, nu


@nb.njit(**_PLAIN)
def block_csr(a, cnt, kb):
    """Blocked compressed-row index of the non-zeros of ``a`` (B, m).

    The columns are cut into blocks of ``kb`` (a multiple of ``CHUNK``);
    ``cnt`` comes from :func:`chunk_counts`. The non-zeros of row ``b`` in
    block ``k`` are ``cols[p], vals[p]`` (``a[b, cols[p]] = vals[p]``) for
    ``ptr[b*nblk + k] <= p < ptr[b*nblk + k + 1]``, in increasing column
    order. Filled in one sequential, branch-free pass over ``a`` (every entry
    is written, the position advances only on a non-zero; the array has one
    spare slot at the end for the last write). For a boolean ``a``, ``vals``
    is unused.
    """
    B, m = a.shape
    nch = cnt.shape[1]
    per = kb // CHUNK
    nblk = (nch + per - 1) // per
    ptr = np.empty(B * nblk + 1, np.int64)
    p = 0
    for b in range(B):
        for k in range(nblk):
            ptr[b * nblk + k] = p
            for c in range(k * per, min(nch, (k + 1) * per)):
                p += cnt[b, c]
    ptr[B * nblk] = p
    cols = np.empty(p + 1, np.int64)
    vals = np.empty(p + 1, a.dtype)
    q = 0
    for b in range(B):
        row = a[b]
        for i in range(m):
            v = row[i]
            cols[q] = i
            vals[q] = v
            q += v != 0
    return ptr, cols, vals


@nb.njit(**_DOWN)
def _axpy8_cached(vals, cols, idx, p0, p1, w, ys, c0, c1):
    """``ys += sum_{p0<=p<p1} vals[p] * w[idx[cols[p]], c0:c1]``, eight rows per pass, no prefetching.

    The blocked kernel's rows are mostly in cache (read by an earlier batch row
    of the same block), so the software prefetch of :func:`_axpy8` would only
    cost instructions. Passes of 8, then 4, 2 and 1 rows keep the number of
    loads and stores of ``ys`` small when a row has few non-zeros in a block.
    """
    L = c1 - c0
    k = p0
    while k + 8 <= p1:
        a0 = vals[k]
        a1 = vals[k + 1]
        a2 = vals[k + 2]
        a3 = vals[k + 3]
        a4 = vals[k + 4]
        a5 = vals[k + 5]
        a6 = vals[k + 6]
        a7 = vals[k + 7]
        r0 = w[idx[cols[k]], c0:c1]
        r1 = w[idx[cols[k + 1]], c0:c1]
        r2 = w[idx[cols[k + 2]], c0:c1]
        r3 = w[idx[cols[k + 3]], c0:c1]
        r4 = w[idx[cols[k + 4]], c0:c1]
        r5 = w[idx[cols[k + 5]], c0:c1]
        r6 = w[idx[cols[k + 6]], c0:c1]
        r7 = w[idx[cols[k + 7]], c0:c1]
        for j in range(L):
            ys[j] += a0 * r0[j] + a1 * r1[j] + a2 * r2[j] + a3 * r3[j] + a4 * r4[j] + a5 * r5[j] + a6 * r6[j] + a7 * r7[j]
        k += 8
    if k + 4 <= p1:
        a0 = vals[k]
        a1 = vals[k + 1]
        a2 = vals[k + 2]
        a3 = vals[k + 3]
        r0 = w[idx[cols[k]], c0:c1]
        r1 = w[idx[cols[k + 1]], c0:c1]
        r2 = w[idx[cols[k + 2]], c0:c1]
        r3 = w[idx[cols[k + 3]], c0:c1]
        for j in range(L):
            ys[j] += a0 * r0[j] + a1 * r1[j] + a2 * r2[j] + a3 * r3[j]
        k += 4
    if k + 2 <= p1:
        a0 = vals[k]
        a1 = vals[k + 1]
        r0 = w[idx[cols[k]], c0:c1]
        r1 = w[idx[cols[k + 1]], c0:c1]
        for j in range(L):
            ys[j] += a0 * r0[j] + a1 * r1[j]
        k += 2
    if k < p1:
        a0 = vals[k]
        r0 = w[idx[cols[k]], c0:c1]
        for j in range(L):
            ys[j] += a0 * r0[j]


@nb.njit(**_DOWN)
def down_blocked(ptr, cols, vals, idx, w, y, c0, c1, tile):
    """Union pass with per-element sparsity: ``y[b, c0:c1] += sum_{(b,k) non-zero} a[b,k] * w[idx[k], c0:c1]``.

    ``ptr, cols, vals`` is the blocked index of :func:`block_csr`. For each
    column tile of width ``tile`` and each block of neurons, every batch row
    accumulates its own non-zeros of the block: a row of ``w`` (its tile
    segment) comes from memory once, when the first batch row that uses it
    reads it, and from cache for the others, so the weights are streamed once
    per call while the work is only the non-zero products. Each output's sum
    runs over the blocks in order and, within a block, over its non-zeros in
    column order in passes of 8, 4, 2, 1: the same for any ``c0, c1, tile``.
    """
    B = y.shape[0]
    nblk = (ptr.shape[0] - 1) // B
    for t0 in range(c0, c1, tile):
        t1 = min(c1, t0 + tile)
        for k in range(nblk):
            for b in range(B):
                p0 = ptr[b * nblk + k]
                p1 = ptr[b * nblk + k + 1]
                if p1 > p0:
                    _axpy8_cached(vals, cols, idx, p0, p1, w, y[b, t0:t1], t0, t1)


@nb.njit(**_UP)
def up_blocked(x, w, idx, ptr, cols, out, k0, k1):
    """Masked up-projection: ``out[b, cols[p]] = w[idx[cols[p]]] · x[b]`` for the entries of blocks ``k0 <= k < k1``.

    ``ptr, cols`` is the blocked index of :func:`block_csr` built from the
    (B, m) mask of the (row, neuron) pairs to compute; other entries of ``out``
    are left untouched. A block's rows of ``w`` are read from memory by the
    first batch row that needs them and from cache by the others; four rows
    share each load of ``x[b]``. Every output is one dot product computed by
    one call, so any split of the blocks gives the same bits.
    """
    B, D = x.shape
    nblk = (ptr.shape[0] - 1) // B
    for k in range(k0, k1):
        for b in range(B):
            xb = x[b]
            p = ptr[b * nblk + k]
            p1 = ptr[b * nblk + k + 1]
            while p + 4 <= p1:
                r0 = w[idx[cols[p]]]
                r1 = w[idx[cols[p + 1]]]
                r2 = w[idx[cols[p + 2]]]
                r3 = w[idx[cols[p + 3]]]
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
                out[b, cols[p]] = s0
                out[b, cols[p + 1]] = s1
                out[b, cols[p + 2]] = s2
                out[b, cols[p + 3]] = s3
                p += 4
            while p < p1:
                r0 = w[idx[cols[p]]]
                s0 = xb[0] * 0
                for j in range(D):
                    s0 += r0[j] * xb[j]
                out[b, cols[p]] = s0
                p += 1


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


@nb.njit(**_UP)
def stream_sum(w):
    """Sum of all entries of a C-contiguous 2-D array, read once (a streaming-bandwidth probe).

    The array is cut into eight contiguous pieces read in lockstep: eight
    concurrent streams, as in the kernels and in BLAS's matrix-vector
    product (a single stream reaches only about 2/3 of the bandwidth).
    """
    f = w.reshape(-1)
    n = f.shape[0] // 8
    s = f[0] * 0
    c0 = f[0:n]
    c1 = f[n : 2 * n]
    c2 = f[2 * n : 3 * n]
    c3 = f[3 * n : 4 * n]
    c4 = f[4 * n : 5 * n]
    c5 = f[5 * n : 6 * n]
    c6 = f[6 * n : 7 * n]
    c7 = f[7 * n : 8 * n]
    for i in range(n):
        s += c0[i] + c1[i] + c2[i] + c3[i] + c4[i] + c5[i] + c6[i] + c7[i]
    for i in range(8 * n, f.shape[0]):
        s += f[i]
    return s
