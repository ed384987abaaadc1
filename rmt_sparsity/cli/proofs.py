"""``rmt-sparsity proofs [OPTIONS]``: verify the sympy derivations in ``proofs/`` (a development command).

The derivations live in the ``proofs/`` folder of the source tree, next to the
package, not inside the installed wheel: the command works from a source
checkout (``pip install -e ".[dev]"``, or the ``[proofs]`` extra for sympy) and,
from an installed wheel, says so and exits 2. Options are passed to
``python -m proofs`` (``--write``, ``--out DIR``, ``--only``, ``--strict``, ...);
nothing is written without ``--write``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ._common import UsageError

__all__ = ["add_parser", "run", "source_checkout"]

_DESCRIPTION = (
    "Verify the sympy derivations of the formulas the library uses, and compare each with the library's own "
    "function at random points. A development command: it needs the proofs/ folder of a source checkout "
    "(pip install -e '.[dev]'). Options go to `python -m proofs`; `rmt-sparsity proofs --help` lists them. "
    "Nothing is written without --write."
)


def add_parser(sub) -> None:
    """Register ``proofs`` on the top-level subparsers ``sub``."""
    pr = sub.add_parser("proofs", help="verify the sympy derivations in proofs/ (development command: source checkout)",
                        add_help=False, description=_DESCRIPTION)
    pr.set_defaults(func=run, passthrough=True)


def source_checkout() -> Path | None:
    """The source checkout this package runs from (the folder holding ``proofs/`` and ``pyproject.toml``), or None.

    An editable install (``pip install -e .``) runs from the checkout; a wheel
    installed into site-packages does not.
    """
    root = Path(__file__).resolve().parents[2]  # rmt_sparsity/cli/proofs.py -> the folder above the package
    if (root / "proofs" / "_core.py").is_file() and (root / "pyproject.toml").is_file():
        return root
    return None


def run(args) -> int:
    """Run ``python -m proofs`` with the options ``args.rest``; returns its exit status."""
    root = source_checkout()
    if root is None:
        raise UsageError(
            "`rmt-sparsity proofs` is a development command: it verifies the derivations in the proofs/ folder of a "
            "source checkout, which this installation (a wheel) does not contain. Clone the repository and run "
            "`pip install -e \".[dev]\"` then `rmt-sparsity proofs` there"
        )
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from proofs.__main__ import main as proofs_main  # a missing sympy raises ImportError naming the [proofs] extra

    return int(proofs_main(args.rest))
