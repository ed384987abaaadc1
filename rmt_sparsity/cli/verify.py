"""``rmt-sparsity verify``: run every registered claim and write the report.

Exit status: 0 when every claim ran, whatever the verdicts; 1 when a claim
crashed (or, with ``--strict``, when any verdict is ``fail``); 2 for a usage
error (unknown claim or profile, unwritable ``--out``, unreachable scheduler).
"""

from __future__ import annotations

import sys
from pathlib import Path

from ._common import UsageError, executor_context, progress_enabled

__all__ = ["add_parser", "run"]


def add_parser(sub) -> None:
    """Register ``verify`` on the top-level subparsers ``sub``."""
    v = sub.add_parser("verify", help="run every registered claim and write the report")
    v.add_argument("--profile", default="quick", choices=("smoke", "quick", "full"), help="problem sizes (default: quick)")
    v.add_argument("--only", nargs="+", metavar="ID", help="run only these claim ids")
    v.add_argument("--out", default="rmt-sparsity-report", help="output directory (default: ./rmt-sparsity-report)")
    v.add_argument("--seed", type=int, default=0, help="run seed (default: 0)")
    v.add_argument("--quiet", action="store_true", help="no progress bars or table")
    v.add_argument("--strict", action="store_true", help="exit 1 when any verdict is 'fail'")
    v.add_argument("--executor", default="local", choices=("local", "dask"), help="where claims run")
    v.add_argument("--scheduler", default=None, metavar="ADDR", help="Dask scheduler address (with --executor dask)")
    v.set_defaults(func=run)


def _writable_dir(path: str) -> Path:
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".rmt-sparsity-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"--out {str(out)!r} is not writable: {exc.strerror or exc}") from None
    return out


def run(args) -> int:
    """Run ``verify`` with the parsed ``args``; returns the exit status."""
    from ..experiments.claims import PROFILES
    from ..experiments.runner import all_claim_ids, run_claims
    from ..report.writer import format_table, summarize, write_report

    if args.profile not in PROFILES:  # argparse choices already guard; kept for programmatic calls
        raise UsageError(f"unknown profile {args.profile!r}; choose from {', '.join(PROFILES)}")
    known = all_claim_ids()
    if args.only:
        unknown = [i for i in args.only if i not in known]
        if unknown:
            raise UsageError(f"unknown claim id(s): {', '.join(unknown)} (known: {', '.join(known)})")
    out = _writable_dir(args.out)
    try:
        with executor_context(args.executor, args.scheduler) as executor:
            results = run_claims(args.only or None, profile=args.profile, seed=args.seed,
                                 progress=progress_enabled(args), executor=executor, fixture_store=out / "fixtures")
    except ConnectionError as exc:
        raise UsageError(str(exc)) from None
    paths = write_report(results, out, profile=args.profile, seed=args.seed)
    counts = summarize(results)
    if not args.quiet:
        print(format_table(results))
        print(
            f"\n{len(results) - counts['identity']} judged claims: "
            + ", ".join(f"{counts.get(k, 0)} {k}" for k in ("pass", "fail", "inconclusive", "not_implemented", "skipped"))
            + f", {counts.get('crashed', 0)} crashed; {counts['identity']} identities (not counted)"
        )
        print(f"report: {paths['markdown']}  {paths['html']}  {paths['claims']}")
    for r in results:
        if r.crashed:
            print(f"claim {r.id} crashed: {r.verdict.reason}", file=sys.stderr)
    if counts.get("crashed", 0):
        return 1
    if args.strict and counts.get("fail", 0):
        return 1
    return 0
