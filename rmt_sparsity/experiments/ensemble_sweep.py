"""Sweeps of training runs as vectorised ensembles: one compiled program per group of configs.

A training sweep usually varies the seed, the weight-noise level, the learning
rate and the weight decay over a fixed architecture. Those are *vectorisable*
fields: :func:`rmt_sparsity.nn.train_ensemble` trains all such points in one
``jit(vmap(scan(step)))`` program. :func:`run_ensemble_sweep` groups the points
of a grid that differ only in vectorisable fields (:func:`ensemble_groups`),
trains each group as one ensemble and still writes **one store record per
(config, seed)**, with the key and layout of :class:`~rmt_sparsity.experiments.Sweep`
(``key, experiment, config, seed, result, versions, host, duration_s``, plus
``ensemble``: the group size and its wall time). Stores are interchangeable: a
point computed by either runner is reused by the other.

An :class:`EnsembleExperiment` is also a plain ``fn(config, seed)`` (it trains
the point alone with :func:`rmt_sparsity.nn.train`), so the same object runs
under :class:`~rmt_sparsity.experiments.Sweep` on any executor; member k of an
ensemble equals that single run to rounding (``tests/test_nn_ensemble.py``).

>>> from rmt_sparsity.experiments.ensemble_sweep import ensemble_groups
>>> pts = [({"width": 8, "sigma": s}, seed) for s in (0.0, 0.1) for seed in (0, 1)] + [({"width": 16, "sigma": 0.0}, 0)]
>>> [len(g) for g in ensemble_groups(pts)]
[4, 1]
"""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence

from .._checks import check_int
from .store import ResultStore, SweepResult, canonical_json, expand_grid, point_key, point_record

__all__ = ["VECTORISED_FIELDS", "EnsembleExperiment", "ensemble_groups", "run_ensemble_sweep"]

#: Config keys that an ensemble can vary (besides the seed), mapped to :func:`rmt_sparsity.nn.train_ensemble` arguments.
VECTORISED_FIELDS = {"sigma": "sigma", "lr": "lr", "weight_decay": "weight_decay"}


def _static_part(config: Mapping, fields) -> dict:
    return {k: v for k, v in config.items() if k not in fields}


def ensemble_groups(points: Sequence, fields=tuple(VECTORISED_FIELDS)) -> list[list[int]]:
    """Indices of ``points`` (``(config, seed)`` pairs, or ``(key, config, seed)``) grouped by everything but ``fields`` and the seed.

    Points in one group differ only in the seed and the vectorisable ``fields``,
    so one :func:`rmt_sparsity.nn.train_ensemble` call can train them; groups are
    in order of first appearance and keep the points' order.
    """
    groups: dict[str, list[int]] = {}
    for i, p in enumerate(points):
        config = p[-2]
        if not isinstance(config, Mapping):
            raise TypeError(f"points[{i}] must end with (config dict, seed); got {type(config).__name__}")
        groups.setdefault(canonical_json(_static_part(config, fields)), []).append(i)
    return list(groups.values())


def _default_key(seed):
    import jax

    return jax.random.key(int(seed))


