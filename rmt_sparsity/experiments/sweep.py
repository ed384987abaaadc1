"""Sweeps over configs × seeds on any executor, with a resumable store.

>>> import tempfile
>>> from rmt_sparsity.experiments.sweep import Sweep, _demo_square
>>> res = Sweep(_demo_square, {"x": [1, 2]}, seeds=[0], store=tempfile.mkdtemp(), executor="serial").run(progress=False)
>>> [r["result"]["y"] for r in res.records]
[1, 4]
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass

from .._checks import check_int
from .store import ResultStore, canonical_json, host_name, point_key

__all__ = ["Sweep", "SweepResult", "expand_grid"]


def expand_grid(grid) -> list[dict]:
    """Configs of a grid: the Cartesian product of a dict of lists, or an explicit list of dicts.

    Examples
    --------
    >>> expand_grid({"a": [1, 2], "b": ["x"]})
    [{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'x'}]
    """
    if isinstance(grid, Mapping):
        if not grid:
            raise ValueError("grid must not be empty; got {}")
        keys = list(grid)
        values = []
        for k in keys:
            v = grid[k]
            if isinstance(v, (str, bytes)) or not isinstance(v, Iterable):
                raise TypeError(f"grid[{k!r}] must be a list of values; got {type(v).__name__} {v!r}")
            v = list(v)
            if not v:
                raise ValueError(f"grid[{k!r}] must not be empty")
            values.append(v)
        configs = [dict(zip(keys, combo)) for combo in itertools.product(*values)]
    elif isinstance(grid, Sequence) and not isinstance(grid, (str, bytes)):
        configs = [dict(c) for c in grid]
        if not configs:
            raise ValueError("grid must not be empty; got []")
        if not all(isinstance(c, Mapping) for c in grid):
            raise TypeError("an explicit grid must be a list of config dicts")
    else:
        raise TypeError(f"grid must be a dict of lists or a list of dicts; got {type(grid).__name__}")
    for c in configs:
        canonical_json(c)  # raises TypeError naming a non-serialisable value, before anything runs
    return configs


def _versions() -> dict:
    from .claims import package_versions

    return package_versions()


def _execute(fn, config, seed, key, experiment):
    """Run one point (in the worker) and build its record."""
    t0 = time.perf_counter()
    result = fn(dict(config), int(seed))
    if not isinstance(result, Mapping):
        raise TypeError(f"sweep function must return a dict; got {type(result).__name__}")
    result = dict(result)
    canonical_json(result)  # fail in the worker, with the point named, if the result cannot be stored
    return {
        "key": key,
        "experiment": experiment,
        "config": dict(config),
        "seed": int(seed),
        "result": result,
        "versions": _versions(),
        "host": host_name(),
        "duration_s": time.perf_counter() - t0,
    }


@dataclass
class SweepResult:
    """The records of a sweep, in grid order (config-major, then seed)."""

    records: list[dict]
    computed: int
    reused: int

    def to_pandas(self):
        """A flat DataFrame: config columns, ``seed``, and ``result.*`` columns (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError("SweepResult.to_pandas needs pandas (pip install pandas)") from exc
        return pd.json_normalize([{**r["config"], "seed": r["seed"], "result": r["result"]} for r in self.records])


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

        from .ensemble_sweep import EnsembleExperiment, run_ensemble_sweep

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
