"""Optional dependencies: one helper that imports a module of an extra, or says which extra to install.

The core install (``pip install rmt-sparsity``) gives the laws, ensembles,
spectra and ``analyze``, metrics, kernels, noise, theory and sweeps. The rest
comes with extras (docs/design.md §3):

========== ============================== =====================================
extra      modules                        what needs them
========== ============================== =====================================
``nn``     jax, optax                     :mod:`rmt_sparsity.nn`, :mod:`rmt_sparsity.flatness`
``report`` matplotlib                     the figures of the ``verify`` report and of sweeps
``dask``   dask, distributed              :func:`~rmt_sparsity.experiments.executors.dask_executor`
``data``   scikit-learn, mnist1d          :func:`~rmt_sparsity.nn.load_digits`, :func:`~rmt_sparsity.nn.load_mnist1d`
``testing`` hypothesis                    :mod:`rmt_sparsity.testing.strategies`
``proofs`` sympy                          the derivations in ``proofs/`` (source checkout)
========== ============================== =====================================

``pip install "rmt-sparsity[all]"`` installs every extra.

Examples
--------
>>> from rmt_sparsity._optional import require, MissingExtraError
>>> require("math", extra="nn").sqrt(4.0)
2.0
>>> try:
...     require("no_such_module_xyz", extra="nn", feature="rmt_sparsity.nn")
... except MissingExtraError as exc:
...     print(exc)
rmt_sparsity.nn needs 'no_such_module_xyz', which is not installed: pip install "rmt-sparsity[nn]"
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

__all__ = ["EXTRAS", "MissingExtraError", "require", "available", "install_hint", "extra_for", "as_missing_extra"]

#: Extra name -> the import names it provides.
EXTRAS: dict[str, tuple[str, ...]] = {
    "nn": ("jax", "optax"),
    "report": ("matplotlib",),
    "dask": ("dask", "distributed"),
    "data": ("sklearn", "mnist1d"),
    "testing": ("hypothesis",),
    "proofs": ("sympy",),
}


class MissingExtraError(ImportError):
    """An optional dependency is not installed; the message names the extra that provides it.

    A subclass of :class:`ImportError` (and of nothing else), so ``except ImportError``
    keeps working. Attributes: ``name`` (the missing module) and ``extra``.
    """

    def __init__(self, module: str, extra: str, feature: str | None = None):
        self.extra = extra
        super().__init__(f"{feature or 'this feature'} needs {module!r}, which is not installed: "
                         f"{install_hint(extra)}", name=module)


def install_hint(extra: str) -> str:
    """The command that installs ``extra``.

    Examples
    --------
    >>> install_hint("report")
    'pip install "rmt-sparsity[report]"'
    """
    if extra not in EXTRAS:
        raise ValueError(f"extra must be one of {sorted(EXTRAS)}; got {extra!r}")
    return f'pip install "rmt-sparsity[{extra}]"'


def extra_for(module: str | None) -> str | None:
    """The extra that provides ``module`` (its top-level package), or None when it is not an extra's.

    Examples
    --------
    >>> extra_for("jax.numpy"), extra_for("sklearn.datasets"), extra_for("numpy")
    ('nn', 'data', None)
    """
    top = (module or "").split(".")[0]
    top = {"jaxlib": "jax"}.get(top, top)
    return next((extra for extra, modules in EXTRAS.items() if top in modules), None)


def as_missing_extra(exc: BaseException, feature: str | None = None) -> MissingExtraError | None:
    """``exc`` as a :class:`MissingExtraError` when it is one, or a ``ModuleNotFoundError`` of an extra's module; else None.

    For code that imports an optional module directly (``import jax`` inside a
    function) rather than through :func:`require`.

    Examples
    --------
    >>> print(as_missing_extra(ModuleNotFoundError("No module named 'optax'", name="optax"), "training"))
    training needs 'optax', which is not installed: pip install "rmt-sparsity[nn]"
    >>> as_missing_extra(ModuleNotFoundError("No module named 'numpyy'", name="numpyy")) is None
    True
    """
    if isinstance(exc, MissingExtraError):
        return exc
    if isinstance(exc, ModuleNotFoundError):
        extra = extra_for(exc.name)
        if extra is not None:
            return MissingExtraError(exc.name.split(".")[0], extra, feature)
    return None


def available(module: str) -> bool:
    """Whether ``module`` can be imported (found on the path; nothing is imported).

    Examples
    --------
    >>> available("numpy"), available("no_such_module_xyz")
    (True, False)
    """
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def require(module: str, *, extra: str, feature: str | None = None) -> ModuleType:
    """Import ``module``, or raise :class:`MissingExtraError` naming ``extra`` when it is not installed.

    Only a missing ``module`` (or a missing parent package of it) becomes
    :class:`MissingExtraError`; any other import failure (a broken installation)
    propagates unchanged, so its real cause stays visible.

    Parameters
    ----------
    module : str
        The import name (``"jax"``, ``"matplotlib.pyplot"``).
    extra : str
        The extra that provides it (a key of :data:`EXTRAS`).
    feature : str, optional
        What needs it, for the message (default "this feature").
    """
    install_hint(extra)  # validates ``extra``
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if module == missing or module.startswith(missing + "."):
            raise MissingExtraError(missing, extra, feature) from None
        raise
