"""Sweeps over configs × seeds on any executor, with a resumable store.

>>> import tempfile
>>> from rmt_sparsity.experiments.sweep import Sweep, _demo_square
>>> res = Sweep(_demo_square, {"x": [1, 2]}, seeds=[0], store=tempfile.mkdtemp(), executor="serial").run(progress=False)
>>> [r["result"]["y"] for r in res.records]
[1, 4]

A function defined interactively (a notebook cell, ``python -c``) works with the
default local executor too: it is sent to the workers by value (cloudpickle).
"""

from __future__ import annotations

import functools
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait

from .._checks import check_int
from .ensemble_sweep import EnsembleExperiment, run_ensemble_sweep
from .executors import _pool_size
from .store import ResultStore, SweepResult, as_path, expand_grid, point_key, point_record

#: Largest seed a sweep takes: seeds reach int64 arrays and JAX keys (``jax.random.key`` takes int64).
_MAX_SEED = 2**63 - 1

__all__ = ["Sweep"]


def _execute(fn, config, seed, key, experiment):
    """Run one point and build its record."""
    t0 = time.perf_counter()
    result = fn(dict(config), int(seed))
    if not isinstance(result, Mapping):
        raise TypeError(f"sweep function must return a dict; got {type(result).__name__}")
    return point_record(key, experiment, config, seed, result, time.perf_counter() - t0)


@functools.lru_cache(maxsize=8)
def _unpickle(payload: bytes):
    import cloudpickle

    return cloudpickle.loads(payload)


def _execute_shipped(payload: bytes, config, seed, key, experiment):
    """Run one point in a worker, with the function sent by value (unpickled once per worker)."""
    try:
        fn = _unpickle(payload)
    except Exception as exc:
        raise RuntimeError(
            f"the sweep function could not be rebuilt in worker process {os.getpid()}: {type(exc).__name__}: {exc}. "
            "It refers to a module or object the worker cannot import (a module that exists only in the parent's "
            "path or session): make it importable in the workers, or run the sweep with executor='serial'"
        ) from exc
    return _execute(fn, config, seed, key, experiment)


def _ship(fn) -> bytes:
    """``fn`` pickled by value (cloudpickle), or a ``TypeError`` that says why it cannot reach a worker process."""
    import cloudpickle

    try:
        return cloudpickle.dumps(fn)
    except Exception as exc:
        name = getattr(fn, "__qualname__", type(fn).__name__)
        raise TypeError(
            f"the sweep function {name!r} cannot be sent to worker processes: pickling it failed with "
            f"{type(exc).__name__}: {exc}. It (or a variable it uses) holds an object that cannot be copied to "
            "another process (an open file, a lock, a generator, a live connection, ...): create that object "
            "inside the function, or run the sweep in this process with executor='serial'"
        ) from exc


class _Inline(Executor):
    """Runs each submitted call at once, in this process (the ``"serial"`` executor)."""

    def submit(self, fn, /, *args, **kwargs):
        fut = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            if not isinstance(exc, Exception):
                raise  # KeyboardInterrupt, SystemExit: stop now
            fut.set_exception(exc)
        return fut


