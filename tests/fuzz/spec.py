"""The fuzz spec: a valid baseline call of one public callable and the kinds of its arguments."""

from __future__ import annotations

import copy
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

from .values import Arg, Lazy

__all__ = ["Spec", "AREA_GROUPS", "area_group"]

#: Report groups, as in the issue's table ("numpy core", "Numba kernels", ...).
AREA_GROUPS = {
    "laws": "numpy core", "ensembles": "numpy core", "spectra": "numpy core", "noise": "numpy core",
    "theory": "numpy core", "metrics": "numpy core", "testing": "numpy core", "_rng": "numpy core",
    "_versions": "numpy core",
    "kernels": "Numba kernels",
    "flatness": "flatness",
    "nn": "nn",
    "experiments": "experiments/report", "report": "experiments/report", "cli": "experiments/report",
}


def area_group(area: str) -> str:
    return AREA_GROUPS.get(area, area)


_CACHE: dict = {}


def _build(value, key):
    if isinstance(value, Lazy):
        if value.cache:
            if key not in _CACHE:
                _CACHE[key] = value.factory()
            return _CACHE[key]
        return value.factory()
    try:
        return copy.deepcopy(value)
    except Exception:  # pragma: no cover - an object that cannot be copied is passed as is
        return value


@dataclass
class Spec:
    """One callable under fuzz.

    name
        Dotted public name below ``rmt_sparsity`` (``"laws.MarchenkoPastur"``); a
        method is named after its class (``"laws.MarchenkoPastur.cdf"``) and needs
        ``target``.
    args
        The baseline call's arguments, each an :class:`~values.Arg`. Passed by
        keyword, except those listed in ``positional`` (in that order).
    target
        Zero-argument factory returning the callable (default: import ``name``).
    post
        Applied to the call's result inside the case (enter a context manager,
        draw from a returned strategy ...), so lazy validation counts.
    cost
        ``"cheap"`` (in the default ``pytest`` run), ``"jax"`` or ``"heavy"`` (``-m slow`` only).
    exempt
        Why the callable is not fuzzed (an exception class, a result record built
        by the library); an exempt spec has no args.
    returns_code, exit_codes
        For command-line entry points: the call returns (or exits with) a code,
        and ``exit_codes`` are the codes that mean "bad input refused".
    """

    name: str
    args: dict = field(default_factory=dict)
    target: Callable | None = None
    positional: tuple = ()
    post: Callable | None = None
    cost: str = "cheap"
    timeout: float = 20.0
    exempt: str = ""
    returns_code: bool = False
    exit_codes: tuple = (2,)
    examples: int | None = None  # examples per category in the full run (default by cost)
    foreign_ok: tuple = ()  # packages whose ValueError/TypeError is the documented boundary (scipy's rv_continuous)

    def __post_init__(self):
        for k, v in self.args.items():
            if not isinstance(v, Arg):
                self.args[k] = Arg(v)

    @property
    def area(self) -> str:
        return self.name.split(".")[0]

    @property
    def group(self) -> str:
        return area_group(self.area)

    def resolve(self):
        if self.target is not None:
            return self.target()
        parts = self.name.split(".")
        for i in range(len(parts) - 1, 0, -1):
            try:
                obj = importlib.import_module("rmt_sparsity." + ".".join(parts[:i]))
            except ImportError:
                continue
            for p in parts[i:]:
                obj = getattr(obj, p)
            return obj
        raise ImportError(self.name)

    def prepare(self, arg, bad):
        """Build the case (baseline with ``arg`` replaced) and return a thunk that makes the call."""
        kwargs = {k: _build(a.base, (self.name, k)) for k, a in self.args.items()}
        if arg is not None:
            base = kwargs[arg]
            sample = self.args[arg].kind.sample
            if base is None and sample is not None:
                base = _build(sample, (self.name, arg, "sample"))
            kwargs[arg] = bad.build(base)
        fn = self.resolve()
        pos = [kwargs.pop(k) for k in self.positional]
        post = self.post

        def call():
            res = fn(*pos, **kwargs)
            return post(res) if post is not None else res

        return call

    def invoke(self, arg, bad):
        return self.prepare(arg, bad)()

    def exit_ok(self, code) -> bool:
        return code in self.exit_codes

    def categories(self) -> dict:
        """``{arg: {category: strategy}}`` for every fuzzed argument."""
        return {k: a.categories() for k, a in self.args.items() if a.categories()}
