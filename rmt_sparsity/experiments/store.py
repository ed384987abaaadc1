"""The points of a sweep and their resumable store: one JSON file per (config, seed), written atomically.

:func:`expand_grid` turns a grid into configs, :func:`point_key` names each
(experiment, config, seed) point, :func:`point_record` builds its record,
:class:`ResultStore` keeps the records and :class:`SweepResult` returns them.
Both runners (:class:`~rmt_sparsity.experiments.Sweep` and
:func:`~rmt_sparsity.experiments.ensemble_sweep.run_ensemble_sweep`) share
these, so their stores are interchangeable.

Layout::

    STORE/
      records/<key>.json     one record per completed point (temporary file + os.replace)

A crash can leave at most a stray ``.tmp`` file, never a torn record: reading
ignores temporaries and reports (never silently drops) unreadable records, so
an interrupted sweep resumes and loses nothing that had completed.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import numbers
import socket
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .._io import atomic_write_json
from .._versions import package_versions

__all__ = ["canonical_json", "point_key", "expand_grid", "point_record", "ResultStore", "SweepResult",
           "CorruptRecordWarning"]


class CorruptRecordWarning(UserWarning):
    """A record file in the store could not be read (it is treated as missing and recomputed)."""


def _canon(value, where: str):
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"config keys must be strings; got {k!r} at {where or 'top level'}")
            out[k] = _canon(v, f"{where}.{k}" if where else k)
        return out
    if isinstance(value, (list, tuple)):
        return [_canon(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        f = float(value)
        if not math.isfinite(f):
            raise TypeError(f"config value at {where!r} must be finite to be hashed; got {f!r}")
        return f
    if hasattr(value, "dtype") and getattr(value, "shape", None) == ():  # numpy/jax 0-d
        return _canon(value.item(), where)
    raise TypeError(
        f"config value at {where!r} is not JSON-serialisable ({type(value).__name__}); "
        "use numbers, strings, booleans, None, lists and dicts"
    )


def canonical_json(obj) -> str:
    """Canonical JSON text: sorted keys, no whitespace, numpy scalars converted, non-finite floats rejected.

    Examples
    --------
    >>> canonical_json({"b": 1, "a": [1.5, True]})
    '{"a":[1.5,true],"b":1}'
    """
    return json.dumps(_canon(obj, ""), sort_keys=True, separators=(",", ":"), allow_nan=False)


def point_key(config: Mapping, seed: int, experiment: str = "") -> str:
    """Stable hash of (experiment, config, seed): the same in every process and for any dict order.

    Examples
    --------
    >>> point_key({"a": 1, "b": 2.0}, 0) == point_key({"b": 2.0, "a": 1}, 0)
    True
    """
    text = canonical_json({"experiment": experiment, "config": config, "seed": int(seed)})
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def expand_grid(grid) -> list[dict]:
    """Configs of a grid: the Cartesian product of a dict of lists, or an explicit list of dicts.

    Every config is checked to be hashable by :func:`canonical_json` before anything runs.

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


def point_record(key: str, experiment: str, config: Mapping, seed: int, result: Mapping, duration_s: float,
                 **extra) -> dict:
    """The stored record of one point: its key, experiment, config, seed and result, with provenance.

    ``result`` must be storable (:func:`canonical_json`: JSON types, finite numbers);
    ``versions`` (:func:`rmt_sparsity._versions.package_versions`) and ``host`` are added,
    then ``duration_s`` and any ``extra`` fields.

    Examples
    --------
    >>> r = point_record("k", "demo", {"x": 1}, 0, {"y": 1.0}, 0.5)
    >>> list(r)
    ['key', 'experiment', 'config', 'seed', 'result', 'versions', 'host', 'duration_s']
    """
    if not isinstance(result, Mapping):
        raise TypeError(f"a sweep point's result must be a dict; got {type(result).__name__}")
    result = dict(result)
    canonical_json(result)  # fail with the point named (by the caller) if the result cannot be stored
    return {
        "key": key,
        "experiment": experiment,
        "config": dict(config),
        "seed": int(seed),
        "result": result,
        "versions": package_versions(),
        "host": host_name(),
        "duration_s": duration_s,
        **extra,
    }


class ResultStore:
    """A directory of per-point JSON records.

    Parameters
    ----------
    path : path-like
        Created on first write (not on construction, so a sweep that fails
        validation leaves the file system untouched).

    Examples
    --------
    >>> import tempfile
    >>> s = ResultStore(tempfile.mkdtemp())
    >>> s.put({"key": "abc", "result": {"x": 1}})
    >>> s.keys()
    {'abc'}
    """

    def __init__(self, path):
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"store must be a directory; {str(self.path)!r} is a file")

    @property
    def _records(self) -> Path:
        return self.path / "records"

    def _files(self):
        if not self._records.is_dir():
            return []
        return sorted(p for p in self._records.iterdir() if p.suffix == ".json" and not p.name.startswith("."))

    def load(self) -> dict[str, dict]:
        """All readable records by key; unreadable ones raise :class:`CorruptRecordWarning` warnings."""
        out = {}
        for p in self._files():
            try:
                rec = json.loads(p.read_text())
                out[rec["key"]] = rec
            except (OSError, ValueError, KeyError, TypeError) as exc:
                warnings.warn(f"unreadable record {p.name} ({exc}); it will be recomputed", CorruptRecordWarning, stacklevel=2)
        return out

    def keys(self) -> set[str]:
        """Keys of the readable records."""
        return set(self.load())

    def put(self, record: Mapping) -> None:
        """Write one record atomically (it must carry a ``key``)."""
        key = record["key"]
        self._records.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self._records / f"{key}.json", dict(record))

    def __len__(self) -> int:
        return len(self.load())


def host_name() -> str:
    """This machine's host name (recorded with each point)."""
    return socket.gethostname()


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
