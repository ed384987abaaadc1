"""``rmt-sparsity bench TARGET [OPTIONS]``: speed benchmarks (ratios against a baseline timed in the same run).

Options after the target are passed to the benchmark (e.g. ``rmt-sparsity bench
kernels --quick --json out.json --check``).
"""

from __future__ import annotations

from ._common import UsageError

__all__ = ["add_parser", "run"]


def add_parser(sub) -> None:
    """Register ``bench`` on the top-level subparsers ``sub``."""
    b = sub.add_parser("bench", help="speed benchmarks (ratios against a baseline timed in the same run)", add_help=False,
                       description="Run a benchmark; options after the target are passed to it "
                                   "(e.g. `rmt-sparsity bench kernels --quick --json out.json --check`).")
    b.add_argument("target", choices=("kernels",), help="which benchmark")
    b.set_defaults(func=run, passthrough=True)


def run(args) -> int:
    """Run the benchmark ``args.target`` with the options ``args.rest``; returns its exit status."""
    if args.target == "kernels":
        from ..kernels.bench import main as bench_main
    else:  # pragma: no cover - argparse choices guard this
        raise UsageError(f"unknown benchmark {args.target!r}")
    return int(bench_main(args.rest))
