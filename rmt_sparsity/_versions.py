"""Versions and environment: :func:`package_versions` for provenance records, :func:`show_versions` for papers and bug reports."""

from __future__ import annotations

import os
import platform
import sys

__all__ = ["package_versions", "show_versions", "versions_info"]

_DISTS = ("numpy", "scipy", "numba", "llvmlite", "jax", "jaxlib", "optax", "sympy", "mpmath", "matplotlib",
          "hypothesis", "dask", "distributed")
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
                "XLA_FLAGS", "OPENBLAS_CORETYPE")


#: The libraries whose versions can change the numbers (recorded in every claim's and sweep point's provenance).
_NUMERIC_DISTS = ("numpy", "scipy", "numba", "jax", "jaxlib", "optax")


def _dist_version(dist: str) -> str | None:
    """The installed version of distribution ``dist`` from its metadata (nothing is imported), or None."""
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def package_versions() -> dict[str, str]:
    """Versions of the package, of Python and of the libraries that change numbers (provenance).

    A library that is not installed reads ``"not installed"``.

    Examples
    --------
    >>> v = package_versions()
    >>> list(v)[:3]
    ['rmt_sparsity', 'python', 'numpy']
    """
    from ._version import __version__

    out = {"rmt_sparsity": __version__, "python": platform.python_version()}
    for dist in _NUMERIC_DISTS:
        version = _dist_version(dist)
        out[dist] = "not installed" if version is None else version
    return out


def versions_info() -> dict:
    """The environment as a dict: package versions, BLAS (threadpoolctl), CPU and thread settings.

    Importing nothing heavy: versions come from package metadata, not imports
    (so JAX is not initialised).

    Examples
    --------
    >>> info = versions_info()
    >>> sorted(info)[:3]
    ['blas', 'cpu', 'packages']
    """
    from ._version import __version__

    pkgs = {"rmt_sparsity": __version__}
    for d in _DISTS:
        pkgs[d] = _dist_version(d)
    try:
        from threadpoolctl import threadpool_info

        import numpy  # noqa: F401  (loads its BLAS so threadpoolctl can see it)

        blas = [
            {k: i.get(k) for k in ("internal_api", "version", "num_threads", "threading_layer", "architecture")}
            for i in threadpool_info()
        ]
    except Exception as exc:  # pragma: no cover - informative only
        blas = [{"error": repr(exc)}]
    return {
        "python": sys.version.replace("\n", " "),
        "platform": platform.platform(),
        "cpu": {"machine": platform.machine(), "processor": platform.processor(), "count": os.cpu_count(),
                "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None},
        "packages": pkgs,
        "blas": blas,
        "threads": {k: os.environ.get(k) for k in _THREAD_VARS},
    }


def show_versions(file=None) -> None:
    """Print the environment report (package, numpy, scipy, numba, jax, optax; BLAS kernel; CPU; threads).

    Paste its output into bug reports and papers' reproducibility sections.

    Examples
    --------
    >>> import io
    >>> buf = io.StringIO()
    >>> show_versions(file=buf)
    >>> "rmt_sparsity" in buf.getvalue()
    True
    """
    if file is not None and not callable(getattr(file, "write", None)):
        raise TypeError(f"file must be None or a text stream with a write() method; got {type(file).__name__}")
    info = versions_info()
    out = file if file is not None else sys.stdout
    w = lambda s="": print(s, file=out)  # noqa: E731
    w("rmt_sparsity environment")
    w("------------------------")
    w(f"python    : {info['python']}")
    w(f"platform  : {info['platform']}")
    cpu = info["cpu"]
    w(f"cpu       : {cpu['machine']} {cpu['processor'] or ''} ({cpu['count']} logical, {cpu['affinity']} usable)")
    w()
    for k, v in info["packages"].items():
        w(f"{k:<13}: {v if v is not None else 'not installed'}")
    w()
    for b in info["blas"]:
        w("blas      : " + ", ".join(f"{k}={v}" for k, v in b.items()))
    for k, v in info["threads"].items():
        if v is not None:
            w(f"{k:<21}: {v}")
