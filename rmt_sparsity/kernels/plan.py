r"""Which path a sparse down-projection takes: a roofline cost model of the three candidates.

For activations ``a`` of shape (B, m) (B batch rows over m neurons, ``nnz``
non-zeros, ``|U|`` neurons active in at least one row) and weights of
``d_model`` columns, the model estimates the time of

* ``rows``: every batch row streams its own active rows of ``W_out^T``
  (rows shared by several batch rows are read several times);
* ``union``: the blocked pass, which reads each union row once (per column
  tile) and accumulates it into every batch row where that neuron is active;
* ``dense``: one BLAS product over all m neurons,

as roofline times (bytes over the streaming bandwidth, flops over a compute
rate, whichever is larger) and picks the smallest. ``dense`` wins ties and
must be beaten by a margin (:attr:`CostModel.margin`), because a wrong sparse
choice can cost more than a wrong dense one.

The constants were fitted to single-core timings of the three paths on an
x86-64 server core with AVX-512 and OpenBLAS (Intel Xeon, 2.8 GHz, one thread,
4096×16384 float32, batches 1-256, densities 2-50 %, on a shared machine);
only their ratios matter for the choice. Other machines may move the
crossover; :meth:`CostModel.replace` gives a model with other constants for
:func:`choose_down_path` and :func:`crossover_density`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

from .._checks import check_int, check_real

__all__ = ["CostModel", "DEFAULT_COST_MODEL", "choose_down_path", "choose_up_path", "crossover_density"]


@dataclass(frozen=True)
class CostModel:
    r"""Machine constants of the down-projection cost model (one core; see :func:`choose_down_path`).

    Attributes
    ----------
    bandwidth : float
        Streaming read bandwidth of one core, bytes/s.
    gemm_flops : float
        Dense BLAS rate at large batch, flop/s, for ``a @ w_out_t``.
    gemm_half_batch : float
        Batch :math:`B_{1/2}` at which BLAS reaches half of ``gemm_flops``:
        its rate at batch B is ``gemm_flops * B / (B + B_half)``.
    sparse_flops : float
        Rate of the blocked union pass's useful products, flop/s (each
        product needs its own weight load, from cache, so this is a fraction
        of ``gemm_flops``).
    rows_efficiency, union_efficiency : float
        Fraction of ``bandwidth`` that the per-row and union paths reach when
        memory-bound.
    gemm_efficiency : float
        The same for dense BLAS at batch > 1 in the kernels' layout
        (``a @ w_out_t``): OpenBLAS packs ``w_out_t`` into its own layout
        first, a copy that costs about 1.5 more passes over the weights.
    gemv_efficiency : float
        The same for the batch-1 BLAS matrix-vector product (no packing).
    gemm_fast_efficiency, gemm_fast_half_batch : float
        Bandwidth fraction and half-rate batch of BLAS in its fast layout,
        ``(W @ x^T)^T`` with ``W`` (out, in) row-major, which the FFN's dense
        up-projection uses (no packing copy, efficient from small batches on).
    up_flops : float
        Rate of the masked up-projection's dot products (one weight load per
        multiply-add and a reduction per dot product), flop/s.
    index_seconds : float
        Cost per entry of ``a`` of one scan (counting, or building the index).
    margin : float
        A sparse path is chosen only if its estimated time is below
        ``dense / (1 + margin)``: near the crossover a wrong sparse choice
        costs more than a wrong dense one.
    """

    bandwidth: float = 7.0e9
    gemm_flops: float = 110.0e9
    gemm_half_batch: float = 48.0
    sparse_flops: float = 20.0e9
    rows_efficiency: float = 0.85
    union_efficiency: float = 0.8
    gemm_efficiency: float = 0.4
    gemv_efficiency: float = 0.9
    gemm_fast_efficiency: float = 0.75
    gemm_fast_half_batch: float = 16.0
    up_flops: float = 7.0e9
    index_seconds: float = 1.0e-9
    margin: float = 0.15

    def __post_init__(self):
        for f in fields(self):
            name = f.name
            if name.endswith("_efficiency"):
                v = check_real(name, getattr(self, name), lo=0.0, hi=1.0, lo_open=True)
            elif name in ("margin", "index_seconds") or name.endswith("_half_batch"):
                v = check_real(name, getattr(self, name), lo=0.0)
            else:  # bandwidth and flop rates
                v = check_real(name, getattr(self, name), lo=0.0, lo_open=True)
            object.__setattr__(self, name, v)

    def replace(self, **changes) -> "CostModel":
        """A copy with some constants changed."""
        return replace(self, **changes)

    def as_dict(self) -> dict:
        return asdict(self)


DEFAULT_COST_MODEL = CostModel()


def _check_plan(batch, nnz, n_union, width, width_name, d_model, itemsize, threads, model):
    """Validate the planners' arguments (the sizes may be expected counts, so nnz and n_union are reals)."""
    from .threads import MAX_THREADS

    batch = check_int("batch", batch, min=1)
    width = check_int(width_name, width, min=1)
    d_model = check_int("d_model", d_model, min=1)
    nnz = check_real("nnz", nnz, lo=0.0, hi=float(batch) * width)
    n_union = check_real("n_union", n_union, lo=0.0, hi=float(width))
    itemsize = check_int("itemsize", itemsize, min=1, max=16)
    threads = check_int("threads", threads, min=1, max=MAX_THREADS)
    if model is None:
        model = DEFAULT_COST_MODEL
    elif not isinstance(model, CostModel):
        raise TypeError(f"model must be a CostModel or None; got {type(model).__name__}")
    return batch, nnz, n_union, width, d_model, itemsize, threads, model


