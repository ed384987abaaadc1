"""The ``rmt-sparsity`` command line.

One module per subcommand, each with ``add_parser(sub)`` and ``run(args)``:

* ``verify`` (:mod:`~rmt_sparsity.cli.verify`) runs every registered claim
  (prediction, measurement, tolerance, verdict) and writes a report;
* ``sweep`` (:mod:`~rmt_sparsity.cli.sweep`) runs a built-in experiment over a grid;
* ``analyze`` (:mod:`~rmt_sparsity.cli.analyze`) analyses the weight spectra of a safetensors file;
* ``bench`` (:mod:`~rmt_sparsity.cli.bench`) runs a speed benchmark;
* ``proofs`` (:mod:`~rmt_sparsity.cli.proofs`) verifies the sympy derivations.

Exit codes: 0 - every claim ran, whatever the verdicts; 1 - a claim crashed (or,
with ``--strict``, any verdict is ``fail``); 2 - usage error (:class:`UsageError`:
unknown claim or profile, unwritable ``--out``, unreachable scheduler; or an
optional extra the command needs is not installed); 130 - interrupted.
"""

from __future__ import annotations

import argparse
import sys

from . import analyze, bench, proofs, sweep, verify
from .._optional import MissingExtraError
from ._common import UsageError

__all__ = ["main", "build_parser", "UsageError"]

_SUBCOMMANDS = (verify, sweep, analyze, bench, proofs)


_DESCRIPTION = """\
Verify, with numbers, the gradient-sparsity and spectral-concentration theory of
activation sparsity (Peng et al., arXiv 2309.03004) with random matrix theory.

Each subcommand has its own help: rmt-sparsity COMMAND --help."""

_EPILOG = """\
exit status:
  0  success (verify: every claim ran, whatever the verdicts; skipped claims included)
  1  a claim crashed (verify), or any verdict is 'fail' with verify --strict
  2  usage error: unknown claim or profile, unwritable --out, unreadable input,
     unreachable scheduler
  130 interrupted (Ctrl-C)"""


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser, with one subparser per subcommand module."""
    from .._version import __version__

    parser = argparse.ArgumentParser(prog="rmt-sparsity", description=_DESCRIPTION, epilog=_EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"rmt-sparsity {__version__}",
                        help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, title="commands", metavar="COMMAND")
    for command in _SUBCOMMANDS:
        command.add_parser(sub)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``rmt-sparsity`` console script; returns the exit status."""
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if getattr(args, "passthrough", False):
        args.rest = rest  # options of the delegated command (`bench kernels --quick`, `proofs --out DIR`)
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if getattr(args, "seed", 0) is not None and getattr(args, "seed", 0) < 0:
        print("rmt-sparsity: error: --seed must be a non-negative integer", file=sys.stderr)
        return 2
    try:
        return int(args.func(args))
    except (UsageError, MissingExtraError) as exc:  # one line, no traceback
        print(f"rmt-sparsity: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        print("rmt-sparsity: interrupted", file=sys.stderr)
        return 130
