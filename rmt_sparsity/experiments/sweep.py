"""Sweeps over configs × seeds on any executor, with a resumable store.

>>> import tempfile
>>> from rmt_sparsity.experiments.sweep import Sweep, _demo_square
>>> res = Sweep(_demo_square, {"x": [1, 2]}, seeds=[0], store=tempfile.mkdtemp(), executor="serial").run(progress=False)
>>> [r["result"]["y"] for r in res.records]
[1, 4]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, as_completed

from .._checks import check_int
from .ensemble_sweep import EnsembleExperiment, run_ensemble_sweep
from .store import ResultStore, SweepResult, expand_grid, point_key, point_record

__all__ = ["Sweep"]


def _execute(fn, config, seed, key, experiment):
    """Run one point (in the worker) and build its record."""
    t0 = time.perf_counter()
    result = fn(dict(config), int(seed))
    if not isinstance(result, Mapping):
        raise TypeError(f"sweep function must return a dict; got {type(result).__name__}")
    return point_record(key, experiment, config, seed, result, time.perf_counter() - t0)


class Sweep:
    """Run ``fn(config, seed) -> dict`` over a grid of configs and a list of seeds.

    Parameters
    ----------
    fn : callable
        A picklable top-level function ``fn(config: dict, seed: int) -> dict`` (JSON-serialisable values).
    grid : dict of lists or list of dicts
        A dict is expanded to its Cartesian product.
    seeds : iterable of int
        Every config runs once per seed.
    store : path-like or ResultStore
        Where records go; points already stored are never recomputed.
    executor : concurrent.futures.Executor, "local", "serial" or None
        ``None``/``"local"`` uses :func:`~rmt_sparsity.experiments.executors.local_executor`
        (created and shut down by :meth:`run`); pass a Dask ``client.get_executor()`` for a cluster.
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
        seeds = list(seeds)
        if not seeds:
            raise ValueError("seeds must not be empty")
        self.seeds = [check_int("seeds[i]", s, min=0) for s in seeds]
        self.store = store if isinstance(store, ResultStore) else ResultStore(store)
        if executor not in (None, "local", "serial") and not isinstance(executor, Executor):
            raise TypeError(f"executor must be a concurrent.futures.Executor, 'local', 'serial' or None; got {executor!r}")
        self.executor = executor
        self.workers = workers
        default_name = getattr(fn, "name", None) if not hasattr(fn, "__qualname__") else None
        self.experiment = experiment or default_name or f"{fn.__module__}.{fn.__qualname__}"

    def points(self) -> list[tuple[str, dict, int]]:
        """``(key, config, seed)`` for every point, in grid order."""
        return [(point_key(c, s, self.experiment), c, s) for c in self.configs for s in self.seeds]

    def missing(self) -> list[tuple[str, dict, int]]:
        """Points not yet in the store."""
        done = self.store.keys()
        return [p for p in self.points() if p[0] not in done]

    def run(self, *, progress: bool = True) -> SweepResult:
        """Submit the missing points, store each record as it completes, and return all records.

        When ``fn`` is an :class:`~rmt_sparsity.experiments.ensemble_sweep.EnsembleExperiment`
        and no external executor is given, points that differ only in vectorisable fields
        (seed, sigma, lr, weight_decay) are trained together as one vectorised ensemble
        (:func:`~rmt_sparsity.experiments.ensemble_sweep.run_ensemble_sweep`); the store still
        holds one record per point, with the same keys.
        """
        from tqdm.auto import tqdm

        if isinstance(self.fn, EnsembleExperiment) and self.executor in (None, "local", "serial"):
            if self.experiment != self.fn.name:
                raise ValueError(f"experiment {self.experiment!r} must equal the EnsembleExperiment's name {self.fn.name!r}")
            return run_ensemble_sweep(self.fn, self.configs, seeds=self.seeds, store=self.store, progress=progress)

        todo = self.missing()
        owned = None
        ex = self.executor
        if todo and ex in (None, "local"):
            from .executors import local_executor

            ex = owned = local_executor(self.workers)
        try:
            if todo and ex == "serial":  # in-process, one point at a time: each record is stored as it completes
                for k, c, s in tqdm(todo, desc="sweep", unit="pt", disable=not progress):
                    self.store.put(_execute(self.fn, c, s, k, self.experiment))
            elif todo:
                futures = [ex.submit(_execute, self.fn, c, s, k, self.experiment) for k, c, s in todo]
                with tqdm(total=len(futures), desc="sweep", unit="pt", disable=not progress) as bar:
                    for fut in as_completed(futures):
                        self.store.put(fut.result())
                        bar.update()
        finally:
            if owned is not None:
                owned.shutdown(cancel_futures=True)
        stored = self.store.load()
        records = [stored[k] for k, _, _ in self.points()]
        return SweepResult(records=records, computed=len(todo), reused=len(records) - len(todo))


def _demo_square(config, seed):
    """A trivial work function used in docs and tests."""
    return {"y": config["x"] ** 2, "seed": seed}


def _demo_random(config, seed):
    """A seeded numpy work function used in tests (results depend on config and seed only)."""
    from .._rng import as_generator

    g = as_generator([seed, int(config["x"])])
    time.sleep(float(config.get("sleep", 0.0)))
    return {"mean": float(g.standard_normal(int(config.get("n", 100))).mean())}
