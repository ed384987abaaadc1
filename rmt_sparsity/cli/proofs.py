"""``rmt-sparsity proofs [OPTIONS]``: verify the sympy derivations in ``proofs/`` and render ``proofs/README.md``.

Options are passed to ``python -m proofs`` (``--out DIR``, ``--only``, ``--strict``, ...).
``proofs/`` lives in the source tree, not in the wheel: the command needs a
source checkout (``pip install -e .``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from ._common import UsageError

__all__ = ["add_parser", "run"]


def add_parser(sub) -> None:
    """Register ``proofs`` on the top-level subparsers ``sub``."""
    pr = sub.add_parser("proofs", help="verify the sympy derivations in proofs/ and render proofs/README.md", add_help=False,
                        description="Options are passed to `python -m proofs` (--out DIR, --only, --strict, ...).")
    pr.set_defaults(func=run, passthrough=True)


def run(args) -> int:
    """Run ``python -m proofs`` with the options ``args.rest``; returns its exit status."""
    # the checkout this package was installed from: rmt_sparsity/cli/proofs.py -> repository root
    root = Path(__file__).resolve().parents[2]
    if (root / "proofs" / "__init__.py").is_file() and str(root) not in sys.path:
        sys.path.insert(0, str(root))
    try:
        from proofs.__main__ import main as proofs_main
    except ImportError as exc:
        raise UsageError(f"the proofs package is not importable ({exc}); install from a source checkout (pip install -e .)") from None
    return int(proofs_main(args.rest))
