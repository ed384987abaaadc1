r"""Read model checkpoints tensor by tensor, without torch: safetensors (one file, shards, index), ``.npz``, dicts.

A checkpoint is opened in two steps. :func:`open_checkpoint` reads only the
headers: every shard's safetensors header (an 8-byte little-endian length,
then a JSON table of ``dtype``, ``shape`` and ``data_offsets`` per tensor) or
the ``.npy`` header of every ``.npz`` member. Each header is checked against
the file's size and the dtype's item size, so a truncated file, a file that is
not a safetensors file, or a header declaring more bytes than the file holds
is refused at once (:class:`CheckpointError`, one line naming the file), before
any tensor is read. :meth:`Checkpoint.read` then loads one tensor at a time
(``safetensors.safe_open`` with the NumPy backend; a raw read of the same
bytes for the dtypes that backend does not map, such as bfloat16 without
``ml_dtypes``), so the peak memory of an analysis is one tensor and its
float64 copy, never the whole model.

Dtypes. Floating tensors are F64, F32, F16, BF16 and the two 8-bit floats
(F8_E4M3, F8_E5M2); the last three come as :mod:`ml_dtypes` arrays, whose
values convert exactly to float64. Integer and boolean tensors are read as
they are (the analysis refuses them with its own reason).

PyTorch pickles (``pytorch_model.bin``, ``.pt``, ``.pth``, ``.ckpt``) are
refused with the one-line conversion recipe: unpickling runs arbitrary code
and needs torch, which this package never imports.
"""

from __future__ import annotations

import json
import math
import os
import struct
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np

__all__ = ["Checkpoint", "CheckpointError", "TensorInfo", "open_checkpoint", "dtype_code"]

#: safetensors dtype code -> (numpy dtype name or ml_dtypes name, item size in bytes)
_ST_DTYPES = {
    "F64": ("float64", 8),
    "F32": ("float32", 4),
    "F16": ("float16", 2),
    "BF16": ("bfloat16", 2),
    "F8_E4M3": ("float8_e4m3fn", 1),
    "F8_E5M2": ("float8_e5m2", 1),
    "I64": ("int64", 8),
    "I32": ("int32", 4),
    "I16": ("int16", 2),
    "I8": ("int8", 1),
    "U64": ("uint64", 8),
    "U32": ("uint32", 4),
    "U16": ("uint16", 2),
    "U8": ("uint8", 1),
    "BOOL": ("bool", 1),
}
_FLOAT_CODES = ("F64", "F32", "F16", "BF16", "F8_E4M3", "F8_E5M2")
#: the largest header safetensors itself accepts (its ``MAX_HEADER_SIZE``)
_MAX_HEADER = 100_000_000
_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")


class CheckpointError(ValueError):
    """A checkpoint that cannot be read at all (missing, truncated, wrong format): one line naming the file."""


class _UnknownTensor(CheckpointError, KeyError):
    """An unknown tensor name: a ``KeyError`` (as a mapping lookup) and a ``ValueError`` (bad argument)."""

    def __str__(self):  # KeyError quotes its message; this is a sentence
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class TensorInfo:
    """Where one tensor lives and what it holds, from the headers alone.

    Attributes
    ----------
    name : str
        Its name in the checkpoint.
    shape : tuple of int
    dtype : str
        safetensors dtype code (``"F32"``, ``"BF16"``, ``"I64"``, ...); for arrays of other
        kinds, the numpy dtype string.
    file : str
        The shard (or ``.npz``) holding it; ``""`` for an in-memory mapping.
    offset : int
        Byte offset of its data in ``file`` (safetensors only; -1 otherwise).
    """

    name: str
    shape: tuple
    dtype: str
    file: str = ""
    offset: int = -1

    @property
    def is_float(self) -> bool:
        """Whether the dtype is a floating-point one (F64, F32, F16, BF16, F8)."""
        return self.dtype in _FLOAT_CODES


def dtype_code(dtype) -> str:
    """The safetensors code of a numpy (or ``ml_dtypes``) dtype; ``str(dtype)`` when there is none.

    Examples
    --------
    >>> import numpy as np
    >>> from rmt_sparsity.spectra import dtype_code
    >>> dtype_code(np.float16), dtype_code(np.int64), dtype_code(np.complex64)
    ('F16', 'I64', 'complex64')
    """
    if dtype is None:  # np.dtype(None) would silently mean float64
        raise TypeError("dtype must be a NumPy dtype (or a type or name NumPy reads as one); got None")
    try:
        name = np.dtype(dtype).name
    except (TypeError, ValueError) as exc:
        raise TypeError(f"dtype must be a NumPy dtype (or a type or name NumPy reads as one); got {dtype!r}") from exc
    for code, (np_name, _) in _ST_DTYPES.items():
        if np_name == name:
            return code
    return name


