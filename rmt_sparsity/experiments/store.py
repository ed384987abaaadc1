"""A resumable results store: one JSON file per (config, seed), written atomically.

Layout::

    STORE/
      records/<key>.json     one record per completed point (temporary file + os.replace)

A crash can leave at most a stray ``.tmp`` file, never a torn record: reading
ignores temporaries and reports (never silently drops) unreadable records, so
an interrupted sweep resumes and loses nothing that had completed.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import socket
import warnings
from collections.abc import Mapping
from pathlib import Path

from .._io import atomic_write_json

__all__ = ["canonical_json", "point_key", "ResultStore", "CorruptRecordWarning"]


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
    return socket.gethostname()
