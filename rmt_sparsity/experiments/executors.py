"""Executors for sweeps and ``verify``: any :class:`concurrent.futures.Executor` works.

* :func:`local_executor` - a process pool whose workers pin BLAS, Numba and XLA
  to ``threads`` threads each, so ``workers × threads`` never oversubscribes the cores.
* :func:`dask_executor` - ``distributed.Client(address).get_executor()``, or a
  ``LocalCluster`` when no address is given. On a cluster, start the workers
  with the same thread settings (e.g. ``OMP_NUM_THREADS=1 dask worker ADDR
  --nthreads 1``), or use dask-jobqueue for SLURM/PBS::

      from dask_jobqueue import SLURMCluster
      cluster = SLURMCluster(cores=1, processes=1, memory="4GB",
                             job_script_prologue=["export OMP_NUM_THREADS=1"])
      cluster.scale(jobs=16)
      with dask_executor(cluster.scheduler_address) as ex:
          Sweep(fn, grid, seeds=range(5), store="runs/x", executor=ex).run()

Work functions must be importable top-level functions (they are pickled by
reference). JAX work functions should create their PRNG key from the ``seed``
argument inside the worker; Numba work functions compile once per worker
process (``cache=True`` makes later workers load the compiled code from disk).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

from .._checks import check_int

__all__ = ["local_executor", "dask_executor", "pin_threads"]

_THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def pin_threads(threads: int = 1) -> None:
    """Pin BLAS, Numba and XLA thread pools of *this* process to ``threads``.

    Environment variables cover libraries not yet loaded; threadpoolctl and
    ``numba.set_num_threads`` cover those already loaded. XLA reads its flags
    at backend start, so call this before the first JAX computation.
    """
    threads = check_int("threads", threads, min=1)
    for var in _THREAD_ENV:
        os.environ[var] = str(threads)
    flags = os.environ.get("XLA_FLAGS", "")
    if "intra_op_parallelism_threads" not in flags:
        os.environ["XLA_FLAGS"] = (flags + f" --xla_cpu_multi_thread_eigen={'true' if threads > 1 else 'false'}"
                                   f" intra_op_parallelism_threads={threads}").strip()
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)
    import sys

    if "numba" in sys.modules:
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))


def local_executor(workers: int | None = None, *, threads: int = 1) -> ProcessPoolExecutor:
    """A process pool of ``workers`` processes (default: CPU count // threads), each pinned to ``threads``.

    Uses the ``spawn`` start method: forking a process that has started JAX
    or OpenMP threads is unsafe.

    Examples
    --------
    >>> with local_executor(1) as ex:
    ...     ex.submit(abs, -3).result()
    3
    """
    threads = check_int("threads", threads, min=1)
    if workers is None:
        workers = max(1, (os.cpu_count() or 1) // threads)
    workers = check_int("workers", workers, min=1)
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=pin_threads,
        initargs=(threads,),
    )


@contextlib.contextmanager
def dask_executor(address: str | None = None, *, workers: int = 2, threads: int = 1, timeout: str = "10s"):
    """Context manager yielding a Dask ``ClientExecutor``.

    Parameters
    ----------
    address : str, optional
        Scheduler address (``tcp://host:8786``). ``None`` starts a
        ``LocalCluster`` of ``workers`` processes with ``threads`` threads each.

    Raises
    ------
    ConnectionError
        If the scheduler cannot be reached within ``timeout`` (one line, naming the address).
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover
        raise ImportError("dask_executor needs dask.distributed: pip install 'rmt-sparsity[distributed]'") from exc
    cluster = None
    try:
        if address is None:
            workers = check_int("workers", workers, min=1)
            cluster = LocalCluster(n_workers=workers, threads_per_worker=threads, processes=True,
                                   dashboard_address=None, env={v: str(threads) for v in _THREAD_ENV})
            client = Client(cluster)
        else:
            client = Client(address, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise ConnectionError(f"cannot reach Dask scheduler {address!r}: {exc}") from None
    try:
        client.run(pin_threads, threads)
        yield client.get_executor()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