@dataclasses.dataclass(frozen=True)
class EnsembleExperiment:
    """A training experiment that a sweep can vectorise.

    Parameters
    ----------
    build : callable
        ``build(static_config) -> dict`` of :func:`rmt_sparsity.nn.train_ensemble`
        arguments: ``model`` and ``data`` are required; ``optimizer``, ``steps``,
        ``batch_size``, ... as needed. It receives the config *without* the
        vectorised fields, so it cannot make them change the compiled program;
        it must not return ``keys`` or a vectorised argument.
    summarize : callable
        ``summarize(result, config, seed) -> dict``: the JSON-serialisable result
        of one point from its :class:`rmt_sparsity.nn.TrainResult`.
    name : str
        The experiment name mixed into the point keys (as ``Sweep(experiment=...)``).
    fields : mapping
        Config key -> ``train_ensemble`` argument of the vectorised fields
        (default :data:`VECTORISED_FIELDS`). A point without the key uses the default.
    key : callable
        ``key(seed) -> jax PRNG key`` (default ``jax.random.key(seed)``): points with
        the same seed share the initialisation and minibatch stream (paired designs).

    ``experiment(config, seed)`` trains the one point with :func:`rmt_sparsity.nn.train`
    (the K = 1 ensemble) and returns ``summarize``'s dict. Use top-level functions
    so that the object pickles for process and Dask executors.
    """

    build: Callable
    summarize: Callable
    name: str
    fields: Mapping = dataclasses.field(default_factory=lambda: dict(VECTORISED_FIELDS))
    key: Callable = _default_key

    def __post_init__(self):
        for attr in ("build", "summarize", "key"):
            if not callable(getattr(self, attr)):
                raise TypeError(f"{attr} must be callable; got {type(getattr(self, attr)).__name__}")
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty string; got {self.name!r}")
        allowed = {"sigma", "lr", "weight_decay", "noise_ratio", "cov_discount"}
        bad = sorted(set(self.fields.values()) - allowed)
        if bad:
            raise ValueError(f"fields may map to the vectorisable train_ensemble arguments {sorted(allowed)}; got {bad}")

    def _kwargs(self, static):
        kw = self.build(dict(static))
        if not isinstance(kw, Mapping) or "model" not in kw or "data" not in kw:
            raise TypeError("build(config) must return a dict of train_ensemble arguments with 'model' and 'data'")
        clash = sorted({"keys", "key", *self.fields.values()} & set(kw))
        if clash:
            raise ValueError(f"build(config) must not return {clash}: keys and the vectorised fields come from the points")
        return dict(kw)

    def __call__(self, config: dict, seed: int) -> dict:
        from ..nn import train

        kw = self._kwargs(_static_part(config, self.fields))
        vec = {arg: config[f] for f, arg in self.fields.items() if config.get(f) is not None}
        res = train(kw.pop("model"), kw.pop("data"), kw.pop("optimizer", "adamw"), key=self.key(seed),
                    **{"quiet": True, **kw, **vec})
        return dict(self.summarize(res, dict(config), int(seed)))


def run_ensemble_sweep(experiment: EnsembleExperiment, grid, *, seeds, store, max_members=None,
                       max_memory_bytes=None, progress=None) -> SweepResult:
    """Run the missing points of ``grid × seeds`` as one ensemble per group; store one record per point.

    Parameters
    ----------
    experiment : EnsembleExperiment
    grid : dict of lists or list of dicts
        As :class:`~rmt_sparsity.experiments.Sweep` (expanded by ``expand_grid``).
    seeds : iterable of int
    store : path-like or ResultStore
        Points already stored (by either runner) are not recomputed.
    max_members : int, optional
        Split groups larger than this (bounds the compiled shapes and the work lost to a crash).
    max_memory_bytes : int, optional
        Passed to :func:`rmt_sparsity.nn.train_ensemble` (members per compiled run).
    progress : bool or None
        A progress bar over points; None shows it in terminals and notebooks, not in CI logs
        (:func:`rmt_sparsity._progress.show_progress`).

    Returns
    -------
    SweepResult
        All records in grid order (config-major, then seed); ``computed`` and ``reused`` counts.
        Each point is trained under its lock on the store, so concurrent sweeps on one
        store train every point once.

    Notes
    -----
    ``duration_s`` of a record is its group's wall time divided by the group size
    (the amortised cost); ``ensemble`` holds ``{"size", "group_duration_s",
    "members_per_run"}``.

    Examples
    --------
    >>> import tempfile
    >>> from rmt_sparsity.experiments.ensemble_sweep import EXAMPLE, run_ensemble_sweep
    >>> grid = {"width": [8], "steps": [10], "sigma": [0.0, 0.1]}
    >>> res = run_ensemble_sweep(EXAMPLE, grid, seeds=[0, 1], store=tempfile.mkdtemp(), progress=False)
    >>> res.computed, len(res.records), sorted(res.records[0]["result"])
    (4, 4, ['test_accuracy', 'test_loss', 'zero_fraction'])
    """
    if not isinstance(experiment, EnsembleExperiment):
        raise TypeError(f"experiment must be an EnsembleExperiment; got {type(experiment).__name__}")
    configs = expand_grid(grid)
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must not be empty")
    seeds = [check_int("seeds[i]", s, min=0) for s in seeds]
    if max_members is not None:
        max_members = check_int("max_members", max_members, min=1)
    store = store if isinstance(store, ResultStore) else ResultStore(store)
    points = [(point_key(c, s, experiment.name), c, s) for c in configs for s in seeds]
    done = store.keys()
    todo = [p for p in points if p[0] not in done]
    groups = []
    for g in ensemble_groups(todo, tuple(experiment.fields)):
        step = max_members or len(g)
        groups += [[todo[i] for i in g[i:i + step]] for i in range(0, len(g), step)]

    from tqdm.auto import tqdm

    from .._progress import show_progress

    with tqdm(total=len(todo), desc="ensemble sweep", unit="pt", disable=not show_progress(progress)) as bar:
        computed = _run_groups(experiment, store, groups, max_memory_bytes, bar)
    stored = store.load()
    records = [stored[k] for k, _, _ in points]
    return SweepResult(records=records, computed=computed, reused=len(records) - computed)


