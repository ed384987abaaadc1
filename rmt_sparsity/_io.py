"""Atomic file writes and JSON conversion: one home for both.

Writes go to a temporary file in the same directory, then ``os.replace``: a run
interrupted at any point leaves either the old file or the new one, never a torn
file. Written files get the permissions a plain ``open(path, "w")`` would give
(``0o666`` masked by the process umask, so 0644 under the usual 022), so that
colleagues on a shared machine can read results.

**NaN policy.** :func:`to_jsonable` turns non-finite floats into the strings
``"nan"``, ``"inf"`` and ``"-inf"`` (``repr`` of the float). JSON stays strict
(no ``NaN`` literals, which many parsers reject) and the three cases stay
distinct; ``float(s)`` reads them back. :func:`to_builtin` is the same
conversion to plain Python types that keeps non-finite floats as floats (for
records returned to Python callers, not written as JSON).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

__all__ = ["atomic_write_bytes", "atomic_write_text", "atomic_write_json", "to_builtin", "to_jsonable", "file_mode"]


def file_mode() -> int:
    """Permission bits of a newly created regular file under the current umask (``0o666 & ~umask``).

    Examples
    --------
    >>> import os
    >>> old = os.umask(0o022)
    >>> oct(file_mode())
    '0o644'
    >>> _ = os.umask(old)
    """
    mask = os.umask(0)  # reading the umask means setting it; restore at once
    os.umask(mask)
    return 0o666 & ~mask


def _plain(obj, leaf):
    """Walk ``obj`` into plain Python types; ``leaf`` maps each float."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v, leaf) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v, leaf) for v in obj]
    if isinstance(obj, np.ndarray):
        return _plain(obj.tolist(), leaf)
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return leaf(float(obj))
    return obj


def _finite_or_repr(v: float):
    return v if math.isfinite(v) else repr(v)


def to_builtin(obj):
    """Convert ``obj`` to plain Python types, keeping non-finite floats as floats.

    Mappings become dicts with ``str`` keys, tuples/lists/arrays become lists
    and NumPy scalars become Python scalars; other objects are returned
    unchanged. :func:`to_jsonable` is the same with the module's NaN policy.

    Examples
    --------
    >>> import numpy as np
    >>> to_builtin({"a": np.float32(0.5), "b": (1, np.nan), "c": np.arange(2)})
    {'a': 0.5, 'b': [1, nan], 'c': [0, 1]}
    """
    return _plain(obj, float)


def to_jsonable(obj):
    """Convert ``obj`` to plain JSON types, exactly and deterministically.

    Mappings become dicts with ``str`` keys, tuples/lists/arrays become lists,
    NumPy scalars become Python scalars, and non-finite floats become the
    strings ``"nan"``, ``"inf"``, ``"-inf"`` (the module's NaN policy). Other
    objects are returned unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> to_jsonable({"a": np.float32(0.5), "b": (1, np.nan), "c": np.arange(2)})
    {'a': 0.5, 'b': [1, 'nan'], 'c': [0, 1]}
    """
    return _plain(obj, _finite_or_repr)


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (same-directory temporary file + ``os.replace``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write_bytes(d / "x.bin", b"abc").read_bytes()
    b'abc'
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(fd, file_mode())  # mkstemp creates 0600; follow the umask like open() would
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def atomic_write_text(path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path, obj, *, indent: int | None = 2) -> Path:
    """Write ``obj`` as strict JSON (no NaN literals) to ``path`` atomically."""
    return atomic_write_text(path, json.dumps(obj, indent=indent, sort_keys=False, allow_nan=False) + "\n")
