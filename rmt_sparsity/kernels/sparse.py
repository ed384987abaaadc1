r"""Sparse feed-forward kernels: read only the active neurons' weights (Deja Vu, arXiv 2310.17157; PowerInfer, arXiv 2312.12456).

Conventions: ``W_in`` is (d_ff, d_model); ``W_out`` is
(d_model, d_ff) and the kernels take ``w_out_t = W_out^T`` of shape
(d_ff, d_model), C-contiguous, so neuron ``i``'s output weights are one
contiguous row. Inputs are one token ``(d_model,)`` or a batch of rows
``(B, d_model)``. float32 and float64 are supported; every array of one call
must share the weights' dtype (mixed dtypes raise, nothing is upcast).

All arguments are validated here, before any Numba code is imported or run.
Weights are never copied or scanned for NaN (that would cost more than the
kernel): non-finite weights propagate as they do in BLAS.
"""

from __future__ import annotations

import statistics

import numpy as np

from .._checks import check_choice, check_int, check_real, check_size_budget
from ._reference import check_activations, check_threads, check_weight, get_activation
from .threads import _STATE as _THREADS
from .threads import run_split

__all__ = ["sparse_down", "sparse_up", "sparse_ffn", "down_plan", "random_activations"]

#: Bytes of one weight row's column tile in the blocked union pass: long enough for the
#: hardware prefetcher to stream each row segment efficiently (measured on an AVX-512 Xeon,
#: 4096 x 16384 float32: tiles of 2048 columns beat 512 and 1024 at most points; 4096 helps
#: small batches, whose output tile stays small).
_TILE_BYTES = 8192
#: Block size range of the blocked union pass (neurons per block, multiples of the index's
#: 32-column chunks), see :func:`_block_size`.
_BLOCK_MIN, _BLOCK_MAX = 32, 512
#: Bytes of weight rows per block of the masked up-projection (the block stays in L2 while
#: the batch rows that need its rows read them).
_UP_BLOCK_BYTES = 256 * 1024

_ARANGE: dict[int, np.ndarray] = {}


_NB = None


def _kernels():
    """Import the Numba module on first use (importing the package compiles nothing)."""
    global _NB
    if _NB is None:
        from . import _nb

        _NB = _nb
    return _NB


def _arange(n: int) -> np.ndarray:
    a = _ARANGE.get(n)
    if a is None:
        a = _ARANGE[n] = np.arange(n, dtype=np.int64)
    return a


def _block_size(density: float) -> int:
    """Neurons per block of the union pass: about eight non-zeros per batch row and block.

    A batch row's non-zeros inside one block are accumulated 8 (then 4, 2, 1)
    rows per pass over its output tile, so a block should hold about eight of
    them; larger blocks hold more weight rows than the cache keeps. ``8/ρ``
    rounded to a power of two in [32, 512] was within the timing noise of the
    best block size at every point of the measured grid (B = 8-256, ρ = 2-50 %).
    """
    if density <= 0:
        return _BLOCK_MAX
    kb = 2 ** round(np.log2(8.0 / density))
    return int(min(_BLOCK_MAX, max(_BLOCK_MIN, kb)))