def _np_dtype(code: str):
    """The numpy dtype of a safetensors code (``ml_dtypes`` for bf16 and f8); None if unknown."""
    entry = _ST_DTYPES.get(code)
    if entry is None:
        return None
    name = entry[0]
    if name in ("bfloat16", "float8_e4m3fn", "float8_e5m2"):
        import ml_dtypes

        return np.dtype(getattr(ml_dtypes, name)).newbyteorder("<")
    return np.dtype(name).newbyteorder("<")


def _pickle_error(path) -> CheckpointError:
    return CheckpointError(
        f"{path}: a PyTorch pickle checkpoint; rmt-sparsity reads safetensors (and .npz) only, without torch. "
        "Convert it once where torch is installed: python -c \"import torch; from safetensors.torch import save_file; "
        f"save_file({{k: v.contiguous() for k, v in torch.load('{os.path.basename(path)}', map_location='cpu', "
        "weights_only=True).items()}, 'model.safetensors')\""
    )


def _looks_like_pickle(head: bytes, path: str) -> bool:
    """Whether a file that is not safetensors is a PyTorch pickle (raw pickle, or torch's zip archive)."""
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):  # pickle protocol 2-5
        return True
    if head[:4] == b"PK\x03\x04" and not path.endswith(".npz"):  # torch >= 1.6 zip archive (data.pkl inside)
        try:
            with zipfile.ZipFile(path) as zf:
                return any(n.endswith("data.pkl") for n in zf.namelist())
        except zipfile.BadZipFile:
            return False
    return False