def _run_points(store: ResultStore, todo, submit, *, window: int, bar) -> int:
    """Compute the points ``todo`` (``(key, config, seed)``) that no one else computes; returns how many this call computed.

    Each point is computed under its lock (:meth:`ResultStore.lock`), so sweeps
    sharing a store never compute one point twice. A point whose lock is held
    elsewhere goes back to the end of the queue; once its holder releases the
    lock, the point is reused when its record is stored, or computed here when the
    holder stopped without storing it. Locks are only ever tried, never waited
    for, so two sweeps cannot deadlock. At most ``window`` points are in flight
    (and locked) at once.
    """
    from filelock import Timeout

    computed = 0
    queue = deque(todo)
    in_flight: dict = {}  # future -> (key, lock)
    try:
        while queue or in_flight:
            busy = 0
            while queue and len(in_flight) < window and busy < len(queue):
                key, config, seed = point = queue.popleft()
                lock = store.lock(key)
                try:
                    lock.acquire(timeout=0)
                except Timeout:  # another sweep computes it: look again later
                    queue.append(point)
                    busy += 1
                    continue
                if store.get(key) is not None:  # stored by another sweep meanwhile
                    store.drop_lock_file(key)
                    lock.release()
                    bar.update()
                    continue
                try:
                    in_flight[submit(config, seed, key)] = (key, lock)
                except BaseException:
                    lock.release()
                    raise
            if not in_flight:
                time.sleep(0.1)  # every remaining point is being computed elsewhere
                continue
            done, _ = wait(list(in_flight), timeout=0.2 if busy else None, return_when=FIRST_COMPLETED)
            for fut in done:
                key, lock = in_flight.pop(fut)
                try:
                    store.put(fut.result())
                finally:
                    lock.release()
                computed += 1
                bar.update()
    except BaseException:
        for fut, (_, lock) in in_flight.items():
            fut.cancel()
            lock.release()
        raise
    return computed


