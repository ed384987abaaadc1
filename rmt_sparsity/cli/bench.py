"""``rmt-sparsity bench TARGET [OPTIONS]``: speed benchmarks (ratios against a baseline timed in the same run).

Options after the target are passed to the benchmark (e.g. ``rmt-sparsity bench
kernels --quick --json out.json --check``).
"""

from __future__ import annotations

import argparse

from ._common import UsageError

__all__ = ["add_parser", "run"]


_TARGETS = {"kernels": "the Numba sparse FFN kernels against dense BLAS (rmt_sparsity.kernels.bench)"}


def add_parser(sub) -> None:
    """Register ``bench`` on the top-level subparsers ``sub``."""
    b = sub.add_parser("bench", help="speed benchmarks (ratios against a baseline timed in the same run)", add_help=False,
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Run a speed benchmark. Options after the target go to the benchmark; "
                                   "`rmt-sparsity bench TARGET --help` lists them.\n\ntargets:\n"
                                   + "\n".join(f"  {k:<9} {v}" for k, v in _TARGETS.items()),
                       epilog="example: rmt-sparsity bench kernels --quick --json out.json --check")
    b.add_argument("-h", "--help", action="store_true", dest="bench_help", help="show this help message and exit")
    b.add_argument("target", nargs="?", choices=tuple(_TARGETS), help="which benchmark")
    b.set_defaults(func=run, passthrough=True, bench_parser=b)


def run(args) -> int:
    """Run the benchmark ``args.target`` with the options ``args.rest``; returns its exit status."""
    if args.target is None:
        if args.bench_help:
            args.bench_parser.print_help()
            return 0
        raise UsageError(f"bench needs a target: {', '.join(_TARGETS)} (see rmt-sparsity bench --help)")
    rest = list(args.rest) + (["--help"] if args.bench_help else [])
    if args.target == "kernels":
        from ..kernels.bench import main as bench_main
    else:  # pragma: no cover - argparse choices guard this
        raise UsageError(f"unknown benchmark {args.target!r}")
    try:
        return int(bench_main(rest))
    except SystemExit as exc:  # the benchmark's own argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
