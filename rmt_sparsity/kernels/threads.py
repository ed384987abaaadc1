"""Explicit thread counts for the sparse kernels and for BLAS (no oversubscription).

The Numba kernels are serial and release the GIL; a kernel call with
``threads = n > 1`` splits its column range (or its selected rows) over a
private pool of ``n`` Python threads. BLAS calls inside
:func:`~rmt_sparsity.kernels.sparse_ffn` run *between* kernel calls, never at the
same time, so the two never compete for cores as long as BLAS itself is
limited to the same ``n``: :func:`kernel_threads` sets both (and Numba's own
``numba.set_num_threads`` for any ``prange`` code elsewhere), and restores them
on exit.
"""

from __future__ import annotations

import contextlib
import threading

from .._checks import check_int

__all__ = ["get_kernel_threads", "set_kernel_threads", "kernel_threads", "MAX_THREADS"]

#: Most threads one kernel call, BLAS or Numba may be given (more would only add pool overhead).
MAX_THREADS = 1024

_STATE = {"threads": 1}
_POOL = {"n": 0, "pool": None}
_LOCK = threading.Lock()


def get_kernel_threads() -> int:
    """The thread count used by kernel calls that pass ``threads=None`` (1 unless set).

    Examples
    --------
    >>> get_kernel_threads() >= 1
    True
    """
    return _STATE["threads"]


def set_kernel_threads(n: int) -> int:
    """Set the default kernel thread count; returns the previous value.

    This does not touch BLAS; use :func:`kernel_threads` to pin both.

    Examples
    --------
    >>> old = set_kernel_threads(1)
    >>> _ = set_kernel_threads(old)
    """
    n = check_int("n", n, min=1, max=MAX_THREADS)
    old = _STATE["threads"]
    _STATE["threads"] = n
    return old


@contextlib.contextmanager
def kernel_threads(n: int, *, blas: bool = True, numba: bool = True):
    """Pin the kernel threads, BLAS threads (threadpoolctl) and Numba threads to ``n`` inside a block.

    Parameters
    ----------
    n : int
        Threads for each library, in ``[1, MAX_THREADS]``. ``n`` larger than Numba's
        ``NUMBA_NUM_THREADS`` is clipped for Numba only.
    blas, numba : bool
        Also limit BLAS (via :mod:`threadpoolctl`) / Numba's thread count.

    Examples
    --------
    >>> with kernel_threads(1):
    ...     get_kernel_threads()
    1
    """
    n = check_int("n", n, min=1, max=MAX_THREADS)
    old = set_kernel_threads(n)
    stack = contextlib.ExitStack()
    try:
        if blas:
            from threadpoolctl import threadpool_limits

            stack.enter_context(threadpool_limits(limits=n, user_api="blas"))
        if numba:
            import numba as _nb

            prev = _nb.get_num_threads()
            _nb.set_num_threads(min(n, _nb.config.NUMBA_NUM_THREADS))
            stack.callback(_nb.set_num_threads, prev)
        with stack:
            yield n
    finally:
        set_kernel_threads(old)


def _pool(n: int):
    """A shared ThreadPoolExecutor with at least ``n`` workers (created on first multi-threaded call)."""
    from concurrent.futures import ThreadPoolExecutor

    with _LOCK:
        if _POOL["pool"] is None or _POOL["n"] < n:
            if _POOL["pool"] is not None:
                _POOL["pool"].shutdown(wait=False)
            _POOL["pool"] = ThreadPoolExecutor(max_workers=n, thread_name_prefix="rmt-kernels")
            _POOL["n"] = n
        return _POOL["pool"]


def run_split(fn, total: int, n: int, align: int = 1):
    """Call ``fn(lo, hi)`` on ``n`` contiguous pieces of ``range(total)`` (in parallel when ``n > 1``).

    Returns the list of the calls' results, in piece order.

    Piece boundaries are multiples of ``align`` (cache-line alignment of output columns).
    """
    n = max(1, min(n, -(-total // align)))
    if n == 1:
        return [fn(0, total)]
    step = -(-total // n)
    step = -(-step // align) * align
    bounds = [(lo, min(total, lo + step)) for lo in range(0, total, step)]
    futs = [_pool(n).submit(fn, lo, hi) for lo, hi in bounds[1:]]
    first = fn(*bounds[0])
    return [first] + [f.result() for f in futs]
