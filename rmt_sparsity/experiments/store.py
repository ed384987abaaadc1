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
      locks/<key>.lock       held (filelock) while a sweep computes the point

A crash can leave at most a stray ``.tmp`` file, never a torn record: reading
ignores temporaries and reports (never silently drops) unreadable or malformed
records (:func:`record_problems`), so an interrupted sweep resumes and loses
nothing that had completed. Sweeps sharing a store take the point's lock
(:meth:`ResultStore.lock`) before computing it, so each point is computed once
even when several sweeps run at the same time.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import math
import numbers
import os
import socket
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .._io import atomic_write_json
from .._versions import package_versions

__all__ = ["canonical_json", "point_key", "expand_grid", "point_record", "record_problems", "ResultStore",
           "SweepResult", "CorruptRecordWarning", "RECORD_FIELDS"]


def as_path(name: str, value) -> Path:
    """``value`` as a :class:`~pathlib.Path`: a non-empty ``str`` or path-like (``TypeError``/``ValueError`` naming ``name``).

    ``''`` is refused rather than read as the current directory.

    Examples
    --------
    >>> as_path("store", "runs/x").as_posix()
    'runs/x'
    """
    if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (str or path-like); got {type(value).__name__} {value!r:.80}")
    text = os.fspath(value)
    if isinstance(text, bytes) or not text.strip():
        raise ValueError(f"{name} must be a non-empty path; got {value!r:.80}")
    return Path(text)


class CorruptRecordWarning(UserWarning):
    """A record file in the store could not be read or is malformed (it is treated as missing and recomputed)."""


#: The fields every stored record has, with their JSON types (:func:`point_record` writes them; extra fields are allowed).
RECORD_FIELDS: dict[str, tuple[type, ...]] = {
    "key": (str,),
    "experiment": (str,),
    "config": (dict,),
    "seed": (int,),
    "result": (dict,),
    "versions": (dict,),
    "host": (str,),
    "duration_s": (int, float),
}


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


def record_problems(record, key: str | None = None) -> list[str]:
    """What is wrong with a stored record: missing fields, wrong types, a key that is not its file's (empty if none).

    Examples
    --------
    >>> record_problems(point_record("k", "demo", {"x": 1}, 0, {"y": 1.0}, 0.5))
    []
    >>> record_problems({"key": "k", "seed": "0"}, key="k")[:2]
    ["missing field 'experiment'", "missing field 'config'"]
    """
    if not isinstance(record, Mapping):
        return [f"a record must be a JSON object; got {type(record).__name__}"]
    problems = []
    for name, types in RECORD_FIELDS.items():
        if name not in record:
            problems.append(f"missing field {name!r}")
        elif not isinstance(record[name], types) or (isinstance(record[name], bool) and bool not in types):
            problems.append(f"field {name!r} is {type(record[name]).__name__}, not {' or '.join(t.__name__ for t in types)}")
    if key is not None and isinstance(record.get("key"), str) and record["key"] != key:
        problems.append(f"its key {record['key']!r} is not its file name's {key!r}")
    return problems


class ResultStore:
    """A directory of per-point JSON records, with a lock per point.

    Parameters
    ----------
    path : path-like
        Created on first write (not on construction, so a sweep that fails
        validation leaves the file system untouched).

    Examples
    --------
    >>> import tempfile
    >>> s = ResultStore(tempfile.mkdtemp())
    >>> s.put(point_record("abc", "demo", {"x": 1}, 0, {"y": 1}, 0.1))
    >>> s.keys(), s.get("abc")["result"]
    ({'abc'}, {'y': 1})
    """

    def __init__(self, path):
        self.path = as_path("path", path)
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"store must be a directory; {str(self.path)!r} is a file")

    @property
    def _records(self) -> Path:
        return self.path / "records"

    def _files(self):
        if not self._records.is_dir():
            return []
        return sorted(p for p in self._records.iterdir() if p.suffix == ".json" and not p.name.startswith("."))

    def _read(self, p: Path, *, warn: bool = True) -> dict | None:
        """The record in file ``p``, or None (with a :class:`CorruptRecordWarning`) when it is unreadable or malformed."""
        try:
            rec = json.loads(p.read_text())
        except (OSError, ValueError) as exc:
            problem = f"unreadable record {p.name} ({exc})"
        else:
            problems = record_problems(rec, key=p.stem)
            if not problems:
                return rec
            problem = f"malformed record {p.name} ({'; '.join(problems)})"
        if warn:
            warnings.warn(f"{problem}; it will be recomputed", CorruptRecordWarning, stacklevel=3)
        return None

    def load(self) -> dict[str, dict]:
        """All valid records by key; unreadable or malformed ones give :class:`CorruptRecordWarning` warnings."""
        out = {}
        for p in self._files():
            rec = self._read(p)
            if rec is not None:
                out[rec["key"]] = rec
        return out

    def get(self, key: str) -> dict | None:
        """The valid record of ``key``, or None when it is missing (or unreadable or malformed: warned)."""
        p = self._records / f"{key}.json"
        return self._read(p) if p.is_file() else None

    def keys(self) -> set[str]:
        """Keys of the valid records."""
        return set(self.load())

    def put(self, record: Mapping) -> None:
        """Write one record atomically; it must have the fields of :data:`RECORD_FIELDS` (``ValueError`` otherwise).

        The point's lock file, if any, is removed once the record is in place:
        a sweep that takes the lock afterwards finds the record and reuses it.
        """
        problems = record_problems(record)
        if problems:
            raise ValueError(f"record: {'; '.join(problems)}")
        key = record["key"]
        self._records.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self._records / f"{key}.json", dict(record))
        self.drop_lock_file(key)

    def drop_lock_file(self, key: str) -> None:
        """Remove point ``key``'s lock file; call it only once the point's record is stored.

        Safe while the lock is held: whoever locks the point afterwards (a new
        file) or was waiting on the old one finds the record and reuses it.
        """
        with contextlib.suppress(FileNotFoundError):
            (self.path / "locks" / f"{key}.lock").unlink()

    def lock(self, key: str):
        """The lock of point ``key`` (a :class:`filelock.FileLock` on ``locks/<key>.lock``).

        Whoever computes a point holds its lock; ``lock.acquire(timeout=0)`` fails
        with :class:`filelock.Timeout` while another process (or sweep) holds it.
        The operating system releases it when the holder dies.
        """
        from filelock import FileLock

        (self.path / "locks").mkdir(parents=True, exist_ok=True)
        return FileLock(self.path / "locks" / f"{key}.lock")

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
        """A flat DataFrame: config columns, ``seed``, and ``result.*`` columns."""
        import pandas as pd

        return pd.json_normalize([{**r["config"], "seed": r["seed"], "result": r["result"]} for r in self.records])