def _run_groups(experiment, store, groups, max_memory_bytes, bar) -> int:
    """Train each group's points that no one else computes, under their locks; returns how many were trained here.

    As :class:`~rmt_sparsity.experiments.Sweep` does per point: a point whose
    lock another sweep holds is left to it and looked at again later (reused once
    stored, trained here if that sweep stopped without storing it).
    """
    from filelock import Timeout

    computed = 0
    queue = deque(groups)
    while queue:
        group = queue.popleft()
        held, busy = [], []
        try:
            for point in group:
                lock = store.lock(point[0])
                try:
                    lock.acquire(timeout=0)
                except Timeout:
                    busy.append(point)
                    continue
                if store.get(point[0]) is not None:  # stored by another sweep meanwhile
                    store.drop_lock_file(point[0])
                    lock.release()
                    bar.update()
                    continue
                held.append((point, lock))
            if held:
                for rec in _run_group(experiment, [p for p, _ in held], max_memory_bytes):
                    store.put(rec)
                computed += len(held)
                bar.update(len(held))
        finally:
            for _, lock in held:
                lock.release()
        if busy:
            if not held:
                time.sleep(0.1)  # every point of this group is being trained elsewhere
            queue.append(busy)
    return computed


def _run_group(experiment, pts, max_memory_bytes):
    from ..nn import train_ensemble

    t0 = time.perf_counter()
    static = _static_part(pts[0][1], experiment.fields)
    kw = experiment._kwargs(static)
    vec = {}
    for f, arg in experiment.fields.items():
        vals = [c.get(f) for _, c, _ in pts]
        if any(v is not None for v in vals):
            vec[arg] = vals
    ens = train_ensemble(kw.pop("model"), kw.pop("data"), kw.pop("optimizer", "adamw"),
                         keys=[experiment.key(s) for _, _, s in pts], max_memory_bytes=max_memory_bytes,
                         **{"quiet": True, **kw, **vec})
    results = []
    for k, (_, c, s) in enumerate(pts):
        r = experiment.summarize(ens.member(k), dict(c), int(s))
        if not isinstance(r, Mapping):
            raise TypeError(f"summarize must return a dict; got {type(r).__name__}")
        r = dict(r)
        canonical_json(r)  # fail with the point named below if the result cannot be stored
        results.append(r)
    total = time.perf_counter() - t0
    ensemble = {"size": len(pts), "group_duration_s": total, "members_per_run": ens.members_per_run}
    return [point_record(key, experiment.name, c, s, r, total / len(pts), ensemble=dict(ensemble))
            for (key, c, s), r in zip(pts, results)]


# ============================================================================= a small built-in experiment


def _example_build(config):
    from ..nn import MLP, gaussian_mixture

    data = gaussian_mixture(n_train=256, n_test=128, d=8, n_classes=3, rng=int(config.get("data_seed", 0)))
    return {
        "model": MLP(d_in=8, d_out=3, width=int(config["width"]), depth=int(config.get("depth", 2))),
        "data": data,
        "optimizer": config.get("optimizer", "adamw"),
        "steps": int(config["steps"]),
        "batch_size": int(config.get("batch_size", 32)),
        "probe_size": 128,
    }


def _example_summarize(result, config, seed):
    import numpy as np

    h = result.history
    zf = np.mean([h[k][-1] for k in h if k.endswith(".zero_fraction")])
    return {"zero_fraction": float(zf), "test_loss": float(h["test_loss"][-1]),
            "test_accuracy": float(h["test_accuracy"][-1])}


#: A small experiment (Gaussian-mixture MLP; config keys ``width``, ``steps`` and optionally ``depth``,
#: ``batch_size``, ``optimizer``, ``data_seed`` and the vectorised ``sigma`` (absolute), ``lr``,
#: ``weight_decay``), returning the final zero fraction, test loss and accuracy.
EXAMPLE = EnsembleExperiment(build=_example_build, summarize=_example_summarize, name="ensemble_example")
