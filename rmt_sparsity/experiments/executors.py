"""Executors for sweeps and ``verify``: any :class:`concurrent.futures.Executor` works.

* :func:`local_executor` - a reusable process pool (loky) whose workers pin BLAS,
  Numba and XLA to ``threads`` threads each, so ``workers × threads`` never
  oversubscribes the cores. Functions reach the workers by value (cloudpickle),
  so a function defined in a notebook cell, in ``python -c`` or in a script's
  ``__main__`` works. The workers exit with their parent process, even when the
  parent is killed.
* :func:`dask_executor` - ``distributed.Client(address).get_executor()``, or a
  ``LocalCluster`` when no address is given (the ``[dask]`` extra). On a cluster,
  start the workers with the same thread settings (e.g. ``OMP_NUM_THREADS=1 dask
  worker ADDR --nthreads 1``), or use dask-jobqueue for SLURM/PBS::

      from dask_jobqueue import SLURMCluster
      cluster = SLURMCluster(cores=1, processes=1, memory="4GB",
                             job_script_prologue=["export OMP_NUM_THREADS=1"])
      cluster.scale(jobs=16)
      with dask_executor(cluster.scheduler_address) as ex:
          Sweep(fn, grid, seeds=range(5), store="runs/x", executor=ex).run()

JAX work functions should create their PRNG key from the ``seed`` argument
inside the worker; Numba work functions compile once per worker process
(``cache=True`` makes later workers load the compiled code from disk).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time

from .._checks import check_int, check_real, check_size_budget

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


#: Memory a worker process needs at least (an interpreter with NumPy/SciPy loaded): the budget of ``workers``.
_WORKER_BYTES = 100 * 2**20


def _pool_size(workers, threads) -> tuple[int, int]:
    """Validated ``(workers, threads)``: integers >= 1, refused up front when absurd.

    ``threads`` is at most 64 x the CPU count (oversubscription beyond that is a mistake);
    ``workers`` processes must fit the memory available now at about 100 MiB each.
    """
    cap = 64 * (os.cpu_count() or 1)
    threads = check_int("threads", threads, min=1, max=cap)
    workers = check_int("workers", workers, min=1)
    check_size_budget("workers", workers, nbytes=workers * _WORKER_BYTES,
                      what="that many worker processes (about 100 MiB each)")
    return workers, threads


def _exit_with_parent(parent: int, poll_s: float = 0.25) -> None:
    """End this (worker) process as soon as process ``parent`` is no longer its parent.

    A killed parent (SIGKILL, a crash) cannot shut its pool down; without this its
    workers would run on as orphans. When the parent dies the kernel re-parents
    the worker, so ``os.getppid()`` changes: a daemon thread polls it every
    ``poll_s`` seconds and exits the process at once. ``parent`` is the pid the
    parent passed in, so a worker whose parent died while it was starting exits too.
    """
    if os.getppid() != parent:
        os._exit(1)

    def watch():
        while True:
            time.sleep(poll_s)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="rmt-sparsity-exit-with-parent", daemon=True).start()


def _init_worker(threads: int, parent: int) -> None:
    """Initializer of :func:`local_executor`'s workers: exit with the parent process ``parent``, pin the thread pools."""
    _exit_with_parent(parent)
    pin_threads(threads)


def local_executor(workers: int | None = None, *, threads: int = 1, idle_timeout: float = 60.0):
    """A reusable local process pool of ``workers`` processes (default: CPU count // threads), each pinned to ``threads``.

    The pool is loky's reusable executor (:func:`loky.get_reusable_executor`):

    * its workers are started with fork + exec (never a bare fork of a process that
      has started JAX or OpenMP threads) and receive functions by value through
      cloudpickle, so functions defined interactively (a notebook cell, ``python -c``)
      work;
    * calling again with the same settings returns the running pool, so repeated
      sweeps in a notebook do not pay the start-up again; idle workers exit after
      ``idle_timeout`` seconds;
    * workers exit when their parent process dies (``_exit_with_parent``), and
      ``shutdown(wait=False, kill_workers=True)`` stops them at once (what
      :meth:`~rmt_sparsity.experiments.Sweep.run` does on Ctrl-C).

    Examples
    --------
    >>> ex = local_executor(1)
    >>> ex.submit(abs, -3).result()
    3
    >>> ex.submit(lambda x: x + 1, 1).result()   # a lambda: shipped by value
    2
    """
    from loky import get_reusable_executor

    threads = check_int("threads", threads, min=1, max=64 * (os.cpu_count() or 1))
    if workers is None:
        workers = max(1, (os.cpu_count() or 1) // threads)
    workers, threads = _pool_size(workers, threads)
    idle_timeout = check_real("idle_timeout", idle_timeout, lo=0.0, lo_open=True)
    return get_reusable_executor(
        max_workers=workers,
        timeout=idle_timeout,
        initializer=_init_worker,
        initargs=(threads, os.getpid()),
        env={var: str(threads) for var in _THREAD_ENV},  # before any library in the worker is imported
    )


def _timeout(timeout: str) -> str:
    """``timeout`` checked: a Dask duration string (``"10s"``, ``"2 minutes"``) of more than 0 seconds."""
    if not isinstance(timeout, str):
        raise TypeError(f"timeout must be a duration string such as '10s'; got {type(timeout).__name__} {timeout!r:.80}")
    from dask.utils import parse_timedelta

    try:
        seconds = parse_timedelta(timeout)
    except (KeyError, ValueError, TypeError, IndexError):
        seconds = None
    if seconds is None or not seconds > 0:
        raise ValueError(f"timeout must be a duration such as '10s' (more than 0 seconds); got {timeout!r}")
    return timeout


def dask_executor(address: str | None = None, *, workers: int = 2, threads: int = 1, timeout: str = "10s"):
    """Context manager yielding a Dask ``ClientExecutor`` (needs the ``[dask]`` extra).

    Parameters
    ----------
    address : str, optional
        Scheduler address (``tcp://host:8786``). ``None`` starts a
        ``LocalCluster`` of ``workers`` processes with ``threads`` threads each.
    workers, threads : int
        Integers >= 1, checked before anything starts: ``workers`` processes must fit the
        memory available (about 100 MiB each), ``threads`` is at most 64 x the CPU count.
    timeout : str
        How long to wait for the scheduler: a Dask duration (``"10s"``, ``"2 minutes"``).

    Raises
    ------
    ValueError, TypeError
        At the call (before the ``with`` block is entered) for a bad argument.
    ConnectionError
        If the scheduler cannot be reached within ``timeout`` (one line, naming the address).
    """
    from .._optional import require

    if address is not None and not isinstance(address, str):
        raise TypeError(f"address must be None or a scheduler address (str); got {type(address).__name__} {address!r:.80}")
    workers, threads = _pool_size(workers, threads)
    distributed = require("distributed", extra="dask", feature="dask_executor")
    timeout = _timeout(timeout)
    return _dask_client(distributed, address, workers, threads, timeout)


@contextlib.contextmanager
def _dask_client(distributed, address, workers, threads, timeout):
    """The context of :func:`dask_executor` (its arguments already checked, when it was called)."""
    Client, LocalCluster = distributed.Client, distributed.LocalCluster
    cluster = None
    try:
        if address is None:
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
