r"""Executable, sympy-checked derivations of every formula rmt_sparsity relies on.

The contract
------------
Each module listed in :data:`MODULES` is one result. It defines

``TITLE`` : str
    One line.
``STATEMENT`` : str
    The result in LaTeX (rendered in ``proofs/README.md``).
``ASSUMPTIONS`` : str
    The declared assumptions on the symbols, in words.
``REFERENCES`` : str
    arXiv ids / textbooks.
``steps()`` -> list of :class:`proofs._core.Step`
    The statement and its intermediate steps as sympy expressions over symbols
    with declared assumptions. ``Step.verify()`` reduces ``lhs - rhs`` to ``0``
    by a targeted canonical form, or checks an explicit non-negativity
    certificate for an inequality. A step that cannot be checked carries its
    reason and is reported *unverified*, never passed.
``check_numeric(rng)`` -> list of :class:`proofs._core.NumericCheck`
    Lambdifies the result and compares it at random points (drawn from the
    numpy Generator ``rng``) with the function the library *actually calls*,
    with a per-point tolerance derived from floating-point error. A library
    function that does not exist is reported *unverified*.

``python -m proofs`` verifies everything and prints a summary; ``--write`` also
renders ``proofs/README.md`` (:func:`proofs.__main__.main`). The folder lives in
the source tree, not in the installed package: ``rmt-sparsity proofs`` is a
development command for a source checkout (``pip install -e ".[dev]"``).

Examples
--------
>>> import proofs
>>> "mp_moments" in proofs.MODULES
True
>>> res = proofs.run("jsrelu", numeric=False)
>>> res.status
'verified'
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field

import numpy as np

from rmt_sparsity._optional import require

require("sympy", extra="proofs", feature="the derivations in proofs/")  # an ImportError naming the extra

from ._core import FAILED, UNVERIFIED, VERIFIED, NumericCheck, StepResult  # noqa: F401, E402

__all__ = ["MODULES", "DerivationResult", "load", "run", "run_all"]

#: Derivation modules, in the order they are rendered.
MODULES = (
    "mp_normalization",
    "mp_moments",
    "mp_stieltjes",
    "mp_cdf",
    "mp_extreme_ratio",
    "gradient_identity",
    "layernorm",
    "weight_noise",
    "jsrelu",
    "effective_window",
    "weighted_covariance",
    "johnstone_edge",
    "paper_bounds",
)


@dataclass
class DerivationResult:
    """Verdicts of one derivation: its steps, its numeric checks and the overall status.

    ``status`` is ``failed`` if any step or numeric check failed, else
    ``unverified`` if any was unverified, else ``verified``.
    """

    name: str
    title: str
    statement: str
    assumptions: str
    references: str
    steps: list = field(default_factory=list)  # list of (Step, StepResult)
    numeric: list = field(default_factory=list)  # list of NumericCheck
    seconds: float = 0.0

    @property
    def status(self) -> str:
        statuses = [r.status for _, r in self.steps] + [c.status for c in self.numeric]
        if FAILED in statuses:
            return FAILED
        if UNVERIFIED in statuses:
            return UNVERIFIED
        return VERIFIED


def load(name: str):
    """Import the derivation module ``proofs.<name>`` (ValueError for an unknown name)."""
    if name not in MODULES:
        raise ValueError(f"unknown derivation {name!r}; expected one of {', '.join(MODULES)}")
    return importlib.import_module(f"proofs.{name}")


def run(name: str, rng=None, *, numeric: bool = True) -> DerivationResult:
    """Verify every step of derivation ``name`` and (optionally) run its numeric checks.

    Parameters
    ----------
    name : str
        One of :data:`MODULES`.
    rng : None, int or numpy.random.Generator
        Randomness of the numeric check points (seed 0 when None).
    numeric : bool
        Run ``check_numeric``.
    """
    mod = load(name)
    t0 = time.perf_counter()
    res = DerivationResult(name, mod.TITLE, mod.STATEMENT, mod.ASSUMPTIONS, mod.REFERENCES)
    for step in mod.steps():
        res.steps.append((step, step.verify()))
    if numeric:
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(0 if rng is None else rng)
        try:
            res.numeric = list(mod.check_numeric(gen))
        except Exception as exc:  # a crash in a numeric check is a failure, reported
            res.numeric = [
                NumericCheck("check_numeric", name, 0, float("nan"), float("nan"), "-", FAILED,
                             f"{type(exc).__name__}: {exc}")
            ]
    res.seconds = time.perf_counter() - t0
    return res


def run_all(rng=None, *, numeric: bool = True, names=None) -> list:
    """:func:`run` for every derivation (or ``names``).

    Derivation ``name`` gets the Generator seeded by ``(seed, MODULES.index(name))``, so a
    subset sees the same points as a full run. ``rng`` is an int seed (0 when None).
    """
    names = MODULES if names is None else tuple(names)
    base = 0 if rng is None else int(rng)
    for n in names:
        load(n)  # validates the name
    return [
        run(n, np.random.default_rng(np.random.SeedSequence([base, MODULES.index(n)])), numeric=numeric)
        for n in names
    ]