def _times(batch, nnz, n_union, m, d_model, itemsize, threads, model: CostModel) -> dict:
    row_bytes = d_model * itemsize
    bw = model.bandwidth
    scan = batch * m * model.index_seconds
    rows = nnz * row_bytes / (bw * model.rows_efficiency) + scan
    mem_u = n_union * row_bytes / (bw * model.union_efficiency)
    cpu_u = 2.0 * nnz * d_model / (model.sparse_flops * threads)
    # memory and compute overlap, but not perfectly: add a quarter of the smaller term
    union = max(mem_u, cpu_u) + 0.25 * min(mem_u, cpu_u) + 2 * scan
    if batch == 1:  # matrix-vector product: memory-bound
        dense = m * row_bytes / (bw * model.gemv_efficiency)
    else:
        mem_d = m * row_bytes / (bw * model.gemm_efficiency)
        rate = model.gemm_flops * threads * batch / (batch + model.gemm_half_batch)
        cpu_d = 2.0 * batch * m * d_model / rate
        dense = max(mem_d, cpu_d) + 0.25 * min(mem_d, cpu_d)
    return {"rows": rows, "union": union, "dense": dense}


def choose_down_path(batch, nnz, n_union, m, d_model, itemsize, *, threads=1, model=None):
    r"""Estimated times of the three down-projection paths and the chosen one.

    .. math::

        t_\mathrm{rows} &= \frac{\mathrm{nnz}\, d\, s}{e_r\, \beta} + c\,Bm, \qquad
        t_\mathrm{union} = \max(M_u, C_u) + \tfrac14 \min(M_u, C_u) + 2c\,Bm, \\
        M_u &= \frac{|U|\, d\, s}{e_u\, \beta}, \quad C_u = \frac{2\,\mathrm{nnz}\, d}{n\, P_s}, \qquad
        t_\mathrm{dense} = \max(M_d, C_d) + \tfrac14 \min(M_d, C_d), \\
        M_d &= \frac{m\, d\, s}{e_d\, \beta}, \quad
        C_d = \frac{2 B m d}{n\, P_g\, B / (B + B_{1/2})}\ (B > 1;\ t_\mathrm{dense} = M_d \text{ at } B = 1),

    with ``d = d_model``, ``s`` the item size in bytes, β the bandwidth,
    ``n`` threads, ``c`` the scan cost per entry, :math:`e_d` the GEMV or
    GEMM efficiency (batch 1 or more) and the other constants of
    :class:`CostModel`. A sparse path is
    chosen when its time is below :math:`t_\mathrm{dense}/(1+\text{margin})`,
    the faster sparse path if both are; at ``batch = 1`` the union and rows
    paths coincide and ``rows`` is used.

    Parameters
    ----------
    batch, nnz, n_union, m, d_model, itemsize : int
        Batch rows, non-zeros, union size, neurons (columns of ``a``),
        output width, bytes per weight.
    threads : int
    model : CostModel, optional

    Returns
    -------
    (str, dict)
        The path and the estimated seconds of each path.

    Examples
    --------
    >>> choose_down_path(64, 64 * 1638, 16384, 16384, 4096, 4)[0]   # rho = 10 %
    'union'
    >>> choose_down_path(64, 64 * 8192, 16384, 16384, 4096, 4)[0]   # rho = 50 %
    'dense'
    >>> choose_down_path(1, 1638, 1638, 16384, 4096, 4)[0]
    'rows'
    """
    batch, nnz, n_union, m, d_model, itemsize, threads, model = _check_plan(
        batch, nnz, n_union, m, "m", d_model, itemsize, threads, model)
    t = _times(batch, nnz, n_union, m, d_model, itemsize, threads, model)
    if nnz == 0:
        return "rows", t
    sparse = "rows" if (batch == 1 or t["rows"] <= t["union"]) else "union"
    if t[sparse] * (1.0 + model.margin) < t["dense"]:
        return sparse, t
    return "dense", t