def _read_safetensors_header(path: str) -> dict[str, TensorInfo]:
    """Parse and check one safetensors header against the file (no tensor data is read)."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                raise CheckpointError(f"{path}: truncated: {size} bytes, fewer than the 8-byte header length of a safetensors file")
            (n,) = struct.unpack("<Q", head)
            if (n > size - 8 or fh.read(1) != b"{") and _looks_like_pickle(head, path):
                raise _pickle_error(path)
            fh.seek(8)
            if n > size - 8:
                raise CheckpointError(
                    f"{path}: not a readable safetensors file: its header declares {n} bytes but the file holds only "
                    f"{size - 8} after the length field (truncated, or not safetensors)"
                )
            if n > _MAX_HEADER:
                raise CheckpointError(f"{path}: not a readable safetensors file: header of {n} bytes exceeds {_MAX_HEADER}")
            raw = fh.read(n)
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if not raw.lstrip()[:1] == b"{":
        raise CheckpointError(f"{path}: not a safetensors file: the header is not a JSON object (wrong magic)")
    try:
        table = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path}: not a safetensors file: its header is not valid JSON ({exc})") from exc
    if not isinstance(table, dict):
        raise CheckpointError(f"{path}: not a safetensors file: its header is not a JSON object")
    data_start = 8 + n
    data_size = size - data_start
    out = {}
    for name, entry in table.items():
        if name == "__metadata__":
            continue
        try:
            code = entry["dtype"]
            shape = tuple(int(s) for s in entry["shape"])
            begin, end = (int(v) for v in entry["data_offsets"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{path}: malformed header entry for tensor {name!r}: {exc!r}") from exc
        if not isinstance(code, str) or any(s < 0 for s in shape) or not 0 <= begin <= end:
            raise CheckpointError(f"{path}: malformed header entry for tensor {name!r}: {entry!r}")
        if end > data_size:
            raise CheckpointError(
                f"{path}: truncated: tensor {name!r} declares bytes [{begin}, {end}) of the data section, "
                f"which holds only {data_size} bytes"
            )
        if code in _ST_DTYPES:
            need = math.prod(shape) * _ST_DTYPES[code][1]
            if need != end - begin:
                raise CheckpointError(
                    f"{path}: malformed header: tensor {name!r} of shape {shape} and dtype {code} needs {need} bytes, "
                    f"the header declares {end - begin}"
                )
        out[name] = TensorInfo(name, shape, code, path, data_start + begin)
    return out


def _read_npz_headers(path: str) -> dict[str, TensorInfo]:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise CheckpointError(f"{path}: not a readable .npz file: {exc}") from exc
    out = {}
    with zf:
        for member in zf.namelist():
            if not member.endswith(".npy"):
                continue
            name = member[:-4]
            try:
                with zf.open(member) as fh:
                    version = np.lib.format.read_magic(fh)
                    read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                    shape, _, dtype = read_header(fh)  # the header only, no data
            except (ValueError, zipfile.BadZipFile, OSError, EOFError) as exc:
                raise CheckpointError(f"{path}: member {member!r} is not a readable .npy array: {exc}") from exc
            out[name] = TensorInfo(name, tuple(int(s) for s in shape), dtype_code(dtype), path, -1)
    return out


class Checkpoint(Mapping):
    """A checkpoint opened by :func:`open_checkpoint`: a read-only mapping ``name -> TensorInfo``.

    :meth:`read` loads one tensor (its stored dtype; bfloat16 and 8-bit floats as
    :mod:`ml_dtypes` arrays). Use it as a context manager, or call :meth:`close`,
    to release the open files.

    Attributes
    ----------
    source : str
        What was opened (a path, or ``"<mapping>"``).
    format : {"safetensors", "sharded", "npz", "mapping"}
    files : tuple of str
        The files the tensors live in.
    """

    def __init__(self, source: str, fmt: str, infos: dict[str, TensorInfo], files, arrays=None):
        self.source = source
        self.format = fmt
        self.files = tuple(files)
        self._infos = dict(sorted(infos.items()))
        self._arrays = arrays
        self._handles: dict = {}

    def __getitem__(self, name) -> TensorInfo:
        return self._infos[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._infos)

    def __len__(self) -> int:
        return len(self._infos)

    def __repr__(self) -> str:
        return f"Checkpoint({self.source!r}, format={self.format!r}, tensors={len(self)}, files={len(self.files)})"

    def read(self, name: str) -> np.ndarray:
        """Load tensor ``name`` from its file (one tensor in memory at a time).

        Raises
        ------
        TypeError
            ``name`` is not a str.
        KeyError, ValueError
            Unknown name (the error is both, naming the argument and a few of the checkpoint's names).
        ValueError
            A dtype numpy cannot represent (an unknown safetensors code).
        """
        if not isinstance(name, str):
            raise TypeError(f"name must be a tensor name (str); got {type(name).__name__} {name!r:.80}")
        info = self._infos.get(name)
        if info is None:
            some = ", ".join(repr(k) for k in list(self._infos)[:5]) + (", ..." if len(self._infos) > 5 else "")
            raise _UnknownTensor(f"name {name!r} is not a tensor of {self.source}; it holds {len(self)}: {some}")
        if self._arrays is not None:
            return np.asarray(self._arrays[name])
        if self.format == "npz":
            npz = self._handles.get(info.file)
            if npz is None:
                npz = self._handles[info.file] = np.load(info.file, allow_pickle=False)
            return npz[name]
        dt = _np_dtype(info.dtype)
        if dt is None:
            raise ValueError(f"unsupported dtype {info.dtype} (not one of {', '.join(_ST_DTYPES)})")
        if info.dtype in ("F64", "F32", "F16") or info.dtype[0] in "IUB":
            from safetensors import safe_open

            fh = self._handles.get(info.file)
            if fh is None:
                fh = self._handles[info.file] = safe_open(info.file, framework="numpy")
            return fh.get_tensor(name)
        # bf16 / f8: the numpy backend maps them only when ml_dtypes is registered; read the bytes directly
        count = math.prod(info.shape)
        arr = np.fromfile(info.file, dtype=dt, count=count, offset=info.offset)
        if arr.size != count:
            raise ValueError(f"{info.file}: tensor {name!r} is truncated ({arr.size} of {count} values)")
        return arr.reshape(info.shape)

    def close(self) -> None:
        """Close the open files."""
        for h in self._handles.values():
            if hasattr(h, "close"):  # NpzFile
                h.close()
            elif hasattr(h, "__exit__"):  # safetensors' safe_open
                h.__exit__(None, None, None)
        self._handles.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _shards_from_index(path: str) -> dict[str, TensorInfo]:
    try:
        with open(path, encoding="utf-8") as fh:
            index = json.load(fh)
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path}: not a valid index.json: {exc}") from exc
    wmap = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(wmap, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in wmap.items()):
        raise CheckpointError(f"{path}: not a valid index.json: no 'weight_map' of tensor name -> shard file")
    root = os.path.dirname(os.path.abspath(path))
    headers: dict[str, dict[str, TensorInfo]] = {}
    out = {}
    for name, shard in wmap.items():
        if os.path.isabs(shard) or ".." in shard.replace("\\", "/").split("/"):
            raise CheckpointError(f"{path}: shard {shard!r} of tensor {name!r} is not a file name inside the index's folder")
        file = os.path.join(root, shard)
        if file not in headers:
            if not os.path.isfile(file):
                raise CheckpointError(f"{path}: names shard {shard!r}, which is missing")
            headers[file] = _read_safetensors_header(file)
        if name not in headers[file]:
            raise CheckpointError(f"{path}: maps tensor {name!r} to {shard!r}, which does not hold it")
        out[name] = headers[file][name]
    return out


def _from_directory(path: str, arg: str = "source") -> Checkpoint:
    entries = sorted(os.listdir(path))
    indexes = [e for e in entries if e.endswith(".safetensors.index.json")]
    if len(indexes) == 1:
        return _open_index(os.path.join(path, indexes[0]))
    if len(indexes) > 1:
        raise CheckpointError(f"{path}: holds several index files ({', '.join(indexes)}); pass one of them")
    shards = [os.path.join(path, e) for e in entries if e.endswith(".safetensors")]
    if not shards:
        npz = [e for e in entries if e.endswith(".npz")]
        if len(npz) == 1:
            return _open(os.path.join(path, npz[0]), arg)
        pickles = [e for e in entries if e.endswith(_PICKLE_SUFFIXES)]
        if pickles:
            raise _pickle_error(os.path.join(path, pickles[0]))
        raise CheckpointError(f"{arg} = {path!r}: no .safetensors file (nor an index.json or a single .npz) in this folder")
    infos: dict[str, TensorInfo] = {}
    for file in shards:
        for name, info in _read_safetensors_header(file).items():
            if name in infos:
                raise CheckpointError(f"{path}: tensor {name!r} is in both {infos[name].file} and {file}")
            infos[name] = info
    return Checkpoint(path, "sharded" if len(shards) > 1 else "safetensors", infos, shards)


def _open_index(path: str) -> Checkpoint:
    infos = _shards_from_index(path)
    return Checkpoint(path, "sharded", infos, sorted({i.file for i in infos.values()}))


def open_checkpoint(source) -> Checkpoint:
    """Open a checkpoint's headers: a ``.safetensors`` file, a folder of shards, an ``index.json``, a ``.npz`` or a mapping.

    Every header is checked against its file before anything is read (module
    notes of :mod:`rmt_sparsity.spectra._checkpoint`): a bad checkpoint fails
    here, whole, with one line naming the file.

    Parameters
    ----------
    source : str, os.PathLike or mapping of str to array_like
        * a ``.safetensors`` file;
        * a folder: its ``*.safetensors.index.json`` if there is one, else all its ``*.safetensors`` shards
          (a tensor name in two shards is an error), else a single ``.npz``;
        * a ``model.safetensors.index.json`` (its ``weight_map`` names the shard of every tensor);
        * a ``.npz`` archive (``numpy.savez``; pickled object arrays are refused);
        * a mapping ``name -> array`` (already in memory).

    Returns
    -------
    Checkpoint

    Raises
    ------
    FileNotFoundError
        The path does not exist.
    CheckpointError
        (a ``ValueError``) The checkpoint cannot be read: truncated, not safetensors, a header that
        declares more bytes than the file holds, a missing shard, a PyTorch pickle (with the recipe to
        convert it).
    TypeError
        ``source`` is neither a path nor a mapping.

    Examples
    --------
    >>> import os, tempfile, numpy as np
    >>> from safetensors.numpy import save_file
    >>> from rmt_sparsity.spectra import open_checkpoint
    >>> path = os.path.join(tempfile.mkdtemp(), "w.safetensors")
    >>> save_file({"fc.weight": np.ones((4, 3), np.float16), "fc.bias": np.zeros(4, np.float32)}, path)
    >>> with open_checkpoint(path) as ckpt:
    ...     print([(i.name, i.shape, i.dtype) for i in ckpt.values()], ckpt.read("fc.weight").dtype)
    [('fc.bias', (4,), 'F32'), ('fc.weight', (4, 3), 'F16')] float16
    """
    return _open(source, "source")


def _open(source, arg: str) -> Checkpoint:
    """:func:`open_checkpoint`, its errors naming the caller's argument ``arg``."""
    if isinstance(source, Mapping):
        infos = {}
        for name, arr in source.items():
            if not isinstance(name, str):
                raise TypeError(f"{arg} keys must be tensor names (str); got {type(name).__name__} {name!r}")
            a = np.asarray(arr) if not hasattr(arr, "shape") else arr
            infos[name] = TensorInfo(name, tuple(int(s) for s in a.shape), dtype_code(a.dtype))
        return Checkpoint("<mapping>", "mapping", infos, (), arrays=source)
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"{arg} must be a path or a mapping of name -> array; got {type(source).__name__}")
    path = os.fspath(source)
    if not path:
        raise CheckpointError(f"{arg} path is empty")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{arg} not found: {path!r}")
    if os.path.isdir(path):
        return _from_directory(path, arg)
    if path.endswith(".json"):
        return _open_index(path)
    if path.endswith(".npz"):
        return Checkpoint(path, "npz", _read_npz_headers(path), (path,))
    if path.endswith(_PICKLE_SUFFIXES):
        raise _pickle_error(path)
    return Checkpoint(path, "safetensors", _read_safetensors_header(path), (path,))