def _tile(batch: int, d_model: int, itemsize: int) -> int:
    """Columns per tile of the union pass: 8 KiB of each weight row (16 KiB for batches <= 16)."""
    nbytes = 2 * _TILE_BYTES if batch <= 16 else _TILE_BYTES
    return max(64, min(d_model, nbytes // itemsize))


def _b1_rows(nnz: int, d_ff: int, d_model: int, itemsize: int) -> bool:
    """Whether the cost model keeps one token with ``nnz`` non-zeros on the per-row path (one thread)."""
    from .plan import choose_down_path

    return choose_down_path(1, nnz, nnz, d_ff, d_model, itemsize)[0] == "rows"


def _down(a, idx, w, y, method, n, d_ff):
    """Down-projection of compact values ``a`` (B, m) on rows ``idx`` of ``w``; fills ``y``, returns the plan."""
    from .plan import choose_down_path

    nb = _kernels()
    B, m = a.shape
    d_model = w.shape[1]
    if B == 1 and method == "rows":
        # one token: no statistics, the kernel counts the non-zeros it streams
        if n == 1:
            nnz = nb.down_rows(a, idx, w, y, 0, d_model)
        else:
            nnz = run_split(lambda lo, hi: nb.down_rows(a, idx, w, y, lo, hi), d_model, n, align=64)[0]
        return {"method": "rows", "density": nnz / d_ff, "union_density": nnz / d_ff, "fill": 1.0}
    cnt, nu = nb.chunk_counts(a)
    nnz = int(cnt.sum())
    estimate = None
    if method == "auto":
        method, estimate = choose_down_path(B, nnz, nu, m, d_model, w.itemsize, threads=n)
    plan = {
        "method": method,
        "density": nnz / (B * d_ff),
        "union_density": nu / d_ff,
        "fill": nnz / (B * nu) if nu else 1.0,
    }
    if estimate is not None:
        plan["estimate_s"] = estimate
    if nnz == 0:
        return plan
    if method == "dense":
        wd = w if m == w.shape[0] else np.take(w, idx, axis=0)  # m == d_ff means idx is 0..d_ff-1
        np.matmul(a, wd, out=y)
    elif method == "rows":
        run_split(lambda lo, hi: nb.down_rows(a, idx, w, y, lo, hi), d_model, n, align=64)
    else:
        ptr, cols, vals = nb.block_csr(a, cnt, _block_size(nnz / (B * m)))
        tile = _tile(B, d_model, w.itemsize)
        run_split(lambda lo, hi: nb.down_blocked(ptr, cols, vals, idx, w, y, lo, hi, tile), d_model, n, align=64)
    return plan


def down_plan(h, d_model, *, threads=None) -> dict:
    r"""The path :func:`sparse_down` takes (``method="auto"``) for activations ``h``, and why.

    For a batch of ``B`` rows with ``nnz`` non-zeros and a union of ``|U|``
    active neurons, the densities behind the choice are

    .. math::

        \bar\rho = \frac{\mathrm{nnz}}{B\, d_{ff}}, \qquad
        u = \frac{|U|}{d_{ff}}, \qquad
        f = \frac{\mathrm{nnz}}{B\,|U|} = \frac{\bar\rho}{u},

    (for independent neurons of density ρ, :math:`u = 1-(1-\rho)^B`) and the
    path is the one with the smallest estimated time under the roofline model
    of :func:`~rmt_sparsity.kernels.plan.choose_down_path`: ``rows`` (each
    batch row streams its own active rows), ``union`` (each union row is read
    once and accumulated into every batch row where it is active) or
    ``dense`` (one BLAS product).

    Parameters
    ----------
    h : ndarray, shape (d_ff,) or (B, d_ff)
    d_model : int
        Output width (columns of ``w_out_t``).
    threads : int, optional

    Returns
    -------
    dict
        ``method``, ``density`` (ρ̄), ``union_density`` (u), ``fill`` (f) and
        ``estimate_s`` (the model's seconds per path).

    Examples
    --------
    >>> import numpy as np
    >>> h = np.zeros((64, 16384), np.float32)
    >>> h[:, ::10] = 1.0                      # rho = 10 %
    >>> down_plan(h, 4096)["method"]
    'union'
    >>> h[:, ::2] = 1.0                       # rho = 55 %
    >>> down_plan(h, 4096)["method"]
    'dense'
    """
    from .plan import choose_down_path

    h = np.asarray(h)
    if h.dtype not in (np.float32, np.float64):
        raise TypeError(f"h must hold float32 or float64 activations (as the kernels take them); got dtype {h.dtype}")
    if h.ndim not in (1, 2) or h.size == 0:
        raise ValueError(f"h must be a non-empty 1-D or 2-D array; got shape {h.shape}")
    d_model = check_int("d_model", d_model, min=1)
    n = check_threads(threads)
    a = h.reshape(1, -1) if h.ndim == 1 else h
    B, d_ff = a.shape
    mask = a != 0
    nnz = int(mask.sum())
    nu = int(mask.any(axis=0).sum())
    itemsize = a.dtype.itemsize if a.dtype.kind == "f" else 8
    method, est = choose_down_path(B, nnz, nu, d_ff, d_model, itemsize, threads=n)
    return {
        "method": method,
        "density": nnz / (B * d_ff),
        "union_density": nu / d_ff,
        "fill": nnz / (B * nu) if nu else 1.0,
        "estimate_s": est,
    }


def sparse_down(h, w_out_t, *, method="auto", threads=None, return_plan=False):
    r"""Down-projection that reads only the active neurons' weights.

    .. math::

        y_b = W_\mathrm{out} h_b = \sum_{i:\ h_{bi} \neq 0} h_{bi}\, W_\mathrm{out}^{\mathsf T}[i, :]

    At activation density ρ the kernel reads ρ·d_ff rows of ``w_out_t``
    (contiguous, d_model each), eight rows per pass over ``y``; at batch 1 its
    ideal speed-up over a dense (memory-bound) matvec is 1/ρ.

    For a batch, ``method="auto"`` picks one of three paths with the cost
    model of :func:`down_plan`:

    * ``"rows"``: every batch row streams its own active rows (best at batch 1);
    * ``"union"``: the rows of ``w_out_t`` active in any batch row are read
      once per column tile, and each is accumulated into every batch row
      where that neuron is active (a blocked compressed-row index of ``h``,
      built once per call), so the weights are streamed once and the work is
      only the ``nnz · d_model`` useful products;
    * ``"dense"``: one BLAS product ``h @ w_out_t`` (high densities).

    Parameters
    ----------
    h : ndarray, shape (d_ff,) or (B, d_ff)
        Post-activation values; exact zeros are skipped. Same dtype as
        ``w_out_t``, C-contiguous.
    w_out_t : ndarray, shape (d_ff, d_model)
        ``W_out^T``, C-contiguous, float32 or float64.
    method : {"auto", "rows", "union", "dense"}
        Force a path (``auto`` applies :func:`down_plan`'s cost model).
    threads : int, optional
        Threads splitting the output columns (default
        :func:`~rmt_sparsity.kernels.get_kernel_threads`, 1 unless set). The
        sparse paths give the same bits for every thread count: each output's
        sum runs over the same non-zeros in the same order. BLAS (``dense``)
        uses its own thread setting (pin it with :func:`kernel_threads`).
    return_plan : bool
        Also return the plan dict (method, density, union density, fill).

    Returns
    -------
    y : ndarray, shape (d_model,) or (B, d_model)
    plan : dict, only if ``return_plan``

    References
    ----------
    Activation-sparse inference: Liu et al., "Deja Vu", arXiv 2310.17157;
    Song et al., "PowerInfer", arXiv 2312.12456.

    Examples
    --------
    >>> import numpy as np
    >>> w_out_t = np.arange(12.0).reshape(4, 3)           # d_ff = 4, d_model = 3
    >>> sparse_down(np.array([0.0, 2.0, 0.0, 1.0]), w_out_t)
    array([15., 18., 21.])
    """
    # Hot path (one token, defaults, one thread): the same checks as below, inlined, because
    # Python overhead is paid with cold caches right after streaming the weights (measured
    # ~80 us through the general path vs ~25 us for the bare kernel at d_ff = 16384).
    if (
        type(h) is np.ndarray
        and type(w_out_t) is np.ndarray
        and h.ndim == 1
        and w_out_t.ndim == 2
        and threads is None
        and not return_plan
        and method == "auto"
        and _THREADS["threads"] == 1
        and _NB is not None
        and h.dtype is w_out_t.dtype
        and h.dtype.char in "fd"
        and h.shape[0] == w_out_t.shape[0]
        and w_out_t.size
        and h.flags.c_contiguous
        and w_out_t.flags.c_contiguous
        and _b1_rows(np.count_nonzero(h), h.shape[0], w_out_t.shape[1], h.dtype.itemsize)
    ):
        return _NB.down_vec(h, w_out_t)
    w = check_weight("w_out_t", w_out_t)
    d_ff, d_model = w.shape
    h = check_activations("h", h, w.dtype, d_ff, "d_ff", "w_out_t")
    method = check_choice("method", method, ("auto", "rows", "union", "dense"))
    n = check_threads(threads)
    a = h.reshape(1, -1) if h.ndim == 1 else h
    y = np.zeros((a.shape[0], d_model), w.dtype)
    plan = _down(a, _arange(d_ff), w, y, method, n, d_ff)
    out = y[0] if h.ndim == 1 else y
    return (out, plan) if return_plan else out


def _check_index(name: str, idx, d_ff: int) -> np.ndarray:
    arr = np.asarray(idx)
    if arr.dtype.kind not in "iu":
        raise TypeError(
            f"{name} must hold integer neuron indices; got dtype {arr.dtype}"
            + (" (for a boolean mask pass np.flatnonzero(mask))" if arr.dtype.kind == "b" else "")
        )
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got shape {arr.shape}")
    if arr.size and (int(arr.min()) < 0 or int(arr.max()) >= d_ff):
        raise ValueError(
            f"{name} must lie in [0, d_ff) = [0, {d_ff}); got values in [{int(arr.min())}, {int(arr.max())}]"
        )
    return np.ascontiguousarray(arr, dtype=np.int64)


def sparse_up(x, w_in, active_idx, *, mask=None, threads=None):
    r"""Up-projection restricted to selected neurons: only the rows ``active_idx`` of ``W_in`` are read.

    .. math::

        h_{b,k} = m_{b,k} \sum_j W_\mathrm{in}[\mathrm{idx}_k, j]\, x_{b,j}, \qquad k = 0, \dots, |\mathrm{idx}|-1

    with :math:`m_{b,k} = 1` without a ``mask``. Pairs with a predictor of the
    active set (:class:`LowRankPredictor`), so that the whole FFN approaches
    the ideal speed-up 1/ρ rather than 2/(1+ρ). For a batch, ``active_idx`` is
    the union of the rows' predicted sets and ``mask`` says which neurons each
    row needs: only those dot products are computed (a blocked compressed-row
    index of the mask, built once per call; a block of ``W_in`` rows is read
    from memory once and reused from cache by every batch row that needs it),
    and the other entries are 0.

    Parameters
    ----------
    x : ndarray, shape (d_model,) or (B, d_model)
    w_in : ndarray, shape (d_ff, d_model)
        C-contiguous, same dtype as ``x``.
    active_idx : array_like of int, shape (m,)
        Neuron indices in ``[0, d_ff)`` (any order; may be empty).
    mask : array_like of bool, shape (m,) or (B, m), optional
        Entries to compute (per batch row); the others are set to 0.
    threads : int, optional
        Threads splitting the neurons (each output is one dot product computed
        by one thread, so any thread count gives the same bits).

    Returns
    -------
    ndarray, shape (m,) or (B, m)
        Pre-activations of the selected neurons, without bias.

    References
    ----------
    Liu et al., "Deja Vu", arXiv 2310.17157 (predicted up-projection).

    Examples
    --------
    >>> import numpy as np
    >>> w_in = np.arange(8.0).reshape(4, 2)
    >>> sparse_up(np.array([1.0, 1.0]), w_in, [3, 0])
    array([13.,  1.])
    >>> sparse_up(np.ones((2, 2)), w_in, [3, 0], mask=[[True, False], [True, True]])
    array([[13.,  0.],
           [13.,  1.]])
    """
    w = check_weight("w_in", w_in)
    d_ff, d_model = w.shape
    x = check_activations("x", x, w.dtype, d_model, "d_model", "w_in")
    idx = _check_index("active_idx", active_idx, d_ff)
    n = check_threads(threads)
    x2 = x.reshape(1, -1) if x.ndim == 1 else x
    if mask is None:
        out = _up(x2, w, idx, n)
    else:
        mask = np.asarray(mask)
        if mask.dtype != np.bool_:
            raise TypeError(f"mask must be a boolean array; got dtype {mask.dtype}")
        if mask.shape != x.shape[:-1] + idx.shape:
            raise ValueError(
                f"mask must have shape {x.shape[:-1] + idx.shape} (rows of x, len(active_idx)); got {mask.shape}"
            )
        out = _up_masked(x2, w, idx, np.ascontiguousarray(mask.reshape(x2.shape[0], -1)), n)
    return out[0] if x.ndim == 1 else out


def _up(x2, w, idx, n):
    out = np.empty((x2.shape[0], idx.shape[0]), w.dtype)
    if idx.shape[0]:
        nb = _kernels()
        run_split(lambda lo, hi: nb.up_rows(x2, w, idx, out, lo, hi), idx.shape[0], n, align=4)
    return out


def _up_masked(x2, w, idx, mask, n):
    """``_up`` computing only the entries where ``mask`` (B, m) is True; the others are 0."""
    out = np.zeros((x2.shape[0], idx.shape[0]), w.dtype)
    if mask.any():
        nb = _kernels()
        cnt, _ = nb.chunk_counts(mask)
        kb = nb.CHUNK * max(1, min(8, _UP_BLOCK_BYTES // (nb.CHUNK * w.shape[1] * w.itemsize)))
        ptr, cols, _ = nb.block_csr(mask, cnt, kb)
        nblk = -(-idx.shape[0] // kb)
        run_split(lambda lo, hi: nb.up_blocked(x2, w, idx, ptr, cols, out, lo, hi), nblk, n)
    return out


def _stat_theta(h, k: int):
    r"""Private copy of the statistical top-k threshold (Spark Transformer, arXiv 2506.06644).

    θ = mean(h) + std(h)·Φ⁻¹(1 − k/d) per row, population std (ddof = 0). The
    public, documented version lives in :mod:`rmt_sparsity.metrics`; the kernel
    path keeps its own two-line copy so that importing the kernels does not
    depend on the metrics package. ``k = d`` gives θ = -inf (no shift).
    """
    d = h.shape[-1]
    if k >= d:
        return None
    z = statistics.NormalDist().inv_cdf(1.0 - k / d)
    return h.mean(axis=-1, keepdims=True) + h.std(axis=-1, keepdims=True) * h.dtype.type(z)


def sparse_ffn(
    x,
    w_in,
    b_in,
    w_out_t,
    activation,
    *,
    threshold=None,
    topk=None,
    statistical_topk=None,
    predictor=None,
    threads=None,
    return_info=False,
):
    r"""Fused sparse FFN forward: dense or predicted up-projection, activation, sparse down-projection.

    .. math::

        y = W_\mathrm{out}\, s\big(\sigma(W_\mathrm{in} x + b_\mathrm{in})\big)

    where ``s`` is the optional sparsifier (at most one of):

    * ``threshold=t``: keep entries with ``|σ(h_i)| > t`` (training-free thresholding);
    * ``topk=k``: keep the ``k`` largest ``|σ(h_i)|`` per row (ties broken by ``np.argpartition``, deterministically);
    * ``statistical_topk=k``: replace ``σ(h)`` by ``σ(h − θ)`` with
      θ = mean(h) + std(h)·Φ⁻¹(1 − k/d_ff) per row (population std; Spark
      Transformer, arXiv 2506.06644; keeps about k on Gaussian rows).

    Without a ``predictor`` the up-projection is a dense BLAS product, so the
    whole FFN's ideal speed-up is 2/(1+ρ). With a ``predictor``
    (:class:`LowRankPredictor`) only the predicted rows of ``W_in`` are read
    (:func:`sparse_up`); a neuron outside a row's prediction is treated as
    inactive in that row, so the result is exact whenever the predictor's
    recall is 1 on that input. For a batch, each row computes only its own
    predicted neurons and the rows of ``W_in`` in the union of the
    predictions are read once, when the cost model
    (:func:`~rmt_sparsity.kernels.plan.choose_up_path`) says that beats dense
    BLAS; otherwise the up-projection is dense (and exact) and the predictor
    is not used.

    Parameters
    ----------
    x : ndarray, shape (d_model,) or (B, d_model)
    w_in : ndarray, shape (d_ff, d_model)
    b_in : ndarray, shape (d_ff,), or None
    w_out_t : ndarray, shape (d_ff, d_model)
        ``W_out^T``, C-contiguous.
    activation : {"relu", "relu2", "jsrelu"} or callable
        Must map non-positive inputs to 0 for the output to be sparse.
    threshold : float >= 0, optional
    topk : int in [1, d_ff], optional
    statistical_topk : int in [1, d_ff], optional
        Not combinable with ``predictor`` (it needs every pre-activation).
    predictor : LowRankPredictor, optional
    threads : int, optional
        Kernel threads; BLAS follows its own setting, so pin both with
        :func:`kernel_threads`.
    return_info : bool
        Also return a dict: ``method``, ``density``, ``union_density``,
        ``fill``, ``n_up`` (rows of ``W_in`` read), ``up_density`` (the
        fraction of the B·d_ff pre-activations computed) and ``up_path``
        (``"dense"``, ``"predicted"`` for one token, ``"masked"`` for a batch).

    Returns
    -------
    y : ndarray, shape (d_model,) or (B, d_model)
    info : dict, only if ``return_info``

    References
    ----------
    Liu et al., arXiv 2310.17157; Lee et al. (CATS), arXiv 2404.08763.

    Examples
    --------
    >>> import numpy as np
    >>> from rmt_sparsity.kernels import ffn_dense
    >>> rng = np.random.default_rng(0)
    >>> w_in = rng.standard_normal((16, 4)); w_out_t = rng.standard_normal((16, 4))
    >>> x = rng.standard_normal(4)
    >>> y = sparse_ffn(x, w_in, None, w_out_t, "relu")
    >>> bool(np.allclose(y, ffn_dense(x, w_in, None, w_out_t.T, "relu")))
    True
    >>> y2, info = sparse_ffn(x, w_in, None, w_out_t, "relu", topk=2, return_info=True)
    >>> info["density"]
    0.125
    """
    wi = check_weight("w_in", w_in)
    wo = check_weight("w_out_t", w_out_t)
    d_ff, d_model = wi.shape
    if wo.shape != wi.shape:
        raise ValueError(
            f"w_out_t must have shape (d_ff, d_model) = {wi.shape} like w_in (it is W_out transposed); got {wo.shape}"
        )
    if wo.dtype != wi.dtype:
        raise TypeError(f"w_in and w_out_t must share one dtype; got {wi.dtype} and {wo.dtype}")
    dt = wi.dtype
    x = check_activations("x", x, dt, d_model, "d_model", "w_in")
    if b_in is not None:
        if not isinstance(b_in, np.ndarray) or b_in.dtype != dt:
            raise TypeError(f"b_in must be None or an ndarray of dtype {dt}; got {getattr(b_in, 'dtype', type(b_in))}")
        if b_in.shape != (d_ff,):
            raise ValueError(f"b_in must have shape (d_ff,) = ({d_ff},); got {b_in.shape}")
    act = get_activation(activation)
    given = [name for name, v in (("threshold", threshold), ("topk", topk), ("statistical_topk", statistical_topk)) if v is not None]
    if len(given) > 1:
        raise ValueError(f"pass at most one of threshold, topk, statistical_topk; got {', '.join(given)}")
    if threshold is not None:
        threshold = check_real("threshold", threshold, lo=0.0)
    if topk is not None:
        topk = check_int("topk", topk, min=1, max=d_ff)
    if statistical_topk is not None:
        statistical_topk = check_int("statistical_topk", statistical_topk, min=1, max=d_ff)
        if predictor is not None:
            raise ValueError("statistical_topk needs every pre-activation and cannot be combined with predictor")
    if predictor is not None:
        from .predictor import LowRankPredictor

        if not isinstance(predictor, LowRankPredictor):
            raise TypeError(f"predictor must be a LowRankPredictor; got {type(predictor).__name__}")
        if (predictor.d_ff, predictor.d_model) != (d_ff, d_model):
            raise ValueError(
                f"predictor was fitted for (d_ff, d_model) = {(predictor.d_ff, predictor.d_model)}; "
                f"the weights have {(d_ff, d_model)}"
            )
    n = check_threads(threads)

    x2 = x.reshape(1, -1) if x.ndim == 1 else x
    row_mask = None
    up_path = "dense"
    up_pairs = x2.shape[0] * d_ff
    if predictor is not None:
        pred_mask = predictor.predict_mask(x2)  # (B, d_ff)
        if x2.shape[0] == 1:
            up_path = "predicted"
            idx = np.flatnonzero(pred_mask[0]).astype(np.int64)
            h = _up(x2, wi, idx, n)
            up_pairs = idx.shape[0]
        else:
            from .plan import choose_up_path

            keep = pred_mask.any(axis=0)
            nnz_pred = int(np.count_nonzero(pred_mask))
            if choose_up_path(x2.shape[0], nnz_pred, int(keep.sum()), d_ff, d_model, dt.itemsize, threads=n)[0] == "masked":
                # each row computes only its own predicted neurons, over the union of the rows' predictions
                up_path = "masked"
                idx = np.flatnonzero(keep).astype(np.int64)
                row_mask = np.ascontiguousarray(pred_mask[:, idx])
                h = _up_masked(x2, wi, idx, row_mask, n)
                up_pairs = nnz_pred
        if up_path != "dense" and b_in is not None:
            h += b_in[idx]
    if up_path == "dense":
        idx = _arange(d_ff)
        # BLAS in the layout OpenBLAS runs fastest at small batches: W_in (d_ff, d_model) row-major on the left
        h = x2 @ wi.T if x2.shape[0] == 1 else (wi @ x2.T).T
        if b_in is not None:
            h += b_in
        if statistical_topk is not None:
            theta = _stat_theta(h, statistical_topk)
            if theta is not None:
                h -= theta
    a = act(h)
    if not isinstance(a, np.ndarray) or a.shape != h.shape or a.dtype != dt:
        raise TypeError(f"activation must return an array of shape {h.shape} and dtype {dt}")
    if row_mask is not None:
        a *= row_mask  # a neuron outside a row's prediction is inactive in that row
    if threshold is not None:
        a[np.abs(a) <= threshold] = 0
    if topk is not None and topk < a.shape[1]:
        # NaN ranks first (as the largest magnitude), so it propagates as it does through ffn_dense
        key = -np.abs(a)
        key[np.isnan(key)] = -np.inf
        drop = np.argpartition(key, topk - 1, axis=1)[:, topk:]
        np.put_along_axis(a, drop, 0, axis=1)
    a = np.ascontiguousarray(a)
    y = np.zeros((x2.shape[0], d_model), dt)
    info = _down(a, idx, wo, y, "auto", n, d_ff)
    info["n_up"] = int(idx.shape[0])
    info["up_density"] = up_pairs / (x2.shape[0] * d_ff)
    info["up_path"] = up_path
    out = y[0] if x.ndim == 1 else y
    return (out, info) if return_info else out



def random_activations(batch, d_ff, density, *, dtype=np.float32, rng=None):
    r"""Random post-activation rows with a fresh Bernoulli(density) active set each call.

    Entry ``(b, i)`` is ``|g_{bi}|`` with ``g ~ N(0, 1)`` when neuron ``i`` is
    active in row ``b`` (probability ``density``, independently) and 0
    otherwise, so the expected union density of a batch of ``B`` rows is
    ``1 - (1 - density)^B``.

    Parameters
    ----------
    batch : int or None
        Rows B (>= 1); ``None`` returns one 1-D row.
    d_ff : int
    density : float in [0, 1]
    dtype : {numpy.float32, numpy.float64}
    rng : None, int or numpy.random.Generator

    Examples
    --------
    >>> a = random_activations(4, 1000, 0.1, rng=0)
    >>> a.shape, a.dtype
    ((4, 1000), dtype('float32'))
    >>> 0.05 < float((a != 0).mean()) < 0.15
    True
    """
    from .._rng import as_generator

    d_ff = check_int("d_ff", d_ff, min=1)
    if batch is not None:
        batch = check_int("batch", batch, min=1)
    density = check_real("density", density, lo=0.0, hi=1.0)
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype must be float32 or float64; got {dtype!r}") from exc
    if dt not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64; got {dt}")
    # the mask, the float64 magnitudes and the output
    check_size_budget("batch, d_ff", (batch, d_ff), nbytes=(1 if batch is None else batch) * d_ff * (1 + 8 + dt.itemsize),
                      what="the activations")
    gen = as_generator(rng)
    shape = (1 if batch is None else batch, d_ff)
    mask = gen.random(shape) < density
    vals = np.abs(gen.standard_normal(shape, dtype=np.float64)).astype(dt)
    out = np.where(mask, vals, dt.type(0))
    return out[0] if batch is None else out