def crossover_density(batch, d_model, d_ff, itemsize=4, *, threads=1, model=None):
    r"""Density above which the model switches to dense BLAS, for independent neurons.

    With every neuron active independently with probability ρ, a batch of B
    rows has ``nnz = ρ B d_ff`` and union ``(1 - (1-ρ)^B) d_ff``; the
    crossover is the smallest ρ on a fine logarithmic grid in [1e-4, 1] where
    :func:`choose_down_path` picks ``dense`` (``1.0`` if it never does).

    Examples
    --------
    >>> 0.2 < crossover_density(64, 4096, 16384) < 1
    True
    """
    batch, _, _, d_ff, d_model, itemsize, threads, model = _check_plan(
        batch, 0, 0, d_ff, "d_ff", d_model, itemsize, threads, model)
    for k in range(401):
        rho = 10 ** (-4 + k / 100)
        nnz = rho * batch * d_ff
        nu = (1.0 - (1.0 - rho) ** batch) * d_ff
        if choose_down_path(batch, nnz, nu, d_ff, d_model, itemsize, threads=threads, model=model)[0] == "dense":
            return float(rho)
    return 1.0


def choose_up_path(batch, nnz, n_union, d_ff, d_model, itemsize, *, threads=1, model=None):
    r"""Masked sparse up-projection or dense BLAS, for a batch with a predicted active set.

    The masked path (:func:`~rmt_sparsity.kernels.sparse_up` with ``mask``)
    computes the ``nnz`` predicted pre-activations and reads the ``|U|``
    union rows of ``W_in``; dense BLAS computes all ``B·d_ff`` of them in its
    fast layout:

    .. math::

        t_\mathrm{masked} = \max(M, C) + \tfrac14\min(M, C) + c\,B d_{ff}, \quad
        M = \frac{|U|\, d\, s}{e_u \beta}, \ C = \frac{2\,\mathrm{nnz}\, d}{n P_\mathrm{up}}, \qquad
        t_\mathrm{dense} = \max(M_f, C_f) + \tfrac14\min(M_f, C_f),

    with :math:`M_f = d_{ff}\, d\, s/(e_f\beta)` and
    :math:`C_f = 2 B d_{ff} d / (n P_g B/(B + B_f))` (the ``gemm_fast_*``
    constants of :class:`CostModel`). ``masked`` is chosen when
    :math:`t_\mathrm{masked}(1 + \text{margin}) < t_\mathrm{dense}`.

    Returns
    -------
    (str, dict)
        ``"masked"`` or ``"dense"``, and the estimated seconds of both.

    Examples
    --------
    >>> choose_up_path(8, 8 * 1600, 9000, 16384, 4096, 4)[0]        # 10 % predicted, batch 8
    'masked'
    >>> choose_up_path(64, 64 * 5000, 16384, 16384, 4096, 4)[0]     # 30 % predicted, batch 64
    'dense'
    """
    batch, nnz, n_union, d_ff, d_model, itemsize, threads, model = _check_plan(
        batch, nnz, n_union, d_ff, "d_ff", d_model, itemsize, threads, model)
    row_bytes = d_model * itemsize
    bw = model.bandwidth
    mem = n_union * row_bytes / (bw * model.union_efficiency)
    cpu = 2.0 * nnz * d_model / (model.up_flops * threads)
    masked = max(mem, cpu) + 0.25 * min(mem, cpu) + batch * d_ff * model.index_seconds
    mem_d = d_ff * row_bytes / (bw * model.gemm_fast_efficiency)
    rate = model.gemm_flops * threads * batch / (batch + model.gemm_fast_half_batch)
    cpu_d = 2.0 * batch * d_ff * d_model / rate
    dense = max(mem_d, cpu_d) + 0.25 * min(mem_d, cpu_d)
    t = {"masked": masked, "dense": dense}
    return ("masked" if masked * (1.0 + model.margin) < dense else "dense"), t
