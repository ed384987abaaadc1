"""The fuzz suite's table: one spec per exported callable (and per method of the law objects).

``SPECS`` is the single table the tests and ``report.py`` use; it is assembled
from one section per area. ``exported_callables()`` walks ``rmt_sparsity.__all__``,
every subpackage's ``__all__`` and the ``__all__`` of modules listed there, so a
new export without a spec fails ``test_every_export_has_a_spec``.
"""

from __future__ import annotations

import importlib
import inspect

from .specs_analysis import SPECS as _ANALYSIS
from .specs_core import SPECS as _CORE
from .specs_experiments import SPECS as _EXPERIMENTS
from .specs_jax import SPECS as _JAX

__all__ = ["SPECS", "BY_NAME", "exported_callables", "SUBPACKAGES"]

SUBPACKAGES = ("laws", "ensembles", "spectra", "noise", "theory", "nn", "metrics", "flatness", "kernels",
               "experiments", "report", "testing", "cli")

SPECS = [*_CORE, *_ANALYSIS, *_JAX, *_EXPERIMENTS]
BY_NAME = {s.name: s for s in SPECS}
assert len(BY_NAME) == len(SPECS), "duplicate spec names"


def exported_callables() -> dict:
    """``{dotted name: object}`` of every exported callable (functions, classes, callable instances)."""
    import rmt_sparsity as rs

    out, seen = {}, {}

    def visit(prefix, module):
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            full = f"{prefix}.{name}" if prefix else name
            if inspect.ismodule(obj):
                if obj.__name__.startswith("rmt_sparsity.") and prefix and obj.__name__.count(".") >= 2:
                    visit(full, obj)  # a module listed in a subpackage's __all__ (metrics.formulas ...)
                continue
            if not callable(obj):
                continue
            key = id(obj)
            if key in seen:
                continue
            seen[key] = full
            out[full] = obj

    for sub in SUBPACKAGES:
        visit(sub, importlib.import_module(f"rmt_sparsity.{sub}"))
    for name in rs.__all__:  # top-level names not defined in a subpackage's __all__
        obj = getattr(rs, name)
        if inspect.ismodule(obj) or not callable(obj) or id(obj) in seen:
            continue
        mod = obj.__module__.split(".")[1] if obj.__module__.startswith("rmt_sparsity.") else obj.__module__
        out[f"{mod}.{name}"] = obj
        seen[id(obj)] = f"{mod}.{name}"
    return out


def signature_problems() -> list[str]:
    """Spec arguments that are not parameters of their callable (run in the worker: imports JAX)."""
    import inspect

    out = []
    for spec in SPECS:
        if spec.exempt or not spec.args:
            continue
        try:
            fn = spec.resolve()
            sig = inspect.signature(fn)
        except (TypeError, ValueError):  # builtins / scipy rv methods without a signature
            continue
        params = sig.parameters
        if any(p.kind == p.VAR_KEYWORD for p in params.values()):
            continue
        for arg in spec.args:
            if arg not in params:
                out.append(f"{spec.name}: {arg!r} is not a parameter of {fn!r}{sig}")
    return out