class Sweep:
    """Run ``fn(config, seed) -> dict`` over a grid of configs and a list of seeds.

    Parameters
    ----------
    fn : callable
        ``fn(config: dict, seed: int) -> dict`` (JSON-serialisable values). Any function that
        cloudpickle can pickle: a module-level function, or one defined in a notebook cell or
        ``__main__``, a lambda or a closure.
    grid : dict of lists or list of dicts
        A dict is expanded to its Cartesian product.
    seeds : iterable of int
        Every config runs once per seed (integers in ``[0, 2**63 - 1]``).
    store : path-like or ResultStore
        Where records go (a non-empty path); points already stored are never recomputed.
    executor : concurrent.futures.Executor, "local", "serial" or None
        ``None``/``"local"`` uses :func:`~rmt_sparsity.experiments.executors.local_executor`
        (a reusable local process pool, stopped at once on Ctrl-C); ``"serial"`` runs in this
        process; pass a Dask ``client.get_executor()`` for a cluster.
    workers : int, optional
        Processes of the local pool (default: the CPU count).
    experiment : str, optional
        Name mixed into each point's key (defaults to ``fn``'s qualified name), so
        two experiments can share a store.

    Notes
    -----
    Each (experiment, config, seed) is hashed canonically (:func:`point_key`):
    sorted keys and exact float reprs, so the hash is the same in every
    process and for any dict order.
    """

    def __init__(self, fn: Callable, grid, *, seeds, store, executor=None, experiment: str | None = None, workers: int | None = None):
        if not callable(fn):
            raise TypeError(f"fn must be callable; got {type(fn).__name__}")
        self.fn = fn
        self.configs = expand_grid(grid)
        if isinstance(seeds, (str, bytes, Mapping)) or not isinstance(seeds, Iterable):
            raise TypeError(f"seeds must be a sequence of integers >= 0; got {type(seeds).__name__} {seeds!r:.80}")
        seeds = list(seeds)
        if not seeds:
            raise ValueError("seeds must not be empty")
        self.seeds = [check_int("seeds", s, min=0, max=_MAX_SEED) for s in seeds]
        self.store = store if isinstance(store, ResultStore) else ResultStore(as_path("store", store))
        if executor not in (None, "local", "serial") and not isinstance(executor, Executor):
            raise TypeError(f"executor must be a concurrent.futures.Executor, 'local', 'serial' or None; got {executor!r:.80}")
        self.executor = executor
        if workers is not None:
            workers, _ = _pool_size(workers, 1)
        self.workers = workers
        if experiment is not None and (not isinstance(experiment, str) or not experiment):
            raise TypeError(f"experiment must be None or a non-empty string; got {experiment!r:.80}")
        default_name = getattr(fn, "name", None) if not hasattr(fn, "__qualname__") else None
        self.experiment = experiment or default_name or f"{fn.__module__}.{fn.__qualname__}"

    def points(self) -> list[tuple[str, dict, int]]:
        """``(key, config, seed)`` for every point, in grid order."""
        return [(point_key(c, s, self.experiment), c, s) for c in self.configs for s in self.seeds]

    def missing(self) -> list[tuple[str, dict, int]]:
        """Points not yet in the store."""
        done = self.store.keys()
        return [p for p in self.points() if p[0] not in done]

    def run(self, *, progress: bool | None = None) -> SweepResult:
        """Compute the missing points, store each record as it completes, and return all records.

        Parameters
        ----------
        progress : bool or None
            A progress bar (``tqdm.auto``: a widget in Jupyter, text in a terminal).
            None (default) shows it in terminals and notebooks and hides it in CI logs
            (:func:`rmt_sparsity._progress.show_progress`).

        Notes
        -----
        * Points whose record is already stored are reused, never recomputed; each
          point is computed under a lock on the store, so two sweeps running on one
          store at the same time share the work and compute every point once.
        * The function reaches process workers by value (cloudpickle): functions
          defined in a notebook or in ``__main__`` work. A function that cannot be
          pickled raises ``TypeError`` saying why, before anything runs.
        * Ctrl-C (``KeyboardInterrupt``) stops at once: pending points are cancelled
          and the workers of the default local pool are killed; completed points
          stay stored.
        * When ``fn`` is an :class:`~rmt_sparsity.experiments.ensemble_sweep.EnsembleExperiment`
          and no external executor is given, points that differ only in vectorisable
          fields (seed, sigma, lr, weight_decay) are trained together as one vectorised
          ensemble (:func:`~rmt_sparsity.experiments.ensemble_sweep.run_ensemble_sweep`);
          the store still holds one record per point, with the same keys.
        """
        from tqdm.auto import tqdm

        from .._progress import show_progress

        show = show_progress(progress)
        if isinstance(self.fn, EnsembleExperiment) and self.executor in (None, "local", "serial"):
            if self.experiment != self.fn.name:
                raise ValueError(f"experiment {self.experiment!r} must equal the EnsembleExperiment's name {self.fn.name!r}")
            return run_ensemble_sweep(self.fn, self.configs, seeds=self.seeds, store=self.store, progress=show)

        todo = self.missing()
        computed, owned, ex = 0, None, self.executor
        if todo:
            if ex == "serial":  # in this process, one point at a time: each record is stored as it completes
                window = 1
                submit = (lambda c, s, k, _f=self.fn: _Inline().submit(_execute, _f, c, s, k, self.experiment))
            else:
                payload = _ship(self.fn)  # a function that cannot reach a worker fails here, before any work
                if ex in (None, "local"):
                    from .executors import local_executor

                    ex = owned = local_executor(self.workers)
                workers = getattr(ex, "_max_workers", None) or os.cpu_count() or 1
                window = max(4, 4 * int(workers)) if owned is not None else min(len(todo), 512)
                submit = (lambda c, s, k, _ex=ex: _ex.submit(_execute_shipped, payload, c, s, k, self.experiment))
            try:
                with tqdm(total=len(todo), desc="sweep", unit="pt", disable=not show) as bar:
                    computed = _run_points(self.store, todo, submit, window=window, bar=bar)
            except BaseException:
                if owned is not None:  # Ctrl-C or a failed point: stop the workers now, do not wait for them
                    owned.shutdown(wait=False, kill_workers=True)
                raise
        stored = self.store.load()
        missing = [k for k, _, _ in self.points() if k not in stored]
        if missing:  # pragma: no cover - only if records vanish from the store during the run
            raise RuntimeError(f"{len(missing)} points of the sweep are not in the store {str(self.store.path)!r} after the run")
        records = [stored[k] for k, _, _ in self.points()]
        return SweepResult(records=records, computed=computed, reused=len(records) - computed)


def _demo_square(config, seed):
    """A trivial work function used in docs and tests."""
    return {"y": config["x"] ** 2, "seed": seed}


def _demo_random(config, seed):
    """A seeded numpy work function used in tests (results depend on config and seed only)."""
    from .._rng import as_generator

    g = as_generator([seed, int(config["x"])])
    time.sleep(float(config.get("sleep", 0.0)))
    return {"mean": float(g.standard_normal(int(config.get("n", 100))).mean())}
